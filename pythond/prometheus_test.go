package pythond

import (
	"context"
	"fmt"
	"github.com/collectkit/collectkit/constraint"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// promScript copies testdata/prometheus/name into the harness's dir.
func (h *harness) promScript(dir, name string) string {
	h.t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "prometheus", name))
	require.NoError(h.t, err)
	return h.write(filepath.Join(dir, name), string(b))
}

// freePort returns a loopback port nothing listens on.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func boolPtr(b bool) *bool { return &b }

// promPoint finds the last point of measurement name with field key
// whose tags include want.
func promPoint(pts []point.Point, name, key string, want map[string]string) (point.Point, bool) {
	for i := len(pts) - 1; i >= 0; i-- {
		p := pts[i]
		if _, has := fieldOf(p, key); p.Name != name || !has {
			continue
		}
		tags := tagMap(p)
		ok := true
		for k, v := range want {
			if tags[k] != v {
				ok = false
				break
			}
		}
		if ok {
			return p, true
		}
	}
	return point.Point{}, false
}

func fieldOf(p point.Point, key string) (float64, bool) {
	for _, f := range p.Fields {
		if f.Key == key {
			return f.Value.Float(), f.Value.Kind() == point.KindFloat
		}
	}
	return 0, false
}

// waitPromPoint waits for a point like promPoint's whose field key is
// want.
func (h *harness) waitPromPoint(name string, tags map[string]string, key string, want float64, timeout time.Duration) point.Point {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if p, ok := promPoint(h.rec.Points(), name, key, tags); ok {
			if v, ok := fieldOf(p, key); ok && v == want {
				return p
			}
		}
		if time.Now().After(deadline) {
			p, _ := promPoint(h.rec.Points(), name, key, tags)
			h.t.Fatalf("no %s%v with %s=%g in time; last %v\nlogs:\n%s", name, tags, key, want, p, h.logs.dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPrometheusConfig(t *testing.T) {
	t.Parallel()
	const head = "[[inputs.pythond]]\nname = 'exporters'\n"
	tests := []struct {
		name string
		doc  string
		keys []string // nil: valid
		text string
	}{
		{name: "the issue's example", doc: head + "framework = 'prometheus'\ncmd = 'python3'\ndirs = ['exporters']\nargs = ['8000']\ninterval = '15s'\nserve = true\n"},
		{name: "serve false", doc: head + "framework = 'prometheus'\ndirs = ['exporters']\nserve = false\n"},
		{name: "needs dirs", doc: head + "framework = 'prometheus'\n", keys: []string{"inputs.pythond[0].dirs"}},
		{name: "negative interval", doc: head + "framework = 'prometheus'\ndirs = ['e']\ninterval = '-1s'\n", keys: []string{"inputs.pythond[0].interval"}, text: "negative interval"},
		{name: "serve on collectd", doc: head + "framework = 'collectd'\ncollectd_config = 'c.conf'\nserve = false\n", keys: []string{"inputs.pythond[0].serve"}, text: "serve is an option of framework prometheus, not of collectd"},
		{name: "serve on datakit", doc: head + "dirs = ['d']\nserve = true\n", keys: []string{"inputs.pythond[0].serve"}, text: "serve is an option of framework prometheus, not of datakit"},
		{name: "interval on datakit names both owners", doc: head + "dirs = ['d']\ninterval = '1s'\n", keys: []string{"inputs.pythond[0].interval"}, text: "interval is an option of framework collectd and prometheus, not of datakit"},
		{name: "collectd option on prometheus", doc: head + "framework = 'prometheus'\ndirs = ['e']\nhostname = 'h'\n", keys: []string{"inputs.pythond[0].hostname"}, text: "hostname is an option of framework collectd, not of prometheus"},
		{name: "NUL in args", doc: head + "framework = 'prometheus'\ndirs = ['e']\nargs = ['ok', \"c\\u0000\"]\n", keys: []string{"inputs.pythond[0].args[1]"}, text: "NUL"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.doc))
			if tc.keys == nil {
				require.NoError(t, err)
				require.Len(t, cfg.Inputs, 1)
				assert.Equal(t, FrameworkPrometheus, cfg.Inputs[0].Framework)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var keys []string
			for _, e := range flatten(err) {
				var ce *ConfigError
				if assert.ErrorAs(t, e, &ce) {
					keys = append(keys, ce.Key)
				}
			}
			assert.Equal(t, tc.keys, keys)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
	in := Input{Name: "x", Framework: FrameworkPrometheus, Dirs: []string{"d"}}
	assert.Equal(t, DefaultPrometheusInterval, in.promInterval())
	assert.True(t, in.promServe())
	in.Interval, in.Serve = Duration(time.Second), boolPtr(false)
	assert.Equal(t, time.Second, in.promInterval())
	assert.False(t, in.promServe())
}

// TestPrometheusExporter runs the seed's kind of start_http_server
// exporter, unchanged, with serve = false: its registry is collected
// every interval without a port being bound, into points with the
// sample's labels, job and instance.
func TestPrometheusExporter(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("exporters", "exporter.py")
	port := freePort(t)
	h.start(h.options(Input{
		Name: "exporters", Framework: FrameworkPrometheus, Cmd: python,
		Dirs:                 []string{"exporters"},
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{strconv.Itoa(port), "0.2"}},
		CollectdOptions:      CollectdOptions{Interval: Duration(200 * time.Millisecond)},
		PrometheusOptions:    PrometheusOptions{Serve: boolPtr(false)},
	}))
	own := map[string]string{"job": "exporters", "instance": "exporter.py"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"job": "exporters", "instance": "exporter.py"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	h.waitPromPoint("api_called", with("inner_ip", "10.0.0.1"), "total", 3, 20*time.Second)
	pts := h.rec.Points()
	p, ok := promPoint(pts, "api_called", "created", with("inner_ip", "10.0.0.1"))
	if assert.True(t, ok, "counter created") {
		created, _ := fieldOf(p, "created")
		assert.InDelta(t, float64(time.Now().Unix()), created, 60)
	}
	_, ok = promPoint(pts, "cpu_usage", "value", with("inner_ip", "10.0.0.1"))
	assert.True(t, ok, "gauge")
	p, ok = promPoint(pts, "task_time_histogram", "bucket", with("le", "3"))
	assert.True(t, ok, "histogram bucket le=3")
	p, ok = promPoint(pts, "task_time_histogram", "sum", own)
	if assert.True(t, ok, "histogram sum") {
		assert.Equal(t, []string{"count", "sum"}, fieldKeys(p), "histogram sum/count point %v", p)
	}
	p, ok = promPoint(pts, "task_time_summary", "count", own)
	if assert.True(t, ok, "summary count") {
		assert.Equal(t, []string{"count", "sum"}, fieldKeys(p), "summary point %v", p)
	}
	_, ok = promPoint(pts, "build", "info", with("version", "1.2.3", "branch", "main"))
	assert.True(t, ok, "info")
	p, ok = promPoint(pts, "task_state", "value", with("task_state", "running"))
	if assert.True(t, ok, "enum") {
		v, _ := fieldOf(p, "value")
		assert.Equal(t, 1.0, v)
	}
	for _, p := range pts {
		tags := tagMap(p)
		assert.Equal(t, "exporters", tags["job"], "%v", p)
		assert.Equal(t, "exporter.py", tags["instance"], "%v", p)
	}
	// serve = false: nothing listens on the script's port.
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "serve = false must bind no port")
	assert.NotEmpty(t, h.logs.find("ready"), "the script's own stdout is logged")
}

// TestPrometheusServe runs the exporter with serve = true: its port
// answers as it would outside collectkit, and the host collects the
// same registry without a request.
func TestPrometheusServe(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("exporters", "exporter.py")
	port := freePort(t)
	h.start(h.options(Input{
		Name: "exporters", Framework: FrameworkPrometheus, Cmd: python,
		Dirs:                 []string{"exporters"},
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{strconv.Itoa(port), "0.2"}},
		CollectdOptions:      CollectdOptions{Interval: Duration(200 * time.Millisecond)},
		PrometheusOptions:    PrometheusOptions{Serve: boolPtr(true)},
	}))
	h.waitPromPoint("api_called", map[string]string{"inner_ip": "10.0.0.1", "instance": "exporter.py"}, "total", 2, 20*time.Second)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/metrics", port))
	require.NoError(t, err, "serve = true binds the script's port")
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(body), `api_called_total{inner_ip="10.0.0.1"}`)
	assert.Contains(t, string(body), `task_state{task_state="running"} 1.0`)
}

// TestPrometheusPathsAndArgs checks that a program runs as
// "python3 FILE ARGS" would run it (the script asserts it and exits 0),
// that a file whose name starts with "_" is not run, and that a program
// that returns is not restarted before its next interval.
func TestPrometheusPathsAndArgs(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("e", "paths.py")
	h.promScript("e", "_sibling.py")
	h.start(h.options(Input{
		Framework: FrameworkPrometheus, Cmd: python, Dirs: []string{"e", "e/paths.py"},
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{"a", "b"}},
		CollectdOptions:      CollectdOptions{Interval: Duration(time.Hour)},
	}))
	h.logs.waitLog(t, "paths ok", 1, 20*time.Second)
	recs := h.logs.waitLog(t, "exited with status 0; it runs again at its next interval", 1, 10*time.Second)
	assert.Equal(t, "paths.py", recs[0].Attrs["script"])
	assert.Len(t, h.logs.find("python process started"), 1, "one process: _sibling.py is not a program, paths.py named twice runs once")
	assert.Empty(t, h.errs.kind(KindExit), "a batch exit is no collector error")
}

