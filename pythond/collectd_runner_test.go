package pythond

// Tests of the collectd Python plugin runtime (py/collectd/collectd.py and
// py/runtime/run_collectd.py) on its own, with the real interpreter and a
// hand-written config file. Most run it with --stdout, where value lists
// and notifications are JSON lines on stdout and log records "G <json>"
// lines on stderr; TestCollectdRunnerChannel reads the frames of the
// private channel. The plugins are in testdata/collectd. Where the real
// collectd is installed, the module surface is compared with its module.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/pythond/internal/wire"
)

const cdrRealCollectd = "/usr/sbin/collectd"

// cdrTypes are the data sets the tests use, as the host writes them.
var cdrTypes = map[string][][]any{
	"gauge":     {{"value", "gauge", nil, nil}},
	"derive":    {{"value", "derive", 0.0, nil}},
	"counter":   {{"value", "counter", nil, nil}},
	"absolute":  {{"value", "absolute", 0.0, nil}},
	"if_octets": {{"rx", "derive", 0.0, nil}, {"tx", "derive", 0.0, nil}},
	"load":      {{"shortterm", "gauge", 0.0, 5000.0}, {"midterm", "gauge", 0.0, 5000.0}, {"longterm", "gauge", 0.0, 5000.0}},
}

// cdrSpec is the runner's config file.
type cdrSpec struct {
	Name            string             `json:"name"`
	Hostname        string             `json:"hostname"`
	Interval        float64            `json:"interval"`
	MaxReadInterval float64            `json:"max_read_interval"`
	ReadThreads     int                `json:"read_threads"`
	LogTraces       bool               `json:"log_traces"`
	Interactive     bool               `json:"interactive"`
	Encoding        string             `json:"encoding"`
	Types           map[string][][]any `json:"types"`
	Items           []map[string]any   `json:"items"`
}

// cdrNode is a config block or line as the host writes it.
type cdrNode struct {
	Key      string    `json:"key"`
	Values   []any     `json:"values"`
	Children []cdrNode `json:"children"`
}

func cdrNewSpec(t testing.TB, modules ...string) cdrSpec {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "collectd"))
	require.NoError(t, err)
	s := cdrSpec{Name: "collectd", Hostname: "h1", Interval: 2, MaxReadInterval: 86400, ReadThreads: 5, Types: cdrTypes,
		Items: []map[string]any{{"kind": "module_path", "path": dir}}}
	for _, m := range modules {
		s.Items = append(s.Items, map[string]any{"kind": "import", "module": m})
	}
	return s
}

func (s *cdrSpec) module(name string, children ...cdrNode) {
	if children == nil {
		children = []cdrNode{}
	}
	s.Items = append(s.Items, map[string]any{"kind": "module", "name": name,
		"config": cdrNode{Key: "Module", Values: []any{name}, Children: children}})
}

func (s cdrSpec) write(t testing.TB) string {
	t.Helper()
	data, err := json.Marshal(s)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "collectd.json")
	require.NoError(t, os.WriteFile(p, data, 0o644))
	return p
}

func cdrRunnerPath(t testing.TB) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("py", "runtime", "run_collectd.py"))
	require.NoError(t, err)
	return p
}

// cdrRun runs the runner with --stdout on spec until until holds, for at
// most d, then interrupts it (which runs the shutdown callbacks).
func cdrRun(t *testing.T, d time.Duration, until ndrUntil, spec cdrSpec, env ...string) (string, string) {
	t.Helper()
	env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), env...)
	return ndrExec(t, d, until, env, ndrPython, cdrRunnerPath(t), "--name", spec.Name, "--stdout", "--config", spec.write(t))
}

// cdrVL is one dispatched value list.
type cdrVL struct {
	Collector                                        string
	Host, Plugin, PluginInstance, Type, TypeInstance string
	Time, Interval                                   float64
	Values                                           []float64
}

func cdrDecodeTuple(t *testing.T, collector string, fields []json.RawMessage) cdrVL {
	t.Helper()
	require.Len(t, fields, 8)
	vl := cdrVL{Collector: collector}
	for i, p := range []*string{&vl.Host, &vl.Plugin, &vl.PluginInstance, &vl.Type, &vl.TypeInstance} {
		require.NoError(t, json.Unmarshal(fields[i], p))
	}
	require.NoError(t, json.Unmarshal(fields[5], &vl.Time))
	require.NoError(t, json.Unmarshal(fields[6], &vl.Interval))
	require.NoError(t, json.Unmarshal(fields[7], &vl.Values))
	return vl
}

// cdrOutput is what --stdout printed: value lists and notifications.
type cdrOutput struct {
	VLs           []cdrVL
	Notifications []map[string]any
}

func cdrParse(t *testing.T, stdout string) cdrOutput {
	t.Helper()
	var out cdrOutput
	for _, line := range strings.Split(stdout, "\n") {
		if line == "" {
			continue
		}
		var rec struct {
			Kind         string            `json:"kind"`
			Collector    string            `json:"collector"`
			Values       []json.RawMessage `json:"values"`
			Notification map[string]any    `json:"notification"`
		}
		require.NoError(t, json.Unmarshal([]byte(line), &rec), "%q", line)
		switch rec.Kind {
		case "V":
			out.VLs = append(out.VLs, cdrDecodeTuple(t, rec.Collector, rec.Values))
		case "N":
			rec.Notification["collector"] = rec.Collector
			out.Notifications = append(out.Notifications, rec.Notification)
		default:
			t.Fatalf("unexpected line %q", line)
		}
	}
	return out
}

func (o cdrOutput) of(plugin, typ string) []cdrVL {
	var r []cdrVL
	for _, vl := range o.VLs {
		if vl.Plugin == plugin && vl.Type == typ {
			r = append(r, vl)
		}
	}
	return r
}

