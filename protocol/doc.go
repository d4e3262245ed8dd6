// Package protocol decodes and encodes the bodies of DataKit's write API:
// InfluxDB line protocol with DataKit's extensions, and DataKit's JSON
// array of points; and it decodes Prometheus exposition bodies (text,
// OpenMetrics, protobuf) into points.
//
// # Decoding
//
// A [Decoder] turns a whole body into []point.Point:
//
//	var d protocol.Decoder // zero value ready; keep it and reuse it
//	pts, err := d.DecodeLineProtocol(body, protocol.Options{Precision: protocol.Millisecond})
//	pts, warns, err := d.DecodeJSON(body, protocol.Options{})
//
// [Options] carry what DataKit takes from the request: the timestamp
// [Precision] (zero detects the unit from each timestamp's magnitude, as
// DataKit does; [ParsePrecision] reads the "precision" query parameter and
// rejects what it does not know), the time for points without one, and
// whether to keep the good points of a body that has bad ones (DataKit
// rejects the whole body, and so do we by default). JSON numbers are
// float64 values as in DataKit unless Options.ExactInts asks for exact
// integers.
//
// Two DataKit behaviours are kept on purpose so that clients written for
// DataKit work unchanged: a timestamp of 0 (in line protocol, or a JSON
// "time" of 0 or 0.0) means "now", that is Options.Now, exactly as a
// missing one does; and a JSON tag whose value is null is dropped with a
// point.WarnNilField warning ("null tag value dropped") instead of failing
// the body, as a null field is (DataKit stores it as an empty tag value,
// which line protocol cannot carry).
//
// Line protocol is read with github.com/influxdata/line-protocol/v2,
// plus the m and h precisions and magnitude detection. JSON is read by a
// small scanner made for exactly this shape, because no JSON library
// accepts the NaN and Infinity that Python's json.dumps writes, and
// decoding into maps allocates for every point.
//
// # Errors
//
// A body with bad lines or elements gives a *[DecodeErrors] listing each
// as a *[DecodeError]: line and column for line protocol, array index and
// key for JSON, and a cause that matches one of the Err* sentinels (for
// example [ErrTimeRange]) under errors.Is. Decoding goes on after a bad
// line, so one request reports every problem (up to Options.MaxErrors).
// JSON decoding stops at a syntax error, after which nothing can be
// trusted. Options.MaxPoints bounds the lines or elements of one body:
// past it decoding stops with [ErrTooManyPoints] and no points, so a
// server knows a body's decoding cost up front. A timestamp before 1970 is
// kept with a point.WarnNegativeTime warning ([Decoder.Warnings] for line
// protocol). A JSON element that repeats "measurement" or "time" uses the
// first, as repeated tag and field keys resolve first-wins.
//
// # Memory and aliasing
//
// A pool of Decoders can drop one that a large body made large:
// [Decoder.RetainedBytes] tells what it holds.
//
// Decoding allocates nothing per line once a Decoder's buffers have grown
// to the size of the bodies it sees: points, tags and fields live in
// memory the Decoder reuses, strings point into the body itself, and the
// few strings that had escapes are copied into memory the Decoder also
// reuses. So the points a Decode call returns alias both body and the
// Decoder: they are valid until the next Decode call on that Decoder or
// until body is modified. Code that keeps points calls point.Point.Clone.
// Each point's Tags and Fields are capped at their length, so appending to
// them (as package constraint may) never overwrites a neighbour.
//
// # Encoding
//
// [LineEncoder] and [JSONEncoder] append canonical output to a caller's
// buffer: tags and fields sorted by key, floats written so that they read
// back as floats, bytes written as strings. Decoding what they write gives
// back an equal point (a property the tests check on random points); what
// a format cannot carry (NaN, an empty name, invalid UTF-8, ...) is an
// *[EncodeError] naming the key, never silently dropped data.
//
// # Prometheus exposition
//
// [DecodeExposition] turns what an exporter serves or a Pushgateway client
// pushes into points: text format 0.0.4, OpenMetrics text 1.0 (which must
// end with "# EOF", with nothing after it but the final newline) and
// length-delimited protobuf MetricFamily messages ([ExpositionFormatOf]
// picks the format from a Content-Type). A sample becomes a metric point
// whose tags are its labels (but those with an empty value, which
// Prometheus treats as absent), then [ExpositionOptions].Tags, then its le
// or quantile:
//
//   - gauge, untyped (unknown) and stateset: measurement <name>, field
//     "value" (a stateset has one point per state, 0 or 1, its state
//     label a tag, just as text 0.0.4 writes it as a gauge);
//   - counter: measurement <name> without "_total", field "total";
//   - <base>_created, inside an OpenMetrics or protobuf family or as text
//     0.0.4's separate gauge family next to a counter, summary or
//     histogram <base> (before or after it): measurement <base>, field
//     "created" (Unix seconds), a point of its own;
//   - summary: one point per quantile (tag "quantile", field "value") and
//     one point with fields "sum" and "count";
//   - histogram: one point per bucket (tag "le", field "bucket", the
//     cumulative count) and one with "sum" and "count"; a gauge histogram
//     the same with "gsum" and "gcount" (text 0.0.4 has no gauge
//     histograms: written as histograms, their _gsum and _gcount are
//     gauges there);
//   - info: measurement <name> without "_info", field "info" (the
//     sample's value, always 1), the information in the tags;
//   - exemplars, HELP and UNIT lines and other comments are read and
//     dropped.
//
// le and quantile values are written in their shortest form ("1.0"
// becomes "1", +Inf stays "+Inf"). A sum and a count are one point for
// two samples, wherever the _sum and _count lines are; [ExpositionStats]
// counts samples. A protobuf histogram without a +Inf bucket gets one (the
// sample count), as the text format writes it; native histogram buckets
// are not mapped. A sample's timestamp (milliseconds in 0.0.4 and
// protobuf, seconds in OpenMetrics) is its point's time,
// ExpositionOptions.Now otherwise.
//
// The text reader is this package's own: linear in the body's size
// whatever the labels, checking [ExpositionOptions]' limits (samples,
// labels and label bytes per sample) as it reads, never panicking, and
// failing with a *[DecodeError] that gives the line and column. It
// reads what prometheus/common 0.67 reads, including quoted UTF-8
// names ({"my.metric", "my.label"="v"}) and escapes (\\, \" and \n) in
// label values, and rejects duplicate label names and __name__ as a
// label, as it does. Samples of a family that come back after other
// families are taken as if they had come with it. Where it differs from
// prometheus/common, it is on purpose: a TYPE, HELP or UNIT line for a
// name whose family has had that line already, or has had samples, starts
// a new family of that name, and the samples before it keep their type
// (prometheus/common rejects such a body, Prometheus reads it, and
// expfmt's own OpenMetrics writer makes one of node_exporter's gauge
// go_memstats_alloc_bytes and counter go_memstats_alloc_bytes_total,
// both go_memstats_alloc_bytes there); a counter's <name>_total and
// <name>_created, and a summary's or histogram's <name>_created, belong
// to the family declared as <name> (as in OpenMetrics) instead of making
// untyped families of their own; a summary sample without a quantile
// label and a histogram sample without a suffix are errors instead of
// being dropped without a word; the last line needs no newline, and the
// OpenMetrics type names and trailing blanks are accepted in text 0.0.4.
//
// # Concurrency
//
// Decoders and encoders hold scratch buffers and are not safe for
// concurrent use: use one per goroutine, or a sync.Pool. Everything else
// in the package (ParsePrecision, the error types, Precision's methods) is
// safe for concurrent use. The package holds no global state.
package protocol
