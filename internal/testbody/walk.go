package testbody

import (
	"testing"
	"time"

	"github.com/influxdata/line-protocol/v2/lineprotocol"
)

// WalkLineProtocol walks every measurement, tag, field and timestamp of a
// line-protocol body with line-protocol/v2's decoder, building nothing,
// and returns the number of lines: the floor that decoding benchmarks are
// measured against.
func WalkLineProtocol(body []byte, now time.Time) (int, error) {
	dec := lineprotocol.NewDecoderWithBytes(body)
	n := 0
	for dec.Next() {
		if _, err := dec.Measurement(); err != nil {
			return n, err
		}
		for {
			k, _, err := dec.NextTag()
			if err != nil {
				return n, err
			}
			if k == nil {
				break
			}
		}
		for {
			k, _, err := dec.NextField()
			if err != nil {
				return n, err
			}
			if k == nil {
				break
			}
		}
		if _, err := dec.Time(lineprotocol.Nanosecond, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// BenchmarkBaseline is the body of a BenchmarkDecodeLPBaseline: it walks
// LineProtocol() with WalkLineProtocol b.N times and reports bytes,
// allocations and ns/line, so that packages measuring their decoders
// against it get the same floor in their own run.
func BenchmarkBaseline(b *testing.B, now time.Time) {
	body := LineProtocol()
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		n, err := WalkLineProtocol(body, now)
		if err != nil {
			b.Fatal(err)
		}
		if n != Lines {
			b.Fatalf("decoded %d lines", n)
		}
	}
	ReportPerLine(b)
}

// ReportPerLine reports the benchmark's time per line of a body of Lines
// lines as the metric ns/line.
func ReportPerLine(b *testing.B) {
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/Lines, "ns/line")
}
