package httpapi_test

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
)

// recordCapture is a slog.Handler that keeps the records at or above a
// level, with their attributes flattened to "group.key" → value.
type recordCapture struct {
	level slog.Level
	mu    sync.Mutex
	recs  []capturedRecord
}

type capturedRecord struct {
	level slog.Level
	msg   string
	attrs map[string]any
}

func (c *recordCapture) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }
func (c *recordCapture) WithAttrs([]slog.Attr) slog.Handler           { return c }
func (c *recordCapture) WithGroup(string) slog.Handler                { return c }

func (c *recordCapture) Handle(_ context.Context, r slog.Record) error {
	rec := capturedRecord{level: r.Level, msg: r.Message, attrs: map[string]any{}}
	var add func(prefix string, a slog.Attr)
	add = func(prefix string, a slog.Attr) {
		v := a.Value.Resolve()
		if v.Kind() == slog.KindGroup {
			for _, g := range v.Group() {
				add(prefix+a.Key+".", g)
			}
			return
		}
		rec.attrs[prefix+a.Key] = v.Any()
	}
	r.Attrs(func(a slog.Attr) bool { add("", a); return true })
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
	return nil
}

func (c *recordCapture) Records() []capturedRecord {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]capturedRecord(nil), c.recs...)
}

// fakeClock is an Options.Now a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRejectedWritesLoggedAtWarn(t *testing.T) {
	logs := &recordCapture{level: slog.LevelInfo}
	clock := &fakeClock{t: fixedNow}
	s := &sink{}
	h := newHandler(t, s, httpapi.Options{Logger: slog.New(logs), Now: clock.Now})
	bad := []byte("cpu v=1 1\ncpu v= 2\ncpu v=3 3\n")
	post := func(target string, body []byte, want int) {
		t.Helper()
		w := serve(h, request(http.MethodPost, target, body))
		require.Equal(t, want, w.Code, w.Body.String())
	}

	// The first rejection is logged at once, with its line.
	post("/v1/write/metric", bad, 400)
	recs := logs.Records()
	require.Len(t, recs, 1)
	assert.Equal(t, slog.LevelWarn, recs[0].level)
	assert.Equal(t, "write rejected", recs[0].msg)
	assert.Equal(t, "datakit_write", recs[0].attrs["route"])
	assert.Equal(t, int64(400), recs[0].attrs["status"])
	assert.Equal(t, httpapi.CodeInvalidLinePoint, recs[0].attrs["code"])
	assert.Equal(t, int64(3), recs[0].attrs["points"])
	assert.Contains(t, recs[0].attrs["error"], "line 2")

	// Within the interval: counted, not logged; accepted writes are not
	// counted.
	clock.Add(10 * time.Second)
	post("/v1/write/metric", bad, 400)
	post("/v1/write/metric?strict=1", []byte("cpu v=1,s=\"x\" 1\ncpu v=2 2\n"), 400)
	post("/v1/write/metric", []byte("cpu v=1 1\n"), 200)
	post("/write", []byte("cpu v=1 1\n"), 400) // InfluxDB without db
	assert.Len(t, logs.Records(), 1)

	// The next rejection after the interval brings the summary, itself
	// included.
	clock.Add(55 * time.Second)
	post("/v1/write/object?strict=1", []byte("redis f=1i 1\n"), 400)
	recs = logs.Records()
	require.Len(t, recs, 2)
	sum := recs[1]
	assert.Equal(t, slog.LevelWarn, sum.level)
	assert.Equal(t, "writes rejected", sum.msg)
	assert.Equal(t, int64(4), sum.attrs["requests"])
	assert.Equal(t, int64(3+2+0+1), sum.attrs["points"])
	assert.Equal(t, 65*time.Second, sum.attrs["since"])
	assert.Equal(t, []string{
		"datakit_write 400 datakit.invalidLinePoint: 1 requests, 3 points",
		"datakit_write 400 datakit.pointGotWarning: 2 requests, 3 points",
		"influxdb_v1 400 datakit.badRequest: 1 requests, 0 points",
	}, sum.attrs["by"])
	assert.Equal(t, "datakit_write", sum.attrs["last.route"])
	assert.Equal(t, httpapi.CodePointGotWarning, sum.attrs["last.code"])
	assert.Contains(t, sum.attrs["last.error"], `object point has no name`)
	assert.Contains(t, sum.attrs["last.error"], `(line 1)`)

	// Quiet for an interval: the next one is logged at once again.
	clock.Add(2 * time.Minute)
	post("/v1/write/metric", bad, 400)
	recs = logs.Records()
	require.Len(t, recs, 3)
	assert.Equal(t, "write rejected", recs[2].msg)
	assert.Len(t, s.Points(), 1, "the one accepted write")
}

// TestRejectedWritesSummaryTimer checks that rejections at the end of a
// burst are summarized when the interval ends even if no other request
// comes.
func TestRejectedWritesSummaryTimer(t *testing.T) {
	logs := &recordCapture{level: slog.LevelInfo}
	clock := &fakeClock{t: fixedNow}
	h := newHandler(t, &sink{}, httpapi.Options{Logger: slog.New(logs), Now: clock.Now, RejectLogInterval: 20 * time.Millisecond})
	for range 3 {
		w := serve(h, request(http.MethodPost, "/v1/write/nope", []byte("x v=1 1\n")))
		require.Equal(t, http.StatusBadRequest, w.Code)
	}
	require.Len(t, logs.Records(), 1)
	// The timer fires on the real clock; the summary waits until the
	// handler's clock says the interval is over.
	clock.Add(time.Second)
	require.Eventually(t, func() bool { return len(logs.Records()) == 2 }, 10*time.Second, 5*time.Millisecond)
	sum := logs.Records()[1]
	assert.Equal(t, "writes rejected", sum.msg)
	assert.Equal(t, int64(2), sum.attrs["requests"])
	assert.Equal(t, []string{"datakit_write 400 datakit.invalidCategory: 2 requests, 0 points"}, sum.attrs["by"])
}

func TestRejectedWritesLogOff(t *testing.T) {
	logs := &recordCapture{level: slog.LevelDebug}
	h := newHandler(t, &sink{}, httpapi.Options{Logger: slog.New(logs), RejectLogInterval: -1})
	w := serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v= 1\n")))
	require.Equal(t, http.StatusBadRequest, w.Code)
	recs := logs.Records()
	require.Len(t, recs, 1)
	assert.Equal(t, slog.LevelDebug, recs[0].level, "only the per-request Debug record")
	assert.Equal(t, "request rejected", recs[0].msg)
}
