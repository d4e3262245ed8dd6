package scrape

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are a Scraper's Prometheus descriptions and its scrape duration
// histograms; the rest is read from the targets' stats at Collect.
type metrics struct {
	up, lastDuration, samples, lastScrape, scrapes, failures, sinkErrors *prometheus.Desc
	duration                                                             *prometheus.HistogramVec
}

// durationBuckets span a loopback exporter to the default timeout and
// past it.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

func newMetrics(name string) metrics {
	labels := prometheus.Labels{"input": name}
	vars := []string{"url", "instance"}
	desc := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc("collectkit_scrape_"+n, help, vars, labels)
	}
	return metrics{
		up:           desc("up", "1 if the last scrape of the target succeeded, else 0 (also before the first)."),
		lastDuration: desc("last_duration_seconds", "Duration of the last scrape of the target."),
		samples:      desc("samples_scraped", "Samples in the last scrape of the target; 0 when it failed."),
		lastScrape:   desc("last_scrape_timestamp_seconds", "Unix time the last scrape of the target started; 0 before the first."),
		scrapes:      desc("scrapes_total", "Scrapes of the target."),
		failures:     desc("failures_total", "Scrapes of the target that failed."),
		sinkErrors:   desc("sink_errors_total", "Scrapes of the target whose points the Sink refused."),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:        "collectkit_scrape_duration_seconds",
			Help:        "Duration of the scrapes of the target (request, body and decoding).",
			Buckets:     durationBuckets,
			ConstLabels: labels,
		}, vars),
	}
}

// Describe implements prometheus.Collector.
func (s *Scraper) Describe(ch chan<- *prometheus.Desc) {
	m := &s.met
	for _, d := range []*prometheus.Desc{m.up, m.lastDuration, m.samples, m.lastScrape, m.scrapes, m.failures, m.sinkErrors} {
		ch <- d
	}
	m.duration.Describe(ch)
}

// Collect implements prometheus.Collector: per target (labels url and
// instance) whether it is up, the last scrape's duration, samples and
// start time, the scrape, failure and sink error counts, and a histogram
// of scrape durations; every metric has the const label input
// (Options.Name), so scrapers of different names register in one
// registry. It is safe to call concurrently with Run.
func (s *Scraper) Collect(ch chan<- prometheus.Metric) {
	m := &s.met
	for _, t := range s.targets {
		st := t.snapshot()
		lv := []string{st.URL, st.Instance}
		metric := func(d *prometheus.Desc, typ prometheus.ValueType, v float64) {
			ch <- prometheus.MustNewConstMetric(d, typ, v, lv...)
		}
		up, last := 0.0, 0.0
		if st.Up {
			up = 1
		}
		if !st.LastScrape.IsZero() {
			last = float64(st.LastScrape.UnixNano()) / 1e9
		}
		metric(m.up, prometheus.GaugeValue, up)
		metric(m.lastDuration, prometheus.GaugeValue, st.LastDuration.Seconds())
		metric(m.samples, prometheus.GaugeValue, float64(st.Samples))
		metric(m.lastScrape, prometheus.GaugeValue, last)
		metric(m.scrapes, prometheus.CounterValue, float64(st.Scrapes))
		metric(m.failures, prometheus.CounterValue, float64(st.Failures))
		metric(m.sinkErrors, prometheus.CounterValue, float64(st.SinkErrors))
	}
	m.duration.Collect(ch)
}
