package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// lpBackend is a real HTTP server on loopback that decodes line-protocol
// requests and counts points by their "id" tag. respond, if set, picks the
// status of each request before it is decoded (0: decode and answer 204).
type lpBackend struct {
	*httptest.Server
	mu       sync.Mutex
	seen     map[int]int // id -> times received
	paths    []string
	requests int
	respond  func(n int, w http.ResponseWriter) int
	points   []point.Point
	keep     bool
}

func newLPBackend(t testing.TB, respond func(n int, w http.ResponseWriter) int) *lpBackend {
	b := &lpBackend{seen: map[int]int{}, respond: respond}
	b.Server = httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(b.Close)
	return b
}

func (b *lpBackend) serve(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	n := b.requests
	b.requests++
	b.paths = append(b.paths, r.URL.RequestURI())
	respond := b.respond
	b.mu.Unlock()
	if respond != nil {
		if code := respond(n, w); code != 0 {
			w.WriteHeader(code)
			return
		}
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	data, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	prec, err := protocol.ParsePrecision(r.URL.Query().Get("precision"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var dec protocol.Decoder
	pts, err := dec.DecodeLineProtocol(data, protocol.Options{Precision: prec})
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	b.mu.Lock()
	for _, p := range pts {
		id, _ := p.Tag("id")
		n, _ := strconv.Atoi(id)
		b.seen[n]++
		if b.keep {
			b.points = append(b.points, p.Clone())
		}
	}
	b.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// check reports ids missing from [0, n) and ids received more than once.
func (b *lpBackend) check(n int) (missing, dups int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range n {
		switch c := b.seen[i]; {
		case c == 0:
			missing++
		case c > 1:
			dups += c - 1
		}
	}
	return missing, dups
}

func (b *lpBackend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.seen {
		n += c
	}
	return n
}

// testPoints returns n points with ids from start: measurement "fwd", tags
// id and series, an int and a float field, distinct millisecond times.
func testPoints(start, n int) []point.Point {
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	pts := make([]point.Point, n)
	for i := range pts {
		id := start + i
		p := point.New("fwd", base.Add(time.Duration(id)*time.Millisecond))
		p.AddTag("id", strconv.Itoa(id)).AddTag("series", strconv.Itoa(id%10))
		p.AddField("v", point.IntValue(int64(id))).AddField("f", point.FloatValue(float64(id)+0.5))
		pts[i] = p
	}
	return pts
}

// writeAll writes ids [start, start+n) in batches of size per.
func writeAll(t testing.TB, s point.Sink, start, n, per int) {
	t.Helper()
	for i := start; i < start+n; i += per {
		k := min(per, start+n-i)
		require.NoError(t, s.Write(context.Background(), point.Batch{Category: point.Metric, Input: "test", Points: testPoints(i, k)}))
	}
}

// runForwarder starts f.Run and stops it at cleanup, failing the test if
// Run returns an error.
func runForwarder(t testing.TB, f *Forwarder) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("Run did not return 30s after its context was cancelled")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func flush(t testing.TB, f *Forwarder, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	require.NoError(t, f.Flush(ctx), fmt.Sprintf("stats: %+v", f.Stats()))
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// group runs functions on at most limit goroutines and keeps the first
// error (a small errgroup, to avoid a dependency for tests).
type group struct {
	wg   sync.WaitGroup
	sem  chan struct{}
	once sync.Once
	err  error
}

func newGroup(limit int) *group { return &group{sem: make(chan struct{}, limit)} }

func (g *group) Go(fn func() error) {
	g.sem <- struct{}{}
	g.wg.Add(1)
	go func() {
		defer func() { <-g.sem; g.wg.Done() }()
		if err := fn(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	}()
}

func (g *group) Wait() error {
	g.wg.Wait()
	return g.err
}

// logBuffer collects a logger's output; it is safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }
