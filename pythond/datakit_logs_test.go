package pythond

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// withCollectorLogs sets logs on opts and checks that New hands them to
// the datakit room, which passes them to the runner.
func withCollectorLogs(t *testing.T, opts *Options, logs CollectorLogs) {
	t.Helper()
	opts.CollectorLogs = logs
	s, err := New(*opts)
	require.NoError(t, err)
	require.Equal(t, logs, s.datakitLogs())
}

// readLog returns the contents of the file, "" when it does not exist.
func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// logFiles returns the file and its rotated files that exist, newest
// first.
func logFiles(path string) []string {
	var out []string
	if _, err := os.Stat(path); err == nil {
		out = append(out, path)
	}
	for i := 1; ; i++ {
		p := fmt.Sprintf("%s.%d", path, i)
		if _, err := os.Stat(p); err != nil {
			return out
		}
		out = append(out, p)
	}
}

// TestCollectorLogs checks that DataKit's CLI and framework log files are
// written to CollectorLogs.Dir with what DataKit writes there (the runner's
// records with tracebacks, mylog records, the start and the stop), while
// the host's log still gets every record.
func TestCollectorLogs(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dir := filepath.Join(t.TempDir(), "logs") // created by the host
	h.write("logged/logged.py", `
import multiprocessing
from datakit_framework import DataKitFramework, mylog

class Logged(DataKitFramework):
    name = 'Logged'
    interval = 3600

    def run(self):
        mylog("collected %d things", 3)
        child = multiprocessing.get_context("fork").Process(
            target=mylog, args=("from a child %d", 5))
        child.start()
        child.join()
        self.feed_metric(measurement="m", fields={"f": 1})
        return 1 / 0
`)
	h.write("logged/broken.py", "import not_installed_module_x\n")
	opts := h.options(Input{Name: "logs", Dirs: []string{"logged"}})
	withCollectorLogs(t, &opts, CollectorLogs{Dir: dir})
	h.start(opts)
	h.waitPoints(1, 10*time.Second)
	h.errs.wait(t, KindRun, 1, 5*time.Second)

	cli := filepath.Join(dir, "_datakit_pythond_cli.log")
	framework := filepath.Join(dir, "_datakit_pythond_framework_logs_.log")
	waitFor(t, 5*time.Second, "the log files", func() bool {
		return strings.Contains(readLog(cli), "ZeroDivisionError") && strings.Contains(readLog(framework), "collected 3 things")
	}, func() string { return readLog(cli) + "\n--\n" + readLog(framework) })
	line := regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) `)
	text := readLog(cli)
	assert.Regexp(t, line, text)
	assert.Contains(t, text, "ERROR [logs] pythond: module broken needs not_installed_module_x, which is not installed")
	assert.Contains(t, text, "INFO [logs] pythond: running 1 collector(s): Logged")
	assert.Contains(t, text, "ERROR [logs] Logged: run() raised ZeroDivisionError: division by zero\nTraceback (most recent call last):")
	assert.Contains(t, text, "return 1 / 0", "the traceback is written whole")
	assert.Regexp(t, `(?m)^\S+ \S+ DEBUG collected 3 things$`, readLog(framework))
	assert.NotContains(t, readLog(framework), "ZeroDivisionError", "the runner's records go to the CLI log only")
	assert.Regexp(t, `(?m)^\S+ \S+ DEBUG from a child 5$`, readLog(framework), "a forked process writes the file too")

	// The host's log stays the main place.
	assert.NotEmpty(t, h.logs.find("collected 3 things"))
	assert.NotEmpty(t, h.logs.find("run() raised ZeroDivisionError"))

	h.stop()
	assert.Contains(t, readLog(cli), "INFO [logs] pythond: stopping on SIGTERM")
}

// TestCollectorLogsRotate checks that the framework log rotates at
// MaxBytes and keeps Backups files, and that two inputs writing the
// shared CLI log while it rotates lose no line.
func TestCollectorLogsRotate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	dir := t.TempDir()
	const maxBytes, backups, failures = 2000, 60, 60
	h.write("chatty/chatty.py", `
from datakit_framework import DataKitFramework, mylog

class Chatty(DataKitFramework):
    name = 'Chatty'
    interval = 3600

    def run(self):
        for i in range(3000):
            mylog("line %04d of the framework log", i)
        self.feed_metric(measurement="done", fields={"f": 1})
`)
	for _, name := range []string{"a", "b"} {
		h.write("fail_"+name+"/fail.py", strings.ReplaceAll(`
from datakit_framework import DataKitFramework

