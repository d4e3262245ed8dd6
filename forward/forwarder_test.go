package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

func TestForwardDeliversEveryPointOnce(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"defaults", Options{}},
		{"small batches, no gzip, 4 in flight", Options{BatchPoints: 100, DisableGzip: true, Concurrency: 4}},
		{"tiny segments, sync interval", Options{BufferMaxBytes: 1 << 20, BatchBytes: 16 << 10, SegmentBytes: 32 << 10, Sync: SyncInterval, SyncInterval: 10 * time.Millisecond}},
		{"no sync, send at once", Options{Sync: SyncNever, FlushInterval: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newLPBackend(t, nil)
			o := tt.opts
			o.URL = be.URL + "/write?db=test"
			o.BufferDir = t.TempDir()
			f, err := New(o)
			require.NoError(t, err)
			runForwarder(t, f)
			const n = 20000
			writeAll(t, f, 0, n, 700)
			flush(t, f, 20*time.Second)
			missing, dups := be.check(n)
			assert.Zero(t, missing, "missing points")
			assert.Zero(t, dups, "duplicated points")
			st := f.Stats()
			assert.EqualValues(t, n, st.PointsAccepted)
			assert.EqualValues(t, n, st.PointsSent)
			assert.Zero(t, st.BufferedPoints)
			assert.Zero(t, st.PointsDropped+st.PointsFailed+st.PointsRefused)
			assert.Positive(t, st.BytesSent)
			if o.BatchPoints == 100 {
				assert.GreaterOrEqual(t, st.Requests, int64(n/100))
			}
			be.mu.Lock()
			assert.Contains(t, be.paths[0], "/write?db=test&precision=ns")
			be.mu.Unlock()
		})
	}
}

func TestConformance(t *testing.T) {
	be := newLPBackend(t, nil)
	be.keep = true
	f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), FlushInterval: -1})
	require.NoError(t, err)
	runForwarder(t, f)
	pointtest.TestSink(t, f, func() []point.Point {
		flush(t, f, 10*time.Second)
		be.mu.Lock()
		defer be.mu.Unlock()
		return append([]point.Point(nil), be.points...)
	})
}

