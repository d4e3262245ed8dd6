package scrape_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
	"github.com/collectkit/collectkit/scrape"
)

const textBody = `# HELP http_requests_total Requests.
# TYPE http_requests_total counter
http_requests_total{code="200",method="get"} 1027
http_requests_total{code="500",method="get"} 3
# TYPE temperature gauge
temperature{room="lab"} 21.5
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.05
rpc_seconds_sum 17.5
rpc_seconds_count 120
`

// textServer serves body as text 0.0.4 and keeps the last request.
func textServer(t *testing.T, body string) (*httptest.Server, *atomic.Pointer[http.Request]) {
	t.Helper()
	var last atomic.Pointer[http.Request]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		last.Store(r.Clone(context.Background()))
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &last
}

func hostPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Host
}

func TestScrapeTextPoints(t *testing.T) {
	srv, last := textServer(t, textBody)
	inst := hostPort(t, srv.URL)
	b, r := first(t, scrape.Options{
		Name:    "node",
		Targets: []scrape.Target{{URL: srv.URL + "/metrics", Tags: map[string]string{"dc": "eu"}}},
		Tags:    map[string]string{"team": "ops", "dc": "us"},
		Timeout: 500 * time.Millisecond,
	})
	assert.Equal(t, point.Metric, b.Category)
	assert.Equal(t, "node", b.Input)
	syn, rest := synthetic(b.Points)
	tags := ",dc=eu,instance=" + inst + ",job=node"
	assert.Equal(t, []string{
		"http_requests,code=200" + tags + ",method=get,team=ops total=1027",
		"http_requests,code=500" + tags + ",method=get,team=ops total=3",
		"rpc_seconds" + tags + ",quantile=0.5,team=ops value=0.05",
		"rpc_seconds" + tags + ",team=ops count=120,sum=17.5",
		"temperature" + tags + ",room=lab,team=ops value=21.5",
	}, canonAll(rest))
	tags += ",team=ops"
	require.Len(t, syn, 3)
	assert.Equal(t, "up"+tags+" value=1", canon(syn["up"]))
	assert.Equal(t, "scrape_samples_scraped"+tags+" value=6", canon(syn["scrape_samples_scraped"]))
	d := value(t, syn["scrape_duration_seconds"])
	assert.True(t, d > 0 && d < 5, "duration %v", d)
	// Every point has the scrape's start time.
	for _, p := range b.Points {
		assert.Equal(t, b.Points[0].Time, p.Time, p.String())
	}

	req := last.Load()
	require.NotNil(t, req)
	assert.Equal(t, scrape.AcceptHeader, req.Header.Get("Accept"))
	assert.Equal(t, "gzip", req.Header.Get("Accept-Encoding"))
	assert.Equal(t, "0.5", req.Header.Get("X-Prometheus-Scrape-Timeout-Seconds"))
	assert.Equal(t, "/metrics", req.URL.Path)

	st := r.s.Stats()
	require.Len(t, st, 1)
	assert.True(t, st[0].Up)
	assert.Equal(t, srv.URL+"/metrics", st[0].URL)
	assert.Equal(t, inst, st[0].Instance)
	assert.Equal(t, http.StatusOK, st[0].StatusCode)
	assert.Equal(t, 6, st[0].Samples)
	assert.Equal(t, 8, st[0].Points)
	assert.Equal(t, protocol.ExpositionText, st[0].Format)
	assert.NoError(t, st[0].LastError)
	assert.GreaterOrEqual(t, st[0].Scrapes, uint64(1))
}

