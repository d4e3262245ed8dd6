package pythond

import (
	"context"
	"os"
	"os/exec"
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

// The CPU benchmark of framework collectd against the real collectd's
// python plugin, on one plugin (testdata/collectd-diff/ckbench.py).
const (
	// cdBenchPerRead is what ckbench.py dispatches per read.
	cdBenchPerRead = 1000
	// cdBenchWarmup reads pass before the measured window opens.
	cdBenchWarmup = 2
	// cdBenchDefaultReads is the window's length in reads, unless
	// COLLECTKIT_BENCH_READS says otherwise.
	cdBenchDefaultReads = 20
)

// cdBenchSink counts points and checks their shape: ckbench's gauges have
// one field, its if_octets two.
type cdBenchSink struct {
	mu     sync.Mutex
	points int
	bad    []string
	notify chan struct{}
}

func (s *cdBenchSink) Write(_ context.Context, b point.Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range b.Points {
		s.points++
		ty, _ := p.Tag("type")
		want := 1
		if ty == "if_octets" {
			want = 2
		}
		if (p.Name != "ckbench" || len(p.Fields) != want) && len(s.bad) < 5 {
			s.bad = append(s.bad, p.String())
		}
	}
	select {
	case s.notify <- struct{}{}:
	default:
	}
	return nil
}

func (s *cdBenchSink) count() (int, []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.points, s.bad
}

// cdBenchOurs runs ckbench under framework collectd and measures the CPU
// of reads warmup+1 .. warmup+reads: the Python process group's and this
// process's, between the moments the sink got the last point of read
// warmup and of read warmup+reads.
func cdBenchOurs(b *testing.B, in Input, dir string, reads int) ndBenchCPU {
	sink := &cdBenchSink{notify: make(chan struct{}, 1)}
	run := benchSupervisor(b, dir, in, sink, 5*time.Second)
	defer run.stop()
	logs := run.logs
	waitReads := func(n int, timeout time.Duration) {
		deadline := time.After(timeout)
		for {
			got, bad := sink.count()
			if len(bad) > 0 {
				b.Fatalf("ours: points of the wrong shape: %v\nlogs:\n%s", bad, logs.String())
			}
			if got >= n*cdBenchPerRead {
				return
			}
			select {
			case <-sink.notify:
			case <-run.exited:
				b.Fatalf("ours: Run returned: %v\nlogs:\n%s", run.err, logs.String())
			case <-deadline:
				b.Fatalf("ours: %d of %d points after %s\nlogs:\n%s", got, n*cdBenchPerRead, timeout, logs.String())
			}
		}
	}
	waitReads(cdBenchWarmup, 60*time.Second)
	pid := ndBenchChild(b, "run_collectd.py")
	child0, host0 := ndBenchGroupCPU(b, pid), ndBenchHostCPU(b)
	waitReads(cdBenchWarmup+reads, time.Duration(reads)*time.Second+30*time.Second)
	child1, host1 := ndBenchGroupCPU(b, pid), ndBenchHostCPU(b)
	if again := ndBenchChild(b, "run_collectd.py"); again != pid {
		b.Fatalf("ours: the process was restarted (%d, then %d)\nlogs:\n%s", pid, again, logs.String())
	}
	if got, _ := sink.count(); got > (cdBenchWarmup+reads+1)*cdBenchPerRead {
		b.Logf("ours: the sink was %d points ahead at the window's end", got-(cdBenchWarmup+reads)*cdBenchPerRead)
	}
	child, precise := ndBenchChildCPU(child0, child1)
	return ndBenchCPU{child: child, host: host1 - host0, ticks: child1.ticks - child0.ticks, precise: precise}
}

// cdBenchReadCount is the number of reads ckbench.py wrote to its ReadLog.
func cdBenchReadCount(path string) int {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return n
}

// cdBenchReal runs ckbench under the real collectd (in a process group of
// its own) and measures, as cdBenchOurs does, the CPU of reads warmup+1 ..
// warmup+reads: collectd's and this process's, between the moments its
// ReadLog said read warmup and read warmup+reads were done.
func cdBenchReal(b *testing.B, conf, dir string, reads int) ndBenchCPU {
	var out testkit.SyncBuffer
	cmd := exec.Command(cdDaemon, "-f", "-C", conf)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"}
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.Fatalf("start collectd: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	readLog := filepath.Join(dir, "reads")
	waitReads := func(n int, timeout time.Duration) {
		deadline := time.Now().Add(timeout)
		for cdBenchReadCount(readLog) < n {
			select {
			case err := <-exited:
				b.Fatalf("collectd exited: %v\n%s", err, out.String())
			case <-time.After(20 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				b.Fatalf("collectd: %d of %d reads after %s\n%s", cdBenchReadCount(readLog), n, timeout, out.String())
			}
		}
	}
	waitReads(cdBenchWarmup, 60*time.Second)
	pid := cmd.Process.Pid
	child0, host0 := ndBenchGroupCPU(b, pid), ndBenchHostCPU(b)
	waitReads(cdBenchWarmup+reads, time.Duration(reads)*time.Second+30*time.Second)
	child1, host1 := ndBenchGroupCPU(b, pid), ndBenchHostCPU(b)
	if strings.Contains(out.String(), "[error]") {
		b.Fatalf("collectd logged errors:\n%s", out.String())
	}
	child, precise := ndBenchChildCPU(child0, child1)
	return ndBenchCPU{child: child, host: host1 - host0, ticks: child1.ticks - child0.ticks, precise: precise}
}

// BenchmarkCollectdCPU compares the CPU cost of one collectd Python plugin
// under framework collectd (collectkit's runtime, /usr/bin/python3
// py/runtime/run_collectd.py, whose V frames this process decodes, maps
// to points and hands to the sink) with the same plugin and config under
// the real collectd 5.12 of Debian, whose python plugin embeds the
// interpreter (libpython3.11) in the daemon. The plugin
// (testdata/collectd-diff/ckbench.py) dispatches 1,000 value lists per
// read at Interval 1: 750 gauges and 250 if_octets (two derive values).
// collectd runs with no write plugin: its cost is the plugin's, the
// dispatch and its value cache; ours adds the pipe, the decoding, the
// mapping to points, normalization and a sink that only counts and checks
// them (1,000 points per read, one or two fields each).
//
// The sides run one after the other in the same benchmark op (in one
// run, less than a minute apart), with the same plugin file and config.
// After 2 warm-up reads the CPU time of the next N reads is measured as
// BenchmarkNetdataCPU measures it:
//
//   - the child: every process of the Python process's group (ours) or
//     of collectd's (started in a group of its own): the sum of its
//     threads' run times from /proc/<pid>/task/<tid>/schedstat when the
//     same threads lived at both ends of the window, else
//     utime+stime+cutime+cstime from /proc/<pid>/stat (the log says
//     which);
//   - for ours also the host: getrusage(RUSAGE_SELF) of this test
//     process (the Supervisor, the pipe's reader, the decoding and
//     mapping, the sink and the Go runtime). collectd's side has none
//     (the process does all of its work); the test process's CPU
//     while it polls collectd's read count is only logged.
//
// Both are read when read 2 and read 2+N were done: for ours when the
// sink got their last point, for collectd when the plugin wrote their
// number to its ReadLog file. N is COLLECTKIT_BENCH_READS, 20 unless
// set. Metrics per op: ours-cpu-ms/read (child plus host),
// ours-host-cpu-ms/read, collectd-cpu-ms/read, and ours/collectd, the
// ratio of the two totals (the target is at most 1.5).
//
//	go test -run '^$' -bench CollectdCPU -benchtime 1x ./pythond/
//
// (about 50 s; -count 3 shows the spread).
func BenchmarkCollectdCPU(b *testing.B) {
	cdNeedCollectd(b)
	reads := cdBenchDefaultReads
	if v := os.Getenv("COLLECTKIT_BENCH_READS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("COLLECTKIT_BENCH_READS=%q: want a positive number of reads", v)
		}
		reads = n
	}
	f := cdFixture{name: "ckbench"}
	realDir, oursDir := b.TempDir(), b.TempDir()
	realConf, oursConf := cdWriteConfig(b, f, realDir), cdWriteConfig(b, f, oursDir)
	in, skip := cdInput(b, "ours", oursConf)
	b.ReportAllocs()
	var o, c ndBenchCPU
	for i := 0; i < b.N; i++ {
		if skip == "" {
			// A fresh ReadLog and process for each op.
			_ = os.Remove(filepath.Join(oursDir, "reads"))
			oc := cdBenchOurs(b, in, oursDir, reads)
			o.child, o.host = o.child+oc.child, o.host+oc.host
			b.Logf("op %d over %d reads: ours python %.3f s (ticks %.2f, per thread %t) + host %.3f s",
				i, reads, oc.child, oc.ticks, oc.precise, oc.host)
		}
		_ = os.Remove(filepath.Join(realDir, "reads"))
		cc := cdBenchReal(b, realConf, realDir, reads)
		c.child, c.host = c.child+cc.child, c.host+cc.host
		b.Logf("op %d over %d reads: collectd %.3f s (ticks %.2f, per thread %t); this process meanwhile %.3f s",
			i, reads, cc.child, cc.ticks, cc.precise, cc.host)
	}
	perRead := func(s float64) float64 { return s / float64(b.N) / float64(reads) * 1000 }
	b.ReportMetric(perRead(c.child), "collectd-cpu-ms/read")
	if skip != "" {
		cdSkip(b, "%s (collectd alone: %.2f ms of CPU per read)", skip, perRead(c.child))
	}
	b.ReportMetric(perRead(o.child+o.host), "ours-cpu-ms/read")
	b.ReportMetric(perRead(o.host), "ours-host-cpu-ms/read")
	b.ReportMetric((o.child+o.host)/c.child, "ours/collectd")
}
