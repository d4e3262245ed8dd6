package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// scrapeMetrics serves reg's exposition over HTTP and parses it back.
func scrapeMetrics(t *testing.T, reg *prometheus.Registry) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	return mfs
}

// sample returns the value of the series of family name with exactly the
// labels given (as name, value pairs), or -1 when there is none. For a
// histogram it is the sample count.
func sample(mfs map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	mf := mfs[name]
	if mf == nil {
		return -1
	}
next:
	for _, m := range mf.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		for _, lp := range m.GetLabel() {
			found := false
			for i := 0; i+1 < len(labels); i += 2 {
				if labels[i] == lp.GetName() && labels[i+1] == lp.GetValue() {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
	}
	return -1
}

func TestMetrics(t *testing.T) {
	block := make(chan struct{})
	entered := make(chan struct{})
	s := &sink{}
	blocking := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		if b.Input == "slow" {
			entered <- struct{}{}
			<-block
		}
		return s.Write(ctx, b)
	})
	h := newHandler(t, blocking, httpapi.Options{})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(h))
	srv := loopbackServer(t, h)

	post := func(target, body string, want int) {
		t.Helper()
		resp, err := http.Post(srv.URL+target, "text/plain", strings.NewReader(body))
		require.NoError(t, err)
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, want, resp.StatusCode, "%s: %s", target, msg)
	}
	var writeBytes, lastErrBytes int
	send := func(target, body string, want int) {
		t.Helper()
		post(target, body, want)
		writeBytes += len(body)
	}
	send("/v1/write/metric", "cpu v=1 1\ncpu v=2 2\ncpu s=\"x\" 3\n", 200) // 2 accepted, 1 dropped
	send("/v1/write/metric?strict=1", "cpu s=\"x\" 3\n", 400)              // 1 rejected
	send("/v1/write/logging?loose=1", "bad\napp message=\"x\" 1\n", 200)   // 1 accepted, 1 dropped
	post("/v1/write/nope", "cpu v=1 1\n", 400)                             // refused before the body
	post("/write?db=telemetry", "mem free=1i 1\n", 204)                    // influxdb_v1
	post("/v1/lasterror", `{"input":"redis","err_content":"down"}`, 200)   // not a write route
	lastErrBytes += len(`{"input":"redis","err_content":"down"}`)
	h.ReportLastError(context.Background(), httpapi.LastError{Input: "pythond", Content: "x"}) // counted too

	// One write held in the sink: in flight.
	done := make(chan struct{})
	go func() {
		defer close(done)
		post("/v1/write/metric?input=slow", "cpu v=1 1\n", 200)
	}()
	<-entered
	mfs := scrapeMetrics(t, reg)
	assert.Equal(t, 1.0, sample(mfs, "collectkit_httpapi_inflight_requests"))
	assert.Greater(t, sample(mfs, "collectkit_httpapi_inflight_bytes"), 0.0)
	close(block)
	<-done

	mfs = scrapeMetrics(t, reg)
	req := "collectkit_httpapi_write_requests_total"
	assert.Equal(t, 2.0, sample(mfs, req, "route", "datakit_write", "category", "metric", "code", "200"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "datakit_write", "category", "metric", "code", "400"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "datakit_write", "category", "logging", "code", "200"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "datakit_write", "category", "unknown", "code", "400"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "influxdb_v1", "category", "metric", "code", "204"))
	assert.Len(t, mfs[req].GetMetric(), 5, "lasterror is not a write request")

	pts := "collectkit_httpapi_points_total"
	assert.Equal(t, 3.0, sample(mfs, pts, "route", "datakit_write", "category", "metric", "outcome", "accepted"))
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "datakit_write", "category", "metric", "outcome", "dropped"))
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "datakit_write", "category", "metric", "outcome", "rejected"))
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "datakit_write", "category", "logging", "outcome", "accepted"))
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "datakit_write", "category", "logging", "outcome", "dropped"))
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "influxdb_v1", "category", "metric", "outcome", "accepted"))
	assert.Len(t, mfs[pts].GetMetric(), 6)
	assert.Len(t, s.Points(), 5)

	rcv := "collectkit_httpapi_received_bytes_total"
	assert.Equal(t, float64(writeBytes+len("cpu v=1 1\n")), sample(mfs, rcv, "route", "datakit_write"))
	assert.Equal(t, float64(len("mem free=1i 1\n")), sample(mfs, rcv, "route", "influxdb_v1"))
	assert.Equal(t, float64(lastErrBytes), sample(mfs, rcv, "route", "unknown"))

	assert.Equal(t, 0.0, sample(mfs, "collectkit_httpapi_inflight_requests"))
	assert.Equal(t, 0.0, sample(mfs, "collectkit_httpapi_inflight_bytes"))
	assert.Equal(t, float64(httpapi.DefaultMaxInFlightBytes), sample(mfs, "collectkit_httpapi_inflight_bytes_limit"))
	assert.Equal(t, 2.0, sample(mfs, "collectkit_httpapi_lasterror_reports_total"))

	dur := "collectkit_httpapi_request_duration_seconds"
	assert.Equal(t, dto.MetricType_HISTOGRAM, mfs[dur].GetType())
	assert.Equal(t, 5.0, sample(mfs, dur, "route", "datakit_write"))
	assert.Equal(t, 1.0, sample(mfs, dur, "route", "influxdb_v1"))
	dec := "collectkit_httpapi_decode_duration_seconds"
	assert.Equal(t, 4.0, sample(mfs, dec, "route", "datakit_write"), "the invalid category was refused before decoding")
	assert.Equal(t, 1.0, sample(mfs, dec, "route", "influxdb_v1"))
	assert.Equal(t, 0.0, sample(mfs, dec, "route", "pushgateway"))

	var names []string
	for n := range mfs {
		assert.True(t, strings.HasPrefix(n, "collectkit_httpapi_"), n)
		names = append(names, n)
	}
	sort.Strings(names)
	assert.Equal(t, []string{
		"collectkit_httpapi_decode_duration_seconds", "collectkit_httpapi_inflight_bytes",
		"collectkit_httpapi_inflight_bytes_limit", "collectkit_httpapi_inflight_requests",
		"collectkit_httpapi_lasterror_reports_total", "collectkit_httpapi_points_total",
		"collectkit_httpapi_received_bytes_total", "collectkit_httpapi_request_duration_seconds",
		"collectkit_httpapi_write_requests_total",
	}, names)
}

