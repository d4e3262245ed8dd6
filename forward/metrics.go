package forward

import (
	"fmt"
	"io"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
)

// metrics are a forwarder's Prometheus descriptions and histograms; the
// counters and gauges are read from counters and the buffer at Collect.
type metrics struct {
	counters []counterDesc
	gauges   struct {
		bufferedPoints, bufferedBytes, undeliveredBytes, capacity, oldest,
		lastDelivery, stuck, full *prometheus.Desc
	}
	latency  prometheus.Histogram // Write acceptance to 2xx, per batch
	requests prometheus.Histogram // one HTTP request, whatever its outcome
}

type counterDesc struct {
	desc  *prometheus.Desc
	value func(*Stats) int64
}

// latencyBuckets span a healthy delivery (FlushInterval, 1s by default)
// to an outage of hours; requestBuckets a loopback request to a timeout.
var (
	latencyBuckets = []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600}
	requestBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}
)

func newMetrics(name string) metrics {
	labels := prometheus.Labels{"forwarder": name}
	desc := func(n, help string) *prometheus.Desc {
		return prometheus.NewDesc("collectkit_forward_"+n, help, nil, labels)
	}
	var m metrics
	for _, c := range []struct {
		name, help string
		value      func(*Stats) int64
	}{
		{"points_accepted_total", "Points accepted into the buffer.", func(s *Stats) int64 { return s.PointsAccepted }},
		{"points_refused_total", "Points refused because the buffer was full.", func(s *Stats) int64 { return s.PointsRefused }},
		{"points_sent_total", "Points delivered to the backend.", func(s *Stats) int64 { return s.PointsSent }},
		{"points_retried_total", "Points in requests that were retried, once per retry.", func(s *Stats) int64 { return s.PointsRetried }},
		{"points_failed_total", "Points the backend refused permanently.", func(s *Stats) int64 { return s.PointsFailed }},
		{"points_dropped_total", "Points dropped from the buffer (drop-oldest policy or damaged data).", func(s *Stats) int64 { return s.PointsDropped }},
		{"bytes_accepted_total", "Line-protocol bytes accepted into the buffer.", func(s *Stats) int64 { return s.BytesAccepted }},
		{"bytes_sent_total", "Request body bytes sent, retries included.", func(s *Stats) int64 { return s.BytesSent }},
		{"requests_total", "HTTP requests sent.", func(s *Stats) int64 { return s.Requests }},
		{"request_errors_total", "HTTP requests that failed.", func(s *Stats) int64 { return s.RequestErrors }},
		{"retries_total", "Retries scheduled.", func(s *Stats) int64 { return s.Retries }},
		{"buffer_read_errors_total", "Failed reads of the on-disk buffer; each is retried.", func(s *Stats) int64 { return s.ReadErrors }},
		{"buffer_sync_errors_total", "Failed fsyncs of the on-disk buffer.", func(s *Stats) int64 { return s.SyncErrors }},
	} {
		m.counters = append(m.counters, counterDesc{desc(c.name, c.help), c.value})
	}
	g := &m.gauges
	g.bufferedPoints = desc("buffered_points", "Points in the buffer not yet delivered.")
	g.bufferedBytes = desc("buffered_bytes", "Bytes of the on-disk buffer, delivered data not yet freed included.")
	g.undeliveredBytes = desc("buffer_undelivered_bytes", "Bytes of undelivered data in the buffer.")
	g.capacity = desc("buffer_capacity_bytes", "The most bytes the buffer may hold.")
	g.oldest = desc("oldest_unsent_seconds", "Age of the oldest undelivered point; 0 when the buffer is empty.")
	g.lastDelivery = desc("last_delivery_timestamp_seconds", "Unix time of the last batch the backend accepted; 0 before the first.")
	g.stuck = desc("stuck", "1 while data waits and nothing has been delivered for a while (see Status.Stuck), else 0.")
	g.full = desc("buffer_full", "1 while the buffer has no room for a Write, else 0.")
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "collectkit_forward_delivery_latency_seconds",
		Help:        "Time from Write accepting a batch's oldest point to the backend's 2xx answer, per request.",
		Buckets:     latencyBuckets,
		ConstLabels: labels,
	})
	m.requests = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:        "collectkit_forward_request_duration_seconds",
		Help:        "Duration of one HTTP request to the backend, whatever its outcome.",
		Buckets:     requestBuckets,
		ConstLabels: labels,
	})
	return m
}

// Describe implements prometheus.Collector.
func (f *Forwarder) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range f.met.counters {
		ch <- c.desc
	}
	g := &f.met.gauges
	for _, d := range []*prometheus.Desc{g.bufferedPoints, g.bufferedBytes, g.undeliveredBytes, g.capacity, g.oldest, g.lastDelivery, g.stuck, g.full} {
		ch <- d
	}
	f.met.latency.Describe(ch)
	f.met.requests.Describe(ch)
}

// Collect implements prometheus.Collector: the counters of Stats, the
// buffer's gauges, whether delivery is stuck or the buffer full, and the
// delivery latency and request duration histograms, every metric with the
// const label forwarder (Options.Name). It is safe to call concurrently
// with everything else, also after Run has returned.
func (f *Forwarder) Collect(ch chan<- prometheus.Metric) {
	s := f.Stats()
	st := f.Status()
	for _, c := range f.met.counters {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.CounterValue, float64(c.value(&s)))
	}
	g := &f.met.gauges
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	gauge(g.bufferedPoints, float64(s.BufferedPoints))
	gauge(g.bufferedBytes, float64(s.BufferedBytes))
	gauge(g.undeliveredBytes, float64(st.BufferedBytes))
	gauge(g.capacity, float64(st.CapacityBytes))
	gauge(g.oldest, st.OldestUnsent.Seconds())
	last := 0.0
	if !st.LastDelivery.IsZero() {
		last = float64(st.LastDelivery.UnixNano()) / 1e9
	}
	gauge(g.lastDelivery, last)
	gauge(g.stuck, b2f(st.Stuck))
	gauge(g.full, b2f(st.Full))
	f.met.latency.Collect(ch)
	f.met.requests.Collect(ch)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// WritePrometheus writes the forwarder's metrics (those Collect gives) in
// the Prometheus text exposition format (version 0.0.4), for a host's
// GET /metrics. Its output is one forwarder's exposition: the outputs of
// two forwarders cannot be concatenated (each names its metric families
// once). A host with several forwarders, or other metrics, registers the
// forwarders (each a prometheus.Collector) in one prometheus.Registry
// instead.
func (f *Forwarder) WritePrometheus(w io.Writer) error {
	mfs, err := f.reg.Gather()
	if err != nil {
		return fmt.Errorf("forward: gathering metrics: %w", err)
	}
	enc := expfmt.NewEncoder(w, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return fmt.Errorf("forward: writing metrics: %w", err)
		}
	}
	return nil
}
