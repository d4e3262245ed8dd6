package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/point"
)

// numRoutes is how many Route values there are.
const numRoutes = len(routeNames)

// metricCategories bounds the categories counted; package point declares
// fewer (a larger one would not be counted).
const metricCategories = 16

// Point outcomes, the values of the outcome label.
const (
	outcomeAccepted = iota // written to the Sink
	outcomeRejected        // refused: by a rule set to Reject, or with the whole request (strict, Sink error)
	outcomeDropped         // left out of a request that succeeded: no fields left, a bad line in loose mode, the Pipeline
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"accepted", "rejected", "dropped"}

// metrics are the Handler's own counters, exposed through its
// prometheus.Collector methods. Counting is atomic adds, and one map
// update under a mutex per write request.
type metrics struct {
	requests, points, received, inflight, inflightBytes, budget, lastErrors *prometheus.Desc

	reqDur, decDur     *prometheus.HistogramVec
	reqDurBy, decDurBy [numRoutes]prometheus.Observer

	mu   sync.Mutex
	reqs map[requestKey]uint64

	pts         [numRoutes][metricCategories][numOutcomes]atomic.Uint64
	bytes       [numRoutes]atomic.Uint64
	inflightN   atomic.Int64
	lastErrsN   atomic.Uint64
	budgetLimit int64 // 0: no budget
}

// requestKey is one series of collectkit_httpapi_write_requests_total.
type requestKey struct {
	route    Route
	category string
	code     int
}

func newMetrics(budgetLimit int64) *metrics {
	m := &metrics{
		requests: prometheus.NewDesc("collectkit_httpapi_write_requests_total",
			"Write requests answered, by route, category (empty for collectd, whose bodies mix metric and keyevent points) and HTTP status code.",
			[]string{"route", "category", "code"}, nil),
		points: prometheus.NewDesc("collectkit_httpapi_points_total",
			"Points of write requests by route, category and outcome: accepted (written to the sink), rejected (refused by a rule or with their request), dropped (left out of a request that succeeded).",
			[]string{"route", "category", "outcome"}, nil),
		received: prometheus.NewDesc("collectkit_httpapi_received_bytes_total",
			"Request body bytes received (as sent, before decompression), by route; unknown is the other DataKit endpoints.",
			[]string{"route"}, nil),
		inflight: prometheus.NewDesc("collectkit_httpapi_inflight_requests",
			"Write requests being processed.", nil, nil),
		inflightBytes: prometheus.NewDesc("collectkit_httpapi_inflight_bytes",
			"Bytes of the in-flight memory budget taken by requests being processed.", nil, nil),
		budget: prometheus.NewDesc("collectkit_httpapi_inflight_bytes_limit",
			"The in-flight memory budget (Limits.MaxInFlightBytes); absent when there is none.", nil, nil),
		lastErrors: prometheus.NewDesc("collectkit_httpapi_lasterror_reports_total",
			"Reports received through POST /v1/lasterror or ReportLastError.", nil, nil),
		reqDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "collectkit_httpapi_request_duration_seconds",
			Help:    "Time to answer a write request, from routing to the answer, by route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		decDur: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "collectkit_httpapi_decode_duration_seconds",
			Help:    "Time to decode a write request's body (after it was read and decompressed), by route.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 9),
		}, []string{"route"}),
		reqs:        make(map[requestKey]uint64),
		budgetLimit: budgetLimit,
	}
	for r := RouteUnknown + 1; int(r) < numRoutes; r++ { // the write routes
		name := r.String()
		m.reqDurBy[r] = m.reqDur.WithLabelValues(name)
		m.decDurBy[r] = m.decDur.WithLabelValues(name)
	}
	return m
}

// request counts one answered write request.
func (m *metrics) request(route Route, category string, code int, d time.Duration) {
	m.mu.Lock()
	m.reqs[requestKey{route, category, code}]++
	m.mu.Unlock()
	if route > RouteUnknown && int(route) < numRoutes {
		m.reqDurBy[route].Observe(d.Seconds())
	}
}

