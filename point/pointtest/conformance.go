package pointtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/collectkit/collectkit/point"
)

// TestSink runs [Check] against s and reports each violation with t.Error.
func TestSink(t *testing.T, s point.Sink, results func() []point.Point) {
	t.Helper()
	if err := Check(s, results); err != nil {
		t.Error(err)
	}
}

// Check runs a conformance test of the point.Sink contract against s and
// returns every violation found, joined with errors.Join (nil: conforms).
//
// results, if not nil, returns every point s has received so far, in any
// order (for a forwarding sink: what arrived at its destination, after
// whatever flushing that takes). With nil results only the checks that need
// no read-back run.
//
// The checks: a valid batch of every category is accepted with a nil error;
// the batch passed to Write is not modified; points are received unchanged
// even though the caller overwrites its batch right after Write returns (a
// sink must not retain it); an empty batch is accepted; concurrent writers
// are safe (run tests with -race); a cancelled context causes no panic, and
// either an error or a kept point.
func Check(s point.Sink, results func() []point.Point) error {
	ctx := context.Background()
	base := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var (
		errs []error
		sent []point.Point
		mu   sync.Mutex
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		errs = append(errs, fmt.Errorf("pointtest: "+format, args...))
		mu.Unlock()
	}
	mk := func(i int) point.Point {
		p := point.New(fmt.Sprintf("conf_m%d", i%3), base.Add(time.Duration(i)*time.Second))
		p.AddTag("host", fmt.Sprintf("h%d", i%5)).AddTag("idx", fmt.Sprint(i))
		p.AddField("f", point.FloatValue(float64(i)+0.5)).AddField("i", point.IntValue(int64(i)))
		return p
	}

	// Every category.
	for i, c := range point.Categories() {
		p := mk(i)
		if err := s.Write(ctx, point.Batch{Category: c, Input: "conformance", Points: []point.Point{p}}); err != nil {
			fail("Write of a valid %s batch: %v", c, err)
			continue
		}
		sent = append(sent, p.Clone())
	}

	// An empty batch.
	if err := s.Write(ctx, point.Batch{Category: point.Metric}); err != nil {
		fail("Write of an empty batch: %v", err)
	}

	// Not modified, not retained.
	pts := []point.Point{mk(100), mk(101)}
	want := []point.Point{pts[0].Clone(), pts[1].Clone()}
	if err := s.Write(ctx, point.Batch{Category: point.Metric, Input: "conformance", Points: pts}); err != nil {
		fail("Write: %v", err)
	} else {
		for i := range pts {
			if !pts[i].Equal(want[i]) {
				fail("Write modified point %d of the caller's batch: got %v, want %v", i, pts[i], want[i])
			}
		}
		sent = append(sent, want...)
	}
	// The caller owns the batch again and overwrites it; a sink that kept a
	// reference now holds wrong data, which results() will show.
	for i := range pts {
		pts[i].Name = "overwritten"
		pts[i].Tags[0].Value = "overwritten"
		pts[i].Fields[0].Value = point.FloatValue(-1)
	}

	// Concurrent writers.
	const writers, per = 8, 25
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for j := 0; j < per; j++ {
				p := mk(1000 + w*per + j)
				if err := s.Write(ctx, point.Batch{Category: point.Metric, Input: "conformance", Points: []point.Point{p}}); err != nil {
					fail("concurrent Write: %v", err)
					continue
				}
				mu.Lock()
				sent = append(sent, p.Clone())
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()

	// A cancelled context: an error, or the point is kept.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	p := mk(5000)
	if err := s.Write(cctx, point.Batch{Category: point.Metric, Input: "conformance", Points: []point.Point{p}}); err == nil {
		sent = append(sent, p.Clone())
	}

	if results != nil {
		got := results()
		if missing := diff(sent, got); len(missing) > 0 {
			fail("%d of %d accepted points were not received unchanged; first missing: %v", len(missing), len(sent), missing[0])
		}
	}
	return errors.Join(errs...)
}

// diff returns the points of want not found in got (as a multiset).
func diff(want, got []point.Point) []point.Point {
	used := make([]bool, len(got))
	var missing []point.Point
outer:
	for _, w := range want {
		for i, g := range got {
			if !used[i] && w.Equal(g) {
				used[i] = true
				continue outer
			}
		}
		missing = append(missing, w)
	}
	return missing
}
