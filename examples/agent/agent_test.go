package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/internal/testkit"
)

// agentBuild compiles this command once per test binary run.
var agentBuild = testkit.GoBuild{Pkg: ".", Name: "agent"}

func agentBinary(t *testing.T) string {
	t.Helper()
	return agentBuild.Path(t)
}

// TestMain removes the built agent after the tests, and fails the run when
// a goroutine outlives them: run(ctx, ...) must leave none behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		agentBuild.Remove()
		os.Exit(code)
	}))
}

// agentProc is a running agent with its output captured.
type agentProc struct {
	cmd    *exec.Cmd
	stdout *testkit.SyncBuffer
	stderr *testkit.SyncBuffer
	addr   string
}

var listenRE = regexp.MustCompile(`msg="write API listening" addr=(\S+)`)

func startAgent(t *testing.T, args ...string) *agentProc {
	t.Helper()
	bin := agentBinary(t)
	p := &agentProc{stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout = p.stdout
	p.cmd.Stderr = p.stderr
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("agent stderr:\n%s", p.stderr.String())
		}
	})
	waitFor(t, 15*time.Second, "the agent to listen", func() bool {
		m := listenRE.FindStringSubmatch(p.stderr.String())
		if m == nil {
			return false
		}
		p.addr = m[1]
		return true
	})
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *agentProc) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
		t.Fatal("agent did not stop within 20s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

func (p *agentProc) post(t *testing.T, path, contentType, body string) (int, string) {
	t.Helper()
	resp, err := http.Post("http://"+p.addr+path, contentType, strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var pidRE = regexp.MustCompile(`msg="python process started".* pid=(\d+)`)

// pythonPIDs returns the pids of the Python processes the agent logged.
func pythonPIDs(stderr string) []int {
	var pids []int
	for _, m := range pidRE.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		pids = append(pids, n)
	}
	return pids
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

const collectorScript = `from datakit_framework import DataKitFramework


class E2E(DataKitFramework):
    name = 'e2e'
    interval = 0.2

    def run(self):
        self.feed_metric(measurement='e2e_metric', tags={'src': 'py'},
                         fields={'value': 42, 'ratio': 0.5})
        self.feed_logging(source='e2e_log', tags={'src': 'py'},
                          message='hello from python')
        return self.feed_user_event(df_user_id='u1', tags={'src': 'py'},
                                    df_status='ok', df_event_id='ev1',
                                    df_title='e2e event')
`

func TestEndToEndWithOutDir(t *testing.T) {
	dir := t.TempDir()
	pyDir := filepath.Join(dir, "python.d", "e2e")
	require.NoError(t, os.MkdirAll(pyDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(pyDir, "e2e.py"), []byte(collectorScript), 0o644))
	cfg := `listen = "127.0.0.1:0"
pythond_dir = "python.d"

[global_tags]
host = "e2e-host"

[[inputs.pythond]]
name = "e2e"
cmd = "python3"
dirs = ["e2e"]
restart_min = "100ms"
`
	cfgPath := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(cfg), 0o644))
	outDir := filepath.Join(dir, "out")

	p := startAgent(t, "-config", cfgPath, "-out", outDir)

	code, body := p.post(t, "/v1/write/metric?precision=s", "", "http_cpu,core=0 usage=12.5,count=3i 1700000000\nhttp_cpu,core=1 usage=1.5 1700000001\n")
	require.Equal(t, http.StatusOK, code, body)
	code, body = p.post(t, "/v1/write/logging", "application/json",
		`[{"measurement":"http_log","tags":{"app":"web"},"fields":{"message":"json line"},"time":1700000000000}]`)
	require.Equal(t, http.StatusOK, code, body)
	code, body = p.post(t, "/v1/write/keyevent?precision=s", "", "http_event,kind=test df_title=\"posted\" 1700000002\n")
	require.Equal(t, http.StatusOK, code, body)
	code, body = p.post(t, "/v1/write/metric", "", "bad line without fields\n")
	require.Equal(t, http.StatusBadRequest, code)
	assert.Contains(t, body, "datakit.invalidLinePoint")

	metricFile := filepath.Join(outDir, "metric.lp")
	loggingFile := filepath.Join(outDir, "logging.lp")
	keyeventFile := filepath.Join(outDir, "keyevent.lp")
	// Files are flushed within a second; the collector runs every 0.2s.
	waitFor(t, 10*time.Second, "points from HTTP and Python in the .lp files", func() bool {
		m := strings.Join(readLines(t, metricFile), "\n")
		l := strings.Join(readLines(t, loggingFile), "\n")
		k := strings.Join(readLines(t, keyeventFile), "\n")
		return strings.Contains(m, "http_cpu,") && strings.Contains(m, "e2e_metric,") &&
			strings.Contains(l, "http_log,") && strings.Contains(l, "e2e_log,") &&
			strings.Contains(k, "http_event,") && strings.Contains(k, `df_event_id="ev1"`)
	})

	metrics := readLines(t, metricFile)
	assert.Contains(t, metrics, "http_cpu,core=0,host=e2e-host count=3i,usage=12.5 1700000000000000000")
	assert.Contains(t, metrics, "http_cpu,core=1,host=e2e-host usage=1.5 1700000001000000000")
	assert.NotContains(t, strings.Join(metrics, "\n"), "bad line")
	var pyMetric string
	for _, l := range metrics {
		if strings.HasPrefix(l, "e2e_metric,") {
			pyMetric = l
			break
		}
	}
	assert.Regexp(t, `^e2e_metric,host=e2e-host,src=py ratio=0\.5,value=42 \d{19}$`, pyMetric)

	logs := strings.Join(readLines(t, loggingFile), "\n")
	assert.Contains(t, logs, `http_log,app=web,host=e2e-host message="json line",status="info" 1700000000000000000`)
	assert.Regexp(t, `e2e_log,host=e2e-host,src=py message="hello from python",status="info" \d{19}`, logs)

	events := strings.Join(readLines(t, keyeventFile), "\n")
	assert.Contains(t, events, `http_event,host=e2e-host,kind=test df_title="posted" 1700000002000000000`)
	assert.Regexp(t, `measurement,host=e2e-host,src=py df_date_range=10,df_event_id="ev1",df_message="",df_source="user",df_status="ok",df_title="e2e event",df_user_id="u1" \d{19}`, events)

	// Nothing went to stdout: -out was given and no [sink].
	assert.Empty(t, p.stdout.String())

	pids := pythonPIDs(p.stderr.String())
	require.NotEmpty(t, pids, "the agent logs the pid of its Python process")
	assert.Equal(t, 0, p.stop(t), "SIGTERM gives a clean exit")
	for _, pid := range pids {
		assert.False(t, alive(pid), "python process %d outlived the agent", pid)
	}
	// Everything accepted before the stop was flushed.
	before := len(readLines(t, metricFile))
	assert.Positive(t, before)
}

func TestDefaultRunPrintsDemoPoints(t *testing.T) {
	// No -config: the embedded configuration and the bundled demo collector.
	p := startAgent(t, "-listen", "127.0.0.1:0")
	waitFor(t, 15*time.Second, "demo points on stdout", func() bool {
		out := p.stdout.String()
		return strings.Contains(out, "demo_system,collector=demo ") && strings.Contains(out, "measurement,collector=demo ")
	})
	code, body := p.post(t, "/v1/write/metric", "", "from_http value=1\n")
	require.Equal(t, http.StatusOK, code, body)
	waitFor(t, 5*time.Second, "the posted point on stdout", func() bool {
		return strings.Contains(p.stdout.String(), "from_http value=1 ")
	})
	pids := pythonPIDs(p.stderr.String())
	assert.Equal(t, 0, p.stop(t))
	for _, pid := range pids {
		assert.False(t, alive(pid), "python process %d outlived the agent", pid)
	}
	assert.NotContains(t, p.stderr.String(), "level=ERROR", "the demo collector runs without errors")
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  string
		want string
	}{
		{"unknown key", "listen = \"127.0.0.1:0\"\nlisten_addr = \"x\"\n", "unknown configuration key listen_addr (line 2, column 1)"},
		{"bad sink kind", "[sink]\nkind = \"kafka\"\n", `sink.kind: "kafka" is not one of`},
		{"influx without url", "[sink]\nkind = \"influx\"\n", "sink.url: required"},
		{"bad listen", "listen = \"nowhere\"\n", `listen: "nowhere" is not host:port`},
		{"bad toml", "listen = \n", "agent.toml:1:"},
		{"pythond without dirs", "[[inputs.pythond]]\nname = \"x\"\n", "inputs.pythond[0]"},
		{"unknown pythond key", "[[inputs.pythond]]\nname = \"x\"\ndirs = [\"a\"]\nintreval = 3\n", "inputs.pythond.intreval"},
		{"remote without token", "allow_remote = true\n", "allow_remote: true without a token"},
		{"remote without token names the key", "allow_remote = true\ntoken = \"\"\n", "allow_remote_without_token = true"},
		{"bad sync policy", "[sink]\nkind = \"file\"\ndir = \"o\"\nsync = \"sometimes\"\n", `unknown sync policy "sometimes"`},
		{"unknown http key", "[http]\nmax_bodybytes = 1\n", "http.max_bodybytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("agent.toml", []byte(tt.cfg))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRemoteAccessWithoutTokenMustBeIntended(t *testing.T) {
	tests := []struct{ name, cfg string }{
		{"token", "allow_remote = true\ntoken = \"s3cret\"\n"},
		{"explicitly open", "allow_remote = true\nallow_remote_without_token = true\n"},
		{"loopback only", "token = \"\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig("agent.toml", []byte(tt.cfg))
			require.NoError(t, err)
		})
	}
	// The agent refuses to start, naming the key.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, agentBinary(t), "-config", writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\nallow_remote = true\n")).CombinedOutput()
	require.Error(t, err)
	assert.Contains(t, string(out), "allow_remote_without_token")
}

func TestHTTPLimitsConfig(t *testing.T) {
	cfg, err := parseConfig("agent.toml", []byte(`[http]
max_body_bytes = 1024
max_decoded_bytes = 4096
max_points = 10
max_in_flight = 3
max_in_flight_bytes = 65536
body_read_timeout = "5s"
min_body_rate = 100
max_push_labels = 8
max_push_label_bytes = 512
max_connections = 16
`))
	require.NoError(t, err)
	assert.Equal(t, httpapi.Limits{MaxBodyBytes: 1024, MaxDecodedBytes: 4096, MaxPoints: 10, MaxInFlight: 3, MaxInFlightBytes: 65536,
		BodyReadTimeout: 5 * time.Second, MinBodyRate: 100, MaxPushLabels: 8, MaxPushLabelBytes: 512}, cfg.HTTP.limits())
	assert.Equal(t, 16, cfg.HTTP.maxConnections())
	assert.Equal(t, defaultMaxInFlight, HTTPConfig{}.limits().MaxInFlight, "the agent limits requests in flight by default")
	assert.Zero(t, HTTPConfig{MaxInFlight: -1}.limits().MaxInFlight, "negative: no limit")
	assert.Equal(t, defaultMaxConnections, HTTPConfig{}.maxConnections())
	assert.Zero(t, HTTPConfig{MaxConnections: -1}.maxConnections())
}

func TestMemoryLimit(t *testing.T) {
	assert.EqualValues(t, defaultMemoryLimit, memoryLimit(0, ""))
	assert.EqualValues(t, 1<<30, memoryLimit(1<<30, "100MiB"), "the configuration wins")
	assert.Zero(t, memoryLimit(0, "100MiB"), "GOMEMLIMIT is left to the runtime")
	assert.Zero(t, memoryLimit(-1, ""), "negative: none")
	cfg, err := parseConfig("agent.toml", []byte("memory_limit = 268435456\n"))
	require.NoError(t, err)
	assert.EqualValues(t, 256<<20, cfg.MemoryLimit)
}

func TestHTTPLimitsApply(t *testing.T) {
	cfg := writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n[http]\nmax_body_bytes = 100\nmax_points = 3\n")
	p := startAgent(t, "-config", cfg)
	code, body := p.post(t, "/v1/write/metric", "", strings.Repeat("m v=1i\n", 20))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, body)
	code, body = p.post(t, "/v1/write/metric", "", strings.Repeat("m v=1i\n", 4))
	assert.Equal(t, http.StatusRequestEntityTooLarge, code, body)
	code, body = p.post(t, "/v1/write/metric", "", strings.Repeat("m v=1i\n", 3))
	assert.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 0, p.stop(t))
}

