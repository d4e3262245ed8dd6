package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"unicode"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/proto"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

const protoDelimType = "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"

// delimited encodes families as a length-delimited protobuf push body.
func delimited(t testing.TB, fams ...*dto.MetricFamily) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, mf := range fams {
		if _, err := protodelim.MarshalTo(&b, mf); err != nil {
			t.Fatal(err)
		}
	}
	return b.Bytes()
}

// FuzzPushgateway sends a fuzzed grouping-key path and body (text format
// or, when proto is set, length-delimited protobuf) to the Pushgateway
// route. Whatever the input, the handler must answer without panicking or
// allocating what the body only claims, with a 2xx, 3xx or 4xx status,
// and every point it writes must carry the job of the path.
func FuzzPushgateway(f *testing.F) {
	gauge := &dto.MetricFamily{
		Name:   proto.String("g"),
		Type:   dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: proto.Float64(1)}, Label: []*dto.LabelPair{{Name: proto.String("a"), Value: proto.String("b")}}}},
	}
	f.Add("job/x", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x0a, 0x01, 0x61}, true)
	f.Add("job/x/instance/y", delimited(f, gauge), true)
	f.Add("job/x/instance@base64/eQ==", delimited(f, gauge, gauge), true)
	f.Add("job/x", []byte("# TYPE c counter\nc_total{a=\"1\"} 2\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 0.5\nh_count 1\n"), false)
	f.Add("job/x/a/b/c/d", []byte("# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum 1\ns_count 1\n"), false)
	f.Add("job/", []byte("g 1\n"), false)
	f.Add("job@base64/=", []byte("g 1\n"), false)
	f.Add("job/x/job/y", []byte("g NaN\n"), false)
	f.Add("job/x/le/1", []byte("g{job=\"z\"} 1\n"), false)

	// The Sink checks each batch as it comes and keeps nothing, so that
	// a long fuzzing run does not grow.
	var calls atomic.Int64
	var bad atomic.Pointer[string] // what the last request got wrong
	check := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		calls.Add(1)
		info, _ := httpapi.RequestInfoFromContext(ctx)
		if info.Job == "" || len(info.GroupingKey) == 0 || info.GroupingKey[0].Key != "job" {
			msg := fmt.Sprintf("grouping key %v has no job first", info.GroupingKey)
			bad.Store(&msg)
		}
		// A job line protocol cannot carry as it is (a control character,
		// a trailing backslash) or longer than a tag value may be is
		// repaired by normalization, with a warning, like any other tag
		// value; then only its presence is checked.
		repaired := strings.HasSuffix(info.Job, `\`) || strings.ContainsFunc(info.Job, unicode.IsControl) ||
			len(info.Job) > constraint.DefaultMaxTagValueLen
		for i := range b.Points {
			if v, ok := b.Points[i].Tag("job"); !ok || (v != info.Job && !repaired) {
				msg := fmt.Sprintf("point %v lacks job=%q", b.Points[i], info.Job)
				bad.Store(&msg)
			}
		}
		return nil
	})
	h, err := httpapi.New(httpapi.Options{Sink: check, Version: "fuzz"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, path string, body []byte, isProto bool) {
		u, err := url.Parse("/metrics/" + path)
		if err != nil || u.Host != "" || u.Scheme != "" {
			return // not a request target a client could send
		}
		r := httptest.NewRequest(http.MethodPut, "/metrics/job/x", bytes.NewReader(body))
		r.URL = u
		r.RequestURI = u.RequestURI()
		r.RemoteAddr = "127.0.0.1:1"
		if isProto {
			r.Header.Set("Content-Type", protoDelimType)
		}
		before := calls.Load()
		bad.Store(nil)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code >= 500 || w.Code < 200 {
			t.Fatalf("status %d for path %q: %s", w.Code, path, w.Body.String())
		}
		if msg := bad.Load(); msg != nil {
			t.Fatalf("path %q: %s", path, *msg)
		}
		if calls.Load() != before && w.Code != http.StatusOK {
			t.Fatalf("status %d after a Sink call: %s", w.Code, w.Body.String())
		}
	})
}
