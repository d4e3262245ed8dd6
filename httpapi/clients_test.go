package httpapi_test

import (
	"context"
	"net"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
)

// runPython runs a script of testdata with Debian's python3, which must
// import module (testkit.Python skips the test without it, or fails it
// under CI).
func runPython(t *testing.T, module, script string, args ...string) {
	t.Helper()
	python := testkit.Python(t, module)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{filepath.Join("testdata", script)}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s failed:\n%s", script, out)
	require.Equal(t, "ok\n", string(out))
}

func loopbackServer(t *testing.T, h *httpapi.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestPrometheusClientPush(t *testing.T) {
	var s sink
	var mu sync.Mutex
	var deleted []httpapi.RequestInfo
	h := newHandler(t, &s, httpapi.Options{
		Token:                  "tok-123",
		PushgatewayTokenHeader: "X-BK-TOKEN",
		Hooks: httpapi.Hooks{PushgatewayDelete: func(_ context.Context, ri httpapi.RequestInfo) error {
			mu.Lock()
			deleted = append(deleted, ri)
			mu.Unlock()
			return nil
		}},
	})
	srv := loopbackServer(t, h)
	addr := strings.TrimPrefix(srv.URL, "http://")
	runPython(t, "prometheus_client", "push_gateway.py", addr, "tok-123")

	batches := s.Batches()
	require.Len(t, batches, 2)
	infos := s.Infos()

	// PUT from push_to_gateway.
	assert.Equal(t, httpapi.RoutePushgateway, infos[0].Route)
	assert.Equal(t, "PUT", infos[0].Method)
	assert.Equal(t, "demo job", infos[0].Job)
	gk := tags("job", "demo job", "instance", "my.host.ip", "path", "/var/lib")
	assert.Equal(t, gk, infos[0].GroupingKey)
	assert.Equal(t, point.Metric, batches[0].Category)
	assert.Equal(t, "pushgateway", batches[0].Input)
	assert.Equal(t, "demo job", batches[0].Source)

	got := batches[0].Points
	for i := range got {
		if f := got[i].Fields; len(f) == 1 && f[0].Key == "created" {
			// _created samples carry the registration time.
			assert.InDelta(t, float64(time.Now().Unix()), f[0].Value.Float(), 120)
			got[i].Fields = []point.Field{fld("created", point.FloatValue(0))}
		}
	}
	with := func(extra ...string) []point.Tag { return append(append([]point.Tag(nil), gk...), tags(extra...)...) }
	f := func(k string, v float64) point.Field { return fld(k, point.FloatValue(v)) }
	want := []point.Point{
		pt("api_called", append(tags("inner_ip", "10.0.0.1"), gk...), []point.Field{f("created", 0)}, fixedNow),
		pt("api_called", append(tags("inner_ip", "10.0.0.1"), gk...), []point.Field{f("total", 2)}, fixedNow),
		pt("cpu_usage", gk, []point.Field{f("value", 0.25)}, fixedNow),
		pt("task_time_histogram", with("le", "1"), []point.Field{f("bucket", 0)}, fixedNow),
		pt("task_time_histogram", with("le", "2"), []point.Field{f("bucket", 1)}, fixedNow),
		pt("task_time_histogram", with("le", "+Inf"), []point.Field{f("bucket", 1)}, fixedNow),
		pt("task_time_histogram", gk, []point.Field{f("sum", 1.5), f("count", 1)}, fixedNow),
		pt("task_time_histogram", gk, []point.Field{f("created", 0)}, fixedNow),
		pt("task_time_summary", gk, []point.Field{f("sum", 7), f("count", 1)}, fixedNow),
		pt("task_time_summary", gk, []point.Field{f("created", 0)}, fixedNow),
	}
	assertPoints(t, want, got)

	// POST from pushadd_to_gateway: the grouping key overrides the body's
	// instance label, and an empty value arrives as "empty@base64/=".
	assert.Equal(t, "POST", infos[1].Method)
	assertPoints(t, []point.Point{
		pt("queue_len", tags("job", "batch", "empty", "", "instance", "gk"), []point.Field{f("value", 3)}, fixedNow),
	}, batches[1].Points)

	// DELETE from delete_from_gateway.
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, deleted, 1)
	assert.Equal(t, "DELETE", deleted[0].Method)
	assert.Equal(t, tags("job", "batch", "instance", "gk"), deleted[0].GroupingKey)
}

