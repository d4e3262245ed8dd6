package pythond

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

// dkServer is a DataKit API (httpapi) on loopback that also keeps every
// request it got.
type dkServer struct {
	rec  pointtest.Recorder
	api  *httpapi.Handler
	srv  *httptest.Server
	port string

	mu   sync.Mutex
	reqs []dkRequest
}

type dkRequest struct {
	Method, Path, Query, ContentType, Body string
}

func newDKServer(t *testing.T) *dkServer {
	t.Helper()
	d := &dkServer{}
	api, err := httpapi.New(httpapi.Options{Sink: &d.rec})
	require.NoError(t, err)
	d.api = api
	d.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.reqs = append(d.reqs, dkRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Content-Type"), string(body)})
		d.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(d.srv.Close)
	u, err := url.Parse(d.srv.URL)
	require.NoError(t, err)
	d.port = u.Port()
	return d
}

// request returns the first request to path.
func (d *dkServer) request(t *testing.T, method, path string) dkRequest {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.reqs {
		if r.Method == method && r.Path == path {
			return r
		}
	}
	t.Fatalf("no %s %s among %v", method, path, d.reqs)
	return dkRequest{}
}

// dataKitNames are the public names of DataKit's DataKitFramework class
// (both versions a test can meet: the one with feed_metric, feed_logging
// and feed_object, and the older one without) and of its module.
const dataKitNames = `
CLASS_NAMES = ['name', 'log_name', 'is_init_log', '__init__', 'run', 'test',
               'report', 'checkArgEmpty', 'feed_metric', 'feed_logging',
               'feed_object', 'feed_user_event', 'feed_monitor_event',
               'feed_system_event', 'construct_url', 'set_lasterror',
               'http_post_json', 'http_post_raw', 'http_post_data_core',
               '_DataKitFramework__dk_host', '_DataKitFramework__dk_port',
               '_DataKitFramework__magic']
MODULE_NAMES = ['DataKitFramework', 'mylog', 'init_log', 'logger', 'os',
                'sys', 'logging', 'Template', 'RotatingFileHandler']
`

// helpersScript is a collector module that calls every name of DataKit's
// framework once and writes what it saw to $RESULTS_<class>.
const helpersScript = `
import json
import os
import datakit_framework
from datakit_framework import DataKitFramework, mylog, init_log, logger
` + dataKitNames + `

def attempt(call):
    try:
        return {"value": call()}
    except Exception as exc:
        return {"raised": "%s: %s" % (type(exc).__name__, exc)}


class Probe(object):
    def probe(self, closed):
        r = {}
        r["missing_class"] = [n for n in CLASS_NAMES
                              if not hasattr(DataKitFramework, n)]
        star = {}
        exec("from datakit_framework import *", star)
        r["missing_star"] = [n for n in MODULE_NAMES if n not in star]
        r["logger"] = logger.name
        r["log_name"] = self.log_name
        r["init_before"] = DataKitFramework.is_init_log
        r["url"] = self.construct_url("v1/lasterror")
        r["url_slash"] = self.construct_url("/v1/lasterror")
        r["json"] = attempt(lambda: self.http_post_json(
            self.construct_url("v1/write/metric"),
            [{"measurement": "posted_json", "tags": {"by": self.name},
              "fields": {"f": 1}}]))
        r["raw"] = attempt(lambda: self.http_post_raw(
            self.construct_url("v1/write/logging"),
            "posted_raw,by=%s message=\"raw line\"" % self.name))
        r["core_post"] = attempt(lambda: self.http_post_data_core(
            self.construct_url("/v1/write/keyevent"),
            [{"measurement": "posted_core", "fields": {"df_title": "t"}}],
            "POST", True))
        r["core_get"] = attempt(lambda: self.http_post_data_core(
            self.construct_url("v1/ping"), "q=1", "GET", False))
        r["bad_category"] = attempt(lambda: self.http_post_json(
            self.construct_url("v1/write/nope"), [{"measurement": "x"}]))
        r["bad_line"] = attempt(lambda: self.http_post_raw(
            self.construct_url("v1/write/metric"), "no fields here"))
        r["refused"] = attempt(lambda: self.http_post_json(
            "http://127.0.0.1:%d/v1/write/metric" % closed, []))
        r["check_empty"] = attempt(lambda: self.checkArgEmpty("x", ""))
        r["check_zero"] = attempt(lambda: self.checkArgEmpty("x", 0))
        r["check_ok"] = attempt(lambda: self.checkArgEmpty("x", "v"))
        r["lasterror"] = attempt(lambda: self.set_lasterror(
            "le_" + self.name, "broken " + self.name))
        r["report"] = attempt(lambda: self.report({
            "M": [{"measurement": "reported", "tags": {"by": self.name},
                   "fields": {"f": 1}}], "input": "rep_" + self.name}))
        r["feed"] = attempt(lambda: self.feed_metric(
            measurement="fed", tags={"by": self.name}, fields={"f": 2}))
        r["noname"] = attempt(lambda: self.feed_object(
            cls="noname", tags={"by": self.name}, fields={"f": 3}))
        self.test()
        mylog("formatted %s and %d", "args", 7)
        mylog("joined:", 8)
        self.mylog("method")
        r["init_after"] = DataKitFramework.is_init_log
        r["init_log"] = init_log()
        with open(os.environ["RESULTS_" + self.name], "w") as f:
            json.dump(r, f)


class Piped(Probe, DataKitFramework):
    name = "Piped"
    interval = 3600

    def run(self):
        self.probe(CLOSED)


class Remote(Probe, DataKitFramework):
    name = "Remote"
    interval = 3600

    def __init__(self, **kwargs):
        super().__init__(ip="127.0.0.1", port=REMOTE_PORT)

    def run(self):
        self.probe(CLOSED)
`

// TestDataKitHelpers calls every name of DataKit's framework from a real
// interpreter, in pipe mode (the default address from
// COLLECTKIT_PYTHOND_HTTP) and in HTTP mode (ip/port given to __init__),
// and checks what the script got back and what the servers and the sink
// received.
func TestDataKitHelpers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	host, remote := newDKServer(t), newDKServer(t)
	closed := closedPort(t)
	script := strings.NewReplacer("CLOSED", fmt.Sprint(closed), "REMOTE_PORT", remote.port).Replace(helpersScript)
	h.write("helpers/helpers.py", script)
	results := map[string]string{}
	var envs []string
	for _, name := range []string{"Piped", "Remote"} {
		results[name] = filepath.Join(t.TempDir(), name+".json")
		envs = append(envs, "RESULTS_"+name+"="+results[name])
	}
	envs = append(envs, "COLLECTKIT_PYTHOND_HTTP=127.0.0.1:"+host.port)
	h.start(h.options(Input{Name: "helpers", Dirs: []string{"helpers"}, Envs: envs}))

	got := map[string]map[string]any{}
	for name, path := range results {
		waitFor(t, 15*time.Second, name+"'s results", func() bool {
			b, err := os.ReadFile(path)
			return err == nil && json.Unmarshal(b, new(map[string]any)) == nil
		}, h.logs.dump)
		b, _ := os.ReadFile(path)
		r := map[string]any{}
		require.NoError(t, json.Unmarshal(b, &r))
		got[name] = r
	}

	for name, r := range got {
		t.Run(name, func(t *testing.T) {
			srv, port := host, host.port
			if name == "Remote" {
				srv, port = remote, remote.port
			}
			base := "http://127.0.0.1:" + port
			assert.Empty(t, r["missing_class"], "DataKitFramework lacks names of DataKit's")
			assert.Empty(t, r["missing_star"], "the star import lacks names of DataKit's module")
			assert.Equal(t, "pythond_framework", r["logger"])
			assert.Equal(t, "helpers", r["log_name"], "log_name is the input's name, as DataKit's runner sets it")
			assert.Equal(t, base+"/v1/lasterror", r["url"])
			assert.Equal(t, base+"/v1/lasterror", r["url_slash"], "one '/' between port and path")
			value := func(key string) any {
				res, _ := r[key].(map[string]any)
				require.NotContains(t, res, "raised", key)
				return res["value"]
			}
			assert.Equal(t, "", value("json"))
			assert.Equal(t, "", value("raw"))
			assert.Equal(t, "", value("core_post"))
			assert.Contains(t, value("core_get"), `"version"`, "GET returns the ping's body")
			assert.Contains(t, value("bad_category"), "datakit.invalidCategory", "an HTTP error is returned as text")
			assert.Contains(t, value("bad_line"), "datakit.invalidLinePoint")
			assert.Contains(t, value("refused"), "collectkit.httpError", "no answer is an error document, not an exception")
			assert.Equal(t, map[string]any{"raised": `ValueError: arguments missing "x"`}, r["check_empty"])
			assert.Equal(t, map[string]any{"raised": `ValueError: arguments missing "x"`}, r["check_zero"], "checkArgEmpty is DataKit's: 0 is missing")
			assert.Nil(t, value("check_ok"))
			assert.Equal(t, "", value("lasterror"))
			assert.Equal(t, "", value("report"))
			assert.Equal(t, "", value("feed"))
			assert.Equal(t, "", value("noname"), "an object without name is taken")
			assert.Equal(t, false, r["init_before"])
			assert.Equal(t, true, r["init_after"], "mylog opened the log")
			assert.Equal(t, "", r["init_log"], "no log file without CollectorLogs")

			posted := srv.request(t, "POST", "/v1/write/metric")
			assert.Equal(t, "application/json", posted.ContentType)
			raw := srv.request(t, "POST", "/v1/write/logging")
			assert.NotContains(t, raw.ContentType, "json", "raw posts are line protocol")
			assert.Equal(t, fmt.Sprintf(`posted_raw,by=%s message="raw line"`, name), raw.Body)
			get := srv.request(t, "GET", "/v1/ping")
			assert.Equal(t, "q=1", get.Query, "GET sends raw data as the query, as requests does")
			assert.Empty(t, get.Body)
			names := map[string]point.Category{}
			for _, b := range srv.rec.Batches() {
				for _, p := range b.Points {
					names[p.Name] = b.Category
				}
			}
			assert.Equal(t, point.Metric, names["posted_json"])
			assert.Equal(t, point.Logging, names["posted_raw"])
			assert.Equal(t, point.KeyEvent, names["posted_core"])

			h.logs.waitLog(t, "log_name =  helpers", 1, 5*time.Second) // test() prints it, as DataKit's does
			// The log records of test() and mylog reach the host.
			// The results are written after them, but the records may still
			// be on their way.
			for _, msg := range []string{"789", "formatted args and 7", "joined: 8", "method"} {
				found := func() bool {
					for _, rec := range h.logs.find(msg) {
						if rec.Message == msg && rec.Attrs["collector"] == name {
							return true
						}
					}
					return false
				}
				waitFor(t, 5*time.Second, fmt.Sprintf("mylog(%q) of %s in the host log", msg, name), found, h.logs.dump)
			}
			assert.Len(t, h.logs.find(name+": POST "+base+"/v1/write/nope: HTTP 400"), 1, "a failed request is logged once")
		})
	}

	// Pipe mode: reports go to the sink, set_lasterror to OnError; HTTP
	// mode: both go to the remote server.
	byName := map[string]point.Batch{}
	for _, b := range h.rec.Batches() {
		for _, p := range b.Points {
			if by, _ := p.Tag("by"); by == "Piped" {
				byName[p.Name] = b
			}
		}
	}
	assert.Equal(t, "rep_Piped", byName["reported"].Input)
	assert.Contains(t, byName, "fed")
	assert.Len(t, byName, 3, "only report, feed_metric and feed_object of Piped went over the pipe")
	noname := byName["noname"]
	require.Len(t, noname.Points, 1)
	name, _ := noname.Points[0].Tag("name")
	assert.Equal(t, "default", name, "an object without name is named as DataKit names it")
	le := h.errs.wait(t, KindLastError, 1, 5*time.Second)
	assert.Equal(t, "le_Piped", le[0].Input)
	assert.Equal(t, "broken Piped", le[0].Message)
	remoteReports := map[string]string{}
	for _, b := range remote.rec.Batches() {
		for _, p := range b.Points {
			remoteReports[p.Name] = b.Input
		}
	}
	assert.Equal(t, "rep_Remote", remoteReports["reported"])
	assert.Contains(t, remoteReports, "noname")
	assert.Contains(t, remoteReports, "fed")
	stored := remote.api.LastErrors("le_Remote")
	require.Len(t, stored, 1)
	assert.Equal(t, "broken Remote", stored[0].Content)
	assert.Empty(t, host.api.LastErrorInputs(), "HTTP mode's lasterror goes to its own address")
	for _, b := range host.rec.Batches() {
		for _, p := range b.Points {
			by, _ := p.Tag("by")
			assert.NotEqual(t, "Remote", by, "HTTP mode's http_post_* calls go to its own address")
		}
	}
}

// waitFor polls cond until it holds, failing the test after timeout with
// what dump returns.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool, dump func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s:\n%s", timeout, what, dump())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