// cdrLog is one log record.
type cdrLog struct {
	Level, Collector, Event, Message, Traceback string
}

func cdrLogs(t *testing.T, stderr string) []cdrLog {
	t.Helper()
	var logs []cdrLog
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.HasPrefix(line, "G {") {
			continue
		}
		var l cdrLog
		require.NoError(t, json.Unmarshal([]byte(line[2:]), &l), "%q", line)
		logs = append(logs, l)
	}
	return logs
}

// cdrFind returns the records whose message starts with prefix.
func cdrFind(logs []cdrLog, prefix string) []cdrLog {
	var r []cdrLog
	for _, l := range logs {
		if strings.HasPrefix(l.Message, prefix) {
			r = append(r, l)
		}
	}
	return r
}

// cdrCount returns an ndrUntil that holds once stdout has n lines
// containing each of the substrings.
func cdrCount(n int, subs ...string) ndrUntil {
	return func(stdout, _ string) bool {
		for _, s := range subs {
			if strings.Count(stdout, s) < n {
				return false
			}
		}
		return true
	}
}

func cdrAll(conds ...ndrUntil) ndrUntil {
	return func(stdout, stderr string) bool {
		for _, c := range conds {
			if !c(stdout, stderr) {
				return false
			}
		}
		return true
	}
}

func cdrLogged(s string, n int) ndrUntil {
	return func(_, stderr string) bool { return strings.Count(stderr, s) >= n }
}

// cdrModuleNames is dir(collectd) of collectd 5.12 without the names
// that start with "_".
var cdrModuleNames = []string{
	"CollectdError", "Config", "Notification", "Signed", "Unsigned", "Values",
	"DS_TYPE_ABSOLUTE", "DS_TYPE_COUNTER", "DS_TYPE_DERIVE", "DS_TYPE_GAUGE",
	"LOG_DEBUG", "LOG_ERROR", "LOG_INFO", "LOG_NOTICE", "LOG_WARNING",
	"NOTIF_FAILURE", "NOTIF_OKAY", "NOTIF_WARNING",
	"debug", "info", "notice", "warning", "error",
	"flush", "get_dataset",
	"register_config", "register_init", "register_read", "register_write", "register_flush", "register_log", "register_notification", "register_shutdown",
	"unregister_config", "unregister_init", "unregister_read", "unregister_write", "unregister_flush", "unregister_log", "unregister_notification", "unregister_shutdown",
}

type cdrSurface struct {
	Names     []string          `json:"names"`
	Constants map[string]any    `json:"constants"`
	Results   map[string]string `json:"results"`
	Env       map[string]string `json:"env"`
}