func TestDeliveryOutcomes(t *testing.T) {
	tests := []struct {
		name    string
		respond func(n int, w http.ResponseWriter) int
		// expectations
		sent, failed int64
		minRetries   int64
		minElapsed   time.Duration
	}{
		{name: "503 twice then accepted", respond: func(n int, _ http.ResponseWriter) int {
			if n < 2 {
				return http.StatusServiceUnavailable
			}
			return 0
		}, sent: 1000, minRetries: 2},
		{name: "429 with Retry-After is honoured", respond: func(n int, w http.ResponseWriter) int {
			if n == 0 {
				w.Header().Set("Retry-After", "1")
				return http.StatusTooManyRequests
			}
			return 0
		}, sent: 1000, minRetries: 1, minElapsed: time.Second},
		{name: "500 then accepted", respond: func(n int, _ http.ResponseWriter) int {
			if n == 0 {
				return http.StatusInternalServerError
			}
			return 0
		}, sent: 1000, minRetries: 1},
		{name: "400 is permanent", respond: func(int, http.ResponseWriter) int { return http.StatusBadRequest }, failed: 1000},
		{name: "401 is permanent", respond: func(int, http.ResponseWriter) int { return http.StatusUnauthorized }, failed: 1000},
		{name: "404 is permanent", respond: func(int, http.ResponseWriter) int { return http.StatusNotFound }, failed: 1000},
		{name: "413 splits the batch", respond: func(n int, _ http.ResponseWriter) int {
			if n == 0 {
				return http.StatusRequestEntityTooLarge
			}
			return 0
		}, sent: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newLPBackend(t, tt.respond)
			f, err := New(Options{URL: be.URL + "/api/v2/write?org=o&bucket=b", Token: "secret", BufferDir: t.TempDir(),
				BatchPoints: 1000, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
			require.NoError(t, err)
			// One Write per 100 points: a batch of 10 records, which a 413 can split.
			writeAll(t, f, 0, 1000, 100)
			start := time.Now()
			runForwarder(t, f)
			flush(t, f, 10*time.Second)
			st := f.Stats()
			assert.Equal(t, tt.sent, st.PointsSent)
			assert.Equal(t, tt.failed, st.PointsFailed)
			assert.GreaterOrEqual(t, st.Retries, tt.minRetries)
			assert.GreaterOrEqual(t, time.Since(start), tt.minElapsed)
			assert.Zero(t, st.BufferedPoints)
			missing, dups := be.check(1000)
			assert.Zero(t, dups)
			if tt.sent > 0 {
				assert.Zero(t, missing)
			}
			if tt.failed > 0 {
				assert.Zero(t, st.Retries, "a permanent error must not be retried")
				assert.EqualValues(t, 1, st.Requests)
			}
		})
	}
}

func TestTokenAndHeaders(t *testing.T) {
	got := make(chan http.Header, 1)
	be := newLPBackend(t, func(n int, w http.ResponseWriter) int { return 0 })
	be.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Clone():
		default:
		}
		be.serve(w, r)
	})
	f, err := New(Options{URL: be.URL + "/write", Token: "tok", Header: http.Header{"X-Tenant": {"7"}}, BufferDir: t.TempDir(), FlushInterval: -1})
	require.NoError(t, err)
	runForwarder(t, f)
	writeAll(t, f, 0, 10, 10)
	flush(t, f, 5*time.Second)
	h := <-got
	assert.Equal(t, "Token tok", h.Get("Authorization"))
	assert.Equal(t, "7", h.Get("X-Tenant"))
	assert.Equal(t, "gzip", h.Get("Content-Encoding"))
}

func TestBufferFull(t *testing.T) {
	small := Options{BufferMaxBytes: 256 << 10, BatchBytes: 16 << 10, SegmentBytes: 32 << 10, BatchPoints: 100}
	tests := []struct {
		name     string
		full     FullPolicy
		maxBlock time.Duration
		busy     bool // Write eventually returns a busy error
		dropped  bool
	}{
		{name: "block until MaxBlock, then busy", full: FullBlock, maxBlock: 50 * time.Millisecond, busy: true},
		{name: "reject at once", full: FullReject, busy: true},
		{name: "drop oldest", full: FullDropOldest, dropped: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := small
			o.URL = "http://127.0.0.1:9/write" // nothing listens: the backend is down
			o.BufferDir = t.TempDir()
			o.Full, o.MaxBlock = tt.full, tt.maxBlock
			f, err := New(o)
			require.NoError(t, err)
			defer f.Close()
			var busyErr error
			for i := 0; i < 10000 && busyErr == nil; i += 100 {
				start := time.Now()
				err := f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(i, 100)})
				if err != nil {
					require.ErrorIs(t, err, point.ErrBusy)
					busyErr = err
					if tt.full == FullBlock {
						assert.GreaterOrEqual(t, time.Since(start), tt.maxBlock)
					}
				}
			}
			st := f.Stats()
			assert.LessOrEqual(t, st.BufferedBytes, o.BufferMaxBytes)
			if tt.busy {
				require.Error(t, busyErr)
				ra, ok := point.RetryAfter(busyErr)
				assert.True(t, ok)
				assert.Positive(t, ra)
				assert.Positive(t, st.PointsRefused)
			} else {
				assert.NoError(t, busyErr)
			}
			if tt.dropped {
				assert.Positive(t, st.PointsDropped)
				assert.Equal(t, st.PointsAccepted-st.PointsDropped, st.BufferedPoints)
			} else {
				assert.Zero(t, st.PointsDropped)
				assert.Equal(t, st.PointsAccepted, st.BufferedPoints)
			}
		})
	}
}

