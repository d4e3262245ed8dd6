package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/pythond"
	"github.com/collectkit/collectkit/scrape"
)

// t0 is the time the tests' samples start at.
var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func TestPointsPerSecond(t *testing.T) {
	type sample struct {
		after time.Duration // since t0
		total uint64
	}
	tests := []struct {
		name    string
		samples []sample
		want    []float64
		first   time.Duration // the time of the first rate, since t0
	}{
		{"no sample", nil, []float64{}, 0},
		{"one sample", []sample{{0, 100}}, []float64{}, 0},
		{"steady", []sample{{0, 0}, {5 * time.Second, 50}, {10 * time.Second, 150}, {15 * time.Second, 150}}, []float64{10, 20, 0}, 5 * time.Second},
		{"uneven intervals", []sample{{0, 10}, {2 * time.Second, 30}, {10 * time.Second, 70}}, []float64{10, 5}, 2 * time.Second},
		// A reload starts counting from zero: the total after it is all
		// new points, not a negative rate or a wrapped counter.
		{"counter reset on reload", []sample{{0, 1000}, {5 * time.Second, 1500}, {10 * time.Second, 40}, {15 * time.Second, 90}}, []float64{100, 8, 10}, 5 * time.Second},
		{"reset to zero", []sample{{0, 1000}, {5 * time.Second, 0}}, []float64{0}, 5 * time.Second},
		{"a sample not after the last is ignored", []sample{{0, 0}, {5 * time.Second, 50}, {5 * time.Second, 999}, {4 * time.Second, 7}, {10 * time.Second, 100}}, []float64{10, 10}, 5 * time.Second},
		{"older than the window are forgotten", []sample{{0, 0}, {time.Minute, 600}, {rateWindow + time.Minute, 1200}, {rateWindow + time.Minute + 5*time.Second, 1250}}, []float64{10}, rateWindow + time.Minute + 5*time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newStatusPages(func() agentStatus { return agentStatus{} })
			for _, s := range tt.samples {
				p.record(t0.Add(s.after), s.total)
			}
			rates := p.rates()
			got := make([]float64, len(rates))
			for i, r := range rates {
				got[i] = r.PerSecond
			}
			assert.InDeltaSlice(t, tt.want, got, 1e-9)
			require.Len(t, got, len(tt.want))
			if len(rates) > 0 {
				assert.Equal(t, t0.Add(tt.first), rates[0].Time)
			}
		})
	}
}

func TestRateHistoryIsBounded(t *testing.T) {
	p := newStatusPages(func() agentStatus { return agentStatus{} })
	for i := range 1000 {
		p.record(t0.Add(time.Duration(i)*rateEvery), uint64(i)*10)
	}
	rates := p.rates()
	require.Len(t, rates, int(rateWindow/rateEvery))
	assert.Equal(t, t0.Add(999*rateEvery), rates[len(rates)-1].Time)
	assert.LessOrEqual(t, rates[len(rates)-1].Time.Sub(rates[0].Time), rateWindow)
	for _, r := range rates {
		assert.InDelta(t, 2, r.PerSecond, 1e-9)
	}
}

func TestRunSamplesUntilCancelled(t *testing.T) {
	calls := make(chan struct{}, 10)
	p := newStatusPages(func() agentStatus {
		calls <- struct{}{}
		return agentStatus{PointsTotal: 42}
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.run(ctx)
	}()
	<-calls // the first sample is taken at once, not after rateEvery
	cancel()
	<-done
	p.mu.Lock()
	defer p.mu.Unlock()
	require.NotEmpty(t, p.samples)
	assert.Equal(t, uint64(42), p.samples[0].total)
}

func TestInputHealth(t *testing.T) {
	tests := []struct {
		name   string
		in     pythond.InputStatus
		word   string
		class  string
		detail string
	}{
		{"running", pythond.InputStatus{State: pythond.StateRunning, Collectors: []pythond.CollectorStatus{{Name: "a", Runs: 3}}}, "running", "ok", ""},
		{"broken", pythond.InputStatus{State: pythond.StateBroken, Problem: "no collector in dirs [x]"}, "broken", "bad", "no collector in dirs [x]"},
		{"first exit backs off", pythond.InputStatus{State: pythond.StateBackoff, LastExit: "exit status 1", Restarts: 0}, "backoff", "warn", "exit status 1"},
		{"exits again and again", pythond.InputStatus{State: pythond.StateBackoff, LastExit: "exit status 1", Problem: "ImportError: no module named x", Restarts: crashLoopRestarts}, "crashing", "bad", "ImportError: no module named x"},
		{"a collector hangs", pythond.InputStatus{State: pythond.StateRunning, Collectors: []pythond.CollectorStatus{{Name: "ok"}, {Name: "slow", Running: true, Overdue: true}}}, "hanging", "bad", "collector slow has run past its timeout"},
		{"starting", pythond.InputStatus{State: pythond.StateStarting}, "starting", "warn", ""},
		{"pending", pythond.InputStatus{State: pythond.StatePending}, "pending", "idle", ""},
		{"stopped", pythond.InputStatus{State: pythond.StateStopped, LastExit: "signal: terminated"}, "stopped", "idle", "signal: terminated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, health{tt.word, tt.class, tt.detail}, inputHealth(tt.in))
		})
	}
}

