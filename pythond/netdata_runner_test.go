package pythond

// Tests of the Netdata python.d runtime (py/netdata and
// py/runtime/run_netdata.py) on its own: the runner is started with
// --stdout, so it prints the plugins.d text as python.d.plugin does, and
// job states and logs go to stderr. Where the real python.d.plugin is
// installed, the same modules run under it too and the texts are
// compared.

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

const (
	ndrPython     = testkit.SystemPython
	ndrRealPlugin = "/usr/lib/netdata/plugins.d/python.d.plugin"
	ndrStockDir   = "/usr/lib/netdata/python.d"
)

// ndrSkip skips the test with msg, or fails it under CI.
func ndrSkip(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func ndrNeedRealPlugin(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(ndrRealPlugin); err != nil {
		ndrSkip(t, "needs the real python.d.plugin (apt-get install netdata-plugins-python)")
	}
}

// ndrJob is one job of the jobs file the runner reads.
type ndrJob struct {
	JobName            string         `json:"job_name"`
	OverrideName       string         `json:"override_name"`
	UpdateEvery        int            `json:"update_every"`
	Priority           int            `json:"priority"`
	AutodetectionRetry int            `json:"autodetection_retry"`
	ChartCleanup       int            `json:"chart_cleanup"`
	Penalty            bool           `json:"penalty"`
	Explicit           []string       `json:"explicit"`
	Config             map[string]any `json:"config"`
}

// ndrModule is one module of the jobs file.
type ndrModule struct {
	Name              string   `json:"name"`
	Path              string   `json:"path"`
	EnabledExplicitly bool     `json:"enabled_explicitly"`
	Jobs              []ndrJob `json:"jobs"`
}

// ndrNewJob returns a job with python.d's base defaults; the keys of cfg
// that are one of the five defaults are set explicitly.
func ndrNewJob(name string, cfg map[string]any) ndrJob {
	j := ndrJob{JobName: name, UpdateEvery: 1, Priority: 60000, ChartCleanup: 10, Penalty: true, Config: map[string]any{}}
	for k, v := range cfg {
		switch k {
		case "name":
			j.OverrideName = v.(string)
			continue
		case "update_every":
			j.UpdateEvery = v.(int)
		case "priority":
			j.Priority = v.(int)
		case "autodetection_retry":
			j.AutodetectionRetry = v.(int)
		case "chart_cleanup":
			j.ChartCleanup = v.(int)
		case "penalty":
			j.Penalty = v.(bool)
		}
		if k == "update_every" || k == "priority" || k == "autodetection_retry" || k == "chart_cleanup" || k == "penalty" {
			j.Explicit = append(j.Explicit, k)
		}
		j.Config[k] = v
	}
	return j
}

// ndrWriteJobs writes the jobs file into dir and returns its path.
func ndrWriteJobs(t *testing.T, dir string, mods ...ndrModule) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"update_every_min": 1, "modules": mods})
	require.NoError(t, err)
	p := filepath.Join(dir, "jobs.json")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

// ndrWriteModule writes <name>.chart.py into dir and returns its path.
func ndrWriteModule(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name+".chart.py")
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

func ndrRunnerPath(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("py", "runtime", "run_netdata.py"))
	require.NoError(t, err)
	return p
}

// ndrUntil is what a run waits for, given its stdout and stderr so far;
// nil waits for the whole time.
type ndrUntil func(stdout, stderr string) bool

// ndrExec runs name args until until holds (checked every 100 ms) or for
// at most d, then interrupts it; it returns stdout and stderr. Waiting
// for a condition rather than a fixed time keeps the tests right on a
// loaded machine, where an interpreter may take seconds to start.
func ndrExec(t *testing.T, d time.Duration, until ndrUntil, env []string, name string, args ...string) (string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Second
	var stdout, stderr testkit.SyncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case err := <-waited:
			if ctx.Err() == nil && err != nil {
				t.Logf("%s exited early: %v", name, err)
			}
			done = true
		case <-tick.C:
			if until != nil && until(stdout.String(), stderr.String()) {
				_ = cmd.Process.Signal(os.Interrupt)
				<-waited
				done = true
			}
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("stdout of %s:\n%s\nstderr:\n%s", name, stdout.String(), stderr.String())
		}
	})
	return stdout.String(), stderr.String()
}

// ndrBegins returns an ndrUntil that holds once stdout has n updates of
// each chart.
func ndrBegins(n int, charts ...string) ndrUntil {
	return func(stdout, _ string) bool {
		for _, c := range charts {
			if strings.Count(stdout, "BEGIN "+c+" ") < n {
				return false
			}
		}
		return true
	}
}

// ndrRun runs our runtime on the jobs file until until holds, for at
// most d.
func ndrRun(t *testing.T, d time.Duration, until ndrUntil, jobsFile string) (string, string) {
	t.Helper()
	return ndrExec(t, d, until, append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), ndrPython, ndrRunnerPath(t), "--name", "netdata", "--stdout", "--jobs-file", jobsFile)
}

