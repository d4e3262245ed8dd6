package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

// fixedNow is the handler's clock in tests.
var fixedNow = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// sink is a pointtest.Recorder of the batches the handler writes that
// also keeps the RequestInfo of each. Err, when set, is returned and
// nothing is recorded (the write failed); Calls counts every call.
type sink struct {
	pointtest.Recorder
	Err error

	mu    sync.Mutex
	calls int
	infos []httpapi.RequestInfo
}

func (s *sink) Write(ctx context.Context, b point.Batch) error {
	s.mu.Lock()
	s.calls++
	if s.Err != nil {
		s.mu.Unlock()
		return s.Err
	}
	ri, _ := httpapi.RequestInfoFromContext(ctx)
	s.infos = append(s.infos, ri)
	s.mu.Unlock()
	return s.Recorder.Write(ctx, b)
}

func (s *sink) Infos() []httpapi.RequestInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]httpapi.RequestInfo(nil), s.infos...)
}

func (s *sink) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// newHandler builds a handler on s with test defaults filled into opts.
func newHandler(t testing.TB, s point.Sink, opts httpapi.Options) *httpapi.Handler {
	t.Helper()
	opts.Sink = s
	if opts.Version == "" {
		opts.Version = "1.2.3-test"
	}
	if opts.Host == "" {
		opts.Host = "testhost"
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return fixedNow }
	}
	h, err := httpapi.New(opts)
	require.NoError(t, err)
	return h
}

// request builds a loopback request.
func request(method, target string, body []byte, hdr ...string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.RemoteAddr = "127.0.0.1:40000"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// errorBody is DataKit's error JSON.
type errorBody struct {
	Code    string `json:"error_code"`
	Message string `json:"message"`
}

func decodeError(t testing.TB, w *httptest.ResponseRecorder) errorBody {
	t.Helper()
	var e errorBody
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), "body: %s", w.Body.String())
	return e
}

func ns(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func pt(name string, tags []point.Tag, fields []point.Field, t time.Time) point.Point {
	return point.Point{Name: name, Tags: tags, Fields: fields, Time: t}
}

func tags(kv ...string) []point.Tag {
	var ts []point.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		ts = append(ts, point.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return ts
}

func fld(k string, v point.Value) point.Field { return point.Field{Key: k, Value: v} }

// utc returns copies of pts with times in UTC, so that assert.Equal compares
// instants rather than locations.
func utc(pts []point.Point) []point.Point {
	out := make([]point.Point, len(pts))
	for i, p := range pts {
		p.Time = p.Time.UTC()
		out[i] = p
	}
	return out
}

func assertPoints(t testing.TB, want, got []point.Point) {
	t.Helper()
	assert.Equal(t, utc(want), utc(got))
}

// allLastErrors returns the lasterror reports of every input.
func allLastErrors(h *httpapi.Handler) []httpapi.LastError {
	var all []httpapi.LastError
	for _, in := range h.LastErrorInputs() {
		all = append(all, h.LastErrors(in)...)
	}
	return all
}