func TestInfluxDBClientWrite(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{Token: "pw"})
	srv := loopbackServer(t, h)
	host, port, err := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	runPython(t, "influxdb", "influx_write.py", host, port, "pw")

	batches := s.Batches()
	require.Len(t, batches, 2)
	for _, ri := range s.Infos() {
		assert.Equal(t, httpapi.RouteInfluxV1, ri.Route)
		assert.Equal(t, "telemetry", ri.Database)
		assert.Equal(t, "autogen", ri.RetentionPolicy)
	}
	assert.Equal(t, point.Metric, batches[0].Category)
	assert.Equal(t, "influxdb_v1", batches[0].Input)
	t0 := time.Date(2009, 11, 10, 23, 0, 0, 0, time.UTC)
	cpu := pt("cpu_load_short", tags("host", "server01", "region", "us-west"),
		[]point.Field{fld("count", point.IntValue(3)), fld("value", point.FloatValue(0.64))}, t0)
	assertPoints(t, []point.Point{
		cpu,
		pt("disk", tags("host", "server01"), []point.Field{fld("free", point.IntValue(12345)), fld("ok", point.BoolValue(true))}, time.Unix(0, 1257894000123456789)),
		// String fields are kept on the InfluxDB routes, as InfluxDB does.
		pt("event", tags("host", "server01"), []point.Field{fld("code", point.IntValue(7)), fld("msg", point.StringValue(`disk "sda" full`))}, t0.Add(time.Second)),
	}, batches[0].Points)
	assertPoints(t, []point.Point{cpu}, batches[1].Points)
}

func TestRequestsDataKitJSON(t *testing.T) {
	var s sink
	h := newHandler(t, &s, httpapi.Options{})
	srv := loopbackServer(t, h)
	runPython(t, "requests", "datakit_requests.py", srv.URL)

	batches := s.Batches()
	require.Len(t, batches, 3)
	assert.Equal(t, "demo", batches[0].Input)
	assert.Equal(t, point.Metric, batches[0].Category)
	assertPoints(t, []point.Point{
		pt("py_metric", tags("host", "h1"), []point.Field{fld("load", point.FloatValue(1.5)), fld("count", point.FloatValue(2)), fld("ok", point.BoolValue(true))}, fixedNow),
		pt("py_metric", tags("host", "h2"), []point.Field{fld("load", point.FloatValue(0.5))}, ns(1717243200)),
	}, batches[0].Points)
	// NaN, Infinity and -Infinity decode and are dropped by normalization.
	assertPoints(t, []point.Point{
		pt("py_nan", tags("host", "h3"), []point.Field{fld("v", point.FloatValue(1))}, fixedNow),
	}, batches[1].Points)
	assert.Equal(t, point.Logging, batches[2].Category)
	assertPoints(t, []point.Point{
		pt("app", tags("f_ile", "a.log"), []point.Field{fld("message", point.StringValue("hello \u00e9\U0001F600")), fld("status", point.StringValue("error"))}, fixedNow),
	}, batches[2].Points)

	require.Equal(t, []string{"demo"}, h.LastErrorInputs())
	lastErrs := h.LastErrors("demo")
	require.Len(t, lastErrs, 1)
	assert.Equal(t, httpapi.LastError{Input: "demo", Source: "py", Content: "boom", Time: fixedNow}, lastErrs[0])
}