func TestBlockedWriteHonoursContext(t *testing.T) {
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: t.TempDir(), BufferMaxBytes: 64 << 10, BatchBytes: 16 << 10, MaxBlock: -1})
	require.NoError(t, err)
	defer f.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var werr error
	for i := 0; werr == nil && i < 100000; i += 100 {
		werr = f.Write(ctx, point.Batch{Category: point.Metric, Points: testPoints(i, 100)})
	}
	require.ErrorIs(t, werr, point.ErrBusy)
	assert.ErrorIs(t, werr, context.DeadlineExceeded)
}

func TestRestartReplaysBuffer(t *testing.T) {
	dir := t.TempDir()
	// First run: the backend is down; everything stays on disk.
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir, MinBackoff: 10 * time.Millisecond, ShutdownTimeout: 50 * time.Millisecond})
	require.NoError(t, err)
	stop := runForwarder(t, f)
	writeAll(t, f, 0, 5000, 500)
	stop()
	assert.EqualValues(t, 5000, f.Stats().BufferedPoints)
	assert.ErrorIs(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(0, 1)}), ErrClosed)

	// Second run: a new forwarder on the same directory delivers it all.
	be := newLPBackend(t, nil)
	f2, err := New(Options{URL: be.URL + "/write", BufferDir: dir})
	require.NoError(t, err)
	assert.EqualValues(t, 5000, f2.Stats().BufferedPoints)
	runForwarder(t, f2)
	writeAll(t, f2, 5000, 1000, 500)
	flush(t, f2, 10*time.Second)
	missing, dups := be.check(6000)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
}

func TestRestartAfterPartialDelivery(t *testing.T) {
	dir := t.TempDir()
	be := newLPBackend(t, nil)
	o := Options{URL: be.URL + "/write", BufferDir: dir, BatchPoints: 100, BufferMaxBytes: 1 << 20, BatchBytes: 16 << 10, SegmentBytes: 64 << 10}
	f, err := New(o)
	require.NoError(t, err)
	stop := runForwarder(t, f)
	writeAll(t, f, 0, 3000, 100)
	flush(t, f, 10*time.Second)
	stop()
	// Data written while no Run is active waits on disk.
	f2, err := New(o)
	require.NoError(t, err)
	writeAll(t, f2, 3000, 3000, 100)
	require.NoError(t, f2.Close())
	f3, err := New(o)
	require.NoError(t, err)
	assert.EqualValues(t, 3000, f3.Stats().BufferedPoints)
	runForwarder(t, f3)
	flush(t, f3, 10*time.Second)
	missing, dups := be.check(6000)
	assert.Zero(t, missing)
	assert.Zero(t, dups, "delivered data must not be replayed")
}

func TestTornTailIsCutOff(t *testing.T) {
	dir := t.TempDir()
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir})
	require.NoError(t, err)
	writeAll(t, f, 0, 300, 100)
	require.NoError(t, f.Close())
	// A crash in the middle of a write leaves half a record behind.
	segs, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	require.NoError(t, err)
	last := segs[len(segs)-1]
	fh, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = fh.Write(appendRecord(nil, point.Metric, 1, "", []byte("fwd,id=999 v=1i\n"))[:20])
	require.NoError(t, err)
	require.NoError(t, fh.Close())

	be := newLPBackend(t, nil)
	f2, err := New(Options{URL: be.URL + "/write", BufferDir: dir})
	require.NoError(t, err)
	runForwarder(t, f2)
	flush(t, f2, 10*time.Second)
	missing, dups := be.check(300)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
	assert.Equal(t, 300, be.count())
}

