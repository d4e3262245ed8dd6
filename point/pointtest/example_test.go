package pointtest_test

import (
	"context"
	"fmt"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/point/pointtest"
)

// A Recorder keeps what an input wrote, for assertions; Check runs the Sink
// conformance test (use TestSink inside a test function).
func ExampleRecorder() {
	var r pointtest.Recorder
	_ = r.Write(context.Background(), point.Batch{Category: point.Metric, Points: []point.Point{{Name: "cpu"}}})
	fmt.Println(r.Len(), r.Points()[0].Name)
	fmt.Println(pointtest.Check(&pointtest.Recorder{}, nil))
	// Output:
	// 1 cpu
	// <nil>
}