func TestCollectdRunnerModuleSurface(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	out := filepath.Join(t.TempDir(), "surface.json")
	spec := cdrNewSpec(t, "surface")
	_, stderr := cdrRun(t, 30*time.Second, cdrLogged("surface written", 1), spec, "SURFACE_OUT="+out)
	require.Contains(t, stderr, "surface written")
	ours := cdrReadSurface(t, out)

	want := slices.Sorted(slices.Values(cdrModuleNames))
	assert.Equal(t, want, ours.Names, "dir(collectd)")
	assert.Equal(t, map[string]any{
		"LOG_ERROR": 3.0, "LOG_WARNING": 4.0, "LOG_NOTICE": 5.0, "LOG_INFO": 6.0, "LOG_DEBUG": 7.0,
		"NOTIF_FAILURE": 1.0, "NOTIF_WARNING": 2.0, "NOTIF_OKAY": 4.0,
		"DS_TYPE_COUNTER": "counter", "DS_TYPE_GAUGE": "gauge", "DS_TYPE_DERIVE": "derive", "DS_TYPE_ABSOLUTE": "absolute",
	}, ours.Constants)

	// The messages of collectd 5.12, as it gives them.
	for name, want := range map[string]string{
		"info int":                           "TypeError: argument 1 must be str, bytes or bytearray, not int",
		"info two":                           "TypeError: function takes exactly 1 argument (2 given)",
		"info kw":                            "TypeError: info() takes no keyword arguments",
		"info bytes":                         "ok None",
		"register not callable":              "TypeError: callback needs a be a callable object.",
		"register name int":                  "TypeError: argument 3 must be str, bytes or bytearray, not int",
		"register read interval str":         "TypeError: must be real number, not str",
		"register init":                      "ok 'python.x'",
		"register read":                      "ok 'python.r'",
		"register read twice":                "ok 'python.r'",
		"unregister read":                    "ok None",
		"unregister read again":              "RuntimeError: Unable to unregister read callback 'python.r'.",
		"unregister bare":                    "RuntimeError: Unable to unregister read callback 'r'.",
		"unregister init":                    "ok None",
		"unregister int":                     "TypeError: This function needs a string or a callable object as its only parameter.",
		"register write":                     "ok 'python.surface'",
		"unregister write callable":          "ok None",
		"unregister write callable again":    "RuntimeError: Unable to unregister write callback 'python.surface'.",
		"values bad keyword":                 "TypeError: 'foo' is an invalid keyword argument for this function",
		"values too many":                    "TypeError: function takes at most 9 arguments (10 given)",
		"values unknown type":                "TypeError: Dataset nope not found",
		"values assign unknown type":         "TypeError: Dataset nope not found",
		"values host nul":                    "TypeError: argument 6 must be encoded string without null bytes, not str",
		"values assign host nul":             "ok 'a'",
		"values host int":                    "TypeError: argument 6 must be str, bytes or bytearray, not int",
		"values assign host int":             "TypeError: expected bytes, int found",
		"values assign time str":             "TypeError: must be real number, not str",
		"values assign time int":             "ok 5.0",
		"values truncated":                   "ok 127",
		"values repr empty":                  "ok collectd.Values(type='')",
		"values repr full":                   "ok collectd.Values(type='gauge',type_instance='ti',plugin='p',plugin_instance='pi',host='h',time=1.5,interval=3.0,values=[1],meta={'a': 1})",
		"values defaults":                    "ok ('', [], '', '', '', '', 0.0, 0.0, {})",
		"dispatch no type":                   "RuntimeError: type not set",
		"dispatch unknown type":              "TypeError: Dataset nope not found",
		"dispatch values int":                "TypeError: values must be list or tuple",
		"dispatch meta int":                  "TypeError: meta must be a dict",
		"dispatch count":                     "RuntimeError: type if_octets needs 2 values, got 1",
		"dispatch not a number":              "ValueError: could not convert string to float: 'a'",
		"dispatch negative counter":          "OverflowError: can't convert negative int to unsigned",
		"dispatch huge counter":              "OverflowError: int too big to convert",
		"dispatch derive float str":          "ValueError: invalid literal for int() with base 10: '1.5'",
		"dispatch bad keyword":               "TypeError: 'foo' is an invalid keyword argument for this function",
		"write needs destination":            "TypeError: function missing required argument 'destination' (pos 1)",
		"notification bad keyword":           "TypeError: 'interval' is an invalid keyword argument for this function",
		"notification repr":                  "ok collectd.Notification(type='gauge',plugin='x',host='h',time=2.5,severity=2,message='m')",
		"notification message truncated":     "ok 255",
		"notification dispatch no type":      "RuntimeError: type not set",
		"notification dispatch unknown type": "TypeError: Dataset nope not found",
		"notification severity str":          "TypeError: 'str' object cannot be interpreted as an integer",
		"config":                             "ok 'Key'<collectd.Config root node >",
		"config child":                       "ok 'K'<collectd.Config node >",
		"config no key":                      "TypeError: function missing required argument 'key' (pos 1)",
		"config int key":                     "TypeError: argument 1 must be str",
		"get_dataset if_octets":              "ok [('rx', 'derive', 0.0, None), ('tx', 'derive', 0.0, None)]",
		"get_dataset gauge":                  "ok [('value', 'gauge', None, None)]",
		"get_dataset unknown":                "TypeError: Dataset nope not found",
		"get_dataset int":                    "TypeError: argument 1 must be str, bytes or bytearray, not int",
		"flush int":                          "TypeError: argument 1 must be str, bytes or bytearray, not int",
		"signed mro":                         "ok ['Signed', 'int', 'object']",
		"unsigned mro":                       "ok ['Unsigned', 'int', 'object']",
		"values mro":                         "ok ['Values', 'PluginData', 'object']",
		"error base":                         "ok 'Exception'",
		"values attributes":                  "ok ['dispatch', 'host', 'interval', 'meta', 'plugin', 'plugin_instance', 'time', 'type', 'type_instance', 'values', 'write']",
		"notification attributes":            "ok ['dispatch', 'host', 'message', 'meta', 'plugin', 'plugin_instance', 'severity', 'time', 'type', 'type_instance']",
		"config attributes":                  "ok ['children', 'key', 'parent', 'values']",
	} {
		assert.Equal(t, want, ours.Results[name], name)
	}
	// Only the module's folder and the plugins' dirs come before the
	// standard library; the runtime's modules are not importable.
	testdataDir, err := filepath.Abs(filepath.Join("testdata", "collectd"))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"path0":              testdataDir,
		"runtime importable": "ModuleNotFoundError: No module named '_collectkit_channel'",
		"module file":        "collectd.py",
	}, ours.Env)
	logs := cdrLogs(t, stderr)
	dup := cdrFind(logs, `The read function "python.r" is already registered.`)
	if assert.Len(t, dup, 1) {
		assert.Equal(t, "warning", dup[0].Level)
	}
	var missing []string
	for _, l := range cdrFind(logs, "plugin_unregister_read: ") {
		assert.Equal(t, "warning", l.Level)
		missing = append(missing, l.Message)
	}
	assert.Equal(t, []string{"plugin_unregister_read: No such read function: python.r", "plugin_unregister_read: No such read function: r"}, missing)

	// The same calls under the real collectd give the same answers (but
	// for an unknown type in get_dataset, where collectd 5.12 prints
	// garbage for the name).
	if _, err := os.Stat(cdrRealCollectd); err != nil {
		ndrSkip(t, "needs the real collectd to compare with (apt-get install collectd-core libpython3.11)")
	}
	realOut := filepath.Join(t.TempDir(), "real.json")
	cdrRunReal(t, 30*time.Second, func() bool { _, err := os.Stat(realOut); return err == nil }, spec, "SURFACE_OUT="+realOut)
	theirs := cdrReadSurface(t, realOut)
	delete(theirs.Results, "get_dataset unknown")
	delete(ours.Results, "get_dataset unknown")
	theirs.Env, ours.Env = nil, nil
	assert.Equal(t, theirs, ours)
}

// TestCollectdRunnerModuleImport checks that importing the module on its
// own starts nothing and prints nothing.
func TestCollectdRunnerModuleImport(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	dir, err := filepath.Abs(filepath.Join("py", "collectd"))
	require.NoError(t, err)
	cmd := exec.Command(ndrPython, "-c", `import sys, threading
before = threading.active_count()
import collectd
sys.stderr.write("threads %d %d\n" % (before, threading.active_count()))`)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+dir, "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	assert.Empty(t, stdout.String())
	assert.Equal(t, "threads 1 1\n", stderr.String())
}

func cdrReadSurface(t *testing.T, path string) cdrSurface {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var s cdrSurface
	require.NoError(t, json.Unmarshal(data, &s))
	return s
}

