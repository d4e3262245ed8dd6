package main

import (
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/protocol"
	"github.com/collectkit/collectkit/pythond"
	"github.com/collectkit/collectkit/scrape"
)

// sampleStatus is an agent with one input or output in each state the
// page tells apart. Its texts hold markup, which must be shown, not run.
func sampleStatus() agentStatus {
	now := t0.Add(time.Hour)
	return agentStatus{
		Version:     "collectkit-agent/test",
		Started:     t0,
		Now:         now,
		PointsTotal: 123456,
		Pythond: []pythond.InputStatus{
			{
				Name: "healthy-input", Framework: "datakit", Cmd: "/usr/bin/python3", Dirs: []string{"/etc/python.d/healthy"},
				State: pythond.StateRunning, PID: 4242, Started: now.Add(-20 * time.Minute),
				Reports: 240, Points: 960,
				Collectors: []pythond.CollectorStatus{{Name: "cpu-collector", LastRun: now.Add(-12 * time.Second), LastDuration: 35 * time.Millisecond, Runs: 240}},
			},
			{
				Name: "crashing-input", Framework: "datakit", Cmd: "/usr/bin/python3", Dirs: []string{"/etc/python.d/crash"},
				State: pythond.StateBackoff, Restarts: 7, LastExit: "exit status 1",
				Problem: "exit status 1: ModuleNotFoundError: No module named 'requests'",
				Reports: 3, Points: 3, Rejected: 1,
				LastErrors: []pythond.CollectorError{{Name: "crashing-input", Input: "crashing-input", Kind: pythond.KindImport, Message: "No module named 'requests'", Traceback: "Traceback ...", Time: now.Add(-30 * time.Second)}},
			},
			{
				Name: "restarting-input", Framework: "datakit", Cmd: "/usr/bin/python3", Dirs: []string{"/etc/python.d/restart"},
				State: pythond.StateBackoff, Restarts: 1, LastExit: "signal: killed", Problem: "signal: killed",
			},
			{
				Name: "hanging-input", Framework: "datakit", Cmd: "/usr/bin/python3", Dirs: []string{"/etc/python.d/hang"},
				State: pythond.StateRunning, PID: 4343, Started: now.Add(-5 * time.Minute), Reports: 10, Points: 10,
				Collectors: []pythond.CollectorStatus{
					{Name: "quick-collector", LastRun: now.Add(-3 * time.Second), LastDuration: 2 * time.Millisecond, Runs: 30},
					{Name: "stuck-collector", LastRun: now.Add(-95 * time.Second), Runs: 4, Running: true, Overdue: true},
				},
			},
			{
				Name: "broken-input", Framework: "netdata", Cmd: "python3", Dirs: []string{"/nowhere"},
				State: pythond.StateBroken, Problem: `dirs: /nowhere: no such directory <b>and</b> no collector`,
			},
		},
		Prom: []scrape.Status{{
			Name: "node", Interval: 15 * time.Second,
			Targets: []scrape.TargetStats{
				{URL: "http://127.0.0.1:9100/metrics", Instance: "127.0.0.1:9100", Up: true, LastScrape: now.Add(-4 * time.Second), LastDuration: 18 * time.Millisecond, StatusCode: 200, Format: protocol.ExpositionOpenMetrics, Samples: 812, Points: 815, Scrapes: 240},
				{URL: "http://127.0.0.1:9999/metrics", Instance: "127.0.0.1:9999", LastScrape: now.Add(-9 * time.Second), LastDuration: time.Millisecond, LastError: errors.New("dial tcp 127.0.0.1:9999: connect: connection refused"), Scrapes: 240, Failures: 240},
			},
		}},
		Forwarder: &forward.Status{
			Name: "vm:8428/write", URL: "http://vm:8428/write?db=agent",
			BufferedBytes: 3 << 20, BufferedPoints: 25000, CapacityBytes: 256 << 20, Fill: 3.0 / 256,
			OldestUnsent: 40 * time.Second,
			Delivered:    900000, Retried: 1200, Refused: 0, Failed: 2,
			LastDelivery: now.Add(-41 * time.Second), LastError: "503 Service Unavailable", LastErrorTime: now.Add(-2 * time.Second),
		},
		LastErrors: map[string][]httpapi.LastError{
			"crashing-input": {{Input: "crashing-input", Source: "import", Content: "pythond crashing-input: import: No module named 'requests'", Time: now.Add(-30 * time.Second)}},
			"external": {
				{Input: "external", Source: "my-script", Content: "older report", Time: now.Add(-10 * time.Minute)},
				{Input: "external", Source: "my-script", Content: `<script>document.title="injected"</script> newest report`, Time: now.Add(-61 * time.Second)},
			},
		},
		Problems: []string{`inputs.prom[1]: urls: "ftp://x" is not an http or https URL`},
	}
}

