package constraint

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// recorder is a Sink that keeps a deep copy of every batch it receives and
// can be told to fail.
type recorder struct {
	mu      sync.Mutex
	batches []point.Batch
	err     error
}

func (r *recorder) Write(_ context.Context, b point.Batch) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches = append(r.batches, b.Clone())
	return r.err
}

func (r *recorder) got() []point.Batch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]point.Batch(nil), r.batches...)
}

// warnLog collects what OnWarnings reports.
type warnLog struct {
	mu    sync.Mutex
	warns []point.Warning
	calls int
}

func (w *warnLog) on(_ context.Context, _ point.Batch, ws []point.Warning) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	w.warns = append(w.warns, ws...)
}

func at(i int, w point.Warning) point.Warning { w.Point = i; return w }

func batch(c point.Category, pts ...point.Point) point.Batch {
	return point.Batch{Category: c, Input: "in", Source: "src", Version: "1.2", Points: pts}
}

func TestSink(t *testing.T) {
	good := pt("nginx", tags("host", "a"), fields(fl("message", point.StringValue("ok")), fl("status", point.StringValue("info"))))
	noStatus := pt("nginx", tags("host", "a"), fields(fl("message", point.StringValue("x"))))
	noStatusFixed := pt("nginx", tags("host", "a"), fields(fl("message", point.StringValue("x")), fl("status", point.StringValue("info"))))
	dotted := pt("nginx", nil, fields(fl("a.b", point.IntValue(1)), fl("status", point.StringValue("ok"))))
	dottedFixed := pt("nginx", nil, fields(fl("a_b", point.IntValue(1)), fl("status", point.StringValue("ok"))))
	addStatus := warn(point.WarnAddRequiredKV, "status", `logging point has no status; field status="info" added`)
	dotWarn := warn(point.WarnDotInKey, "a.b", `field key contains "."; renamed to "a_b"`)
	onlyNil := pt("m", nil, fields(fl("f", point.Value{})))

	tests := []struct {
		name      string
		opts      Options
		nextErr   error
		in        point.Batch
		want      []point.Batch // what next received
		warns     []point.Warning
		rejected  []int // indexes of the rejected points, in order
		wantErrIs error
	}{
		{
			name: "compliant batch passes as it is",
			in:   batch(point.Logging, good, good),
			want: []point.Batch{batch(point.Logging, good, good)},
		},
		{
			name:  "only the points that need it are changed",
			in:    batch(point.Logging, good, noStatus, good, dotted),
			want:  []point.Batch{batch(point.Logging, good, noStatusFixed, good, dottedFixed)},
			warns: []point.Warning{at(1, addStatus), at(3, dotWarn)},
		},
		{
			name: "a point left with no fields is dropped",
			in:   batch(point.Metric, pt("m", nil, fields(fl("s", point.StringValue("x")))), pt("m", nil, fields(fl("i", point.IntValue(1))))),
			want: []point.Batch{batch(point.Metric, pt("m", nil, fields(fl("i", point.IntValue(1)))))},
			warns: []point.Warning{
				at(0, warn(point.WarnInvalidFieldValueType, "s", "metric field has a string value; field dropped")),
				{Code: point.WarnNoField, Point: 0, Message: "point has no fields; point dropped"},
			},
		},
		{
			name: "no_field ignored keeps the point",
			opts: Options{Actions: map[Rule]Action{RuleNoField: Ignore}},
			in:   batch(point.Metric, pt("m", tags("t", "1"), nil)),
			want: []point.Batch{batch(point.Metric, pt("m", tags("t", "1"), nil))},
		},
		{
			name:  "a batch left empty is not passed on",
			in:    batch(point.Metric, onlyNil),
			warns: []point.Warning{at(0, warn(point.WarnNilField, "f", "field has no value; field dropped")), {Code: point.WarnNoField, Point: 0, Message: "point has no fields; point dropped"}},
		},
		{
			name:      "a rejected point rejects the batch",
			opts:      Options{Actions: map[Rule]Action{RuleLoggingStatus: Reject}},
			in:        batch(point.Logging, good, noStatus, dotted, noStatus),
			warns:     []point.Warning{at(2, dotWarn)},
			rejected:  []int{1, 3},
			wantErrIs: ErrRejected,
		},
		{
			name:      "WritePartial writes the rest",
			opts:      Options{WritePartial: true, Actions: map[Rule]Action{RuleLoggingStatus: Reject}},
			in:        batch(point.Logging, good, noStatus, dotted),
			want:      []point.Batch{batch(point.Logging, good, dottedFixed)},
			warns:     []point.Warning{at(2, dotWarn)},
			rejected:  []int{1},
			wantErrIs: ErrRejected,
		},
		{
			name:      "next's busy error is returned",
			nextErr:   point.Busy(nil, time.Second),
			in:        batch(point.Logging, good),
			want:      []point.Batch{batch(point.Logging, good)},
			wantErrIs: point.ErrBusy,
		},
		{
			name: "empty batch passes",
			in:   batch(point.Metric),
			want: []point.Batch{batch(point.Metric)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{err: tc.nextErr}
			var wl warnLog
			opts := tc.opts
			opts.OnWarnings = wl.on
			in := tc.in
			snapshot := in.Clone()
			err := New(opts).Sink(rec).Write(context.Background(), in)

			assert.Equal(t, snapshot, in, "the incoming batch was modified")
			assert.Equal(t, tc.want, rec.got())
			assert.Equal(t, tc.warns, wl.warns)
			if len(tc.warns) > 0 {
				assert.Equal(t, 1, wl.calls, "OnWarnings is called once per batch")
			}
			if tc.wantErrIs == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.wantErrIs)
			var idx []int
			if joined, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range joined.Unwrap() {
					var re *RejectError
					if errors.As(e, &re) {
						idx = append(idx, re.Point)
					}
				}
			}
			assert.Equal(t, tc.rejected, idx)
		})
	}
}

