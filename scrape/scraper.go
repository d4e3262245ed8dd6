package scrape

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
)

// Scraper scrapes its targets every interval into a Sink. Build one with
// New and start it with Run. Its methods are safe for concurrent use.
type Scraper struct {
	cfg     config
	sink    point.Sink // normalizing, then Options.Sink
	logger  *slog.Logger
	targets []*target
	met     metrics
	running atomic.Bool
	// ownClient: the client was built by New, not given in Options.
	ownClient bool
}

// ErrRunning is returned by Run when the Scraper is already running.
var ErrRunning = errors.New("scrape: Run called while the scraper is running")

// New checks opts and returns a Scraper that has not started. Every
// mistake in opts is reported, joined; each matches ErrInvalidOptions and
// is an *OptionsError naming the field (with the target's index).
func New(opts Options) (*Scraper, error) {
	cfg, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	if err := opts.Constraint.Validate(); err != nil {
		return nil, &OptionsError{Field: "Constraint", Err: err}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	copts := opts.Constraint
	copts.WritePartial = true
	if copts.Logger == nil {
		copts.Logger = logger
	}
	s := &Scraper{
		cfg:       cfg,
		sink:      constraint.New(copts).Sink(opts.Sink),
		logger:    logger,
		ownClient: opts.Client == nil,
		met:       newMetrics(cfg.name),
	}
	for i, tc := range cfg.targets {
		s.targets = append(s.targets, &target{
			s:        s,
			index:    i,
			cfg:      tc,
			offset:   offsetOf(cfg.name, tc.url, cfg.interval),
			stats:    TargetStats{URL: tc.url, Instance: tc.instance},
			duration: s.met.duration.WithLabelValues(tc.url, tc.instance),
		})
	}
	return s, nil
}

// offsetOf is a target's stable place in the interval: the scrapes of a
// target happen when the wall clock modulo the interval equals it, so
// that targets spread over the interval and keep their place across
// restarts, as Prometheus places them.
func offsetOf(job, url string, interval time.Duration) time.Duration {
	h := fnv.New64a()
	_, _ = h.Write([]byte(job))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(url))
	return time.Duration(h.Sum64() % uint64(interval))
}

// firstDelay is how long to wait from now until a target's first scrape.
func firstDelay(now time.Time, offset, interval time.Duration) time.Duration {
	phase := time.Duration(now.UnixNano() % int64(interval))
	d := offset - phase
	if d < 0 {
		d += interval
	}
	return d
}

// Run scrapes every target on its own schedule, concurrently, until ctx
// is done, and then returns nil once every scrape in flight has ended. A
// failing target is logged and reported as up 0; it never stops the
// others. Run may be called again after it returned, but not while it
// runs (ErrRunning).
func (s *Scraper) Run(ctx context.Context) error {
	if !s.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer s.running.Store(false)
	var wg sync.WaitGroup
	for _, t := range s.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.loop(ctx)
		}()
	}
	wg.Wait()
	if s.ownClient {
		s.cfg.client.CloseIdleConnections() // their goroutines end with Run
	}
	return nil
}

// Stats returns the last result of every target, in the order of
// Options.Targets. The slice is the caller's.
func (s *Scraper) Stats() []TargetStats {
	out := make([]TargetStats, len(s.targets))
	for i, t := range s.targets {
		out[i] = t.snapshot()
	}
	return out
}

// loop is one target's schedule: the first scrape at the target's offset
// in the interval, then one per interval. A scrape that takes longer
// than the interval (a slow sink) makes the missed ones be skipped.
func (t *target) loop(ctx context.Context) {
	interval := t.s.cfg.interval
	timer := time.NewTimer(firstDelay(time.Now(), t.offset, interval))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return
	case <-timer.C:
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		t.scrapeOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
