package forward

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// TestReadyReportsFullBufferUntilDeliveryDrainsIt: a backend that refuses
// everything (503) until the small buffer is full makes Ready name the
// full buffer; once the backend takes data again and delivery drains the
// buffer, Ready is nil.
func TestReadyReportsFullBufferUntilDeliveryDrainsIt(t *testing.T) {
	for _, full := range []FullPolicy{FullReject, FullBlock} {
		t.Run(full.String(), func(t *testing.T) {
			var refusing atomic.Bool
			refusing.Store(true)
			be := newLPBackend(t, func(int, http.ResponseWriter) int {
				if refusing.Load() {
					return http.StatusServiceUnavailable
				}
				return 0
			})
			f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), Name: "small",
				BufferMaxBytes: 256 << 10, BatchBytes: 64 << 10, Full: full, MaxBlock: 20 * time.Millisecond,
				MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, FlushInterval: 5 * time.Millisecond})
			require.NoError(t, err)
			runForwarder(t, f)
			require.NoError(t, f.Ready(), "an empty forwarder is ready")

			written := 0
			for {
				err := f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(written, 100)})
				if err != nil {
					require.ErrorIs(t, err, point.ErrBusy)
					require.ErrorIs(t, err, ErrFull)
					break
				}
				written += 100
				require.Less(t, written, 100_000, "the 256 KiB buffer never filled up")
			}
			st := f.Status()
			assert.True(t, st.Full)
			assert.EqualValues(t, written, st.BufferedPoints)
			assert.EqualValues(t, 100, st.Refused)
			assert.EqualValues(t, 256<<10, st.CapacityBytes)
			assert.Greater(t, st.Fill, 0.5)
			assert.Contains(t, st.LastError, "HTTP 503")
			assert.Zero(t, st.Delivered)
			rerr := f.Ready()
			t.Logf("Ready: %v", rerr)
			require.Error(t, rerr)
			assert.ErrorIs(t, rerr, ErrFull)
			assert.Contains(t, rerr.Error(), "full")
			assert.Contains(t, rerr.Error(), "forwarder small")

			refusing.Store(false)
			require.Eventually(t, func() bool { return f.Ready() == nil && f.Status().BufferedPoints == 0 }, 20*time.Second, 5*time.Millisecond,
				"Ready after recovery: %v; %+v", f.Ready(), f.Status())
			st = f.Status()
			assert.False(t, st.Full)
			assert.EqualValues(t, written, st.Delivered)
			assert.Zero(t, st.BufferedBytes)
			assert.Zero(t, st.Fill)
			assert.Zero(t, st.OldestUnsent)
			missing, dups := be.check(written)
			assert.Zero(t, missing)
			assert.Zero(t, dups)
		})
	}
}

