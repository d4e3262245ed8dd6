//go:build unix

package pythond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

// pids returns the pids of the "python process started" records.
func (h *harness) pids() []int {
	var out []int
	for _, r := range h.logs.find("python process started") {
		pid, err := strconv.Atoi(r.Attrs["pid"])
		require.NoError(h.t, err)
		out = append(out, pid)
	}
	return out
}

func TestRunRaises(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("raise/raise.py", `
from datakit_framework import DataKitFramework

class Raiser(DataKitFramework):
    name = 'Raiser'
    interval = 0.05

    def run(self):
        self.feed_metric(measurement='before', fields={'f': 1})
        return 1 / 0
`)
	h.start(h.options(Input{Dirs: []string{"raise"}}))
	errs := h.errs.wait(t, KindRun, 3, 10*time.Second)
	h.waitPoints(3, 5*time.Second) // the next runs still happen
	assert.Equal(t, "Raiser", errs[0].Collector)
	assert.Contains(t, errs[0].Message, "ZeroDivisionError")
	assert.Contains(t, errs[0].Traceback, "return 1 / 0")
	assert.Len(t, h.pids(), 1, "an exception in run() does not restart the process")
}

func TestRunTimeout(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("hang/hang.py", `
import time
from datakit_framework import DataKitFramework

class Hanger(DataKitFramework):
    name = 'Hanger'
    interval = 0.05
    runs = 0

    def run(self):
        Hanger.runs += 1
        if Hanger.runs == 1:
            time.sleep(0.6)
        self.feed_metric(measurement='done', fields={'run': Hanger.runs})
`)
	h.start(h.options(Input{Dirs: []string{"hang"}, RunTimeout: Duration(150 * time.Millisecond)}))
	errs := h.errs.wait(t, KindTimeout, 1, 10*time.Second)
	assert.Equal(t, "Hanger", errs[0].Collector)
	assert.Contains(t, errs[0].Message, "over its timeout of 0.15s")
	assert.Contains(t, errs[0].Traceback, "time.sleep(0.6)", "the stack of the hung run")
	pts := h.waitPoints(3, 5*time.Second)
	v, _ := pts[0].Field("run")
	assert.Equal(t, 1.0, v.Float(), "the hung run finishes")
	v, _ = pts[1].Field("run")
	assert.Equal(t, 2.0, v.Float(), "runs never overlap; the next follows")
	h.logs.waitLog(t, "run() finished after", 1, time.Second)
	assert.Len(t, h.errs.kind(KindTimeout), 1, "one report per overrun")
}

// TestFixedRate checks that runs start on a fixed schedule that a slow
// run() does not make drift.
func TestFixedRate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("rate/rate.py", `
import time
from datakit_framework import DataKitFramework

class Rate(DataKitFramework):
    name = 'Rate'
    interval = 0.2

    def run(self):
        self.feed_metric(measurement='tick', fields={'t': time.monotonic()})
        time.sleep(0.08)
`)
	h.start(h.options(Input{Dirs: []string{"rate"}}))
	pts := h.waitPoints(9, 15*time.Second)
	first, _ := pts[0].Field("t")
	single := 0
	prev := 0.0
	for i, p := range pts[1:9] {
		v, _ := p.Field("t")
		// Every run starts a whole number of intervals after the first
		// (a run that took the scheduler past a tick skips it); with run
		// time added to the interval, the offsets would drift by 0.4 periods a run.
		// The tolerance (60ms) absorbs scheduling delays on a loaded machine.
		periods := (v.Float() - first.Float()) / 0.2
		assert.InDelta(t, math.Round(periods), periods, 0.3, "run %d starts %.3f periods after the first", i+1, periods)
		if math.Round(periods)-prev == 1 {
			single++
		}
		prev = math.Round(periods)
	}
	assert.GreaterOrEqual(t, single, 4, "most runs follow the previous one by one interval")
}