// serveStatus serves the status pages of st, with a chart of 2 minutes of
// samples, at GET /status and GET /v1/status.
func serveStatus(t *testing.T, st agentStatus) (*statusPages, string) {
	t.Helper()
	p := newStatusPages(func() agentStatus { return st })
	// 10/s, rising to 50/s and back.
	var total uint64
	for i := range 25 {
		if i > 0 {
			total += uint64(10+40*min(i, 24-i)/12) * uint64(rateEvery/time.Second)
		}
		p.record(st.Now.Add(time.Duration(i-24)*rateEvery), total)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", p.ServeHTML)
	mux.HandleFunc("GET /v1/status", p.ServeJSON)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return p, srv.URL
}

// element returns the first element of the DOM that starts with start,
// through its end tag (elements of the same name are not nested in the
// page).
func element(t *testing.T, dom, start string) string {
	t.Helper()
	i := strings.Index(dom, start)
	require.GreaterOrEqual(t, i, 0, "no %s in the page", start)
	name := strings.Fields(strings.TrimPrefix(start, "<"))[0]
	end := strings.Index(dom[i:], "</"+name+">")
	require.GreaterOrEqual(t, end, 0, "%s is not closed", start)
	return dom[i : i+end]
}

// assertStatusPage checks that the status page's DOM has a row for each
// input, collector, target and the forwarder of st, marked with the state
// the page should judge it to be in, and the problem text of those in
// trouble. The agent's end-to-end tests use it on the page of a running
// agent with the snapshot it served.
func assertStatusPage(t *testing.T, dom string, st agentStatus) {
	t.Helper()
	check := func(start string, h health) {
		t.Helper()
		i := strings.Index(dom, start)
		if !assert.GreaterOrEqual(t, i, 0, "no %s in the page", start) {
			return
		}
		row := element(t, dom[i:], start)
		assert.Contains(t, row, `data-state="`+h.Word+`"`, row)
		assert.Contains(t, row, `<span class="state `+h.Class+`">`+h.Word+`</span>`, row)
		if h.Detail != "" {
			assert.Contains(t, row, domText(h.Detail), row)
		}
	}
	for _, in := range st.Pythond {
		check(`<tr class="input" data-input="`+domAttr(in.Name)+`"`, inputHealth(in))
		for _, c := range in.Collectors {
			check(`<tr class="collector" data-collector="`+domAttr(c.Name)+`"`, collectorHealth(c, st.Now))
		}
	}
	for _, s := range st.Prom {
		for _, tg := range s.Targets {
			check(`<tr class="target" data-target="`+domAttr(tg.URL)+`"`, targetHealth(tg))
		}
	}
	if st.Forwarder != nil {
		check(`<table class="forwarder"`, forwarderHealth(*st.Forwarder))
	}
	for _, p := range st.Problems {
		assert.Contains(t, dom, domText(p))
	}
}

// domText and domAttr escape s as a browser serialises a text node and an
// attribute value (which is not how html/template escapes them).
func domText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}

func domAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", `"`, "&quot;", "<", "&lt;", ">", "&gt;", "\u00a0", "&nbsp;").Replace(s)
}

// TestStatusPageInChromium loads the page in a real browser and checks
// the document it builds, not the bytes served.
func TestStatusPageInChromium(t *testing.T) {
	testkit.Chromium(t)
	st := sampleStatus()
	_, url := serveStatus(t, st)
	dom := testkit.DumpDOM(t, url+"/status")

	assertStatusPage(t, dom, st)
	tests := []struct {
		row, state string
		texts      []string
	}{
		{`<tr class="input" data-input="healthy-input"`, "running", []string{`class="state ok"`, "4242", "20m00s ago"}},
		{`<tr class="input" data-input="crashing-input"`, "crashing", []string{`class="state bad"`, "ModuleNotFoundError: No module named 'requests'", ">7<", "<summary>1 recent error</summary>", "import: No module named 'requests'<pre>Traceback ...</pre>"}},
		{`<tr class="input" data-input="restarting-input"`, "backoff", []string{`class="state warn"`, "signal: killed", "not running"}},
		{`<tr class="input" data-input="hanging-input"`, "hanging", []string{`class="state bad"`, "collector stuck-collector has run past its timeout"}},
		// The problem is text: its markup is escaped, not a <b> element.
		{`<tr class="input" data-input="broken-input"`, "broken", []string{`class="state bad"`, "dirs: /nowhere: no such directory &lt;b&gt;and&lt;/b&gt; no collector"}},
		{`<tr class="collector" data-collector="cpu-collector"`, "ok", []string{"12s ago", "took 35ms"}},
		{`<tr class="collector" data-collector="stuck-collector"`, "hanging", []string{`class="state bad"`, "running for 1m35s, past its timeout"}},
		{`<tr class="target" data-target="http://127.0.0.1:9100/metrics"`, "up", []string{`class="state ok"`, "812", "4s ago"}},
		{`<tr class="target" data-target="http://127.0.0.1:9999/metrics"`, "down", []string{`class="state bad"`, "connect: connection refused"}},
		{`<table class="forwarder"`, "retrying", []string{`class="state warn"`, "503 Service Unavailable", "25000 points, 3.0 MiB of 256.0 MiB (1.2%)", "40s", "41s ago"}},
	}
	for _, tt := range tests {
		row := element(t, dom, tt.row)
		assert.Contains(t, row, `data-state="`+tt.state+`"`, row)
		assert.Contains(t, row, ">"+tt.state+"<", "the state is written, not only coloured: %s", row)
		for _, text := range tt.texts {
			assert.Contains(t, row, text, row)
		}
	}
	// Times are relative, with the absolute time in the title.
	assert.Contains(t, dom, `<span title="2026-03-04 10:59:48 UTC">12s ago</span>`)

	errs := element(t, dom, `<section id="lasterrors"`)
	assert.Contains(t, errs, "pythond crashing-input: import: No module named 'requests'")
	newest, older := strings.Index(errs, "newest report"), strings.Index(errs, "older report")
	require.GreaterOrEqual(t, older, 0)
	assert.Less(t, newest, older, "newest first")
	assert.Contains(t, errs, `&lt;script&gt;document.title="injected"&lt;/script&gt; newest report`)
	assert.NotContains(t, dom, "<script", "a reported error made a script element")
	assert.NotContains(t, element(t, dom, "<title"), "injected")

	assert.Contains(t, element(t, dom, `<section id="problems"`), `inputs.prom[1]: urls: "ftp://x" is not an http or https URL`)
	assert.Contains(t, dom, "123456 points accepted")
	assert.Contains(t, dom, "<b>10</b> points/s now")

	chart := element(t, dom, `<svg id="rate-chart"`)
	polyline := regexp.MustCompile(`<polyline class="line" points="([^"]+)">`).FindStringSubmatch(chart)
	require.NotNil(t, polyline, chart)
	assert.Len(t, chartPoints(t, polyline[1]), 24)
	for _, label := range []string{">0<", ">25<", ">50<", ">-10m<", ">-5m<", ">now<"} {
		assert.Contains(t, chart, label)
	}

	// Nothing comes from another site: no script, stylesheet, image or
	// font URL.
	assert.NotRegexp(t, `(src|href)="`, dom)
	assert.NotContains(t, dom, "url(")
}

// TestStatusPageScreenshot leaves a picture of the page in
// $COLLECTKIT_SCREENSHOT_DIR (when set) for a person to look at, and checks
// that it shows the states' colours.
func TestStatusPageScreenshot(t *testing.T) {
	testkit.Chromium(t)
	_, url := serveStatus(t, sampleStatus())
	file := filepath.Join(testkit.ScreenshotDir(t), "status.png")
	testkit.Screenshot(t, url+"/status", file)
	img := testkit.ReadPNG(t, file)
	require.Equal(t, image.Rect(0, 0, 1280, 900), img.Bounds())
	colours := map[string]color.RGBA{
		"ok (green)":   {0x2e, 0x7d, 0x32, 0xff},
		"bad (red)":    {0xc6, 0x28, 0x28, 0xff},
		"warn (amber)": {0xf0, 0xa5, 0x00, 0xff},
	}
	seen := map[color.RGBA]int{}
	for y := 0; y < 900; y++ {
		for x := 0; x < 1280; x++ {
			seen[color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)]++
		}
	}
	for name, c := range colours {
		assert.Greater(t, seen[c], 100, "pixels of %s", name)
	}
	t.Logf("screenshot of the status page: %s", file)
}

