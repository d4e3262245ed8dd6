package httpapi_test

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"net/http"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

const lp2 = "cpu,host=a usage=1.5,n=3i 1717243200\nmem,host=a used=10i 1717243200\n"

func wantLP2(extra ...point.Tag) []point.Point {
	t := ns(1717243200)
	return []point.Point{
		pt("cpu", append(tags("host", "a"), extra...), []point.Field{fld("usage", point.FloatValue(1.5)), fld("n", point.IntValue(3))}, t),
		pt("mem", append(tags("host", "a"), extra...), []point.Field{fld("used", point.IntValue(10))}, t),
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func zl(b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func fl(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func zs(b []byte) []byte {
	enc, _ := zstd.NewWriter(nil)
	defer enc.Close()
	return enc.EncodeAll(b, nil)
}

func TestWriteAccepted(t *testing.T) {
	tests := []struct {
		name   string
		target string
		body   []byte
		hdr    []string
		want   []point.Point
	}{
		{name: "line protocol, auto precision", target: "/v1/write/metric", body: []byte(lp2), want: wantLP2()},
		{name: "precision s", target: "/v1/write/metric?precision=s", body: []byte(lp2), want: wantLP2()},
		{name: "gzip header", target: "/v1/write/metric", body: gz([]byte(lp2)), hdr: []string{"Content-Encoding", "gzip"}, want: wantLP2()},
		{name: "encoding param overrides header", target: "/v1/write/metric?encoding=gzip", body: gz([]byte(lp2)), hdr: []string{"Content-Encoding", "zstd"}, want: wantLP2()},
		{name: "zlib as deflate", target: "/v1/write/metric", body: zl([]byte(lp2)), hdr: []string{"Content-Encoding", "deflate"}, want: wantLP2()},
		{name: "raw deflate", target: "/v1/write/metric", body: fl([]byte(lp2)), hdr: []string{"Content-Encoding", "deflate"}, want: wantLP2()},
		{name: "zlib", target: "/v1/write/metric", body: zl([]byte(lp2)), hdr: []string{"Content-Encoding", "zlib"}, want: wantLP2()},
		{name: "zstd", target: "/v1/write/metric", body: zs([]byte(lp2)), hdr: []string{"Content-Encoding", "zstd"}, want: wantLP2()},
		{
			name:   "JSON with precision s, numbers are floats",
			target: "/v1/write/metric?precision=s",
			body:   []byte(`[{"measurement":"abc","tags":{"t1":"b"},"fields":{"f1":123,"f2":3.4},"time":123}]`),
			hdr:    []string{"Content-Type", "application/json; charset=utf-8"},
			want:   []point.Point{pt("abc", tags("t1", "b"), []point.Field{fld("f1", point.FloatValue(123)), fld("f2", point.FloatValue(3.4))}, ns(123))},
		},
		{
			name:   "JSON without time gets now",
			target: "/v1/write/logging",
			body:   []byte(`[{"measurement":"app","tags":{"t":"x"},"fields":{"message":"hi","status":"warn"},"time":null}]`),
			hdr:    []string{"Content-Type", "application/json"},
			want:   []point.Point{pt("app", tags("t", "x"), []point.Field{fld("message", point.StringValue("hi")), fld("status", point.StringValue("warn"))}, fixedNow)},
		},
		{
			name:   "logging gets status info",
			target: "/v1/write/logging?precision=ns",
			body:   []byte("nginx,filename=a.log message=\"x\" 1620723870000000000\n"),
			want:   []point.Point{pt("nginx", tags("filename", "a.log"), []point.Field{fld("message", point.StringValue("x")), fld("status", point.StringValue("info"))}, ns(1620723870))},
		},
		{
			name:   "object with name",
			target: "/v1/write/object?precision=n",
			body:   []byte("redis,name=xxx,tag2=b f1=1i 1620723870000000000\n"),
			want:   []point.Point{pt("redis", tags("name", "xxx", "tag2", "b"), []point.Field{fld("f1", point.IntValue(1))}, ns(1620723870))},
		},
		{
			name:   "metric drops string fields",
			target: "/v1/write/metric",
			body:   []byte("cpu,host=a usage=1.5,s=\"x\" 1717243200\n"),
			want:   []point.Point{pt("cpu", tags("host", "a"), []point.Field{fld("usage", point.FloatValue(1.5))}, ns(1717243200))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s sink
			h := newHandler(t, &s, httpapi.Options{})
			w := serve(h, request(http.MethodPost, tt.target, tt.body, tt.hdr...))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Empty(t, w.Body.String())
			assert.Equal(t, "1.2.3-test", w.Header().Get("X-DataKit"))
			assertPoints(t, tt.want, s.Points())
		})
	}
}