// cdrRunReal runs the real collectd with the plugins of spec (its
// module_path and import items) until done holds, for at most d.
func cdrRunReal(t *testing.T, d time.Duration, done func() bool, spec cdrSpec, env ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "Hostname %q\nInterval %g\nTypesDB \"/usr/share/collectd/types.db\"\n", spec.Hostname, spec.Interval)
	b.WriteString("LoadPlugin logfile\n<Plugin logfile>\n  LogLevel info\n  File STDOUT\n</Plugin>\n")
	b.WriteString("<LoadPlugin python>\n  Globals true\n</LoadPlugin>\n<Plugin python>\n")
	for _, it := range spec.Items {
		switch it["kind"] {
		case "module_path":
			fmt.Fprintf(&b, "  ModulePath %q\n", it["path"])
		case "import":
			fmt.Fprintf(&b, "  Import %q\n", it["module"])
		}
	}
	b.WriteString("</Plugin>\n")
	conf := filepath.Join(t.TempDir(), "collectd.conf")
	require.NoError(t, os.WriteFile(conf, []byte(b.String()), 0o644))
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cmd := exec.CommandContext(ctx, cdrRealCollectd, "-f", "-C", conf)
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/bin"}, env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	for ctx.Err() == nil && !done() {
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(os.Interrupt)
	_ = cmd.Wait()
	require.True(t, done(), "real collectd:\n%s", out.String())
	return out.String()
}

func TestCollectdRunnerCallbacks(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	spec := cdrNewSpec(t, "allkinds", "newest_first")
	spec.module("newest_first")
	// The module block names the plugin in another case: collectd
	// matches it case-insensitively.
	spec.module("AllKinds",
		cdrNode{Key: "Path", Values: []any{"/x", 42, true}},
		cdrNode{Key: "Sub", Values: []any{"a"}, Children: []cdrNode{{Key: "Inner", Values: []any{1.5, false}}}})
	stdout, stderr := cdrRun(t, 40*time.Second, cdrAll(cdrCount(3, `"if_octets"`), cdrCount(1, `"default"`), cdrLogged("flush named 5", 1)), spec)
	out := cdrParse(t, stdout)
	logs := cdrLogs(t, stderr)

	// config: the Module block, numbers as floats, nested blocks.
	cfg := cdrFind(logs, "config {")
	require.Len(t, cfg, 1, "%v", logs)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(cfg[0].Message, "config ")), &got))
	assert.Equal(t, map[string]any{
		"data": "cfgdata", "root_parent": true,
		"tree": map[string]any{"key": "Module", "values": []any{"AllKinds"}, "types": []any{"str"}, "parent_ok": true,
			"children": []any{
				map[string]any{"key": "Path", "values": []any{"/x", 42.0, true}, "types": []any{"str", "float", "bool"}, "children": []any{}, "parent_ok": true},
				map[string]any{"key": "Sub", "values": []any{"a"}, "types": []any{"str"}, "parent_ok": true, "children": []any{
					map[string]any{"key": "Inner", "values": []any{1.5, false}, "types": []any{"float", "bool"}, "children": []any{}, "parent_ok": true},
				}},
			}},
	}, got)
	assert.Equal(t, "allkinds", cfg[0].Collector)

	// init, seen by the log callback (which logs without recursing).
	require.Len(t, cdrFind(logs, "init"), 1)
	assert.Len(t, cdrFind(logs, "log callback saw 6 init"), 1)

	// read with interval, data and name, registered from config.
	fast := out.of("allkinds", "if_octets")
	require.GreaterOrEqual(t, len(fast), 3)
	for i, vl := range fast {
		assert.Equal(t, cdrVL{Collector: "allkinds", Host: "h1", Plugin: "allkinds", PluginInstance: "eth0", Type: "if_octets",
			Time: vl.Time, Interval: 0.5, Values: []float64{float64(i + 1), 7}}, vl)
		assert.InDelta(t, float64(time.Now().Unix()), vl.Time, 60)
	}
	gap := (fast[len(fast)-1].Time - fast[0].Time) / float64(len(fast)-1)
	assert.InDelta(t, 0.5, gap, 0.3, "time between reads")
	// read with the global interval and every default filled in.
	def := out.of("python", "gauge")
	require.NotEmpty(t, def)
	assert.Equal(t, cdrVL{Collector: "allkinds", Host: "h1", Plugin: "python", Type: "gauge", TypeInstance: "default",
		Time: def[0].Time, Interval: 2, Values: []float64{1.5}}, def[0])

	// Dispatched at import: kept until init, with the defaults of then.
	early := out.of("early", "gauge")
	require.Len(t, early, 1)
	assert.Equal(t, cdrVL{Collector: "allkinds", Host: "h1", Plugin: "early", Type: "gauge",
		Time: early[0].Time, Interval: 2, Values: []float64{3}}, early[0])
	// Registered from init and from a read, run at once, unregistered
	// by themselves (the one from init by its callable).
	assert.Len(t, out.of("from_init", "gauge"), 1)
	assert.Len(t, out.of("late", "gauge"), 1)
	// What plugins print goes to stderr; a log callback that raises is
	// printed there too.
	assert.Contains(t, stderr, "allkinds prints to stdout\n")
	assert.Contains(t, stderr, "RuntimeError: log callback fails")

	// write: every field filled, values and meta converted.
	writes := cdrFind(logs, "write ")
	require.GreaterOrEqual(t, len(writes), 3)
	var w map[string]any
	for _, rec := range writes {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.TrimPrefix(rec.Message, "write ")), &m))
		if m["type"] == "if_octets" && w == nil {
			w = m
		}
	}
	require.NotNil(t, w)
	assert.Greater(t, w["time"], 0.0)
	delete(w, "time")
	assert.Equal(t, map[string]any{
		"host": "h1", "plugin": "allkinds", "plugin_instance": "eth0", "type": "if_octets", "type_instance": "",
		"interval": 0.5, "values": []any{1.0, 7.0}, "value_types": []any{"int", "int"}, "data": nil,
		"meta": map[string]any{
			"b": []any{"True", "bool"}, "data": []any{"'v'", "str"}, "f": []any{"1.5", "float"},
			"l": []any{"'[1]'", "str"}, "n": []any{"5", "Signed"}, "u": []any{"7", "Unsigned"},
		},
	}, w)

	// flush: all of them, then the one named.
	assert.Len(t, cdrFind(logs, "flush all -1 None"), 1)
	assert.Len(t, cdrFind(logs, "flush named -1 None 'fd'"), 1)
	assert.Len(t, cdrFind(logs, "flush named 5 'some/id' 'fd'"), 1)

	// notification, dispatched in init: to the host and the callback.
	require.Len(t, out.Notifications, 1)
	n := out.Notifications[0]
	assert.Greater(t, n["time"], 0.0)
	delete(n, "time")
	assert.Equal(t, map[string]any{"collector": "allkinds", "host": "h1", "plugin": "python", "plugin_instance": "",
		"type": "gauge", "type_instance": "", "severity": 2.0, "message": "hello"}, n)
	nl := cdrFind(logs, "notification ")
	require.Len(t, nl, 1)
	assert.Regexp(t, `^notification collectd.Notification\(type='gauge',plugin='python',host='h1',time=[0-9.]+,severity=2,message='hello'\)$`, nl[0].Message)
	assert.Equal(t, "allkinds", nl[0].Collector)

	// Of two config callbacks of one name the newest is called;
	// shutdown callbacks run newest first.
	assert.Len(t, cdrFind(logs, "config second"), 1)
	assert.Empty(t, cdrFind(logs, "config first"))
	var order []string
	for _, l := range cdrFind(logs, "shutdown ") {
		order = append(order, l.Message)
	}
	assert.Equal(t, []string{"shutdown second", "shutdown first"}, order)

	// shutdown, on the interrupt.
	sd := cdrFind(logs, "shutdown")
	sd = slices.DeleteFunc(sd, func(l cdrLog) bool { return l.Message != "shutdown" })
	require.Len(t, sd, 1)
	assert.Equal(t, "info", sd[0].Level)
	assert.Equal(t, "log", sd[0].Event)
}