func TestMetricsRouteIsGuarded(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "a.toml", fmt.Sprintf(`listen = "127.0.0.1:0"
token = "s3cret"
[sink]
kind = "influx"
url = "http://127.0.0.1:9/write"
buffer_dir = %q
`, filepath.Join(dir, "buf")))
	p := startAgent(t, "-config", cfg)
	get := func(header ...string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "http://"+p.addr+"/metrics", nil)
		require.NoError(t, err)
		for i := 0; i < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get()
	assert.Equal(t, http.StatusForbidden, code, "no token")
	assert.Contains(t, body, "datakit.invalidToken")
	code, body = get("X-Token", "s3cret", "X-Forwarded-For", "203.0.113.7")
	assert.Equal(t, http.StatusForbidden, code, "not loopback")
	assert.Contains(t, body, "datakit.publicAccessDisabled")
	code, body = get("X-Token", "s3cret")
	assert.Equal(t, http.StatusOK, code, body)
	assert.Contains(t, body, "collectkit_forward_buffered_points")
	assert.Equal(t, 0, p.stop(t))
}

// TestFullDiskIsBusyAndClears is the reproduction of -out on a full disk:
// writes are answered 429 (not 500) without naming the file, what was
// acknowledged is all stored, writes succeed again once space is freed,
// and the agent exits 0.
func TestFullDiskIsBusyAndClears(t *testing.T) {
	fs := testkit.MountTmpfs(t, "64k")
	filler := filepath.Join(fs, "filler")
	require.NoError(t, os.WriteFile(filler, make([]byte, 32<<10), 0o644))
	outDir := filepath.Join(fs, "out")
	p := startAgent(t, "-config", writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n"), "-out", outDir)
	batch := strings.Repeat("full_disk,host=h value=1i,ratio=0.5 1700000000000000000\n", 50)
	acked, code, body := 0, 0, ""
	for range 200 {
		if code, body = p.post(t, "/v1/write/metric", "", batch); code != http.StatusOK {
			break
		}
		acked += 50
	}
	require.Equal(t, http.StatusTooManyRequests, code, body)
	assert.NotContains(t, body, fs, "the client is not told server paths")
	assert.Contains(t, body, "datakit.sinkBusy")
	require.NoError(t, os.Remove(filler))
	code, body = p.post(t, "/v1/write/metric", "", batch)
	require.Equal(t, http.StatusOK, code, "space is back: %s", body)
	acked += 50
	assert.Equal(t, 0, p.stop(t))
	assert.Len(t, readLines(t, filepath.Join(outDir, "metric.lp")), acked)
}

func TestBadConfigFileExitsWithClearError(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(cfgPath, []byte("[sink]\nkind = \"kafka\"\n"), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, agentBinary(t), "-config", cfgPath).CombinedOutput()
	require.Error(t, err)
	assert.Equal(t, 1, err.(*exec.ExitError).ExitCode())
	assert.Contains(t, string(out), `agent.toml: sink.kind: "kafka" is not one of "stdout", "file", "influx"`)
}

// TestRelay runs agent A with [sink] kind "influx" pointing at agent B's
// /v1/write/{category}; B writes -out files. What A accepted arrives at B
// unchanged, per category.
func TestRelay(t *testing.T) {
	dir := t.TempDir()
	outB := filepath.Join(dir, "out-b")
	b := startAgent(t, "-config", writeFile(t, dir, "b.toml", "listen = \"127.0.0.1:0\"\n"), "-out", outB)

	cfgA := fmt.Sprintf(`listen = "127.0.0.1:0"
[sink]
kind = "influx"
url = "http://%s/v1/write/{category}"
buffer_dir = "buffer-a"
`, b.addr)
	outA := filepath.Join(dir, "out-a")
	a := startAgent(t, "-config", writeFile(t, dir, "a.toml", cfgA), "-out", outA)

	var lp strings.Builder
	for i := 0; i < 500; i++ {
		fmt.Fprintf(&lp, "relay,host=h%d,idx=%d value=%d.5,count=%di %d\n", i%7, i, i, i, 1700000000+i)
	}
	code, body := a.post(t, "/v1/write/metric?precision=s", "", lp.String())
	require.Equal(t, http.StatusOK, code, body)
	code, body = a.post(t, "/v1/write/logging?precision=s", "", "relay_log,app=x message=\"relayed\",status=\"warn\" 1700000000\n")
	require.Equal(t, http.StatusOK, code, body)

	waitFor(t, 15*time.Second, "500 metric points and 1 log line at agent B", func() bool {
		return len(readLines(t, filepath.Join(outB, "metric.lp"))) >= 500 && len(readLines(t, filepath.Join(outB, "logging.lp"))) >= 1
	})
	waitFor(t, 5*time.Second, "agent A's own -out files", func() bool {
		return len(readLines(t, filepath.Join(outA, "metric.lp"))) >= 500
	})
	assert.ElementsMatch(t, readLines(t, filepath.Join(outA, "metric.lp")), readLines(t, filepath.Join(outB, "metric.lp")))
	assert.Equal(t, readLines(t, filepath.Join(outA, "logging.lp")), readLines(t, filepath.Join(outB, "logging.lp")))

	// A exposes the forwarder's counters.
	resp, err := http.Get("http://" + a.addr + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Contains(t, string(metrics), "# TYPE")

	assert.Equal(t, 0, a.stop(t))
	assert.Equal(t, 0, b.stop(t))
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestLastErrorIsLogged(t *testing.T) {
	p := startAgent(t, "-listen", "127.0.0.1:0", "-config", writeFile(t, t.TempDir(), "a.toml", "listen = \"127.0.0.1:0\"\n"))
	code, body := p.post(t, "/v1/lasterror", "application/json", `{"input":"myinput","source":"mysrc","err_content":"disk on fire"}`)
	require.Equal(t, http.StatusOK, code, body)
	waitFor(t, 5*time.Second, "the last error in the log", func() bool {
		return strings.Contains(p.stderr.String(), `error="disk on fire"`)
	})
	assert.Contains(t, p.stderr.String(), `input=myinput source=mysrc error="disk on fire"`)
	assert.Equal(t, 0, p.stop(t))
}

// TestKillNineLosesNothingAcknowledged posts batches from several clients
// to an agent writing -out files and kills it (SIGKILL) under load: every
// line of every acknowledged batch is in the file, and the next start
// leaves no torn line to append to.
func TestKillNineLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "a.toml", "listen = \"127.0.0.1:0\"\n")
	outDir := filepath.Join(dir, "out")
	p := startAgent(t, "-config", cfg, "-out", outDir)

	var mu sync.Mutex
	acked := map[string]bool{} // batch id -> acknowledged
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("w%db%d", w, n)
				var body strings.Builder
				for i := range 100 {
					fmt.Fprintf(&body, "kill9,batch=%s,i=%d v=%di\n", id, i, i)
				}
				resp, err := client.Post("http://"+p.addr+"/v1/write/metric", "", strings.NewReader(body.String()))
				if err != nil {
					return // the agent is gone
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					mu.Lock()
					acked[id] = true
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	require.NoError(t, p.cmd.Process.Kill())
	_ = p.cmd.Wait()
	close(stop)
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, acked)
	name := filepath.Join(outDir, "metric.lp")
	perBatch := map[string]int{}
	for _, l := range readLines(t, name) {
		if m := batchRE.FindStringSubmatch(l); m != nil {
			perBatch[m[1]]++
		}
	}
	lost := 0
	for id := range acked {
		if perBatch[id] != 100 {
			lost += 100 - perBatch[id]
		}
	}
	assert.Zero(t, lost, "acknowledged lines missing after kill -9 (%d batches acknowledged)", len(acked))

	// The next run repairs a torn tail before it appends.
	p2 := startAgent(t, "-config", cfg, "-out", outDir)
	code, body := p2.post(t, "/v1/write/metric", "", "after_restart v=1i\n")
	require.Equal(t, http.StatusOK, code, body)
	assert.Equal(t, 0, p2.stop(t))
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	for i, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		require.True(t, strings.HasPrefix(l, "kill9,") || strings.HasPrefix(l, "after_restart "), "line %d is torn: %q", i+1, l)
	}
}