func TestCollectorHealth(t *testing.T) {
	now := t0.Add(time.Hour)
	tests := []struct {
		name string
		c    pythond.CollectorStatus
		want health
	}{
		{"not run yet", pythond.CollectorStatus{}, health{"waiting", "idle", ""}},
		{"ran", pythond.CollectorStatus{Runs: 2, LastRun: now.Add(-time.Second)}, health{"ok", "ok", ""}},
		{"running", pythond.CollectorStatus{Runs: 2, Running: true}, health{"running", "ok", ""}},
		{"last run failed", pythond.CollectorStatus{Runs: 2, LastError: "ZeroDivisionError"}, health{"failing", "bad", "ZeroDivisionError"}},
		{"hangs", pythond.CollectorStatus{Running: true, Overdue: true, LastRun: now.Add(-95 * time.Second)}, health{"hanging", "bad", "running for 1m35s, past its timeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, collectorHealth(tt.c, now))
		})
	}
}

func TestTargetHealth(t *testing.T) {
	refused := errors.New("connection refused")
	tests := []struct {
		name string
		t    scrape.TargetStats
		want health
	}{
		{"before the first scrape", scrape.TargetStats{}, health{"pending", "idle", ""}},
		{"up", scrape.TargetStats{Up: true, Scrapes: 1}, health{"up", "ok", ""}},
		{"down", scrape.TargetStats{Scrapes: 3, Failures: 1, LastError: refused}, health{"down", "bad", "connection refused"}},
		{"down without an error", scrape.TargetStats{Scrapes: 3, Failures: 1}, health{"down", "bad", "the last scrape failed"}},
		{"sink refused", scrape.TargetStats{Up: true, Scrapes: 1, SinkError: errors.New("busy")}, health{"refused", "warn", "the sink refused the points: busy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, targetHealth(tt.t))
		})
	}
}

func TestForwarderHealth(t *testing.T) {
	tests := []struct {
		name string
		f    forward.Status
		want health
	}{
		{"empty", forward.Status{}, health{"idle", "ok", ""}},
		{"delivering", forward.Status{BufferedPoints: 10, LastDelivery: t0}, health{"delivering", "ok", ""}},
		{"an old error", forward.Status{LastError: "503", LastErrorTime: t0, LastDelivery: t0.Add(time.Second)}, health{"idle", "ok", ""}},
		{"retrying", forward.Status{BufferedPoints: 10, LastError: "503", LastErrorTime: t0.Add(time.Second), LastDelivery: t0}, health{"retrying", "warn", "503"}},
		{"stuck", forward.Status{BufferedPoints: 10, Stuck: true, LastError: "connection refused"}, health{"stuck", "bad", "connection refused"}},
		{"full", forward.Status{Full: true, Stuck: true, LastError: "connection refused"}, health{"full", "bad", "the buffer is full: connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, forwarderHealth(tt.f))
		})
	}
}