func TestDamagedRecordIsSkippedAndCounted(t *testing.T) {
	// Three records of 100 points in one segment; each case damages one
	// byte of it. recStart(data, k) is the offset of record k.
	recStart := func(data []byte, k int) int {
		off := 0
		for range k {
			off += recHeaderSize + int(binary.LittleEndian.Uint32(data[off:]))
		}
		return off
	}
	tests := []struct {
		name    string
		damage  func(data []byte) // flips a bit
		lostIDs [2]int            // ids [from, to) that are lost
	}{
		{"body of the first record", func(d []byte) { d[recHeaderSize+5] ^= 0xff }, [2]int{0, 100}},
		{"length of the first record", func(d []byte) { d[3] ^= 0x01 }, [2]int{0, 100}},
		{"low length bit of the first record", func(d []byte) { d[0] ^= 0x01 }, [2]int{0, 100}},
		{"point count of the middle record", func(d []byte) { d[recStart(d, 1)+5] ^= 0x04 }, [2]int{100, 200}},
		{"length of the last record", func(d []byte) { d[recStart(d, 2)+1] ^= 0x80 }, [2]int{200, 300}},
		{"body checksum of the last record", func(d []byte) { d[recStart(d, 2)+12] ^= 0x10 }, [2]int{200, 300}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir})
			require.NoError(t, err)
			writeAll(t, f, 0, 300, 100)
			require.NoError(t, f.Close())
			path := filepath.Join(dir, segName(1))
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.Equal(t, len(data), recStart(data, 3), "three records")
			tt.damage(data)
			require.NoError(t, os.WriteFile(path, data, 0o644))

			be := newLPBackend(t, nil)
			f2, err := New(Options{URL: be.URL + "/write", BufferDir: dir})
			require.NoError(t, err)
			runForwarder(t, f2)
			flush(t, f2, 10*time.Second)
			st := f2.Stats()
			assert.EqualValues(t, 100, st.PointsDropped, "the damaged record is counted as dropped")
			assert.EqualValues(t, 200, st.PointsSent, "the intact records are delivered")
			assert.Zero(t, st.BufferedPoints)
			be.mu.Lock()
			defer be.mu.Unlock()
			for id := range 300 {
				lost := id >= tt.lostIDs[0] && id < tt.lostIDs[1]
				if lost {
					assert.Zero(t, be.seen[id], "id %d", id)
				} else {
					assert.Equal(t, 1, be.seen[id], "id %d", id)
				}
			}
		})
	}
}

