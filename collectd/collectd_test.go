package collectd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/stretchr/testify/require"
)

// The tests in this package that run the real collectd daemon (Debian's
// collectd-core 5.12, with libpython3.11 for its python plugin and libyajl2
// for write_http's JSON) skip when it is missing, and fail under CI.

const collectdBin = "/usr/sbin/collectd"

func requireCollectd(t testing.TB) {
	t.Helper()
	requireFile(t, collectdBin)
	requireFile(t, "/usr/lib/collectd/python.so")
	requireFile(t, DefaultTypesDB)
	for _, lib := range []string{"libpython3.11.so.1.0", "libyajl.so.2"} {
		found := false
		for _, dir := range []string{"/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"} {
			if _, err := os.Stat(filepath.Join(dir, lib)); err == nil {
				found = true
			}
		}
		if !found {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is required under CI", lib)
			}
			t.Skipf("%s missing", lib)
		}
	}
}

// daemon is a running collectd.
type daemon struct {
	cmd  *exec.Cmd
	out  *testkit.SyncBuffer
	done chan struct{}
}

// startCollectd runs collectd in the foreground with the given
// configuration; it is stopped (SIGTERM, then killed) at the end of the
// test, and its output logged when the test failed.
func startCollectd(t *testing.T, conf string) *daemon {
	t.Helper()
	return startCollectdEnv(t, conf)
}

// startCollectdEnv is startCollectd with more environment variables.
func startCollectdEnv(t *testing.T, conf string, env ...string) *daemon {
	t.Helper()
	requireCollectd(t)
	file := filepath.Join(t.TempDir(), "collectd.conf")
	require.NoError(t, os.WriteFile(file, []byte(conf), 0o600))
	d := &daemon{out: &testkit.SyncBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(collectdBin, "-f", "-C", file)
	d.cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"}, env...)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	require.NoError(t, d.cmd.Start())
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			t.Logf("collectd output:\n%s", d.out.String())
		}
	})
	return d
}

// stop ends collectd with SIGTERM, which makes it flush its buffers, and
// kills it if it has not exited after five seconds.
func (d *daemon) stop() {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(ctx context.Context, d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
	return cond()
}

func absTestdata(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs("testdata")
	require.NoError(t, err)
	return dir
}
