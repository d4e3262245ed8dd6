package pythond

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

func TestCollectdConfigValidation(t *testing.T) {
	t.Parallel()
	const head = "[[inputs.pythond]]\nname = 'a'\nframework = 'collectd'\n"
	tests := []struct {
		name string
		doc  string
		keys []string
		text string
	}{
		{name: "valid", doc: head + "collectd_config = 'collectd.conf'\ninterval = '5s'\nhostname = 'h'\ntypes_db = ['my.db']\n"},
		{name: "missing collectd_config", doc: head, keys: []string{"inputs.pythond[0].collectd_config"}, text: "collectd_config is required for framework collectd"},
		{name: "netdata option", doc: head + "collectd_config = 'c'\nmodules = ['m']\n", keys: []string{"inputs.pythond[0].modules"}, text: "modules is an option of framework netdata, not of collectd"},
		{name: "datakit option", doc: head + "collectd_config = 'c'\nrun_timeout = '1s'\n", keys: []string{"inputs.pythond[0].run_timeout"}, text: "run_timeout is an option of framework datakit, not of collectd"},
		{name: "collectd option on datakit", doc: "[[inputs.pythond]]\nname = 'a'\ndirs = ['d']\ncollectd_config = 'c'\ntypes_db = ['x']\n", keys: []string{"inputs.pythond[0].collectd_config", "inputs.pythond[0].types_db"}, text: "collectd_config is an option of framework collectd, not of datakit"},
		{name: "bad values", doc: head + "collectd_config = 'c'\ninterval = '-1s'\ntypes_db = ['']\n", keys: []string{"inputs.pythond[0].interval", "inputs.pythond[0].types_db[0]"}, text: "negative interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tc.doc))
			if tc.keys == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			var keys []string
			for _, e := range flatten(err) {
				var ce *ConfigError
				if errors.As(e, &ce) {
					keys = append(keys, ce.Key)
				}
			}
			assert.Equal(t, tc.keys, keys, "%v", err)
			assert.Contains(t, err.Error(), tc.text)
		})
	}
}

func TestCollectdResolveErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("bad.conf", "LoadPlugin python\n<Plugin python>\n  Import /x\n</Plugin>\n")
	h.write("ok.conf", "<Plugin python>\n  Import \"m\"\n</Plugin>\n")
	h.write("badtypes.conf", "TypesDB \"nope.db\"\n<Plugin python>\n  Import \"m\"\n</Plugin>\n")

	_, err := New(strict(h.options(Input{Framework: FrameworkCollectd, CollectdOptions: CollectdOptions{CollectdConfig: "bad.conf"}})))
	require.Error(t, err)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "inputs.pythond[0].collectd_config", ce.Key)
	assert.Contains(t, err.Error(), filepath.Join(h.root, "bad.conf")+":3:")

	_, err = New(strict(h.options(Input{Framework: FrameworkCollectd, CollectdOptions: CollectdOptions{CollectdConfig: "missing.conf"}})))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "missing.conf")

	_, err = New(strict(h.options(Input{Framework: FrameworkCollectd, CollectdOptions: CollectdOptions{CollectdConfig: "ok.conf", TypesDB: []string{"none.db"}}})))
	require.Error(t, err)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "inputs.pythond[0].types_db", ce.Key)
	assert.ErrorIs(t, err, collectd.ErrNoTypesDB)
	assert.Contains(t, err.Error(), "collectd-core")

	_, err = New(strict(h.options(Input{Framework: FrameworkCollectd, CollectdOptions: CollectdOptions{CollectdConfig: "badtypes.conf"}})))
	require.Error(t, err)
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "inputs.pythond[0].collectd_config", ce.Key)
	assert.Contains(t, err.Error(), "TypesDB")
	assert.Contains(t, err.Error(), "collectd-core")
}

const collectdTestPlugin = `import collectd

PREFIX = None


def config(c):
    global PREFIX
    PREFIX = c.children[0].values[0]


def read():
    collectd.Values(plugin=PREFIX, plugin_instance="a", type="if_octets",
                    type_instance="eth0", values=[10, 20],
                    time=1700000000.5).dispatch()
    collectd.Values(type="gauge", values=[1.5]).dispatch()
    collectd.Values(plugin="c", type="counter", values=[2**64 - 1],
                    host="other", time=1700000002.0).dispatch()
    collectd.Values(plugin="mine", type="mytype", values=[3, 0.25],
                    time=1700000003.0).dispatch()
    collectd.Notification(plugin=PREFIX, type="gauge",
                          severity=collectd.NOTIF_WARNING, message="hot",
                          time=1700000001.0).dispatch()


collectd.register_config(config)
collectd.register_read(read)
`

