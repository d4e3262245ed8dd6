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
	h.write("third/dup.py", collector("Dup")) // same file name as below: both load
	h.write("fourth/dup.py", collector("DupToo"))

	h.start(h.options(Input{Dirs: []string{"d", "other/single.py", "third", "fourth"}}))
	h.waitPoints(7, 10*time.Second)
	imports := h.errs.wait(t, KindImport, 2, 5*time.Second)
	inits := h.errs.wait(t, KindInit, 1, 5*time.Second)
	time.Sleep(200 * time.Millisecond) // let a wrong extra collector show up
	h.stop()

	var names []string
	for _, p := range h.rec.Points() {
		names = append(names, p.Name)
	}
	sort.Strings(names)
	assert.Equal(t, []string{"Derived", "Dup", "DupToo", "Inner", "NoInterval", "Single", "Top"}, names)

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
	assert.NotEmpty(t, h.logs.find("running 7 collector(s)"))
}

// seedMyTest is the complete example of DataKit's pythond documentation,
// unchanged: python.d/mytest/test.py with class MyTest.
const seedMyTest = `from datakit_framework import DataKitFramework

class MyTest(DataKitFramework):
    name = 'MyTest'
    interval = 10 # triggered interval seconds.

    # if your datakit ip is 127.0.0.1 and port is 9529, you won't need use this,
    # just comment it.
    # def __init__(self, **kwargs):
    #     super().__init__(ip = '127.0.0.1', port = 9529)

    def run(self):
        print("MyTest")
        data = [
                {
                    "measurement": "abc",
                    "tags": {
                      "t1": "b",
                      "t2": "d"
                    },
                    "fields": {
                      "f1": 123,
                      "f2": 3.4,
                      "f3": "strval"
                    },
                    # "time": 1624550216 # you don't need this
                },

                {
                    "measurement": "def",
                    "tags": {
                      "t1": "b",
                      "t2": "d"
                    },
                    "fields": {
                      "f1": 123,
                      "f2": 3.4,
                      "f3": "strval"
                    },
                    # "time": 1624550216 # you don't need this
                }
            ]

        in_data = {
            'M':data,
            'input': "datakitpy"
        }

        return self.report(in_data) # you must call self.report here
`

// TestModuleLoading checks that user files are loaded by path: the seed's
// own example (mytest/test.py, which the standard library's test package
// would shadow), two dirs with a main.py each, sibling and relative
// imports, and a package's __init__.py run as its import would.
func TestModuleLoading(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("mytest/test.py", seedMyTest)
	h.write("a/main.py", "from helper import NAME\n"+strings.ReplaceAll(collector("MainA"), "measurement='MainA'", "measurement=NAME"))
	h.write("a/helper.py", "NAME = 'from_helper_a'\n")
	h.write("b/main.py", collector("MainB"))
	h.write("c/pkg/__init__.py", "PKG_INIT = 'ran'\n")
	h.write("c/pkg/util.py", "VALUE = 'rel'\n")
	h.write("c/pkg/json.py", `
from . import util, PKG_INIT
from pkg.util import VALUE  # as under DataKit, with c on sys.path
import json as stdjson      # the standard library's, not this file
from datakit_framework import DataKitFramework

class Rel(DataKitFramework):
    name = 'Rel'
    interval = 60

    def run(self):
        self.feed_metric(measurement='Rel', tags={'v': util.VALUE + VALUE, 'init': PKG_INIT + stdjson.dumps([1])}, fields={'n': 1})
`)
	h.start(h.options(Input{Dirs: []string{"mytest", "a", "b", "c"}}))
	pts := h.waitPoints(5, 10*time.Second)
	got := map[string]string{}
	for _, p := range pts {
		v, _ := p.Tag("v")
		init, _ := p.Tag("init")
		got[p.Name] = v + init
	}
	assert.Equal(t, map[string]string{"abc": "", "def": "", "from_helper_a": "", "MainB": "", "Rel": "relrelran[1]"}, got, h.logs.dump())
	for _, b := range h.rec.Batches() {
		for _, p := range b.Points {
			if p.Name == "abc" {
				// Collectors run concurrently: find the seed's batch by its points.
				assert.Equal(t, "datakitpy", b.Input)
			}
		}
	}
	for _, p := range pts {
		if p.Name == "abc" {
			f1, _ := p.Field("f1")
			assert.Equal(t, 123.0, f1.Float(), "an int is a float, as in DataKit")
			_, hasStr := p.Field("f3")
			assert.False(t, hasStr, "a metric's string field is dropped")
		}
	}
	assert.Empty(t, h.errs.kind(KindImport))
	assert.Empty(t, h.errs.kind(KindExit))
	assert.NotEmpty(t, h.logs.find("MyTest"), "the seed's print is logged")
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