// TestPrometheusBatchRerun runs a batch job that pushes once and exits:
// it runs again at its next interval, not after the back-off.
func TestPrometheusBatchRerun(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("jobs", "batch.py")
	const interval = time.Second
	h.start(h.options(Input{
		Name: "jobs", Framework: FrameworkPrometheus, Cmd: python, Dirs: []string{"jobs"},
		CollectdOptions: CollectdOptions{Interval: Duration(interval)},
	}))
	h.logs.waitLog(t, "python process started", 3, 20*time.Second)
	var runs []point.Point
	for _, p := range h.waitPoints(2, 10*time.Second) {
		if p.Name == "job_runs" {
			runs = append(runs, p)
		}
	}
	require.GreaterOrEqual(t, len(runs), 2, "every run pushes")
	first, second := tagMap(runs[0]), tagMap(runs[1])
	assert.Equal(t, "batch", first["job"])
	assert.NotEqual(t, first["pid"], second["pid"], "two runs")
	// Each run starts a whole number of intervals after the one before
	// (one, unless starting Python took longer than an interval); the
	// back-off would restart it after 50 ms.
	gap := runs[1].Time.Sub(runs[0].Time)
	assert.GreaterOrEqual(t, gap, interval*8/10, "runs %v apart", gap)
	assert.Less(t, gap, 4*interval, "runs %v apart", gap)
	assert.Empty(t, h.errs.kind(KindExit))
}

