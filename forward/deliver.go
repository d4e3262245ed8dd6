package forward

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/internal/backoff"
	"github.com/collectkit/collectkit/point"
)

// batch is one request's worth of records, read from the buffer in order.
type batch struct {
	seq    uint64
	cat    point.Category
	meta   string // relay mode: input, source and version, NUL-separated
	body   []byte
	spans  []span // record boundaries in body, to split a batch the server finds too large
	points int
	end    pos // buffer position after the last record
	// accepted is when the batch's oldest record was appended (a buffer
	// mark time), if timed.
	accepted int64
	timed    bool
	// skipped: the batch covers damaged data only; it has nothing to send
	// but its end must be committed in turn.
	skipped bool
}

type span struct {
	end    int // offset in body after the record
	points int
}

// readLoop reads records from the buffer into batches and hands them to
// the workers. When stop is done it sends what it has at once and returns
// after the last record written so far; abort ends it at once.
func (f *Forwarder) readLoop(stop, abort context.Context, out chan<- *batch) error {
	var (
		cur      *batch
		started  time.Time
		timer    *time.Timer
		draining bool
		drainEnd pos
		// readFailures counts consecutive failed reads, for the back-off.
		readFailures int
	)
	newBatch := func() *batch {
		b, _ := f.bodyPool.Get().(*batch)
		if b == nil {
			b = &batch{}
		}
		b.body, b.spans, b.points, b.skipped, b.timed = b.body[:0], b.spans[:0], 0, false, false
		return b
	}
	emit := func() error {
		if cur == nil || (len(cur.spans) == 0 && !cur.skipped) {
			return nil
		}
		// Bound how far delivery may run ahead of the oldest unfinished
		// batch: what finishes ahead of it is remembered until it does.
		f.trackMu.Lock()
		cur.seq = f.nextSeq
		f.nextSeq++
		for cur.seq >= f.commitSeq+uint64(f.maxAhead()) {
			ch := f.tracked
			f.trackMu.Unlock()
			select {
			case <-ch:
			case <-abort.Done():
				return abort.Err()
			}
			f.trackMu.Lock()
		}
		f.trackMu.Unlock()
		select {
		case out <- cur:
			cur = nil
			return nil
		case <-abort.Done():
			return abort.Err()
		}
	}
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if !draining && stop.Err() != nil {
			draining = true
			_, _, drainEnd, _, _ = f.buf.state()
		}
		if cur == nil {
			cur = newBatch()
		}
		mark := len(cur.body)
		var (
			rec  readRecord
			ok   bool
			wait <-chan struct{}
			err  error
		)
		cur.body, rec, ok, wait, err = f.buf.next(cur.body)
		if errors.Is(err, ErrClosed) {
			return err
		}
		if err != nil {
			// A transient failure (too many open files, an I/O error):
			// the data is still there, so try again after a back-off.
			cur.body = cur.body[:mark]
			f.ctr.readErrors.Add(1)
			delay := f.retryPolicy(f.opts.MaxBackoff).Delay(readFailures)
			readFailures++
			f.opts.Logger.Error("forward: reading the buffer failed; retrying", "attempt", readFailures, "delay", delay, "err", err)
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-abort.Done():
				t.Stop()
				return abort.Err()
			}
			continue
		}
		readFailures = 0
		if ok && rec.skip {
			cur.end = rec.end
			if len(cur.spans) == 0 {
				cur.skipped = true
				if err := emit(); err != nil {
					return err
				}
			}
			continue
		}
		if ok {
			mixed := f.ep.relay && len(cur.spans) > 0 && (rec.cat != cur.cat || rec.meta != cur.meta)
			tooBig := len(cur.spans) > 0 && (cur.points+rec.points > f.opts.BatchPoints || len(cur.body) > f.opts.BatchBytes)
			if mixed || tooBig {
				next := newBatch()
				next.body = append(next.body, cur.body[mark:]...)
				cur.body = cur.body[:mark]
				if err := emit(); err != nil {
					return err
				}
				cur = next
				mark = 0
			}
			if len(cur.spans) == 0 {
				cur.cat, cur.meta = rec.cat, rec.meta
				cur.accepted, cur.timed = rec.accepted, rec.timed
				started = time.Now()
			}
			cur.spans = append(cur.spans, span{end: len(cur.body), points: rec.points})
			cur.points += rec.points
			cur.end = rec.end
			if cur.points >= f.opts.BatchPoints || len(cur.body) >= f.opts.BatchBytes {
				if err := emit(); err != nil {
					return err
				}
			}
			continue
		}
		// Nothing more to read for now.
		if draining {
			if err := emit(); err != nil {
				return err
			}
			if !f.buf.readPos().less(drainEnd) {
				return nil
			}
		}
		var deadline <-chan time.Time
		if len(cur.spans) > 0 {
			d := f.opts.FlushInterval - time.Since(started)
			if d <= 0 || f.opts.FlushInterval < 0 {
				if err := emit(); err != nil {
					return err
				}
				continue
			}
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			deadline = timer.C
		}
		select {
		case <-wait:
		case <-deadline:
		case <-f.flushReq:
			if err := emit(); err != nil {
				return err
			}
		case <-stop.Done():
		case <-abort.Done():
			return abort.Err()
		}
		if timer != nil && deadline != nil && !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

