package pythond

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

const watchCollector = `
from datakit_framework import DataKitFramework

class W(DataKitFramework):
    name = 'W'
    interval = 0.2

    def run(self):
        self.report({'M': [{"measurement": "MEASUREMENT", "fields": {"f": 1}}]})
`

// hasPoint reports whether h's sink got a point named name.
func hasPoint(h *harness, name string) bool {
	for _, p := range h.rec.Points() {
		if p.Name == name {
			return true
		}
	}
	return false
}

// TestWatch changes the script of one of two inputs and checks that only
// that input's process is restarted, running the new code.
func TestWatch(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	h.write("a/sub/a.py", strings.Replace(watchCollector, "MEASUREMENT", "a_v1", 1))
	h.write("b/b.py", strings.Replace(watchCollector, "MEASUREMENT", "b_v1", 1))
	opts := h.options(Input{Name: "a", Cmd: py, Dirs: []string{"a"}}, Input{Name: "b", Cmd: py, Dirs: []string{"b"}})
	opts.Watch = true
	h.start(opts)
	a1 := waitStatus(t, h.sup, "a", "points", func(in InputStatus) bool { return in.Points > 0 })
	b1 := waitStatus(t, h.sup, "b", "points", func(in InputStatus) bool { return in.Points > 0 })

	// Files nobody runs change nothing; the script in a subdirectory (as
	// deep as the runner looks) does.
	h.write("a/sub/__pycache__/a.cpython-311.pyc", "x")
	h.write("a/sub/.a.py.swp", "x")
	h.write("a/sub/a.py~", "x")
	h.write("a/sub/a.py", strings.Replace(watchCollector, "MEASUREMENT", "a_v2", 1))
	a2 := waitStatus(t, h.sup, "a", "a restart", func(in InputStatus) bool { return in.PID != 0 && in.PID != a1.PID && in.Points > a1.Points })
	assert.Equal(t, 1, a2.Restarts)
	deadline := time.Now().Add(10 * time.Second)
	for !hasPoint(h, "a_v2") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	assert.True(t, hasPoint(h, "a_v2"), "the new code's points arrive")
	b2 := waitStatus(t, h.sup, "b", "running", func(in InputStatus) bool { return in.State == StateRunning })
	assert.Equal(t, b1.PID, b2.PID, "the other input's process is left alone")
	assert.Zero(t, b2.Restarts)
}

// TestWatchScripts changes one script of an input of one process per
// script: only that script's process restarts; a new script starts
// without restarting the others.
func TestWatchScripts(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	sleeper := "import time\ntime.sleep(3600)\n"
	x := h.write("p/x.py", sleeper)
	y := h.write("p/y.py", sleeper)
	opts := h.options(Input{Name: "p", Framework: FrameworkPrometheus, Cmd: py, Dirs: []string{"p"}})
	opts.Watch = true
	h.start(opts)
	pids := func() map[string]int {
		out := map[string]int{}
		for _, in := range h.sup.Status().Inputs {
			if in.State == StateRunning {
				out[in.Script] = in.PID
			}
		}
		return out
	}
	waitPIDs := func(what string, cond func(map[string]int) bool) map[string]int {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			if p := pids(); cond(p) {
				return p
			}
			time.Sleep(20 * time.Millisecond)
		}
		t.Fatalf("%s did not happen: %v\n%s", what, pids(), h.logs.dump())
		return nil
	}
	before := waitPIDs("both running", func(p map[string]int) bool { return p[x] != 0 && p[y] != 0 })

	require.NoError(t, os.WriteFile(x, []byte("import time\n# changed\ntime.sleep(3600)\n"), 0o644))
	after := waitPIDs("x restarted", func(p map[string]int) bool { return p[x] != 0 && p[x] != before[x] })
	assert.Equal(t, before[y], after[y], "the other script's process is left alone")

	z := filepath.Join(h.root, "p", "z.py")
	require.NoError(t, os.WriteFile(z, []byte(sleeper), 0o644))
	third := waitPIDs("z started", func(p map[string]int) bool { return p[z] != 0 })
	assert.Equal(t, after[x], third[x])
	assert.Equal(t, after[y], third[y])
}

func TestIgnoredPath(t *testing.T) {
	for path, want := range map[string]bool{
		"/d/a.py":                      false,
		"/d/sub/a.py":                  false,
		"/d/a.conf":                    false,
		"/d/__pycache__/a.cpython.pyc": true,
		"/d/__pycache__":               true,
		"/d/.a.py.swp":                 true,
		"/d/a.py~":                     true,
		"/d/#a.py#":                    true,
		"/d/4913":                      true,
		"/d/a.pyc":                     true,
	} {
		assert.Equal(t, want, ignoredPath(path), path)
	}
}
