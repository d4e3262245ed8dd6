package pythond

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/internal/testkit"
)

// scrapeText gathers reg, writes the text exposition and parses it back,
// as a Prometheus server would read it.
func scrapeText(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	return testkit.GatherText(t, reg)
}

// sample returns the metric of family name whose input label is input.
func sample(t *testing.T, mfs map[string]*dto.MetricFamily, name, input string) *dto.Metric {
	t.Helper()
	mf, ok := mfs[name]
	require.True(t, ok, "no family %s", name)
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "input" && l.GetValue() == input {
				return m
			}
		}
	}
	t.Fatalf("no %s{input=%q}", name, input)
	return nil
}

// TestMetrics registers two Supervisors with disjoint inputs in one
// pedantic registry and checks that the exposition says what Status says.
func TestMetrics(t *testing.T) {
	t.Parallel()
	py := testkit.Python(t)
	h := newHarness(t)
	h.write("good/good.py", `
from datakit_framework import DataKitFramework

class Good(DataKitFramework):
    name = 'Good'
    interval = 0.1

    def run(self):
        self.report({'M': [{"measurement": "m", "fields": {"f": 1}}]})
        self.report({'M': [{"measurement": "m", "fields": {"f": 1}}, {"measurement": "m", "fields": {}}]})
`)
	h.write("bad/bad.py", `
from datakit_framework import DataKitFramework

class Bad(DataKitFramework):
    name = 'Bad'
    interval = 0.1

    def run(self):
        raise RuntimeError("no")
`)
	h.write("exits/exits.py", "import os\nos._exit(1)\n")
	h.start(h.options(Input{Name: "good", Cmd: py, Dirs: []string{"good"}}, Input{Name: "bad", Cmd: py, Dirs: []string{"bad"}}))
	other := newHarness(t)
	other.root = h.root
	other.start(other.options(Input{Name: "exits", Cmd: py, Dirs: []string{"exits"}}))

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(h.sup))
	require.NoError(t, reg.Register(other.sup), "a second Supervisor with other inputs registers too")

	waitStatus(t, h.sup, "good", "3 runs", func(in InputStatus) bool {
		c, ok := collectorOf(in, "Good")
		return ok && c.Runs >= 3 && in.Points >= 3
	})
	waitStatus(t, h.sup, "bad", "3 failures", func(in InputStatus) bool {
		c, ok := collectorOf(in, "Bad")
		return ok && c.Failures >= 3
	})
	waitStatus(t, other.sup, "exits", "2 restarts", func(in InputStatus) bool { return in.Restarts >= 2 })
	running := scrapeText(t, reg)
	assert.Equal(t, 1.0, sample(t, running, "collectkit_pythond_up", "good").GetGauge().GetValue())

	h.stop()
	other.stop()
	mfs := scrapeText(t, reg)
	statuses := append(h.sup.Status().Inputs, other.sup.Status().Inputs...)
	require.Len(t, statuses, 3)
	for _, st := range statuses {
		counter := func(name string) float64 { return sample(t, mfs, name, st.Name).GetCounter().GetValue() }
		assert.Equal(t, 0.0, sample(t, mfs, "collectkit_pythond_up", st.Name).GetGauge().GetValue(), st.Name)
		assert.Equal(t, float64(st.Restarts), counter("collectkit_pythond_restarts_total"), st.Name)
		assert.Equal(t, float64(st.Reports), counter("collectkit_pythond_reports_total"), st.Name)
		assert.Equal(t, float64(st.Points), counter("collectkit_pythond_points_written_total"), st.Name)
		assert.Equal(t, float64(st.Rejected), counter("collectkit_pythond_points_rejected_total"), st.Name)
		var runs, failures uint64
		for _, c := range st.Collectors {
			runs += c.Runs
			failures += c.Failures
		}
		assert.Equal(t, float64(failures), counter("collectkit_pythond_run_failures_total"), st.Name)
		hist := sample(t, mfs, "collectkit_pythond_run_duration_seconds", st.Name).GetHistogram()
		assert.Equal(t, runs, hist.GetSampleCount(), st.Name)
		if runs > 0 {
			assert.Positive(t, hist.GetSampleSum(), st.Name)
		}
	}
	good := statuses[0]
	assert.Positive(t, good.Points)
	assert.Positive(t, good.Rejected, "a report with a point without fields is refused whole")
	assert.Equal(t, good.Reports, good.Points+good.Rejected/2, "each run: one point written, two refused")
	assert.Positive(t, sample(t, mfs, "collectkit_pythond_run_failures_total", "bad").GetCounter().GetValue())
	assert.GreaterOrEqual(t, sample(t, mfs, "collectkit_pythond_restarts_total", "exits").GetCounter().GetValue(), 2.0)
	var exitErrors float64
	for _, m := range mfs["collectkit_pythond_errors_total"].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["input"] == "exits" && labels["kind"] == "exit" {
			exitErrors = m.GetCounter().GetValue()
		}
	}
	assert.GreaterOrEqual(t, exitErrors, 2.0)
}