// The Accept header makes an exporter that negotiates as client_golang
// does (expfmt.Negotiate) serve protobuf; one that knows only
// OpenMetrics and text serves OpenMetrics.
func TestScrapeNegotiatesFormat(t *testing.T) {
	name, help := "jobs_total", "Jobs."
	typ := dto.MetricType_COUNTER
	fam := &dto.MetricFamily{Name: &name, Help: &help, Type: &typ, Metric: []*dto.Metric{{
		Label:   []*dto.LabelPair{{Name: proto.String("queue"), Value: proto.String("mail")}},
		Counter: &dto.Counter{Value: proto.Float64(42)},
	}}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f := expfmt.Negotiate(r.Header)
		w.Header().Set("Content-Type", string(f))
		enc := expfmt.NewEncoder(w, f)
		require.NoError(t, enc.Encode(fam))
	}))
	defer srv.Close()
	b, r := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}})
	_, rest := synthetic(b.Points)
	assert.Equal(t, []string{"jobs,instance=" + hostPort(t, srv.URL) + ",job=prom,queue=mail total=42"}, canonAll(rest))
	assert.Equal(t, protocol.ExpositionProtobuf, r.s.Stats()[0].Format)

	om := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.Contains(r.Header.Get("Accept"), "application/openmetrics-text") {
			w.Header().Set("Content-Type", "text/plain; version=0.0.4")
			_, _ = w.Write([]byte("wrong 1\n"))
			return
		}
		w.Header().Set("Content-Type", "application/openmetrics-text; version=0.0.1; charset=utf-8")
		_, _ = w.Write([]byte("# TYPE jobs counter\njobs_total 42\njobs_created 1.7e9\n# EOF\n"))
	}))
	defer om.Close()
	b, r = first(t, scrape.Options{Targets: []scrape.Target{{URL: om.URL}}})
	_, rest = synthetic(b.Points)
	inst := hostPort(t, om.URL)
	assert.Equal(t, []string{"jobs,instance=" + inst + ",job=prom created=1.7e+09", "jobs,instance=" + inst + ",job=prom total=42"}, canonAll(rest))
	assert.Equal(t, protocol.ExpositionOpenMetrics, r.s.Stats()[0].Format)
}

func gzipped(t testing.TB, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write([]byte(s))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestScrapeGzip(t *testing.T) {
	body := gzipped(t, textBody)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			http.Error(w, "want gzip", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	b, _ := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}})
	syn, rest := synthetic(b.Points)
	assert.Len(t, rest, 5)
	assert.Equal(t, 1.0, value(t, syn["up"]))

	// The limit applies to the decompressed body: 1 MiB of zeros is 1 KiB
	// gzipped.
	bomb := gzipped(t, "# "+strings.Repeat("0", 1<<20)+"\n")
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb)
	}))
	defer big.Close()
	b, r := first(t, scrape.Options{Targets: []scrape.Target{{URL: big.URL}}, MaxBodyBytes: 64 << 10})
	syn, rest = synthetic(b.Points)
	assert.Empty(t, rest)
	assert.Equal(t, 0.0, value(t, syn["up"]))
	assert.ErrorIs(t, r.s.Stats()[0].LastError, scrape.ErrBodyTooLarge)
}

func TestScrapeBodyLimit(t *testing.T) {
	body := textBody + "# " + strings.Repeat("x", 2000) + "\n"
	srv, _ := textServer(t, body)
	b, r := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, MaxBodyBytes: int64(len(body) - 1)})
	syn, rest := synthetic(b.Points)
	assert.Empty(t, rest)
	assert.Equal(t, 0.0, value(t, syn["up"]))
	assert.Equal(t, 0.0, value(t, syn["scrape_samples_scraped"]))
	st := r.s.Stats()[0]
	assert.ErrorIs(t, st.LastError, scrape.ErrBodyTooLarge)
	assert.Equal(t, http.StatusOK, st.StatusCode)
	assert.Contains(t, r.logs.String(), "url="+srv.URL)

	// At the limit exactly, it is taken.
	b, r = first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, MaxBodyBytes: int64(len(body))})
	syn, _ = synthetic(b.Points)
	assert.Equal(t, 1.0, value(t, syn["up"]), "%v", r.s.Stats()[0].LastError)
}

func TestScrapeAuth(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, basic := r.BasicAuth()
		switch {
		case r.Header.Get("Authorization") == "Bearer s3cret":
		case basic && u == "scraper" && p == "pa:ss":
		default:
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte("ok 1\n"))
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret\n"), 0o600))
	tests := []struct {
		name string
		opts scrape.Options
		up   float64
	}{
		{"bearer", scrape.Options{BearerToken: "s3cret"}, 1},
		{"bearer file", scrape.Options{BearerTokenFile: tokenFile}, 1},
		{"basic", scrape.Options{BasicAuth: scrape.BasicAuth{Username: "scraper", Password: "pa:ss"}}, 1},
		{"wrong bearer", scrape.Options{BearerToken: "guess"}, 0},
		{"wrong password", scrape.Options{BasicAuth: scrape.BasicAuth{Username: "scraper", Password: "x"}}, 0},
		{"none", scrape.Options{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Targets = []scrape.Target{{URL: srv.URL}}
			b, r := first(t, tt.opts)
			syn, _ := synthetic(b.Points)
			assert.Equal(t, tt.up, value(t, syn["up"]), "%v", r.s.Stats()[0].LastError)
			if tt.up == 0 {
				st := r.s.Stats()[0]
				assert.Equal(t, http.StatusUnauthorized, st.StatusCode)
				assert.ErrorIs(t, st.LastError, scrape.ErrStatus)
				assert.Contains(t, r.logs.String(), "status=401")
			}
		})
	}

	// The token file is read at every scrape: a rotated token is used.
	require.NoError(t, os.WriteFile(tokenFile, []byte("old"), 0o600))
	r := start(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, BearerTokenFile: tokenFile})
	r.batches(t, 1)
	assert.False(t, r.s.Stats()[0].Up)
	require.NoError(t, os.WriteFile(tokenFile, []byte("s3cret"), 0o600))
	n := len(r.rec.Batches())
	r.batches(t, n+1)
	assert.True(t, r.s.Stats()[0].Up)
	assert.Contains(t, r.logs.String(), "scrape recovered")
}