func TestCollectdRunnerThreads(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	spec := cdrNewSpec(t, "threads")
	// Accepted and told about, as on Python 3 in collectd.
	spec.Encoding = "latin-1"
	spec.Interactive = true
	const total = 6 * 500
	stdout, stderr := cdrRun(t, 60*time.Second, cdrCount(total, `"threads", "", "derive"`), spec)
	logs := cdrLogs(t, stderr)
	for _, msg := range []string{"Encoding 'latin-1' is ignored: strings are always UTF-8 on Python 3", "Interactive is accepted, but no console is started"} {
		got := cdrFind(logs, msg)
		if assert.Len(t, got, 1, msg) {
			assert.Equal(t, cdrLog{Level: "warning", Event: "config", Message: msg}, got[0])
		}
	}
	out := cdrParse(t, stdout)
	seen := map[string][]int{}
	for _, vl := range out.of("threads", "derive") {
		seen[vl.TypeInstance] = append(seen[vl.TypeInstance], int(vl.Values[0]))
		want := ""
		if strings.HasPrefix(vl.TypeInstance, "read") {
			want = "threads"
		}
		assert.Equal(t, want, vl.Collector, vl.TypeInstance)
	}
	require.Len(t, seen, 6, "%v", seen)
	for tag, values := range seen {
		sort.Ints(values)
		require.Len(t, values, 500, tag)
		for i, v := range values {
			if v != i {
				t.Fatalf("%s: value %d is %d", tag, i, v)
			}
		}
	}
}