// TestStatusDuringVictoriaOutage stops a real VictoriaMetrics: the oldest
// unsent point ages while it is down, delivery is reported stuck with the
// connection error, and once it is back everything is delivered and the
// forwarder is ready again.
func TestStatusDuringVictoriaOutage(t *testing.T) {
	vm := startVictoria(t)
	f, err := New(Options{URL: "http://user:secret@" + vm.addr + "/write?db=x&p=secret", BufferDir: t.TempDir(),
		MinBackoff: 10 * time.Millisecond, MaxConnectBackoff: 50 * time.Millisecond, FlushInterval: 10 * time.Millisecond,
		StuckAfter: 300 * time.Millisecond})
	require.NoError(t, err)
	runForwarder(t, f)
	st := f.Status()
	assert.Equal(t, vm.addr+"/write", st.Name)
	assert.Equal(t, "http://"+vm.addr+"/write?db=x&p=xxxxx", st.URL, "no credentials")
	assert.Zero(t, st.OldestUnsent)
	assert.True(t, st.LastDelivery.IsZero())

	writeAll(t, f, 0, 1000, 100)
	flush(t, f, 20*time.Second)
	st = f.Status()
	assert.EqualValues(t, 1000, st.Delivered)
	assert.False(t, st.LastDelivery.IsZero())
	delivered := st.LastDelivery

	vm.stop()
	before := time.Now()
	writeAll(t, f, 1000, 1000, 100)
	time.Sleep(100 * time.Millisecond)
	first := f.Status()
	time.Sleep(100 * time.Millisecond)
	second := f.Status()
	assert.EqualValues(t, 1000, second.BufferedPoints)
	assert.GreaterOrEqual(t, first.OldestUnsent, 100*time.Millisecond, "at least as old as the time since Write returned")
	assert.Greater(t, second.OldestUnsent, first.OldestUnsent, "the oldest unsent point ages while the backend is down")
	assert.LessOrEqual(t, second.OldestUnsent, time.Since(before), "no older than the writes")
	assert.Equal(t, delivered, second.LastDelivery, "nothing delivered during the outage")
	require.Eventually(t, func() bool { return f.Status().Stuck }, 20*time.Second, 10*time.Millisecond)
	st = f.Status()
	assert.Contains(t, st.LastError, "connection refused")
	assert.NotContains(t, st.LastError, "secret", "no credentials")
	assert.True(t, st.LastErrorTime.After(delivered))
	assert.Positive(t, st.Retried)
	assert.False(t, st.Full)
	rerr := f.Ready()
	t.Logf("Ready: %v", rerr)
	require.ErrorIs(t, rerr, ErrStuck)
	assert.Contains(t, rerr.Error(), "stuck")
	assert.Contains(t, rerr.Error(), "connection refused")
	assert.Contains(t, rerr.Error(), "1000 points waiting")
	assert.NotContains(t, rerr.Error(), "secret")

	vm.start()
	flush(t, f, time.Minute)
	st = f.Status()
	assert.EqualValues(t, 2000, st.Delivered)
	assert.Zero(t, st.BufferedPoints)
	assert.Zero(t, st.OldestUnsent)
	assert.False(t, st.Stuck)
	assert.True(t, st.LastDelivery.After(st.LastErrorTime))
	assert.NoError(t, f.Ready())
	checkExactlyOnce(t, vm.samples("fwd_v", 2000), 2000, false)
}

// TestStatusOfDataFromAnEarlierRun: data left on disk is as old as its
// segment file, and a forwarder that never runs becomes stuck with it.
func TestStatusOfDataFromAnEarlierRun(t *testing.T) {
	dir := t.TempDir()
	o := Options{URL: "http://127.0.0.1:9/write", BufferDir: dir, StuckAfter: 50 * time.Millisecond}
	f, err := New(o)
	require.NoError(t, err)
	before := time.Now()
	writeAll(t, f, 0, 500, 100)
	require.NoError(t, f.Close())
	time.Sleep(100 * time.Millisecond)

	f2, err := New(o)
	require.NoError(t, err)
	defer f2.Close()
	st := f2.Status()
	assert.EqualValues(t, 500, st.BufferedPoints)
	assert.Positive(t, st.BufferedBytes)
	assert.GreaterOrEqual(t, st.OldestUnsent, 100*time.Millisecond)
	// File times come from a coarse clock: allow it a little.
	assert.LessOrEqual(t, st.OldestUnsent, time.Since(before.Add(-50*time.Millisecond)))
	require.Eventually(t, func() bool { return f2.Status().Stuck }, 10*time.Second, 5*time.Millisecond, "never run: stuck once StuckAfter has passed since New")
	rerr := f2.Ready()
	t.Logf("Ready: %v", rerr)
	assert.ErrorIs(t, rerr, ErrStuck)
	assert.Contains(t, rerr.Error(), "last delivery never")
	require.NoError(t, f2.Close())
	assert.ErrorIs(t, f2.Ready(), ErrClosed)
}