func TestScrapeServerError(t *testing.T) {
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	defer bad.Close()
	good, _ := textServer(t, textBody)
	closed := "http://" + freePort(t) + "/metrics"
	garbage, _ := textServer(t, "metric{ 1\n")
	r := start(t, scrape.Options{Targets: []scrape.Target{{URL: bad.URL}, {URL: good.URL}, {URL: closed}, {URL: garbage.URL}}})
	r.batches(t, 8)
	r.stop(t)
	st := r.s.Stats()
	assert.False(t, st[0].Up)
	assert.Equal(t, http.StatusInternalServerError, st[0].StatusCode)
	assert.ErrorIs(t, st[0].LastError, scrape.ErrStatus)
	assert.True(t, st[1].Up, "a failing target does not stop the others")
	assert.False(t, st[2].Up)
	assert.Equal(t, 0, st[2].StatusCode)
	assert.Contains(t, st[2].LastError.Error(), "connection refused")
	assert.False(t, st[3].Up)
	var de *protocol.DecodeError
	assert.ErrorAs(t, st[3].LastError, &de)
	logs := r.logs.String()
	assert.Contains(t, logs, `msg="scrape failed" url=`+bad.URL+" status=500")
	assert.Contains(t, logs, `url=`+closed+" status=0")
	assert.Contains(t, logs, `url=`+garbage.URL+" status=200")
	// The same failure again is logged at debug, not again as a warning.
	assert.Equal(t, 1, strings.Count(logs, `level=WARN msg="scrape failed" url=`+bad.URL))

	for _, b := range r.rec.Batches() {
		syn, rest := synthetic(b.Points)
		require.Len(t, syn, 3)
		up := syn["up"]
		inst, _ := up.Tag("instance")
		if inst == hostPort(t, good.URL) {
			assert.Equal(t, 1.0, value(t, syn["up"]))
			assert.Len(t, rest, 5)
		} else {
			assert.Equal(t, 0.0, value(t, syn["up"]), inst)
			assert.Empty(t, rest)
		}
	}
}

// A slow target times out at Timeout, concurrently with the others,
// whose scrapes go on meanwhile.
func TestScrapeTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	good, _ := textServer(t, textBody)
	r := start(t, scrape.Options{
		Targets:  []scrape.Target{{URL: slow.URL}, {URL: good.URL}},
		Interval: 400 * time.Millisecond,
		Timeout:  200 * time.Millisecond,
	})
	deadline := time.Now().Add(15 * time.Second)
	for r.s.Stats()[0].Scrapes == 0 || r.s.Stats()[1].Scrapes < 2 {
		require.True(t, time.Now().Before(deadline), "no scrapes")
		time.Sleep(10 * time.Millisecond)
	}
	st := r.s.Stats()
	assert.False(t, st[0].Up)
	assert.ErrorIs(t, st[0].LastError, context.DeadlineExceeded)
	assert.Contains(t, st[0].LastError.Error(), "timed out after 200ms")
	assert.GreaterOrEqual(t, st[0].LastDuration, 200*time.Millisecond)
	assert.Less(t, st[0].LastDuration, 2*time.Second)
	assert.True(t, st[1].Up)
}

