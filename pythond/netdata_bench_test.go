package pythond

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// The CPU benchmark of the netdata framework against the real
// python.d.plugin, on one generated module.
const (
	ndBenchCharts = 50
	ndBenchDims   = 20
	// ndBenchWarmup updates pass before the measured window opens: the
	// first gives incremental dimensions their first value, the chart
	// definitions and the process start are behind both.
	ndBenchWarmup = 2
	// ndBenchDefaultUpdates is the measured window's length in updates,
	// unless COLLECTKIT_BENCH_UPDATES says otherwise.
	ndBenchDefaultUpdates = 20
	// ndBenchClockTicks is USER_HZ, the unit of /proc/<pid>/stat times;
	// it is 100 on every Linux architecture's user ABI.
	ndBenchClockTicks = 100
)

// ndBenchModule returns a python.d module of ndBenchCharts charts of
// ndBenchDims dimensions each at update_every 1: a SimpleService whose
// _get_data returns charts*dims ints that grow every update. Even
// dimensions are absolute, odd ones incremental (so every chart has both
// and each END gives a point from the first update on).
func ndBenchModule() string {
	var b strings.Builder
	b.WriteString(`from bases.FrameworkServices.SimpleService import SimpleService

update_every = 1
priority = 90000

ORDER = []
CHARTS = {}
KEYS = []
`)
	fmt.Fprintf(&b, "for c in range(%d):\n", ndBenchCharts)
	b.WriteString(`    chart = 'chart%02d' % c
    ORDER.append(chart)
    lines = []
`)
	fmt.Fprintf(&b, "    for d in range(%d):\n", ndBenchDims)
	b.WriteString(`        dim = 'c%02d_d%02d' % (c, d)
        algorithm = 'absolute' if d % 2 == 0 else 'incremental'
        lines.append([dim, 'dim%02d' % d, algorithm, 1, 1 + d % 3])
        KEYS.append((dim, c * 100 + d + 1))
    CHARTS[chart] = {
        'options': [None, 'Bench chart %d' % c, 'things', 'bench', 'ckbench.chart%02d' % c, 'line'],
        'lines': lines,
    }


class Service(SimpleService):
    def __init__(self, configuration=None, name=None):
        SimpleService.__init__(self, configuration=configuration, name=name)
        self.order = ORDER
        self.definitions = CHARTS
        self.n = 0

    @staticmethod
    def check():
        return True

    def _get_data(self):
        self.n += 1
        n = self.n
        # Each grows by 1000 * step - 999 or more: no counter reset.
        return dict((dim, 1000 * n * step + (n * 7919 + step) % 1000) for dim, step in KEYS)
`)
	return b.String()
}

// ndBenchSink counts the points of every chart and checks their shape.
type ndBenchSink struct {
	mu     sync.Mutex
	points int
	bad    []string
	charts map[string]bool
	notify chan struct{}
}

