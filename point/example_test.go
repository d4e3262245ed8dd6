package point_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/collectkit/collectkit/point"
)

// A point is built from typed values; a Sink receives batches of them.
func Example() {
	p := point.New("cpu", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	p.AddTag("host", "web01").
		AddField("usage_user", point.FloatValue(12.5)).
		AddField("cores", point.IntValue(8))

	printer := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		for _, p := range b.Points {
			fmt.Printf("%s from %s: %s\n", b.Category, b.Input, p)
		}
		return nil
	})
	err := printer.Write(context.Background(), point.Batch{Category: point.Metric, Input: "demo", Points: []point.Point{p}})
	fmt.Println(err)
	// Output:
	// metric from demo: cpu,host=web01 usage_user=12.5,cores=8 2026-11-21T00:00:00Z
	// <nil>
}

// A sink that cannot take data now says so with Busy; callers tell it apart
// from a permanent failure with errors.Is.
func ExampleBusy() {
	full := point.SinkFunc(func(context.Context, point.Batch) error {
		return point.Busy(errors.New("buffer full"), 2*time.Second)
	})
	err := full.Write(context.Background(), point.Batch{Category: point.Metric})
	after, _ := point.RetryAfter(err)
	fmt.Println(errors.Is(err, point.ErrBusy), after)
	// Output: true 2s
}

// MultiSink fans a batch out to several sinks.
func ExampleMultiSink() {
	count := 0
	counter := point.SinkFunc(func(_ context.Context, b point.Batch) error { count += len(b.Points); return nil })
	s := point.MultiSink(counter, point.Discard())
	_ = s.Write(context.Background(), point.Batch{Category: point.Logging, Points: make([]point.Point, 3)})
	fmt.Println(count)
	// Output: 3
}

func ExampleParseCategory() {
	c, err := point.ParseCategory("custom_object")
	fmt.Println(c, err, c == point.CustomObject)
	_, err = point.ParseCategory("metrics")
	fmt.Println(err)
	// Output:
	// custom_object <nil> true
	// point: unknown category "metrics"
}
