package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// frameworkEnv names DataKit's own datakit_framework.py for
// TestRealDataKitFramework. Its licence keeps it out of this repository,
// and CI does not download it.
const frameworkEnv = "COLLECTKIT_DATAKIT_FRAMEWORK"

// knownFrameworks are the copies of DataKit's datakit_framework.py the
// test knows, by sha256.
var knownFrameworks = map[string]string{
	// GuanceCloud/datakit 9264e037867efa903b2204bc99f4ee1886c1add0,
	// internal/plugins/inputs/pythond/pys/datakit_framework.py (blob
	// ff15cddabd23a2c49ec92bafec04a6b86f2e4819, 355 lines): the version
	// with feed_metric, feed_logging and feed_object.
	"307802b376197755d8a66ce7b55fe6cffd9956afa26fdc4142e246f37c709714": "datakit 9264e037 (355 lines)",
	// An earlier version of the same file (287 lines): report with E and
	// the three event helpers, but no feed_metric, feed_logging or
	// feed_object; without and with its final newline.
	"8c672235e3d2811456ae874752764e5b13472096b0c35ad1bcab3a1ad9e97994": "earlier version (287 lines, no final newline)",
	"7b43036ebc9f7565f65fb0b8b689e2456d7df132e6999e8d2127d98dd0eefe5f": "earlier version (287 lines)",
}

// realClientScript drives DataKit's framework against the agent with every
// call DataKit's pythond documentation shows, and prints what each call
// returned as JSON. A helper the framework's version lacks is replaced by
// the report() call that DataKit's helper makes, so the same points are
// sent either way.
const realClientScript = `
import json
import sys

sys.path.insert(0, sys.argv[1])
from datakit_framework import DataKitFramework

PORT = int(sys.argv[2])


class Real(DataKitFramework):
    name = 'Real'
    interval = 10

    def __init__(self, **kwargs):
        super().__init__(ip='127.0.0.1', port=PORT)

    def run(self):
        pass


c = Real()
out = {"replaced": [], "absent": []}
tags = {"src": "real"}
kwargs = {"custom_key1": "custom_value1"}


def call(key, helper, fallback, *args, **kw):
    if hasattr(c, helper):
        out[key] = getattr(c, helper)(*args, **kw)
    else:
        out["replaced"].append(helper)
        out[key] = c.report(fallback)


fields = {"f1": 123, "f2": 3.4}
call("feed_metric", "feed_metric",
     {"M": [{"measurement": "dk_metric", "tags": tags,
             "fields": dict(fields, **kwargs), "time": None}]},
     measurement="dk_metric", tags=tags, fields=dict(fields), **kwargs)
call("feed_logging", "feed_logging",
     {"L": [{"measurement": "dk_log", "tags": tags,
             "fields": dict({"message": "This is the message for testing"},
                            **kwargs), "time": None}]},
     source="dk_log", tags=tags, message="This is the message for testing",
     **kwargs)
call("feed_object_noname", "feed_object",
     {"O": [{"measurement": "dk_object_noname",
             "tags": {"src": "real", "name": None},
             "fields": {"cpus": 4}, "time": None}]},
     cls="dk_object_noname", tags=dict(tags), fields={"cpus": 4})
call("feed_object", "feed_object",
     {"O": [{"measurement": "dk_object",
             "tags": {"src": "real", "name": "web01"},
             "fields": {"cpus": 8}, "time": None}]},
     cls="dk_object", name="web01", tags=dict(tags), fields={"cpus": 8})
if hasattr(c, "feed_custom_object"):
    out["feed_custom_object"] = c.feed_custom_object(
        cls="dk_custom", name="co01", tags=dict(tags), fields={"f": 1})
else:
    out["absent"].append("feed_custom_object")

event = dict(df_date_range=10, df_status="info", df_event_id="event_id",
             df_title="title", df_message="message", **kwargs)
out["feed_user_event"] = c.feed_user_event(
    df_user_id="user_id", tags={"kind": "user"}, **event)
out["feed_monitor_event"] = c.feed_monitor_event(
    df_dimension_tags='{"host":"web01"}', tags={"kind": "monitor"}, **event)
out["feed_system_event"] = c.feed_system_event(
    tags={"kind": "system"}, **event)

point = {"tags": {"t1": "b", "t2": "d"}, "fields": {"f1": 123, "f2": 3.4}}
out["report"] = c.report({
    "M": [dict(point, measurement="rep_metric")],
    "L": [dict(point, measurement="rep_log")],
    "R": [dict(point, measurement="rep_rum")],
    "O": [dict(point, measurement="rep_object",
               tags={"name": "obj01", "t1": "b"})],
    "CO": [dict(point, measurement="rep_custom",
                tags={"name": "co01", "t1": "b"})],
    "E": [dict(point, measurement="rep_event")],
    "input": "datakitpy",
})
out["set_lasterror"] = c.set_lasterror("dk_input", "something broke")
out["url"] = c.construct_url("v1/write/metric")
out["http_post_json"] = c.http_post_json(
    c.construct_url("v1/write/metric"),
    [{"measurement": "posted_json", "tags": tags, "fields": {"f": 1}}])
out["http_post_raw"] = c.http_post_raw(
    c.construct_url("v1/write/logging"),
    'posted_raw,src=real message="raw line"')
out["http_post_bad"] = c.http_post_raw(
    c.construct_url("v1/write/metric"), "no fields here")
print(json.dumps(out))
`

