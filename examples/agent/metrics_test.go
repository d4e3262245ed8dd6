package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get fetches a route of the agent.
func (p *agentProc) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.addr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// scrapeAgent gets /metrics and parses it as the text format.
func scrapeAgent(t *testing.T, p *agentProc) map[string]*dto.MetricFamily {
	t.Helper()
	code, hdr, body := p.get(t, "/metrics")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, hdr.Get("Content-Type"), "text/plain")
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "%s", body)
	return families
}

// labelValues returns the value of one label of every sample of a family.
func labelValues(f *dto.MetricFamily, name string) []string {
	var out []string
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == name {
				out = append(out, l.GetValue())
			}
		}
	}
	return out
}

// /metrics comes from the agent's own registry: its build, the Go
// runtime and process, the handler, the forwarder, each scraper and each
// pythond input (one Supervisor each), in one exposition that parses.
func TestSelfMetrics(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "py_a", "py_b")
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer backend.Close()
	cfg := writeFile(t, dir, "a.toml", fmt.Sprintf(`listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "py_a"
dirs = ["py_a"]
[[inputs.pythond]]
name = "py_b"
dirs = ["py_b"]
[sink]
kind = "influx"
url = "%s/write"
buffer_dir = %q
[[inputs.prom]]
name = "one"
urls = [%q]
interval = "1s"
[[inputs.prom]]
name = "two"
urls = [%q]
interval = "1s"
`, backend.URL, filepath.Join(dir, "buf"), exporter(t, "m_one"), exporter(t, "m_two")))
	p := startAgent(t, "-config", cfg)
	code, body := p.post(t, "/v1/write/metric", "", "self_metrics v=1i\n")
	require.Equal(t, http.StatusOK, code, body)

	var families map[string]*dto.MetricFamily
	waitFor(t, 15*time.Second, "both scrapers and both pythond inputs in /metrics", func() bool {
		families = scrapeAgent(t, p)
		f, py := families["collectkit_scrape_up"], families["collectkit_pythond_reports_total"]
		return f != nil && len(labelValues(f, "input")) == 2 && py != nil && len(labelValues(py, "input")) == 2
	})
	assert.ElementsMatch(t, []string{"py_a", "py_b"}, labelValues(families["collectkit_pythond_up"], "input"))
	info := families["collectkit_build_info"]
	require.NotNil(t, info)
	require.Len(t, info.GetMetric(), 1)
	assert.Equal(t, 1.0, info.GetMetric()[0].GetGauge().GetValue())
	assert.Equal(t, []string{version}, labelValues(info, "version"))
	assert.Regexp(t, `^go1\.`, labelValues(info, "goversion")[0])
	assert.Len(t, labelValues(info, "revision"), 1)
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "collectkit_httpapi_write_requests_total", "collectkit_forward_points_accepted_total"} {
		assert.Contains(t, families, name)
	}
	assert.ElementsMatch(t, []string{"one", "two"}, labelValues(families["collectkit_scrape_up"], "input"))
	assert.Len(t, labelValues(families["collectkit_forward_points_accepted_total"], "forwarder"), 1)
	assert.Equal(t, 0, p.stop(t))
}

// With nothing configured /metrics still has the build and runtime.
func TestSelfMetricsNeverEmpty(t *testing.T) {
	p := startAgent(t, "-config", writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n"))
	families := scrapeAgent(t, p)
	assert.Contains(t, families, "collectkit_build_info")
	assert.Contains(t, families, "go_goroutines")
	assert.Equal(t, 0, p.stop(t))
}

// /health is InfluxDB 2's health answer; /ready is 200 once the inputs
// have started and the sink accepts points.
func TestHealthAndReady(t *testing.T) {
	p := startAgent(t, "-config", writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n"))
	code, hdr, body := p.get(t, "/health")
	require.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, hdr.Get("Content-Type"), "application/json")
	var health struct{ Name, Status string }
	require.NoError(t, json.Unmarshal([]byte(body), &health))
	assert.Equal(t, "pass", health.Status)
	waitFor(t, 5*time.Second, "ready", func() bool {
		code, _, _ := p.get(t, "/ready")
		return code == http.StatusOK
	})
	assert.Equal(t, 0, p.stop(t))
}

// /ready is 503 with the forwarder's reason while its buffer is full (the
// backend refusing everything), and 200 again once it has delivered.
func TestReadyFollowsTheForwarder(t *testing.T) {
	dir := t.TempDir()
	var down atomic.Bool
	down.Store(true)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer backend.Close()
	cfg := writeFile(t, dir, "a.toml", fmt.Sprintf(`listen = "127.0.0.1:0"
[sink]
kind = "influx"
url = "%s/write"
buffer_dir = %q
buffer_max_bytes = 4194304
`, backend.URL, filepath.Join(dir, "buf")))
	p := startAgent(t, "-config", cfg)
	code, _, body := p.get(t, "/ready")
	require.Equal(t, http.StatusOK, code, body)
	batch := strings.Repeat("ready_fill,host=h value=1i,text=\"0123456789abcdef0123456789abcdef\" 1700000000000000000\n", 1000)
	for n := 0; n < 100; n++ {
		if code, _ = p.post(t, "/v1/write/metric", "", batch); code != http.StatusOK {
			break
		}
	}
	require.Equal(t, http.StatusTooManyRequests, code, "the buffer filled up")
	code, _, body = p.get(t, "/ready")
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, "buffer")
	down.Store(false)
	waitFor(t, 30*time.Second, "ready again", func() bool {
		code, _, _ := p.get(t, "/ready")
		return code == http.StatusOK
	})
	assert.Equal(t, 0, p.stop(t))
}