// ndrRunReal runs the real python.d.plugin on the modules of userDir
// (<userDir>/python.d/*.chart.py, confs in <userDir>/conf/python.d) for d.
func ndrRunReal(t *testing.T, d time.Duration, until ndrUntil, userDir string, modules ...string) string {
	t.Helper()
	for _, sub := range []string{"conf/python.d", "lib", "lock", "python.d"} {
		require.NoError(t, os.MkdirAll(filepath.Join(userDir, sub), 0o755))
	}
	conf := "enabled: yes\n"
	for _, m := range modules {
		conf += m + ": yes\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(userDir, "conf", "python.d.conf"), []byte(conf), 0o644))
	env := append(os.Environ(),
		"NETDATA_USER_PLUGINS_DIRS="+userDir,
		"NETDATA_USER_CONFIG_DIR="+filepath.Join(userDir, "conf"),
		"NETDATA_STOCK_CONFIG_DIR="+filepath.Join(userDir, "stock"),
		"NETDATA_LIB_DIR="+filepath.Join(userDir, "lib"),
		"NETDATA_LOCK_DIR="+filepath.Join(userDir, "lock"),
		"NETDATA_PLUGINS_DIR=/usr/lib/netdata/plugins.d",
		"NETDATA_INTERNALS_MONITORING=NO",
		"PYTHONDONTWRITEBYTECODE=1",
	)
	out, _ := ndrExec(t, d, until, env, ndrPython, append([]string{ndrRealPlugin, "1"}, modules...)...)
	return out
}

var ndrBeginRe = regexp.MustCompile(`^BEGIN (\S+) (\d+)$`)

// ndrProtocol returns the protocol lines of out (no empty lines, none a
// module printed), with BEGIN's microseconds replaced by "N" unless 0.
func ndrProtocol(out string) []string {
	var lines []string
	for _, l := range strings.Split(out, "\n") {
		word, _, _ := strings.Cut(l, " ")
		switch word {
		case "CHART", "CLABEL", "CLABEL_COMMIT", "DIMENSION", "VARIABLE", "SET", "END", "DISABLE":
		case "BEGIN":
			if m := ndrBeginRe.FindStringSubmatch(l); m != nil && m[2] != "0" {
				l = "BEGIN " + m[1] + " N"
			}
		default:
			continue
		}
		lines = append(lines, l)
	}
	return lines
}

var ndrSetRe = regexp.MustCompile(`^SET '([^']*)' = (-?\d+)$`)

// ndrValues returns the values SET for chart (type.id) and dimension, in
// order.
func ndrValues(out, chart, dim string) []int64 {
	var vals []int64
	in := false
	for _, l := range strings.Split(out, "\n") {
		if m := ndrBeginRe.FindStringSubmatch(l); m != nil {
			in = m[1] == chart
			continue
		}
		if l == "END" {
			in = false
			continue
		}
		if m := ndrSetRe.FindStringSubmatch(l); in && m != nil && m[1] == dim {
			v, _ := strconv.ParseInt(m[2], 10, 64)
			vals = append(vals, v)
		}
	}
	return vals
}

// ndrShape returns the protocol lines with SET values replaced by "V",
// for comparing modules with random values.
func ndrShape(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		if m := ndrSetRe.FindStringSubmatch(l); m != nil {
			l = "SET '" + m[1] + "' = V"
		}
		out[i] = l
	}
	return out
}

// ndrPrefix returns the first n updates (BEGIN...END blocks, with the
// CHART and DIMENSION lines before them) of lines.
func ndrPrefix(lines []string, n int) []string {
	blocks := 0
	for i, l := range lines {
		if l == "END" {
			blocks++
			if blocks == n {
				return lines[:i+1]
			}
		}
	}
	return lines
}

// ndrState is a job state the runner logged in --stdout mode.
type ndrState struct {
	Module string `json:"module"`
	Job    string `json:"job"`
	Name   string `json:"name"`
	State  string `json:"state"`
	Error  string `json:"error"`
}

var ndrStateRe = regexp.MustCompile(`job \S+ state (\{.*\})$`)

// ndrStates returns the job states of stderr, in order.
func ndrStates(t *testing.T, stderr string) []ndrState {
	t.Helper()
	var states []ndrState
	for _, l := range strings.Split(stderr, "\n") {
		m := ndrStateRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		var s ndrState
		require.NoError(t, json.Unmarshal([]byte(m[1]), &s), l)
		states = append(states, s)
	}
	return states
}

// ndrStatesOf returns the state sequence of job name (chart type).
func ndrStatesOf(states []ndrState, name string) []string {
	var seq []string
	for _, s := range states {
		if s.Name == name {
			seq = append(seq, s.State)
		}
	}
	return seq
}

func ndrErrorOf(states []ndrState, name, state string) string {
	for _, s := range states {
		if s.Name == name && s.State == state {
			return s.Error
		}
	}
	return ""
}

func TestNetdataRunnerExampleMatchesPythonD(t *testing.T) {
	testkit.Python(t)
	ndrNeedRealPlugin(t)
	example := filepath.Join(ndrStockDir, "example.chart.py")
	if _, err := os.Stat(example); err != nil {
		ndrSkip(t, "needs "+example+" (apt-get install netdata-plugins-python)")
	}
	t.Parallel()
	dir := t.TempDir()
	jobs := ndrWriteJobs(t, dir, ndrModule{Name: "example", Path: example, EnabledExplicitly: true, Jobs: []ndrJob{
		ndrNewJob("two_lines", map[string]any{"name": "Two Lines", "num_lines": 2}),
		ndrNewJob("three", map[string]any{"num_lines": 1, "update_every": 2}),
	}})
	// The real plugin reads the same jobs from YAML; example is stock,
	// so it is found in its own dir.
	real := filepath.Join(dir, "real")
	require.NoError(t, os.MkdirAll(filepath.Join(real, "conf", "python.d"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(real, "conf", "python.d", "example.conf"), []byte(
		"two_lines:\n  name: \"Two Lines\"\n  num_lines: 2\nthree:\n  num_lines: 1\n  update_every: 2\n"), 0o644))

	exampleUntil := ndrBegins(3, "example_Two_Lines.random", "example_three.random")
	var realOut string
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		realOut = ndrRunReal(t, 40*time.Second, exampleUntil, real, "example")
	}()
	ours, _ := ndrRun(t, 40*time.Second, exampleUntil, jobs)
	wg.Wait()

	r, o := ndrProtocol(realOut), ndrProtocol(ours)
	for _, chart := range []string{"example_Two_Lines.random", "example_three.random"} {
		rc, oc := ndrChartLines(r, chart), ndrChartLines(o, chart)
		require.NotEmpty(t, rc, "real plugin printed no %s:\n%s", chart, realOut)
		n := min(ndrCount(rc, "END"), ndrCount(oc, "END"))
		require.GreaterOrEqual(t, n, 2, "too few updates of %s:\nreal:\n%s\nours:\n%s", chart, realOut, ours)
		assert.Equal(t, ndrShape(ndrPrefix(rc, n)), ndrShape(ndrPrefix(oc, n)), chart)
	}
	for _, v := range ndrValues(ours, "example_Two_Lines.random", "random0") {
		assert.True(t, v >= 0 && v <= 100, "random0 = %d", v)
	}
}