func TestScrapeHonorLabels(t *testing.T) {
	body := `# TYPE pushed gauge
pushed{job="batch",instance="box1",exported_job="x",dc="eu"} 1
pushed{other="y",job="",empty=""} 2
`
	srv, _ := textServer(t, body)
	inst := hostPort(t, srv.URL)
	opts := scrape.Options{Name: "fed", Targets: []scrape.Target{{URL: srv.URL, Tags: map[string]string{"dc": "us"}}}}
	b, _ := first(t, opts)
	_, rest := synthetic(b.Points)
	assert.Equal(t, []string{
		"pushed,dc=us,exported_dc=eu,exported_exported_job=batch,exported_instance=box1,exported_job=x,instance=" + inst + ",job=fed value=1",
		"pushed,dc=us,instance=" + inst + ",job=fed,other=y value=2",
	}, canonAll(rest))

	opts.HonorLabels = true
	b, _ = first(t, opts)
	syn, rest := synthetic(b.Points)
	assert.Equal(t, []string{
		"pushed,dc=eu,exported_job=x,instance=box1,job=batch value=1",
		"pushed,dc=us,instance=" + inst + ",job=fed,other=y value=2",
	}, canonAll(rest))
	// An empty label is no label (as in Prometheus), so job="" neither
	// conflicts nor wins. The scraper's own points always carry the
	// target's tags.
	assert.Equal(t, "up,dc=us,instance="+inst+",job=fed value=1", canon(syn["up"]))
}

// Points go through the constraint normalization: a NaN sample is
// dropped (non_finite), the others are written.
func TestScrapeNormalizes(t *testing.T) {
	srv, _ := textServer(t, "a NaN\nb 1\n")
	b, _ := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}})
	_, rest := synthetic(b.Points)
	require.Len(t, rest, 1)
	assert.Equal(t, "b", rest[0].Name)
}

// Each target has a stable place in the interval, its scrapes one
// interval apart.
func TestScrapeSchedule(t *testing.T) {
	good, _ := textServer(t, "x 1\n")
	targets := []scrape.Target{{URL: good.URL + "/a"}, {URL: good.URL + "/b"}, {URL: good.URL + "/c"}}
	interval := time.Second
	r := start(t, scrape.Options{Targets: targets, Interval: interval})
	var starts [3][]time.Time
	deadline := time.Now().Add(15 * time.Second)
	for len(starts[0]) < 3 || len(starts[1]) < 3 || len(starts[2]) < 3 {
		require.True(t, time.Now().Before(deadline), "not enough scrapes")
		for i, st := range r.s.Stats() {
			if n := len(starts[i]); !st.LastScrape.IsZero() && (n == 0 || !starts[i][n-1].Equal(st.LastScrape)) {
				starts[i] = append(starts[i], st.LastScrape)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.stop(t)
	st := r.s.Stats()
	offsets := map[time.Duration]bool{}
	for i := range targets {
		off := st[i].Offset
		assert.True(t, off >= 0 && off < interval, "offset %v", off)
		offsets[off] = true
		for _, s := range starts[i] {
			phase := time.Duration(s.UnixNano() % int64(interval))
			// A loaded machine starts late, never early.
			late := (phase - off + interval) % interval
			assert.Less(t, late, 400*time.Millisecond, "target %d started %v after its offset", i, late)
		}
	}
	assert.Len(t, offsets, 3, "three URLs, three places")
	again, err := scrape.New(scrape.Options{Targets: targets, Interval: interval, Sink: point.Discard()})
	require.NoError(t, err)
	for i, s := range again.Stats() {
		assert.Equal(t, st[i].Offset, s.Offset, "stable across scrapers")
	}
}

func TestMaxSamples(t *testing.T) {
	srv, _ := textServer(t, textBody) // 6 samples
	b, r := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, MaxSamples: 5})
	syn, rest := synthetic(b.Points)
	assert.Empty(t, rest)
	assert.Equal(t, 0.0, value(t, syn["up"]))
	assert.ErrorIs(t, r.s.Stats()[0].LastError, protocol.ErrTooManyPoints)
	b, _ = first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, MaxSamples: 6})
	syn, _ = synthetic(b.Points)
	assert.Equal(t, 1.0, value(t, syn["up"]))
}

// Run leaves no goroutine behind: the scrapers end, and so do the idle
// connections of the scraper's own client.
func TestRunLeavesNoGoroutine(t *testing.T) {
	srv, _ := textServer(t, textBody)
	before := runtime.NumGoroutine()
	r := start(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL + "/a"}, {URL: srv.URL + "/b"}}})
	r.batches(t, 2)
	r.stop(t)
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, %d before Run:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRunTwice(t *testing.T) {
	srv, _ := textServer(t, "x 1\n")
	r := start(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}})
	r.batches(t, 1) // Run is running
	assert.ErrorIs(t, r.s.Run(context.Background()), scrape.ErrRunning)
	r.stop(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.NoError(t, r.s.Run(ctx), "a stopped scraper runs again")
}

