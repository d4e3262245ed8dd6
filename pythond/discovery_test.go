package pythond

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// collector returns a module source defining one collector that reports
// a metric named after it once per run.
func collector(class string) string {
	return `
from datakit_framework import DataKitFramework

class ` + class + `(DataKitFramework):
    name = '` + class + `'
    interval = 60

    def run(self):
        self.feed_metric(measurement='` + class + `', fields={'ran': 1})
`
}

// TestDiscovery checks DataKit's discovery rules: files and one level of
// packages under each dir, __init__.py skipped, single files, and what is
// and is not a collector.
func TestDiscovery(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("d/top.py", collector("Top"))
	h.write("d/pkg/inner.py", collector("Inner"))
	h.write("d/pkg/__init__.py", collector("InPackageInit"))
	h.write("d/__init__.py", collector("InDirInit"))
	h.write("d/deep/er/toodeep.py", collector("TooDeep"))
	h.write("d/notes.txt", "not python")
	h.write("d/.hidden.py", collector("Hidden"))
	h.write("d/importer.py", `
from top import Top  # imported, not defined here: must not run twice
from datakit_framework import DataKitFramework

class Base(DataKitFramework):
    """An intermediate class without run(): skipped."""
    interval = 60

class Derived(Base):
    name = 'Derived'
    def run(self):
        self.feed_metric(measurement='Derived', fields={'ran': 1})
`)
	h.write("d/nointerval.py", `
from datakit_framework import DataKitFramework

class NoInterval(DataKitFramework):
    name = 'NoInterval'  # no interval: DataKit crashes, we use 10s

    def run(self):
        self.feed_metric(measurement='NoInterval', fields={'ran': 1})
`)
	h.write("d/missingdep.py", "import collectkit_no_such_dependency\n"+collector("MissingDep"))
	h.write("d/syntax.py", "def broken(:\n")
	h.write("d/initfails.py", `
from datakit_framework import DataKitFramework

class InitFails(DataKitFramework):
    name = 'InitFails'
    interval = 60
    def __init__(self):
        raise RuntimeError("no config")
    def run(self):
        pass
`)
	h.write("other/single.py", collector("Single"))
	h.write("other/ignored.py", collector("NotListed"))
	h.write("third/dup.py", collector("Dup")) // same module name as below: first wins
	h.write("fourth/dup.py", collector("DupShadowed"))

	h.start(h.options(Input{Dirs: []string{"d", "other/single.py", "third", "fourth"}}))
	h.waitPoints(6, 10*time.Second)
	imports := h.errs.wait(t, KindImport, 2, 5*time.Second)
	inits := h.errs.wait(t, KindInit, 1, 5*time.Second)
	time.Sleep(200 * time.Millisecond) // let a wrong extra collector show up
	h.stop()

	var names []string
	for _, p := range h.rec.Points() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"Derived", "Dup", "Inner", "NoInterval", "Single", "Top"}, names)

	require.Len(t, imports, 2)
	var sawMissing, sawSyntax bool
	for _, e := range imports {
		switch msg := e.Message; {
		case strings.Contains(msg, "module missingdep needs collectkit_no_such_dependency, which is not installed"):
			sawMissing = true
			assert.Contains(t, e.Traceback, "ModuleNotFoundError")
		case strings.Contains(msg, "module syntax failed to import: SyntaxError"):
			sawSyntax = true
			assert.Contains(t, e.Traceback, "syntax.py")
		}
	}
	assert.True(t, sawMissing, "missing dependency named: %v", imports)
	assert.True(t, sawSyntax, "syntax error reported: %v", imports)
	assert.Equal(t, "InitFails", inits[0].Collector)
	assert.Contains(t, inits[0].Traceback, "RuntimeError: no config")
	assert.NotEmpty(t, h.logs.find("does not override run()"))
	assert.NotEmpty(t, h.logs.find("running 6 collector(s)"))
}

// TestNoCollectors checks that a dir without collectors is an error that
// says so, and that the process is retried.
func TestNoCollectors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("empty/helper.py", "X = 1\n")
	h.start(h.options(Input{Dirs: []string{"empty"}}))
	disc := h.errs.wait(t, KindDiscover, 2, 10*time.Second)
	assert.Contains(t, disc[0].Message, "no collector found")
	exits := h.errs.wait(t, KindExit, 1, 5*time.Second)
	assert.Contains(t, exits[0].Message, "no collector could be started")
}