// ndrChartLines returns the lines of lines that belong to chart: its
// CHART line with the CLABEL and DIMENSION lines after it, and its
// BEGIN...END blocks.
func ndrChartLines(lines []string, chart string) []string {
	var out []string
	in := false
	for _, l := range lines {
		switch {
		case strings.HasPrefix(l, "CHART "):
			in = strings.HasPrefix(l, "CHART "+chart+" ")
		case strings.HasPrefix(l, "BEGIN "):
			in = strings.HasPrefix(l, "BEGIN "+chart+" ")
		}
		if in {
			out = append(out, l)
		}
		if l == "END" {
			in = false
		}
	}
	return out
}

func ndrCount(lines []string, s string) int {
	n := 0
	for _, l := range lines {
		if l == s {
			n++
		}
	}
	return n
}

// ndrChartsModule exercises the charts API: option fallbacks, variables,
// del_dimension, hide_dimension, a dynamic chart, obsoleting by
// chart_cleanup and refreshing, and a module that prints.
const ndrChartsModule = `from bases.FrameworkServices.SimpleService import SimpleService

priority = 70000
ORDER = ['a', 'b', 'c']
CHARTS = {
    'a': {'options': [None, 'Title A', 'u', 'fam', 'probe.a', 'stacked'],
          'lines': [['x', 'X', 'incremental', 2, 3],
                    ['y', None, 'bogus', 1.5, '2', 'hidden'], ['z']],
          'variables': [['v1']]},
    'b': {'options': ['bname', 'Title "B"', 'u', None, None, 'heatmap'],
          'lines': [['p', 'P', 'percentage-of-absolute-row']]},
    'c': {'options': [None, 'C', 'u', 'f', 'probe.c', 'area'],
          'lines': [['q']]},
}


class Service(SimpleService):
    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS
        self.n = 0

    def check(self):
        return True

    def get_data(self):
        self.n += 1
        n = self.n
        d = {'x': n * 10, 'y': 2.7, 'z': True, 'v1': 5, 'p': '7'}
        if n <= 2:
            d['q'] = 1
        if n == 3:
            self.charts['a'].del_dimension('z')
            self.charts['a'].hide_dimension('x')
            c = self.charts.add_chart(['dyn', None, 'Dyn', 'u', 'f',
                                       'probe.dyn', 'line'])
            c.add_dimension(['d1', 'D1', 'absolute', -1, 1])
        if n >= 3:
            d['d1'] = n
        if n >= 7:
            d['q'] = 3
        print("CHART printed.by_module '' 'x'")
        return d
`

func TestNetdataRunnerChartsAPI(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	dir := t.TempDir()
	mod := ndrWriteModule(t, dir, "probe", ndrChartsModule)
	jobs := ndrWriteJobs(t, dir, ndrModule{Name: "probe", Path: mod, Jobs: []ndrJob{ndrNewJob("job1", map[string]any{"chart_cleanup": 2})}})

	var realOut string
	var wg sync.WaitGroup
	if _, err := os.Stat(ndrRealPlugin); err == nil {
		real := filepath.Join(dir, "real")
		require.NoError(t, os.MkdirAll(filepath.Join(real, "python.d"), 0o755))
		require.NoError(t, os.MkdirAll(filepath.Join(real, "conf", "python.d"), 0o755))
		ndrWriteModule(t, filepath.Join(real, "python.d"), "probe", ndrChartsModule)
		require.NoError(t, os.WriteFile(filepath.Join(real, "conf", "python.d", "probe.conf"), []byte("job1:\n  chart_cleanup: 2\n"), 0o644))
		wg.Add(1)
		go func() {
			defer wg.Done()
			realOut = ndrRunReal(t, 40*time.Second, ndrBegins(9, "probe_job1.a"), real, "probe")
		}()
	} else if os.Getenv("CI") != "" {
		t.Fatal("needs the real python.d.plugin (apt-get install netdata-plugins-python)")
	}
	ours, stderr := ndrRun(t, 40*time.Second, ndrBegins(9, "probe_job1.a"), jobs)
	wg.Wait()

	o := ndrProtocol(ours)
	text := strings.Join(o, "\n")
	// What the module printed is not data.
	assert.NotContains(t, ours, "printed.by_module")
	assert.Contains(t, stderr, "printed.by_module")
	// Option fallbacks: heatmap -> absolute, mul/div that are no int -> 1.
	assert.Contains(t, text, "CHART probe_job1.b 'bname' 'Title \"B\"' 'u' '' '' absolute 70001 1 '' 'python.d.plugin' 'probe'")
	assert.Contains(t, text, "DIMENSION 'y' 'y' absolute 1 1 'hidden '")
	assert.Contains(t, text, "DIMENSION 'x' 'X' incremental 2 3 ' '")
	assert.Contains(t, text, "VARIABLE CHART 'v1' = 5")
	// del_dimension re-announces the dimension hidden and obsolete.
	assert.Contains(t, text, "DIMENSION 'z' 'z' absolute 1 1 'hidden obsolete'")
	// hide_dimension re-announces the chart.
	assert.Contains(t, text, "DIMENSION 'x' 'X' incremental 2 3 'hidden '")
	// The dynamic chart gets the next priority.
	assert.Contains(t, text, "CHART probe_job1.dyn '' 'Dyn' 'u' 'f' 'probe.dyn' line 70003 1 '' 'python.d.plugin' 'probe'")
	assert.Contains(t, text, "DIMENSION 'd1' 'D1' absolute -1 1 ' '")
	// chart_cleanup 2: obsolete after two updates without values, then
	// re-created when values come back.
	assert.Contains(t, text, "CHART probe_job1.c '' 'C' 'u' 'f' 'probe.c' area 70002 1 ' obsolete'")
	assert.Equal(t, []int64{1, 1, 3}, ndrValues(ours, "probe_job1.c", "q")[:3])
	assert.Equal(t, 2, strings.Count(text, "CHART probe_job1.c '' 'C' 'u' 'f' 'probe.c' area 70002 1 '' 'python.d.plugin' 'probe'"))
	assert.Contains(t, stderr, "chart 'probe_job1.c' was suppressed due to non updating")
	// int() of every value: 2.7 -> 2, True -> 1, '7' -> 7.
	assert.Equal(t, int64(2), ndrValues(ours, "probe_job1.a", "y")[0])
	assert.Equal(t, int64(1), ndrValues(ours, "probe_job1.a", "z")[0])
	assert.Equal(t, int64(7), ndrValues(ours, "probe_job1.b", "p")[0])

	if realOut != "" {
		// python.d.plugin passes what a module prints into its data.
		r := slices.DeleteFunc(ndrProtocol(realOut), func(l string) bool { return strings.Contains(l, "printed.by_module") })
		n := min(ndrCount(r, "END"), ndrCount(o, "END"))
		require.GreaterOrEqual(t, n, 20)
		assert.Equal(t, ndrPrefix(r, n), ndrPrefix(o, n), "same text as python.d.plugin")
	}
}

