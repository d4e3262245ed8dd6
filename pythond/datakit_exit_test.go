package pythond

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDataKitExitStatus3 checks the runner's side of "no collector could
// be started": the host is told by a record sent before the exit, never by
// the exit status alone. A collector that exits with status 3 once running
// is an ordinary exit; one whose run() raises SystemExit(3) is a run error
// and the process goes on; a dir without collectors sends the record, which
// the CLI log shows too.
func TestDataKitExitStatus3(t *testing.T) {
	t.Parallel()
	t.Run("os._exit(3) in run()", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.write("ex/ex.py", `
import os
from datakit_framework import DataKitFramework

class Quits(DataKitFramework):
    name = 'Quits'
    interval = 3600

    def run(self):
        self.feed_metric(measurement="before", fields={"f": 1})
        os._exit(3)
`)
		h.start(h.options(Input{Dirs: []string{"ex"}}))
		h.waitPoints(1, 10*time.Second)
		exits := h.errs.wait(t, KindExit, 1, 10*time.Second)
		assert.Contains(t, exits[0].Message, "exit status 3")
		assert.NotContains(t, exits[0].Message, "no collector")
		assert.Empty(t, h.errs.kind(KindDiscover))
	})
	t.Run("sys.exit(3) in run()", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.write("ex/ex.py", `
import sys
from datakit_framework import DataKitFramework

class Exits(DataKitFramework):
    name = 'Exits'
    interval = 0.05

    def run(self):
        self.feed_metric(measurement="ran", fields={"f": 1})
        sys.exit(3)
`)
		h.start(h.options(Input{Dirs: []string{"ex"}}))
		runs := h.errs.wait(t, KindRun, 2, 10*time.Second)
		assert.Contains(t, runs[0].Message, "run() raised SystemExit: 3")
		h.waitPoints(2, 5*time.Second) // it ran again
		assert.Empty(t, h.errs.kind(KindExit), "SystemExit in run() does not end the process")
	})
	t.Run("no collectors", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		h.write("empty/helper.py", "X = 1\n")
		dir := t.TempDir()
		opts := h.options(Input{Name: "empty", Dirs: []string{"empty"}})
		withCollectorLogs(t, &opts, CollectorLogs{Dir: dir})
		h.start(opts)
		disc := h.errs.wait(t, KindDiscover, 1, 10*time.Second)
		assert.Contains(t, disc[0].Message, "no collector found")
		exits := h.errs.wait(t, KindExit, 1, 5*time.Second)
		assert.Contains(t, exits[0].Message, "exit status 3 (no collector could be started)")
		cli := readLog(filepath.Join(dir, "_datakit_pythond_cli.log"))
		assert.Contains(t, cli, "ERROR [empty] pythond: no collector found in ")
		assert.False(t, strings.Contains(cli, "running "), "nothing was started:\n%s", cli)
	})
}
