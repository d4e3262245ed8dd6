package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// reloadCollector is a datakit-framework collector writing one metric
// named after its directory every 0.2s.
const reloadCollector = `from datakit_framework import DataKitFramework


class C(DataKitFramework):
    name = '%[1]s'
    interval = 0.2

    def run(self):
        return self.feed_metric(measurement='%[1]s_metric', tags={'src': 'py'},
                                fields={'value': 1})
`

// writePythondDirs makes python.d/<name>/<name>.py for each name.
func writePythondDirs(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		d := filepath.Join(root, "python.d", n)
		require.NoError(t, os.MkdirAll(d, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(d, n+".py"), fmt.Appendf(nil, reloadCollector, n), 0o644))
	}
}

// exporter is a Prometheus exposition served on loopback.
func exporter(t *testing.T, metric string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE %s gauge\n%s 7\n", metric, metric)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/metrics"
}

// pidsOf returns the pids the agent logged for one pythond input's
// processes, in start order.
func pidsOf(stderr, input string) []int {
	re := regexp.MustCompile(`msg="python process started".* pythond=` + regexp.QuoteMeta(input) + ` pid=(\d+)`)
	var pids []int
	for _, m := range re.FindAllStringSubmatch(stderr, -1) {
		n, _ := strconv.Atoi(m[1])
		pids = append(pids, n)
	}
	return pids
}