func TestBufferDirIsExclusive(t *testing.T) {
	dir := t.TempDir()
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir})
	require.NoError(t, err)
	defer f.Close()
	_, err = New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "in use")
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{BufferDir: "x"}, "Options.URL is required"},
		{"bad scheme", Options{URL: "ftp://h/write", BufferDir: "x"}, "http:// or https://"},
		{"no buffer dir", Options{URL: "http://h/write"}, "Options.BufferDir is required"},
		{"negative batch", Options{URL: "http://h/write", BufferDir: "x", BatchPoints: -1}, "Options.BatchPoints is negative"},
		{"buffer too small", Options{URL: "http://h/write", BufferDir: "x", BufferMaxBytes: 1 << 20}, "at least 4 times BatchBytes"},
		{"backoff inverted", Options{URL: "http://h/write", BufferDir: "x", MinBackoff: time.Minute, MaxBackoff: time.Second}, "MinBackoff"},
		{"bad sync policy", Options{URL: "http://h/write", BufferDir: "x", Sync: 9}, "Options.Sync"},
		{"segment above buffer", Options{URL: "http://h/write", BufferDir: "x", BufferMaxBytes: 8 << 20, SegmentBytes: 9 << 20}, "SegmentBytes (9437184) is above BufferMaxBytes (8388608)"},
		{"unknown precision", Options{URL: "http://h/write?precision=fortnight", BufferDir: "x"}, `unknown precision "fortnight"`},
		{"auto precision", Options{URL: "http://h/write?precision=auto", BufferDir: "x"}, `unknown precision "auto"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.opts.Validate()
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			_, err = New(tt.opts)
			assert.Error(t, err)
		})
	}
	assert.NoError(t, (&Options{URL: "http://h/write", BufferDir: "x"}).Validate())
}

func TestWriteRejectsUnencodablePoint(t *testing.T) {
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: t.TempDir()})
	require.NoError(t, err)
	defer f.Close()
	pts := testPoints(0, 3)
	pts[1].Fields = nil
	err = f.Write(context.Background(), point.Batch{Category: point.Metric, Points: pts})
	require.Error(t, err)
	assert.False(t, errors.Is(err, point.ErrBusy))
	assert.Contains(t, err.Error(), "point 1")
	assert.Zero(t, f.Stats().BufferedPoints, "nothing of a refused batch is kept")
}

func TestPrometheusExposition(t *testing.T) {
	var sb strings.Builder
	require.NoError(t, Stats{PointsAccepted: 7, BufferedBytes: 42}.WritePrometheus(&sb))
	out := sb.String()
	assert.Contains(t, out, "# TYPE collectkit_forward_points_accepted_total counter\ncollectkit_forward_points_accepted_total 7\n")
	assert.Contains(t, out, "# TYPE collectkit_forward_buffered_bytes gauge\ncollectkit_forward_buffered_bytes 42\n")
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"3", 3 * time.Second}, {"-1", 0}, {"soon", 0},
		{now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{now.Add(-10 * time.Second).Format(http.TimeFormat), 0},
		{now.Add(time.Hour).Format(http.TimeFormat), 5 * time.Minute},
		{"300", 5 * time.Minute},
		{"301", 5 * time.Minute},
		// 18446744074 s is just over 2^64 ns: multiplying it wraps around.
		{"18446744074", 5 * time.Minute},
		{"18446744073", 5 * time.Minute},
		{"99999999999999999999999", 5 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) { assert.Equal(t, tt.want, parseRetryAfter(tt.in, now, 5*time.Minute)) })
	}
}

func TestConcurrentWriters(t *testing.T) {
	be := newLPBackend(t, nil)
	f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), BatchPoints: 1000, Concurrency: 3})
	require.NoError(t, err)
	runForwarder(t, f)
	const writers, per = 8, 5000
	g := newGroup(writers)
	for w := range writers {
		g.Go(func() error {
			for i := w * per; i < (w+1)*per; i += 250 {
				if err := f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(i, 250)}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())
	flush(t, f, 20*time.Second)
	missing, dups := be.check(writers * per)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
}

func TestShutdownIsBoundedWhileBackendIsDown(t *testing.T) {
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: t.TempDir(), ShutdownTimeout: 200 * time.Millisecond, MinBackoff: 10 * time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	writeAll(t, f, 0, 1000, 100)
	fctx, fcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer fcancel()
	assert.ErrorIs(t, f.Flush(fctx), context.DeadlineExceeded, "Flush gives up when its context ends")
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
		assert.Less(t, time.Since(start), 2*time.Second)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return within its shutdown timeout")
	}
	assert.EqualValues(t, 1000, f.Stats().BufferedPoints, "undelivered points stay in the buffer")
}

func TestPrometheusExpositionParses(t *testing.T) {
	be := newLPBackend(t, nil)
	f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir()})
	require.NoError(t, err)
	runForwarder(t, f)
	writeAll(t, f, 0, 500, 100)
	flush(t, f, 10*time.Second)
	var sb strings.Builder
	require.NoError(t, f.WritePrometheus(&sb))
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(sb.String()))
	require.NoError(t, err)
	assert.Len(t, families, 23)
	sent := families["collectkit_forward_points_sent_total"].GetMetric()[0]
	assert.Equal(t, 500.0, sent.GetCounter().GetValue())
	require.Len(t, sent.GetLabel(), 1)
	assert.Equal(t, "forwarder", sent.GetLabel()[0].GetName())
	assert.Equal(t, strings.TrimPrefix(be.URL, "http://")+"/write", sent.GetLabel()[0].GetValue(), "the default name is the URL's host and path")
	requests := families["collectkit_forward_requests_total"].GetMetric()[0].GetCounter().GetValue()
	assert.Positive(t, requests)
	assert.EqualValues(t, requests, families["collectkit_forward_delivery_latency_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(), "one latency per accepted request")
	assert.EqualValues(t, requests, families["collectkit_forward_request_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount())
	assert.Equal(t, 0.0, families["collectkit_forward_buffered_points"].GetMetric()[0].GetGauge().GetValue())
}

func TestURLPrecisionIsUsedForTimestamps(t *testing.T) {
	tests := []struct {
		name, precision string
		unit            time.Duration
	}{
		{"none means ns", "", time.Nanosecond},
		{"n", "n", time.Nanosecond},
		{"us", "us", time.Microsecond},
		{"u", "u", time.Microsecond},
		{"ms", "ms", time.Millisecond},
		{"s truncates", "s", time.Second},
		{"m truncates", "m", time.Minute},
		{"h truncates", "h", time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newLPBackend(t, nil)
			be.keep = true
			url := be.URL + "/write?db=x"
			if tt.precision != "" {
				url += "&precision=" + tt.precision
			}
			f, err := New(Options{URL: url, BufferDir: t.TempDir(), FlushInterval: -1})
			require.NoError(t, err)
			runForwarder(t, f)
			pts := testPoints(0, 50)
			pts[0].Time = time.Unix(1700000000, 123456789) // sub-millisecond digits
			require.NoError(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: pts}))
			flush(t, f, 10*time.Second)
			st := f.Stats()
			require.EqualValues(t, 50, st.PointsSent, "the backend decodes the body in the URL's precision; stats %+v", st)
			be.mu.Lock()
			defer be.mu.Unlock()
			want := tt.precision
			if want == "" {
				want = "ns"
			}
			assert.Contains(t, be.paths[0], "precision="+want)
			require.Len(t, be.points, 50)
			for i, p := range be.points {
				assert.True(t, p.Time.Equal(pts[i].Time.Truncate(tt.unit)), "point %d: got %v, want %v", i, p.Time, pts[i].Time.Truncate(tt.unit))
			}
		})
	}
}

func TestRedirectIsAPermanentError(t *testing.T) {
	tests := []struct {
		name   string
		status int
		client *http.Client
	}{
		{"301", http.StatusMovedPermanently, nil},
		{"302", http.StatusFound, nil},
		{"303", http.StatusSeeOther, nil},
		{"307", http.StatusTemporaryRedirect, nil},
		{"308", http.StatusPermanentRedirect, nil},
		{"301 with a Client that follows redirects", http.StatusMovedPermanently, &http.Client{Timeout: 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := newLPBackend(t, nil)
			var mu sync.Mutex
			var methods []string
			proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				methods = append(methods, r.Method)
				mu.Unlock()
				http.Redirect(w, r, be.URL+r.URL.RequestURI(), tt.status)
			}))
			defer proxy.Close()
			var logs logBuffer
			f, err := New(Options{URL: proxy.URL + "/write", BufferDir: t.TempDir(), FlushInterval: -1, Client: tt.client, Logger: logs.logger()})
			require.NoError(t, err)
			runForwarder(t, f)
			writeAll(t, f, 0, 100, 100)
			flush(t, f, 10*time.Second)
			st := f.Stats()
			assert.Zero(t, st.PointsSent, "a redirect is not a delivery")
			assert.EqualValues(t, 100, st.PointsFailed)
			assert.Zero(t, st.Retries)
			assert.Zero(t, st.BufferedPoints)
			assert.Zero(t, be.count(), "the backend behind the redirect got no points")
			mu.Lock()
			assert.Equal(t, []string{http.MethodPost}, methods)
			mu.Unlock()
			assert.Contains(t, logs.String(), `location="`+be.URL+"/write")
		})
	}
}