func TestCollectdRunnerFailures(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	spec := cdrNewSpec(t, "broken_syntax", "config_raises", "blocker", "no_such_module", "callback_errors")
	spec.module("config_raises", cdrNode{Key: "Bad", Values: []any{1}})
	spec.module("not_loaded")
	spec.ReadThreads = 2
	spec.LogTraces = true
	stdout, stderr := cdrRun(t, 60*time.Second, cdrAll(cdrLogged("slow read ends", 1), cdrCount(4, `"config_raises"`), cdrLogged("write fails", 1), cdrLogged("notification fails", 1)), spec)
	out := cdrParse(t, stdout)
	logs := cdrLogs(t, stderr)

	imp := cdrFind(logs, `Error importing module "broken_syntax"`)
	require.Len(t, imp, 1, "%v", logs)
	assert.Equal(t, cdrLog{Level: "error", Collector: "broken_syntax", Event: "import",
		Message:   `Error importing module "broken_syntax": Unhandled python exception in importing module: SyntaxError: '(' was never closed (broken_syntax.py, line 10)`,
		Traceback: imp[0].Traceback}, imp[0])
	assert.Contains(t, imp[0].Traceback, "broken_syntax.py")
	assert.Contains(t, imp[0].Traceback, "SyntaxError")
	missing := cdrFind(logs, `Error importing module "no_such_module"`)
	require.Len(t, missing, 1)
	assert.Contains(t, missing[0].Message, "ModuleNotFoundError: No module named 'no_such_module'")

	cfg := cdrFind(logs, "Unhandled python exception in loading module")
	require.Len(t, cfg, 1)
	assert.Equal(t, cdrLog{Level: "error", Collector: "config_raises", Event: "config",
		Message: `Unhandled python exception in loading module: KeyError: 'no such option: Bad'`, Traceback: cfg[0].Traceback}, cfg[0])
	assert.Contains(t, cfg[0].Traceback, "config_raises.py")
	assert.NotContains(t, cfg[0].Traceback, "run_collectd.py")
	nl := cdrFind(logs, `Found a configuration for the "not_loaded" plugin`)
	require.Len(t, nl, 1)
	assert.Equal(t, "Found a configuration for the \"not_loaded\" plugin, but the plugin isn't loaded or didn't register a configuration callback.", nl[0].Message)
	assert.Equal(t, "warning", nl[0].Level)

	// init callbacks run newest first; a CollectdError is a warning
	// without a traceback.
	inits := cdrFind(logs, "CollectdError in init callback: ")
	inits = append(cdrFind(logs, "Unhandled python exception in init callback: "), inits...)
	require.Len(t, inits, 2)
	assert.Equal(t, cdrLog{Level: "error", Collector: "callback_errors", Event: "init",
		Message: "Unhandled python exception in init callback: RuntimeError: init fails", Traceback: inits[0].Traceback}, inits[0])
	assert.Contains(t, inits[0].Traceback, "callback_errors.py")
	assert.Equal(t, cdrLog{Level: "warning", Collector: "callback_errors", Event: "init",
		Message: "CollectdError in init callback: init cerr"}, inits[1])
	var order []string
	for _, l := range logs {
		if l.Event == "init" {
			order = append(order, l.Message)
		}
	}
	assert.Equal(t, []string{inits[0].Message, inits[1].Message}, order, "newest init first")
	for _, c := range []struct{ msg, event string }{
		{"Unhandled python exception in write callback: ValueError: write fails", "write"},
		{"Unhandled python exception in notification callback: ValueError: notification fails", "write"},
		{"Unhandled python exception in shutdown callback: ValueError: shutdown fails", "shutdown"},
	} {
		got := cdrFind(logs, c.msg)
		if assert.Len(t, got, 1, c.msg) {
			assert.Equal(t, "error", got[0].Level, c.msg)
			assert.Equal(t, c.event, got[0].Event, c.msg)
			assert.Contains(t, got[0].Traceback, "callback_errors.py", c.msg)
		}
	}

	// The plugin whose config callback raised still reads.
	assert.GreaterOrEqual(t, len(out.of("config_raises", "gauge")), 4)

	// While one read blocks, the other keeps its schedule.
	steady := out.of("blocker", "gauge")
	require.GreaterOrEqual(t, len(steady), 6, "%v", steady)
	for i := 1; i < len(steady); i++ {
		assert.Less(t, steady[i].Time-steady[i-1].Time, 1.5, "gap before steady read %d", i)
	}
	slow := cdrFind(logs, "plugin_read_thread: read-function of the `python.slow' plugin took ")
	require.NotEmpty(t, slow)
	assert.Equal(t, "warning", slow[0].Level)
	assert.Regexp(t, `took 3\.\d{3} seconds, which is above its read interval \(0\.500 seconds\)`, slow[0].Message)
}

func TestCollectdRunnerBackoff(t *testing.T) {
	testkit.Python(t)
	t.Parallel()
	spec := cdrNewSpec(t, "backoff")
	spec.MaxReadInterval = 2
	stdout, stderr := cdrRun(t, 60*time.Second, cdrLogged("attempt 6 at", 1), spec)
	logs := cdrLogs(t, stderr)
	var at []float64
	for _, l := range cdrFind(logs, "attempt ") {
		f := strings.Fields(l.Message)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		require.NoError(t, err)
		at = append(at, v)
	}
	require.GreaterOrEqual(t, len(at), 6)
	// Interval 0.5: suspended for 1, 2, 2 (MaxReadInterval) after the
	// three failures, back to 0.5 after the first success. Each read is
	// due at the previous one's due time plus the interval, so a late
	// start does not shift the ones after it. A late start on a loaded
	// machine is allowed up to 1 s: the smallest error a wrong schedule
	// makes here (a missing cap or reset) is 1.5 s.
	due := 0.0
	for i, step := range []float64{1, 2, 2, 0.5, 0.5} {
		due += step
		since := at[i+1] - at[0]
		assert.GreaterOrEqual(t, since, due-0.05, "attempt %d", i+2)
		assert.Less(t, since, due+1, "attempt %d", i+2)
	}
	fails := cdrFind(logs, "Unhandled python exception in read callback: ")
	require.Len(t, fails, 2)
	assert.Equal(t, cdrLog{Level: "error", Collector: "backoff", Event: "read", Message: "Unhandled python exception in read callback: ValueError: attempt 1 failed"}, fails[0])
	assert.Equal(t, "Unhandled python exception in read callback: ValueError: attempt 3 failed", fails[1].Message)
	warn := cdrFind(logs, "CollectdError in read callback: ")
	require.Len(t, warn, 1)
	assert.Equal(t, cdrLog{Level: "warning", Collector: "backoff", Event: "read", Message: "CollectdError in read callback: not ready"}, warn[0])
	var suspends []string
	for _, l := range cdrFind(logs, "read-function of plugin `python.backoff' failed.") {
		assert.Equal(t, "info", l.Level)
		suspends = append(suspends, l.Message)
	}
	assert.Equal(t, []string{
		"read-function of plugin `python.backoff' failed. Will suspend it for 1.000 seconds.",
		"read-function of plugin `python.backoff' failed. Will suspend it for 2.000 seconds.",
		"read-function of plugin `python.backoff' failed. Will suspend it for 2.000 seconds.",
	}, suspends)
	out := cdrParse(t, stdout)
	vls := out.of("python", "gauge")
	require.GreaterOrEqual(t, len(vls), 3)
	assert.Equal(t, []float64{4}, vls[0].Values)
	assert.Equal(t, 0.5, vls[0].Interval)
}