// continuousWriter posts batches to the agent until stopped and records
// which were acknowledged.
type continuousWriter struct {
	mu    sync.Mutex
	acked []string
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startWriter(t *testing.T, addr string) *continuousWriter {
	w := &continuousWriter{stop: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for n := 0; ; n++ {
			select {
			case <-w.stop:
				return
			default:
			}
			id := fmt.Sprintf("b%d", n)
			var body strings.Builder
			for i := range 10 {
				fmt.Fprintf(&body, "reload_write,batch=%s,i=%d v=%di\n", id, i, i)
			}
			resp, err := client.Post("http://"+addr+"/v1/write/metric", "", strings.NewReader(body.String()))
			if err != nil {
				t.Errorf("write %s: %v", id, err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				w.mu.Lock()
				w.acked = append(w.acked, id)
				w.mu.Unlock()
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return w
}

func (w *continuousWriter) finish() []string {
	close(w.stop)
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.acked
}

// TestReloadReplacesChangedInputs reloads (SIGHUP) a configuration that
// keeps one pythond input, changes one, removes one, adds one, and swaps
// a prom input, while a client writes continuously: no acknowledged write
// is lost, the unchanged input's process is the same, the changed one's
// is new, the removed one's is gone, and the new inputs' points arrive.
// Then an invalid configuration is refused with every reason logged and
// the running inputs stay; a changed listen is reported as not applied.
func TestReloadReplacesChangedInputs(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "keep", "change", "drop", "added")
	promOne, promTwo := exporter(t, "prom_one"), exporter(t, "prom_two")
	base := `listen = "127.0.0.1:0"
pythond_dir = "python.d"

[[inputs.pythond]]
name = "keep"
dirs = ["keep"]

[[inputs.pythond]]
name = "change"
dirs = ["change"]
%s
`
	v1 := fmt.Sprintf(base, `
[[inputs.pythond]]
name = "drop"
dirs = ["drop"]

[[inputs.prom]]
name = "one"
urls = ["`+promOne+`"]
interval = "1s"
`)
	v2 := fmt.Sprintf(base, `[inputs.pythond.tags]
changed = "yes"

[[inputs.pythond]]
name = "added"
dirs = ["added"]

[[inputs.prom]]
name = "two"
urls = ["`+promTwo+`"]
interval = "1s"
`)
	cfgPath := writeFile(t, dir, "agent.toml", v1)
	outDir := filepath.Join(dir, "out")
	metricFile := filepath.Join(outDir, "metric.lp")
	p := startAgent(t, "-config", cfgPath, "-out", outDir)
	hasLine := func(prefix string) bool {
		for _, l := range readLines(t, metricFile) {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	waitFor(t, 20*time.Second, "points of every first input", func() bool {
		return hasLine("keep_metric,") && hasLine("change_metric,") && hasLine("drop_metric,") && hasLine("prom_one,")
	})
	keep, change, drop := pidsOf(p.stderr.String(), "keep"), pidsOf(p.stderr.String(), "change"), pidsOf(p.stderr.String(), "drop")
	require.Len(t, keep, 1)
	require.Len(t, change, 1)
	require.Len(t, drop, 1)

	w := startWriter(t, p.addr)
	time.Sleep(300 * time.Millisecond)
	require.NoError(t, os.WriteFile(cfgPath, []byte(v2), 0o644))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 20*time.Second, "the reload", func() bool {
		return strings.Contains(p.stderr.String(), `msg="configuration reloaded"`)
	})
	waitFor(t, 20*time.Second, "points of the added inputs and the changed one's tag", func() bool {
		return hasLine("added_metric,") && hasLine("prom_two,") && hasLine("change_metric,changed=yes,")
	})
	time.Sleep(300 * time.Millisecond)

	stderr := p.stderr.String()
	assert.Equal(t, keep, pidsOf(stderr, "keep"), "the unchanged input keeps its process")
	assert.True(t, alive(keep[0]))
	changed := pidsOf(stderr, "change")
	require.Len(t, changed, 2, "the changed input was restarted once")
	assert.NotEqual(t, change[0], changed[1])
	assert.False(t, alive(change[0]), "the changed input's old process is gone")
	assert.True(t, alive(changed[1]))
	assert.False(t, alive(drop[0]), "the removed input's process is gone")
	assert.Len(t, pidsOf(stderr, "drop"), 1, "the removed input was not started again")
	assert.Len(t, pidsOf(stderr, "added"), 1)
	assert.Contains(t, stderr, `msg="input changed; restarting it" input="inputs.pythond[1] (change)"`)
	assert.Contains(t, stderr, `msg="input removed; stopping it" input="inputs.pythond[2] (drop)"`)
	assert.Contains(t, stderr, `msg="input removed; stopping it" input="inputs.prom[0] (one)"`)

	// An invalid configuration is refused whole; every reason is logged.
	bad := strings.Replace(v2, `listen = "127.0.0.1:0"`, `listen = "nowhere"`, 1) + "\n[sink]\nkind = \"kafka\"\n"
	require.NoError(t, os.WriteFile(cfgPath, []byte(bad), 0o644))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 20*time.Second, "the refusal", func() bool {
		return strings.Contains(p.stderr.String(), `msg="configuration not reloaded; the running one stays"`)
	})
	stderr = p.stderr.String()
	assert.Regexp(t, `msg="configuration refused" reason=".*listen: \\"nowhere\\" is not host:port`, stderr)
	assert.Regexp(t, `msg="configuration refused" reason=".*sink.kind: \\"kafka\\" is not one of`, stderr)
	// A valid one that changes the listener is applied to the inputs
	// only, and says so.
	require.NoError(t, os.WriteFile(cfgPath, []byte(strings.Replace(v2, `listen = "127.0.0.1:0"`, `listen = "127.0.0.1:1"`, 1)), 0o644))
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 20*time.Second, "the second reload", func() bool {
		return strings.Count(p.stderr.String(), `msg="configuration reloaded"`) == 2
	})
	stderr = p.stderr.String()
	assert.Contains(t, stderr, `msg="configuration changes that need a restart were not applied" keys=listen`)
	assert.Equal(t, keep, pidsOf(stderr, "keep"))
	assert.Len(t, pidsOf(stderr, "change"), 2, "nothing changed for the inputs")
	assert.Len(t, pidsOf(stderr, "added"), 1)

	acked := w.finish()
	require.NotEmpty(t, acked)
	assert.Equal(t, 0, p.stop(t), "SIGTERM after reloads gives a clean exit")
	perBatch := map[string]int{}
	for _, l := range readLines(t, metricFile) {
		if m := reloadBatchRE.FindStringSubmatch(l); m != nil {
			perBatch[m[1]]++
		}
	}
	lost := 0
	for _, id := range acked {
		lost += 10 - perBatch[id]
	}
	assert.Zero(t, lost, "acknowledged points missing after %d batches", len(acked))
	for _, pid := range append(pidsOf(stderr, "keep"), pidsOf(stderr, "added")...) {
		assert.False(t, alive(pid), "python process %d outlived the agent", pid)
	}
}

var reloadBatchRE = regexp.MustCompile(`^reload_write,batch=(\w+),i=\d+ v=\d+i \d+$`)

// SIGHUP used to kill the agent (status 129) and leave its temporary
// directory behind; with the embedded configuration it now reloads.
func TestSIGHUPDoesNotKill(t *testing.T) {
	p := startAgent(t, "-listen", "127.0.0.1:0")
	waitFor(t, 15*time.Second, "the demo collector", func() bool { return len(pythonPIDs(p.stderr.String())) > 0 })
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGHUP))
	waitFor(t, 10*time.Second, "the reload", func() bool {
		return strings.Contains(p.stderr.String(), `msg="configuration reloaded"`)
	})
	code, body := p.post(t, "/v1/write/metric", "", "after_hup v=1i\n")
	assert.Equal(t, http.StatusOK, code, body)
	dirs := regexp.MustCompile(`dirs=\[(\S+)/python\.d/demo\]`).FindStringSubmatch(p.stderr.String())
	require.NotNil(t, dirs)
	assert.Len(t, pythonPIDs(p.stderr.String()), 1, "the unchanged demo input keeps running")
	assert.Equal(t, 0, p.stop(t))
	_, err := os.Stat(dirs[1])
	assert.True(t, os.IsNotExist(err), "the temporary directory %s is removed", dirs[1])
}

// watch_scripts (on by default) restarts the input whose script changed;
// the other input keeps its process.
func TestWatchScriptsRestartsTheEditedInput(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "edited", "other")
	cfg := writeFile(t, dir, "agent.toml", `listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "edited"
dirs = ["edited"]
[[inputs.pythond]]
name = "other"
dirs = ["other"]
`)
	out := filepath.Join(dir, "out")
	p := startAgent(t, "-config", cfg, "-out", out)
	waitFor(t, 20*time.Second, "both inputs' points", func() bool {
		s := strings.Join(readLines(t, filepath.Join(out, "metric.lp")), "\n")
		return strings.Contains(s, "edited_metric,") && strings.Contains(s, "other_metric,")
	})
	other := pidsOf(p.stderr.String(), "other")
	require.Len(t, other, 1)
	script := filepath.Join(dir, "python.d", "edited", "edited.py")
	require.NoError(t, os.WriteFile(script, []byte(strings.Replace(fmt.Sprintf(reloadCollector, "edited"), "'edited_metric'", "'edited_v2'", 1)), 0o644))
	waitFor(t, 20*time.Second, "the edited script's points", func() bool {
		return strings.Contains(strings.Join(readLines(t, filepath.Join(out, "metric.lp")), "\n"), "edited_v2,")
	})
	assert.Len(t, pidsOf(p.stderr.String(), "edited"), 2)
	assert.Equal(t, other, pidsOf(p.stderr.String(), "other"))
	assert.Equal(t, 0, p.stop(t))
}

