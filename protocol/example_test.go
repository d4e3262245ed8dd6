package protocol_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

func ExampleDecoder_DecodeLineProtocol() {
	body := []byte(`# a comment
cpu,host=web01 usage=0.5,cores=8i 1700000000
mem,host=web01 used=123u,ok=true
`)
	var d protocol.Decoder // reuse it for the next body
	pts, err := d.DecodeLineProtocol(body, protocol.Options{
		Now: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), // for the line without a timestamp
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range pts {
		fmt.Println(p.Name, p.Tags, p.Fields[0].Key, p.Fields[0].Value.Kind(), p.Time.UTC().Format(time.RFC3339))
	}
	// Output:
	// cpu [{host web01}] usage float 2023-11-14T22:13:20Z
	// mem [{host web01}] used uint 2024-01-02T03:04:05Z
}

func ExampleDecoder_DecodeLineProtocol_errors() {
	body := []byte("cpu usage=0.5\ncpu usage=\ncpu usage=1 99999999999999999999\n")
	var d protocol.Decoder
	_, err := d.DecodeLineProtocol(body, protocol.Options{})
	var des *protocol.DecodeErrors
	if errors.As(err, &des) {
		for _, e := range des.Errors {
			fmt.Printf("line %d, column %d\n", e.Line, e.Column)
		}
		fmt.Println("valid lines:", des.Valid)
	}
	// Output:
	// line 2, column 11
	// line 3, column 13
	// valid lines: 1
}

func ExampleDecoder_DecodeJSON() {
	// What Python's json.dumps writes, NaN and None included.
	body := []byte(`[{"measurement": "abc", "tags": {"t1": "b"},
	  "fields": {"f1": 123, "f2": 3.4, "f3": "strval", "f4": NaN, "f5": null},
	  "time": 1624550216}]`)
	var d protocol.Decoder
	pts, warns, err := d.DecodeJSON(body, protocol.Options{ExactInts: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	p := pts[0]
	fmt.Println(p.Name, p.Time.UTC().Format(time.RFC3339))
	for _, f := range p.Fields {
		fmt.Println(f.Key, f.Value.Kind(), f.Value)
	}
	for _, w := range warns {
		fmt.Println("warning:", w.Code, w.Key)
	}
	// Output:
	// abc 2021-06-24T15:56:56Z
	// f1 int 123
	// f2 float 3.4
	// f3 string strval
	// f4 float NaN
	// warning: nil_field f5
}

func ExampleLineEncoder() {
	p := point.New("cpu", time.Unix(1700000000, 0))
	p.AddTag("region", "eu west").AddTag("host", "web01")
	p.AddField("usage", point.FloatValue(3)).AddField("cores", point.IntValue(8)).AddField("note", point.StringValue(`say "hi"`))

	var e protocol.LineEncoder
	line, err := e.Append(nil, p)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(line))

	js := protocol.JSONEncoder{Precision: protocol.Second}
	body, err := js.Append(nil, []point.Point{p})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(body))
	// Output:
	// cpu,host=web01,region=eu\ west cores=8i,note="say \"hi\"",usage=3 1700000000000000000
	// [{"measurement":"cpu","tags":{"host":"web01","region":"eu west"},"fields":{"cores":8,"note":"say \"hi\"","usage":3.0},"time":1700000000}]
}
