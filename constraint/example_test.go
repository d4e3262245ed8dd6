package constraint_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

func ExampleNormalize() {
	p := point.Point{Name: "nginx"}
	p.AddTag("host", "web01")
	p.AddField("http.status", point.IntValue(200))
	p.AddField("latency", point.FloatValue(0.25))
	p.AddField("upstream_latency", point.Value{}) // a JSON null

	warns, err := constraint.Normalize(&p, point.Logging, constraint.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p)
	for _, w := range warns {
		fmt.Println(w)
	}
	// Output:
	// nginx,host=web01 http_status=200,latency=0.25,status="info"
	// dot_in_key: field key contains "."; renamed to "http_status"
	// nil_field: field has no value; field dropped
	// add_required_kv: logging point has no status; field status="info" added
}

func ExampleNormalizer_NormalizeOwned() {
	// Points as a decoder returns them: the caller owns their slices.
	pts := []point.Point{
		{Name: "cpu", Tags: []point.Tag{{Key: "host", Value: "web01"}}, Fields: []point.Field{
			{Key: "usage", Value: point.FloatValue(12.5)},
			{Key: "state", Value: point.StringValue("running")},
			{Key: "load1", Value: point.FloatValue(0.4)},
		}},
		{Name: "mem", Fields: []point.Field{{Key: "used", Value: point.IntValue(1 << 30)}}},
	}
	n := constraint.New(constraint.Options{})
	warns := make([]point.Warning, 0, 16) // reused from batch to batch
	for i := range pts {
		before := len(warns)
		var err error
		if warns, err = n.NormalizeOwned(&pts[i], point.Metric, warns); err != nil {
			fmt.Println(err)
			return
		}
		for j := before; j < len(warns); j++ {
			warns[j].Point = i
		}
	}
	for _, p := range pts {
		fmt.Println(p)
	}
	for _, w := range warns {
		fmt.Println(w.Point, w.Key, w)
	}
	// Output:
	// cpu,host=web01 usage=12.5,load1=0.4
	// mem used=1073741824
	// 0 state invalid_field_value_type: metric field has a string value; field dropped
}

func ExampleNormalizer_Normalize_reject() {
	n := constraint.New(constraint.Options{
		Actions: map[constraint.Rule]constraint.Action{constraint.RuleObjectName: constraint.Reject},
	})
	p := point.Point{Name: "host"}
	p.AddField("cpu_cores", point.IntValue(8))

	_, err := n.Normalize(&p, point.Object)
	var re *constraint.RejectError
	if errors.As(err, &re) {
		fmt.Println(errors.Is(err, constraint.ErrRejected), re.Rule, re.Key)
	}
	fmt.Println(err)
	// Output:
	// true object_name name
	// constraint: rule object_name: key "name": object point has no name
}

func ExampleNormalizer_Sink() {
	// The host's own sink; here it prints what it receives.
	store := point.SinkFunc(func(_ context.Context, b point.Batch) error {
		for _, p := range b.Points {
			fmt.Printf("stored %s: %v\n", b.Category, p)
		}
		return nil
	})
	n := constraint.New(constraint.Options{
		OnWarnings: func(_ context.Context, b point.Batch, warns []point.Warning) {
			for _, w := range warns {
				fmt.Printf("input %s, point %d: %v\n", b.Input, w.Point, w)
			}
		},
	})
	sink := n.Sink(store)

	var ok, fixable, empty point.Point
	ok.Name = "cpu"
	ok.AddTag("host", "web01").AddField("usage", point.FloatValue(12.5))
	fixable.Name = "cpu"
	fixable.AddTag("host", "web01").AddField("host", point.IntValue(1)).AddField("usage", point.FloatValue(3))
	empty.Name = "cpu"
	empty.AddField("model", point.StringValue("Xeon")) // metrics keep no strings

	err := sink.Write(context.Background(), point.Batch{
		Category: point.Metric, Input: "demo", Points: []point.Point{ok, fixable, empty},
	})
	fmt.Println("error:", err)
	// Output:
	// input demo, point 1: key_name_conflict: key is both a tag and a field; field dropped
	// input demo, point 2: invalid_field_value_type: metric field has a string value; field dropped
	// input demo, point 2: no_field: point has no fields; point dropped
	// stored metric: cpu,host=web01 usage=12.5
	// stored metric: cpu,host=web01 usage=3
	// error: <nil>
}

// A server normalizes the points its decoder just returned in place, with
// a Result it reuses, and lets Deliver apply the options before it writes.
func ExampleNormalizer_NormalizeBatch() {
	n := constraint.New(constraint.Options{
		Actions: map[constraint.Rule]constraint.Action{constraint.RuleKeyConflict: constraint.Reject},
	})
	var dec protocol.Decoder
	pts, err := dec.DecodeLineProtocol([]byte("app message=\"started\" 1\napp,host=a host=\"b\" 2\n"), protocol.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	var r constraint.Result // kept with the server's per-request state
	kept, err := n.NormalizeBatch(pts, point.Logging, &r)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, w := range r.Warnings {
		fmt.Printf("point %d: %v\n", w.Point, w)
	}
	b := point.Batch{Category: point.Logging, Input: "demo", Points: kept}
	write, err := n.Deliver(context.Background(), b, &r)
	fmt.Println("write:", write)
	fmt.Println("error:", err)
	// Output:
	// point 0: add_required_kv: logging point has no status; field status="info" added
	// write: false
	// error: constraint: point 1: rule key_conflict: key "host": key is both a tag and a field
}
