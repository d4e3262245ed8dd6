package pythond

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// waitStatus polls s.Status until cond holds for the input named name, and
// returns that input's status.
func waitStatus(t *testing.T, s *Supervisor, name string, what string, cond func(InputStatus) bool) InputStatus {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last InputStatus
	for time.Now().Before(deadline) {
		for _, in := range s.Status().Inputs {
			if in.Name == name {
				last = in
				if cond(in) {
					return in
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("input %s: %s did not happen; last status %+v", name, what, last)
	return last
}

func collectorOf(in InputStatus, name string) (CollectorStatus, bool) {
	for _, c := range in.Collectors {
		if c.Name == name {
			return c, true
		}
	}
	return CollectorStatus{}, false
}

// TestStatus runs four inputs: one healthy, one whose run() raises, one
// whose process exits in run(), one whose run() hangs past run_timeout,
// and checks what Status says of each.
func TestStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ok/ok.py", `
from datakit_framework import DataKitFramework

class Good(DataKitFramework):
    name = 'Good'
    interval = 0.2

    def run(self):
        self.report({'M': [{"measurement": "m", "fields": {"f": 1}}], 'input': 'ok'})
`)
	h.write("raises/raises.py", `
from datakit_framework import DataKitFramework

class Raises(DataKitFramework):
    name = 'Raises'
    interval = 0.2

    def run(self):
        raise ValueError("boom")
`)
	h.write("exits/exits.py", `
import os
from datakit_framework import DataKitFramework

class Exits(DataKitFramework):
    name = 'Exits'
    interval = 60

    def run(self):
        os._exit(3)
`)
	h.write("hangs/hangs.py", `
import time
from datakit_framework import DataKitFramework

class Hangs(DataKitFramework):
    name = 'Hangs'
    interval = 60

    def run(self):
        time.sleep(3600)
`)
	py := testkit.Python(t)
	opts := h.options(
		Input{Name: "ok", Cmd: py, Dirs: []string{"ok"}},
		Input{Name: "raises", Cmd: py, Dirs: []string{"raises"}},
		Input{Name: "exits", Cmd: py, Dirs: []string{"exits"}},
		Input{Name: "hangs", Cmd: py, Dirs: []string{"hangs"}, RunTimeout: Duration(300 * time.Millisecond)},
	)
	s, err := New(opts)
	require.NoError(t, err)
	before := s.Status()
	require.Len(t, before.Inputs, 4)
	for _, in := range before.Inputs {
		assert.Equal(t, StatePending, in.State, in.Name)
		assert.Equal(t, "datakit", in.Framework)
		assert.Equal(t, py, in.Cmd)
		assert.Len(t, in.Dirs, 1)
	}
	h.start(opts)
	s = h.sup

	ok := waitStatus(t, s, "ok", "3 runs", func(in InputStatus) bool {
		c, found := collectorOf(in, "Good")
		return found && c.Runs >= 3 && in.Points >= 3
	})
	assert.Equal(t, StateRunning, ok.State)
	assert.NotZero(t, ok.PID)
	assert.False(t, ok.Started.IsZero())
	assert.Zero(t, ok.Restarts)
	assert.Empty(t, ok.Problem)
	assert.GreaterOrEqual(t, ok.Reports, uint64(3))
	assert.Zero(t, ok.Rejected)
	good, _ := collectorOf(ok, "Good")
	assert.Zero(t, good.Failures)
	assert.Empty(t, good.LastError)
	assert.Positive(t, good.LastDuration)
	assert.False(t, good.LastRun.IsZero())
	assert.False(t, good.Overdue)

	raises := waitStatus(t, s, "raises", "2 failed runs", func(in InputStatus) bool {
		c, found := collectorOf(in, "Raises")
		return found && c.Failures >= 2
	})
	r, _ := collectorOf(raises, "Raises")
	assert.Equal(t, StateRunning, raises.State, "a run that raises does not stop the process")
	assert.Equal(t, "ValueError: boom", r.LastError)
	assert.GreaterOrEqual(t, r.Runs, r.Failures)
	require.NotEmpty(t, raises.LastErrors)
	assert.Equal(t, KindRun, raises.LastErrors[len(raises.LastErrors)-1].Kind)
	assert.Contains(t, raises.LastErrors[len(raises.LastErrors)-1].Message, "boom")

	exits := waitStatus(t, s, "exits", "2 restarts", func(in InputStatus) bool { return in.Restarts >= 2 })
	assert.Equal(t, "exit status 3", exits.LastExit)
	assert.Contains(t, exits.Problem, "exit status 3")
	assert.NotContains(t, exits.Problem, "no collector", "the script's own exit status 3 is not the runner's")
	var exitErrs int
	for _, e := range exits.LastErrors {
		if e.Kind == KindExit {
			exitErrs++
			assert.NotContains(t, e.Message, "no collector")
		}
	}
	assert.Positive(t, exitErrs)
	assert.LessOrEqual(t, len(exits.LastErrors), MaxLastErrors)

	hangs := waitStatus(t, s, "hangs", "an overdue run", func(in InputStatus) bool {
		c, found := collectorOf(in, "Hangs")
		return found && c.Overdue
	})
	hc, _ := collectorOf(hangs, "Hangs")
	assert.True(t, hc.Running)
	assert.Zero(t, hc.Runs, "the run has not ended")
	assert.Equal(t, StateRunning, hangs.State)
	require.NotEmpty(t, hangs.LastErrors)
	assert.Equal(t, KindTimeout, hangs.LastErrors[len(hangs.LastErrors)-1].Kind)

	h.stop()
	for _, in := range s.Status().Inputs {
		assert.Equal(t, StateStopped, in.State, in.Name)
		assert.Zero(t, in.PID, in.Name)
		for _, c := range in.Collectors {
			assert.False(t, c.Running, c.Name)
		}
	}
}

// TestStatusExitCodes checks that a script's own os._exit(3), in run() or
// while its module is imported, is told as its exit status and not taken
// for the runner's "no collector could be started", while a dir without
// collectors is.
func TestStatusExitCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("inrun/x.py", `
import os
from datakit_framework import DataKitFramework

class X(DataKitFramework):
    name = 'X'
    interval = 60

    def run(self):
        os._exit(3)
`)
	h.write("atimport/y.py", `
import os
os._exit(3)
`)
	h.write("empty/README.txt", "no collector here\n")
	opts := h.options(
		Input{Name: "inrun", Dirs: []string{"inrun"}},
		Input{Name: "atimport", Dirs: []string{"atimport"}},
		Input{Name: "empty", Dirs: []string{"empty"}},
	)
	h.start(opts)
	for _, name := range []string{"inrun", "atimport"} {
		in := waitStatus(t, h.sup, name, "an exit", func(in InputStatus) bool { return in.LastExit != "" && in.Problem != "" })
		assert.Equal(t, "exit status 3", in.LastExit, name)
		assert.NotContains(t, in.Problem, "no collector", name)
		assert.Contains(t, []State{StateBackoff, StateStarting, StateRunning}, in.State, name)
	}
	empty := waitStatus(t, h.sup, "empty", "broken", func(in InputStatus) bool { return in.State == StateBroken })
	assert.Equal(t, "exit status 3", empty.LastExit)
	assert.Contains(t, empty.Problem, "no collector could be started")
	for _, e := range h.errs.kind(KindExit) {
		if e.Name != "empty" {
			assert.False(t, strings.Contains(e.Message, "no collector"), e.Message)
		}
	}
}
