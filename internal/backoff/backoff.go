// Package backoff computes the delay before a retry or a restart:
// exponential growth from a minimum up to a cap, with random jitter so that
// clients that failed together do not all come back at the same moment.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Exponential is a back-off policy. Attempt n (from 0) waits Min·2^n, at
// most Max, spread at random by Jitter. The zero value never waits.
type Exponential struct {
	// Min is the delay of attempt 0. Zero or negative means 0.
	Min time.Duration
	// Max caps every delay, jitter included. Zero or negative means 0;
	// below Min, Max is the delay of every attempt.
	Max time.Duration
	// Jitter is the fraction by which a delay d is spread: the delay is
	// drawn uniformly from [d·(1−Jitter), d·(1+Jitter)] and then capped
	// at Max. Zero means none; it is clamped to [0, 1].
	Jitter float64
}

// Base returns the delay of attempt without jitter: Min·2^attempt, capped
// at Max. A negative attempt counts as 0; no attempt overflows.
func (e Exponential) Base(attempt int) time.Duration {
	lo, hi := max(e.Min, 0), max(e.Max, 0)
	if lo >= hi {
		return hi
	}
	attempt = max(attempt, 0)
	// lo<<attempt stays at most hi (and so cannot overflow) while
	// lo <= hi>>attempt; shifting hi is defined for any attempt below 63.
	if attempt < 63 && lo <= hi>>attempt {
		return lo << attempt
	}
	return hi
}

// Delay returns the delay before attempt: Base(attempt) spread by Jitter,
// never above Max. It is safe for concurrent use.
func (e Exponential) Delay(attempt int) time.Duration {
	d := e.Base(attempt)
	j := min(max(e.Jitter, 0), 1)
	if j == 0 || d == 0 {
		return d
	}
	// Computed in float64 so that d·(1+j) near the top of the Duration
	// range is compared with Max before it is converted back.
	x := float64(d) * (1 - j + 2*j*rand.Float64())
	if hi := float64(max(e.Max, 0)); x >= hi {
		return max(e.Max, 0)
	}
	return time.Duration(x)
}