func (s *ndBenchSink) Write(_ context.Context, b point.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range b.Points {
		s.points++
		c, _ := p.Tag("chart")
		s.charts[c] = true
		// The first update has no value yet for incremental dimensions.
		if len(p.Fields) != ndBenchDims && s.points > ndBenchCharts && len(s.bad) < 5 {
			s.bad = append(s.bad, fmt.Sprintf("%s: %d fields", c, len(p.Fields)))
		}
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (s *ndBenchSink) count() (int, []string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.points, s.bad, len(s.charts)
}

// ndBenchCPU is CPU time in seconds.
type ndBenchCPU struct {
	child, host float64
	// ticks is child counted in ticks; precise is whether child is the
	// threads' run times (see ndBenchChildCPU).
	ticks   float64
	precise bool
}

// ndBenchHostCPU is this process's user+sys time (every thread: the
// Supervisor, the chart engine, the sink, the Go runtime).
func ndBenchHostCPU(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatalf("getrusage: %v", err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// ndBenchProcStat returns the ppid and pgrp of pid, its utime+stime and
// its cutime+cstime (in seconds) from /proc/<pid>/stat.
func ndBenchProcStat(pid int) (ppid, pgrp int, self, children float64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, 0, err
	}
	// The command (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, 0, 0, 0, fmt.Errorf("/proc/%d/stat: no command", pid)
	}
	f := strings.Fields(string(raw[i+1:]))
	// f[0] is field 3 (state): ppid is field 4, pgrp 5, utime..cstime 14-17.
	if len(f) < 15 {
		return 0, 0, 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	ppid, _ = strconv.Atoi(f[1])
	pgrp, _ = strconv.Atoi(f[2])
	var ticks [4]int64
	for j, s := range f[11:15] {
		if ticks[j], err = strconv.ParseInt(s, 10, 64); err != nil {
			return 0, 0, 0, 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
	}
	return ppid, pgrp, float64(ticks[0]+ticks[1]) / ndBenchClockTicks, float64(ticks[2]+ticks[3]) / ndBenchClockTicks, nil
}

// ndBenchProcs lists the pids in /proc.
func ndBenchProcs() []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// ndBenchChild finds the one child of this process whose command line
// contains marker.
func ndBenchChild(b *testing.B, marker string) int {
	self := os.Getpid()
	var found []int
	for _, pid := range ndBenchProcs() {
		ppid, _, _, _, err := ndBenchProcStat(pid)
		if err != nil || ppid != self {
			continue
		}
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if bytes.Contains(cmdline, []byte(marker)) {
			found = append(found, pid)
		}
	}
	if len(found) != 1 {
		b.Fatalf("want one child process running %s, found %v", marker, found)
	}
	return found[0]
}

// ndBenchSample is the CPU time of the live processes of one process
// group (the Supervisor starts each child in a group of its own).
type ndBenchSample struct {
	// ticks is utime+stime+cutime+cstime of every member from
	// /proc/<pid>/stat: exact over the process's life, dead threads and
	// reaped children included, but in whole ticks (10 ms).
	ticks float64
	// threads is each live thread's run time in ns (the first field of
	// /proc/<pid>/task/<tid>/schedstat); reaped is the cutime+cstime part
	// of ticks.
	threads map[string]int64
	reaped  float64
}

func ndBenchGroupCPU(b *testing.B, pid int) ndBenchSample {
	s := ndBenchSample{threads: map[string]int64{}}
	seen := false
	for _, p := range ndBenchProcs() {
		_, pgrp, self, children, err := ndBenchProcStat(p)
		if err != nil || pgrp != pid {
			continue
		}
		seen = seen || p == pid
		s.ticks += self + children
		s.reaped += children
		dir := fmt.Sprintf("/proc/%d/task", p)
		tids, _ := os.ReadDir(dir)
		for _, t := range tids {
			raw, err := os.ReadFile(filepath.Join(dir, t.Name(), "schedstat"))
			if err != nil {
				continue
			}
			f := strings.Fields(string(raw))
			if len(f) == 0 {
				continue
			}
			ns, err := strconv.ParseInt(f[0], 10, 64)
			if err == nil {
				s.threads[fmt.Sprintf("%d/%s", p, t.Name())] = ns
			}
		}
	}
	if !seen {
		b.Fatalf("process %d is gone", pid)
	}
	return s
}

// ndBenchChildCPU is the CPU time between two samples: the threads' run
// times in ns when the same threads lived at both (plus reaped
// children's ticks), unless that is off from the tick count by more than
// its rounding (a thread came or went between the two), which is then
// used; precise says which.
func ndBenchChildCPU(s0, s1 ndBenchSample) (cpu float64, precise bool) {
	ticks := s1.ticks - s0.ticks
	if len(s0.threads) != len(s1.threads) {
		return ticks, false
	}
	var ns int64
	for tid, v1 := range s1.threads {
		v0, ok := s0.threads[tid]
		if !ok {
			return ticks, false
		}
		ns += v1 - v0
	}
	fine := float64(ns)/1e9 + s1.reaped - s0.reaped
	// Each of the two tick counts is rounded down by less than a tick per
	// process, utime and stime apart.
	if d := fine - ticks; d > 0.05 || d < -0.05 {
		return ticks, false
	}
	return fine, true
}

// ndBenchRun runs in under a Supervisor until ndBenchWarmup updates
// passed, then measures the CPU of the next updates: the child process
// group's and this process's, between the moments the sink got the last
// point of the update before the window and of the window's last update.
func ndBenchRun(b *testing.B, root string, in Input, marker string, updates int) ndBenchCPU {
	sink := &ndBenchSink{charts: map[string]bool{}, notify: make(chan struct{}, 1)}
	run := benchSupervisor(b, root, in, sink, 2*time.Second)
	defer run.stop()
	logs := run.logs
	waitPoints := func(n int, timeout time.Duration) {
		deadline := time.After(timeout)
		for {
			got, bad, charts := sink.count()
			if len(bad) > 0 {
				b.Fatalf("%s: points of the wrong shape: %v\nlogs:\n%s", in.Name, bad, logs.String())
			}
			if got >= n {
				if charts != ndBenchCharts {
					b.Fatalf("%s: points of %d charts, want %d", in.Name, charts, ndBenchCharts)
				}
				return
			}
			select {
			case <-sink.notify:
			case <-run.exited:
				b.Fatalf("%s: Run returned: %v\nlogs:\n%s", in.Name, run.err, logs.String())
			case <-deadline:
				b.Fatalf("%s: %d of %d points after %s\nlogs:\n%s", in.Name, got, n, timeout, logs.String())
			}
		}
	}
	waitPoints(ndBenchWarmup*ndBenchCharts, 60*time.Second)
	pid := ndBenchChild(b, marker)
	child0, host0 := ndBenchGroupCPU(b, pid), ndBenchHostCPU(b)
	waitPoints((ndBenchWarmup+updates)*ndBenchCharts, time.Duration(updates)*time.Second+30*time.Second)
	child1, host1 := ndBenchGroupCPU(b, pid), ndBenchHostCPU(b)
	if again := ndBenchChild(b, marker); again != pid {
		b.Fatalf("%s: the process was restarted (%d, then %d)\nlogs:\n%s", in.Name, pid, again, logs.String())
	}
	child, precise := ndBenchChildCPU(child0, child1)
	return ndBenchCPU{child: child, host: host1 - host0, ticks: child1.ticks - child0.ticks, precise: precise}
}

// BenchmarkNetdataCPU compares the CPU cost of one python.d module under
// framework netdata (collectkit's runtime, /usr/bin/python3
// py/runtime/run_netdata.py, whose P frames feed the chart engine) with
// the same module under the real python.d.plugin 1.37 of Debian (run
// through framework netdata-plugin, its stdout read by the same engine).
// The module (ndBenchModule) has 50 charts of 20 dimensions, half
// absolute, half incremental, at update_every 1; one update is 1000 ints
// from _get_data and gives 50 points.
//
// Each side runs under a Supervisor of its own, one after the other in
// the same benchmark op (in one run, less than a minute apart; not at
// once, as this process's CPU could not be told apart then),
// with the same interpreter, module file and sink (which only counts and
// checks points: 50 charts, 20 fields each). After 2 warm-up updates
// (process start, imports, job check, chart definitions and the first
// value of incremental dimensions are outside the window) the CPU time
// of the next N updates is measured:
//
//   - the child: the CPU time of every process in the Python process's
//     group (the runtime's threads, any process it forks): the sum of its
//     threads' run times from /proc/<pid>/task/<tid>/schedstat (ns) when
//     the same threads lived at both ends of the window (as they do: both
//     runtimes keep one thread per job), else utime+stime+cutime+cstime
//     from /proc/<pid>/stat (10 ms ticks; the log says which);
//   - the host: getrusage(RUSAGE_SELF) of this test process, which holds
//     the Supervisor, the pipes' readers, the plugins.d parser and chart
//     engine, the point normalization and the sink, and the Go runtime.
//
// Both are read when the sink got the last point of the update before
// the window and of the window's last one. Updates come at 1 s, so the
// window takes N seconds of wall time per side; N is
// COLLECTKIT_BENCH_UPDATES, 20 unless set, and the figures are scaled
// to 100 updates (×100/N). Metrics per op: ours-cpu-s/100updates and
// pyd-cpu-s/100updates (child plus host), the host's share of each
// (*-host-cpu-s/100updates), and ours/pyd, the ratio of the totals.
//
//	go test -run '^$' -bench NetdataCPU -benchtime 1x ./pythond/
//
// (about 45 s; -count 3 shows the spread).
func BenchmarkNetdataCPU(b *testing.B) {
	const (
		plugin = "/usr/lib/netdata/plugins.d/python.d.plugin"
		python = "/usr/bin/python3"
	)
	for _, f := range []string{plugin, python} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				b.Fatalf("%s is missing: install netdata-plugins-python", f)
			}
			b.Skipf("%s is missing: install netdata-plugins-python (Debian) to compare with the real python.d.plugin", f)
		}
	}
	updates := ndBenchDefaultUpdates
	if v := os.Getenv("COLLECTKIT_BENCH_UPDATES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("COLLECTKIT_BENCH_UPDATES=%q: want a positive number of updates", v)
		}
		updates = n
	}
	root := b.TempDir()
	// One module file for both: <root>/plugins/python.d/ckbench.chart.py
	// (python.d.plugin's user plugins dir layout); python.d.conf enables it.
	files := map[string]string{
		"plugins/python.d/ckbench.chart.py": ndBenchModule(),
		"etc/python.d.conf":                 "ckbench: yes\n",
	}
	for rel, text := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	ours := Input{
		Name:           "ours",
		Framework:      FrameworkNetdata,
		Cmd:            python,
		Dirs:           []string{filepath.Join(root, "plugins", "python.d")},
		NetdataOptions: NetdataOptions{ConfDir: filepath.Join(root, "etc"), Modules: []string{"ckbench"}, UpdateEvery: 1},
		RestartMin:     Duration(time.Second),
	}
	theirs := Input{
		Name:                 "pyd",
		Framework:            FrameworkNetdataPlugin,
		Cmd:                  plugin,
		NetdataOptions:       NetdataOptions{UpdateEvery: 1},
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{"1", "ckbench"}},
		Envs: []string{
			"PYTHONUNBUFFERED=1", // it never flushes stdout otherwise
			"NETDATA_USER_PLUGINS_DIRS=" + filepath.Join(root, "plugins"),
			"NETDATA_USER_CONFIG_DIR=" + filepath.Join(root, "etc"),
		},
		RestartMin: Duration(time.Second),
	}
	var o, t ndBenchCPU
	for i := 0; i < b.N; i++ {
		oc := ndBenchRun(b, root, ours, "run_netdata.py", updates)
		tc := ndBenchRun(b, root, theirs, "python.d.plugin", updates)
		b.Logf("op %d over %d updates: ours python %.3f s (ticks %.2f, per thread %t) + host %.3f s; python.d.plugin %.3f s (ticks %.2f, per thread %t) + host %.3f s",
			i, updates, oc.child, oc.ticks, oc.precise, oc.host, tc.child, tc.ticks, tc.precise, tc.host)
		o.child, o.host = o.child+oc.child, o.host+oc.host
		t.child, t.host = t.child+tc.child, t.host+tc.host
	}
	per100 := func(s float64) float64 { return s / float64(b.N) * 100 / float64(updates) }
	b.ReportMetric(per100(o.child+o.host), "ours-cpu-s/100updates")
	b.ReportMetric(per100(o.host), "ours-host-cpu-s/100updates")
	b.ReportMetric(per100(t.child+t.host), "pyd-cpu-s/100updates")
	b.ReportMetric(per100(t.host), "pyd-host-cpu-s/100updates")
	b.ReportMetric((o.child+o.host)/(t.child+t.host), "ours/pyd")
}

// benchRun is a Supervisor run by benchSupervisor.
type benchRun struct {
	logs   *testkit.SyncBuffer
	exited chan struct{} // closed when Run has returned, with err
	err    error
	cancel context.CancelFunc
}

// stop cancels the run and waits for Run to return.
func (r *benchRun) stop() {
	r.cancel()
	<-r.exited
}

// benchSupervisor runs in under a Supervisor writing to sink, logging at
// info into the run's logs.
func benchSupervisor(b *testing.B, root string, in Input, sink point.Sink, grace time.Duration) *benchRun {
	r := &benchRun{logs: &testkit.SyncBuffer{}, exited: make(chan struct{})}
	s, err := New(Options{
		Inputs:    []Input{in},
		Root:      root,
		Sink:      sink,
		Logger:    slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
		StateDir:  sharedState(),
		StopGrace: grace,
	})
	if err != nil {
		b.Fatal(err)
	}
	var ctx context.Context
	ctx, r.cancel = context.WithCancel(context.Background())
	go func() {
		r.err = s.Run(ctx)
		close(r.exited)
	}()
	return r
}