func TestSinkErrorIsReported(t *testing.T) {
	srv, _ := textServer(t, "x 1\n")
	var calls atomic.Int32
	busy := point.Busy(errors.New("full"), time.Second)
	s, err := scrape.New(scrape.Options{
		Targets:  []scrape.Target{{URL: srv.URL}},
		Interval: 50 * time.Millisecond,
		Sink: point.SinkFunc(func(context.Context, point.Batch) error {
			calls.Add(1)
			return busy
		}),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx) }()
	for calls.Load() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	require.NoError(t, <-done)
	st := s.Stats()[0]
	assert.True(t, st.Up, "the scrape itself worked")
	assert.ErrorIs(t, st.SinkError, point.ErrBusy)
}

func TestNewOptionsErrors(t *testing.T) {
	sink := point.Discard()
	tests := []struct {
		name string
		opts scrape.Options
		want []string
	}{
		{"no sink", scrape.Options{Targets: []scrape.Target{{URL: "http://a:1"}}}, []string{"scrape: Sink: required"}},
		{"no targets", scrape.Options{Sink: sink}, []string{"scrape: Targets: at least one target"}},
		{"bad urls", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a:1"}, {URL: "ftp://x/"}, {URL: ""}, {URL: "http://a:1"}, {URL: "http:///metrics"}, {URL: "http://u:p@h/"}}},
			[]string{`Targets[1].URL: "ftp://x/": scheme must be http or https`, "Targets[2].URL: required", `Targets[3].URL: "http://a:1" is also Targets[0]`, "Targets[4].URL: \"http:///metrics\" has no host", "Targets[5].URL: \"http://u:p@h/\": credentials"}},
		{"timeout over interval", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a"}}, Interval: time.Second, Timeout: 2 * time.Second}, []string{"scrape: Timeout: 2s is longer than the interval 1s"}},
		{"negative", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a"}}, Interval: -1, Timeout: -1}, []string{"Interval: negative", "Timeout: negative"}},
		{"two auths", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a"}}, BearerToken: "t", BasicAuth: scrape.BasicAuth{Username: "u"}}, []string{"at most one of BearerToken, BearerTokenFile and BasicAuth"}},
		{"password without user", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a"}}, BasicAuth: scrape.BasicAuth{Password: "p"}}, []string{"BasicAuth.Username: required"}},
		{"missing token file", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a"}}, BearerTokenFile: "/nonexistent/token"}, []string{"BearerTokenFile: open /nonexistent/token"}},
		{"tls files", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "https://a"}}, TLS: scrape.TLSConfig{CAFile: "/nonexistent/ca.pem", CertFile: "c.pem"}}, []string{"TLS.CAFile: open /nonexistent/ca.pem", "TLS.KeyFile: required when CertFile is set"}},
		{"tls with client", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "https://a"}}, Client: http.DefaultClient, TLS: scrape.TLSConfig{InsecureSkipVerify: true}}, []string{"TLS: must be zero when Client is set"}},
		{"empty tag key", scrape.Options{Sink: sink, Targets: []scrape.Target{{URL: "http://a", Tags: map[string]string{"": "v"}}}}, []string{"Targets[0].Tags: empty tag key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scrape.New(tt.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, scrape.ErrInvalidOptions)
			var oe *scrape.OptionsError
			assert.ErrorAs(t, err, &oe)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	srv, last := textServer(t, "x 1\n")
	// The default timeout (10s) is capped at the interval.
	b, r := first(t, scrape.Options{Targets: []scrape.Target{{URL: srv.URL}}, Interval: 300 * time.Millisecond})
	assert.Equal(t, "0.3", last.Load().Header.Get("X-Prometheus-Scrape-Timeout-Seconds"))
	assert.Equal(t, scrape.DefaultName, b.Input)
	assert.Less(t, r.s.Stats()[0].Offset, 300*time.Millisecond)
	for raw, inst := range map[string]string{"http://h/m": "h:80", "https://h/m": "h:443", "http://[::1]/m": "[::1]:80", "http://h:9100": "h:9100"} {
		s, err := scrape.New(scrape.Options{Targets: []scrape.Target{{URL: raw}}, Sink: point.Discard()})
		require.NoError(t, err)
		assert.Equal(t, inst, s.Stats()[0].Instance, raw)
	}
}