func (m *metrics) decoded(route Route, start time.Time) {
	if route > RouteUnknown && int(route) < numRoutes {
		m.decDurBy[route].Observe(time.Since(start).Seconds())
	}
}

func (m *metrics) addPoints(route Route, c point.Category, outcome int, n int) {
	if n > 0 && int(route) < numRoutes && int(c) < metricCategories {
		m.pts[route][c][outcome].Add(uint64(n))
	}
}

// batch counts the points of one ingest call: in points came in, kept
// were written (err nil), rejected were refused by a rule while the
// others were written.
func (m *metrics) batch(spec *batchSpec, in, kept, rejected int, err error) {
	if spec.dry {
		return
	}
	route := spec.info.Route
	switch {
	case err == nil:
		m.addPoints(route, spec.category, outcomeAccepted, kept)
		m.addPoints(route, spec.category, outcomeRejected, rejected)
		m.addPoints(route, spec.category, outcomeDropped, in-kept-rejected)
	case isNoPoints(err):
		m.addPoints(route, spec.category, outcomeDropped, in)
	default:
		m.addPoints(route, spec.category, outcomeRejected, in)
	}
}

// isNoPoints reports whether err is the answer to a batch that
// normalization left empty.
func isNoPoints(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.Code == CodeNoPoints
}

// requestCategory is the category label of a write request.
func requestCategory(route Route, r *http.Request) string {
	switch route {
	case RouteWrite:
		if c, err := point.ParseCategory(r.PathValue("category")); err == nil && c.IsValid() {
			return c.String()
		}
		return point.CategoryUnknown.String()
	case RouteCollectd:
		return ""
	}
	return point.Metric.String()
}

// Describe implements prometheus.Collector.
func (h *Handler) Describe(ch chan<- *prometheus.Desc) {
	m := h.metrics
	ch <- m.requests
	ch <- m.points
	ch <- m.received
	ch <- m.inflight
	ch <- m.inflightBytes
	ch <- m.budget
	ch <- m.lastErrors
	m.reqDur.Describe(ch)
	m.decDur.Describe(ch)
}

// Collect implements prometheus.Collector: the write requests by route,
// category and status code, their points by outcome, the bytes received,
// the requests and budget bytes in flight, the lasterror reports, and
// histograms of request and decode durations by route. Metric names start
// with collectkit_httpapi_. A Handler has no instance label: register one
// per registry.
func (h *Handler) Collect(ch chan<- prometheus.Metric) {
	m := h.metrics
	m.mu.Lock()
	for k, n := range m.reqs {
		ch <- prometheus.MustNewConstMetric(m.requests, prometheus.CounterValue, float64(n),
			k.route.String(), k.category, strconv.Itoa(k.code))
	}
	m.mu.Unlock()
	for r := range numRoutes {
		for c := range metricCategories {
			for o := range numOutcomes {
				if n := m.pts[r][c][o].Load(); n > 0 {
					ch <- prometheus.MustNewConstMetric(m.points, prometheus.CounterValue, float64(n),
						Route(r).String(), point.Category(c).String(), outcomeNames[o])
				}
			}
		}
		if n := m.bytes[r].Load(); n > 0 {
			ch <- prometheus.MustNewConstMetric(m.received, prometheus.CounterValue, float64(n), Route(r).String())
		}
	}
	ch <- prometheus.MustNewConstMetric(m.inflight, prometheus.GaugeValue, float64(m.inflightN.Load()))
	var used int64
	if h.budget != nil {
		used = h.budget.used.Load()
	}
	ch <- prometheus.MustNewConstMetric(m.inflightBytes, prometheus.GaugeValue, float64(used))
	if m.budgetLimit > 0 {
		ch <- prometheus.MustNewConstMetric(m.budget, prometheus.GaugeValue, float64(m.budgetLimit))
	}
	ch <- prometheus.MustNewConstMetric(m.lastErrors, prometheus.CounterValue, float64(m.lastErrsN.Load()))
	m.reqDur.Collect(ch)
	m.decDur.Collect(ch)
}