// TestPrometheusCrash runs a program that raises at once: it is
// restarted with the back-off, its traceback a collector error.
func TestPrometheusCrash(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("e", "crash.py")
	in := Input{
		Framework: FrameworkPrometheus, Cmd: python, Dirs: []string{"e"},
		RestartMin: Duration(100 * time.Millisecond), RestartMax: Duration(400 * time.Millisecond),
		CollectdOptions: CollectdOptions{Interval: Duration(time.Hour)},
	}
	h.start(h.options(in))
	exits := h.errs.wait(t, KindExit, 3, 20*time.Second)
	assert.Contains(t, exits[0].Message, "exit status 1")
	assert.Equal(t, "crash.py", exits[0].Collector, "the exit names its script")
	runs := h.errs.wait(t, KindRun, 1, time.Second)
	assert.Equal(t, "crash.py", runs[0].Collector)
	assert.Contains(t, runs[0].Message, "RuntimeError: exporter could not connect to its database")
	assert.Contains(t, runs[0].Traceback, "crash.py")
	// The delays double: 100 ms, 200 ms, 400 ms (±20%).
	recs := h.logs.waitLog(t, "exited; restarting", 3, time.Second)
	var delays []time.Duration
	for _, r := range recs[:3] {
		d, err := time.ParseDuration(r.Attrs["restart_in"])
		require.NoError(t, err)
		delays = append(delays, d)
	}
	assert.Less(t, delays[0], delays[2], "back-off grows: %v", delays)
}

// TestPrometheusWSGIAndTextfile covers make_wsgi_app, start_wsgi_server
// and write_to_textfile, each with its own registry.
func TestPrometheusWSGIAndTextfile(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("e", "wsgi_textfile.py")
	textfile := filepath.Join(h.root, "out.prom")
	h.start(h.options(Input{
		Framework: FrameworkPrometheus, Cmd: python, Dirs: []string{"e"},
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{strconv.Itoa(freePort(t)), textfile}},
		CollectdOptions:      CollectdOptions{Interval: Duration(200 * time.Millisecond)},
		PrometheusOptions:    PrometheusOptions{Serve: boolPtr(false)},
	}))
	own := map[string]string{"job": "test", "instance": "wsgi_textfile.py"}
	h.waitPromPoint("app_gauge", own, "value", 1, 20*time.Second)
	h.waitPromPoint("server_gauge", own, "value", 2, 5*time.Second)
	h.waitPromPoint("file_gauge", own, "value", 3, 5*time.Second)
	b, err := os.ReadFile(textfile)
	require.NoError(t, err, "write_to_textfile still writes its file")
	assert.Contains(t, string(b), "file_gauge 3.0")
	// The textfile registry is sent once per call, the others every
	// interval.
	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, p := range h.rec.Points() {
		if p.Name == "file_gauge" {
			n++
		}
	}
	assert.Equal(t, 1, n)
}