// cdrFrame is one frame read from the channel.
type cdrFrame struct {
	Kind    byte
	Meta    string
	Payload []byte
}

// cdrStartChannel starts the runner on spec with the private channel.
// Every frame read is given to seen, with the command and the host's end
// of the answer pipe; the frames come on the channel returned once the
// runner closed its end.
func cdrStartChannel(t testing.TB, spec cdrSpec, seen func(cmd *exec.Cmd, ack *os.File, f cdrFrame)) (*exec.Cmd, <-chan []cdrFrame, *testkit.SyncBuffer) {
	t.Helper()
	dataR, dataW, err := os.Pipe()
	require.NoError(t, err)
	ackR, ackW, err := os.Pipe()
	require.NoError(t, err)
	cmd := exec.Command(ndrPython, cdrRunnerPath(t), "--name", spec.Name, "--config", spec.write(t))
	cmd.Env = append(os.Environ(), "COLLECTKIT_PYTHOND_FDS=3,4", "PYTHONDONTWRITEBYTECODE=1")
	cmd.ExtraFiles = []*os.File{dataW, ackR}
	stderr := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	require.NoError(t, cmd.Start())
	dataW.Close()
	ackR.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		ackW.Close()
		if t.Failed() {
			t.Logf("stdout and stderr of the runner:\n%s", stderr.String())
		}
	})
	done := make(chan []cdrFrame, 1)
	go func() {
		defer dataR.Close()
		r := wire.NewReader(dataR)
		var frames []cdrFrame
		defer func() { done <- frames }()
		for {
			h, err := r.Header()
			if err != nil {
				return
			}
			meta := string(h.Meta)
			p, err := r.Payload(nil, h.PayloadLen)
			if err != nil {
				return
			}
			f := cdrFrame{Kind: h.Kind, Meta: meta, Payload: p}
			frames = append(frames, f)
			seen(cmd, ackW, f)
		}
	}()
	return cmd, done, stderr
}

func TestCollectdRunnerChannel(t *testing.T) {
	testkit.Python(t)
	t.Parallel()

	t.Run("sigterm", func(t *testing.T) {
		t.Parallel()
		spec := cdrNewSpec(t, "allkinds", "threads")
		spec.module("allkinds")
		reads := 0
		cmd, done, stderr := cdrStartChannel(t, spec, func(cmd *exec.Cmd, _ *os.File, f cdrFrame) {
			if f.Kind == 'V' && f.Meta == "allkinds" {
				if reads++; reads == 4 {
					_ = cmd.Process.Signal(syscall.SIGTERM)
				}
			}
		})
		err := cmd.Wait()
		frames := <-done
		require.NoError(t, err, "exit status after SIGTERM; stderr:\n%s", stderr.String())
		assert.Contains(t, stderr.String(), "allkinds prints to stdout\n", "what a plugin prints goes to stderr")

		var logs []cdrLog
		var notes []map[string]any
		perTag := map[string]int{}
		db := cdrTypesDB(t)
		var dec wire.ValueListDecoder
		for _, f := range frames {
			switch f.Kind {
			case 'V':
				vls := cdrDecodeVLs(t, &dec, db, f.Meta, f.Payload)
				switch f.Meta {
				case "allkinds":
					// One frame per read run.
					require.Len(t, vls, 1)
				case "threads":
					require.Len(t, vls, 500, "a read run's frame")
				case "":
					assert.LessOrEqual(t, len(vls), 1000, "a frame of value lists dispatched outside reads")
				default:
					t.Errorf("V frame of collector %q", f.Meta)
				}
				for _, vl := range vls {
					if vl.Plugin == "threads" {
						perTag[vl.TypeInstance]++
					}
					assert.Equal(t, "h1", vl.Host)
					assert.Greater(t, vl.Time, 0.0)
					assert.Greater(t, vl.Interval, 0.0)
				}
			case 'N':
				var n map[string]any
				require.NoError(t, json.Unmarshal(f.Payload, &n))
				assert.Equal(t, "allkinds", f.Meta)
				notes = append(notes, n)
			case 'G':
				var l cdrLog
				require.NoError(t, json.Unmarshal(f.Payload, &l))
				logs = append(logs, l)
			default:
				t.Errorf("unexpected frame kind %q", f.Kind)
			}
		}
		require.Len(t, notes, 1)
		assert.Equal(t, "hello", notes[0]["message"])
		assert.Equal(t, 2.0, notes[0]["severity"])
		assert.Len(t, cdrFind(logs, "shutdown"), 1, "shutdown callback ran: %v", logs)
		assert.Equal(t, map[string]int{"init0": 500, "init1": 500, "init2": 500, "init3": 500, "read0": 500, "read1": 500}, perTag)
	})

	t.Run("host closes the channel", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		marker := filepath.Join(dir, "shutdown")
		spec := cdrNewSpec(t, "allkinds")
		spec.Items = append(spec.Items, map[string]any{"kind": "import", "module": "shutdown_marker"})
		spec.module("shutdown_marker", cdrNode{Key: "File", Values: []any{marker}})
		closed := false
		cmd, done, stderr := cdrStartChannel(t, spec, func(_ *exec.Cmd, ack *os.File, f cdrFrame) {
			if f.Kind == 'V' && !closed {
				closed = true
				ack.Close()
			}
		})
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		select {
		case err := <-waited:
			require.NoError(t, err, "stderr:\n%s", stderr.String())
		case <-time.After(40 * time.Second):
			t.Fatalf("the runner did not end after the host closed the channel; stderr:\n%s", stderr.String())
		}
		<-done
		data, err := os.ReadFile(marker)
		require.NoError(t, err, "the shutdown callback ran")
		assert.Equal(t, "shutdown\n", string(data))
	})
}

