package netdata

import (
	"bytes"
	"context"
	"errors"
	"math"
	"testing"

	"github.com/collectkit/collectkit/point"
)

// FuzzRead feeds arbitrary text through Read with small limits and checks
// more than "no panic": every point has fields, finite float values, the
// chart tag, and the limits hold.
func FuzzRead(f *testing.F) {
	f.Add([]byte(pythondTwoLines))
	f.Add(benchText(2, 3, 3))
	f.Add([]byte("CHART a.b\nDIMENSION x x incremental -1 0 hidden\nBEGIN a.b\nSET x = 9223372036854775807\nEND\nBEGIN a.b 1\nSET x = -9223372036854775808\nEND\n"))
	f.Add([]byte("CHART a.b\nDIMENSION x x percentage-of-incremental-row\nFUNCTION_RESULT_BEGIN\nEND\nFUNCTION_RESULT_END\nCLABEL 'k' \"v w\" 1\nCLABEL_COMMIT\nFLUSH\nDISABLE\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		opts := Options{MaxLineBytes: 200, MaxCharts: 5, MaxDimensions: 10, MaxLabels: 3}
		e := New(opts)
		err := e.Read(context.Background(), bytes.NewReader(text), func(pts []point.Point) error {
			for _, p := range pts {
				if len(p.Fields) == 0 {
					t.Fatalf("point without fields: %v", p)
				}
				if _, ok := p.Tag("chart"); !ok {
					t.Fatalf("point without chart tag: %v", p)
				}
				for _, f := range p.Fields {
					if v := f.Value.Float(); math.IsNaN(v) || math.IsInf(v, 0) {
						t.Fatalf("non-finite field: %v", p)
					}
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrDisabled) {
			t.Fatalf("Read: %v", err)
		}
		if len(e.charts) > opts.MaxCharts || e.ndims > opts.MaxDimensions {
			t.Fatalf("limits exceeded: %d charts, %d dimensions", len(e.charts), e.ndims)
		}
		n := 0
		for _, c := range e.charts {
			n += len(c.dims)
			if len(c.labels) > opts.MaxLabels {
				t.Fatalf("chart %s has %d labels", c.full, len(c.labels))
			}
		}
		if n != e.ndims {
			t.Fatalf("dimension count %d, charts hold %d", e.ndims, n)
		}
	})
}