func TestExitRestartsWithBackoff(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("exit/exit.py", `
import os
from datakit_framework import DataKitFramework

class Exiter(DataKitFramework):
    name = 'Exiter'
    interval = 10

    def run(self):
        self.feed_metric(measurement='alive', fields={'pid': os.getpid()})
        os._exit(7)
`)
	opts := h.options(Input{Dirs: []string{"exit"}, RestartMin: Duration(40 * time.Millisecond), RestartMax: Duration(320 * time.Millisecond)})
	h.start(opts)
	recs := h.logs.waitLog(t, "python process exited; restarting", 5, 15*time.Second)
	var delays []time.Duration
	for _, r := range recs[:5] {
		d, err := time.ParseDuration(r.Attrs["restart_in"])
		require.NoError(t, err)
		delays = append(delays, d)
		assert.Contains(t, r.Attrs["err"], "exit status 7")
	}
	// 40ms, 80ms, 160ms, 320ms, 320ms, each ±20% and capped.
	for i, want := range []time.Duration{40, 80, 160, 320, 320} {
		want *= time.Millisecond
		assert.InDelta(t, float64(want), float64(delays[i]), float64(want)/5+float64(time.Millisecond), "delay %d: %v", i, delays)
		assert.LessOrEqual(t, delays[i], 320*time.Millisecond)
	}
	assert.GreaterOrEqual(t, len(h.errs.kind(KindExit)), 5)
	assert.GreaterOrEqual(t, len(h.pids()), 5)
	assert.GreaterOrEqual(t, h.rec.Len(), 5, "each new process reports again")
}

// TestLoudScript prints 10 MB to stdout: every line reaches the logger and
// the collector's report is not held up.
func TestLoudScript(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const lines = 100_000
	h.write("loud/loud.py", fmt.Sprintf(`
import sys
from datakit_framework import DataKitFramework

class Loud(DataKitFramework):
    name = 'Loud'
    interval = 60

    def run(self):
        pad = 'x' * 90
        for i in range(%d):
            print('line %%06d %%s' %% (i, pad))
        print('E! an error line', file=sys.stderr)
        self.feed_metric(measurement='loud', fields={'done': True})
`, lines))
	h.start(h.options(Input{Dirs: []string{"loud"}}))
	h.waitPoints(1, 30*time.Second)
	h.logs.waitLog(t, "an error line", 1, 5*time.Second)
	got := h.logs.waitLog(t, "line ", lines, 10*time.Second)
	assert.Len(t, got, lines)
	assert.Equal(t, "line 000000 "+strings.Repeat("x", 90), got[0].Message)
	assert.Equal(t, fmt.Sprintf("line %06d %s", lines-1, strings.Repeat("x", 90)), got[lines-1].Message)
	assert.Equal(t, "stdout", got[0].Attrs["stream"])
	errLine := h.logs.find("an error line")
	assert.Equal(t, "an error line", errLine[0].Message, "the E! prefix sets the level and is removed")
	assert.Equal(t, "ERROR", errLine[0].Level.String())
	assert.Empty(t, h.logs.find("dropped"))
}

func TestLargeReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("big/big.py", `
from datakit_framework import DataKitFramework

class Big(DataKitFramework):
    name = 'Big'
    interval = 60

    def run(self):
        pts = [{"measurement": "big", "tags": {"i": str(i % 100)}, "fields": {"n": i, "v": i * 0.5}} for i in range(100000)]
        r = self.report({'M': pts})
        print("report returned %r" % r)
`)
	h.start(h.options(Input{Dirs: []string{"big"}}))
	pts := h.waitPoints(100_000, 30*time.Second)
	require.Len(t, h.rec.Batches(), 1)
	for i, p := range pts {
		n, _ := p.Field("n")
		if !assert.Equal(t, float64(i), n.Float()) {
			break
		}
	}
	h.logs.waitLog(t, "report returned ''", 1, 5*time.Second)
}

// TestKillMidReport kills the interpreter with SIGKILL while it streams
// reports: only whole reports reach the sink, and a new process follows.
func TestKillMidReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const per = 20_000
	h.write("stream/stream.py", fmt.Sprintf(`
from datakit_framework import DataKitFramework

class Stream(DataKitFramework):
    name = 'Stream'
    interval = 0.001

    def run(self):
        pts = [{"measurement": "s", "tags": {"k": "v"}, "fields": {"i": i, "pad": "y" * 40}} for i in range(%d)]
        self.report({'L': pts})
`, per))
	h.start(h.options(Input{Dirs: []string{"stream"}}))
	h.waitPoints(per, 20*time.Second)
	pids := h.pids()
	require.Len(t, pids, 1)
	time.Sleep(30 * time.Millisecond) // be inside a later report
	require.NoError(t, syscall.Kill(pids[0], syscall.SIGKILL))
	h.logs.waitLog(t, "python process started", 2, 10*time.Second)
	exits := h.errs.wait(t, KindExit, 1, 5*time.Second)
	assert.Contains(t, exits[0].Message, "killed")
	n := h.rec.Len()
	h.waitPoints(n+per, 20*time.Second) // the new process reports too
	h.stop()
	for i, b := range h.rec.Batches() {
		require.Len(t, b.Points, per, "batch %d is whole", i)
		for j, p := range b.Points {
			v, ok := p.Field("i")
			require.True(t, ok)
			require.Equal(t, float64(j), v.Float())
			require.Len(t, p.Fields, 3) // i, pad, status
		}
	}
}

