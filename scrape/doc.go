// Package scrape pulls metrics from Prometheus exporters into a
// point.Sink, as Prometheus and DataKit's prom input do.
//
// # A guided tour
//
// Build a [Scraper] from [Options] with [New] and run it until its
// context is done:
//
//	s, err := scrape.New(scrape.Options{
//		Name:    "node",                                                // the job tag
//		Targets: []scrape.Target{{URL: "http://127.0.0.1:9100/metrics"}},
//		Sink:    sink,
//	})
//	if err != nil { ... }      // every mistake, each naming its field: Targets[1].URL: ...
//	err = s.Run(ctx)           // nil once ctx is done and every scrape has ended
//
// Each target is scraped every Options.Interval (30 s by default, as
// DataKit), on its own goroutine, at a stable offset within the interval
// (derived from the job and the URL, as Prometheus places targets), so
// that targets spread over the interval instead of firing together, and
// keep their place when the host restarts. A scrape is bounded by
// Options.Timeout (10 s, or the interval if that is shorter; a timeout
// longer than the interval is an error) and by Options.MaxBodyBytes
// (64 MiB after decompression).
//
// # What a scrape sends and reads
//
// The request carries Prometheus 2.x's Accept header with protobuf
// negotiation ([AcceptHeader]: delimited protobuf, then OpenMetrics 1.0.0
// and 0.0.1, then text 0.0.4), Accept-Encoding: gzip, and
// X-Prometheus-Scrape-Timeout-Seconds; with Options.BearerToken,
// BearerTokenFile (read at every scrape, so a rotated token is used) or
// BasicAuth, its Authorization. https targets use Options.TLS (a CA file,
// a client certificate, a server name, or no verification at all).
//
// The body, gunzipped when the exporter compressed it, is decoded by
// protocol.DecodeExposition in the format its Content-Type names; the
// package documentation of protocol says what each sample becomes
// (counters lose _total into a "total" field, histogram buckets are
// points tagged le, and so on). A body is taken whole or not at all.
//
// # Tags
//
// Every point of a target gets the target's tags: job (Options.Name,
// "prom" by default), instance (the URL's host:port, with the scheme's
// default port when the URL has none), then Options.Tags, then
// Target.Tags, each overriding the ones before. A sample's own label of
// the same name is renamed exported_<name> (Prometheus's honor_labels
// false, the default); with Options.HonorLabels the sample's label is
// kept and the target's tag of that name is not added. A label or tag
// with an empty value is dropped, since Prometheus takes it as no label.
//
// Each scrape also gives three points with the target's tags and a
// "value" field, as Prometheus adds them: up (1, or 0 when the scrape
// failed), scrape_duration_seconds and scrape_samples_scraped (a
// summary's or histogram's _sum and _count are two samples). Every point
// of a scrape has the scrape's start time unless the exporter gave the
// sample a timestamp.
//
// # Failures
//
// A target that cannot be reached, answers a status other than 2xx
// ([ErrStatus]), times out, sends a body over the limit
// ([ErrBodyTooLarge]) or one that does not decode gives a batch with
// up 0 and no samples. The failure is logged at Warn with the URL and the
// HTTP status (at Debug when it repeats the previous one; the recovery at
// Info) and kept in [Scraper.Stats]; it never delays or stops the other
// targets. A Sink error is logged and kept too: a scrape is not retried,
// the next one brings fresh values.
//
// # Points and the Sink
//
// Each scrape is one point.Batch of category metric with Input set to
// Options.Name, normalized first by a constraint.Normalizer built from
// Options.Constraint (by default DataKit's rules: a NaN or infinite
// sample is dropped with a non_finite warning). A rejected point is
// dropped and the rest written. The batch's points alias the scraper's
// buffers, which the next scrape of that target reuses: as point.Sink
// requires, a Sink must not keep them after Write returns.
//
// # Status and metrics
//
// [Scraper.Status] gives the scraper's name and interval and the last
// result of every target ([TargetStats]: up, duration, samples, the last
// error, counts of scrapes and failures), for a status page; it marshals
// to JSON with the errors as text.
//
// A Scraper is a prometheus.Collector: register it in the host's
// registry. Per target (labels url and instance) it reports whether the
// target is up, the last scrape's duration, samples and start time, the
// counts of scrapes, failures and refused writes, and a histogram of
// scrape durations. Every metric has the const label input (Options.Name),
// so scrapers of different names share one registry; two of one name
// cannot.
//
// # Concurrency
//
// A Scraper is safe for concurrent use: Stats, Status and Collect may be
// called from any goroutine while Run runs. Run may be called again after it returned;
// a second Run while one runs returns [ErrRunning]. The Sink is called
// from one goroutine per target, so concurrently. The package holds no
// global state.
package scrape
