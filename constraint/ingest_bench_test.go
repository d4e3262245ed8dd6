package constraint_test

import (
	"testing"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/testbody"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The ingest benchmarks decode testbody's 10,000 points and normalize them
// with NormalizeBatch for one category, reusing the decoder and the
// Result as a server reuses its per-request state. The body is the same
// for every category, so each pays what its rules cost on it: metric drops
// the string fields; logging adds a status to the points that have none
// (all but nginx's); object and custom_object add a name tag to every
// point; keyevent checks without a required key.
var ingestCategories = []point.Category{point.Metric, point.Logging, point.Object, point.KeyEvent}

var ingestNow = time.Unix(1700000000, 0)

// BenchmarkDecodeLPBaseline is the floor the ingest figures are measured
// against: line-protocol/v2's decoder walking every tag, field and
// timestamp of the body and building nothing.
func BenchmarkDecodeLPBaseline(b *testing.B) { testbody.BenchmarkBaseline(b, ingestNow) }

func BenchmarkIngestLP(b *testing.B) {
	for _, c := range ingestCategories {
		b.Run(c.String(), func(b *testing.B) {
			body := testbody.LineProtocol()
			benchIngest(b, c, int64(len(body)), func(d *protocol.Decoder) ([]point.Point, error) {
				return d.DecodeLineProtocol(body, protocol.Options{Now: ingestNow})
			})
		})
	}
}

func BenchmarkIngestJSON(b *testing.B) {
	for _, c := range ingestCategories {
		b.Run(c.String(), func(b *testing.B) {
			body := testbody.JSON()
			benchIngest(b, c, int64(len(body)), func(d *protocol.Decoder) ([]point.Point, error) {
				pts, _, err := d.DecodeJSON(body, protocol.Options{Now: ingestNow})
				return pts, err
			})
		})
	}
}

// benchIngest runs decode, then NormalizeBatch for c, and checks that
// every point is kept.
func benchIngest(b *testing.B, c point.Category, size int64, decode func(*protocol.Decoder) ([]point.Point, error)) {
	var d protocol.Decoder
	n := constraint.New(constraint.Options{})
	var r constraint.Result
	// One round before timing grows the decoder's and the Result's
	// buffers, as a server's pooled request state has grown already.
	pts, err := decode(&d)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := n.NormalizeBatch(pts, c, &r); err != nil {
		b.Fatal(err)
	}
	r.Reset() // the request is done, as when a server pools its state
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		pts, err := decode(&d)
		if err != nil || len(pts) != testbody.Lines {
			b.Fatal(len(pts), err)
		}
		kept, err := n.NormalizeBatch(pts, c, &r)
		if err != nil || len(kept) != testbody.Lines || len(r.Rejected) > 0 {
			b.Fatal(len(kept), err, r.Rejected)
		}
	}
	testbody.ReportPerLine(b)
}
