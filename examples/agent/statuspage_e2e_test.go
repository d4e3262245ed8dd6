package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/pythond"
)

// TestStatusPageOfARunningAgent: the agent runs a healthy collector, one
// whose run raises, one that hangs past its run timeout, and an input whose
// dir is missing; /status, loaded in headless Chromium, shows each as what
// it is, as /v1/status reports it.
func TestStatusPageOfARunningAgent(t *testing.T) {
	testkit.Chromium(t)
	dir := t.TempDir()
	script := func(sub, body string) {
		d := filepath.Join(dir, "python.d", sub)
		require.NoError(t, os.MkdirAll(d, 0o755))
		writeFile(t, d, sub+".py", "from datakit_framework import DataKitFramework\n\n\n"+body)
	}
	script("good", `class Good(DataKitFramework):
    name = 'good'
    interval = 60

    def run(self):
        self.feed_metric(measurement="good", fields={"v": 1})
`)
	script("crash", `class Crash(DataKitFramework):
    name = 'crash'
    interval = 60

    def run(self):
        raise RuntimeError("the database is gone")
`)
	script("hang", `import time


class Hang(DataKitFramework):
    name = 'hang'
    interval = 60

    def run(self):
        time.sleep(120)
`)
	cfg := writeFile(t, dir, "a.toml", `listen = "127.0.0.1:0"
pythond_dir = "python.d"
[[inputs.pythond]]
name = "good"
dirs = ["good"]
[[inputs.pythond]]
name = "crash"
dirs = ["crash"]
[[inputs.pythond]]
name = "hang"
dirs = ["hang"]
run_timeout = "1s"
[[inputs.pythond]]
name = "broken"
dirs = ["missing"]
`)
	p := startAgent(t, "-config", cfg, "-out", filepath.Join(dir, "out"))
	url := "http://" + p.addr
	var st agentStatus
	byName := map[string]pythond.InputStatus{}
	waitFor(t, 30*time.Second, "every input in the state the test wants", func() bool {
		resp, err := http.Get(url + "/v1/status")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		st = agentStatus{}
		if json.NewDecoder(resp.Body).Decode(&st) != nil {
			return false
		}
		for _, in := range st.Pythond {
			byName[in.Name] = in
		}
		collector := func(input string) pythond.CollectorStatus {
			if cs := byName[input].Collectors; len(cs) == 1 {
				return cs[0]
			}
			return pythond.CollectorStatus{}
		}
		return collector("good").Runs >= 1 && collector("crash").Failures >= 1 &&
			collector("hang").Overdue && byName["broken"].State == pythond.StateBroken
	})
	dom := testkit.DumpDOM(t, url+"/status")
	// Each row carries the state judged from the snapshot; the detail too,
	// except the hanging run's, which says for how long it has run.
	row := func(start string, h health, detail bool) {
		t.Helper()
		i := strings.Index(dom, start)
		require.GreaterOrEqual(t, i, 0, "no %s in the page", start)
		r := element(t, dom[i:], start)
		assert.Contains(t, r, `<span class="state `+h.Class+`">`+h.Word+`</span>`, r)
		if detail && h.Detail != "" {
			assert.Contains(t, r, domText(h.Detail), r)
		}
	}
	for _, name := range []string{"good", "crash", "hang", "broken"} {
		in := byName[name]
		row(`<tr class="input" data-input="`+name+`"`, inputHealth(in), name != "hang")
		for _, c := range in.Collectors {
			row(`<tr class="collector" data-collector="`+c.Name+`"`, collectorHealth(c, st.Now), name != "hang")
		}
	}
	assert.Equal(t, "bad", inputHealth(byName["broken"]).Class, "a broken input is shown as broken")
	assert.Equal(t, "bad", collectorHealth(byName["hang"].Collectors[0], st.Now).Class, "a hanging collector is shown as in trouble")
	assert.Contains(t, dom, "the database is gone", "the crashing collector's error is on the page")
	assert.Contains(t, dom, domText(byName["broken"].Problem), "the broken input's problem is on the page")
	p.stop(t)
}
