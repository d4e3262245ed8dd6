package forward

import (
	"bufio"
	"io"
	"strconv"
	"sync/atomic"
)

type counters struct {
	pointsAccepted, pointsRefused, pointsSent, pointsRetried, pointsFailed atomic.Int64
	bytesAccepted, bytesSent, requests, requestErrors, retries             atomic.Int64
	readErrors                                                             atomic.Int64
}

// Stats is a snapshot of a Forwarder's counters. Totals count from New;
// the Buffered figures are the current state of the buffer, including data
// left by an earlier run.
type Stats struct {
	PointsAccepted int64 // points Write accepted into the buffer
	PointsRefused  int64 // points Write refused with a busy error (buffer full)
	PointsSent     int64 // points the backend accepted (2xx)
	PointsRetried  int64 // points in requests that failed and were retried, once per retry
	PointsFailed   int64 // points the backend refused permanently (4xx other than 429); not retried
	PointsDropped  int64 // points dropped from the buffer: FullDropOldest, or damaged on disk
	BytesAccepted  int64 // line-protocol bytes accepted into the buffer
	BytesSent      int64 // request body bytes sent (compressed when gzip is on), retries included
	Requests       int64 // HTTP requests sent
	RequestErrors  int64 // requests that failed (network error or a non-2xx status)
	Retries        int64 // retries scheduled
	ReadErrors     int64 // failed reads of the on-disk buffer (for example too many open files); each is retried
	SyncErrors     int64 // failed fsyncs of the buffer: the data is delivered, but a machine crash could lose it
	BufferedPoints int64 // points in the buffer not yet delivered
	BufferedBytes  int64 // bytes of the buffer on disk
}

// Stats returns a snapshot of the counters. It is safe to call at any
// time, concurrently with everything else.
func (f *Forwarder) Stats() Stats {
	bytes, pts, _, _, _ := f.buf.state()
	return Stats{
		PointsAccepted: f.ctr.pointsAccepted.Load(),
		PointsRefused:  f.ctr.pointsRefused.Load(),
		PointsSent:     f.ctr.pointsSent.Load(),
		PointsRetried:  f.ctr.pointsRetried.Load(),
		PointsFailed:   f.ctr.pointsFailed.Load(),
		PointsDropped:  f.buf.dropped.Load(),
		BytesAccepted:  f.ctr.bytesAccepted.Load(),
		BytesSent:      f.ctr.bytesSent.Load(),
		Requests:       f.ctr.requests.Load(),
		RequestErrors:  f.ctr.requestErrors.Load(),
		Retries:        f.ctr.retries.Load(),
		ReadErrors:     f.ctr.readErrors.Load(),
		SyncErrors:     f.buf.syncErrors.Load(),
		BufferedPoints: pts,
		BufferedBytes:  bytes,
	}
}

// WritePrometheus writes s in the Prometheus text exposition format
// (version 0.0.4), metric names prefixed with "collectkit_forward_" and
// without labels: the counters of one forwarder, as a snapshot taken
// elsewhere. Forwarder.WritePrometheus and Forwarder.Collect give more
// (histograms, the forwarder label) and are what a host should expose.
func (s Stats) WritePrometheus(w io.Writer) error {
	bw := bufio.NewWriter(w)
	metric := func(name, typ, help string, v int64) {
		name = "collectkit_forward_" + name
		bw.WriteString("# HELP " + name + " " + help + "\n")
		bw.WriteString("# TYPE " + name + " " + typ + "\n")
		bw.WriteString(name + " " + strconv.FormatInt(v, 10) + "\n")
	}
	metric("points_accepted_total", "counter", "Points accepted into the buffer.", s.PointsAccepted)
	metric("points_refused_total", "counter", "Points refused because the buffer was full.", s.PointsRefused)
	metric("points_sent_total", "counter", "Points delivered to the backend.", s.PointsSent)
	metric("points_retried_total", "counter", "Points in requests that were retried, once per retry.", s.PointsRetried)
	metric("points_failed_total", "counter", "Points the backend refused permanently.", s.PointsFailed)
	metric("points_dropped_total", "counter", "Points dropped from the buffer (drop-oldest policy or damaged data).", s.PointsDropped)
	metric("bytes_accepted_total", "counter", "Line-protocol bytes accepted into the buffer.", s.BytesAccepted)
	metric("bytes_sent_total", "counter", "Request body bytes sent, retries included.", s.BytesSent)
	metric("requests_total", "counter", "HTTP requests sent.", s.Requests)
	metric("request_errors_total", "counter", "HTTP requests that failed.", s.RequestErrors)
	metric("retries_total", "counter", "Retries scheduled.", s.Retries)
	metric("buffer_read_errors_total", "counter", "Failed reads of the on-disk buffer; each is retried.", s.ReadErrors)
	metric("buffer_sync_errors_total", "counter", "Failed fsyncs of the on-disk buffer.", s.SyncErrors)
	metric("buffered_points", "gauge", "Points in the buffer not yet delivered.", s.BufferedPoints)
	metric("buffered_bytes", "gauge", "Bytes of the on-disk buffer.", s.BufferedBytes)
	return bw.Flush()
}