func TestCollectdEndToEnd(t *testing.T) {
	python := testkit.Python(t)
	if _, err := os.Stat(collectd.DefaultTypesDB); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is required under CI", collectd.DefaultTypesDB)
		}
		t.Skip("no " + collectd.DefaultTypesDB)
	}
	h := newHarness(t)
	h.write("plugins/myplug.py", collectdTestPlugin)
	h.write("my_types.db", "mytype count:DERIVE:0:U, ratio:GAUGE:0:1\n")
	h.write("collectd.conf", `Hostname "testhost"
Interval 1
TypesDB "/usr/share/collectd/types.db" "my_types.db"
LoadPlugin cpu
LoadPlugin python
<Plugin cpu>
  ReportByCpu true
</Plugin>
<Plugin python>
  ModulePath "plugins"
  Import "myplug"
  <Module myplug>
    Prefix "myplug"
  </Module>
</Plugin>
`)
	opts := h.options(Input{Framework: FrameworkCollectd, Cmd: python, CollectdOptions: CollectdOptions{CollectdConfig: "collectd.conf"}, Tags: map[string]string{"env": "test"}})
	opts.GlobalTags = map[string]string{"dc": "eu"}
	h.start(opts)
	h.waitPoints(5, 20*time.Second)
	// Each read is a run of its collector in Status.
	st := waitStatus(t, h.sup, "test", "a read", func(in InputStatus) bool {
		return len(in.Collectors) > 0 && in.Collectors[0].Runs > 0
	})
	assert.Equal(t, "myplug", st.Collectors[0].Name)
	assert.Positive(t, st.Collectors[0].LastDuration)
	assert.Zero(t, st.Collectors[0].Failures)
	h.stop()

	var metrics, events []point.Point
	for _, b := range h.rec.Batches() {
		switch b.Category {
		case point.Metric:
			assert.Equal(t, "test", b.Input)
			metrics = append(metrics, b.Points...)
		case point.KeyEvent:
			events = append(events, b.Points...)
		}
	}
	require.GreaterOrEqual(t, len(metrics), 4, "%s", h.logs.dump())
	require.NotEmpty(t, events, "%s", h.logs.dump())
	tags := func(kv ...string) []point.Tag {
		var out []point.Tag
		for i := 0; i < len(kv); i += 2 {
			out = append(out, point.Tag{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	assert.Equal(t, "myplug", metrics[0].Name)
	assert.Equal(t, tags("dc", "eu", "env", "test", "host", "testhost", "plugin_instance", "a", "type", "if_octets", "type_instance", "eth0"), sortedTags(metrics[0].Tags))
	assert.Equal(t, []point.Field{{Key: "rx", Value: point.IntValue(10)}, {Key: "tx", Value: point.IntValue(20)}}, metrics[0].Fields)
	assert.Equal(t, time.Unix(1700000000, 500000000), metrics[0].Time.UTC().Local())

	assert.Equal(t, "python", metrics[1].Name)
	assert.Equal(t, tags("dc", "eu", "env", "test", "host", "testhost", "type", "gauge"), sortedTags(metrics[1].Tags))
	assert.Equal(t, []point.Field{{Key: "value", Value: point.FloatValue(1.5)}}, metrics[1].Fields)
	assert.WithinDuration(t, time.Now(), metrics[1].Time, time.Minute)

	assert.Equal(t, "c", metrics[2].Name)
	assert.Equal(t, tags("dc", "eu", "env", "test", "host", "other", "type", "counter"), sortedTags(metrics[2].Tags))
	assert.Equal(t, []point.Field{{Key: "value", Value: point.UintValue(1<<64 - 1)}}, metrics[2].Fields)

	assert.Equal(t, "mine", metrics[3].Name)
	assert.Equal(t, []point.Field{{Key: "count", Value: point.IntValue(3)}, {Key: "ratio", Value: point.FloatValue(0.25)}}, metrics[3].Fields)

	ev := events[0]
	assert.Equal(t, "myplug", ev.Name)
	assert.Equal(t, tags("dc", "eu", "env", "test", "host", "testhost", "type", "gauge"), sortedTags(ev.Tags))
	status, _ := ev.Field("df_status")
	assert.Equal(t, point.StringValue("warning"), status)
	msg, _ := ev.Field("df_message")
	assert.Equal(t, point.StringValue("hot"), msg)
	assert.Equal(t, time.Unix(1700000001, 0), ev.Time.Local())

	assert.NotEmpty(t, h.logs.find("skipped plugins: cpu"), "%s", h.logs.dump())
	// The config file is removed once the process is done.
	files, _ := filepath.Glob(filepath.Join(sharedState(), "pythond", "run", "collectd-config-*.json"))
	assert.Empty(t, files)
}

func sortedTags(ts []point.Tag) []point.Tag {
	out := append([]point.Tag(nil), ts...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Key < out[i].Key {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestCollectdConfigJSON checks the file the runner reads, written from a
// collectd.conf, and that a restart reads the file again.
func TestCollectdConfigJSON(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("t.db", "gauge value:GAUGE:U:U\nif_octets rx:DERIVE:0:U, tx:DERIVE:0:U\n")
	h.write("c.conf", "FQDNLookup false\nReadThreads 2\nTypesDB \"t.db\"\n<Plugin python>\n  ModulePath \"mods\"\n  Import \"m\"\n  <Module m>\n    Path \"/x\" 42 true\n  </Module>\n</Plugin>\n")
	s, err := New(h.options(Input{Framework: FrameworkCollectd, CollectdOptions: CollectdOptions{CollectdConfig: "c.conf", Interval: Duration(3 * time.Second), Hostname: "tomlhost"}}))
	require.NoError(t, err)
	in := s.inputs[0]
	setup, err := loadCollectd(s, in, "")
	require.NoError(t, err)
	b, err := json.Marshal(collectdConfigJSON(t.Context(), in, setup))
	require.NoError(t, err)
	assert.JSONEq(t, `{"name":"test","hostname":"tomlhost","interval":3,"global_interval":3,"max_read_interval":86400,"read_threads":2,
		"log_traces":false,"interactive":false,"encoding":"",
		"types":{"gauge":[["value","gauge",null,null]],"if_octets":[["rx","derive",0,null],["tx","derive",0,null]]},
		"items":[{"kind":"module_path","path":"`+filepath.Join(h.root, "mods")+`"},{"kind":"import","module":"m"},
			{"kind":"module","name":"m","config":{"key":"Module","values":["m"],"children":[{"key":"Path","values":["/x",42,true],"children":[]}]}}]}`, string(b))

	h.write("c.conf", "Hostname \"filehost\"\nInterval 7\nTypesDB \"t.db\"\n<Plugin python>\n  Import \"m\"\n</Plugin>\n")
	setup, err = loadCollectd(s, in, "")
	require.NoError(t, err)
	spec := collectdConfigJSON(t.Context(), in, setup)
	assert.Equal(t, "filehost", spec.Hostname)
	assert.Equal(t, 7.0, spec.Interval)
	assert.Equal(t, 5, spec.ReadThreads)
	assert.True(t, strings.HasPrefix(spec.Items[0]["kind"].(string), "import"))
}

// TestCollectdBadFrames feeds the room's frame handlers what a broken
// runner could send: the good value lists are delivered, the bad ones
// logged and reported, and nothing stops the host.
func TestCollectdBadFrames(t *testing.T) {
	t.Parallel()
	python := testkit.Python(t)
	h := newHarness(t)
	h.write("t.db", "gauge value:GAUGE:U:U\ncounter value:COUNTER:U:U\n")
	h.write("c.conf", "Hostname h\nTypesDB \"t.db\"\n<Plugin python>\n  Import \"m\"\n</Plugin>\n")
	s, err := New(h.options(Input{Framework: FrameworkCollectd, CollectdOptions: CollectdOptions{CollectdConfig: "c.conf"}}))
	require.NoError(t, err)
	l, err := startCollectd(t.Context(), s, s.inputs[0], "/py")
	require.NoError(t, err)
	defer l.Close()
	assert.Equal(t, []string{"/py/runtime/run_collectd.py", "--name", "test", "--config"}, l.Args[:4])
	spec, err := os.ReadFile(l.Args[4])
	require.NoError(t, err)
	assert.Contains(t, string(spec), `"hostname":"h"`)

	payload, err := exec.Command(python, "-c", `import marshal, sys; sys.stdout.buffer.write(marshal.dumps([
		("h", "good", "", "gauge", "", 1700000000.0, 10.0, [1.0]),
		("h", "negative", "", "counter", "", 1700000000.0, 10.0, [-1]),
		("h", "unknown", "", "nosuchtype", "", 1700000000.0, 10.0, [1]),
		("h", "good2", "", "counter", "", 1700000000.0, 10.0, [5]),
	], 2))`).Output()
	require.NoError(t, err)
	values := l.Frames['V']
	values(t.Context(), []byte("mod"), payload)
	values(t.Context(), []byte("mod"), []byte("garbage"))
	values(t.Context(), nil, nil)
	l.Frames['N'](t.Context(), []byte("mod"), []byte("{not json"))
	l.Frames['N'](t.Context(), []byte("mod"), []byte(`{"host":"h","plugin":"p","type":"gauge","time":1700000000.5,"severity":1,"message":"down"}`))

	pts := h.rec.Points()
	require.Len(t, pts, 3)
	assert.Equal(t, "good", pts[0].Name)
	assert.Equal(t, "good2", pts[1].Name)
	assert.Equal(t, "p", pts[2].Name)
	st, _ := pts[2].Field("df_status")
	assert.Equal(t, point.StringValue("error"), st)
	assert.Equal(t, time.Unix(1700000000, 500000000), pts[2].Time.Local())
	assert.NotEmpty(t, h.logs.find("bad value lists from the collectd runner"))
	assert.NotEmpty(t, h.logs.find("value lists dropped"))
	assert.NotEmpty(t, h.logs.find("malformed notification"))
	reports := h.errs.kind(KindReport)
	require.Len(t, reports, 4, "%v", reports)
	assert.Contains(t, reports[0].Message, "value 0 does not fit a counter value")
	assert.Contains(t, reports[1].Message, `"nosuchtype" not in types.db`)
	assert.Equal(t, "mod", reports[0].Collector)
}

const collectdRestartPlugin = `import collectd, os, threading

NAME = None


def config(c):
    global NAME
    NAME = c.children[0].values[0]


def read():
    collectd.Values(plugin=NAME, type="gauge", values=[1]).dispatch()
    # Exit soon after the frame is out, so the host starts it again.
    threading.Timer(0.2, os._exit, (3,)).start()


collectd.register_config(config)
collectd.register_read(read)
`

// TestCollectdRestartRereads checks that each start reads collectd.conf
// again: an edit reaches the plugin once its process is restarted.
func TestCollectdRestartRereads(t *testing.T) {
	python := testkit.Python(t)
	h := newHarness(t)
	h.write("t.db", "gauge value:GAUGE:U:U\n")
	conf := func(name string) string {
		return "TypesDB \"t.db\"\n<Plugin python>\n  ModulePath \"plugins\"\n  Import \"restarter\"\n  <Module restarter>\n    Name \"" + name + "\"\n  </Module>\n</Plugin>\n"
	}
	h.write("plugins/restarter.py", collectdRestartPlugin)
	h.write("c.conf", conf("before"))
	h.start(h.options(Input{Framework: FrameworkCollectd, Cmd: python, CollectdOptions: CollectdOptions{CollectdConfig: "c.conf"}}))
	first := h.waitPoints(1, 20*time.Second)
	assert.Equal(t, "before", first[0].Name)
	h.write("c.conf", conf("after"))
	deadline := time.Now().Add(20 * time.Second)
	for {
		pts := h.rec.Points()
		if pts[len(pts)-1].Name == "after" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no point of the edited config; logs:\n%s", h.logs.dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkCollectdValues measures the host side of one read that
// dispatched 1,000 value lists: decoding the V frame, mapping the value
// lists to points, adding the input's tags, normalizing and writing to a
// sink that discards them.
func BenchmarkCollectdValues(b *testing.B) {
	python := testkit.Python(b)
	if _, err := os.Stat(collectd.DefaultTypesDB); err != nil {
		b.Skip("no " + collectd.DefaultTypesDB)
	}
	root := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(root, "c.conf"), []byte("Hostname h\n<Plugin python>\n  Import \"m\"\n</Plugin>\n"), 0o644))
	var n int
	s, err := New(Options{
		Inputs: []Input{{Name: "bench", Framework: FrameworkCollectd, Cmd: python, Tags: map[string]string{"env": "bench"},
			CollectdOptions: CollectdOptions{CollectdConfig: "c.conf"}}},
		Root:     root,
		StateDir: b.TempDir(),
		Sink:     point.SinkFunc(func(_ context.Context, bt point.Batch) error { n += len(bt.Points); return nil }),
	})
	require.NoError(b, err)
	l, err := startCollectd(b.Context(), s, s.inputs[0], "/py")
	require.NoError(b, err)
	defer l.Close()
	payload, err := exec.Command(python, "-c", `import marshal, sys; sys.stdout.buffer.write(marshal.dumps([
		("h", "interface", "eth%d" % i, "if_octets", "", 1700000000.5, 10.0, [i * 1000, i * 2000]) for i in range(1000)], 2))`).Output()
	require.NoError(b, err)
	values := l.Frames['V']
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		values(b.Context(), []byte("bench"), payload)
	}
	if n != 1000*b.N {
		b.Fatalf("%d points for %d runs", n, b.N)
	}
}