// TestPrometheusNoScripts reports an input whose dirs hold no program.
func TestPrometheusNoScripts(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.write("e/README", "no programs here\n")
	h.start(h.options(Input{Framework: FrameworkPrometheus, Cmd: python, Dirs: []string{"e"}}))
	errs := h.errs.wait(t, KindDiscover, 1, 5*time.Second)
	assert.Contains(t, errs[0].Message, "no .py file in")
}

// promFrames returns the frame handlers of a prometheus process for
// script x.py of an input named exporters, made in root, under a
// Supervisor with opts.
func promFrames(tb testing.TB, root string, opts Options) map[byte]func(context.Context, []byte, []byte) {
	tb.Helper()
	require.NoError(tb, os.MkdirAll(filepath.Join(root, "e"), 0o755))
	require.NoError(tb, os.WriteFile(filepath.Join(root, "e", "x.py"), nil, 0o644))
	opts.Root = root
	opts.Inputs = []Input{{Name: "exporters", Framework: FrameworkPrometheus, Cmd: "/bin/sh", Dirs: []string{"e"}}}
	s, err := New(opts)
	require.NoError(tb, err)
	ps, err := s.processes(s.inputs[0], nil)
	require.NoError(tb, err)
	require.Len(tb, ps, 1)
	l, err := startPrometheus(context.Background(), s, ps[0], "/nonexistent")
	require.NoError(tb, err)
	assert.Equal(tb, filepath.Join(root, "e", "x.py"), l.Args[slices.Index(l.Args, "--script")+1])
	return l.Frames
}

// TestPrometheusFrames feeds the host side frames a runner could send,
// good and bad.
func TestPrometheusFrames(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	frames := promFrames(t, h.root, h.options())
	ctx := context.Background()
	push := func(method, path string, body string) {
		frames[promKindPush](ctx, []byte(method+"\x1f"+path+"\x1fgw:9091"), []byte(body))
	}
	collect := func(body string) { frames[promKindExposition](ctx, []byte("start_http_server:8000"), []byte(body)) }

	collect("# TYPE up gauge\nup{job=\"mine\",instance=\"i\",exported_job=\"x\"} 1\n# EOF\n")
	pts := h.rec.Points()
	require.Len(t, pts, 1)
	assert.Equal(t, map[string]string{"exported_instance": "i", "exported_exported_job": "mine", "exported_job": "x", "job": "exporters", "instance": "x.py"}, tagMap(pts[0]))

	push("PUT", "/metrics/job/j/instance@base64/aDE=", "# TYPE g gauge\ng{instance=\"body\",a=\"b\"} 2\n")
	pts = h.rec.Points()
	require.Len(t, pts, 2)
	assert.Equal(t, map[string]string{"a": "b", "job": "j", "instance": "h1"}, tagMap(pts[1]), "the grouping key wins")

	push("DELETE", "/metrics/job/j", "")
	assert.Len(t, h.rec.Points(), 2, "DELETE: no points")
	assert.NotEmpty(t, h.logs.find("delete_from_gateway"))

	bad := []struct {
		name, method, path, body, err string
	}{
		{"empty job", "PUT", "/metrics/job@base64/=", "g 1\n", "the job name is empty"},
		{"not a push path", "PUT", "/v1/write", "g 1\n", "want /metrics/job/"},
		{"odd path", "POST", "/metrics/job/j/a", "g 1\n", "odd number of segments"},
		{"label name not UTF-8", "PUT", "/metrics/job/j/%ff/c", "g 1\n", "is not a label name"},
		{"reserved label", "PUT", "/metrics/job/j/__x/c", "g 1\n", `"__x" is not a label name`},
		{"twice", "PUT", "/metrics/job/j/a/1/a/2", "g 1\n", `label "a" appears twice`},
		{"bad base64", "PUT", "/metrics/job/j/a@base64/!!", "g 1\n", "base64 value"},
		{"timestamp", "PUT", "/metrics/job/j", "g 1 1700000000000\n", "timestamp"},
		{"bad body", "POST", "/metrics/job/j", "g{ 1\n", "line 1"},
		{"method", "PATCH", "/metrics/job/j", "g 1\n", `method "PATCH"`},
	}
	for i, tc := range bad {
		push(tc.method, tc.path, tc.body)
		errs := h.errs.kind(KindReport)
		if assert.Len(t, errs, i+1, tc.name) {
			assert.Contains(t, errs[i].Message, tc.err, tc.name)
			assert.Equal(t, "x.py", errs[i].Collector)
		}
	}
	collect("not exposition {{{\n")
	assert.Len(t, h.errs.kind(KindReport), len(bad)+1, "a bad collected body is reported")
	frames[promKindPush](ctx, []byte("PUT"), nil)
	assert.NotEmpty(t, h.logs.find("malformed push frame"))
	assert.Len(t, h.rec.Points(), 2, "nothing bad was delivered")
}

