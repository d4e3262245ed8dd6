package collectd_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/point"
)

func ExampleParseTypesDB() {
	db, err := collectd.ParseTypesDB(strings.NewReader(`
# name       data sources
if_octets    rx:DERIVE:0:U, tx:DERIVE:0:U
temperature  value:GAUGE:U:U
`), "my_types.db")
	if err != nil {
		log.Fatal(err)
	}
	ds, _ := db.DataSet("if_octets")
	for _, s := range ds.Sources {
		fmt.Println(s.Name, s.Type, s.Min, s.Max)
	}
	fmt.Println(db.Types())

	_, err = collectd.ParseTypesDB(strings.NewReader("bad value:GAUGE:0\n"), "my_types.db")
	fmt.Println(err)
	// Output:
	// rx derive 0 NaN
	// tx derive 0 NaN
	// [if_octets temperature]
	// collectd: my_types.db:1: type "bad", data source 1 "value:GAUGE:0": want name:TYPE:min:max, got 3 colon-separated parts
}

func ExampleLoadTypesDB() {
	// Later files replace the types of earlier ones, as in collectd. With
	// no arguments LoadTypesDB reads collectd.DefaultTypesDB.
	db, err := collectd.LoadTypesDB("testdata/custom_types.db")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(db.Len(), db.Types())

	_, err = collectd.LoadTypesDB("/nonexistent/types.db")
	fmt.Println(err != nil)
	// Output:
	// 3 [load my_io my_temp]
	// true
}

func ExampleTypesDB() {
	var db collectd.TypesDB // the zero value is ready to use
	db.Add(collectd.DataSet{Type: "queue_length", Sources: []collectd.DataSource{
		{Name: "value", Type: collectd.Gauge, Min: 0, Max: 1e6},
	}})
	ds, ok := db.DataSet("queue_length")
	fmt.Println(ok, ds.Sources[0].Name, db.Len())
	// Output: true value 1
}

func ExampleParseDSType() {
	t, err := collectd.ParseDSType("DERIVE")
	fmt.Println(t, uint8(t), err)
	// Output: derive 2 <nil>
}

func ExampleValueList_Identifier() {
	vl := collectd.ValueList{Host: "web01", Plugin: "interface", PluginInstance: "eth0", Type: "if_octets"}
	fmt.Println(vl.Identifier())
	// Output: web01/interface-eth0/if_octets
}

func ExampleAppendPoints() {
	db, err := collectd.ParseTypesDB(strings.NewReader("if_octets rx:DERIVE:0:U, tx:DERIVE:0:U\n"), "types.db")
	if err != nil {
		log.Fatal(err)
	}
	vls := []collectd.ValueList{
		{Host: "web01", Plugin: "interface", PluginInstance: "eth0", Type: "if_octets",
			Time:   time.Unix(1700000000, 0).UTC(),
			Values: []collectd.Value{collectd.DeriveValue(1234), collectd.DeriveValue(5678)}},
		{Host: "web01", Plugin: "foo", Type: "unknown_type", Values: []collectd.Value{collectd.GaugeValue(1)}},
	}
	pts, err := collectd.AppendPoints(nil, db, vls...)
	for _, p := range pts {
		fmt.Println(p)
	}
	fmt.Println(err)
	// Output:
	// interface,host=web01,plugin_instance=eth0,type=if_octets rx=1234,tx=5678 2023-11-14T22:13:20Z
	// collectd: value list web01/foo/unknown_type: type "unknown_type" not in types.db
}

func ExampleNotificationPoint() {
	p := collectd.NotificationPoint(collectd.Notification{
		Host: "web01", Plugin: "df", Type: "percent", TypeInstance: "used",
		Severity: collectd.Warning, Message: "disk 91% full", Time: time.Unix(1700000000, 0).UTC(),
	})
	fmt.Println(p)
	// Output: df,host=web01,type=percent,type_instance=used df_status="warning",df_message="disk 91% full",df_title="disk 91% full",df_source="system" 2023-11-14T22:13:20Z
}

