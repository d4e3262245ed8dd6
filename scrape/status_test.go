package scrape_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/scrape"
)

// gatherText registers cs in a pedantic registry (which checks every
// metric against its description), gathers, writes the text exposition
// and parses it back with expfmt.
func gatherText(t *testing.T, cs ...prometheus.Collector) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	for _, c := range cs {
		require.NoError(t, reg.Register(c))
	}
	return testkit.GatherText(t, reg)
}

// series returns the metrics of family name by "input url" label pair.
func series(t *testing.T, families map[string]*dto.MetricFamily, name string) map[string]*dto.Metric {
	t.Helper()
	mf, ok := families[name]
	require.True(t, ok, "no family %s", name)
	out := map[string]*dto.Metric{}
	for _, m := range mf.GetMetric() {
		l := map[string]string{}
		for _, lp := range m.GetLabel() {
			l[lp.GetName()] = lp.GetValue()
		}
		require.Equal(t, hostPort(t, l["url"]), l["instance"], "%s: instance is the URL's host:port", name)
		out[l["input"]+" "+l["url"]] = m
	}
	return out
}

// TestTwoScrapersInOneRegistry: scrapers of different names register in
// one registry; every target has its series, labelled input, url and
// instance, with what its scrapes gave.
func TestTwoScrapersInOneRegistry(t *testing.T) {
	good, _ := textServer(t, textBody)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	goodURL, badURL := good.URL+"/metrics", failing.URL+"/metrics"

	a := start(t, scrape.Options{Name: "app", Targets: []scrape.Target{{URL: goodURL}, {URL: badURL}}})
	b := start(t, scrape.Options{Name: "other", Targets: []scrape.Target{{URL: goodURL}}})
	a.batches(t, 4) // two scrapes of each target
	b.batches(t, 1)
	a.stop(t)
	b.stop(t)

	families := gatherText(t, a.s, b.s)
	for _, name := range []string{"up", "last_duration_seconds", "samples_scraped", "last_scrape_timestamp_seconds",
		"scrapes_total", "failures_total", "sink_errors_total", "duration_seconds"} {
		assert.Len(t, families["collectkit_scrape_"+name].GetMetric(), 3, name)
	}
	up := series(t, families, "collectkit_scrape_up")
	assert.Equal(t, 1.0, up["app "+goodURL].GetGauge().GetValue())
	assert.Equal(t, 0.0, up["app "+badURL].GetGauge().GetValue())
	assert.Equal(t, 1.0, up["other "+goodURL].GetGauge().GetValue())
	samples := series(t, families, "collectkit_scrape_samples_scraped")
	assert.Equal(t, 6.0, samples["app "+goodURL].GetGauge().GetValue())
	assert.Equal(t, 0.0, samples["app "+badURL].GetGauge().GetValue())

	scrapes := series(t, families, "collectkit_scrape_scrapes_total")
	failures := series(t, families, "collectkit_scrape_failures_total")
	durations := series(t, families, "collectkit_scrape_duration_seconds")
	last := series(t, families, "collectkit_scrape_last_duration_seconds")
	stats := map[string]scrape.TargetStats{}
	for _, r := range []*running{a, b} {
		st := r.s.Status()
		for _, ts := range st.Targets {
			stats[st.Name+" "+ts.URL] = ts
		}
	}
	require.Len(t, stats, 3)
	for key, ts := range stats {
		assert.Positive(t, ts.Scrapes, key)
		assert.EqualValues(t, ts.Scrapes, scrapes[key].GetCounter().GetValue(), key)
		assert.EqualValues(t, ts.Failures, failures[key].GetCounter().GetValue(), key)
		assert.EqualValues(t, ts.Scrapes, durations[key].GetHistogram().GetSampleCount(), "one observation per scrape: %s", key)
		assert.Equal(t, ts.LastDuration.Seconds(), last[key].GetGauge().GetValue(), key)
	}
	assert.Equal(t, stats["app "+badURL].Scrapes, stats["app "+badURL].Failures)
	assert.Zero(t, stats["app "+goodURL].Failures)

	// A third scraper named like one already there cannot be told apart.
	dup, err := scrape.New(scrape.Options{Name: "app", Targets: []scrape.Target{{URL: goodURL}}, Sink: a.rec})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(a.s))
	var are prometheus.AlreadyRegisteredError
	assert.ErrorAs(t, reg.Register(dup), &are)
}

func TestStatus(t *testing.T) {
	good, _ := textServer(t, textBody)
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	}))
	t.Cleanup(failing.Close)
	opts := scrape.Options{Name: "app", Interval: 2 * time.Second, Targets: []scrape.Target{{URL: good.URL + "/metrics"}, {URL: failing.URL + "/metrics"}}}
	r := start(t, opts)
	before := r.s.Status()
	assert.Equal(t, "app", before.Name)
	assert.Equal(t, 2*time.Second, before.Interval)
	require.Len(t, before.Targets, 2)
	assert.Zero(t, before.Targets[0].Scrapes)
	r.batches(t, 2)
	r.stop(t)

	st := r.s.Status()
	require.Len(t, st.Targets, 2)
	assert.True(t, st.Targets[0].Up)
	assert.Equal(t, 6, st.Targets[0].Samples)
	assert.False(t, st.Targets[1].Up)
	assert.ErrorIs(t, st.Targets[1].LastError, scrape.ErrStatus)
	assert.Equal(t, 500, st.Targets[1].StatusCode)

	data, err := json.Marshal(st)
	require.NoError(t, err)
	var back struct {
		Name     string           `json:"name"`
		Interval time.Duration    `json:"interval_ns"`
		Targets  []map[string]any `json:"targets"`
	}
	require.NoError(t, json.Unmarshal(data, &back), "%s", data)
	assert.Equal(t, "app", back.Name)
	assert.Equal(t, 2*time.Second, back.Interval)
	require.Len(t, back.Targets, 2)
	assert.NotContains(t, back.Targets[0], "last_error", "nil errors are left out")
	assert.Equal(t, "text", back.Targets[0]["format"])
	assert.Equal(t, st.Targets[1].LastError.Error(), back.Targets[1]["last_error"])
	assert.Contains(t, back.Targets[1]["last_error"], "500")
	assert.Equal(t, failing.URL+"/metrics", back.Targets[1]["url"])
	assert.EqualValues(t, 1, back.Targets[1]["failures"])
}

// TestCollectNodeExporter: the samples a real node_exporter scrape held
// are what the collector reports.
func TestCollectNodeExporter(t *testing.T) {
	addr, stderr := startNodeExporter(t)
	u := "http://" + addr + "/metrics"
	_, r := first(t, scrape.Options{Name: "node", Targets: []scrape.Target{{URL: u}}, Interval: 5 * time.Second})
	st := r.s.Status().Targets[0]
	require.True(t, st.Up, "%v\n%s", st.LastError, stderr.String())
	require.Greater(t, st.Samples, 200)

	families := gatherText(t, r.s)
	assert.EqualValues(t, st.Samples, series(t, families, "collectkit_scrape_samples_scraped")["node "+u].GetGauge().GetValue())
	assert.Equal(t, 1.0, series(t, families, "collectkit_scrape_up")["node "+u].GetGauge().GetValue())
	assert.EqualValues(t, 1, series(t, families, "collectkit_scrape_duration_seconds")["node "+u].GetHistogram().GetSampleCount())
}
