package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// promExporter is a prometheus_client program serving fixed values on
// the port given as its argument until its stdin closes.
const promExporter = `import sys

from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram,
                               start_http_server)

reg = CollectorRegistry()
Counter('orders', 'Orders taken.', ['shop'], registry=reg).labels('eu').inc(5)
Gauge('queue_depth', 'Items waiting.', registry=reg).set(12)
h = Histogram('latency_seconds', 'Latency.', buckets=(0.1, 1), registry=reg)
h.observe(0.5)
start_http_server(int(sys.argv[1]), '127.0.0.1', reg)
print('ready', flush=True)
sys.stdin.read()
`

// startPromExporter runs promExporter with Debian's python3 and
// prometheus_client and returns its address.
func startPromExporter(t *testing.T) string {
	t.Helper()
	python := testkit.Python(t, "prometheus_client")
	script := filepath.Join(t.TempDir(), "exporter.py")
	require.NoError(t, os.WriteFile(script, []byte(promExporter), 0o644))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	_, port, _ := strings.Cut(addr, ":")
	cmd := exec.Command(python, script, port)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stderr := &testkit.SyncBuffer{}
	cmd.Stderr = stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("exporter did not start: %v\n%s", err, stderr.String())
	}
	require.Equal(t, "ready\n", line)
	return addr
}