// ndrLifecycleModule behaves by its job's "mode".
const ndrLifecycleModule = `import time
from bases.FrameworkServices.SimpleService import SimpleService

ORDER = ['a']
CHARTS = {'a': {'options': [None, 'A', 'u', 'f', 'life.a', 'line'],
                'lines': [['x']]}}


class Service(SimpleService):
    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS
        self.mode = self.configuration.get('mode')
        self.checks = 0
        if self.mode == 'ctor':
            raise ValueError('bad ctor')

    def check(self):
        self.checks += 1
        self.info('check at', repr(time.monotonic()))
        if self.mode == 'retry':
            return self.checks >= 3
        if self.mode == 'raise':
            raise RuntimeError('boom in check')
        if self.mode == 'none':
            return None
        if self.mode == 'blockcheck':
            time.sleep(3600)
        return True

    def get_data(self):
        self.info('get_data at', repr(time.monotonic()))
        if self.mode == 'fail':
            return None
        if self.mode == 'badstr':
            return {'x': '1.5'}
        if self.mode == 'block':
            time.sleep(3600)
        return {'x': self.runs_counter}
`

func TestNetdataRunnerJobLifecycle(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	dir := t.TempDir()
	mod := ndrWriteModule(t, dir, "life", ndrLifecycleModule)
	job := func(name string, cfg map[string]any) ndrJob { return ndrNewJob(name, cfg) }
	jobs := ndrWriteJobs(t, dir, ndrModule{Name: "life", Path: mod, Jobs: []ndrJob{
		job("ok", map[string]any{"mode": "ok"}),
		job("ctor", map[string]any{"mode": "ctor"}),
		job("raise", map[string]any{"mode": "raise", "autodetection_retry": 1}),
		job("none", map[string]any{"mode": "none"}),
		job("retry", map[string]any{"mode": "retry", "autodetection_retry": 1}),
		job("ex1", map[string]any{"name": "same", "mode": "none"}),
		job("ex2", map[string]any{"name": "same", "mode": "ok"}),
		job("ex3", map[string]any{"name": "same", "mode": "ok"}),
		job("block", map[string]any{"mode": "block"}),
		job("blockcheck", map[string]any{"mode": "blockcheck"}),
		job("badstr", map[string]any{"mode": "badstr"}),
		job("fail", map[string]any{"mode": "fail"}),
	}})
	out, stderr := ndrRun(t, 60*time.Second, func(stdout, stderr string) bool {
		return len(ndrTimes(stderr, "life[fail]")) >= 7 && len(ndrValues(stdout, "life_ok.a", "x")) >= 9 &&
			len(ndrValues(stdout, "life_retry.a", "x")) >= 1 && strings.Contains(stderr, "life[badstr] : update() unhandled")
	}, jobs)
	states := ndrStates(t, stderr)

	assert.Equal(t, []string{"active", "stopped"}, ndrStatesOf(states, "life_ok"))
	assert.Equal(t, []string{"failed"}, ndrStatesOf(states, "life_ctor"))
	assert.Contains(t, ndrErrorOf(states, "life_ctor", "failed"), "bad ctor")
	// An exception in check drops the job even with autodetection_retry.
	assert.Equal(t, []string{"failed"}, ndrStatesOf(states, "life_raise"))
	assert.Contains(t, ndrErrorOf(states, "life_raise", "failed"), "boom in check")
	assert.Equal(t, []string{"failed"}, ndrStatesOf(states, "life_none"))
	assert.Equal(t, []string{"recovering", "active", "stopped"}, ndrStatesOf(states, "life_retry"))
	// Jobs of one name: the first that passes check serves.
	same := []ndrState{}
	for _, s := range states {
		if s.Name == "life_same" {
			same = append(same, s)
		}
	}
	require.Len(t, same, 4, "%v", same)
	assert.Equal(t, ndrState{Module: "life", Job: "ex1", Name: "life_same", State: "failed", Error: "check failed"}, same[0])
	// The others are rejected before the one that serves is active: the
	// last state of the name is that of the job that runs.
	assert.Equal(t, ndrState{Module: "life", Job: "ex3", Name: "life_same", State: "rejected", Error: "already served by another job"}, same[1])
	assert.Equal(t, ndrState{Module: "life", Job: "ex2", Name: "life_same", State: "active"}, same[2])
	assert.Contains(t, stderr, "life[ex3] : already served by another job, skipping it")

	// A job that blocks holds up only itself.
	assert.Empty(t, ndrValues(out, "life_block.a", "x"))
	assert.Empty(t, ndrStatesOf(states, "life_blockcheck"))
	ok := ndrValues(out, "life_ok.a", "x")
	assert.GreaterOrEqual(t, len(ok), 9, "ok job kept running")
	assert.Equal(t, []int64{1, 2, 3}, ok[:3], "runs_counter")
	retry := ndrValues(out, "life_retry.a", "x")
	assert.NotEmpty(t, retry, "recovered job runs")
	checks := ndrTimesOf(stderr, "life[retry]", "check at")
	require.Len(t, checks, 3, "checked until it passed")

	// A value int() refuses fails the update.
	assert.Empty(t, ndrValues(out, "life_badstr.a", "x"))
	assert.Contains(t, stderr, "life[badstr] : update() unhandled exception: invalid literal for int()")

	times := ndrTimes(stderr, "life[fail]")
	require.GreaterOrEqual(t, len(times), 6, stderr)

	// The timing checks need a machine that runs the ok job on time: on
	// one so loaded that even it slips, they say nothing.
	okTimes := ndrTimes(stderr, "life[ok]")
	for i := 1; i < len(okTimes); i++ {
		if gap := okTimes[i] - okTimes[i-1]; gap < 0.55 || gap > 1.45 {
			t.Logf("timing checks not made: the machine is too loaded (the ok job ran %.2f s after its previous run)", gap)
			return
		}
	}
	assert.InDelta(t, 1.0, checks[1]-checks[0], 0.45, "autodetection_retry 1")
	assert.InDelta(t, 1.0, checks[2]-checks[1], 0.45, "autodetection_retry 1")
	// Penalty: after 5 failed updates in a row, round(5*1/2) = 2 s more.
	for i := 1; i < 5; i++ {
		assert.InDelta(t, 1.0, times[i]-times[i-1], 0.45, "gap %d", i)
	}
	assert.InDelta(t, 3.0, times[5]-times[4], 0.45, "gap after 5 failures")
	if len(times) > 6 {
		assert.InDelta(t, 3.0, times[6]-times[5], 0.45, "penalty stays")
	}
	// Runs are aligned to update_every on the monotonic clock.
	for _, v := range times {
		frac := v - float64(int64(v))
		assert.True(t, frac < 0.4, "run at %.3f is not aligned", v)
	}
}

