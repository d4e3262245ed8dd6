package constraint

import (
	"math"
	"testing"

	"github.com/collectkit/collectkit/point"
)

// benchCompliant is a typical metric point: 4 tags, 6 fields, unsorted.
func benchCompliant() point.Point {
	return pt("cpu",
		tags("host", "web-01.example.com", "cpu", "cpu-total", "region", "eu-west-1", "env", "production"),
		fields(
			fl("usage_user", point.FloatValue(12.5)),
			fl("usage_system", point.FloatValue(3.25)),
			fl("usage_idle", point.FloatValue(84.25)),
			fl("load1", point.FloatValue(0.42)),
			fl("processes", point.IntValue(312)),
			fl("online", point.BoolValue(true)),
		))
}

// benchDirty is a logging point that breaks several rules: dots in keys,
// a NaN, a nil field, a duplicate field and no status.
func benchDirty() point.Point {
	return pt("nginx.access",
		tags("host", "web-01.example.com", "http.method", "GET", "service", "shop", "env", "production"),
		fields(
			fl("message", point.StringValue(`GET /api/v1/cart HTTP/1.1" 200 512 "-" "curl/8.5.0"`)),
			fl("http.status_code", point.IntValue(200)),
			fl("duration", point.FloatValue(math.NaN())),
			fl("bytes", point.IntValue(512)),
			fl("trace_id", point.Value{}),
			fl("bytes", point.IntValue(513)),
			fl("upstream", point.StringValue("10.0.0.7:8080")),
		))
}

// lpSize approximates a point's line-protocol size by the length of
// Point.String (line-protocol-like, without escaping, time in RFC 3339).
func lpSize(p point.Point) int64 { return int64(len(p.String())) }

func BenchmarkNormalizeCompliant(b *testing.B) {
	n := New(Options{})
	in := benchCompliant()
	b.SetBytes(lpSize(in))
	b.ReportAllocs()
	for b.Loop() {
		p := in
		if _, err := n.Normalize(&p, point.Metric); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNormalizeDirty(b *testing.B) {
	n := New(Options{})
	in := benchDirty()
	b.SetBytes(lpSize(in))
	b.ReportAllocs()
	for b.Loop() {
		p := in // Normalize never writes into in's slices
		warns, err := n.Normalize(&p, point.Logging)
		if err != nil || len(warns) == 0 {
			b.Fatal(warns, err)
		}
	}
}
