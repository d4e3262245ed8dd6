// Package point is collectkit's data model and its one pipeline contract.
//
// A [Point] is a measurement name, string tags, typed fields and a time. Field
// values are a small tagged union, [Value], built with typed constructors
// ([IntValue], [FloatValue], [StringValue], ...) the way log/slog builds its
// values: no interface boxing and no map[string]any.
//
// Every input of a collectkit agent (the HTTP write API, Python collectors,
// Pushgateway and InfluxDB clients) ends in a [Sink]:
//
//	type Sink interface {
//		Write(ctx context.Context, b Batch) error
//	}
//
// A [Batch] carries the [Category] of its points, where they came from (the
// input, source and version DataKit records) and the points themselves. The
// batch is lent to the sink for the duration of the call: a sink treats it as
// read-only and does not keep it after Write returns; a sink that stores
// points calls [Batch.Clone] first. Validation, fan-out ([MultiSink]) and
// forwarding are all Sinks, so one middleware guards every input.
//
// Errors returned by a Sink are either "try later" (they match [ErrBusy] with
// errors.Is; build them with [Busy]) or permanent. Callers such as the HTTP
// handler turn the first kind into 429/503 with Retry-After and never report
// success for data a sink did not accept.
//
// Concurrency: Points, Values and Batches are plain values with no internal
// locking; a Sink must be safe for concurrent use by several goroutines
// unless its documentation says otherwise. Package point/pointtest has a
// recording Sink and a conformance test for Sink implementations.
package point