// ndrTimes returns the monotonic times of get_data the collector logged.
func ndrTimes(stderr, collector string) []float64 {
	return ndrTimesOf(stderr, collector, "get_data at")
}

// ndrTimesOf returns the monotonic times the collector logged after what.
func ndrTimesOf(stderr, collector, what string) []float64 {
	re := regexp.MustCompile(regexp.QuoteMeta(what) + ` ([0-9.]+)`)
	var times []float64
	for _, l := range strings.Split(stderr, "\n") {
		if !strings.Contains(l, collector+" :") {
			continue
		}
		if m := re.FindStringSubmatch(l); m != nil {
			v, _ := strconv.ParseFloat(m[1], 64)
			times = append(times, v)
		}
	}
	return times
}

// ndrModuleOf writes a one-chart module whose Service is the given class
// body (after "class Service(<base>):") and returns its path.
func ndrModuleOf(t *testing.T, dir, name, imports, base, body string) string {
	t.Helper()
	src := imports + "\n\nORDER = ['m']\nCHARTS = {'m': {'options': [None, 'M', 'u', 'f', '" + name + ".m', 'line'], 'lines': [['v']]}}\n\n\n" +
		"class Service(" + base + "):\n" +
		"    def __init__(self, configuration=None, name=None):\n" +
		"        " + base + ".__init__(self, configuration=configuration, name=name)\n" +
		"        self.order = ORDER\n" +
		"        self.definitions = CHARTS\n" + body
	return ndrWriteModule(t, dir, name, src)
}

