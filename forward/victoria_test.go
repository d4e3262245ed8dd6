package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// victoria is a real VictoriaMetrics single node on a loopback port with
// its own data directory, for integration tests.
type victoria struct {
	t    testing.TB
	bin  string
	dir  string
	addr string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	logs bytes.Buffer
}

// findVictoria returns the path of the victoria-metrics binary. Without
// one the test is skipped loudly, or fails when the CI variable is set.
func findVictoria(t testing.TB) string {
	t.Helper()
	if p, err := exec.LookPath("victoria-metrics"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/bin/victoria-metrics"); err == nil {
		return "/usr/bin/victoria-metrics"
	}
	if os.Getenv("CI") != "" {
		t.Fatal("victoria-metrics is not installed, and CI is set: install the Debian package victoria-metrics (.ci/run does)")
	}
	t.Skip("!!!!! SKIPPING: victoria-metrics is not installed; `apt-get install -y victoria-metrics` to run the integration tests !!!!!")
	return ""
}

func freeLoopbackAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// startVictoria starts VictoriaMetrics and stops it when the test ends.
func startVictoria(t testing.TB) *victoria {
	t.Helper()
	v := &victoria{t: t, bin: findVictoria(t), dir: t.TempDir(), addr: freeLoopbackAddr(t)}
	v.start()
	t.Cleanup(v.stop)
	return v
}

// URL returns the base URL, for example http://127.0.0.1:41234.
func (v *victoria) URL() string { return "http://" + v.addr }

func (v *victoria) start() {
	v.t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	cmd := exec.Command(v.bin,
		"-httpListenAddr", v.addr,
		"-storageDataPath", v.dir,
		"-search.disableCache",
		"-retentionPeriod", "100y",
		"-loggerLevel", "WARN",
	)
	cmd.Stdout = &v.logs
	cmd.Stderr = &v.logs
	require.NoError(v.t, cmd.Start())
	v.cmd, v.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		_ = cmd.Wait()
		close(done)
	}(v.done)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(v.URL() + "/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-v.done:
			v.t.Fatalf("victoria-metrics exited at start:\n%s", v.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("victoria-metrics did not become healthy in 15s:\n%s", v.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop stops VictoriaMetrics gracefully (SIGTERM), killing it after 20s.
func (v *victoria) stop() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cmd == nil {
		return
	}
	_ = v.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-v.done:
	case <-time.After(20 * time.Second):
		_ = v.cmd.Process.Kill()
		<-v.done
	}
	v.cmd = nil
}

// samples returns, for the series of metric, how many samples carry each
// value (our points carry their id as value). Samples become searchable a
// little after ingestion (more so just after a restart), so it flushes and
// polls until every id in [0, want) is visible or 30s have passed, then
// reads once more after a pause to catch late duplicates.
func (v *victoria) samples(metric string, want int) map[int]int {
	v.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := v.export(metric)
		complete := true
		for id := range want {
			if got[id] == 0 {
				complete = false
				break
			}
		}
		if complete || time.Now().After(deadline) {
			time.Sleep(500 * time.Millisecond)
			got = v.export(metric)
			return got
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (v *victoria) export(metric string) map[int]int {
	v.t.Helper()
	resp, err := http.Get(v.URL() + "/internal/force_flush")
	require.NoError(v.t, err)
	_ = resp.Body.Close()
	resp, err = http.PostForm(v.URL()+"/api/v1/export", url.Values{"match[]": {metric}})
	require.NoError(v.t, err)
	defer resp.Body.Close()
	require.Equal(v.t, http.StatusOK, resp.StatusCode)
	got := map[int]int{}
	dec := json.NewDecoder(resp.Body)
	for {
		var series struct {
			Values []float64 `json:"values"`
		}
		if err := dec.Decode(&series); err == io.EOF {
			break
		} else {
			require.NoError(v.t, err)
		}
		for _, x := range series.Values {
			got[int(x)]++
		}
	}
	return got
}

// vmLines appends line protocol for ids [start, start+n): measurement
// "fwd", 100 series, the id as the value of field v, and a distinct
// millisecond timestamp per id so that VictoriaMetrics keeps every sample.
func vmLines(dst []byte, base time.Time, start, n int) []byte {
	for id := start; id < start+n; id++ {
		dst = append(dst, "fwd,series=s"...)
		dst = strconv.AppendInt(dst, int64(id%100), 10)
		dst = append(dst, " v="...)
		dst = strconv.AppendInt(dst, int64(id), 10)
		dst = append(dst, "i "...)
		dst = strconv.AppendInt(dst, base.Add(time.Duration(id)*time.Millisecond).UnixNano(), 10)
		dst = append(dst, '\n')
	}
	return dst
}

// checkExactlyOnce asserts that ids [0, n) each arrived once, or, with
// allowDup, at least once; it returns the duplicates.
func checkExactlyOnce(t testing.TB, got map[int]int, n int, allowDup bool) (dups int) {
	t.Helper()
	missing, extra := 0, 0
	var firstMissing []int
	for id := range n {
		switch c := got[id]; {
		case c == 0:
			missing++
			if len(firstMissing) < 10 {
				firstMissing = append(firstMissing, id)
			}
		case c > 1:
			dups += c - 1
		}
	}
	for id := range got {
		if id < 0 || id >= n {
			extra++
		}
	}
	if missing > 0 || extra > 0 || (!allowDup && dups > 0) {
		t.Errorf("of %d points: %d missing (first: %v), %d duplicated, %d unexpected", n, missing, firstMissing, dups, extra)
	}
	return dups
}

func postLP(ctx context.Context, client *http.Client, u string, body []byte) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		switch {
		case resp.StatusCode/100 == 2:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests && attempt < 100:
			time.Sleep(100 * time.Millisecond) // the agent is busy: a well-behaved client waits
			continue
		}
		return fmt.Errorf("POST %s: %d %s", u, resp.StatusCode, msg)
	}
}