func TestAgo(t *testing.T) {
	v := &statusView{agentStatus: agentStatus{Now: t0}}
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"},
		{t0, "just now"},
		{t0.Add(-12 * time.Second), "12s ago"},
		{t0.Add(-(3*time.Minute + 7*time.Second)), "3m07s ago"},
		{t0.Add(-(2*time.Hour + 5*time.Minute + 9*time.Second)), "2h05m ago"},
		{t0.Add(-(50 * time.Hour)), "2d2h ago"},
		{t0.Add(3 * time.Second), "in 3s"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, v.Ago(tt.t), "%v", tt.t)
	}
	assert.Equal(t, "2026-03-04 10:00:00 UTC", v.Abs(t0))
	assert.Empty(t, v.Abs(time.Time{}))
}

func TestFormats(t *testing.T) {
	v := &statusView{}
	for in, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 5 << 30: "5.0 GiB"} {
		assert.Equal(t, want, v.Bytes(in), "%d bytes", in)
	}
	for in, want := range map[float64]string{0: "0", 0.25: "0.25", 12.345: "12.3", 150.4: "150", 2500: "2.5k", 3.25e6: "3.25M"} {
		assert.Equal(t, want, formatRate(in), "%v/s", in)
	}
	for in, want := range map[float64]float64{0: 1, 0.3: 1, 1: 1, 1.5: 2, 3: 5, 7: 10, 10: 10, 11: 20, 480: 500, 5001: 10000} {
		assert.Equal(t, want, niceCeil(in), "niceCeil(%v)", in)
	}
	assert.Equal(t, "1.235s", v.Dur(1234567*time.Microsecond))
	assert.Equal(t, "-", v.Dur(0))
	assert.Equal(t, "45.5%", v.Percent(0.455))
}

func TestChart(t *testing.T) {
	t.Run("no data", func(t *testing.T) {
		c := newChart(nil)
		assert.Empty(t, c.Points)
		assert.NotEmpty(t, c.Empty)
		assert.Len(t, c.XLabels, 3)
		assert.Len(t, c.YLabels, 3)
	})
	t.Run("line", func(t *testing.T) {
		// 0/s ten minutes ago, 40/s five minutes ago, 20/s now: the axis
		// goes to 50.
		rates := []rateSample{
			{t0, 0},
			{t0.Add(5 * time.Minute), 40},
			{t0.Add(10 * time.Minute), 20},
		}
		c := newChart(rates)
		xy := chartPoints(t, c.Points)
		require.Len(t, xy, 3)
		height := c.Bottom - c.Top
		want := [][2]float64{
			{c.Left, c.Bottom},
			{(c.Left + c.Right) / 2, c.Bottom - 0.8*height},
			{c.Right, c.Bottom - 0.4*height},
		}
		for i := range want {
			assert.InDelta(t, want[i][0], xy[i][0], 0.06, "x of point %d", i)
			assert.InDelta(t, want[i][1], xy[i][1], 0.06, "y of point %d", i)
		}
		assert.Equal(t, []string{"0", "25", "50"}, []string{c.YLabels[0].Text, c.YLabels[1].Text, c.YLabels[2].Text})
		assert.Equal(t, []string{"-10m", "-5m", "now"}, []string{c.XLabels[0].Text, c.XLabels[1].Text, c.XLabels[2].Text})
		assert.Equal(t, "20", c.Latest)
	})
}

// chartPoints parses a polyline's points attribute.
func chartPoints(t *testing.T, points string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, pair := range strings.Fields(points) {
		x, y, ok := strings.Cut(pair, ",")
		require.True(t, ok, pair)
		fx, err := strconv.ParseFloat(x, 64)
		require.NoError(t, err)
		fy, err := strconv.ParseFloat(y, 64)
		require.NoError(t, err)
		out = append(out, [2]float64{fx, fy})
	}
	return out
}

// BenchmarkStatusPage renders the page of sampleStatus with a full 10
// minutes of chart.
func BenchmarkStatusPage(b *testing.B) {
	st := sampleStatus()
	p := newStatusPages(func() agentStatus { return st })
	for i := range int(rateWindow/rateEvery) + 1 {
		p.record(st.Now.Add(time.Duration(i)*rateEvery), uint64(i*i))
	}
	for _, bb := range []struct {
		name  string
		serve http.HandlerFunc
	}{{"html", p.ServeHTML}, {"json", p.ServeJSON}} {
		b.Run(bb.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/status", nil)
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				bb.serve(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatal(rec.Code, rec.Body.String())
				}
				b.SetBytes(int64(rec.Body.Len()))
			}
		})
	}
}
