package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond"
)

// defaultTestTimeout is how long -test waits for every input to report.
const defaultTestTimeout = 30 * time.Second

// testScrapeInterval is the interval (and timeout) of -test's one scrape
// of each Prometheus target: its first scrape comes within it.
const testScrapeInterval = 5 * time.Second

// testInputs is -test: it starts every input of cs (not the listener),
// writes their points as line protocol to w until each pythond input's
// collectors have all run once and each Prometheus target has been
// scraped once, or timeout passes, and stops them. It fails naming the
// inputs that did not report in time or could not start.
func testInputs(ctx context.Context, cs *configSet, timeout time.Duration, w io.Writer, logger *slog.Logger) error {
	out := newLineSink(w)
	var mu sync.Mutex
	reported := map[string]bool{} // input label -> a batch arrived
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var errs []error
	var running []*runningInput
	for _, s := range inputSpecs(cs) {
		if s.kind == "collectd_network" {
			continue // it receives; there is nothing to run once
		}
		if s.prom != nil {
			in := *s.prom
			in.Interval, in.Timeout = pythond.Duration(testScrapeInterval), pythond.Duration(testScrapeInterval)
			s.prom = &in
		}
		label := s.label()
		env := &inputEnv{baseDir: cs.baseDir, globalTags: cs.cfg.GlobalTags, logger: logger,
			sink: point.SinkFunc(func(ctx context.Context, b point.Batch) error {
				mu.Lock()
				reported[label] = true
				mu.Unlock()
				return out.Write(ctx, b)
			})}
		ri, err := env.buildInput(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ri.start(ctx, logger, func(s inputSpec, err error) { logger.Error("input failed", "input", s.label(), "err", err) })
		running = append(running, ri)
	}
	done := func() (waiting []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, ri := range running {
			switch {
			case ri.sup != nil:
				if !supervisorReportedOnce(ri.sup, reported[ri.spec.label()]) {
					waiting = append(waiting, ri.spec.label())
				}
			case ri.scr != nil:
				for _, st := range ri.scr.Stats() {
					if st.Scrapes == 0 {
						waiting = append(waiting, ri.spec.label()+" "+st.URL)
					}
				}
			}
		}
		return waiting
	}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var waiting []string
	for {
		if waiting = done(); len(waiting) == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
			continue
		}
		break
	}
	cancel()
	for _, ri := range running {
		ri.stop()
	}
	if len(waiting) > 0 {
		sort.Strings(waiting)
		for _, l := range waiting {
			errs = append(errs, fmt.Errorf("%s: did not report within %s", l, timeout))
		}
	}
	return errors.Join(errs...)
}

// supervisorReportedOnce tells whether a pythond input has reported.
func supervisorReportedOnce(_ *pythond.Supervisor, reported bool) bool { return reported }