// groupAlive lists the live (non-zombie) processes in process group pgid.
func groupAlive(t *testing.T, pgid int) []int { return alive(t, pgid) }

// alive lists the live (non-zombie) processes, only those in process group
// pgid if one is given.
func alive(t *testing.T, pgid ...int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var alive []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		f := strings.Fields(rest)
		if len(f) > 2 && f[0] != "Z" && (len(pgid) == 0 || f[2] == strconv.Itoa(pgid[0])) {
			alive = append(alive, pid)
		}
	}
	return alive
}

// TestShutdownKillsGroup stops a collector that ignores SIGTERM and has a
// child of its own: after Run returns nothing of the group is left.
func TestShutdownKillsGroup(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	t.Parallel()
	h := newHarness(t)
	h.write("stubborn/stubborn.py", `
import signal, subprocess
from datakit_framework import DataKitFramework

signal.signal(signal.SIGTERM, signal.SIG_IGN)

class Stubborn(DataKitFramework):
    name = 'Stubborn'
    interval = 60

    def run(self):
        child = subprocess.Popen(['sleep', '300'])
        self.feed_metric(measurement='child', fields={'pid': child.pid})
`)
	opts := h.options(Input{Dirs: []string{"stubborn"}})
	opts.StopGrace = 300 * time.Millisecond
	h.start(opts)
	pts := h.waitPoints(1, 10*time.Second)
	childPID, _ := pts[0].Field("pid")
	pid := h.pids()[0]
	require.Len(t, groupAlive(t, pid), 2, "python and sleep are in the group")
	start := time.Now()
	h.stop()
	assert.GreaterOrEqual(t, time.Since(start), 250*time.Millisecond, "SIGTERM ignored: the grace period passes")
	h.logs.waitLog(t, "did not stop after SIGTERM", 1, time.Second)
	assert.Empty(t, groupAlive(t, pid))
	assert.NotContains(t, alive(t), int(childPID.Float()), "the grandchild is gone (or a zombie)")
}

func TestEnvs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("env/env.py", `
import os
from datakit_framework import DataKitFramework

class Env(DataKitFramework):
    name = 'Env'
    interval = 60

    def run(self):
        self.feed_logging(source='env', message='m', path=os.environ.get('MYPATH', ''),
                          inherited=os.environ.get('BASE_VAR', ''),
                          fds=os.environ.get('COLLECTKIT_PYTHOND_FDS', 'removed'),
                          cwd=os.getcwd())
`)
	work := filepath.Join(h.root, "work")
	require.NoError(t, os.Mkdir(work, 0o755))
	opts := h.options(Input{Dirs: []string{"env"}, Envs: []string{"MYPATH=/opt/lib:$BASE_VAR:${MISSING}"}, Workdir: "work"})
	opts.Env = append(os.Environ(), "BASE_VAR=base")
	h.start(opts)
	p := h.waitPoints(1, 10*time.Second)[0]
	for k, want := range map[string]string{"path": "/opt/lib:base:", "inherited": "base", "fds": "removed", "cwd": work} {
		v, ok := p.Field(k)
		require.True(t, ok, k)
		assert.Equal(t, want, v.Str(), k)
	}
}

// busySink says busy three times before accepting.
type busySink struct {
	calls atomic.Int32
	next  point.Sink
}

func (s *busySink) Write(ctx context.Context, b point.Batch) error {
	if s.calls.Add(1) <= 3 {
		return point.Busy(errors.New("queue full"), 20*time.Millisecond)
	}
	return s.next.Write(ctx, b)
}

// TestBusySinkBlocksReport checks flow control: report() waits while the
// sink is busy, and nothing is lost.
func TestBusySinkBlocksReport(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("busy/busy.py", `
import time
from datakit_framework import DataKitFramework

class Busy(DataKitFramework):
    name = 'Busy'
    interval = 60

    def run(self):
        t = time.monotonic()
        r = self.feed_metric(measurement='m', fields={'f': 1})
        print("report took %.3f returned %r" % (time.monotonic() - t, r))
`)
	opts := h.options(Input{Dirs: []string{"busy"}})
	sink := &busySink{next: h.rec}
	opts.Sink = sink
	h.start(opts)
	h.waitPoints(1, 10*time.Second)
	rec := h.logs.waitLog(t, "report took", 1, 5*time.Second)
	var took float64
	var ret string
	_, err := fmt.Sscanf(rec[0].Message, "report took %f returned %s", &took, &ret)
	require.NoError(t, err)
	assert.Equal(t, "''", ret)
	assert.GreaterOrEqual(t, took, 0.055, "report() waited for three busy answers")
	assert.Equal(t, int32(4), sink.calls.Load())
	assert.NotEmpty(t, h.logs.find("sink busy"))
}

