package httpapi_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

// chunked hides the length of a body, as a chunked upload does.
type chunked struct{ r io.Reader }

func (c chunked) Read(p []byte) (int, error) { return c.r.Read(p) }

func TestBadRequests(t *testing.T) {
	const lpLine3Col14 = "cpu,host=a v=1 1\nmem,host=b v=2 2\nnet,host=c v=x 3\n"
	bomb := gz(bytes.Repeat([]byte("x"), 4<<20))
	bombZstd := zs(bytes.Repeat([]byte("x"), 4<<20))
	small := httpapi.Options{Limits: httpapi.Limits{MaxBodyBytes: 1 << 10, MaxDecodedBytes: 1 << 20}}
	withToken := httpapi.Options{Token: "s3cret"}
	rejectNoName := httpapi.Options{Constraint: constraint.Options{
		Actions: map[constraint.Rule]constraint.Action{constraint.RuleObjectName: constraint.Reject}}}
	metricLP := []byte("cpu,host=a v=1 1717243200\n")
	jsonHdr := []string{"Content-Type", "application/json"}
	textHdr := []string{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}
	protoHdr := []string{"Content-Type", "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"}

	tests := []struct {
		name    string
		opts    httpapi.Options
		sinkErr error
		req     *http.Request
		status  int
		code    string // DataKit error code, checked when not empty
		body    string // substring of the body, checked when not empty
		absent  string // must not be in the body, checked when not empty
		calls   int    // Sink calls (only the busy and failing sinks are called)
	}{
		{name: "GET on write", req: request(http.MethodGet, "/v1/write/metric", nil), status: 405, code: httpapi.CodeMethodNotAllowed},
		{name: "PUT on write", req: request(http.MethodPut, "/v1/write/metric", metricLP), status: 405, code: httpapi.CodeMethodNotAllowed},
		{name: "deprecated metrics category", req: request(http.MethodPost, "/v1/write/metrics", metricLP), status: 400, code: httpapi.CodeInvalidCategory, body: `metrics`},
		{name: "unknown category", req: request(http.MethodPost, "/v1/write/bogus", metricLP), status: 400, code: httpapi.CodeInvalidCategory},
		{name: "category unknown spelled out", req: request(http.MethodPost, "/v1/write/unknown", metricLP), status: 400, code: httpapi.CodeInvalidCategory},
		{name: "no category", req: request(http.MethodPost, "/v1/write/", metricLP), status: 404, code: httpapi.CodeNotFound},
		{name: "empty body", req: request(http.MethodPost, "/v1/write/metric", nil), status: 400, code: httpapi.CodeEmptyBody},
		{name: "empty after gunzip", req: request(http.MethodPost, "/v1/write/metric", gz(nil), "Content-Encoding", "gzip"), status: 400, code: httpapi.CodeEmptyBody},
		{name: "bad precision", req: request(http.MethodPost, "/v1/write/metric?precision=xs", metricLP), status: 400, code: httpapi.CodeInvalidPrecision, body: `xs`},
		{name: "bad precision word", req: request(http.MethodPost, "/v1/write/metric?precision=nano", metricLP), status: 400, code: httpapi.CodeInvalidPrecision},
		{name: "bad line protocol at line 3 column 14", req: request(http.MethodPost, "/v1/write/metric", []byte(lpLine3Col14)), status: 400, code: httpapi.CodeInvalidLinePoint, body: "line 3:14"},
		{name: "every bad line listed", req: request(http.MethodPost, "/v1/write/metric", []byte("a,t=1 f=1 1\nb,t=2 f==2 2\nc,t=3 f=3 3 3\n")), status: 400, code: httpapi.CodeInvalidLinePoint, body: "line 3:13"},
		{name: "measurement only", req: request(http.MethodPost, "/v1/write/metric", []byte("cpu\n")), status: 400, code: httpapi.CodeInvalidLinePoint, body: "line 1:4"},
		{name: "bad timestamp", req: request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 abc\n")), status: 400, code: httpapi.CodeInvalidLinePoint},
		{name: "JSON with non-string tag", req: request(http.MethodPost, "/v1/write/metric", []byte(`[{"measurement":"m","tags":{"t":1},"fields":{"a":1}}]`), jsonHdr...), status: 400, code: httpapi.CodeInvalidJSONPoint, body: `element 0, key \"t\"`},
		{name: "JSON object instead of array", req: request(http.MethodPost, "/v1/write/metric", []byte(`{"measurement":"m","fields":{"a":1}}`), jsonHdr...), status: 400, code: httpapi.CodeInvalidJSONPoint},
		{name: "JSON missing leading bracket", req: request(http.MethodPost, "/v1/write/metric", []byte(`{"measurement":"m","fields":{"a":1}}]`), jsonHdr...), status: 400, code: httpapi.CodeInvalidJSONPoint},
		{name: "JSON with only null fields", req: request(http.MethodPost, "/v1/write/metric", []byte(`[{"measurement":"m","fields":{"a":null}}]`), jsonHdr...), status: 400, code: httpapi.CodeInvalidJSONPoint},
		{name: "JSON body sent as application/xml", req: request(http.MethodPost, "/v1/write/metric", []byte(`[{"measurement":"m","fields":{"a":1}}]`), "Content-Type", "application/xml"), status: 400, code: httpapi.CodeInvalidLinePoint},
		{name: "JSON empty array", req: request(http.MethodPost, "/v1/write/metric", []byte(`[]`), jsonHdr...), status: 400, code: httpapi.CodeNoPoints},
		{name: "comments only", req: request(http.MethodPost, "/v1/write/metric", []byte("# nothing\n\n")), status: 400, code: httpapi.CodeNoPoints},
		{name: "metric with only string fields", req: request(http.MethodPost, "/v1/write/metric", []byte("cpu s=\"x\" 1717243200\n")), status: 400, code: httpapi.CodeNoPoints},
		{name: "truncated gzip", req: request(http.MethodPost, "/v1/write/metric", gz(metricLP)[:20], "Content-Encoding", "gzip"), status: 400, code: httpapi.CodeDecodeBodyFailed},
		{name: "gzip header on plain body", req: request(http.MethodPost, "/v1/write/metric", metricLP, "Content-Encoding", "gzip"), status: 400, code: httpapi.CodeDecodeBodyFailed},
		{name: "brotli unsupported", req: request(http.MethodPost, "/v1/write/metric", metricLP, "Content-Encoding", "br"), status: 400, code: httpapi.CodeDecodeBodyFailed, body: "br"},
		{name: "encoding=zip", req: request(http.MethodPost, "/v1/write/metric?encoding=zip", metricLP), status: 400, code: httpapi.CodeDecodeBodyFailed},
		{name: "corrupt zstd", req: request(http.MethodPost, "/v1/write/metric", append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte{0xff}, 32)...), "Content-Encoding", "zstd"), status: 400, code: httpapi.CodeDecodeBodyFailed},
		{name: "gzip bomb", opts: small, req: request(http.MethodPost, "/v1/write/metric", bomb, "Content-Encoding", "gzip"), status: 413, code: httpapi.CodeBodyTooLarge},
		{name: "zstd bomb", opts: small, req: request(http.MethodPost, "/v1/write/metric", bombZstd, "Content-Encoding", "zstd"), status: 413, code: httpapi.CodeBodyTooLarge},
		{name: "body over the limit", opts: small, req: request(http.MethodPost, "/v1/write/metric", bytes.Repeat(metricLP, 100)), status: 413, code: httpapi.CodeBodyTooLarge},
		{name: "chunked body over the limit", opts: small, req: func() *http.Request {
			r := request(http.MethodPost, "/v1/write/metric", nil)
			r.Body = io.NopCloser(chunked{bytes.NewReader(bytes.Repeat(metricLP, 100))})
			r.ContentLength = -1
			return r
		}(), status: 413, code: httpapi.CodeBodyTooLarge},
		{name: "wrong token", opts: withToken, req: request(http.MethodPost, "/v1/write/metric?token=nope", metricLP), status: 403, code: httpapi.CodeInvalidToken},
		{name: "missing token", opts: withToken, req: request(http.MethodPost, "/v1/write/metric", metricLP), status: 403, code: httpapi.CodeInvalidToken},
		{name: "wrong token header", opts: withToken, req: request(http.MethodPost, "/v1/write/metric", metricLP, "X-Token", "s3cret-not"), status: 403, code: httpapi.CodeInvalidToken},
		{name: "busy sink", sinkErr: point.Busy(errors.New("queue full"), 3*time.Second), req: request(http.MethodPost, "/v1/write/metric", metricLP), status: 429, code: httpapi.CodeSinkBusy, calls: 1},
		{name: "busy sink as 503", opts: httpapi.Options{BusyStatus: 503}, sinkErr: point.Busy(nil, 0), req: request(http.MethodPost, "/v1/write/metric", metricLP), status: 503, code: httpapi.CodeSinkBusy, calls: 1},
		{name: "failing sink", sinkErr: errors.New("write /var/lib/collectkit/out/metric.lp: disk on fire"), req: request(http.MethodPost, "/v1/write/metric", metricLP), status: 500, code: httpapi.CodeSinkFailed, body: "sink failed", absent: "/var/lib", calls: 1},
		{name: "busy sink shows no path", sinkErr: point.Busy(errors.New("segment /var/lib/collectkit/buffer/000001.seg full"), time.Second), req: request(http.MethodPost, "/v1/write/metric", metricLP), status: 429, code: httpapi.CodeSinkBusy, body: "busy", absent: "/var/lib", calls: 1},
		{name: "strict logging without status", req: request(http.MethodPost, "/v1/write/logging?strict=1", []byte("app message=\"x\" 1717243200\n")), status: 400, code: httpapi.CodePointGotWarning, body: "add_required_kv"},
		{name: "strict=false is still strict", req: request(http.MethodPost, "/v1/write/metric?strict=false", []byte("cpu v=1,s=\"x\" 1717243200\n")), status: 400, code: httpapi.CodePointGotWarning},
		{name: "strict object without name", req: request(http.MethodPost, "/v1/write/object?strict=1", []byte("redis,tag2=b f1=1i 1717243200\n")), status: 400, code: httpapi.CodePointGotWarning, body: "add_required_kv"},
		{name: "object without name, rejected by option", opts: rejectNoName, req: request(http.MethodPost, "/v1/write/object", []byte("redis,tag2=b f1=1i 1717243200\n")), status: 400, code: httpapi.CodePointRejected, body: "object_name"},
		{name: "custom_object without name, rejected by option", opts: rejectNoName, req: request(http.MethodPost, "/v1/write/custom_object", []byte("redis,tag2=b f1=1i 1717243200\n")), status: 400, code: httpapi.CodePointRejected},
		{name: "non-loopback client", req: func() *http.Request {
			r := request(http.MethodPost, "/v1/write/metric", metricLP)
			r.RemoteAddr = "10.1.2.3:5555"
			return r
		}(), status: 403, code: httpapi.CodePublicAccessDisabled},
		{name: "loopback behind a proxy", req: request(http.MethodPost, "/v1/write/metric", metricLP, "X-Forwarded-For", "127.0.0.1"), status: 403, code: httpapi.CodePublicAccessDisabled},
		{name: "loopback with X-Real-IP", req: request(http.MethodPost, "/v1/write/metric", metricLP, "X-Real-IP", "10.0.0.1"), status: 403, code: httpapi.CodePublicAccessDisabled},
		{name: "lasterror by GET", req: request(http.MethodGet, "/v1/lasterror", nil), status: 405, code: httpapi.CodeMethodNotAllowed},
		{name: "lasterror without err_content", req: request(http.MethodPost, "/v1/lasterror", []byte(`{"input":"redis"}`)), status: 400, code: httpapi.CodeInputOrErrContentNil, body: "err_content"},
		{name: "lasterror not JSON", req: request(http.MethodPost, "/v1/lasterror", []byte(`input=redis`)), status: 400, code: httpapi.CodeBadRequest},
		{name: "workspace without host hook", req: request(http.MethodGet, "/v1/workspace", nil), status: 501, code: httpapi.CodeNotImplemented},
		{name: "unknown path", req: request(http.MethodPost, "/v2/write/metric", metricLP), status: 404, code: httpapi.CodeNotFound},
		{name: "pushgateway bad base64 label", req: request(http.MethodPut, "/metrics/job/j/instance@base64/YWJj!!", []byte("g 1\n"), textHdr...), status: 400, body: "base64"},
		{name: "pushgateway bad base64 characters", req: request(http.MethodPut, "/metrics/job/j/instance@base64/a*b", []byte("g 1\n"), textHdr...), status: 400, body: "base64"},
		{name: "pushgateway pushed timestamp", req: request(http.MethodPut, "/metrics/job/j", []byte("# TYPE g gauge\ng 1 1717243200000\n"), textHdr...), status: 400, body: "timestamps"},
		{name: "pushgateway odd path", req: request(http.MethodPut, "/metrics/job/j/instance", []byte("g 1\n"), textHdr...), status: 400, body: "odd number"},
		{name: "pushgateway empty job", req: request(http.MethodPut, "/metrics/job@base64/=", []byte("g 1\n"), textHdr...), status: 400, body: "job"},
		{name: "pushgateway empty job name", req: request(http.MethodPut, "/metrics/job/", []byte("g 1\n"), textHdr...), status: 400, body: "the job name is empty"},
		{name: "pushgateway job without name", req: request(http.MethodPost, "/metrics/job", []byte("g 1\n"), textHdr...), status: 400, body: "the job name is empty"},
		{name: "pushgateway delimited length beyond the body", req: request(http.MethodPut, "/metrics/job/x", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x0a, 0x01, 0x61}, protoHdr...), status: 400, body: "declares 140737488355328 bytes but only 3 remain"},
		{name: "pushgateway delimited varint overflow", req: request(http.MethodPut, "/metrics/job/x", bytes.Repeat([]byte{0xff}, 11), protoHdr...), status: 400, body: "bad varint length prefix at byte 0"},
		{name: "pushgateway delimited truncated varint", req: request(http.MethodPut, "/metrics/job/x", []byte{0x02, 0x0a, 0x00, 0x80}, protoHdr...), status: 400, body: "bad varint length prefix at byte 3"},
		{name: "pushgateway labels without a metric name", req: request(http.MethodPut, "/metrics/job/x", []byte("# c\n{}0\n"), textHdr...), status: 400, body: "text-format"},
		{name: "pushgateway job not UTF-8", req: request(http.MethodPut, "/metrics/job@base64/0000", []byte("g 1\n"), textHdr...), status: 400, body: "not valid UTF-8"},
		{name: "pushgateway label value not UTF-8", req: request(http.MethodPut, "/metrics/job/j/a/%ff", []byte("g 1\n"), textHdr...), status: 400, body: "not valid UTF-8"},
		{name: "pushgateway bad body", req: request(http.MethodPost, "/metrics/job/j", []byte("# TYPE g gauge\ng{a=\"x} 1\n"), textHdr...), status: 400, body: "text-format"},
		{name: "pushgateway without job", req: request(http.MethodPut, "/metrics/instance/x", []byte("g 1\n"), textHdr...), status: 404},
		{name: "pushgateway wrong token", opts: httpapi.Options{Token: "t"}, req: request(http.MethodPut, "/metrics/job/j", []byte("g 1\n"), "X-BK-TOKEN", "u"), status: 401},
		{name: "pushgateway GET", req: request(http.MethodGet, "/metrics/job/j", nil), status: 405},
		{name: "influx v1 without db", req: request(http.MethodPost, "/write", metricLP), status: 400, body: `{"error":"database is required"}`},
		{name: "influx v1 bad line", req: request(http.MethodPost, "/write?db=x", []byte("cpu v=\n")), status: 400, body: `"error":"`},
		{name: "influx v1 wrong password", opts: withToken, req: request(http.MethodPost, "/write?db=x&u=me&p=nope", metricLP), status: 401},
		{name: "influx v2 bad precision", req: request(http.MethodPost, "/api/v2/write?bucket=b&precision=xx", metricLP), status: 400, body: `"code":"invalid"`},
		{name: "influx v2 without bucket", req: request(http.MethodPost, "/api/v2/write?org=o", metricLP), status: 400, body: `"code":"invalid"`},
		{name: "influx v2 wrong token", opts: withToken, req: request(http.MethodPost, "/api/v2/write?bucket=b", metricLP, "Authorization", "Token nope"), status: 401, body: `"code":"unauthorized"`},
		{name: "influx v2 empty body", req: request(http.MethodPost, "/api/v2/write?bucket=b", nil), status: 400, body: "writing requires points"},
		{name: "influx v2 busy sink", sinkErr: point.Busy(nil, 0), req: request(http.MethodPost, "/api/v2/write?bucket=b", metricLP), status: 429, body: `"code":"too many requests"`, calls: 1},
	}
	require.GreaterOrEqual(t, len(tests), 40)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &sink{Err: tt.sinkErr}
			h := newHandler(t, s, tt.opts)
			w := serve(h, tt.req)
			assert.Equal(t, tt.status, w.Code, w.Body.String())
			assert.Equal(t, "1.2.3-test", w.Header().Get("X-DataKit"))
			if tt.code != "" {
				e := decodeError(t, w)
				assert.Equal(t, tt.code, e.Code)
				assert.NotEmpty(t, e.Message)
			}
			if tt.body != "" {
				assert.Contains(t, w.Body.String(), tt.body)
			}
			if tt.absent != "" {
				assert.NotContains(t, w.Body.String(), tt.absent)
			}
			if strings.HasPrefix(tt.req.URL.Path, "/v1/") && tt.code != "" {
				assert.True(t, json.Valid(w.Body.Bytes()))
			}
			assert.Equal(t, tt.calls, s.Calls(), "Sink calls")
			assert.Empty(t, s.Points(), "points accepted by the Sink")
		})
	}
}

func TestBusySinkRetryAfter(t *testing.T) {
	s := &sink{Err: point.Busy(errors.New("full"), 2500*time.Millisecond)}
	h := newHandler(t, s, httpapi.Options{})
	w := serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 1\n")))
	assert.Equal(t, http.StatusTooManyRequests, w.Code)
	assert.Equal(t, "3", w.Header().Get("Retry-After"))

	s.Err = point.Busy(nil, 0)
	w = serve(h, request(http.MethodPost, "/v1/write/metric", []byte("cpu v=1 1\n")))
	assert.Equal(t, "1", w.Header().Get("Retry-After"), "a busy sink without a hint still gets a Retry-After")
}