func TestNetdataRunnerServices(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	dir := t.TempDir()

	// UrlService against a loopback server with basic auth.
	var hits sync.Map
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		hits.Store(r.URL.Path, true)
		if !ok || u != "alice" || p != "secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path == "/bad" {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		fmt.Fprint(w, "value 42\n")
	}))
	t.Cleanup(srv.Close)
	urlMod := ndrModuleOf(t, dir, "urlmod", "from bases.FrameworkServices.UrlService import UrlService", "UrlService", `
    def _get_data(self):
        raw = self._get_raw_data()
        if raw is None:
            return None
        status, _ = self._get_raw_data_with_status(self.url + 'bad')
        return {'v': int(raw.split()[1]) + status}
`)

	// The same on the standard library, as without python3-urllib3.
	urlStdMod := ndrModuleOf(t, dir, "urlstd", `import bases.FrameworkServices.UrlService as url_service
url_service.urllib3 = None
from bases.FrameworkServices.UrlService import UrlService`, "UrlService", `
    def _get_data(self):
        raw = self._get_raw_data()
        if raw is None:
            return None
        status, _ = self._get_raw_data_with_status(self.url + 'bad')
        manager = self._build_manager(user='alice', **{'pass': 'wrong'})
        denied = self._do_request(manager=manager).status
        if type(self._manager).__name__ != 'StdlibManager':
            return None
        return {'v': int(raw.split()[1]) + status + denied * 1000}
`)

	// SocketService against a loopback TCP listener.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil || line != "stats\r\n" {
					return
				}
				// Two writes: the module reads until END.
				fmt.Fprint(c, "STAT v 7\r\n")
				time.Sleep(50 * time.Millisecond)
				fmt.Fprint(c, "STAT w 8\r\nEND\r\n")
			}(c)
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	// And a unix socket.
	sockPath := filepath.Join(dir, "stats.sock")
	uln, err := net.Listen("unix", sockPath)
	require.NoError(t, err)
	t.Cleanup(func() { uln.Close() })
	go func() {
		for {
			c, err := uln.Accept()
			if err != nil {
				return
			}
			go func(c net.Conn) {
				defer c.Close()
				if line, err := bufio.NewReader(c).ReadString('\n'); err == nil && line == "stats\r\n" {
					fmt.Fprint(c, "STAT v 3\r\nSTAT w 4\r\nEND\r\n")
				}
			}(c)
		}
	}()
	sockMod := ndrModuleOf(t, dir, "sockmod", "from bases.FrameworkServices.SocketService import SocketService", "SocketService", `
        self.request = 'stats\r\n'

    @staticmethod
    def _check_raw_data(data):
        return data.endswith('END\r\n')

    def _get_data(self):
        raw = self._get_raw_data()
        if not raw:
            return None
        stats = dict(l.split()[1:] for l in raw.splitlines() if l.startswith('STAT'))
        return {'v': int(stats['v']) * 10 + int(stats['w'])}
`)

	// LogService on a file that grows.
	logPath := filepath.Join(dir, "app.log")
	require.NoError(t, os.WriteFile(logPath, []byte(strings.Repeat("old line\n", 100)), 0o644))
	logMod := ndrModuleOf(t, dir, "logmod", "from bases.FrameworkServices.LogService import LogService", "LogService", `
    def _get_data(self):
        raw = self._get_raw_data()
        if raw is None:
            return None
        return {'v': len(raw)}
`)

	// ExecutableService running a script; a second job whose command has
	// a shell character is rejected.
	script := filepath.Join(dir, "emit.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\necho 5 6\n"), 0o755))
	execMod := ndrModuleOf(t, dir, "execmod", "from bases.FrameworkServices.ExecutableService import ExecutableService", "ExecutableService", `
        self.command = 'echo 1 2'

    def _get_data(self):
        raw = self._get_raw_data()
        if not raw:
            return None
        a, b = raw[0].split()
        return {'v': int(a) * 10 + int(b)}
`)

	// MySQLService without a driver.
	mysqlMod := ndrModuleOf(t, dir, "mysqlmod", "from bases.FrameworkServices.MySQLService import MySQLService", "MySQLService", `
        self.queries = {'q': 'SELECT 1'}

    def _get_data(self):
        return {'v': 1}
`)

	jobs := ndrWriteJobs(t, dir,
		ndrModule{Name: "urlmod", Path: urlMod, Jobs: []ndrJob{ndrNewJob("local", map[string]any{"url": srv.URL + "/", "user": "alice", "pass": "secret"})}},
		ndrModule{Name: "urlstd", Path: urlStdMod, Jobs: []ndrJob{ndrNewJob("local", map[string]any{"url": srv.URL + "/", "user": "alice", "pass": "secret"})}},
		ndrModule{Name: "sockmod", Path: sockMod, Jobs: []ndrJob{
			ndrNewJob("local", map[string]any{"host": "127.0.0.1", "port": port}),
			ndrNewJob("unix", map[string]any{"socket": sockPath}),
		}},
		ndrModule{Name: "logmod", Path: logMod, Jobs: []ndrJob{ndrNewJob("local", map[string]any{"path": logPath})}},
		ndrModule{Name: "execmod", Path: execMod, Jobs: []ndrJob{
			ndrNewJob("script", map[string]any{"command": script}),
			ndrNewJob("echo", map[string]any{}),
			ndrNewJob("evil", map[string]any{"command": "/bin/echo 1;rm -rf /"}),
		}},
		ndrModule{Name: "mysqlmod", Path: mysqlMod, Jobs: []ndrJob{ndrNewJob("local", map[string]any{"host": "127.0.0.1", "user": "u"})}},
	)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		f, err := os.OpenFile(logPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			return
		}
		defer f.Close()
		for i := 0; i < 160; i++ {
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
			fmt.Fprintf(f, "new line %d\n", i)
		}
	}()
	out, stderr := ndrRun(t, 40*time.Second, func(stdout, stderr string) bool {
		return slices.Contains(ndrValues(stdout, "urlmod_local.m", "v"), 542) &&
			slices.Contains(ndrValues(stdout, "urlstd_local.m", "v"), 401542) &&
			slices.Contains(ndrValues(stdout, "sockmod_local.m", "v"), 78) &&
			slices.Contains(ndrValues(stdout, "sockmod_unix.m", "v"), 34) &&
			len(ndrValues(stdout, "logmod_local.m", "v")) >= 2 &&
			slices.Contains(ndrValues(stdout, "execmod_script.m", "v"), 56) &&
			slices.Contains(ndrValues(stdout, "execmod_echo.m", "v"), 12) &&
			strings.Contains(stderr, `"mysqlmod_local", "state"`)
	}, jobs)
	cancel()
	states := ndrStates(t, stderr)

	// 42 + status 500 of /bad.
	assert.Contains(t, ndrValues(out, "urlmod_local.m", "v"), int64(542))
	assert.Contains(t, ndrValues(out, "urlstd_local.m", "v"), int64(401542))
	assert.Contains(t, ndrValues(out, "sockmod_local.m", "v"), int64(78))
	assert.Contains(t, ndrValues(out, "sockmod_unix.m", "v"), int64(34))
	logVals := ndrValues(out, "logmod_local.m", "v")
	require.NotEmpty(t, logVals)
	for _, v := range logVals {
		assert.True(t, v > 0 && v < 100, "only appended lines are read, got %d", v)
	}
	assert.Contains(t, ndrValues(out, "execmod_script.m", "v"), int64(56))
	assert.Contains(t, ndrValues(out, "execmod_echo.m", "v"), int64(12))
	assert.Equal(t, []string{"rejected"}, ndrStatesOf(states, "execmod_evil"))
	assert.Contains(t, ndrErrorOf(states, "execmod_evil", "rejected"), "';'")

	if ndrHasModule(ndrPython, "MySQLdb") || ndrHasModule(ndrPython, "pymysql") {
		t.Log("a MySQL driver is installed: not testing the missing-driver error")
	} else {
		assert.Equal(t, []string{"rejected"}, ndrStatesOf(states, "mysqlmod_local"))
		assert.Contains(t, ndrErrorOf(states, "mysqlmod_local", "rejected"), "needs MySQLdb or pymysql")
		assert.Contains(t, ndrErrorOf(states, "mysqlmod_local", "rejected"), "python3-pymysql")
	}
}

