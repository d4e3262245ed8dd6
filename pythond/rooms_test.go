package pythond

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

func TestFrameworkText(t *testing.T) {
	t.Parallel()
	for f := range numFrameworks {
		b, err := f.MarshalText()
		require.NoError(t, err)
		var back Framework
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, f, back)
	}
	assert.Equal(t, "datakit", Framework(0).String(), "the zero value")
	assert.Equal(t, "netdata-plugin", FrameworkNetdataPlugin.String())
	_, err := Framework(99).MarshalText()
	assert.Error(t, err)
	var f Framework
	err = f.UnmarshalText([]byte("telegraf"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "datakit, netdata, netdata-plugin, collectd, prometheus")
}

// TestFrameworkConfig checks the framework key and that each framework's
// options are validated by it and refused on inputs of another.
func TestFrameworkConfig(t *testing.T) {
	t.Parallel()
	const head = "[[inputs.pythond]]\nname = 'a'\n"
	tests := []struct {
		name string
		doc  string
		keys []string // ConfigError keys; nil: valid
		line int
		text string
	}{
		{name: "datakit by default", doc: head + "dirs = ['d']\nrun_timeout = '5s'\nexact_ints = true\n"},
		{name: "datakit explicitly", doc: head + "framework = 'datakit'\ndirs = ['d']\n"},
		{name: "netdata", doc: head + "framework = 'netdata'\ndirs = ['d']\nconf_dir = '/etc/netdata/python.d'\nmodules = ['example']\nupdate_every = 2\ndimension_ids = true\n"},
		{name: "netdata-plugin without dirs", doc: head + "framework = 'netdata-plugin'\ncmd = '/usr/lib/netdata/plugins.d/python.d.plugin'\nargs = ['1', 'example']\ndimension_ids = true\n"},
		{name: "unknown framework", doc: head + "dirs = ['d']\nframework = 'telegraf'\n", keys: []string{"inputs.pythond.framework"}, line: 4, text: "allowed: datakit, netdata, netdata-plugin, collectd, prometheus"},
		{name: "collectd needs its config", doc: head + "dirs = ['d']\nframework = 'collectd'\n", keys: []string{"inputs.pythond[0].collectd_config"}, text: "collectd_config is required for framework collectd"},
		{name: "prometheus", doc: head + "dirs = ['d']\nframework = 'prometheus'\nargs = ['8000']\ninterval = '15s'\nserve = false\n"},
		{name: "netdata option on datakit", doc: head + "dirs = ['d']\nconf_dir = '/etc'\n", keys: []string{"inputs.pythond[0].conf_dir"}, text: "conf_dir is an option of framework netdata, not of datakit"},
		{name: "shared option on datakit", doc: head + "dirs = ['d']\nupdate_every = 5\n", keys: []string{"inputs.pythond[0].update_every"}, text: "update_every is an option of framework netdata and netdata-plugin, not of datakit"},
		{name: "datakit option on netdata", doc: head + "framework = 'netdata'\ndirs = ['d']\nrun_timeout = '1s'\n", keys: []string{"inputs.pythond[0].run_timeout"}, text: "run_timeout is an option of framework datakit, not of netdata"},
		{name: "plugin option on netdata", doc: head + "framework = 'netdata'\ndirs = ['d']\nargs = ['1']\n", keys: []string{"inputs.pythond[0].args"}, text: "args is an option of framework netdata-plugin and prometheus, not of netdata"},
		{name: "netdata option on plugin", doc: head + "framework = 'netdata-plugin'\ncmd = 'x'\nmodules = ['m']\n", keys: []string{"inputs.pythond[0].modules"}, text: "modules is an option of framework netdata, not of netdata-plugin"},
		{name: "plugin needs cmd", doc: head + "framework = 'netdata-plugin'\n", keys: []string{"inputs.pythond[0].cmd"}, text: "cmd is required for framework netdata-plugin"},
		{name: "netdata needs dirs", doc: head + "framework = 'netdata'\n", keys: []string{"inputs.pythond[0].dirs"}},
		{name: "bad netdata values", doc: head + "framework = 'netdata'\ndirs = ['d']\nupdate_every = -1\nmodules = ['a/b']\n", keys: []string{"inputs.pythond[0].update_every", "inputs.pythond[0].modules[0]"}, text: `"a/b" is not a module name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseConfig([]byte(tc.doc))
			if tc.keys == nil {
				require.NoError(t, err)
				require.Len(t, cfg.Inputs, 1)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var keys []string
			var first *ConfigError
			for _, e := range flatten(err) {
				var ce *ConfigError
				if errors.As(e, &ce) {
					if first == nil {
						first = ce
					}
					keys = append(keys, ce.Key)
				}
			}
			assert.Equal(t, tc.keys, keys, "%v", err)
			if tc.line > 0 {
				require.NotNil(t, first)
				assert.Equal(t, tc.line, first.Line, "%v", err)
			}
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}

// TestFrameworkParsed checks that framework options reach Input.
func TestFrameworkParsed(t *testing.T) {
	t.Parallel()
	cfg, err := ParseConfig([]byte("[[inputs.pythond]]\nname='n'\nframework='netdata'\ndirs=['netdata']\nconf_dir='/c'\nmodules=['example']\nupdate_every=3\ndimension_ids=true\n"))
	require.NoError(t, err)
	in := cfg.Inputs[0]
	assert.Equal(t, FrameworkNetdata, in.Framework)
	assert.Equal(t, NetdataOptions{ConfDir: "/c", Modules: []string{"example"}, UpdateEvery: 3, DimensionIDs: true}, in.NetdataOptions)
}

// TestDataKitSysPath checks that a DataKit script sees only its
// framework's folder and its own dirs: not the runtime, not another
// framework's modules.
func TestDataKitSysPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("iso/iso.py", `
import importlib
from datakit_framework import DataKitFramework

class Iso(DataKitFramework):
    name = 'Iso'
    interval = 60

    def run(self):
        tags = {}
        for name in ('bases', 'third_party', '_collectkit_channel', '_collectkit_loader',
                     '_collectkit_scheduler', 'run_datakit', 'run_netdata'):
            try:
                importlib.import_module(name)
                tags[name] = 'imported'
            except ImportError:
                tags[name] = 'missing'
        self.feed_metric(measurement='iso', tags=tags, fields={'n': 1})
`)
	h.start(h.options(Input{Dirs: []string{"iso"}}))
	pts := h.waitPoints(1, 10*time.Second)
	for _, tag := range pts[0].Tags {
		assert.Equal(t, "missing", tag.Value, tag.Key)
	}
	assert.Len(t, pts[0].Tags, 7)
}

// TestDataKitImportNoSideEffects checks that importing datakit_framework
// outside the runner neither takes the channel's variables nor opens it.
func TestDataKitImportNoSideEffects(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(testkit.Python(t), "-c", `
import os, sys
sys.path.insert(0, "py/datakit")
import datakit_framework
assert datakit_framework._channel is None
print(os.environ.get("COLLECTKIT_PYTHOND_FDS"), sorted(m for m in sys.modules if "collectkit" in m))
`)
	cmd.Env = append(os.Environ(), "COLLECTKIT_PYTHOND_FDS=3,4")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "3,4 []\n", string(out))
}

// TestOwnExit3 checks that a script's own exit status 3 is not taken for
// the runner's "no collectors".
func TestOwnExit3(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("ex/ex.py", "import os\nos._exit(3)\n")
	h.start(h.options(Input{Dirs: []string{"ex"}}))
	exits := h.errs.wait(t, KindExit, 1, 10*time.Second)
	assert.Contains(t, exits[0].Message, "exit status 3")
	assert.NotContains(t, exits[0].Message, "no collector")
}

// panicSink panics on its first n writes, then records.
type panicSink struct {
	left atomic.Int32
	got  atomic.Int32
}

func (s *panicSink) Write(_ context.Context, b point.Batch) error {
	if s.left.Add(-1) >= 0 {
		panic("sink boom")
	}
	s.got.Add(int32(len(b.Points)))
	return nil
}

// TestHostCallbackPanics checks that a panic in Sink.Write, OnError or
// Constraint.OnWarnings is an error for that report, logged, and that the
// host goes on.
func TestHostCallbackPanics(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p/p.py", `
from datakit_framework import DataKitFramework

class P(DataKitFramework):
    name = 'P'
    interval = 0.2

    def run(self):
        r = self.feed_metric(measurement='m', tags={'t': 'v'}, fields={'f': 1, 'g': None})
        print("answer=" + (r or "ok"))
`)
	sink := &panicSink{}
	sink.left.Store(1)
	var warned atomic.Int32
	opts := h.options(Input{Dirs: []string{"p"}})
	opts.Sink = sink
	opts.Constraint.OnWarnings = func(context.Context, point.Batch, []point.Warning) {
		if warned.Add(1) == 2 {
			panic("warnings boom")
		}
	}
	opts.OnError = func(ctx context.Context, e CollectorError) {
		h.errs.add(ctx, e)
		panic("onerror boom")
	}
	opts.Logger = slog.New(h.logs)
	h.start(opts)
	h.logs.waitLog(t, "answer=ok", 1, 10*time.Second)
	reports := h.errs.kind(KindReport)
	require.Len(t, reports, 2, h.logs.dump())
	assert.Contains(t, reports[0].Message, "sink panicked: sink boom")
	assert.Contains(t, reports[1].Message, "Constraint.OnWarnings panicked: warnings boom")
	assert.Len(t, h.logs.find("answer={"), 2, "the script saw both errors")
	panics := h.logs.find("host callback panicked")
	var callbacks []string
	for _, r := range panics {
		callbacks = append(callbacks, r.Attrs["callback"])
	}
	assert.Subset(t, callbacks, []string{"Sink.Write", "Constraint.OnWarnings", "OnError"})
	assert.Positive(t, sink.got.Load())
}

func TestLineLevel(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		stream, line string
		level        slog.Level
		msg          string
	}{
		{"stdout", "ERROR: x", slog.LevelInfo, "ERROR: x"},
		{"stderr", "E! broke", slog.LevelError, "broke"},
		{"stderr", "D! detail", slog.LevelDebug, "detail"},
		{"stderr", "WARNING:root:careful", slog.LevelWarn, "WARNING:root:careful"},
		{"stderr", "INFO: fine", slog.LevelInfo, "INFO: fine"},
		{"stderr", "Traceback (most recent call last):", slog.LevelError, "Traceback (most recent call last):"},
		{"stderr", "2026-12-01 22:45:29: python.d INFO: plugin[main] : using python v3", slog.LevelInfo, "2026-12-01 22:45:29: python.d INFO: plugin[main] : using python v3"},
		{"stderr", "2026-12-01 22:45:29: python.d ERROR: example[x] : boom", slog.LevelError, "2026-12-01 22:45:29: python.d ERROR: example[x] : boom"},
		{"stderr", "2026-12-01 22:45:29: python.d DEBUG: x", slog.LevelDebug, "2026-12-01 22:45:29: python.d DEBUG: x"},
		{"stderr", "2026 numbers mentioning INFO without the shape", slog.LevelWarn, "2026 numbers mentioning INFO without the shape"},
		{"stderr", "plain", slog.LevelWarn, "plain"},
	} {
		level, msg := lineLevel(tc.stream, []byte(tc.line))
		assert.Equal(t, tc.level, level, tc.line)
		assert.Equal(t, tc.msg, string(msg), tc.line)
	}
}

// TestNewFrameworkResolve checks what New resolves per framework.
func TestNewFrameworkResolve(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("netdata/x.chart.py", "")
	_, err := New(strict(h.options(Input{Name: "n", Framework: FrameworkNetdata, Dirs: []string{"netdata"}, NetdataOptions: NetdataOptions{ConfDir: "nosuch"}})))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "inputs.pythond[0].conf_dir", ce.Key)
	assert.Contains(t, err.Error(), "is not a directory")

	_, err = New(strict(h.options(Input{Name: "p", Framework: FrameworkNetdataPlugin, Cmd: "no-such-plugin-here"})))
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "inputs.pythond[0].cmd", ce.Key)
	assert.Contains(t, err.Error(), `command "no-such-plugin-here" not found`)

	h.write("conf/x.conf", "")
	_, err = New(strict(h.options(Input{Name: "n", Framework: FrameworkNetdata, Dirs: []string{"netdata"}, NetdataOptions: NetdataOptions{ConfDir: "conf"}})))
	assert.NoError(t, err, "conf_dir relative to the root")
}
