package pythond

import (
	"github.com/prometheus/client_golang/prometheus"
)

// The Supervisor's metrics, each with the variable label input (the
// input's name; the processes of one input, one per script, are added
// together).
var (
	descUp = prometheus.NewDesc("collectkit_pythond_up",
		"1 when every process of the input is running, else 0.", []string{"input"}, nil)
	descRestarts = prometheus.NewDesc("collectkit_pythond_restarts_total",
		"Times the input's processes were started again after the first start.", []string{"input"}, nil)
	descReports = prometheus.NewDesc("collectkit_pythond_reports_total",
		"Reports received from the input's collectors.", []string{"input"}, nil)
	descPoints = prometheus.NewDesc("collectkit_pythond_points_written_total",
		"Points of the input written to the sink.", []string{"input"}, nil)
	descRejected = prometheus.NewDesc("collectkit_pythond_points_rejected_total",
		"Points of the input refused by normalization or the sink.", []string{"input"}, nil)
	descRunFailures = prometheus.NewDesc("collectkit_pythond_run_failures_total",
		"Collector runs of the input that raised.", []string{"input"}, nil)
	descRunDuration = prometheus.NewDesc("collectkit_pythond_run_duration_seconds",
		"Duration of the input's collector runs, for frameworks whose runner reports them (datakit).", []string{"input"}, nil)
	descErrors = prometheus.NewDesc("collectkit_pythond_errors_total",
		"Collector errors of the input (as given to OnError), by kind.", []string{"input", "kind"}, nil)
)

// Describe sends nothing: the Supervisor is an unchecked collector
// (see prometheus.Collector), so that two Supervisors with disjoint inputs,
// such as an old and a new one during a reload, can be registered in one
// registry at the same time. Its metrics are listed on Collect.
func (s *Supervisor) Describe(ch chan<- *prometheus.Desc) {}

// inputMetrics is what Collect adds up for one input.
type inputMetrics struct {
	name                                   string
	up                                     bool
	restarts                               int
	reports, points, rejected, runFailures uint64
	durCounts                              []uint64
	durSum                                 float64
	durCount                               uint64
	errCounts                              [numKinds]uint64
}

// Collect sends the metrics of every input. It is safe to call
// concurrently, before, during and after Run.
func (s *Supervisor) Collect(ch chan<- prometheus.Metric) {
	s.unitsMu.Lock()
	units := append([]*unit(nil), s.units...)
	s.unitsMu.Unlock()
	var inputs []*inputMetrics
	byIndex := map[int]*inputMetrics{}
	for _, u := range units {
		m, ok := byIndex[u.input]
		if !ok {
			m = &inputMetrics{up: true, durCounts: make([]uint64, len(runBuckets)+1)}
			byIndex[u.input] = m
			inputs = append(inputs, m)
		}
		m.reports += u.reports.Load()
		m.points += u.points.Load()
		m.rejected += u.rejected.Load()
		u.mu.Lock()
		m.name = u.st.Name
		m.up = m.up && u.st.State == StateRunning
		m.restarts += u.st.Restarts
		m.runFailures += u.runFails
		for i, n := range u.durCounts {
			m.durCounts[i] += n
		}
		m.durSum += u.durSum
		m.durCount += u.durCount
		for k, n := range u.errCounts {
			m.errCounts[k] += n
		}
		u.mu.Unlock()
	}
	for _, m := range inputs {
		up := 0.0
		if m.up {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, up, m.name)
		ch <- prometheus.MustNewConstMetric(descRestarts, prometheus.CounterValue, float64(m.restarts), m.name)
		ch <- prometheus.MustNewConstMetric(descReports, prometheus.CounterValue, float64(m.reports), m.name)
		ch <- prometheus.MustNewConstMetric(descPoints, prometheus.CounterValue, float64(m.points), m.name)
		ch <- prometheus.MustNewConstMetric(descRejected, prometheus.CounterValue, float64(m.rejected), m.name)
		ch <- prometheus.MustNewConstMetric(descRunFailures, prometheus.CounterValue, float64(m.runFailures), m.name)
		buckets := make(map[float64]uint64, len(runBuckets))
		var cum uint64
		for i, bound := range runBuckets {
			cum += m.durCounts[i]
			buckets[bound] = cum
		}
		ch <- prometheus.MustNewConstHistogram(descRunDuration, m.durCount, m.durSum, buckets, m.name)
		for k := KindStart; k < numKinds; k++ {
			if m.errCounts[k] > 0 {
				ch <- prometheus.MustNewConstMetric(descErrors, prometheus.CounterValue, float64(m.errCounts[k]), m.name, k.String())
			}
		}
	}
}
