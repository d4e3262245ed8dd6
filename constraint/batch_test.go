package constraint

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// TestNormalizeBatch checks that NormalizeBatch gives each keyevent point
// what Normalize gives it, keeps the points in order without the dropped
// and rejected ones, and indexes warnings and rejections by the batch as
// it came in.
func TestNormalizeBatch(t *testing.T) {
	in := func() []point.Point {
		return []point.Point{
			pt("a", tags("host", "h"), fields(fl("message", point.StringValue("x")))),
			pt("b", tags("k", "v"), fields(fl("k", point.IntValue(1)), fl("n", point.IntValue(2)), fl("status", point.StringValue("ok")))),
			pt("c", nil, fields(fl("f", point.FloatValue(math.NaN())))),
			pt("d", tags("x.y", "1"), fields(fl("n", point.IntValue(3)))),
		}
	}
	for _, tc := range []struct {
		name     string
		opts     Options
		keep     []string
		rejected []int
	}{
		{name: "fixed", keep: []string{"a", "b", "d"}},
		{name: "conflict rejected", opts: Options{Actions: map[Rule]Action{RuleKeyConflict: Reject}}, keep: []string{"a", "d"}, rejected: []int{1}},
		{name: "no field kept", opts: Options{Actions: map[Rule]Action{RuleNoField: Ignore}}, keep: []string{"a", "b", "c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := New(tc.opts)
			// What Normalize gives each point, with batch indexes.
			var want []point.Point
			var wantWarns []point.Warning
			for i, p := range in() {
				ws, err := n.Normalize(&p, point.KeyEvent)
				for _, w := range ws {
					w.Point = i
					wantWarns = append(wantWarns, w)
				}
				if err != nil {
					continue
				}
				if len(p.Fields) == 0 && n.actions[RuleNoField] == Fix {
					wantWarns = append(wantWarns, point.Warning{Code: point.WarnNoField, Point: i, Message: msgNoFieldDropped})
					continue
				}
				want = append(want, p)
			}

			var r Result
			got, err := n.NormalizeBatch(in(), point.KeyEvent, &r)
			require.NoError(t, err)
			assert.Equal(t, want, got)
			var names []string
			for _, p := range got {
				names = append(names, p.Name)
			}
			assert.Equal(t, tc.keep, names)
			assert.Equal(t, wantWarns, r.Warnings)
			var rej []int
			for _, re := range r.Rejected {
				rej = append(rej, re.Point)
			}
			assert.Equal(t, tc.rejected, rej)
			assert.Equal(t, 4, r.In)
			if tc.rejected != nil {
				assert.ErrorIs(t, r.Err(), ErrRejected)
			} else {
				assert.NoError(t, r.Err())
			}
		})
	}
}

func TestNormalizeBatchInvalidCategory(t *testing.T) {
	var r Result
	_, err := New(Options{}).NormalizeBatch([]point.Point{pt("a", nil, fields(fl("n", point.IntValue(1))))}, point.Category(200), &r)
	assert.ErrorContains(t, err, "invalid category")
}

// TestNormalizeBatchAllocs checks that a compliant batch costs no
// allocation, and neither does adding the required key to every point
// once the Result is reused.
func TestNormalizeBatchAllocs(t *testing.T) {
	const size = 500
	base := make([]point.Point, size)
	for i := range base {
		base[i] = benchCompliant()
	}
	pts := make([]point.Point, size)
	n := New(Options{})
	var r Result
	for _, c := range []point.Category{point.Metric, point.Logging, point.Object, point.KeyEvent} {
		t.Run(c.String(), func(t *testing.T) {
			// The points share base's arrays: none of them needs a fix
			// that writes into its own arrays, and the added keys go to
			// the Result's slab.
			copy(pts, base)
			_, err := n.NormalizeBatch(pts, c, &r) // warm the Result
			require.NoError(t, err)
			allocs := testing.AllocsPerRun(10, func() {
				copy(pts, base)
				if _, err := n.NormalizeBatch(pts, c, &r); err != nil {
					t.Fatal(err)
				}
			})
			assert.Zero(t, allocs)
			if c == point.Logging || c == point.Object {
				require.Len(t, r.Warnings, size)
				assert.Equal(t, point.WarnAddRequiredKV, r.Warnings[0].Code)
			}
			assert.Equal(t, benchCompliant(), base[0], "the points' arrays were written into")
		})
	}
}

// TestSinkSlab checks that the middleware adds a required key without
// writing into the incoming batch, and that a Result reused for the next
// batch does not change the points already written.
func TestSinkSlab(t *testing.T) {
	n := New(Options{})
	var got []point.Batch
	s := n.Sink(point.SinkFunc(func(_ context.Context, b point.Batch) error {
		got = append(got, b.Clone())
		return nil
	}))
	in := point.Batch{Category: point.Logging, Points: []point.Point{
		pt("a", nil, fields(fl("message", point.StringValue("one")))),
		pt("b", nil, fields(fl("message", point.StringValue("two")))),
	}}
	snapshot := in.Clone()
	for range 3 {
		require.NoError(t, s.Write(context.Background(), in))
	}
	assert.Equal(t, snapshot, in)
	require.Len(t, got, 3)
	for _, b := range got {
		require.Len(t, b.Points, 2)
		for _, p := range b.Points {
			v, ok := p.Field("status")
			require.True(t, ok)
			assert.Equal(t, "info", v.Str())
		}
	}
}

// TestNormalizeBatchRequiredDropped checks that a required key a fix drops
// is added again.
func TestNormalizeBatchRequiredDropped(t *testing.T) {
	var r Result
	pts := []point.Point{pt("log", nil, fields(fl("status", point.FloatValue(math.NaN())), fl("message", point.StringValue("m"))))}
	got, err := New(Options{}).NormalizeBatch(pts, point.Logging, &r)
	require.NoError(t, err)
	require.Len(t, got, 1)
	v, ok := got[0].Field("status")
	require.True(t, ok)
	assert.Equal(t, "info", v.Str())
	var codes []point.WarningCode
	for _, w := range r.Warnings {
		codes = append(codes, w.Code)
	}
	assert.Equal(t, []point.WarningCode{point.WarnNonFiniteFloat, point.WarnAddRequiredKV}, codes)
}
