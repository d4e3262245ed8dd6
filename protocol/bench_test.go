package protocol_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/testbody"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The ingest benchmarks normalize every point for the metric category, for
// both formats alike: metric drops string fields, which is part of the
// real cost of ingesting this body as metrics. They use
// Normalizer.NormalizeOwned, as a server does with the points its own
// decoder returned: fixes compact the points' slices in place.
const benchCategory = point.Metric

var benchNow = time.Unix(1700000000, 0)

// BenchmarkDecodeLPBaseline is the floor: line-protocol/v2's decoder
// walking every tag, field and timestamp of the body and building nothing.
func BenchmarkDecodeLPBaseline(b *testing.B) { testbody.BenchmarkBaseline(b, benchNow) }

func BenchmarkDecodeLP(b *testing.B) {
	body := testbody.LineProtocol()
	var d protocol.Decoder
	opts := protocol.Options{Now: benchNow}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		pts, err := d.DecodeLineProtocol(body, opts)
		if err != nil || len(pts) != testbody.Lines {
			b.Fatal(len(pts), err)
		}
	}
	testbody.ReportPerLine(b)
}

func BenchmarkDecodeJSON(b *testing.B) {
	for _, bc := range []struct {
		name  string
		exact bool
	}{{"float", false}, {"exact-ints", true}} {
		b.Run(bc.name, func(b *testing.B) {
			body := testbody.JSON()
			var d protocol.Decoder
			opts := protocol.Options{Now: benchNow, ExactInts: bc.exact}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				pts, _, err := d.DecodeJSON(body, opts)
				if err != nil || len(pts) != testbody.Lines {
					b.Fatal(len(pts), err)
				}
			}
			testbody.ReportPerLine(b)
		})
	}
}

func BenchmarkIngestLP(b *testing.B) {
	body := testbody.LineProtocol()
	var d protocol.Decoder
	n := constraint.New(constraint.Options{})
	opts := protocol.Options{Now: benchNow}
	var warns []point.Warning // reused, as a server reuses its per-request state
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		pts, err := d.DecodeLineProtocol(body, opts)
		if err != nil || len(pts) != testbody.Lines {
			b.Fatal(len(pts), err)
		}
		warns = normalizeOwned(b, n, pts, warns[:0])
	}
	testbody.ReportPerLine(b)
}

func BenchmarkIngestJSON(b *testing.B) {
	body := testbody.JSON()
	var d protocol.Decoder
	n := constraint.New(constraint.Options{})
	opts := protocol.Options{Now: benchNow}
	var warns []point.Warning // reused, as a server reuses its per-request state
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		pts, _, err := d.DecodeJSON(body, opts)
		if err != nil || len(pts) != testbody.Lines {
			b.Fatal(len(pts), err)
		}
		warns = normalizeOwned(b, n, pts, warns[:0])
	}
	testbody.ReportPerLine(b)
}

// normalizeOwned normalizes every point the decoder just returned (it
// owns their slices) and returns the warnings appended to warns. Every
// point must come out compliant with its warnings: the body's string
// fields are dropped for the metric category.
func normalizeOwned(b *testing.B, n *constraint.Normalizer, pts []point.Point, warns []point.Warning) []point.Warning {
	for i := range pts {
		var err error
		if warns, err = n.NormalizeOwned(&pts[i], benchCategory, warns); err != nil {
			b.Fatal(err)
		}
	}
	if len(warns) == 0 {
		b.Fatal("no string field dropped")
	}
	return warns
}

func normalizeAll(b *testing.B, n *constraint.Normalizer, pts []point.Point) {
	for i := range pts {
		if _, err := n.Normalize(&pts[i], benchCategory); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeLP(b *testing.B) {
	pts := benchPoints(b)
	var e protocol.LineEncoder
	var buf []byte
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, p := range pts {
			var err error
			if buf, err = e.Append(buf, p); err != nil {
				b.Fatal(err)
			}
		}
		size = len(buf)
	}
	b.SetBytes(int64(size))
	testbody.ReportPerLine(b)
}

func BenchmarkEncodeJSON(b *testing.B) {
	pts := benchPoints(b)
	var e protocol.JSONEncoder
	var buf []byte
	size := 0
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = e.Append(buf[:0], pts); err != nil {
			b.Fatal(err)
		}
		size = len(buf)
	}
	b.SetBytes(int64(size))
	testbody.ReportPerLine(b)
}

// benchPoints returns testbody's points, decoded and cloned.
func benchPoints(b *testing.B) []point.Point {
	var d protocol.Decoder
	pts, err := d.DecodeLineProtocol(testbody.LineProtocol(), protocol.Options{})
	if err != nil {
		b.Fatal(err)
	}
	out := make([]point.Point, len(pts))
	for i, p := range pts {
		out[i] = p.Clone()
	}
	return out
}

// BenchmarkNormalize is the constraint share of the ingest benchmarks:
// Normalize alone over the decoded body (restored from a shallow copy each
// round, which Normalize's copy-on-write fixes leave intact).
func BenchmarkNormalize(b *testing.B) {
	var d protocol.Decoder
	decoded, err := d.DecodeLineProtocol(testbody.LineProtocol(), protocol.Options{Now: benchNow})
	if err != nil {
		b.Fatal(err)
	}
	n := constraint.New(constraint.Options{})
	pts := make([]point.Point, len(decoded))
	b.ReportAllocs()
	for b.Loop() {
		copy(pts, decoded)
		normalizeAll(b, n, pts)
	}
	testbody.ReportPerLine(b)
}

// BenchmarkDecodeJSONStdlib is the reference the JSON scanner is measured
// against: encoding/json into DataKit's own target shape (maps for tags
// and fields), which is what decoding with a JSON library costs.
func BenchmarkDecodeJSONStdlib(b *testing.B) {
	body := testbody.JSON()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		var pts []struct {
			Measurement string            `json:"measurement"`
			Tags        map[string]string `json:"tags"`
			Fields      map[string]any    `json:"fields"`
			Time        int64             `json:"time"`
		}
		if err := json.Unmarshal(body, &pts); err != nil || len(pts) != testbody.Lines {
			b.Fatal(len(pts), err)
		}
	}
	testbody.ReportPerLine(b)
}
