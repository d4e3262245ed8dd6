package netdata

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/collectkit/collectkit/point"
)

// benchText is what a python.d job with charts charts of dims dimensions
// prints for updates updates (half of the dimensions incremental), in
// python.d.plugin 1.37's quoting.
func benchText(charts, dims, updates int) []byte {
	var b bytes.Buffer
	for c := range charts {
		fmt.Fprintf(&b, "CHART bench_job.c%d '' 'Chart %d' 'units' 'fam' 'bench.c%d' line %d 1 '' 'python.d.plugin' 'bench'\n", c, c, c, 60000+c)
		b.WriteString("CLABEL '_collect_job' 'job' '0'\nCLABEL_COMMIT\n")
		for d := range dims {
			alg := "absolute"
			if d%2 == 1 {
				alg = "incremental"
			}
			fmt.Fprintf(&b, "DIMENSION 'd%d' 'dim %d' %s 1 1 ' '\n", d, d, alg)
		}
	}
	for u := range updates {
		for c := range charts {
			micros := 0
			if u > 0 {
				micros = 1000000
			}
			fmt.Fprintf(&b, "BEGIN bench_job.c%d %d\n", c, micros)
			for d := range dims {
				fmt.Fprintf(&b, "SET 'd%d' = %d\n", d, u*1000+d)
			}
			b.WriteString("END\n")
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

// BenchmarkEngine feeds one op of 50 charts × 20 dimensions × 100
// updates (5000 points) line by line.
func BenchmarkEngine(b *testing.B) {
	text := benchText(50, 20, 100)
	lines := bytes.SplitAfter(text, []byte("\n"))
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	var dst []point.Point
	for b.Loop() {
		e := New(Options{})
		now := t0
		points := 0
		for _, l := range lines {
			if len(l) == 1 {
				now = now.Add(time.Second)
			}
			var err error
			dst, err = e.Feed(dst[:0], l, now)
			if err != nil {
				b.Fatal(err)
			}
			points += len(dst)
		}
		if points != 50*100 {
			b.Fatalf("%d points", points)
		}
	}
}

// BenchmarkRead is BenchmarkEngine through Read from a reader.
func BenchmarkRead(b *testing.B) {
	text := benchText(50, 20, 100)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		e := New(Options{})
		points := 0
		err := e.Read(context.Background(), bytes.NewReader(text), func(pts []point.Point) error {
			points += len(pts)
			return nil
		})
		if err != nil || points != 50*100 {
			b.Fatal(err, points)
		}
	}
}
