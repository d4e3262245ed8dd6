package pythond

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
	"github.com/collectkit/collectkit/scrape"
)

// The differential tests run the same unchanged program twice: on its
// own, against the real thing it was written for (a port scraped by
// package scrape, a Pushgateway route of package httpapi), and under
// framework prometheus. Both must give the same points, except the
// created values (each run creates its metrics anew) and the instance
// of a scrape (host:port there, the script's file name here).

// diffKey writes a point as name, sorted tags without those in skip,
// and sorted fields with created values masked.
func diffKey(p point.Point, skip ...string) string {
	tags := slices.Clone(p.Tags)
	tags = slices.DeleteFunc(tags, func(t point.Tag) bool { return slices.Contains(skip, t.Key) })
	slices.SortFunc(tags, func(a, b point.Tag) int { return strings.Compare(a.Key, b.Key) })
	var b strings.Builder
	b.WriteString(p.Name)
	for _, t := range tags {
		fmt.Fprintf(&b, ",%s=%s", t.Key, t.Value)
	}
	fields := slices.Clone(p.Fields)
	slices.SortFunc(fields, func(a, b point.Field) int { return strings.Compare(a.Key, b.Key) })
	for i, f := range fields {
		sep := ","
		if i == 0 {
			sep = " "
		}
		v := f.Value.String()
		if f.Key == "created" {
			v = "*"
		}
		fmt.Fprintf(&b, "%s%s=%s", sep, f.Key, v)
	}
	return b.String()
}

func diffKeys(pts []point.Point, skip ...string) []string {
	out := make([]string, 0, len(pts))
	for _, p := range pts {
		out = append(out, diffKey(p, skip...))
	}
	slices.Sort(out)
	return out
}

// startStandalone runs python script args... with the host's
// environment and waits for a stdout line starting with ready (none:
// for the process to exit 0). It returns when that happened.
func startStandalone(t *testing.T, python, script, ready string, args ...string) {
	t.Helper()
	cmd := exec.Command(python, append([]string{script}, args...)...)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
		close(lines)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				if ready != "" {
					t.Fatalf("%s exited before printing %q", script, ready)
				}
				return
			}
			if ready != "" && strings.HasPrefix(l, ready) {
				return
			}
		case <-timeout:
			t.Fatalf("%s: timed out", script)
		}
	}
}

// TestPrometheusDiffExporter: the seed's kind of exporter, scraped on
// its own port by package scrape, and collected by the framework.
func TestPrometheusDiffExporter(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	script, err := filepath.Abs(filepath.Join("testdata", "prometheus", "exporter.py"))
	require.NoError(t, err)

	// On its own: the loop sets the values once, then sleeps an hour.
	port := freePort(t)
	startStandalone(t, python, script, "ready 1", strconv.Itoa(port), "3600")
	rec := &pointtest.Recorder{}
	sc, err := scrape.New(scrape.Options{
		Name:     "exporters",
		Targets:  []scrape.Target{{URL: fmt.Sprintf("http://127.0.0.1:%d/metrics", port)}},
		Interval: time.Second,
		Sink:     rec,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sc.Run(ctx) }()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = rec.WaitLen(wctx, 1)
	wcancel()
	cancel()
	require.NoError(t, <-done)
	require.NoError(t, err)
	var scraped []point.Point
	for _, p := range rec.Batches()[0].Points {
		switch p.Name {
		case scrape.MetricUp, scrape.MetricDuration, scrape.MetricSamplesScraped:
			continue
		}
		assert.Equal(t, fmt.Sprintf("127.0.0.1:%d", port), tagMap(p)["instance"])
		scraped = append(scraped, p)
	}

	// Under the framework: the last collection after the loop ran.
	h := newHarness(t)
	h.promScript("exporters", "exporter.py")
	h.start(h.options(Input{
		Name: "exporters", Framework: FrameworkPrometheus, Cmd: python,
		Dirs:                 []string{"exporters"},
		NetdataPluginOptions: NetdataPluginOptions{Args: []string{strconv.Itoa(freePort(t)), "3600"}},
		CollectdOptions:      CollectdOptions{Interval: Duration(200 * time.Millisecond)},
		PrometheusOptions:    PrometheusOptions{Serve: boolPtr(false)},
	}))
	h.logs.waitLog(t, "ready 1", 1, 20*time.Second)
	n := len(h.rec.Batches())
	deadline := time.Now().Add(10 * time.Second)
	for len(h.rec.Batches()) < n+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	batches := h.rec.Batches()
	require.Greater(t, len(batches), n+1, "collections after the loop ran")
	collected := batches[len(batches)-1].Points
	for _, p := range collected {
		assert.Equal(t, "exporter.py", tagMap(p)["instance"])
	}

	require.NotEmpty(t, scraped)
	assert.Equal(t, diffKeys(scraped, "instance"), diffKeys(collected, "instance"))
}

// TestPrometheusDiffPush: the seed's push example (its X-BK-TOKEN
// handler included) and a push of every method with escaped job and
// grouping key, sent on their own to httpapi's Pushgateway route and
// run under the framework, whose pushes go nowhere but the host.
func TestPrometheusDiffPush(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	tests := []struct {
		script string
		args   []string // after the gateway address
	}{
		{script: "push_example.py", args: []string{"0", "1"}},
		{script: "push_escapes.py"},
	}
	for _, tc := range tests {
		t.Run(tc.script, func(t *testing.T) {
			script, err := filepath.Abs(filepath.Join("testdata", "prometheus", tc.script))
			require.NoError(t, err)

			rec := &pointtest.Recorder{}
			hd, err := httpapi.New(httpapi.Options{Sink: rec})
			require.NoError(t, err)
			srv := httptest.NewServer(hd)
			defer srv.Close()
			addr := strings.TrimPrefix(srv.URL, "http://")
			startStandalone(t, python, script, "", append([]string{addr}, tc.args...)...)
			gateway := rec.Points()
			require.NotEmpty(t, gateway)

			h := newHarness(t)
			h.promScript("jobs", tc.script)
			h.start(h.options(Input{
				Name: "jobs", Framework: FrameworkPrometheus, Cmd: python,
				Dirs:                 []string{"jobs"},
				NetdataPluginOptions: NetdataPluginOptions{Args: append([]string{"pushgateway.invalid:9091"}, tc.args...)},
				CollectdOptions:      CollectdOptions{Interval: Duration(time.Hour)},
			}))
			h.logs.waitLog(t, "exited with status 0", 1, 20*time.Second)
			assert.Equal(t, diffKeys(gateway), diffKeys(h.rec.Points()))
			assert.Empty(t, h.errs.kind(KindReport), "no push refused")
			if tc.script == "push_example.py" {
				// The handler is not called: it would print the headers
				// and talk to the gateway.
				assert.Empty(t, h.logs.find("X-BK-TOKEN"), "the handler ran")
				assert.NotEmpty(t, h.logs.find("the push handler bk_handler is not called"))
			}
		})
	}
}
