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

// benchMetricString is a typical point of a metric input that also sends
// a string field, which the metric category drops.
func benchMetricString() point.Point {
	p := benchCompliant()
	p.Fields = append(p.Fields[:3:3], fl("state", point.StringValue("running")), p.Fields[3])
	return p
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

// BenchmarkNormalizeOwned is NormalizeOwned on points as a decoder hands
// them out: the point is restored into its own arrays before each call
// (the restoring copy is part of the figure).
func BenchmarkNormalizeOwned(b *testing.B) {
	for _, bc := range []struct {
		name string
		cat  point.Category
		in   point.Point
	}{
		{"compliant", point.Metric, benchCompliant()},
		{"metric-string", point.Metric, benchMetricString()},
		{"dirty", point.Logging, benchDirty()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			n := New(Options{})
			tags := make([]point.Tag, len(bc.in.Tags))
			fields := make([]point.Field, len(bc.in.Fields))
			dst := make([]point.Warning, 0, 16)
			b.SetBytes(lpSize(bc.in))
			b.ReportAllocs()
			for b.Loop() {
				copy(tags, bc.in.Tags)
				copy(fields, bc.in.Fields)
				p := bc.in
				p.Tags, p.Fields = tags, fields
				if _, err := n.NormalizeOwned(&p, bc.cat, dst[:0]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNormalizeMetricString(b *testing.B) {
	n := New(Options{})
	in := benchMetricString()
	b.SetBytes(lpSize(in))
	b.ReportAllocs()
	for b.Loop() {
		p := in
		if _, err := n.Normalize(&p, point.Metric); err != nil {
			b.Fatal(err)
		}
	}
}