// statusJSON is what GET /v1/status decodes into: statusDocument with the
// targets' errors as the text scrape.TargetStats encodes them to.
type statusJSON struct {
	Version         string                         `json:"version"`
	Started         time.Time                      `json:"started"`
	Now             time.Time                      `json:"now"`
	Pythond         []pythond.InputStatus          `json:"pythond"`
	Prom            []promJSON                     `json:"prom"`
	Forwarder       *forward.Status                `json:"forwarder"`
	LastErrors      map[string][]httpapi.LastError `json:"last_errors"`
	PointsTotal     uint64                         `json:"points_total"`
	Problems        []string                       `json:"problems"`
	PointsPerSecond []rateSample                   `json:"points_per_second"`
}

type promJSON struct {
	Name     string        `json:"name"`
	Interval time.Duration `json:"interval_ns"`
	Targets  []targetJSON  `json:"targets"`
}

type targetJSON struct {
	scrape.TargetStats
	LastError string `json:"last_error"`
	SinkError string `json:"sink_error"`
}

func TestStatusJSONDecodesToTheSnapshot(t *testing.T) {
	st := sampleStatus()
	p, url := serveStatus(t, st)
	resp, err := http.Get(url + "/v1/status")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var got statusJSON
	dec := json.NewDecoder(resp.Body)
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&got))

	assert.Equal(t, st.Version, got.Version)
	assert.Equal(t, st.Started, got.Started)
	assert.Equal(t, st.Now, got.Now)
	assert.Equal(t, st.Pythond, got.Pythond)
	assert.Equal(t, st.Forwarder, got.Forwarder)
	assert.Equal(t, st.LastErrors, got.LastErrors)
	assert.Equal(t, st.PointsTotal, got.PointsTotal)
	assert.Equal(t, st.Problems, got.Problems)
	assert.Equal(t, p.rates(), got.PointsPerSecond)

	require.Len(t, got.Prom, len(st.Prom))
	for i, s := range st.Prom {
		assert.Equal(t, s.Name, got.Prom[i].Name)
		assert.Equal(t, s.Interval, got.Prom[i].Interval)
		require.Len(t, got.Prom[i].Targets, len(s.Targets))
		for j, want := range s.Targets {
			g := got.Prom[i].Targets[j]
			assert.Equal(t, errorText(want.LastError), g.LastError, "target %d", j)
			assert.Equal(t, errorText(want.SinkError), g.SinkError, "target %d", j)
			want.LastError, want.SinkError = nil, nil
			assert.Equal(t, want, g.TargetStats, "target %d", j)
		}
	}
}

func TestStatusPageServed(t *testing.T) {
	t.Run("headers and refresh", func(t *testing.T) {
		_, url := serveStatus(t, sampleStatus())
		resp, err := http.Get(url + "/status")
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
		assert.Contains(t, resp.Header.Get("Content-Security-Policy"), "default-src 'none'")
	})
	t.Run("an agent with nothing yet", func(t *testing.T) {
		p := newStatusPages(func() agentStatus { return agentStatus{Version: "v"} })
		rec := httptest.NewRecorder()
		p.ServeHTML(rec, httptest.NewRequest(http.MethodGet, "/status", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		body := rec.Body.String()
		for _, want := range []string{"No Python inputs.", "No Prometheus targets.", "No forwarder", "No errors reported.", "no data yet", `content="5"`} {
			assert.Contains(t, body, want)
		}
		assert.NotContains(t, body, "<polyline")

		rec = httptest.NewRecorder()
		p.ServeJSON(rec, httptest.NewRequest(http.MethodGet, "/v1/status", nil))
		require.Equal(t, http.StatusOK, rec.Code)
		var got map[string]any
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &got))
		assert.Equal(t, []any{}, got["points_per_second"], "an empty series is [], not null")
		assert.NotContains(t, got, "forwarder")
	})
}