func (f *Forwarder) worker(ctx context.Context, in <-chan *batch) {
	for b := range in {
		if ctx.Err() == nil && (len(b.spans) == 0 || f.deliver(ctx, b, b.body, b.spans)) {
			f.complete(b.seq, doneMark{end: b.end, points: b.points})
		}
		// Otherwise shutting down: the batch stays in the buffer.
		f.bodyPool.Put(b)
	}
}

// maxAhead is how many batches may be read past the oldest unfinished
// one: the bound on the bodies in memory and on doneAhead.
func (f *Forwarder) maxAhead() int { return 4 * f.opts.Concurrency }

// doneMark is what the acknowledgement tracker keeps of a batch that
// finished ahead of an older one.
type doneMark struct {
	end    pos
	points int
}

// complete marks batch seq as finished and commits the buffer cursor over
// every batch finished in order.
func (f *Forwarder) complete(seq uint64, d doneMark) {
	f.trackMu.Lock()
	defer f.trackMu.Unlock()
	f.doneAhead[seq] = d
	advanced := false
	for {
		d, ok := f.doneAhead[f.commitSeq]
		if !ok {
			break
		}
		delete(f.doneAhead, f.commitSeq)
		f.commitSeq++
		advanced = true
		if err := f.buf.commit(d.end, int64(d.points)); err != nil {
			f.opts.Logger.Error("forward: saving the buffer cursor failed; some data may be sent again after a restart", "err", err)
		}
	}
	if advanced {
		close(f.tracked)
		f.tracked = make(chan struct{})
	}
}

// deliver sends body (whose records are spans) until it is accepted,
// permanently refused, or ctx is done. It reports whether the batch is
// finished (false: shutting down, keep it in the buffer).
func (f *Forwarder) deliver(ctx context.Context, b *batch, body []byte, spans []span) bool {
	points := 0
	for _, s := range spans {
		points += s.points
	}
	for attempt := 0; ; attempt++ {
		res := f.send(ctx, b.cat, b.meta, body)
		switch {
		case res.err == nil && (res.redirected || res.status/100 == 3):
			f.ctr.pointsFailed.Add(int64(points))
			f.noteError(res)
			f.opts.Logger.Error("forward: the endpoint redirects; the batch is not delivered or retried (set Options.URL to the location)",
				"status", res.status, "location", res.location, "points", points, "category", b.cat.String())
			return true
		case res.err == nil && res.status/100 == 2:
			f.ctr.pointsSent.Add(int64(points))
			now := f.buf.now()
			f.lastDelivery.Store(now)
			if b.timed {
				f.met.latency.Observe(time.Duration(now - b.accepted).Seconds())
			}
			return true
		case res.status == http.StatusRequestEntityTooLarge && len(spans) > 1:
			half := len(spans) / 2
			cut := spans[half-1].end
			second := make([]span, len(spans)-half)
			for i, s := range spans[half:] {
				second[i] = span{end: s.end - cut, points: s.points}
			}
			f.opts.Logger.Warn("forward: request too large; splitting it", "points", points, "bytes", len(body))
			return f.deliver(ctx, b, body[:cut], spans[:half]) && f.deliver(ctx, b, body[cut:], second)
		case res.err == nil && !retryable(res.status):
			f.ctr.pointsFailed.Add(int64(points))
			f.noteError(res)
			f.opts.Logger.Error("forward: the backend refused a batch; it is not retried",
				"status", res.status, "points", points, "category", b.cat.String(), "response", res.msg)
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		f.noteError(res)
		delay := f.retryDelay(res, attempt)
		f.ctr.retries.Add(1)
		f.ctr.pointsRetried.Add(int64(points))
		f.opts.Logger.Warn("forward: delivery failed; retrying",
			"attempt", attempt+1, "delay", delay, "status", res.status, "err", redactErr(res.err), "response", res.msg)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return false
		}
	}
}

// retryDelay is how long to wait before retrying after res, the result
// of attempt number attempt (from 0): the server's Retry-After if it sent
// one, else the back-off, capped lower when no response came back (a
// refused connection costs the backend nothing, and a backend that is
// back is found soon).
func (f *Forwarder) retryDelay(res sendResult, attempt int) time.Duration {
	switch {
	case res.retryAfter > 0:
		return min(res.retryAfter, f.opts.MaxRetryAfter)
	case res.err != nil && res.status == 0:
		return f.retryPolicy(f.opts.MaxConnectBackoff).Delay(attempt)
	default:
		return f.retryPolicy(f.opts.MaxBackoff).Delay(attempt)
	}
}