func ndrHasModule(python, module string) bool {
	return exec.Command(python, "-c", "import "+module).Run() == nil
}

// TestNetdataRunnerModuleEnvironment covers what a module sees: the
// module globals as job defaults, disabled_by_default, its sys.path and
// module_name, the third_party names and the stdlib UrlService.
func TestNetdataRunnerModuleEnvironment(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	dir := t.TempDir()
	envMod := ndrModuleOf(t, dir, "envmod", `import sys
from bases.FrameworkServices.SimpleService import SimpleService
from third_party.monotonic import monotonic
from third_party.ordereddict import OrderedDict

update_every = 2
priority = 1234
chart_cleanup = None`, "SimpleService", `
    def get_data(self):
        score = 0
        for name in ('_collectkit_channel', 'datakit_framework', 'run_netdata'):
            try:
                __import__(name)
            except ImportError:
                score += 1
        if self.module_name == 'envmod':
            score += 10
        if monotonic() > 0 and OrderedDict(a=1):
            score += 100
        return {'v': score}
`)
	offMod := ndrModuleOf(t, dir, "offmod", "from bases.FrameworkServices.SimpleService import SimpleService\ndisabled_by_default = True", "SimpleService", `
    def get_data(self):
        return {'v': 1}
`)
	limMod := ndrModuleOf(t, dir, "limmod", "from bases.FrameworkServices.SimpleService import SimpleService\nfrom bases.collection import find_binary, read_last_line", "SimpleService", `
    def check(self):
        for i in range(100):
            self.info('limited message', i)
        for i in range(40):
            self.debug('debug message', i)
        return True

    def get_data(self):
        ok = find_binary('sh') in ('/bin/sh', '/usr/bin/sh')
        ok = ok and find_binary('no-such-binary-here') is None
        ok = ok and read_last_line(__file__).strip() == "return {'v': 1 if ok else 0}"
        return {'v': 1 if ok else 0}
`)
	sqlMod := ndrModuleOf(t, dir, "sqlmod", "from bases.FrameworkServices.SimpleService import SimpleService\nimport MySQLdb", "SimpleService", "")
	tpMod := ndrModuleOf(t, dir, "tpmod", "from bases.FrameworkServices.SimpleService import SimpleService\nfrom third_party import mcrcon", "SimpleService", "")

	explicit := ndrNewJob("explicit", map[string]any{"update_every": 1})
	jobs := ndrWriteJobs(t, dir,
		ndrModule{Name: "envmod", Path: envMod, Jobs: []ndrJob{ndrNewJob("globals", nil), explicit}},
		ndrModule{Name: "offmod", Path: offMod, Jobs: []ndrJob{ndrNewJob("offmod", nil)}},
		ndrModule{Name: "tpmod", Path: tpMod, Jobs: []ndrJob{ndrNewJob("tpmod", nil)}},
		ndrModule{Name: "limmod", Path: limMod, Jobs: []ndrJob{ndrNewJob("limmod", nil)}},
		ndrModule{Name: "sqlmod", Path: sqlMod, Jobs: []ndrJob{ndrNewJob("sqlmod", nil)}},
	)
	out, stderr := ndrRun(t, 40*time.Second, func(stdout, stderr string) bool {
		return slices.Contains(ndrValues(stdout, "envmod_globals.m", "v"), 113) &&
			len(ndrValues(stdout, "envmod_explicit.m", "v")) >= 1 &&
			len(ndrValues(stdout, "limmod.m", "v")) >= 1 &&
			strings.Contains(stderr, "MySQLdb") && strings.Contains(stderr, "third_party.mcrcon")
	}, jobs)
	// Module globals apply where the job did not set the key.
	assert.Contains(t, out, "CHART envmod_globals.m '' 'M' 'u' 'f' 'envmod.m' line 1234 2 '' 'python.d.plugin' 'envmod'")
	assert.Contains(t, out, "CHART envmod_explicit.m '' 'M' 'u' 'f' 'envmod.m' line 1234 1 '' 'python.d.plugin' 'envmod'")
	assert.Contains(t, ndrValues(out, "envmod_globals.m", "v"), int64(113))
	assert.NotContains(t, out, "offmod")
	assert.Contains(t, stderr, "[offmod] is disabled by default")
	assert.NotContains(t, out, "tpmod")
	assert.Contains(t, stderr, "third_party.mcrcon")
	states := ndrStates(t, stderr)
	assert.Equal(t, []string{"rejected"}, ndrStatesOf(states, "offmod"))
	assert.Equal(t, []string{"failed"}, ndrStatesOf(states, "tpmod"))
	assert.Contains(t, ndrErrorOf(states, "tpmod", "failed"), "third_party.mcrcon")
	// 30 info messages per 60 s per job; debug is off without --debug.
	assert.Equal(t, 30, strings.Count(stderr, "limited message"))
	assert.Contains(t, stderr, "limited message 29\n")
	assert.NotContains(t, stderr, "debug message")
	assert.Contains(t, ndrValues(out, "limmod.m", "v"), int64(1), "bases.collection helpers")
	if !ndrHasModule(ndrPython, "MySQLdb") {
		assert.Contains(t, stderr, "No module named 'MySQLdb': install python3-mysqldb")
	}
}

