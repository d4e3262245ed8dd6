package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"github.com/collectkit/collectkit/pythond"
)

// defaultTestTimeout is how long -test waits for every input to report.
const defaultTestTimeout = 30 * time.Second

// testScrapeInterval is the interval (and timeout) of -test's one scrape
// of each Prometheus target: its first scrape comes within it.
const testScrapeInterval = 5 * time.Second

// testInputs is -test: it starts every input of cs (not the listener),
// writes their points as line protocol to w until each pythond input's
// collectors have all finished a run (no new one having shown up for a
// second) and each Prometheus target has been scraped once, or timeout
// passes, and stops them. Inputs are built strictly, as -check-config
// does. It fails naming the inputs that could not start or did not
// report in time.
func testInputs(ctx context.Context, cs *configSet, timeout time.Duration, w io.Writer, logger *slog.Logger) error {
	env := &inputEnv{strict: true, baseDir: cs.baseDir, globalTags: cs.cfg.GlobalTags, logger: logger, sink: newLineSink(w)}
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
		ri, err := env.buildInput(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ri.start(ctx, func(s inputSpec, err error) { logger.Error("input failed", "input", s.label(), "err", err) })
		running = append(running, ri)
	}
	done := func() (waiting []string) {
		for _, ri := range running {
			switch {
			case ri.sup != nil:
				if !supervisorReportedOnce(ri.sup) {
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
	// Collectors show up as they finish a first run: done once no input
	// has been waiting for a second.
	var waiting []string
	var quietSince time.Time
	for {
		if waiting = done(); len(waiting) == 0 {
			if quietSince.IsZero() {
				quietSince = time.Now()
			}
			if time.Since(quietSince) >= time.Second {
				break
			}
		} else {
			quietSince = time.Time{}
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

// supervisorReportedOnce tells whether every collector of a pythond
// input seen so far has finished a run (its points are then written).
func supervisorReportedOnce(sup *pythond.Supervisor) bool {
	for _, in := range sup.Status().Inputs {
		if len(in.Collectors) == 0 {
			return false
		}
		for _, c := range in.Collectors {
			if c.Runs == 0 || c.Running {
				return false
			}
		}
	}
	return true
}