class Fail(DataKitFramework):
    name = 'Fail'
    interval = 0.005
    n = 0

    def run(self):
        if self.n < FAILURES:
            self.n += 1
            raise ValueError("failure %d" % self.n)
`, "FAILURES", fmt.Sprint(failures)))
	}
	opts := h.options(
		Input{Name: "chatty", Dirs: []string{"chatty"}},
		// No run timeout: a loaded machine would add its records.
		Input{Name: "in_a", Dirs: []string{"fail_a"}, RunTimeout: Duration(-time.Second)},
		Input{Name: "in_b", Dirs: []string{"fail_b"}, RunTimeout: Duration(-time.Second)},
	)
	withCollectorLogs(t, &opts, CollectorLogs{Dir: dir, MaxBytes: maxBytes, Backups: backups})
	h.start(opts)
	h.waitPoints(1, 20*time.Second)
	h.errs.wait(t, KindRun, 2*failures, 20*time.Second)

	framework := filepath.Join(dir, "_datakit_pythond_framework_chatty_.log")
	files := logFiles(framework)
	require.Len(t, files, 1+backups, "the file and Backups rotated files")
	_, err := os.Stat(fmt.Sprintf("%s.%d", framework, backups+1))
	assert.True(t, os.IsNotExist(err), "no more than Backups rotated files are kept")
	for i, f := range files {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		assert.LessOrEqual(t, fi.Size(), int64(maxBytes), f)
		if i > 0 {
			assert.Greater(t, fi.Size(), int64(maxBytes-100), "a rotated file is full: %s", f)
		}
	}
	// The newest lines are kept, in order, across the files.
	var kept []string
	for i := len(files) - 1; i >= 0; i-- {
		for _, l := range strings.Split(strings.TrimSpace(readLog(files[i])), "\n") {
			kept = append(kept, l[strings.Index(l, "line "):])
		}
	}
	require.NotEmpty(t, kept)
	assert.Equal(t, "line 2999 of the framework log", kept[len(kept)-1])
	for i := 1; i < len(kept); i++ {
		assert.Less(t, kept[i-1], kept[i], "lines in order across the rotated files")
	}
	assert.Equal(t, "line 0000 of the framework log", firstLogged(h), "the host got every record")

	// The CLI log: both inputs' processes rotate it, and it keeps enough
	// files for every failure line of both, each exactly once.
	cli := filepath.Join(dir, "_datakit_pythond_cli.log")
	seen := map[string]int{}
	for _, f := range logFiles(cli) {
		for _, m := range regexp.MustCompile(`\[(in_[ab])\] Fail: run\(\) raised ValueError: (failure \d+)`).FindAllStringSubmatch(readLog(f), -1) {
			seen[m[1]+" "+m[2]]++
		}
	}
	require.Less(t, len(logFiles(cli)), 1+backups, "the test's CLI log must not lose its oldest file")
	for _, in := range []string{"in_a", "in_b"} {
		for i := 1; i <= failures; i++ {
			k := fmt.Sprintf("%s failure %d", in, i)
			assert.Equal(t, 1, seen[k], k)
		}
	}
	if !assert.Len(t, seen, 2*failures) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			fi, _ := e.Info()
			t.Logf("%s %d", e.Name(), fi.Size())
		}
		t.Logf("first: %.300s", readLog(logFiles(cli)[len(logFiles(cli))-1]))
	}
}

// firstLogged returns the first framework log line the host's log got.
func firstLogged(h *harness) string {
	recs := h.logs.find("of the framework log")
	if len(recs) == 0 {
		return ""
	}
	return recs[0].Message
}

// TestCollectorLogsUnwritable checks that a log directory that cannot be
// written is reported in the host's log, and the collectors run anyway.
func TestCollectorLogsUnwritable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	notDir := h.write("not-a-dir", "a file\n")
	h.write("ok/ok.py", `
from datakit_framework import DataKitFramework, mylog

class Ok(DataKitFramework):
    name = 'Ok'
    interval = 3600

    def run(self):
        mylog("still logged")
        self.feed_metric(measurement="m", fields={"f": 1})
`)
	opts := h.options(Input{Name: "ok", Dirs: []string{"ok"}})
	withCollectorLogs(t, &opts, CollectorLogs{Dir: filepath.Join(notDir, "logs")})
	h.start(opts)
	h.waitPoints(1, 10*time.Second)
	h.logs.waitLog(t, "still logged", 1, 5*time.Second)
	warned := append(h.logs.find("cannot write the CLI log file"), h.logs.find("log files are not written")...)
	assert.NotEmpty(t, warned, h.logs.dump())
}
