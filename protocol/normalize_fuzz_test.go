package protocol_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// FuzzNormalizedEncodes checks the promise package constraint makes to
// sinks: every point that Normalize with the zero Options accepts, in any
// category, can be written by LineEncoder (and by JSONEncoder), unless
// normalizing left it without fields, which the Sink middleware drops. The
// points are those decoded from body as line protocol and as JSON, and a
// point built from name, key and value with a value of the kind that kind
// picks.
func FuzzNormalizedEncodes(f *testing.F) {
	for _, c := range loadCorpus[decodeCase](f, "decode.json") {
		f.Add([]byte(c.Body), "m", "k", "v", uint8(0))
	}
	seeds := []struct {
		body             string
		name, key, value string
	}{
		{`m,k=a\\ f=1`, "#m", "k\\", "v\n"},
		{`[{"measurement":"#m\n","tags":{"k\n":"v\\","t":"a\u0000b\u007f"},"fields":{"f\\":1,"s":"x\ny"}}]`, "m\\", "\\", "\\\\"},
		{`[{"measurement":"\\","tags":{"\\":"\\"},"fields":{"\t":"\r"}}]`, "\x00", "\x7f", "\xff\\"},
		{`m\ ,k\ =\  f\ =1 0`, "", "é\x01", "ü\\"},
		{`[{"measurement":"obj","tags":{"name":null},"fields":{"f":null,"g":1},"time":0}]`, "#", "a.b", "x"},
	}
	for i, s := range seeds {
		f.Add([]byte(s.body), s.name, s.key, s.value, uint8(i))
	}
	var d protocol.Decoder
	n := constraint.New(constraint.Options{})
	var le protocol.LineEncoder
	var je protocol.JSONEncoder
	f.Fuzz(func(t *testing.T, body []byte, name, key, value string, kind uint8) {
		opts := protocol.Options{KeepValid: true, Now: corpusNow, ExactInts: kind&1 == 0}
		var pts []point.Point
		lp, _ := d.DecodeLineProtocol(body, opts)
		for _, p := range lp {
			pts = append(pts, p.Clone())
		}
		js, _, _ := d.DecodeJSON(body, opts)
		for _, p := range js {
			pts = append(pts, p.Clone())
		}
		pts = append(pts, generatedPoint(name, key, value, kind))
		for _, p := range pts {
			for _, c := range point.Categories() {
				q := p.Clone()
				if _, err := n.Normalize(&q, c); err != nil {
					require.ErrorIs(t, err, constraint.ErrRejected)
					continue
				}
				if len(q.Fields) == 0 {
					continue // the Sink middleware drops it
				}
				_, err := le.Append(nil, q)
				require.NoError(t, err, "%s point %v, normalized to %v: line protocol", c, p, q)
				_, err = je.Append(nil, []point.Point{q})
				require.NoError(t, err, "%s point %v, normalized to %v: JSON", c, p, q)
			}
		}
	})
}

// generatedPoint builds a point with name, two tags and two fields from
// key and value, and a time, whose kinds the bits of kind pick.
func generatedPoint(name, key, value string, kind uint8) point.Point {
	values := []point.Value{
		point.StringValue(value),
		point.BytesValue([]byte(value)),
		point.FloatValue(float64(len(value)) / 3),
		point.FloatValue(math.NaN()),
		point.FloatValue(math.Inf(-1)),
		{}, // nil
		point.IntValue(-int64(len(value))),
		point.UintValue(math.MaxUint64),
		point.BoolValue(true),
	}
	times := []time.Time{{}, time.Unix(0, 0), corpusNow, time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)}
	return point.Point{
		Name: name,
		Tags: []point.Tag{{Key: key, Value: value}, {Key: value, Value: key}},
		Fields: []point.Field{
			{Key: key, Value: values[int(kind)%len(values)]},
			{Key: value, Value: values[int(kind>>4)%len(values)]},
		},
		Time: times[int(kind>>2)%len(times)],
	}
}
