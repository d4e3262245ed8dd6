package protocol_test

import (
	"context"
	"fmt"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The whole ingest path an input follows: decode a body, normalize every
// point against DataKit's constraints, and hand the batch to a Sink.
func Example() {
	body := []byte("cpu,host=web01 usage=12.5,model=\"Xeon\" 1700000000\n" +
		"cpu,host=web02 usage=3.25 1700000000\n")

	var dec protocol.Decoder
	pts, err := dec.DecodeLineProtocol(body, protocol.Options{Precision: protocol.Second, Now: time.Now()})
	if err != nil {
		fmt.Println("decode:", err)
		return
	}

	norm := constraint.New(constraint.Options{})
	var warns []point.Warning
	for i := range pts {
		// The decoder owns these points' slices, so they may be fixed in place.
		if warns, err = norm.NormalizeOwned(&pts[i], point.Metric, warns); err != nil {
			fmt.Println("rejected:", err)
			return
		}
	}
	for _, w := range warns {
		fmt.Println("warning:", w)
	}

	sink := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		var enc protocol.LineEncoder
		var out []byte
		for _, p := range b.Points {
			out, _ = enc.Append(out, p)
		}
		fmt.Printf("%s from %s:\n%s", b.Category, b.Input, out)
		return nil
	})
	_ = sink.Write(context.Background(), point.Batch{Category: point.Metric, Input: "example", Points: pts})
	// Output:
	// warning: invalid_field_value_type: metric field has a string value; field dropped
	// metric from example:
	// cpu,host=web01 usage=12.5 1700000000000000000
	// cpu,host=web02 usage=3.25 1700000000000000000
}