func TestAFailingBatchBoundsHowFarDeliveryRunsAhead(t *testing.T) {
	be := newLPBackend(t, nil)
	var poisoned atomic.Bool
	poisoned.Store(true)
	var accepted atomic.Int64
	be.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		zr, err := gzip.NewReader(r.Body)
		require.NoError(t, err)
		data, err := io.ReadAll(zr)
		require.NoError(t, err)
		if poisoned.Load() && bytes.Contains(data, []byte("id=0,")) {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		accepted.Add(1)
		r.Body = io.NopCloser(bytes.NewReader(data))
		r.Header.Del("Content-Encoding")
		be.serve(w, r)
	})
	const conc = 2
	f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), BatchPoints: 1000, FlushInterval: -1,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, Sync: SyncNever, Concurrency: conc})
	require.NoError(t, err)
	runForwarder(t, f)
	const batches = 40
	writeAll(t, f, 0, batches*1000, 1000)
	// The first batch fails for as long as it is poisoned; the one other
	// worker finishes the batches after it until the window is full.
	window := int64(f.maxAhead())
	require.Eventually(t, func() bool { return accepted.Load() >= window-1 }, 10*time.Second, 5*time.Millisecond)
	time.Sleep(100 * time.Millisecond) // give a reader that does not stop time to run further
	assert.Equal(t, window-1, accepted.Load(), "batches delivered past the failing one")
	f.trackMu.Lock()
	ahead := len(f.doneAhead)
	f.trackMu.Unlock()
	assert.LessOrEqual(t, int64(ahead), window)
	assert.EqualValues(t, batches*1000, f.Stats().BufferedPoints, "nothing is committed past the failing batch")

	poisoned.Store(false)
	flush(t, f, 10*time.Second)
	missing, dups := be.check(batches * 1000)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
	f.trackMu.Lock()
	assert.Empty(t, f.doneAhead)
	f.trackMu.Unlock()
}

