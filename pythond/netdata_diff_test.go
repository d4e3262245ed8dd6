package pythond

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond/internal/netdata"
	"github.com/collectkit/collectkit/pythond/internal/netdataconf"
)

// Differential tests: Debian's stock python.d modules, in place, under the
// real python.d.plugin and under our runtime, with the loopback fixtures of
// netdata_fixtures_test.go.

// ndChart is a chart as announced on plugins.d: its CHART words after the id
// and its DIMENSION lines, in order.
type ndChart struct {
	Def  []string
	Dims [][]string
}

// ndOutput is what a plugins.d stream says: the last definition of each
// chart, and each chart's updates in order (dimension id → value as sent).
type ndOutput struct {
	Charts  map[string]*ndChart
	Updates map[string][]map[string]string
}

// ndParse reads plugins.d text. It is deliberately independent of the chart
// engine: it checks what each side sent, the engine is checked on top.
func ndParse(t *testing.T, text string) ndOutput {
	t.Helper()
	out := ndOutput{Charts: map[string]*ndChart{}, Updates: map[string][]map[string]string{}}
	var cur *ndChart
	var begun string
	var set map[string]string
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		w := ndWords(sc.Text())
		if len(w) == 0 {
			continue
		}
		switch w[0] {
		case "CHART":
			require.GreaterOrEqual(t, len(w), 2, "CHART line %q", sc.Text())
			cur = &ndChart{Def: w[2:]}
			out.Charts[w[1]] = cur
		case "DIMENSION":
			require.NotNil(t, cur, "DIMENSION before CHART: %q", sc.Text())
			cur.Dims = append(cur.Dims, w[1:])
		case "BEGIN":
			begun, set = w[1], map[string]string{}
		case "SET":
			require.NotEmpty(t, begun, "SET outside BEGIN: %q", sc.Text())
			if len(w) >= 4 && w[2] == "=" {
				set[w[1]] = w[3]
			} else if len(w) == 3 && w[2] == "=" {
				set[w[1]] = ""
			}
		case "END":
			if begun != "" {
				out.Updates[begun] = append(out.Updates[begun], set)
			}
			begun = ""
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// ndWords splits a plugins.d line into words; single or double quotes group.
func ndWords(line string) []string {
	var words []string
	for i := 0; i < len(line); {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i >= len(line) {
			break
		}
		if q := line[i]; q == '\'' || q == '"' {
			j := strings.IndexByte(line[i+1:], q)
			if j < 0 {
				words = append(words, line[i+1:])
				break
			}
			words = append(words, line[i+1:i+1+j])
			i += j + 2
			continue
		}
		j := strings.IndexByte(line[i:], ' ')
		if j < 0 {
			words = append(words, line[i:])
			break
		}
		words = append(words, line[i:i+j])
		i += j
	}
	return words
}

// chartsWithData lists, sorted, the charts that got at least one value.
func (o ndOutput) chartsWithData() []string {
	var ids []string
	for id, ups := range o.Updates {
		for _, u := range ups {
			if len(u) > 0 {
				ids = append(ids, id)
				break
			}
		}
	}
	sort.Strings(ids)
	return ids
}

// ndJobsFile resolves the fixture's config with netdataconf, the way our
// framework does, and writes the jobs file.
func ndJobsFile(t *testing.T, e ndEnv, module string) string {
	t.Helper()
	jf, err := netdataconf.Resolve(netdataconf.Options{
		ModuleDirs: []string{ndStockDir},
		ConfDir:    e.confDir,
		Modules:    []string{module},
	})
	require.NoError(t, err)
	require.Len(t, jf.Modules, 1, "module %s resolved", module)
	p := filepath.Join(e.dir, "jobs.json")
	fh, err := os.Create(p)
	require.NoError(t, err)
	_, err = jf.WriteTo(fh)
	require.NoError(t, err)
	require.NoError(t, fh.Close())
	return p
}

// ndRunner is our runtime's Netdata runner script.
func ndRunner(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("py", "runtime", "run_netdata.py"))
	require.NoError(t, err)
	if _, err := os.Stat(p); err != nil {
		msg := "py/runtime/run_netdata.py is not in this tree yet"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}

// ndNeedService skips (fails under CI) while our runtime lacks the framework
// class a module needs.
func ndNeedService(t *testing.T, runner, service string) {
	t.Helper()
	p := filepath.Join(filepath.Dir(runner), "..", "netdata", "bases", "FrameworkServices", service+".py")
	if _, err := os.Stat(p); err != nil {
		msg := fmt.Sprintf("our runtime has no bases.FrameworkServices.%s yet", service)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestNetdataDifferential runs each fixture's module under the real
// python.d.plugin and under our runner and compares what they send: same
// charts, same definitions, same dimensions, same values for every update
// both sides made, and the same points once through the chart engine. It
// also proves each fixture: the real plugin must give its charts data.
func TestNetdataDifferential(t *testing.T) {
	ndNeedNetdata(t)
	runner := ndRunner(t)
	for _, f := range ndFixtures() {
		t.Run(f.module, func(t *testing.T) {
			t.Parallel()
			ndNeedService(t, runner, f.service)
			// Both sides at once, each against its own instance of the
			// fixture (fixtures count requests to vary their values).
			eReal, eOurs := ndPrepare(t, f), ndPrepare(t, f)
			jobs := ndJobsFile(t, eOurs, f.module)
			var realText string
			done := make(chan struct{})
			go func() {
				defer close(done)
				realText = ndRunReal(t, eReal, f)
			}()
			oursText := ndRunUntil(t, ndRunTimeout, f.charts, ndRounds, eOurs.env, ndPython, runner, "--name", "netdata", "--stdout", "--jobs-file", jobs)
			<-done
			realOut, oursOut := ndParse(t, realText), ndParse(t, oursText)
			ndCompare(t, f, realOut, oursOut)
			ndComparePoints(t, ndPoints(t, realText), ndPoints(t, oursText))
		})
	}
}

func ndCompare(t *testing.T, f ndFixture, realOut, oursOut ndOutput) {
	t.Helper()
	require.NotEmpty(t, realOut.chartsWithData(), "python.d.plugin sent no data")
	// The fixture works: the real plugin gives every expected chart data.
	for _, id := range f.charts {
		assert.Contains(t, realOut.chartsWithData(), id, "chart with data under python.d.plugin")
		assert.GreaterOrEqual(t, len(realOut.Updates[id]), 2, "updates of %s under python.d.plugin", id)
	}
	require.NotEmpty(t, oursOut.chartsWithData(), "our runner sent no data")
	assert.Equal(t, realOut.chartsWithData(), oursOut.chartsWithData(), "charts with data")
	for id, rc := range realOut.Charts {
		if strings.HasPrefix(id, "netdata.runtime_") {
			continue
		}
		oc, ok := oursOut.Charts[id]
		if !assert.True(t, ok, "chart %s announced by ours", id) {
			continue
		}
		assert.Equal(t, rc.Def, oc.Def, "definition of %s", id)
		assert.Equal(t, rc.Dims, oc.Dims, "dimensions of %s", id)
		ru, ou := realOut.Updates[id], oursOut.Updates[id]
		ndAssertAligned(t, "updates of "+id, len(ru), len(ou),
			func(i, j int) bool { return reflect.DeepEqual(ru[i], ou[j]) },
			func() string { return fmt.Sprintf("real %v\nours %v", ru, ou) })
	}
}

// ndPoints feeds a plugins.d stream through the chart engine on a synthetic
// clock (one second per round of updates, so both sides are timed alike) and
// groups the points by their chart tag.
func ndPoints(t *testing.T, text string) map[string][]point.Point {
	t.Helper()
	e := netdata.New(netdata.Options{})
	now := time.Unix(1_700_000_000, 0)
	begun := map[string]bool{}
	var pts []point.Point
	for _, line := range strings.Split(text, "\n") {
		if w := ndWords(line); len(w) >= 2 && w[0] == "BEGIN" {
			if begun[w[1]] { // a new round of updates
				now = now.Add(time.Second)
				clear(begun)
			}
			begun[w[1]] = true
			// Without the measured microseconds the engine times
			// incremental dimensions by the synthetic clock.
			line = "BEGIN " + w[1]
		}
		var err error
		pts, err = e.Feed(pts, []byte(line), now)
		if err != nil && !errors.Is(err, netdata.ErrDisabled) {
			t.Errorf("engine: %v", err)
		}
	}
	by := map[string][]point.Point{}
	for _, p := range pts {
		for _, tag := range p.Tags {
			if tag.Key == "chart" {
				by[tag.Value] = append(by[tag.Value], p)
			}
		}
	}
	return by
}

// ndComparePoints checks that both sides give the same points (measurement,
// tags, fields and values) for every update both made.
func ndComparePoints(t *testing.T, realPts, oursPts map[string][]point.Point) {
	t.Helper()
	require.NotEmpty(t, realPts, "points from python.d.plugin")
	for id, rp := range realPts {
		op := oursPts[id]
		ndAssertAligned(t, "points of "+id, len(rp), len(op),
			func(i, j int) bool {
				return rp[i].Name == op[j].Name && reflect.DeepEqual(rp[i].Tags, op[j].Tags) && reflect.DeepEqual(rp[i].Fields, op[j].Fields)
			},
			func() string { return fmt.Sprintf("real %v\nours %v", rp, op) })
	}
	assert.Len(t, oursPts, len(realPts), "charts with points")
}

// TestNetdataConfMatchesRealPlugin checks netdataconf's job resolution
// against python.d.plugin: for each example.conf the chart types (job or
// override names), update_every and priority (explicit, or the module's
// global priority = 90000) of the CHART lines are the ones netdataconf gives.
func TestNetdataConfMatchesRealPlugin(t *testing.T) {
	ndNeedNetdata(t)
	const examplePriority = 90000 // example.chart.py's module global
	tests := []struct {
		name   string
		conf   string
		minArg int
	}{
		{name: "multi job, top-level defaults, spaces in names",
			conf: "update_every: 2\npriority: 70000\nnum_lines: 9\n" +
				"a  b:\n  num_lines: 1\n" +
				"c:\n  name: \"My \\t Job\"\n  num_lines: 1\n  priority: 71000\n" +
				"d:\n  num_lines: 1\n  update_every: 1\n"},
		{name: "multi job without top-level defaults takes the module global priority",
			conf: "x:\n  num_lines: 1\ny:\n  num_lines: 1\n  penalty: no\n  chart_cleanup: 0\n"},
		{name: "single job form with a name",
			conf: "name: Single One\nnum_lines: 1\nupdate_every: 2\n"},
		{name: "same name twice: the first job serves it",
			conf: "first:\n  name: same\n  num_lines: 1\n  priority: 75000\nsecond:\n  name: same\n  num_lines: 1\n"},
		{name: "minimum update_every",
			conf:   "fast:\n  num_lines: 1\n  update_every: 1\nslow:\n  num_lines: 1\n  update_every: 3\n",
			minArg: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := ndFixture{module: "example", setup: func(*testing.T, string, string) string { return tt.conf }}
			e := ndPrepare(t, f)
			jf, err := netdataconf.Resolve(netdataconf.Options{
				ModuleDirs: []string{ndStockDir}, ConfDir: e.confDir,
				Modules: []string{"example"}, UpdateEveryMin: tt.minArg,
			})
			require.NoError(t, err)
			require.Len(t, jf.Modules, 1)
			want := map[string][2]string{} // chart id → priority, update_every
			var ids []string
			for _, j := range jf.Modules[0].Jobs {
				id := "example_" + j.ActualName() + ".random"
				if _, dup := want[id]; dup {
					continue // served by the first job of that name
				}
				prio := examplePriority
				for _, k := range j.Explicit {
					if k == netdataconf.KeyPriority {
						prio = j.Priority
					}
				}
				want[id] = [2]string{fmt.Sprint(prio), fmt.Sprint(j.UpdateEvery)}
				ids = append(ids, id)
			}
			minArg := max(tt.minArg, 1)
			out := ndParse(t, ndRunUntil(t, ndRunTimeout, ids, 1, e.env, ndPython, ndRealPlugin, fmt.Sprint(minArg), "example"))
			got := map[string][2]string{}
			for id, c := range out.Charts {
				require.GreaterOrEqual(t, len(c.Def), 8, "CHART %s", id)
				got[id] = [2]string{c.Def[6], c.Def[7]}
			}
			assert.Equal(t, want, got)
		})
	}
}

// ndAssertAligned compares two runs' sequences of updates (or points) in
// order while letting either side have skipped some: a loaded machine makes
// a runtime skip an iteration or a fixture answer one request more, and the
// fixtures' values follow the request count. The longest common subsequence
// must hold at least two entries and at least half of the shorter side, so a
// wrong value anywhere still fails.
func ndAssertAligned(t *testing.T, what string, nReal, nOurs int, eq func(i, j int) bool, dump func() string) {
	t.Helper()
	n := min(nReal, nOurs)
	if !assert.GreaterOrEqual(t, n, 2, "%s on both sides (real %d, ours %d)", what, nReal, nOurs) {
		return
	}
	lcs := make([][]int, nReal+1)
	for i := range lcs {
		lcs[i] = make([]int, nOurs+1)
	}
	for i := nReal - 1; i >= 0; i-- {
		for j := nOurs - 1; j >= 0; j-- {
			if eq(i, j) {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	m := lcs[0][0]
	assert.True(t, m >= 2 && 2*m >= n, "%s: %d of %d agree in order\n%s", what, m, n, dump())
}
