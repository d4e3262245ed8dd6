package netdata

import "math"

// algorithm is how a dimension's collected integers become stored values
// (the DIMENSION line's third parameter). The zero value is absolute.
type algorithm uint8

const (
	absolute algorithm = iota
	incremental
	percentOfAbsoluteRow
	percentOfIncrementalRow
)

var algorithmNames = [...]string{"absolute", "incremental", "percentage-of-absolute-row", "percentage-of-incremental-row"}

func (a algorithm) String() string { return algorithmNames[a] }

// parseAlgorithm maps a DIMENSION algorithm word to an algorithm. Like
// Netdata, an empty or unknown word means absolute.
func parseAlgorithm(b []byte) algorithm {
	for i, n := range algorithmNames {
		if string(b) == n {
			return algorithm(i)
		}
	}
	return absolute
}

// Counter caps for wrap detection: a counter whose last value fits in 32
// bits is taken to be a 32-bit counter, any other a 63-bit one (collected
// values are signed 64-bit, so a counter can only run up to MaxInt64).
const (
	cap32 = uint64(1) << 32
	cap63 = uint64(1) << 63
)

// counterDelta returns collected - last for an incremental counter. When
// collected is lower than last it is a wrap of a 32-bit or 63-bit counter
// if the implied increase, cap - last + collected, is less than half of
// the cap (a counter near its top came round to a small value), and
// otherwise a reset: ok is false then. A decrease involving a negative
// value is always a reset. Increases and equal values are never wraps.
func counterDelta(last, collected int64) (delta float64, ok bool) {
	if collected >= last {
		return float64(uint64(collected - last)), true // no overflow: sign-safe through uint64
	}
	if last < 0 || collected < 0 {
		return 0, false
	}
	c := cap63
	if uint64(last) < cap32 {
		c = cap32
	}
	d := c - uint64(last) + uint64(collected)
	if d >= c/2 {
		return 0, false
	}
	return float64(d), true
}

// ratio returns a*mul/div as float64. Netdata's multiplier and divisor are
// integers; a zero one counts as 1 (see chart.go).
func ratio(a float64, mul, div int64) float64 {
	return a * float64(mul) / float64(div)
}

// isFinite reports whether f is neither NaN nor an infinity.
func isFinite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
