package forward

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// ErrClosed is returned by Write after the forwarder has shut down.
var ErrClosed = errors.New("forward: forwarder is closed")

// Forwarder is a point.Sink that stores every batch in an on-disk buffer
// and delivers it as line protocol over HTTP. Create it with New, start
// delivery with Run; Write is safe for concurrent use.
type Forwarder struct {
	opts   Options
	ep     endpoint
	client *http.Client
	buf    *buffer
	pool   sync.Pool // *encodeState

	flushReq chan struct{}
	running  atomic.Bool
	closed   atomic.Bool

	ctr counters
	url string // Options.URL without credentials
	met metrics
	reg *prometheus.Registry // for WritePrometheus

	// lastDelivery is the buffer-epoch time (see buffer.now) of the last
	// 2xx answer; 0 before the first.
	lastDelivery  atomic.Int64
	errMu         sync.Mutex
	lastError     string
	lastErrorTime time.Time

	trackMu    sync.Mutex
	nextSeq    uint64              // next batch sequence number (reader)
	commitSeq  uint64              // next sequence number to commit
	doneAhead  map[uint64]doneMark // batches finished before an older one; at most maxAhead
	tracked    chan struct{}       // closed and replaced when commitSeq advances
	gzipPool   sync.Pool
	bodyPool   sync.Pool
	closeOnce  sync.Once
	closeError error
}

// noRedirects makes the default client return a 3xx response as it is:
// following a 301, 302 or 303 turns the POST into a GET without a body,
// whose 2xx would count the batch as delivered.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// maxPooledEncodeBytes is the largest encoding buffer Write keeps for
// reuse.
const maxPooledEncodeBytes = 4 << 20

type encodeState struct {
	enc protocol.LineEncoder
	buf []byte
}

// New validates opts, opens (or creates) the buffer directory and replays
// nothing yet: delivery, including of data left from an earlier run, starts
// with Run. Write may be called before Run; what it accepts waits on disk.
// Call Close if Run is never called.
func New(opts Options) (*Forwarder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	ep, err := parseEndpoint(o.URL)
	if err != nil {
		return nil, err
	}
	client := o.Client
	if client == nil {
		tr := &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        o.Concurrency * 2,
			MaxIdleConnsPerHost: o.Concurrency,
			IdleConnTimeout:     90 * time.Second,
			ForceAttemptHTTP2:   true,
		}
		client = &http.Client{Transport: tr, Timeout: o.RequestTimeout, CheckRedirect: noRedirects}
	}
	b, err := openBuffer(bufferConfig{
		dir: o.BufferDir, maxBytes: o.BufferMaxBytes, segmentBytes: o.SegmentBytes,
		sync: o.Sync, syncInterval: o.SyncInterval, full: o.Full, maxBlock: o.MaxBlock, log: o.Logger,
	})
	if err != nil {
		return nil, err
	}
	f := &Forwarder{opts: o, ep: ep, client: client, buf: b, flushReq: make(chan struct{}, 1), doneAhead: map[uint64]doneMark{}, tracked: make(chan struct{})}
	f.pool.New = func() any { return &encodeState{} }
	f.url = redactURL(o.URL)
	f.met = newMetrics(o.Name)
	f.reg = prometheus.NewPedanticRegistry()
	if err := f.reg.Register(f); err != nil {
		_ = b.close()
		return nil, fmt.Errorf("forward: metrics: %w", err)
	}
	if _, pts, _, _, _ := b.state(); pts > 0 {
		o.Logger.Info("forward: buffer holds undelivered points from an earlier run; they are sent first", "points", pts)
	}
	return f, nil
}

