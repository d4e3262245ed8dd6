package pythond

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

const strictCollector = `
from datakit_framework import DataKitFramework

class C(DataKitFramework):
    name = 'C'
    interval = 0.2

    def run(self):
        self.report({'M': [{"measurement": %q, "fields": {"f": 1}}]})
`

// brokenInputs are inputs that cannot start, beside one that can.
func brokenInputs(py string) []Input {
	return []Input{
		{Name: "ok", Cmd: py, Dirs: []string{"ok"}},
		{Name: "later", Cmd: py, Dirs: []string{"later"}},
		{Name: "nopython", Cmd: "python-collectkit-missing", Dirs: []string{"ok"}},
		{Name: "outside", Cmd: py, Dirs: []string{"../elsewhere"}},
		{Name: "noscripts", Framework: FrameworkPrometheus, Cmd: py, Dirs: []string{"empty"}},
	}
}

// TestNotStrict checks that inputs that cannot start do not fail New: they
// are broken, logged, reported and tried again, while the others run, and
// a dir created later starts its input.
func TestNotStrict(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	h.write("ok/ok.py", strings.Replace(strictCollector, "%q", `"from_ok"`, 1))
	require.NoError(t, os.MkdirAll(filepath.Join(h.root, "empty"), 0o755))
	h.start(h.options(brokenInputs(py)...))

	pts := h.waitPoints(1, 20*time.Second)
	assert.Equal(t, "from_ok", pts[0].Name)
	for name, text := range map[string]string{
		"later":     `"later" does not exist`,
		"nopython":  `Python interpreter "python-collectkit-missing" not found`,
		"outside":   "leaves the python.d root",
		"noscripts": "no .py file in",
	} {
		in := waitStatus(t, h.sup, name, "broken", func(in InputStatus) bool { return in.State == StateBroken && in.Problem != "" })
		assert.Contains(t, in.Problem, text, name)
		assert.Zero(t, in.PID, name)
	}
	nopython := waitStatus(t, h.sup, "nopython", "broken", func(in InputStatus) bool { return true })
	assert.Equal(t, "python-collectkit-missing", nopython.Cmd, "the command as configured")
	errs := h.errs.wait(t, KindDiscover, 8, 10*time.Second)
	byName := map[string]int{}
	for _, e := range errs {
		byName[e.Name]++
	}
	for _, name := range []string{"later", "nopython", "outside", "noscripts"} {
		assert.GreaterOrEqual(t, byName[name], 2, "%s is reported at each attempt", name)
	}
	logged := h.logs.find("input cannot start")
	require.NotEmpty(t, logged)
	assert.Equal(t, slog.LevelError, logged[0].Level)

	// The dir appears: its input starts at its next attempt.
	tmp := filepath.Join(h.root, "later.tmp")
	require.NoError(t, os.MkdirAll(tmp, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(tmp, "c.py"), []byte(strings.Replace(strictCollector, "%q", `"from_later"`, 1)), 0o644))
	require.NoError(t, os.Rename(tmp, filepath.Join(h.root, "later")))
	later := waitStatus(t, h.sup, "later", "running", func(in InputStatus) bool { return in.State == StateRunning && in.Points > 0 })
	assert.Empty(t, later.Problem)
	assert.Equal(t, []string{filepath.Join(h.root, "later")}, later.Dirs)
	found := false
	for _, p := range h.rec.Points() {
		found = found || p.Name == "from_later"
	}
	assert.True(t, found, "the points of the input whose dir appeared arrive")

	// A script appears in the prometheus input's dir: it is listed again.
	h.write("empty/x.py", "import time\ntime.sleep(3600)\n")
	running := waitStatus(t, h.sup, "noscripts", "running", func(in InputStatus) bool { return in.State == StateRunning })
	assert.Equal(t, filepath.Join(h.root, "empty", "x.py"), running.Script)
}

// TestStrict checks that Strict makes New refuse the inputs that cannot
// start, with every problem named, and that invalid values are errors of
// New either way.
func TestStrict(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	h.write("ok/ok.py", "")
	opts := h.options(brokenInputs(py)...)
	opts.Strict = true
	_, err := New(opts)
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrBadDir)
	keys := map[string]bool{}
	for _, e := range flattenErrors(err) {
		var ce *ConfigError
		if errors.As(e, &ce) {
			keys[ce.Key] = true
		}
	}
	assert.Equal(t, map[string]bool{"inputs.pythond[1].dirs[0]": true, "inputs.pythond[2].cmd": true, "inputs.pythond[3].dirs[0]": true, "inputs.pythond[4].dirs[0]": true}, keys)

	for _, strict := range []bool{false, true} {
		opts := h.options(Input{Name: "bad", Cmd: py, Dirs: []string{"ok"}, RestartMin: -1})
		opts.Strict = strict
		_, err := New(opts)
		assert.ErrorIs(t, err, ErrInvalidConfig, "strict %t", strict)
	}
}

// TestKeys: errors name the keys the host gave its inputs, and the index
// where it gave none.
func TestKeys(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	h.write("ok/ok.py", "")
	opts := h.options(Input{Name: "a", Cmd: py, Dirs: []string{"missing"}})
	opts.Keys = []string{"inputs.pythond[7]"}
	opts.Strict = true
	_, err := New(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "inputs.pythond[7].dirs[0]")
	assert.NotContains(t, err.Error(), "inputs.pythond[0]")

	opts = h.options(Input{Name: "a", Cmd: py, Dirs: []string{"ok"}, RestartMin: -1}, Input{Name: "b", Cmd: py, Dirs: []string{"ok"}, RestartMin: -1})
	opts.Keys = []string{"inputs.pythond[7]"}
	_, err = New(opts)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "inputs.pythond[7].restart_min")
	assert.Contains(t, err.Error(), "inputs.pythond[1].restart_min", "no key given: the index")
}