var batchRE = regexp.MustCompile(`^kill9,batch=(\w+),i=\d+ v=\d+i \d+$`)

// TestForwarderOnAFullDiskRecovers is the reproduction of a buffer_dir on a
// small file system: with the backend down, writes get 429 once the disk is
// full; after everything is delivered (buffered_points 0) 1,000-line
// batches are accepted again without a restart.
func TestForwarderOnAFullDiskRecovers(t *testing.T) {
	fs := testkit.MountTmpfs(t, "256k")
	var down atomic.Bool
	down.Store(true)
	var received atomic.Int64
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		b, _ := io.ReadAll(zr)
		received.Add(int64(bytes.Count(b, []byte{'\n'})))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer backend.Close()
	cfg := writeFile(t, t.TempDir(), "a.toml", fmt.Sprintf(`listen = "127.0.0.1:0"
[sink]
kind = "influx"
url = "%s/write"
buffer_dir = %q
`, backend.URL, filepath.Join(fs, "buf")))
	p := startAgent(t, "-config", cfg)
	batch := func(n int) string {
		var b strings.Builder
		for i := range 1000 {
			fmt.Fprintf(&b, "full,batch=%d,i=%d value=%di,ratio=0.25 %d\n", n, i, i, 1700000000000000000+n*1000+i)
		}
		return b.String()
	}
	buffered := func() string {
		resp, err := http.Get("http://" + p.addr + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		m := regexp.MustCompile(`(?m)^collectkit_forward_buffered_points(?:{[^}]*})? (\d+)$`).FindStringSubmatch(string(b))
		require.NotNil(t, m, "%s", b)
		return m[1]
	}
	acked, code, body := 0, 0, ""
	for n := 0; n < 100; n++ {
		if code, body = p.post(t, "/v1/write/metric", "", batch(n)); code != http.StatusOK {
			break
		}
		acked += 1000
	}
	require.Equal(t, http.StatusTooManyRequests, code, "a full disk is busy: %s", body)
	assert.NotContains(t, body, fs, "the client is not told server paths")

	down.Store(false)
	waitFor(t, 15*time.Second, "buffered_points 0", func() bool { return buffered() == "0" })
	for n := 100; n < 108; n++ { // twice what the file system holds
		code, body = p.post(t, "/v1/write/metric", "", batch(n))
		require.Equal(t, http.StatusOK, code, "batch %d after delivery: %s", n, body)
		acked += 1000
		waitFor(t, 15*time.Second, "buffered_points 0", func() bool { return buffered() == "0" })
	}
	assert.Equal(t, 0, p.stop(t))
	assert.EqualValues(t, acked, received.Load())
}
