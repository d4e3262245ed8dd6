package constraint_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
	"github.com/collectkit/collectkit/protocol"
	"github.com/collectkit/collectkit/pythond"
)

// pathsBatch is a logging batch every path receives alike: point 0 has a
// dotted tag key and no status, point 1 a key that is both a tag and a
// field, point 2 a dotted field key and no status.
var pathsBatch = []map[string]any{
	{"measurement": "web", "tags": map[string]string{"http.method": "GET"}, "fields": map[string]any{"message": "ok", "n": 1}},
	{"measurement": "web", "tags": map[string]string{"a": "x"}, "fields": map[string]any{"a": 1, "b": 2, "status": "warn"}},
	{"measurement": "web", "fields": map[string]any{"bad.key": "v"}},
}

// pathOutcome is what one ingest path made of pathsBatch.
type pathOutcome struct {
	warns    []point.Warning // as OnWarnings saw them
	rejected []string        // the "first" of the constraint logger's rejection records
	code     string          // the DataKit error code answered; "" for success
	message  string          // the error message answered
	written  int             // points that reached the sink
}

// outcomeLog collects what the constraint options report on one path.
type outcomeLog struct {
	mu       sync.Mutex
	warns    []point.Warning
	rejected []string
	lines    []string // other records' messages (pythond: the script's prints)
}

func (l *outcomeLog) onWarnings(_ context.Context, _ point.Batch, ws []point.Warning) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.warns = append(l.warns, ws...)
}

func (l *outcomeLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *outcomeLog) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *outcomeLog) WithGroup(string) slog.Handler            { return l }
func (l *outcomeLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Message != "constraint: points rejected" {
		l.lines = append(l.lines, r.Message)
		return nil
	}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "first" {
			l.rejected = append(l.rejected, a.Value.String())
		}
		return true
	})
	return nil
}

func (l *outcomeLog) line(prefix string) (string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.lines {
		if rest, ok := strings.CutPrefix(s, prefix); ok {
			return rest, true
		}
	}
	return "", false
}

func (l *outcomeLog) options(actions map[constraint.Rule]constraint.Action) constraint.Options {
	return constraint.Options{Actions: actions, OnWarnings: l.onWarnings, Logger: slog.New(l)}
}

// TestSameOnEveryPath sends pathsBatch through httpapi's write route, a
// real python3 collector's report() and the Sink middleware, with every
// rule fixed and then with key conflicts rejected, and checks that the
// three report the same warnings, the same rejections and the same codes.
func TestSameOnEveryPath(t *testing.T) {
	python := testkit.Python(t)
	body, err := json.Marshal(pathsBatch)
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		actions map[constraint.Rule]constraint.Action
		code    string
		written int
	}{
		{name: "fixed", written: 3},
		{name: "rejected", actions: map[constraint.Rule]constraint.Action{constraint.RuleKeyConflict: constraint.Reject}, code: httpapi.CodePointRejected},
	} {
		t.Run(tc.name, func(t *testing.T) {
			outcomes := map[string]pathOutcome{
				"middleware": viaMiddleware(t, body, tc.actions),
				"httpapi":    viaHTTP(t, body, tc.actions),
				"pythond":    viaPython(t, python, body, tc.actions),
			}
			want := outcomes["middleware"]
			for name, o := range outcomes {
				t.Logf("%s: %d warnings, rejected %q, code %q, message %q, written %d", name, len(o.warns), o.rejected, o.code, o.message, o.written)
			}
			require.NotEmpty(t, want.warns)
			assert.Equal(t, tc.written, want.written)
			if tc.code != "" {
				require.Len(t, want.rejected, 1)
				assert.Contains(t, want.rejected[0], "point 1: rule key_conflict")
			}
			for name, got := range outcomes {
				assert.Equal(t, want.warns, got.warns, "%s: warnings", name)
				assert.Equal(t, want.rejected, got.rejected, "%s: rejections", name)
				assert.Equal(t, tc.written, got.written, "%s: points written", name)
				if name == "middleware" {
					continue
				}
				assert.Equal(t, tc.code, got.code, "%s: error code", name)
				if tc.code != "" {
					assert.Contains(t, got.message, `key_conflict: key "a": key is both a tag and a field`, name)
				}
			}
		})
	}
}

// viaMiddleware decodes body and writes it to the Sink middleware.
func viaMiddleware(t *testing.T, body []byte, actions map[constraint.Rule]constraint.Action) pathOutcome {
	var l outcomeLog
	var rec pointtest.Recorder
	var d protocol.Decoder
	pts, _, err := d.DecodeJSON(body, protocol.Options{})
	require.NoError(t, err)
	err = constraint.New(l.options(actions)).Sink(&rec).Write(context.Background(), point.Batch{Category: point.Logging, Input: "paths", Points: pts})
	out := pathOutcome{warns: l.warns, rejected: l.rejected, written: rec.Len()}
	if err != nil {
		require.ErrorIs(t, err, constraint.ErrRejected)
		out.code, out.message = httpapi.CodePointRejected, err.Error()
	}
	return out
}

// viaHTTP posts body to /v1/write/logging.
func viaHTTP(t *testing.T, body []byte, actions map[constraint.Rule]constraint.Action) pathOutcome {
	var l outcomeLog
	var rec pointtest.Recorder
	h, err := httpapi.New(httpapi.Options{Sink: &rec, Constraint: l.options(actions)})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, "/v1/write/logging?input=paths", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.RemoteAddr = "127.0.0.1:4321"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	out := pathOutcome{warns: l.warns, rejected: l.rejected, written: rec.Len()}
	if w.Code != http.StatusOK {
		var e struct {
			Code    string `json:"error_code"`
			Message string `json:"message"`
		}
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), w.Body.String())
		out.code, out.message = e.Code, e.Message
	}
	return out
}

// viaPython runs a collector that reports body's points as logging once
// and prints report()'s answer.
func viaPython(t *testing.T, python string, body []byte, actions map[constraint.Rule]constraint.Action) pathOutcome {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "paths"), 0o755))
	script := `import json
from datakit_framework import DataKitFramework

POINTS = json.loads('''` + string(body) + `''')


class Paths(DataKitFramework):
    name = 'paths'
    interval = 3600

    def run(self):
        answer = self.report({'L': POINTS})
        print("answer=" + (answer or "{}"), flush=True)
`
	require.NoError(t, os.WriteFile(filepath.Join(root, "paths", "paths.py"), []byte(script), 0o644))
	var l outcomeLog
	var rec pointtest.Recorder
	s, err := pythond.New(pythond.Options{
		Inputs:     []pythond.Input{{Name: "paths", Cmd: python, Dirs: []string{"paths"}}},
		Root:       root,
		StateDir:   filepath.Join(root, ".state"),
		Sink:       &rec,
		Constraint: l.options(actions),
		Logger:     slog.New(&l),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var answer string
	deadline := time.Now().Add(20 * time.Second)
	for {
		var ok bool
		if answer, ok = l.line("answer="); ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	require.NotEmpty(t, answer, "the collector printed no answer")
	var e struct {
		Code    string `json:"error_code"`
		Message string `json:"message"`
	}
	require.NoError(t, json.Unmarshal([]byte(answer), &e), answer)
	l.mu.Lock()
	defer l.mu.Unlock()
	return pathOutcome{warns: l.warns, rejected: l.rejected, code: e.Code, message: e.Message, written: rec.Len()}
}