// cdrTypesDB is cdrTypes as the host has them.
func cdrTypesDB(t *testing.T) *collectd.TypesDB {
	t.Helper()
	db := &collectd.TypesDB{}
	for name, sources := range cdrTypes {
		ds := collectd.DataSet{Type: name}
		for _, src := range sources {
			typ, err := collectd.ParseDSType(src[1].(string))
			require.NoError(t, err)
			bound := func(v any) float64 {
				if v == nil {
					return math.NaN()
				}
				return v.(float64)
			}
			ds.Sources = append(ds.Sources, collectd.DataSource{Name: src[0].(string), Type: typ, Min: bound(src[2]), Max: bound(src[3])})
		}
		db.Add(ds)
	}
	return db
}

// cdrDecodeVLs decodes a V payload as the host does, checking that each
// value has its data source's type.
func cdrDecodeVLs(t *testing.T, dec *wire.ValueListDecoder, db *collectd.TypesDB, collector string, payload []byte) []cdrVL {
	t.Helper()
	vls, err := dec.Decode(payload, db)
	require.NoError(t, err)
	var out []cdrVL
	for _, vl := range vls {
		ds, ok := db.DataSet(vl.Type)
		require.True(t, ok, vl.Type)
		require.Len(t, vl.Values, len(ds.Sources))
		c := cdrVL{Collector: collector, Host: vl.Host, Plugin: vl.Plugin, PluginInstance: vl.PluginInstance, Type: vl.Type, TypeInstance: vl.TypeInstance,
			Time: float64(vl.Time.UnixNano()) / 1e9, Interval: vl.Interval.Seconds()}
		for i, v := range vl.Values {
			require.Equal(t, ds.Sources[i].Type, v.Type, "value %d of %s", i, vl.Type)
			switch v.Type {
			case collectd.Gauge:
				c.Values = append(c.Values, v.F)
			case collectd.Derive:
				c.Values = append(c.Values, float64(v.I))
			default:
				c.Values = append(c.Values, float64(v.U))
			}
		}
		out = append(out, c)
	}
	return out
}

// BenchmarkCollectdRunnerDispatch1000 measures the CPU time of one read
// that dispatches 1,000 value lists (testdata/collectd/bench1k.py, 20
// reads a second): under our runner, whose frames are read from the
// channel (cpu-ms/read), and under the real collectd's python plugin
// (collectd-cpu-ms/read, when it is installed), in one run. The ratio
// of the two is ratio.
func BenchmarkCollectdRunnerDispatch1000(b *testing.B) {
	testkit.Python(b)
	b.ReportAllocs()
	spec := cdrNewSpec(b, "bench1k")
	const warmup = 10
	reads := make(chan struct{}, 1<<16)
	cmd, _, _ := cdrStartChannel(b, spec, func(_ *exec.Cmd, _ *os.File, f cdrFrame) {
		if f.Kind == 'V' && f.Meta == "bench1k" {
			reads <- struct{}{}
		}
	})
	wait := func(n int) {
		for range n {
			select {
			case <-reads:
			case <-time.After(30 * time.Second):
				b.Fatal("no read in 30s")
			}
		}
	}
	wait(warmup)
	before, err := cdrCPU(cmd.Process.Pid)
	require.NoError(b, err)
	b.ResetTimer()
	wait(b.N)
	b.StopTimer()
	after, err := cdrCPU(cmd.Process.Pid)
	require.NoError(b, err)
	ours := float64(after-before) / float64(b.N) / 1e6
	b.ReportMetric(ours, "cpu-ms/read")
	_ = cmd.Process.Signal(syscall.SIGTERM)
	_ = cmd.Wait()

	if _, err := os.Stat(cdrRealCollectd); err != nil {
		return
	}
	theirs := cdrRealCPU(b, spec, warmup, b.N)
	b.ReportMetric(theirs, "collectd-cpu-ms/read")
	b.ReportMetric(ours/theirs, "ratio")
}

// cdrRealCPU runs spec's plugins under the real collectd and returns its
// CPU time per read over n reads of bench1k's interval, after warmup.
func cdrRealCPU(b *testing.B, spec cdrSpec, warmup, n int) float64 {
	b.Helper()
	const interval = 50 * time.Millisecond
	conf := filepath.Join(b.TempDir(), "collectd.conf")
	require.NoError(b, os.WriteFile(conf, []byte(fmt.Sprintf("Hostname %q\nInterval 2\n"+
		"TypesDB \"/usr/share/collectd/types.db\"\n<LoadPlugin python>\n  Globals true\n</LoadPlugin>\n"+
		"<Plugin python>\n  ModulePath %q\n  Import \"bench1k\"\n</Plugin>\n", spec.Hostname, spec.Items[0]["path"])), 0o644))
	cmd := exec.Command(cdrRealCollectd, "-f", "-C", conf)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/bin"}
	require.NoError(b, cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	}()
	time.Sleep(time.Duration(warmup) * interval)
	before, err := cdrCPU(cmd.Process.Pid)
	require.NoError(b, err)
	start := time.Now()
	time.Sleep(time.Duration(n) * interval)
	after, err := cdrCPU(cmd.Process.Pid)
	require.NoError(b, err)
	done := float64(time.Since(start)) / float64(interval)
	return float64(after-before) / done / 1e6
}

// cdrCPU returns the CPU time the threads of process pid used so far
// (schedstat's run time, in nanoseconds).
func cdrCPU(pid int) (time.Duration, error) {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(tasks) == 0 {
		return 0, fmt.Errorf("no tasks of process %d: %v", pid, err)
	}
	var total time.Duration
	for _, p := range tasks {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			return 0, errors.New("empty " + p)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, err
		}
		total += time.Duration(ns)
	}
	return total, nil
}