// TestPromScrapesExporter runs the agent with [[inputs.prom]] against a
// real prometheus_client exporter and a URL nobody serves: the
// exporter's samples, with job, instance and the tags, reach the sink,
// the dead target gives up 0 and a log line with its URL.
func TestPromScrapesExporter(t *testing.T) {
	addr := startPromExporter(t)
	dead := "http://" + freeAddr(t) + "/metrics"
	dir := t.TempDir()
	cfg := `listen = "127.0.0.1:0"

[global_tags]
host = "scraper-host"

[[inputs.prom]]
name = "shop"
urls = ["http://` + addr + `/metrics", "` + dead + `"]
interval = "1s"
[inputs.prom.tags]
team = "web"
`
	cfgPath := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))
	outDir := filepath.Join(dir, "out")
	p := startAgent(t, "-config", cfgPath, "-out", outDir)

	metricFile := filepath.Join(outDir, "metric.lp")
	// Line protocol sorts the tags.
	tags := "host=scraper-host,instance=" + addr + ",job=shop"
	want := []string{
		"orders," + tags + ",shop=eu,team=web total=5 ",
		"orders," + tags + ",shop=eu,team=web created=",
		"queue_depth," + tags + ",team=web value=12 ",
		"latency_seconds," + tags + ",le=0.1,team=web bucket=0 ",
		"latency_seconds," + tags + ",le=1,team=web bucket=1 ",
		"latency_seconds," + tags + ",le=+Inf,team=web bucket=1 ",
		"latency_seconds," + tags + ",team=web count=1,sum=0.5 ",
		"up," + tags + ",team=web value=1 ",
		"scrape_samples_scraped," + tags + ",team=web value=9 ",
		"scrape_duration_seconds," + tags + ",team=web value=",
		"up,host=scraper-host,instance=" + strings.TrimSuffix(strings.TrimPrefix(dead, "http://"), "/metrics") + ",job=shop,team=web value=0 ",
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		m := strings.Join(readLines(t, metricFile), "\n")
		missing := ""
		for _, w := range want {
			if !strings.Contains(m, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in metric.lp after 20s:\n%s", missing, m)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A scrape's points reach the sink before its result is logged and
	// kept for /metrics: wait for both.
	logged := `msg="scrape failed" component=prom prom=shop url=` + dead + " status=0"
	var m string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The agent's /metrics tells each target's last result.
		resp, err := http.Get("http://" + p.addr + "/metrics")
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, resp.Body.Close())
		require.NoError(t, err)
		m = string(body)
		done := strings.Contains(p.stderr.String(), logged) &&
			strings.Contains(m, `collectkit_scrape_up{input="shop",instance="`+addr+`",url="http://`+addr+`/metrics"} 1`+"\n") &&
			regexp.MustCompile(`collectkit_scrape_failures_total\{input="shop",instance="[^"]*",url="`+regexp.QuoteMeta(dead)+`"\} [1-9]`).MatchString(m)
		if done || time.Now().After(deadline) {
			break
		}
	}
	assert.Contains(t, p.stderr.String(), logged)
	// The scraper's own metrics, labelled with the input's name.
	assert.Contains(t, m, `collectkit_scrape_up{input="shop",instance="`+addr+`",url="http://`+addr+`/metrics"} 1`+"\n")
	assert.Regexp(t, `collectkit_scrape_up\{input="shop",instance="[^"]*",url="`+regexp.QuoteMeta(dead)+`"\} 0\n`, m)
	assert.Contains(t, m, `collectkit_scrape_samples_scraped{input="shop",instance="`+addr+`",url="http://`+addr+`/metrics"} 9`+"\n")
	assert.Regexp(t, `collectkit_scrape_failures_total\{input="shop",instance="[^"]*",url="`+regexp.QuoteMeta(dead)+`"\} [1-9]`, m)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	_, err := parser.TextToMetricFamilies(strings.NewReader(m))
	assert.NoError(t, err, "the /metrics body is valid text format")

	assert.Equal(t, 0, p.stop(t))
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestPromConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want []string
	}{
		{"no urls", "[[inputs.prom]]\nname = \"x\"\n", []string{"inputs.prom[0]: urls: at least one"}},
		{"bad url", "[[inputs.prom]]\nurls = [\"http://a:1/m\", \"ftp://b\"]\n", []string{`inputs.prom[0]: urls[1]: "ftp://b": scheme must be http or https`}},
		{"second table", "[[inputs.prom]]\nurls = [\"http://a/m\"]\n[[inputs.prom]]\nurls = [\"a:1\"]\n", []string{"inputs.prom[1]: urls[0]:"}},
		{"timeout over interval", "[[inputs.prom]]\nurls = [\"http://a/m\"]\ninterval = \"5s\"\ntimeout = \"6s\"\n", []string{"inputs.prom[0]: timeout: 6s is longer than the interval 5s"}},
		{"two auths", "[[inputs.prom]]\nurls = [\"http://a/m\"]\nbearer_token_file = \"t\"\nusername = \"u\"\n", []string{"inputs.prom[0]: bearer_token_file: set either bearer_token_file or username and password"}},
		{"password alone", "[[inputs.prom]]\nurls = [\"http://a/m\"]\npassword = \"p\"\n", []string{"inputs.prom[0]: username: required"}},
		{"cert without key", "[[inputs.prom]]\nurls = [\"https://a/m\"]\ntls_cert = \"c.pem\"\n", []string{"inputs.prom[0]: tls_key: required when CertFile is set"}},
		{"unknown key", "[[inputs.prom]]\nurls = [\"http://a/m\"]\nurl = \"x\"\n", []string{"inputs.prom.url"}},
		{"every mistake", "[[inputs.prom]]\nurls = [\"x\"]\ninterval = \"-1s\"\n", []string{"inputs.prom[0]: interval: negative", "inputs.prom[0]: urls[0]:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("agent.toml", []byte(tt.cfg))
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// Files are read when the input starts, relative to the configuration;
// -check-config reports each missing one (a running agent leaves the
// input out and runs the others, see TestBadInputsDoNotStopTheAgent).
func TestPromMissingFilesAreReported(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("listen = \"127.0.0.1:0\"\n[[inputs.prom]]\nurls = [\"https://a/m\"]\ntls_ca = \"ca.pem\"\nbearer_token_file = \"token\"\n"), 0o644))
	var stdout, stderr strings.Builder
	err := run(context.Background(), []string{"-config", cfgPath, "-check-config"}, &stdout, &stderr)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "inputs.prom[0]: tls_ca: open "+filepath.Join(dir, "ca.pem"))
	assert.Contains(t, err.Error(), "inputs.prom[0]: bearer_token_file: open "+filepath.Join(dir, "token"))
}