// retryable reports whether a response status is worth retrying: 429, 408
// and 5xx (except 501, which will not change).
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout ||
		(status >= 500 && status != http.StatusNotImplemented)
}

// retryPolicy is the retry back-off capped at hi: MinBackoff doubling
// after each failure, spread by ±50% so that a fleet does not retry in
// step.
func (f *Forwarder) retryPolicy(hi time.Duration) backoff.Exponential {
	return backoff.Exponential{Min: f.opts.MinBackoff, Max: hi, Jitter: 0.5}
}

type sendResult struct {
	status     int
	retryAfter time.Duration
	location   string // of a 3xx, or where a followed redirect led
	redirected bool   // the Client followed a redirect (the POST became a GET)
	msg        string
	err        error
}

func (f *Forwarder) send(ctx context.Context, cat point.Category, meta string, body []byte) sendResult {
	target := f.ep.prefix
	if f.ep.relay {
		target = f.ep.prefix + cat.String() + f.ep.suffix
		if meta != "" {
			q := url.Values{}
			for i, v := range strings.SplitN(meta, "\x00", 3) {
				if v != "" {
					q.Set([]string{"input", "source", "version"}[i], v)
				}
			}
			target += "&" + q.Encode()
		}
	}
	payload := body
	if !f.opts.DisableGzip {
		z := f.gzip(body)
		defer f.gzipPool.Put(z)
		payload = z.buf.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return sendResult{err: err}
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "collectkit-forward")
	if !f.opts.DisableGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if f.opts.Token != "" {
		req.Header.Set("Authorization", "Token "+f.opts.Token)
	}
	for k, vs := range f.opts.Header {
		req.Header[k] = vs
	}
	f.ctr.requests.Add(1)
	f.ctr.bytesSent.Add(int64(len(payload)))
	start := time.Now()
	defer func() { f.met.requests.Observe(time.Since(start).Seconds()) }()
	resp, err := f.client.Do(req)
	if err != nil {
		f.ctr.requestErrors.Add(1)
		return sendResult{err: err}
	}
	defer resp.Body.Close()
	res := sendResult{status: resp.StatusCode}
	if resp.Request != nil && resp.Request.Method != http.MethodPost {
		// A Client that follows redirects turned the POST into a bodyless
		// request: whatever it answered, the batch did not arrive.
		res.redirected = true
		res.location = resp.Request.URL.Redacted()
	} else if resp.StatusCode/100 == 3 {
		res.location = resp.Header.Get("Location")
	}
	if res.status/100 != 2 || res.redirected {
		f.ctr.requestErrors.Add(1)
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		res.msg = string(msg)
		res.retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now(), f.opts.MaxRetryAfter)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16)) // keep the connection reusable
	return res
}

// noteError keeps why a request failed for Status.LastError.
// redactErr returns err with the URL of a *url.Error redacted, since a
// query may hold a token; other errors are returned as they are.
func redactErr(err error) error {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return err
	}
	return &url.Error{Op: ue.Op, URL: redactURL(ue.URL), Err: ue.Err}
}

func (f *Forwarder) noteError(res sendResult) {
	var msg string
	switch {
	case res.status == 0 && res.err != nil:
		msg = res.err.Error()
		// A *url.Error names the URL, whose query may hold a token.
		var ue *url.Error
		if errors.As(res.err, &ue) {
			msg = ue.Err.Error()
		}
	case res.redirected:
		msg = fmt.Sprintf("HTTP %d after a redirect to %s (the POST became a GET)", res.status, res.location)
	case res.status/100 == 3:
		msg = fmt.Sprintf("HTTP %d redirect to %q", res.status, res.location)
	default:
		msg = fmt.Sprintf("HTTP %d %s", res.status, http.StatusText(res.status))
		// The start of the answer, on one line.
		if m := strings.Join(strings.Fields(res.msg), " "); m != "" {
			msg += ": " + m
		}
	}
	f.errMu.Lock()
	f.lastError, f.lastErrorTime = msg, time.Now()
	f.errMu.Unlock()
}

// gzipState is a pooled compressor and its output.
type gzipState struct {
	buf bytes.Buffer
	w   *gzip.Writer
}

func (f *Forwarder) gzip(body []byte) *gzipState {
	z, _ := f.gzipPool.Get().(*gzipState)
	if z == nil {
		z = &gzipState{}
		z.w, _ = gzip.NewWriterLevel(&z.buf, gzip.BestSpeed)
	}
	z.buf.Reset()
	z.w.Reset(&z.buf)
	_, _ = z.w.Write(body) // writes to a bytes.Buffer do not fail
	_ = z.w.Close()
	return z
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP
// date, capped at limit. Zero means absent or unreadable.
func parseRetryAfter(v string, now time.Time, limit time.Duration) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Compare in seconds before converting: a large value would wrap.
		if err != nil || s > uint64(limit/time.Second) {
			return limit
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, limit)
		}
	}
	return 0
}
