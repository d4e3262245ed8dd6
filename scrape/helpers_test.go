package scrape_test

import (
	"context"
	"log/slog"
	"net"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
	"github.com/collectkit/collectkit/scrape"
)

// running is a Scraper under test, recording into rec and logging into
// logs.
type running struct {
	s      *scrape.Scraper
	rec    *pointtest.Recorder
	logs   *testkit.SyncBuffer
	cancel context.CancelFunc
	done   chan error
}

// start builds a Scraper from opts (Sink and Logger are set here; a zero
// Interval becomes 1s, long enough for a timeout on a loaded machine) and runs it until the test ends.
func start(t *testing.T, opts scrape.Options) *running {
	t.Helper()
	r := &running{rec: &pointtest.Recorder{}, logs: &testkit.SyncBuffer{}, done: make(chan error, 1)}
	opts.Sink = r.rec
	opts.Logger = slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if opts.Interval == 0 {
		opts.Interval = time.Second
	}
	s, err := scrape.New(opts)
	require.NoError(t, err)
	r.s = s
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and waits for it to return nil.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of the cancel")
	}
}

// batches waits until n batches were recorded and returns them.
func (r *running) batches(t *testing.T, n int) []point.Batch {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		bs := r.rec.Batches()
		if len(bs) >= n {
			return bs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d batches after 15s, want %d; log:\n%s", len(bs), n, r.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// first runs opts until the first batch and returns it.
func first(t *testing.T, opts scrape.Options) (point.Batch, *running) {
	t.Helper()
	r := start(t, opts)
	b := r.batches(t, 1)[0]
	r.stop(t)
	return b, r
}

// canon writes a point without its time, tags and fields sorted:
// name,k=v,... f=v,...
func canon(p point.Point) string {
	tags := slices.Clone(p.Tags)
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	fields := slices.Clone(p.Fields)
	sort.Slice(fields, func(i, j int) bool { return fields[i].Key < fields[j].Key })
	q := point.Point{Name: p.Name, Tags: tags, Fields: fields}
	return q.String()
}

// canonAll is canon of every point, sorted; fields named in skip are
// left out (a point left with none is too).
func canonAll(pts []point.Point, skip ...string) []string {
	var out []string
	for _, p := range pts {
		var fs []point.Field
		for _, f := range p.Fields {
			if !slices.Contains(skip, f.Key) {
				fs = append(fs, f)
			}
		}
		if len(fs) == 0 {
			continue
		}
		p.Fields = fs
		out = append(out, canon(p))
	}
	sort.Strings(out)
	return out
}

// synthetic returns the up, scrape_duration_seconds and
// scrape_samples_scraped points of pts, by name, and the others.
func synthetic(pts []point.Point) (map[string]point.Point, []point.Point) {
	syn := map[string]point.Point{}
	var rest []point.Point
	for _, p := range pts {
		switch p.Name {
		case scrape.MetricUp, scrape.MetricDuration, scrape.MetricSamplesScraped:
			syn[p.Name] = p
		default:
			rest = append(rest, p)
		}
	}
	return syn, rest
}

func value(t *testing.T, p point.Point) float64 {
	t.Helper()
	v, ok := p.Field("value")
	require.True(t, ok, "%s has no value field", p)
	return v.Float()
}

// freePort returns a loopback address no one listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// waitHTTP waits until addr accepts connections.
func waitHTTP(t *testing.T, addr string, stderr func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections within 20s: %v\n%s", addr, err, stderr())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