// TestRealDataKitFramework runs DataKit's own datakit_framework.py,
// unchanged, against the agent's write API and checks what landed in the
// -out files.
func TestRealDataKitFramework(t *testing.T) {
	path := os.Getenv(frameworkEnv)
	if path == "" {
		t.Skipf("%s is not set: point it at DataKit's internal/plugins/inputs/pythond/pys/datakit_framework.py "+
			"(GuanceCloud/datakit commit 9264e037867efa903b2204bc99f4ee1886c1add0, "+
			"sha256 307802b376197755d8a66ce7b55fe6cffd9956afa26fdc4142e246f37c709714)", frameworkEnv)
	}
	body, err := os.ReadFile(path)
	require.NoError(t, err)
	sum := sha256.Sum256(body)
	version, ok := knownFrameworks[hex.EncodeToString(sum[:])]
	require.True(t, ok, "%s: sha256 %x is not a known copy of DataKit's datakit_framework.py", path, sum)
	t.Logf("DataKit's framework: %s", version)
	python := testkit.Python(t, "requests")

	dir := t.TempDir()
	cfg := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("listen = \"127.0.0.1:0\"\n\n[global_tags]\nhost = \"dk-host\"\n"), 0o644))
	outDir := filepath.Join(dir, "out")
	stderr := runInProcess(t, cfg, outDir)
	addrRE := regexp.MustCompile(`msg="write API listening" addr=127\.0\.0\.1:(\d+)`)
	var port string
	waitFor(t, 15*time.Second, "the agent to listen", func() bool {
		m := addrRE.FindStringSubmatch(stderr.String())
		if m != nil {
			port = m[1]
		}
		return m != nil
	})

	script := filepath.Join(dir, "client.py")
	require.NoError(t, os.WriteFile(script, []byte(realClientScript), 0o644))
	cmd := exec.Command(python, script, filepath.Dir(path), port)
	// DataKit's framework writes its log file in the home directory.
	cmd.Env = append(os.Environ(), "HOME="+dir, "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.Output()
	require.NoError(t, err, "%s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	got := map[string]any{}
	require.NoError(t, json.Unmarshal([]byte(lines[len(lines)-1]), &got), "%s", out)
	t.Logf("helpers replaced by their report() call: %v; absent: %v", got["replaced"], got["absent"])

	for _, key := range []string{"feed_metric", "feed_logging", "feed_object", "feed_object_noname",
		"feed_user_event", "feed_monitor_event", "feed_system_event", "report", "set_lasterror",
		"http_post_json", "http_post_raw"} {
		assert.Equal(t, "", got[key], "%s: the agent answers 200 with an empty body, as DataKit", key)
	}
	if _, ok := got["feed_custom_object"]; ok {
		assert.Equal(t, "", got["feed_custom_object"])
	}
	assert.Equal(t, "http://127.0.0.1:"+port+"/v1/write/metric", got["url"])
	assert.Contains(t, got["http_post_bad"], "datakit.invalidLinePoint", "the error document is returned as text")

	file := func(category string) string { return filepath.Join(outDir, category+".lp") }
	waitFor(t, 10*time.Second, "every category's -out file", func() bool {
		for _, c := range []string{"metric", "logging", "object", "custom_object", "keyevent", "rum"} {
			if len(readLines(t, file(c))) == 0 {
				return false
			}
		}
		return len(readLines(t, file("metric"))) >= 3 && len(readLines(t, file("logging"))) >= 3 &&
			len(readLines(t, file("object"))) >= 3 && len(readLines(t, file("keyevent"))) >= 4
	})
	joined := func(category string) string { return strings.Join(readLines(t, file(category)), "\n") }
	ts := ` \d{19}(\n|$)`

	metric := joined("metric")
	// A metric's string field (the kwarg) is dropped, as DataKit does.
	assert.Regexp(t, `(?m)^dk_metric,host=dk-host,src=real f1=123,f2=3\.4`+ts, metric)
	assert.Regexp(t, `(?m)^rep_metric,host=dk-host,t1=b,t2=d f1=123,f2=3\.4`+ts, metric)
	assert.Regexp(t, `(?m)^posted_json,host=dk-host,src=real f=1`+ts, metric)

	logging := joined("logging")
	assert.Regexp(t, `(?m)^dk_log,host=dk-host,src=real custom_key1="custom_value1",message="This is the message for testing",status="info"`+ts, logging)
	assert.Regexp(t, `(?m)^rep_log,host=dk-host,t1=b,t2=d f1=123,f2=3\.4,status="info"`+ts, logging)
	assert.Regexp(t, `(?m)^posted_raw,host=dk-host,src=real message="raw line",status="info"`+ts, logging)

	object := joined("object")
	assert.Regexp(t, `(?m)^dk_object,host=dk-host,name=web01,src=real cpus=8`+ts, object)
	assert.Regexp(t, `(?m)^rep_object,host=dk-host,name=obj01,t1=b f1=123,f2=3\.4`+ts, object)
	// DataKit stores an object without name with the name "default".
	assert.Regexp(t, `(?m)^dk_object_noname,host=dk-host,name=default,src=real cpus=4`+ts, object, "feed_object without a name")

	assert.Regexp(t, `(?m)^rep_custom,host=dk-host,name=co01,t1=b f1=123,f2=3\.4`+ts, joined("custom_object"))
	assert.Regexp(t, `(?m)^rep_rum,`, joined("rum"))

	events := joined("keyevent")
	common := `custom_key1="custom_value1",df_date_range=10,df_event_id="event_id",df_message="message",`
	assert.Regexp(t, `(?m)^measurement,host=dk-host,kind=user `+common+`df_source="user",df_status="info",df_title="title",df_user_id="user_id"`+ts, events)
	assert.Regexp(t, `(?m)^measurement,host=dk-host,kind=monitor `+regexp.QuoteMeta(`custom_key1="custom_value1",df_date_range=10,df_dimension_tags="{\"host\":\"web01\"}",df_event_id="event_id",df_message="message",`)+`df_source="monitor",df_status="info",df_title="title"`+ts, events)
	assert.Regexp(t, `(?m)^measurement,host=dk-host,kind=system `+common+`df_source="system",df_status="info",df_title="title"`+ts, events)
	assert.Regexp(t, `(?m)^rep_event,host=dk-host,t1=b,t2=d f1=123,f2=3\.4`+ts, events)

	assert.Contains(t, stderr.String(), `msg="last error reported" input=dk_input`, "set_lasterror reached the agent")
	assert.Contains(t, stderr.String(), `error="something broke"`)
}

// pipeModeScript is a collector of the agent's own pythond input: it
// reports over the pipe and also posts to the agent's write API with
// DataKit's http_post_* helpers, to the address construct_url gives.
const pipeModeScript = `from datakit_framework import DataKitFramework


class Both(DataKitFramework):
    name = 'both'
    interval = 3600

    def run(self):
        self.feed_metric(measurement='via_pipe', fields={'f': 1})
        r = self.http_post_json(self.construct_url('/v1/write/metric'),
                                [{'measurement': 'via_http_json',
                                  'fields': {'f': 2}}])
        r += self.http_post_raw(self.construct_url('v1/write/logging'),
                                'via_http_raw message="raw"')
        r += self.http_post_raw(self.construct_url('v1/write/metric'),
                                'no fields here')
        self.feed_logging(source='answers', message=r)
`

// TestDataKitFrameworkPipeModePosts checks that a collector of the agent's
// pythond input, in pipe mode, reaches the agent's write API with
// construct_url and http_post_json/http_post_raw when its input's envs
// name the listener in COLLECTKIT_PYTHOND_HTTP, and gets refusals back as
// text.
func TestDataKitFrameworkPipeModePosts(t *testing.T) {
	testkit.Python(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "python.d", "both"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "python.d", "both", "both.py"), []byte(pipeModeScript), 0o644))
	cfg := filepath.Join(dir, "agent.toml")
	require.NoError(t, os.WriteFile(cfg, []byte(fmt.Sprintf(`listen = %q
pythond_dir = "python.d"

[[inputs.pythond]]
name = "both"
cmd = "python3"
dirs = ["both"]
envs = ["COLLECTKIT_PYTHOND_HTTP=%s"]
`, addr, addr)), 0o644))
	outDir := filepath.Join(dir, "out")
	runInProcess(t, cfg, outDir)

	metricFile, loggingFile := filepath.Join(outDir, "metric.lp"), filepath.Join(outDir, "logging.lp")
	waitFor(t, 15*time.Second, "the collector's points", func() bool {
		return strings.Contains(strings.Join(readLines(t, loggingFile), "\n"), "answers")
	})
	metrics := strings.Join(readLines(t, metricFile), "\n")
	assert.Regexp(t, `(?m)^via_pipe f=1 \d{19}$`, metrics)
	assert.Regexp(t, `(?m)^via_http_json f=2 \d{19}$`, metrics)
	logging := strings.Join(readLines(t, loggingFile), "\n")
	assert.Regexp(t, `(?m)^via_http_raw message="raw",status="info" \d{19}$`, logging)
	assert.Regexp(t, `(?m)^answers message=".*datakit\.invalidLinePoint.*",status="info" \d{19}$`, logging,
		"the refused post's error document came back as text; the accepted ones as \"\"")
}

// runInProcess runs the agent in this process with -config cfg and -out
// outDir until the test ends, and returns its log.
func runInProcess(t *testing.T, cfg, outDir string) *testkit.SyncBuffer {
	t.Helper()
	var stdout, stderr testkit.SyncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"-config", cfg, "-out", outDir}, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			assert.NoError(t, err)
		case <-time.After(20 * time.Second):
			t.Error("run did not return after cancel")
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", stderr.String())
		}
	})
	return &stderr
}