func TestSinkKeepsUnchangedPoints(t *testing.T) {
	good := pt("cpu", tags("host", "a"), fields(fl("usage", point.FloatValue(1))))
	bad := pt("cpu", tags("host", "a"), fields(fl("usage", point.FloatValue(1)), fl("s", point.StringValue("x"))))
	in := batch(point.Metric, good, bad, good)

	var got point.Batch
	next := point.SinkFunc(func(_ context.Context, b point.Batch) error { got = b; return nil })
	require.NoError(t, New(Options{}).Sink(next).Write(context.Background(), in))

	require.Len(t, got.Points, 3)
	assert.NotSame(t, &in.Points[0], &got.Points[0], "the batch's slice must be copied when a point changes")
	assert.Same(t, &in.Points[0].Tags[0], &got.Points[0].Tags[0], "an unchanged point is passed as it is")
	assert.Same(t, &in.Points[1].Tags[0], &got.Points[1].Tags[0], "unchanged tags of a fixed point are shared")
	assert.Len(t, in.Points[1].Fields, 2, "the input point keeps its fields")

	// A compliant batch is passed on with the very same slice.
	in = batch(point.Metric, good, good)
	require.NoError(t, New(Options{}).Sink(next).Write(context.Background(), in))
	assert.Same(t, &in.Points[0], &got.Points[0])
}

func TestSinkInvalidCategory(t *testing.T) {
	rec := &recorder{}
	err := New(Options{}).Sink(rec).Write(context.Background(), point.Batch{Input: "x", Points: []point.Point{pt("m", nil, fields(fl("f", point.IntValue(1))))}})
	require.Error(t, err)
	assert.NotErrorIs(t, err, ErrRejected)
	assert.Contains(t, err.Error(), "invalid category")
	assert.Empty(t, rec.got())
}

func TestSinkLogs(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	n := New(Options{Logger: logger, Actions: map[Rule]Action{RuleNonFinite: Reject}})
	nan := pt("m", nil, fields(fl("f", point.FloatValue(math.NaN()))))
	str := pt("m", nil, fields(fl("f", point.FloatValue(0)), fl("g", point.StringValue("x"))))
	err := n.Sink(&recorder{}).Write(context.Background(), batch(point.Metric, str, nan))
	require.ErrorIs(t, err, ErrRejected)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, buf.String(), `level=DEBUG msg="constraint: points fixed" category=metric input=in warnings=1 first="invalid_field_value_type: metric field has a string value; field dropped"`)
	assert.Contains(t, buf.String(), `level=WARN msg="constraint: points rejected" category=metric input=in rejected=1 points=2 batch_written=false first="constraint: point 1: rule non_finite: key \"f\": field value is NaN"`)
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestSinkConcurrent(t *testing.T) {
	rec := &recorder{}
	var wl warnLog
	s := New(Options{OnWarnings: wl.on}).Sink(rec)
	shared := batch(point.Logging, pt("l", nil, fields(fl("a.b", point.IntValue(1)))))
	snapshot := shared.Clone()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				assert.NoError(t, s.Write(context.Background(), shared))
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, snapshot, shared)
	want := batch(point.Logging, pt("l", nil, fields(fl("a_b", point.IntValue(1)), fl("status", point.StringValue("info")))))
	got := rec.got()
	require.Len(t, got, 400)
	for _, b := range got {
		assert.Equal(t, want, b)
	}
	assert.Len(t, wl.warns, 800)
}

func TestSinkCompliantBatchAllocations(t *testing.T) {
	in := batch(point.Metric, benchCompliant(), benchCompliant())
	s := New(Options{}).Sink(point.Discard())
	ctx := context.Background()
	allocs := testing.AllocsPerRun(100, func() { _ = s.Write(ctx, in) })
	assert.Zero(t, allocs)
}