// BenchmarkPrometheusCollect measures the host side of one collection
// of a registry of 1,000 series: decoding the OpenMetrics body, adding
// job and instance, normalizing and writing to a sink.
func BenchmarkPrometheusCollect(b *testing.B) {
	frames := promFrames(b, b.TempDir(), Options{Sink: point.Discard()})
	var body strings.Builder
	body.WriteString("# HELP requests Requests.\n# TYPE requests counter\n")
	for i := range 500 {
		fmt.Fprintf(&body, "requests_total{path=\"/api/v%d\",code=\"200\"} %d.0\n", i, i*7)
		fmt.Fprintf(&body, "requests_created{path=\"/api/v%d\",code=\"200\"} 1.7961872142133071e+09\n", i)
	}
	body.WriteString("# EOF\n")
	payload := []byte(body.String())
	meta := []byte("start_http_server:8000")
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	b.ResetTimer()
	for range b.N {
		frames[promKindExposition](ctx, meta, payload)
	}
}

// An input of framework prometheus: args and interval are keys it
// shares with netdata-plugin and collectd.
func ExampleParseConfig_prometheus() {
	cfg, err := ParseConfig([]byte(`
[[inputs.pythond]]
name      = "exporters"
framework = "prometheus"
cmd       = "python3"
dirs      = ["exporters"]
args      = ["8000"]
interval  = "15s"
serve     = false
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	in := cfg.Inputs[0]
	fmt.Println(in.Framework, in.Dirs, in.Args, in.Interval, *in.Serve)
	// Output: prometheus [exporters] [8000] 15s false
}

// TestPrometheusTwoScripts runs two programs of one dir, each in its own
// process, and a program that ends before its first interval, whose
// registry is collected once more as it ends.
func TestPrometheusTwoScripts(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	h := newHarness(t)
	h.promScript("e", "final.py")
	h.promScript("e", "push_example.py")
	h.start(h.options(Input{
		Name: "two", Framework: FrameworkPrometheus, Cmd: python, Dirs: []string{"e"},
		CollectdOptions:   CollectdOptions{Interval: Duration(time.Hour)},
		PrometheusOptions: PrometheusOptions{Serve: boolPtr(false)},
	}))
	h.waitPromPoint("final_value", map[string]string{"job": "two", "instance": "final.py"}, "value", 9, 20*time.Second)
	h.waitPromPoint("api_called", map[string]string{"job": "bk_push_job", "instance": "my.host.ip"}, "total", 1, 20*time.Second)
	started := h.logs.find("python process started")
	require.Len(t, started, 2)
	assert.NotEqual(t, started[0].Attrs["pid"], started[1].Attrs["pid"])
	assert.ElementsMatch(t, []string{"final.py", "push_example.py"}, []string{started[0].Attrs["script"], started[1].Attrs["script"]})
}

// TestDeliverWritesTheValidPoints: a point the constraint rejects is
// reported and left out of what the host side made, and the others are
// written even without Constraint.WritePartial: no client would send them
// again.
func TestDeliverWritesTheValidPoints(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	opts := h.options()
	opts.Constraint.Actions = map[constraint.Rule]constraint.Action{constraint.RuleNonFinite: constraint.Reject}
	frames := promFrames(t, h.root, opts)
	frames[promKindExposition](context.Background(), []byte("start_http_server:8000"), []byte("# TYPE g gauge\ng 1\n# TYPE h gauge\nh NaN\n# EOF\n"))
	pts := h.rec.Points()
	require.Len(t, pts, 1)
	assert.Equal(t, "g", pts[0].Name)
	errs := h.errs.kind(KindReport)
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Message, "non_finite")
}
