// Package httpapi serves DataKit's HTTP write API, and InfluxDB- and
// Pushgateway-compatible write routes, as one http.Handler that ends in a
// point.Sink.
//
// # A guided tour
//
// Build a Handler with New from Options; the zero Options plus a Sink give a
// handler that behaves like DataKit on loopback. The Handler has no listener
// and no global state: mount it on any mux, also under a prefix with
// http.StripPrefix (see the Example).
//
// Routes:
//
//	POST /v1/write/{category}        DataKit write API (every point.Category)
//	GET  /v1/ping                    {"content":{"version","uptime","host"}}
//	GET  /health                     InfluxDB 2's health body (Health); public, like the ping routes
//	GET  /ready                      Hooks.Ready: 200, or 503 with the reason (Readiness)
//	POST /v1/lasterror               {"input","source","err_content"} → Hooks.OnLastError, LastErrors
//	GET  /v1/workspace               → Hooks.Workspace
//	POST /v1/query/raw               QueryRequest → Hooks.QueryRaw
//	POST|DELETE /v1/object/labels    ObjectLabels → Hooks.SetObjectLabels / DeleteObjectLabels
//	POST /v1/pipeline/debug          PipelineDebugRequest → Hooks.PipelineDebug
//	POST /v1/dialtesting/debug       DialtestingDebugRequest → Hooks.DialtestingDebug
//	POST /write                      InfluxDB 1.x (db, rp, precision, u/p)
//	POST /api/v2/write               InfluxDB 2.x (org, bucket, precision, Authorization: Token)
//	GET|HEAD /ping, /query           InfluxDB probes (204 with X-Influxdb-Version; empty result)
//	PUT|POST|DELETE /metrics/job/... Pushgateway (text format 0.0.4, OpenMetrics or delimited protobuf)
//	POST /collectd                   collectd write_http JSON (metric and keyevent points)
//
// A write request goes through these steps: method, loopback and token
// checks; the in-flight limit; the body read under Limits.MaxBodyBytes
// and, for Content-Encoding (or ?encoding=) gzip, deflate/zlib or zstd,
// decompressed as it arrives under Limits.MaxDecodedBytes (see Limits
// below); decoding with a protocol.Decoder (JSON when Content-Type
// contains application/json, line protocol otherwise); the
// global host tags (or, with ?global_election_tags=, the election tags)
// added; for logging points, Options.Pipeline called on each (DataKit's
// Pipeline scripts: it may parse a log line into fields, or drop the
// point); each point normalized in place by a constraint.Normalizer; then
// one call of Sink.Write with a point.Batch{Category, Input, Source,
// Version, Points}. The context of that call carries a RequestInfo (route,
// remote address, InfluxDB database or bucket, Pushgateway job and grouping
// key): read it with RequestInfoFromContext.
//
// The batch's points live in the handler's buffers: as point.Sink says, a
// Sink must not keep them after Write returns (Batch.Clone copies).
//
// Besides the Sink, a host reads the Handler back: LastErrorInputs and
// LastErrors(input) give the reports external collectors posted to
// /v1/lasterror, for a status page; and the Handler is a
// prometheus.Collector (register it in the host's own
// prometheus.Registry; there is one Handler per process, so its metrics
// have no instance label):
//
//	collectkit_httpapi_write_requests_total{route,category,code}
//	collectkit_httpapi_points_total{route,category,outcome}    accepted, rejected, dropped
//	collectkit_httpapi_received_bytes_total{route}             body bytes as sent
//	collectkit_httpapi_request_duration_seconds{route}         histogram
//	collectkit_httpapi_decode_duration_seconds{route}          histogram
//	collectkit_httpapi_inflight_requests, collectkit_httpapi_inflight_bytes, collectkit_httpapi_inflight_bytes_limit
//	collectkit_httpapi_lasterror_reports_total
//
// # Limits
//
// Options.Limits bound what one request and all requests together cost;
// each zero field is a default (see the Default constants), each negative
// one turns its bound off. Per request: MaxBodyBytes (64 MiB on the wire),
// MaxDecodedBytes (64 MiB after decompression; both admit a body carrying
// one string field of DataKit's largest size, 32 MiB, with a megabyte
// more besides; such a body takes under 90 MiB of the in-flight budget
// below while it is read), MaxPoints (100,000
// lines, elements or samples). A compressed body is decompressed while it
// is read, into a buffer that grows as data arrives, so a small
// "decompression bomb" costs at most the decoded limit before it is
// refused, and a line-protocol bomb of short lines is refused once it has
// more lines than MaxPoints, after a few hundred kilobytes. Content-Length
// never makes the handler allocate ahead of the data.
//
// All requests share MaxInFlightBytes (128 MiB): a request takes its
// buffers' sizes as they grow (the arrays it outgrew stay charged until it
// ends: they are garbage but still memory) and, before decoding, an
// estimate of what decoding will allocate (from the body's lines and
// key=value pairs). A request that would go over is answered 429 (or
// Options.BusyStatus) datakit.reachMaxAPILimit with Retry-After: 1, and
// one that needs more than the whole budget 413; everything is given back
// when the request is answered. The handler does not keep the memory of
// an unusually large request for reuse, so the heap falls back after it.
// A host that wants a hard bound on the process sets GOMEMLIMIT besides.
//
// Slow bodies: a body must deliver a byte at least every BodyReadTimeout
// (30 s) and, after that long, must have arrived at MinBodyRate (1 KiB/s)
// on average: the deadline is BodyReadTimeout plus one second per
// MinBodyRate bytes received, as in Apache's mod_reqtimeout. A body that
// misses it is answered 408 datakit.HTTPReadError and its connection is
// closed. This needs an http.Server connection (the deadline is set with
// http.ResponseController); while the body is read it replaces
// http.Server.ReadTimeout. The handler caps neither connections nor idle
// time: that is http.Server's (ReadHeaderTimeout, IdleTimeout) and the
// listener's job.
//
// The Pushgateway text format is checked before it is parsed, because the
// parser's cost grows with the square of a sample's labels: at most
// MaxPushLabels (256, DataKit's tag limit) labels and MaxPushLabelBytes (16 KiB) of labels per
// sample, and a bounded total, else 400 naming the line. Parsing stops
// when the request's context is done (the client went away), and so does
// every route before it calls the Sink.
//
// /v1/lasterror reports are cut to Options.LastErrorMaxBytes (16 KiB, with
// a note and LastError.Truncated; the POST answer says so too), and the
// store keeps at most Options.LastErrorMaxTotalBytes (4 MiB) of them.
// Log records quote at most 4 KiB of an error.
//
// # Security
//
// Every route but the ping routes and /health checks that the client is
// loopback (unless Options.AllowNonLoopback) and, with Options.Token, the
// token.
// Routes a host mounts beside the Handler (a /metrics page) get the same
// checks through Handler.Protect. Send the token in the X-Token header (or
// Authorization): ?token= and InfluxDB's ?p= work, for DataKit and
// InfluxDB 1.x clients, but a token in a URL is written to the access logs
// of every proxy on the way. Error bodies name the condition only: a Sink
// error or a connection error (which may carry a file path or an address)
// goes to Options.Logger, not to the client; a Sink that wants the client
// to see its message returns an *Error.
//
// # Query parameters of /v1/write/{category}
//
// As in DataKit, a flag is on when its value is non-empty (so strict=false
// turns strict mode on). precision (n, u, ms, s, m, h; absent: detected from
// the magnitude of each timestamp), input (default: the category name),
// source, version, strict (any warning → 400 datakit.pointGotWarning),
// loose, dry (check but do not write), echo=lp|json (and the deprecated
// echo_line_proto, echo_json) to get the normalized points back,
// ignore_global_host_tags (and the deprecated ignore_global_tags),
// global_election_tags, encoding.
//
// An object or custom_object point without "name" is fixed as DataKit
// fixes it: name="default" is added (as a tag) with an add_required_kv
// warning, so that strict refuses it and a plain write stores it; set
// constraint.RuleObjectName to Reject in Options.Constraint.Actions to
// refuse such points (400 datakit.pointRejected) instead.
//
// Without loose, a bad line or element rejects the whole body (400
// datakit.invalidLinePoint / datakit.invalidJsonPoint listing every bad
// line with line and column, or element and key), and so does a point a
// rule set to Reject refuses (400 datakit.pointRejected). With loose, the
// valid lines and points are kept and the answer is 200 with
// {"content": LooseReport} listing what was dropped (or an empty 200 when
// nothing was). The report counts every bad line or element, also those
// beyond Options.MaxDecodeErrors that it does not list. A loose write that
// dropped anything also answers the count in the header
// X-Collectkit-Dropped (HeaderDropped); with echo=lp or echo=json the body
// is the echoed points, so that header is where the count is (the listed
// reasons need echo off).
//
// Messages about a point say what, which key and where, in DataKit's
// "<type>: <msg>" shape followed by the point's line (line protocol) or
// element (JSON):
//
//	strict:        invalid_field_value_type: field "s": metric field has a string value; field dropped (line 3)
//	pointRejected: object_name: key "name": object point has no name (line 2)
//
// When normalization leaves no point (every field of every point dropped),
// the 400 datakit.noPoints message lists the first reasons the same way.
// Warnings of a request that is answered 200 (points fixed, fields or
// points dropped) are logged to Options.Logger at Debug: their count and
// the first few with key and line.
//
// Requests answered 4xx are logged at Debug one by one and, so that a
// client losing data is visible at the default level, at Warn at most
// once per Options.RejectLogInterval (a minute): the first rejection at
// once with its error and line, then a summary of the requests and points
// rejected by route, status and code, with the last error.
//
// On /v1/write/logging, Options.Pipeline sees each point with the
// request's source (or the point's measurement). A point it drops is
// counted in X-Collectkit-Dropped (and, with loose, listed in the
// LooseReport); a request of which it drops every point is answered 200;
// a pipeline error keeps the point with a warning.
//
// # Errors
//
// Every route turns errors into statuses the same way: *Error values
// carry their own status and DataKit code; a Sink error matching
// point.ErrBusy becomes 429 (or Options.BusyStatus 503) with Retry-After
// from point.RetryAfter (at least one second); a body over a limit becomes
// 413, one too slow 408; any other Sink error becomes 500
// datakit.sinkFailed. Only *Error messages reach the client; other errors
// are answered with a fixed message and logged in full. DataKit routes
// answer {"error_code":"datakit.<code>","message":"..."}; InfluxDB routes
// answer InfluxDB's JSON ({"error"} for v1, {"code","message"} for v2) with
// X-Influxdb-Error; Pushgateway routes answer plain text. Every response
// carries X-DataKit: <Options.Version>.
//
// # InfluxDB routes
//
// /write and /api/v2/write take line protocol only, accept or reject the
// whole body, and write category metric points under input "influxdb_v1"
// or "influxdb_v2", answering 204. Unlike DataKit's metric rule, string
// fields are kept, as InfluxDB keeps them: the string-field rule
// (constraint.RuleStringField) is Ignore on these routes whatever
// Options.Constraint says; the other rules apply.
//
// # Pushgateway mapping
//
// Pushed samples become metric points as protocol.DecodeExposition maps them:
// gauges and untyped as field "value", counters as "total" (measurement
// without _total), 0.0.4's separate _created families as "created",
// histogram buckets as "bucket" with tag "le", summary quantiles as "value"
// with tag "quantile", and _sum/_count as "sum"/"count". The grouping key
// (job first) overrides body labels of the same name. Pushed timestamps
// are rejected (400), and so are an empty job name, path label values that
// are not UTF-8, and a delimited protobuf message whose length prefix is
// larger than the rest of the body (checked before anything is decoded).
// PUT and POST both deliver the samples
// (RequestInfo.Method tells them apart); DELETE calls
// Hooks.PushgatewayDelete and answers 202; an empty push answers 200
// without calling the Sink.
//
// # collectd route
//
// POST /collectd takes the JSON bodies of collectd's write_http plugin
// (Format "JSON"), decoded by collectd.DecodeJSON: each value list becomes
// one metric point as collectd.AppendPoints maps it, each notification a
// keyevent point (collectd.NotificationPoint), both through the same
// limits, normalization and Sink as /v1/write. It answers exactly 200 on
// success, because write_http logs any other status. A missing or wrong
// token is answered 401 with a Basic challenge, because write_http's curl
// sends its User and Password only after one; a token in a header or in
// ?token= works as on the other routes.
//
// # Deviations from DataKit
//
//   - A Sink error is never answered 200: DataKit logs feed errors and
//     answers 200.
//   - An unknown precision is 400 datakit.invalidPrecision; DataKit
//     silently uses nanoseconds.
//   - loose is implemented (DataKit documents it but ignores it).
//   - /v1/lasterror answers 400 for a body that is not JSON
//     (datakit.badRequest) or lacks input or err_content
//     (datakit.inputOrErrcontentCanNotBeNil); DataKit answers 500.
//   - A wrong method is 405 with Allow and a JSON error, an unknown path 404
//     with a JSON error; DataKit shows its HTML 404 page for both.
//   - X-DataKit is the version alone; DataKit sends "<version>/<host>".
//   - Bodies are limited (413), decompressed sizes, points per request and
//     body read time (408) too, and requests share a memory budget (429);
//     the token, the in-flight limit and the InfluxDB and Pushgateway
//     routes are new.
//   - A timestamp before 1970 is kept with a negative_time warning (so
//     strict refuses it); DataKit stores it silently.
//   - /v1/lasterror reports are truncated to a bounded size.
//   - Brotli ("br") and protobuf point bodies are not supported: br is 400
//     datakit.decodeBodyFailed; a protobuf Content-Type is read as line
//     protocol.
//   - Global host tags never replace a tag the point already has.
//   - An object point without a name gets the tag name="default";
//     DataKit's checker adds a field (package constraint says why).
//   - Pipeline is a Go function the host provides; DataKit runs its own
//     Pipeline scripts by source.
//   - /health and /ready are InfluxDB 2's probes; DataKit has neither.
//
// # Concurrency
//
// A Handler is safe for concurrent use by any number of requests; its
// pools are per Handler. Hooks, the Pipeline and the Sink are called
// concurrently from request goroutines and must be safe for that.
// LastErrors, LastErrorInputs, ReportLastError and Collect may be called
// at any time from any goroutine.
package httpapi