// Write encodes b as line protocol and appends it to the on-disk buffer. A
// nil error means every point is in the buffer, as durable as
// Options.Sync promises; b is not retained. Points without a time get the
// time of the call, so a delayed delivery does not move them.
//
// When the buffer is full the error matches point.ErrBusy and ErrFull
// (see FullPolicy) and nothing of b is kept. A point that cannot be
// encoded (no fields, NaN, an invalid key) fails the whole batch with a
// permanent error naming its index; nothing of b is kept then either.
func (f *Forwarder) Write(ctx context.Context, b point.Batch) error {
	if len(b.Points) == 0 {
		return nil
	}
	if f.closed.Load() {
		return ErrClosed
	}
	if !b.Category.IsValid() {
		return fmt.Errorf("forward: batch has invalid category %v", b.Category)
	}
	st := f.pool.Get().(*encodeState)
	defer func() {
		// One large batch must not pin its encoding buffer in the pool.
		if cap(st.buf) > maxPooledEncodeBytes {
			st.buf = nil
		}
		f.pool.Put(st)
	}()
	st.enc.Precision = f.ep.precision
	buf := st.buf[:0]
	now := time.Now()
	var hdr [recHeaderSize]byte
	var meta string
	if f.ep.relay && (b.Input != "" || b.Source != "" || b.Version != "") {
		meta = b.Input + "\x00" + b.Source + "\x00" + b.Version
		if len(meta) > 0xffff {
			return fmt.Errorf("forward: the batch's input, source and version are %d bytes long, more than 65535", len(meta))
		}
	}
	rec, n, total := 0, 0, 0
	buf = append(buf, hdr[:]...)
	buf = append(buf, meta...)
	for i := range b.Points {
		p := b.Points[i]
		if p.Time.IsZero() {
			p.Time = now
		}
		start := len(buf)
		var err error
		buf, err = st.enc.Append(buf, p)
		if err != nil {
			st.buf = buf[:0]
			return fmt.Errorf("forward: point %d (%q) of the %s batch cannot be encoded: %w", i, p.Name, b.Category, err)
		}
		if len(buf) == start {
			st.buf = buf[:0]
			return fmt.Errorf("forward: point %d (%q) of the %s batch encoded to nothing", i, p.Name, b.Category)
		}
		n++
		total++
		if n >= f.opts.BatchPoints || len(buf)-rec-recHeaderSize-len(meta) >= f.opts.BatchBytes {
			sealRecord(buf[rec:], b.Category, n, len(meta))
			rec, n = len(buf), 0
			if i < len(b.Points)-1 {
				buf = append(buf, hdr[:]...)
				buf = append(buf, meta...)
			}
		}
	}
	if n > 0 {
		sealRecord(buf[rec:], b.Category, n, len(meta))
	}
	st.buf = buf[:0]
	if err := f.buf.append(ctx, buf, total); err != nil {
		if errors.Is(err, point.ErrBusy) {
			f.ctr.pointsRefused.Add(int64(total))
		}
		return err
	}
	f.ctr.pointsAccepted.Add(int64(total))
	f.ctr.bytesAccepted.Add(int64(len(buf)))
	return nil
}

// Run delivers the buffer, oldest first, until ctx is done, then keeps
// delivering for at most Options.ShutdownTimeout to flush what was accepted,
// and closes the forwarder. What is still undelivered stays on disk and is
// sent by the next forwarder opened on the same directory. Run returns nil
// after such a clean shutdown; it may be called only once.
func (f *Forwarder) Run(ctx context.Context) error {
	if !f.running.CompareAndSwap(false, true) {
		return errors.New("forward: Run called twice")
	}
	if f.closed.Load() {
		return ErrClosed
	}
	// deliverCtx outlives ctx by the shutdown grace period.
	deliverCtx, cancelDeliver := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelDeliver()
	batches := make(chan *batch, f.opts.Concurrency)
	var wg sync.WaitGroup
	for range f.opts.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.worker(deliverCtx, batches)
		}()
	}
	readerDone := make(chan error, 1)
	go func() {
		readerDone <- f.readLoop(ctx, deliverCtx, batches)
		close(batches)
	}()

	var rerr error
	readerEnded := false
	select {
	case <-ctx.Done():
	case rerr = <-readerDone:
		// The reader failed on its own: stop at once.
		readerEnded = true
		cancelDeliver()
	}
	var grace <-chan time.Time
	if f.opts.ShutdownTimeout > 0 {
		t := time.NewTimer(f.opts.ShutdownTimeout)
		defer t.Stop()
		grace = t.C
	} else {
		cancelDeliver()
	}
	workersDone := make(chan struct{})
	go func() {
		wg.Wait()
		close(workersDone)
	}()
	select {
	case <-workersDone:
	case <-grace:
		cancelDeliver()
		<-workersDone
	}
	cancelDeliver()
	if !readerEnded {
		rerr = <-readerDone
	}
	if _, pts, _, _, _ := f.buf.state(); pts > 0 {
		f.opts.Logger.Warn("forward: shutting down with undelivered points; they stay in the buffer", "points", pts)
	}
	cerr := f.Close()
	if rerr != nil && !errors.Is(rerr, context.Canceled) && !errors.Is(rerr, ErrClosed) {
		return errors.Join(rerr, cerr)
	}
	return cerr
}

// Flush sends whatever batch is being filled without waiting for
// Options.FlushInterval and waits until every point accepted before the
// call has been delivered (or permanently refused by the backend), or ctx
// is done. It needs Run to be running.
func (f *Forwarder) Flush(ctx context.Context) error {
	_, _, end, _, _ := f.buf.state()
	for {
		select {
		case f.flushReq <- struct{}{}:
		default:
		}
		_, pts, _, cur, ch := f.buf.state()
		if !cur.less(end) || pts == 0 {
			return nil
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ch:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("forward: flush: %d points not yet delivered: %w", pts, context.Cause(ctx))
		}
		t.Stop()
	}
}

// Close closes the buffer without delivering anything more. Run calls it
// when it returns; call it yourself only if Run was never started. Write
// after Close returns ErrClosed.
func (f *Forwarder) Close() error {
	f.closeOnce.Do(func() {
		f.closed.Store(true)
		f.closeError = f.buf.close()
		if f.opts.Client == nil {
			f.client.CloseIdleConnections()
		}
	})
	return f.closeError
}
