package httpapi_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/internal/testbody"
	"github.com/collectkit/collectkit/point"
)

// benchWrite posts body to target through ServeHTTP (no network) into a
// discarding Sink, b.N times.
func benchWrite(b *testing.B, target string, body []byte, hdr ...string) {
	h, err := httpapi.New(httpapi.Options{Sink: point.Discard(), Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	rd := bytes.NewReader(body)
	r := httptest.NewRequest(http.MethodPost, target, nil)
	r.RemoteAddr = "127.0.0.1:1"
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		r.Body = io.NopCloser(rd)
		r.ContentLength = int64(len(body))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/testbody.Lines, "ns/line")
}

// BenchmarkWriteLP posts testbody's ~1 MB, 10,000-line body to
// /v1/write/metric: read, decode, normalize, Sink.
func BenchmarkWriteLP(b *testing.B) {
	benchWrite(b, "/v1/write/metric", testbody.LineProtocol())
}

// BenchmarkWriteLPGzip is BenchmarkWriteLP with a gzip'd body; SetBytes
// counts the compressed size.
func BenchmarkWriteLPGzip(b *testing.B) {
	benchWrite(b, "/v1/write/metric", gz(testbody.LineProtocol()), "Content-Encoding", "gzip")
}

// BenchmarkWriteJSON posts the same 10,000 points as DataKit JSON.
func BenchmarkWriteJSON(b *testing.B) {
	benchWrite(b, "/v1/write/metric", testbody.JSON(), "Content-Type", "application/json")
}

// BenchmarkWriteJSONGzip is BenchmarkWriteJSON with a gzip'd body.
func BenchmarkWriteJSONGzip(b *testing.B) {
	benchWrite(b, "/v1/write/metric", gz(testbody.JSON()), "Content-Type", "application/json", "Content-Encoding", "gzip")
}
