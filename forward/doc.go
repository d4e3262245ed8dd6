// Package forward is a point.Sink that delivers batches to an
// InfluxDB-line-protocol write endpoint without losing what it accepted:
// InfluxDB v1 (/write) and v2 (/api/v2/write), VictoriaMetrics single node
// (/write) and cluster (vminsert's /insert/<tenant>/influx/write), or
// another collectkit agent's /v1/write/{category} (relay).
//
// # A guided tour
//
// [New] takes [Options] (the endpoint URL and a buffer directory are
// required; every other zero field means a documented default) and opens
// the on-disk buffer. [Forwarder.Write] encodes a batch as line protocol
// and appends it to the buffer; [Forwarder.Run] reads the buffer in order,
// groups records into requests (by points, bytes and time: BatchPoints,
// BatchBytes, FlushInterval), gzips them and posts them with Concurrency
// requests in flight over keep-alive connections.
//
//	f, err := forward.New(forward.Options{
//		URL:       "http://127.0.0.1:8428/write",
//		BufferDir: "/var/lib/agent/forward",
//	})
//	...
//	go f.Run(ctx)   // delivers until ctx is done, then flushes and closes
//	handler, _ := httpapi.New(httpapi.Options{Sink: f})
//
// # Delivery
//
// A request that fails with a network error, 408, 429 or a 5xx (except
// 501) is retried with capped exponential back-off and jitter
// (MinBackoff..MaxBackoff), honouring Retry-After (capped by
// MaxRetryAfter); it is retried for as long as the forwarder runs, the
// data staying in the buffer meanwhile. A request that got no response at
// all (the backend is down or unreachable) backs off only up to
// MaxConnectBackoff (2s by default), so delivery resumes within about that
// long of the backend's return however long the outage was; each sender
// then costs one failed connection per period. 413 splits the request in two
// (down to one Write's worth of points). Any other 4xx is permanent: the
// batch is logged, counted in [Stats].PointsFailed and never retried.
// Redirects are not followed (Go would turn the POST into a bodyless GET):
// a 3xx is permanent too, logged with its Location, so point Options.URL
// at the final endpoint. A custom Options.Client must not follow redirects.
// In relay mode (a "{category}" in the URL) each request carries one
// category and the input, source and version of the batches it holds, as
// DataKit's query parameters. Requests carry "precision=ns" unless the URL
// names a precision; then timestamps are encoded in that unit (truncated
// toward zero), so the backend reads them right. Points without a time are
// stamped at Write, so a late delivery does not move them.
//
// # The buffer
//
// Everything Write accepts goes to a directory of segment files (a
// write-ahead log): records of line protocol, each with a checksummed
// header and a checksummed body. A cursor file records how far delivery has
// got; a segment is deleted when delivery has passed it. On start, New
// cuts off a record left half-written by a crash and Run replays the
// buffer from the cursor, in order. A record whose body checksum does not
// match is skipped and its points counted in Stats.PointsDropped; a
// damaged header is skipped up to the next intact one, its lines counted
// as dropped the same way. A read that fails for another reason (too many
// open files, an I/O error) is retried with back-off, logged and counted
// in Stats.ReadErrors; it never stops Run.
//
// Durability: a nil error from Write means the batch is in the buffer. A
// crash of the process (kill -9) loses nothing that Write acknowledged,
// whatever the [SyncPolicy], because the data is in the kernel once
// Write returns. The SyncPolicy decides what survives a crash of the
// machine: SyncAlways (the default) fsyncs before Write returns, with one
// fsync shared by concurrent writers; SyncInterval fsyncs periodically;
// SyncNever leaves it to the OS.
//
// A Write the buffer cannot store because of an I/O error (a full disk,
// too many open files, a segment that cannot be created) keeps nothing of
// the batch and returns an error matching point.ErrBusy with a Retry-After
// hint, so an HTTP input answers 429 or 503 and its client retries later;
// the buffer stays usable. When a write does not fit on a full file system,
// the space of delivered data is reclaimed (the active segment sealed and
// delivered segments deleted) and the write tried again, however far the
// buffer is below BufferMaxBytes, so writes succeed again as soon as
// delivery has caught up. Such errors name the condition, not the file:
// the path is logged. A failed fsync after the records are written is
// not returned: they are in the buffer and will be delivered (an error
// would only make the client send them again), but they may not survive a
// machine crash; the failure is logged and counted in Stats.SyncErrors.
//
// Delivery is at least once. A batch is retried until the backend gives
// a definite answer, and the cursor advances only over answered batches,
// so nothing accepted is lost while the forwarder runs or across a crash.
// It is exactly once only when every request gets a timely answer: a
// request that times out (or whose connection breaks) after the backend
// stored it is sent again and the backend gets it twice; after a crash or
// a shutdown, batches delivered past the last cursor update, or finished
// ahead of an older batch still in flight, are sent again on the next
// start.
//
// Ordering: the buffer is read in order, and batches are formed in order.
// With Concurrency > 1 requests overlap, so they can reach the backend out
// of order, and a batch being retried does not hold back the ones after it
// (up to 4*Concurrency batches past the oldest unfinished one; only then
// does reading pause). With Concurrency 1 delivery is strictly in order:
// the single sender retries a batch until it is answered before it takes
// the next.
//
// When the buffer reaches BufferMaxBytes, the [FullPolicy] applies:
// FullBlock (the default) makes Write wait up to MaxBlock (and never past
// its context) and then return an error matching point.ErrBusy and
// [ErrFull] with a Retry-After hint, so an HTTP input such as httpapi
// answers 429 instead of accepting what cannot be kept; FullReject
// answers busy at once;
// FullDropOldest deletes the oldest undelivered segment and counts its
// points in Stats.PointsDropped.
//
// # Lifecycle and concurrency
//
// Write, Flush, Stats, Status, Ready, Collect and WritePrometheus are safe
// for concurrent use. Run is called once and ends only when its context
// is done (a failing backend or buffer read is retried, never a reason to
// stop); then it keeps delivering for up to ShutdownTimeout, leaves the
// rest on disk, closes the forwarder and returns nil. Write after that
// returns ErrClosed. A forwarder that is never run must be closed with
// Close; Close must not be called while Run is running (cancel Run's
// context instead). One directory belongs to one forwarder at a time (an
// advisory lock enforces it on Unix).
//
// # Health and metrics
//
// [Forwarder.Status] is a snapshot for a status page: the buffer's fill,
// the age of the oldest undelivered point, points by outcome, the last
// delivery and the last error, and two verdicts. Stuck means data has
// waited with nothing delivered for Options.StuckAfter (30s by default,
// longer with a long FlushInterval or RequestTimeout); Full means the
// last Write that needed room found none. [Forwarder.Ready] turns them
// into an error for a readiness probe, matching [ErrFull] or [ErrStuck]
// and saying what is behind it.
//
// A Forwarder is a prometheus.Collector: register it in the host's
// registry. Every metric has the const label forwarder (Options.Name, by
// default the URL's host and path), so several forwarders register in one
// registry. Besides the counters of [Forwarder.Stats] and the buffer's
// gauges, it has a histogram of the delivery latency (from Write accepting
// a batch's oldest point to the backend's 2xx, per request) and one of
// request durations. Acceptance times are kept in memory, not in the
// buffer: for data left by an earlier run, ages count from when its
// segment file was last written. [Forwarder.WritePrometheus] writes one
// forwarder's metrics in the text format, for a host with nothing else to
// expose.
package forward