func TestATransientReadErrorIsRetried(t *testing.T) {
	be := newLPBackend(t, nil)
	dir := t.TempDir()
	f, err := New(Options{URL: be.URL + "/write", BufferDir: dir, FlushInterval: -1, Sync: SyncNever,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	require.NoError(t, err)
	writeAll(t, f, 0, 1000, 100) // accepted before Run: waits on disk
	// Make the segment impossible to open for a while, as EMFILE would.
	segs, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	require.NoError(t, err)
	require.Len(t, segs, 1)
	require.NoError(t, os.Rename(segs[0], segs[0]+".away"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	require.Eventually(t, func() bool { return f.Stats().ReadErrors >= 2 }, 5*time.Second, time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("Run returned on a read error: %v", err)
	default:
	}
	require.NoError(t, os.Rename(segs[0]+".away", segs[0]))
	flush(t, f, 10*time.Second)
	writeAll(t, f, 1000, 100, 100)
	flush(t, f, 10*time.Second)
	missing, dups := be.check(1100)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func TestDeliveredDataDoesNotFillTheBuffer(t *testing.T) {
	t.Run("small buffer, steady writes", func(t *testing.T) {
		// 1 MiB buffer in one 1 MiB segment: delivered data stays in the
		// active segment until it is sealed.
		be := newLPBackend(t, nil)
		f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), BufferMaxBytes: 1 << 20, BatchBytes: 256 << 10,
			MaxBlock: 5 * time.Second, FlushInterval: 5 * time.Millisecond, Sync: SyncNever})
		require.NoError(t, err)
		runForwarder(t, f)
		const writes, per = 100, 500 // about three times the buffer
		for i := range writes {
			err := f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(i*per, per)})
			require.NoError(t, err, "write %d; stats %+v", i, f.Stats())
		}
		flush(t, f, 10*time.Second)
		missing, dups := be.check(writes * per)
		assert.Zero(t, missing)
		assert.Zero(t, dups)
		assert.LessOrEqual(t, f.Stats().BufferedBytes, int64(1<<20))
	})
	t.Run("big write after delivery", func(t *testing.T) {
		be := newLPBackend(t, nil)
		// FullReject: a buffer holding nothing undelivered must take the
		// write at once.
		f, err := New(Options{URL: be.URL + "/write", BufferDir: t.TempDir(), BufferMaxBytes: 4 << 20, FlushInterval: time.Millisecond, Full: FullReject})
		require.NoError(t, err)
		runForwarder(t, f)
		writeAll(t, f, 0, 10000, 1000) // ~600 KB, all in the active segment
		flush(t, f, 10*time.Second)
		big := testPoints(10000, 60000) // ~3.6 MB
		require.NoError(t, f.Write(context.Background(), point.Batch{Category: point.Metric, Points: big}), "stats %+v", f.Stats())
		flush(t, f, 20*time.Second)
		missing, dups := be.check(70000)
		assert.Zero(t, missing)
		assert.Zero(t, dups)
	})
}