// TestHTTPMode checks that a collector passing ip/port to
// DataKitFramework.__init__ posts to that DataKit write API instead of the
// pipe, as DataKit's framework does.
func TestHTTPMode(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var viaHTTP pointtest.Recorder
	// Objects without a name are refused (not DataKit's default), so
	// that the script gets an error document back.
	api, err := httpapi.New(httpapi.Options{Sink: &viaHTTP, Constraint: constraint.Options{
		Actions: map[constraint.Rule]constraint.Action{constraint.RuleObjectName: constraint.Reject}}})
	require.NoError(t, err)
	srv := httptest.NewServer(api)
	defer srv.Close()
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	h.write("remote/remote.py", fmt.Sprintf(`
from datakit_framework import DataKitFramework

class Remote(DataKitFramework):
    name = 'Remote'
    interval = 60

    def __init__(self, **kwargs):
        super().__init__(ip=%q, port=%s)

    def run(self):
        r = self.report({'M': [{"measurement": "m", "tags": {"t": "v", "cfg": "own"}, "fields": {"f": 1}}], 'input': 'remote in'})
        print("ok=%%r" %% r)
        r = self.report({'M': ({"measurement": "tup", "fields": {"f": i}} for i in range(2)), 'ignore_global_tags': True})
        print("generator=%%r" %% r)
        r = self.report({'M': ({"measurement": "tup", "fields": {"f": 1}}, {"measurement": "tup", "fields": {"f": 2}})})
        print("tuple=%%r" %% r)
        for i in range(3):
            r = self.report({'O': [{"measurement": "o", "tags": {}, "fields": {"f": 1}}]})
        print("object=%%s" %% r)

class Nowhere(DataKitFramework):
    name = 'Nowhere'
    interval = 60

    def __init__(self, **kwargs):
        super().__init__(ip="127.0.0.1", port=%d)

    def run(self):
        r = self.feed_metric(measurement="m", fields={"f": 1})
        print("nowhere=%%s" %% r)
`, u.Hostname(), u.Port(), closedPort(t)))
	h.start(h.options(Input{Dirs: []string{"remote"}, Tags: map[string]string{"cfg": "x", "env": "prod"}}))
	h.logs.waitLog(t, "ok=''", 1, 10*time.Second)
	rec := h.logs.waitLog(t, "object=", 1, 5*time.Second)
	assert.Contains(t, rec[0].Message, "datakit.", "the server's error document is returned")
	assert.Len(t, h.logs.find("generator=''"), 1, h.logs.dump())
	assert.Len(t, h.logs.find("tuple=''"), 1)
	failed := h.logs.find("Remote: POST http://")
	require.Len(t, failed, 1, "three failures with the same error are logged once")
	assert.Equal(t, slog.LevelWarn, failed[0].Level)
	assert.Contains(t, failed[0].Message, "/v1/write/object: HTTP 400")
	assert.Contains(t, failed[0].Message, "datakit.")
	h.logs.waitLog(t, "nowhere=", 1, 5*time.Second)
	nowhere := h.logs.find("Nowhere: POST http://127.0.0.1:")
	require.Len(t, nowhere, 1, h.logs.dump())
	assert.Equal(t, slog.LevelWarn, nowhere[0].Level)
	assert.Contains(t, nowhere[0].Message, "refused")

	batches := viaHTTP.Batches()
	require.Len(t, batches, 3)
	b := batches[0]
	assert.Equal(t, point.Metric, b.Category)
	assert.Equal(t, "remote in", b.Input, "query parameters are URL-encoded")
	require.Len(t, b.Points, 1)
	cfg, _ := b.Points[0].Tag("cfg")
	env, _ := b.Points[0].Tag("env")
	assert.Equal(t, "own", cfg, "the point's own tag wins")
	assert.Equal(t, "prod", env, "the input's tags are added in HTTP mode too")
	require.Len(t, batches[1].Points, 2, "a generator is a list")
	_, hasEnv := batches[1].Points[0].Tag("env")
	assert.False(t, hasEnv, "ignore_global_tags leaves out the input's tags")
	require.Len(t, batches[2].Points, 2, "a tuple is a list")
	env, _ = batches[2].Points[1].Tag("env")
	assert.Equal(t, "prod", env)
	assert.Zero(t, h.rec.Len(), "nothing went through the pipe")
}

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// TestReportLimits checks that MaxReportBytes bounds a whole report (not
// each chunk), and that a report whose every point is dropped returns
// DataKit's noPoints error instead of "".
func TestReportLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("lim/lim.py", `
import json
from datakit_framework import DataKitFramework

class Lim(DataKitFramework):
    name = 'Lim'
    interval = 60

    def run(self):
        # 1,000 points of ~120 bytes go in chunks of 128, 256, 512 and
        # 104 points: each chunk is under the limit, the report is not.
        pts = [{"measurement": "m", "fields": {"n": i, "pad": "x" * 60}} for i in range(1000)]
        r = self.report({'M': pts})
        print("big=" + json.loads(r)["error_code"])
        r = self.report({'M': pts[:100]})
        print("small=%r" % r)
        r = self.report({'M': [{"measurement": "m", "fields": {"s": "only strings"}}, {"measurement": "m", "fields": {"t": "x"}}]})
        e = json.loads(r)
        print("nopoints=" + e["error_code"])
        print("message=" + e["message"])
`)
	opts := h.options(Input{Dirs: []string{"lim"}})
	opts.MaxReportBytes = 64 << 10
	h.start(opts)
	h.logs.waitLog(t, "message=", 1, 10*time.Second)
	assert.Len(t, h.logs.find("big=datakit.bodyTooLarge"), 1, h.logs.dump())
	assert.Len(t, h.logs.find("small=''"), 1)
	assert.Len(t, h.logs.find("nopoints=datakit.noPoints"), 1)
	msg := h.logs.find("message=")[0].Message
	assert.Contains(t, msg, "none of the 2 points is left after checking")
	assert.Contains(t, msg, `field "s"`)
	refused := h.logs.find("report refused")
	require.Len(t, refused, 2, "both refusals are logged")
	assert.Contains(t, refused[0].Attrs["err"], "the limit is 65536")
	assert.Contains(t, refused[1].Attrs["err"], "none of the 2 points")
	assert.Equal(t, 100, h.rec.Len())
	reports := h.errs.wait(t, KindReport, 2, 5*time.Second)
	assert.Contains(t, reports[1].Message, "none of the 2 points")
}