// TestMetricsOtherRoutes counts Pushgateway, collectd and refused requests.
func TestMetricsOtherRoutes(t *testing.T) {
	h := newHandler(t, &sink{}, httpapi.Options{Token: "tok", Limits: httpapi.Limits{MaxInFlightBytes: -1}})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(h))
	for _, r := range []*http.Request{
		request(http.MethodPut, "/metrics/job/j", []byte("# TYPE g gauge\ng 1\n"), "X-Token", "tok"),
		request(http.MethodDelete, "/metrics/job/j", nil, "X-Token", "tok"),
		request(http.MethodPost, "/collectd?token=tok", []byte(`[{"values":[1],"dstypes":["gauge"],"dsnames":["value"],"time":1717243200,"interval":10,"host":"h","plugin":"load","plugin_instance":"","type":"load","type_instance":""}]`)),
		request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 1\n")), // no token
		request(http.MethodGet, "/v1/write/metric", nil),                    // wrong method
	} {
		serve(h, r)
	}
	mfs := scrapeMetrics(t, reg)
	req := "collectkit_httpapi_write_requests_total"
	assert.Equal(t, 1.0, sample(mfs, req, "route", "pushgateway", "category", "metric", "code", "200"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "pushgateway", "category", "metric", "code", "202"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "collectd", "category", "", "code", "200"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "datakit_write", "category", "metric", "code", "403"))
	assert.Equal(t, 1.0, sample(mfs, req, "route", "datakit_write", "category", "metric", "code", "405"))
	pts := "collectkit_httpapi_points_total"
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "pushgateway", "category", "metric", "outcome", "accepted"))
	assert.Equal(t, 1.0, sample(mfs, pts, "route", "collectd", "category", "metric", "outcome", "accepted"))
	assert.Equal(t, -1.0, sample(mfs, "collectkit_httpapi_inflight_bytes_limit"), "no budget, no limit series")
}