// The agent run in this process (so that -race sees it): reloads that
// replace inputs while /metrics and /v1/status are read concurrently, and
// a clean return when ctx is cancelled.
func TestReloadInProcess(t *testing.T) {
	dir := t.TempDir()
	writePythondDirs(t, dir, "inproc")
	prom := exporter(t, "inproc_gauge")
	cfgText := func(n int) string {
		return fmt.Sprintf(`listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "inproc"
dirs = ["inproc"]
[inputs.pythond.tags]
generation = "%d"
[[inputs.prom]]
name = "p%d"
urls = [%q]
interval = "1s"
`, n%2, n, prom)
	}
	cfg := writeFile(t, dir, "a.toml", cfgText(0))
	var stdout, stderr testkit.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan struct{})
	errc := make(chan error, 1)
	go func() { errc <- runAgent(ctx, []string{"-config", cfg}, &stdout, &stderr, reload) }()
	var addr string
	waitFor(t, 15*time.Second, "the listener", func() bool {
		m := listenRE.FindStringSubmatch(stderr.String())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for _, path := range []string{"/metrics", "/v1/status", "/status", "/ready"} {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get("http://" + addr + path)
				if err != nil {
					t.Errorf("GET %s: %v", path, err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d", path, resp.StatusCode)
				}
			}
		}()
	}
	for n := 1; n <= 3; n++ {
		require.NoError(t, os.WriteFile(cfg, []byte(cfgText(n)), 0o644))
		reload <- struct{}{}
		waitFor(t, 20*time.Second, "the reload", func() bool {
			return strings.Count(stderr.String(), `msg="configuration reloaded"`) == n
		})
	}
	waitFor(t, 20*time.Second, "the last generation's points", func() bool {
		return strings.Contains(stdout.String(), "inproc_metric,generation=1,") && strings.Contains(stdout.String(), "inproc_gauge,")
	})
	close(stop)
	readers.Wait()
	cancel()
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	assert.Len(t, pidsOf(stderr.String(), "inproc"), 4, "the changed input was restarted at each reload")
}
