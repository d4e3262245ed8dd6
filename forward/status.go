package forward

import (
	"errors"
	"fmt"
	"time"
)

// ErrStuck is matched by Ready's error while delivery is stuck (see
// Status.Stuck).
var ErrStuck = errors.New("forward: delivery stuck")

// Status is a snapshot of a Forwarder's state for status pages and
// readiness checks: a plain value, copied out by Forwarder.Status. Its
// JSON form has snake_case keys and durations in nanoseconds (keys
// ending in _ns).
type Status struct {
	// Name is Options.Name (by default the URL's host and path).
	Name string `json:"name"`
	// URL is Options.URL without credentials: no user information, and
	// the values of the query parameters p, password and token replaced.
	URL string `json:"url"`

	// BufferedBytes is the size of the undelivered data in the buffer and
	// CapacityBytes the most it may hold (Options.BufferMaxBytes); Fill is
	// their ratio, from 0 to 1. Stats.BufferedBytes counts the disk
	// instead, which also holds delivered data not yet freed.
	BufferedBytes  int64   `json:"buffered_bytes"`
	BufferedPoints int64   `json:"buffered_points"`
	CapacityBytes  int64   `json:"capacity_bytes"`
	Fill           float64 `json:"fill"`
	// OldestUnsent is the age of the oldest undelivered point (since Write
	// accepted it); 0 when the buffer is empty. For data left by an
	// earlier run, it counts from when that data's segment file was last
	// written, so it may be an underestimate.
	OldestUnsent time.Duration `json:"oldest_unsent_ns"`

	// Points since New: delivered (a 2xx answer), retried (once per
	// retry), dropped from the buffer, refused by Write for lack of room,
	// failed (refused by the backend for good). As in Stats.
	Delivered int64 `json:"delivered"`
	Retried   int64 `json:"retried"`
	Dropped   int64 `json:"dropped"`
	Refused   int64 `json:"refused"`
	Failed    int64 `json:"failed"`

	// LastDelivery is when the backend last accepted a batch; zero before
	// the first.
	LastDelivery time.Time `json:"last_delivery"`
	// LastError is why the last failed request failed (the HTTP status and
	// the start of the answer, or the network error), and LastErrorTime
	// when; "" and zero before any failure. A later success does not
	// clear them: compare LastErrorTime with LastDelivery.
	LastError     string    `json:"last_error"`
	LastErrorTime time.Time `json:"last_error_time"`

	// Stuck: data is waiting and nothing has been delivered for
	// Options.StuckAfter (by default the longest of 30s, 3×FlushInterval
	// and RequestTimeout), counted from the last delivery, from when the
	// oldest waiting data was written, or from New, whichever is latest.
	// A forwarder whose Run has not started or has ended is stuck too
	// once its data has waited that long.
	Stuck bool `json:"stuck"`
	// Full: the buffer has no room for a Write: the last Write that needed
	// room was refused or is waiting for it, and nothing has been
	// delivered or written since. Under FullDropOldest a Write makes room
	// by dropping data (counted in Dropped), so the buffer is full only
	// when there is nothing left to drop.
	Full bool `json:"full"`
}

// Status returns the forwarder's state. It is safe to call at any time,
// concurrently with everything else, also after Run has returned.
func (f *Forwarder) Status() Status {
	h := f.buf.health()
	st := Status{
		Name:           f.opts.Name,
		URL:            f.url,
		BufferedBytes:  h.undelivered,
		BufferedPoints: h.points,
		CapacityBytes:  f.opts.BufferMaxBytes,
		Delivered:      f.ctr.pointsSent.Load(),
		Retried:        f.ctr.pointsRetried.Load(),
		Dropped:        f.buf.dropped.Load(),
		Refused:        f.ctr.pointsRefused.Load(),
		Failed:         f.ctr.pointsFailed.Load(),
		Full:           h.noRoom || h.undelivered >= f.opts.BufferMaxBytes,
	}
	st.Fill = min(float64(st.BufferedBytes)/float64(st.CapacityBytes), 1)
	if n := f.lastDelivery.Load(); n != 0 {
		st.LastDelivery = f.buf.epoch.Add(time.Duration(n))
	}
	f.errMu.Lock()
	st.LastError, st.LastErrorTime = f.lastError, f.lastErrorTime
	f.errMu.Unlock()
	if h.points > 0 {
		now := f.buf.now()
		waiting := f.lastDelivery.Load() // since New: zero counts from the epoch
		if h.hasOldest {
			st.OldestUnsent = time.Duration(max(now-h.oldest, 0))
			waiting = max(waiting, h.oldest)
		}
		st.Stuck = time.Duration(now-waiting) >= f.opts.StuckAfter
	}
	return st
}

// Ready returns nil when the forwarder can take writes and is delivering
// them, else an error saying why: the buffer is full (matching ErrFull),
// delivery is stuck (ErrStuck), or the forwarder is closed (ErrClosed).
// The error names the forwarder and gives the figures behind it, for a
// readiness endpoint to show.
func (f *Forwarder) Ready() error {
	if f.closed.Load() {
		return fmt.Errorf("forwarder %s: %w", f.opts.Name, ErrClosed)
	}
	st := f.Status()
	var errs []error
	if st.Full {
		errs = append(errs, fmt.Errorf("forwarder %s: %w: %d undelivered points in %d of %d bytes; writes are refused or wait until delivery makes room",
			st.Name, ErrFull, st.BufferedPoints, st.BufferedBytes, st.CapacityBytes))
	}
	if st.Stuck {
		last := "never"
		if !st.LastDelivery.IsZero() {
			last = roundAge(time.Since(st.LastDelivery)).String() + " ago"
		}
		reason := ""
		if st.LastError != "" {
			reason = "; last error: " + st.LastError
		}
		errs = append(errs, fmt.Errorf("forwarder %s: %w: %d points waiting, the oldest for %s; last delivery %s%s",
			st.Name, ErrStuck, st.BufferedPoints, roundAge(st.OldestUnsent), last, reason))
	}
	return errors.Join(errs...)
}

// roundAge rounds d for a message: to the millisecond below 10s, else to
// the second.
func roundAge(d time.Duration) time.Duration {
	if d < 10*time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