// TestTwoForwardersInOneRegistry: two forwarders register in one pedantic
// registry, which checks every metric against its description, and the
// text exposition of the gathered families parses, each family once with
// one series per forwarder.
func TestTwoForwardersInOneRegistry(t *testing.T) {
	be := newLPBackend(t, nil)
	reg := prometheus.NewPedanticRegistry()
	var fs []*Forwarder
	for _, name := range []string{"", "second"} {
		f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), Name: name, FlushInterval: 5 * time.Millisecond})
		require.NoError(t, err)
		runForwarder(t, f)
		require.NoError(t, reg.Register(f))
		fs = append(fs, f)
	}
	writeAll(t, fs[0], 0, 300, 100)
	writeAll(t, fs[1], 300, 200, 100)
	flush(t, fs[0], 10*time.Second)
	flush(t, fs[1], 10*time.Second)

	families := testkit.GatherText(t, reg)
	assert.Len(t, families, 23)
	for name, mf := range families {
		assert.Len(t, mf.GetMetric(), 2, name)
	}
	sent := map[string]float64{}
	for _, m := range families["collectkit_forward_points_sent_total"].GetMetric() {
		sent[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
	}
	assert.Equal(t, map[string]float64{strings.TrimPrefix(be.URL, "http://") + "/write": 300, "second": 200}, sent)

	// Each forwarder's own WritePrometheus is a valid exposition too.
	var sb strings.Builder
	for _, f := range fs {
		sb.Reset()
		require.NoError(t, f.WritePrometheus(&sb))
		parser := expfmt.NewTextParser(model.UTF8Validation)
		one, err := parser.TextToMetricFamilies(strings.NewReader(sb.String()))
		require.NoError(t, err)
		assert.Len(t, one, 23)
	}

	// Two forwarders of one name cannot be told apart: registering the
	// second fails.
	dup, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), Name: "second"})
	require.NoError(t, err)
	defer dup.Close()
	var are prometheus.AlreadyRegisteredError
	assert.True(t, errors.As(reg.Register(dup), &are))
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want, name string }{
		{"http://127.0.0.1:8428/write", "http://127.0.0.1:8428/write", "127.0.0.1:8428/write"},
		{"https://u:pw@influx:8086/write?db=a&u=bob&p=pw", "https://influx:8086/write?db=a&p=xxxxx&u=bob", "influx:8086/write"},
		{"http://dk:9529/v1/write/{category}?token=tkn_1", "http://dk:9529/v1/write/{category}?token=xxxxx", "dk:9529/v1/write/{category}"},
		{"http://h/api/v2/write?org=o&bucket=b", "http://h/api/v2/write?bucket=b&org=o", "h/api/v2/write"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			assert.Equal(t, tt.want, redactURL(tt.in))
			assert.Equal(t, tt.name, defaultName(tt.in))
		})
	}
}

// TestMarksStayFewAndOrdered: many appends share a few acceptance marks,
// and a record's acceptance time is never before that of an earlier one.
func TestMarksStayFewAndOrdered(t *testing.T) {
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: t.TempDir(), Sync: SyncNever})
	require.NoError(t, err)
	defer f.Close()
	const writes = 20_000
	for i := range writes {
		require.NoError(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(i, 1)}))
	}
	b := f.buf
	b.mu.Lock()
	live := len(b.marks) - b.markHead
	b.mu.Unlock()
	assert.Positive(t, live)
	assert.Less(t, live, writes/4, "appends within a millisecond share a mark")

	var prev int64
	for i := range writes {
		var rec readRecord
		var ok bool
		_, rec, ok, _, err = b.next(nil)
		require.NoError(t, err)
		require.True(t, ok, "record %d", i)
		require.True(t, rec.timed, "record %d", i)
		require.GreaterOrEqual(t, rec.accepted, prev, "record %d", i)
		prev = rec.accepted
		require.NoError(t, b.commit(rec.end, int64(rec.points)))
	}
	b.mu.Lock()
	assert.Zero(t, len(b.marks)-b.markHead, "delivered data has no marks left")
	b.mu.Unlock()
	assert.Zero(t, f.Status().OldestUnsent)
}

// TestRetryLogHidesTheToken: the warning of a failed delivery names the
// URL without the token its query carries.
func TestRetryLogHidesTheToken(t *testing.T) {
	var logs testkit.SyncBuffer
	f, err := New(Options{
		URL:        "http://127.0.0.1:9/v1/write/{category}?token=s3cret_tkn",
		BufferDir:  t.TempDir(),
		MinBackoff: 10 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	writeAll(t, f, 0, 10, 10)
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), "delivery failed; retrying") }, 10*time.Second, 10*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, f.Close())
	assert.NotContains(t, logs.String(), "s3cret_tkn")
	assert.Contains(t, logs.String(), "token=xxxxx", "the URL is still named")
}