func TestFailedRotationLeavesTheBufferUsable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "buf")
	o := Options{URL: "http://127.0.0.1:9/write", BufferDir: dir, SegmentBytes: 64 << 10, BufferMaxBytes: 64 << 20, BatchBytes: 64 << 10, Sync: SyncNever}
	f, err := New(o)
	require.NoError(t, err)
	defer f.Close()
	writeAll(t, f, 0, 1000, 100) // ~60 KB: the next 60 KB needs a new segment
	// While the directory is unreachable, the new segment cannot be made.
	require.NoError(t, os.Rename(dir, dir+".away"))
	err = f.Write(context.Background(), point.Batch{Category: point.Metric, Points: testPoints(1000, 1000)})
	require.NoError(t, os.Rename(dir+".away", dir))
	require.Error(t, err)
	assert.ErrorIs(t, err, point.ErrBusy, "a transient I/O failure is busy: the client retries")
	_, ok := point.RetryAfter(err)
	assert.True(t, ok)
	// Once it is back, writes succeed again.
	writeAll(t, f, 1000, 3000, 1000)
	st := f.Stats()
	assert.EqualValues(t, 4000, st.BufferedPoints)
	assert.EqualValues(t, 1000, st.PointsRefused)
	require.NoError(t, f.Close())

	be := newLPBackend(t, nil)
	o.URL = be.URL + "/write"
	f2, err := New(o)
	require.NoError(t, err)
	assert.EqualValues(t, 4000, f2.Stats().BufferedPoints)
	runForwarder(t, f2)
	flush(t, f2, 10*time.Second)
	missing, dups := be.check(4000)
	assert.Zero(t, missing)
	assert.Zero(t, dups)
}

func TestRemovedSegmentsDoNotConfuseTheCursor(t *testing.T) {
	be := newLPBackend(t, nil)
	dir := t.TempDir()
	for run := range 2 { // deliver something: the cursor then names segment 2
		f, err := New(Options{URL: be.URL + "/write", BufferDir: dir, FlushInterval: time.Millisecond})
		require.NoError(t, err)
		stop := runForwarder(t, f)
		writeAll(t, f, run*100, 100, 100)
		flush(t, f, 5*time.Second)
		stop()
	}
	segs, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	require.NoError(t, err)
	for _, s := range segs {
		require.NoError(t, os.Remove(s)) // an operator clears the backlog
	}
	f, err := New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir})
	require.NoError(t, err)
	writeAll(t, f, 1000, 500, 100)
	require.NoError(t, f.Close())
	f, err = New(Options{URL: "http://127.0.0.1:9/write", BufferDir: dir})
	require.NoError(t, err)
	assert.EqualValues(t, 500, f.Stats().BufferedPoints, "what was written after the clean-up is still there")
	require.NoError(t, f.Close())
}