// TestMultiprocessingPool runs a collector whose run() reports from the
// four workers of a multiprocessing.Pool and then from itself: forked
// processes share the channel without mixing up frames or answers.
func TestMultiprocessingPool(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("mp/mp.py", `
import multiprocessing
import os
from datakit_framework import DataKitFramework

class Pooled(DataKitFramework):
    name = 'Pooled'
    interval = 60

    def work(self, i):
        rs = []
        for j in range(10):
            rs.append(self.feed_metric(measurement="worker", tags={"pid": str(os.getpid())}, fields={"i": i, "j": j}))
        # a large report too, sent in several chunks
        rs.append(self.report({'M': [{"measurement": "bulk", "fields": {"i": i, "k": k}} for k in range(700)]}))
        return [r for r in rs if r]

    def run(self):
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(4) as pool:
            errors = pool.map(self.work, range(16))
        r = self.feed_metric(measurement="parent", fields={"n": 16})
        print("pool done errors=%r parent=%r" % (sum(errors, []), r))
`)
	h.start(h.options(Input{Dirs: []string{"mp"}}))
	h.logs.waitLog(t, "pool done", 1, 20*time.Second)
	assert.Len(t, h.logs.find("pool done errors=[] parent=''"), 1, h.logs.dump())
	pts := h.waitPoints(16*10+16*700+1, 5*time.Second)
	counts := map[string]int{}
	pids := map[string]bool{}
	seen := map[[2]float64]bool{}
	for _, p := range pts {
		counts[p.Name]++
		if p.Name == "worker" {
			pid, _ := p.Tag("pid")
			pids[pid] = true
			i, _ := p.Field("i")
			j, _ := p.Field("j")
			seen[[2]float64{i.Float(), j.Float()}] = true
		}
	}
	assert.Equal(t, map[string]int{"worker": 160, "bulk": 11200, "parent": 1}, counts)
	assert.Len(t, seen, 160, "every worker report arrived once")
	assert.Greater(t, len(pids), 1, "reports came from several processes")
	assert.Empty(t, h.errs.kind(KindReport))
	assert.Empty(t, h.errs.kind(KindExit))
}
