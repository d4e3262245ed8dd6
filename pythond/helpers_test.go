package pythond

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

// logRecord is one record captured by logCapture.
type capturedRecord struct {
	Level   slog.Level
	Message string
	Attrs   map[string]string
}

// logCapture is a slog.Handler that keeps every record.
type logCapture struct {
	mu      sync.Mutex
	records []capturedRecord
	attrs   []slog.Attr
	parent  *logCapture
}

func (h *logCapture) root() *logCapture {
	if h.parent != nil {
		return h.parent.root()
	}
	return h
}

func (h *logCapture) Enabled(context.Context, slog.Level) bool { return true }

func (h *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := capturedRecord{Level: r.Level, Message: r.Message, Attrs: map[string]string{}}
	for _, a := range h.attrs {
		rec.Attrs[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		rec.Attrs[a.Key] = a.Value.String()
		return true
	})
	root := h.root()
	root.mu.Lock()
	root.records = append(root.records, rec)
	root.mu.Unlock()
	return nil
}

func (h *logCapture) WithAttrs(as []slog.Attr) slog.Handler {
	return &logCapture{attrs: append(append([]slog.Attr(nil), h.attrs...), as...), parent: h}
}

func (h *logCapture) WithGroup(string) slog.Handler { return h }

// find returns the records whose message contains substr.
func (h *logCapture) find(substr string) []capturedRecord {
	root := h.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	var out []capturedRecord
	for _, r := range root.records {
		if strings.Contains(r.Message, substr) {
			out = append(out, r)
		}
	}
	return out
}

func (h *logCapture) dump() string {
	root := h.root()
	root.mu.Lock()
	defer root.mu.Unlock()
	var b strings.Builder
	for _, r := range root.records {
		fmt.Fprintf(&b, "%s %q %v\n", r.Level, r.Message, r.Attrs)
	}
	return b.String()
}

// waitLog waits until n records contain substr.
func (h *logCapture) waitLog(t *testing.T, substr string, n int, timeout time.Duration) []capturedRecord {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := h.find(substr)
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %d log records containing %q; got:\n%s", n, substr, h.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// errorLog collects CollectorErrors.
type errorLog struct {
	mu   sync.Mutex
	errs []CollectorError
}

func (l *errorLog) add(_ context.Context, e CollectorError) {
	l.mu.Lock()
	l.errs = append(l.errs, e)
	l.mu.Unlock()
}

func (l *errorLog) kind(k ErrorKind) []CollectorError {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []CollectorError
	for _, e := range l.errs {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

func (l *errorLog) wait(t *testing.T, k ErrorKind, n int, timeout time.Duration) []CollectorError {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if errs := l.kind(k); len(errs) >= n {
			return errs
		}
		if time.Now().After(deadline) {
			l.mu.Lock()
			defer l.mu.Unlock()
			t.Fatalf("timed out waiting for %d errors of kind %s; got %v", n, k, l.errs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// harness runs a Supervisor over scripts written to a temporary python.d.
type harness struct {
	t      *testing.T
	root   string
	rec    *pointtest.Recorder
	logs   *logCapture
	errs   *errorLog
	cancel context.CancelFunc
	done   chan error
	sup    *Supervisor
}

// sharedState is one state directory for the whole test binary, so the
// Python package is installed once.
var sharedState = sync.OnceValue(func() string {
	dir, err := os.MkdirTemp("", "pythond-test-state-")
	if err != nil {
		panic(err)
	}
	return dir
})

// TestMain removes the shared state directory after the tests, and fails
// the run when a goroutine outlives them: Run(ctx) must leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(sharedState())
		os.Exit(code)
	}))
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return &harness{
		t:    t,
		root: t.TempDir(),
		rec:  &pointtest.Recorder{},
		logs: &logCapture{},
		errs: &errorLog{},
	}
}

// write creates root/rel with content, making directories as needed.
func (h *harness) write(rel, content string) string {
	h.t.Helper()
	p := filepath.Join(h.root, rel)
	require.NoError(h.t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(h.t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func (h *harness) options(inputs ...Input) Options {
	for i := range inputs {
		if inputs[i].Name == "" {
			inputs[i].Name = "test"
		}
		if inputs[i].RestartMin == 0 {
			inputs[i].RestartMin = Duration(50 * time.Millisecond)
		}
		if inputs[i].RestartMax == 0 {
			inputs[i].RestartMax = Duration(400 * time.Millisecond)
		}
	}
	return Options{
		Inputs:    inputs,
		Root:      h.root,
		Sink:      h.rec,
		Logger:    slog.New(h.logs),
		OnError:   h.errs.add,
		StateDir:  sharedState(),
		StopGrace: time.Second,
	}
}

// start runs a Supervisor with opts until the test ends.
func (h *harness) start(opts Options) {
	h.t.Helper()
	s, err := New(opts)
	require.NoError(h.t, err)
	h.sup = s
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	h.done = make(chan error, 1)
	go func() { h.done <- s.Run(ctx) }()
	h.t.Cleanup(func() { h.stop() })
}

// stop cancels Run and waits for it.
func (h *harness) stop() {
	h.t.Helper()
	if h.cancel == nil {
		return
	}
	h.cancel()
	h.cancel = nil
	select {
	case err := <-h.done:
		require.NoError(h.t, err)
	case <-time.After(15 * time.Second):
		h.t.Fatal("Run did not return after cancel")
	}
}

// waitPoints waits until the recorder holds n points.
func (h *harness) waitPoints(n int, timeout time.Duration) []point.Point {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if _, err := h.rec.WaitLen(ctx, n); err != nil {
		h.t.Fatalf("waiting for %d points: got %d: %v\nlogs:\n%s", n, h.rec.Len(), err, h.logs.dump())
	}
	return h.rec.Points()
}

// strict returns o with Strict set: New refuses inputs that cannot start.
func strict(o Options) Options {
	o.Strict = true
	return o
}