// ndrFrame is one frame the runner sent over the channel.
type ndrFrame struct {
	Kind    byte
	Meta    string
	Payload []byte
}

// TestNetdataRunnerChannel runs the runner as the host does, with the
// private channel, and reads its frames: b"P" plugins.d text per job
// update, b"J" job states and b"G" log records; nothing on stdout.
func TestNetdataRunnerChannel(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	dir := t.TempDir()
	mod := ndrModuleOf(t, dir, "chan", "from bases.FrameworkServices.SimpleService import SimpleService", "SimpleService", `
    def get_data(self):
        print('noise on stdout')
        self.info('collected', self.runs_counter)
        return {'v': self.runs_counter}
`)
	jobs := ndrWriteJobs(t, dir, ndrModule{Name: "chan", Path: mod, Jobs: []ndrJob{
		ndrNewJob("one", map[string]any{"name": "First Job"}),
		ndrNewJob("two", map[string]any{"command": "x"}),
	}})

	dataR, dataW, err := os.Pipe()
	require.NoError(t, err)
	ackR, ackW, err := os.Pipe()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ndrPython, ndrRunnerPath(t), "--name", "netdata", "--jobs-file", jobs)
	cmd.Env = append(os.Environ(), "COLLECTKIT_PYTHOND_FDS=3,4", "PYTHONDONTWRITEBYTECODE=1")
	cmd.ExtraFiles = []*os.File{dataW, ackR}
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 3 * time.Second
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	dataW.Close()
	ackR.Close()
	defer ackW.Close()

	// Frames are read until two updates of the first job came, then the
	// runner is interrupted.
	var frames []ndrFrame
	done := make(chan error, 1)
	go func() {
		updates := 0
		r := bufio.NewReader(dataR)
		for {
			var head [7]byte
			if _, err := io.ReadFull(r, head[:]); err != nil {
				done <- err
				return
			}
			ml := int(binary.BigEndian.Uint16(head[1:3]))
			pl := int(binary.BigEndian.Uint32(head[3:7]))
			body := make([]byte, ml+pl)
			if _, err := io.ReadFull(r, body); err != nil {
				done <- err
				return
			}
			frames = append(frames, ndrFrame{Kind: head[0], Meta: string(body[:ml]), Payload: body[ml:]})
			if head[0] == 'P' && string(body[:ml]) == "chan_First_Job" {
				if updates++; updates == 2 {
					time.AfterFunc(300*time.Millisecond, cancel)
				}
			}
		}
	}()
	_ = cmd.Wait()
	<-done
	dataR.Close()

	assert.Empty(t, stdout.String(), "nothing on stdout")
	assert.Contains(t, stderr.String(), "noise on stdout")
	var updates []string
	var states []ndrState
	var logs []map[string]any
	for _, f := range frames {
		switch f.Kind {
		case 'P':
			assert.Contains(t, []string{"chan_First_Job", "chan_two"}, f.Meta)
			if f.Meta == "chan_First_Job" {
				updates = append(updates, string(f.Payload))
			}
		case 'J':
			var s ndrState
			require.NoError(t, json.Unmarshal(f.Payload, &s))
			assert.Equal(t, s.Name, f.Meta)
			states = append(states, s)
		case 'G':
			var rec map[string]any
			require.NoError(t, json.Unmarshal(f.Payload, &rec))
			logs = append(logs, rec)
		default:
			t.Errorf("unexpected frame kind %q", f.Kind)
		}
	}
	require.GreaterOrEqual(t, len(updates), 2, "%q", frames)
	// One frame per update: the first carries the chart definition.
	assert.True(t, strings.HasPrefix(updates[0], "CHART chan_First_Job.m '' 'M' 'u' 'f' 'chan.m' line 60000 1 '' 'python.d.plugin' 'chan'\nCLABEL '_collect_job' 'one' '0'\nCLABEL_COMMIT\nDIMENSION 'v' 'v' absolute 1 1 ' '\n\nBEGIN chan_First_Job.m 0\nSET 'v' = 1\nEND\n\n"), "%q", updates[0])
	assert.Regexp(t, `^BEGIN chan_First_Job.m \d+\nSET 'v' = 2\nEND\n\n$`, updates[1])
	assert.Contains(t, states, ndrState{Module: "chan", Job: "one", Name: "chan_First_Job", State: "active"})
	assert.Contains(t, states, ndrState{Module: "chan", Job: "two", Name: "chan_two", State: "active"})
	found := false
	for _, rec := range logs {
		if rec["collector"] == "chan[one]" && rec["message"] == "collected 1" && rec["level"] == "info" && rec["event"] == "log" {
			found = true
		}
	}
	assert.True(t, found, "module log record: %v", logs)
}