func ExampleDecodeJSON() {
	// A body as collectd's write_http plugin posts it with Format "JSON".
	body := []byte(`[{"values":[0.25,0.5,0.75],"dstypes":["gauge","gauge","gauge"],` +
		`"dsnames":["shortterm","midterm","longterm"],"time":1700000000.125,"interval":10.000,` +
		`"host":"web01","plugin":"load","plugin_instance":"","type":"load","type_instance":""}]`)
	vls, notifs, err := collectd.DecodeJSON(body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(vls), len(notifs), vls[0].Identifier(), vls[0].Interval)
	pts, _ := collectd.AppendPoints(nil, nil, vls...) // write_http names the data sources
	fmt.Println(pts[0].Fields[1].Key, pts[0].Fields[1].Value)
	// Output:
	// 1 0 web01/load/load 10s
	// midterm 0.5
}

func ExampleAppendPacket() {
	vls := []collectd.ValueList{{Host: "web01", Plugin: "load", Type: "load",
		Values: []collectd.Value{collectd.GaugeValue(0.25), collectd.GaugeValue(0.5), collectd.GaugeValue(0.75)}}}
	plain, err := collectd.AppendPacket(nil, collectd.EncodeOptions{}, vls, nil)
	if err != nil {
		log.Fatal(err)
	}
	signed, err := collectd.AppendPacket(nil, collectd.EncodeOptions{
		SecurityLevel: collectd.Sign, Username: "alice", Password: "secret"}, vls, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(plain), len(signed))
	// Output: 61 102
}

func ExampleDecodePacket() {
	vls := []collectd.ValueList{{Host: "web01", Plugin: "cpu", PluginInstance: "0", Type: "cpu", TypeInstance: "idle",
		Values: []collectd.Value{collectd.DeriveValue(98765)}}}
	packet, err := collectd.AppendPacket(nil, collectd.EncodeOptions{
		SecurityLevel: collectd.Encrypt, Username: "alice", Password: "secret"}, vls, nil)
	if err != nil {
		log.Fatal(err)
	}
	got, _, err := collectd.DecodePacket(packet, collectd.DecodeOptions{
		SecurityLevel: collectd.Encrypt, Passwords: collectd.PasswordMap{"alice": "secret"}})
	fmt.Println(got[0].Identifier(), got[0].Values[0], err)

	_, _, err = collectd.DecodePacket(packet, collectd.DecodeOptions{Passwords: collectd.PasswordMap{"alice": "guess"}})
	fmt.Println(err)
	// Output:
	// web01/cpu-0/cpu-idle 98765 derive <nil>
	// collectd: packet offset 0, part encryption (0x0210): collectd: decryption failed (user "alice")
}

func ExampleParseSecurityLevel() {
	l, err := collectd.ParseSecurityLevel("encrypt")
	fmt.Println(l, err)
	// Output: Encrypt <nil>
}

func ExampleAuthFile() {
	dir, err := os.MkdirTemp("", "authfile")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "passwd")
	if err := os.WriteFile(path, []byte("alice: w0nderl4nd\nbob: bu1|der\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	a := collectd.NewAuthFile(path)
	if err := a.Load(); err != nil { // find a bad file at start-up
		log.Fatal(err)
	}
	fmt.Println(a.Password("bob"))
	// Output: bu1|der true
}

func ExampleServer() {
	// A nil TypesDB loads collectd.DefaultTypesDB; the example brings
	// its own.
	db, err := collectd.ParseTypesDB(strings.NewReader("memory value:GAUGE:0:281474976710656\n"), "types.db")
	if err != nil {
		log.Fatal(err)
	}
	got := make(chan point.Batch, 1)
	srv := &collectd.Server{
		Addr:    "127.0.0.1:0", // a free port, for the example
		TypesDB: db,
		Sink: point.SinkFunc(func(_ context.Context, b point.Batch) error {
			got <- b.Clone()
			return nil
		}),
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.ListenPacket(ctx); err != nil {
		log.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- srv.Run(ctx) }()

	// Play the part of collectd's network plugin.
	packet, _ := collectd.AppendPacket(nil, collectd.EncodeOptions{}, []collectd.ValueList{{
		Host: "web01", Plugin: "memory", Type: "memory", TypeInstance: "used",
		Time: time.Unix(1700000000, 0), Values: []collectd.Value{collectd.GaugeValue(1 << 30)},
	}}, nil)
	c, err := net.Dial("udp", srv.LocalAddr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(packet); err != nil {
		log.Fatal(err)
	}

	b := <-got
	fmt.Println(b.Category, b.Input, b.Points[0].Name, b.Points[0].Fields[0].Key, b.Points[0].Fields[0].Value)
	cancel()
	fmt.Println(<-done)
	// Output:
	// metric collectd memory value 1.073741824e+09
	// <nil>
}
