package protocol

import (
	"math"
	"time"
)

// unitOf returns the length in nanoseconds of one unit of p for the
// timestamp ts. PrecisionAuto picks the unit by magnitude like DataKit: an
// absolute value below 1e10 is seconds, below 1e13 milliseconds, below 1e16
// microseconds, anything larger nanoseconds.
func unitOf(p Precision, ts int64) int64 {
	if p != PrecisionAuto {
		return int64(p.Duration())
	}
	a := ts
	if a < 0 {
		if a == math.MinInt64 {
			return 1
		}
		a = -a
	}
	switch {
	case a < 1e10:
		return int64(time.Second)
	case a < 1e13:
		return int64(time.Millisecond)
	case a < 1e16:
		return int64(time.Microsecond)
	}
	return 1
}

// Time converts the timestamp ts, counted in p's unit, to a time.
// PrecisionAuto picks the unit by magnitude like DataKit (an absolute value
// below 1e10 is seconds, below 1e13 milliseconds, below 1e16 microseconds,
// else nanoseconds). It reports false when the result does not fit in
// int64 nanoseconds or p is not a valid Precision.
func (p Precision) Time(ts int64) (time.Time, bool) { return intTime(ts, p) }

// FloatTime is Time for a timestamp with a fraction (Python's time.time(),
// for example), rounded to the nearest nanosecond. It reports false for NaN,
// infinities and results that do not fit in int64 nanoseconds.
func (p Precision) FloatTime(f float64) (time.Time, bool) { return floatTime(f, p) }

// intTime converts ts, counted in precision p, to a time. It reports false
// when the result does not fit in int64 nanoseconds.
func intTime(ts int64, p Precision) (time.Time, bool) {
	unit := unitOf(p, ts)
	if unit == 0 { // an invalid Precision value
		return time.Time{}, false
	}
	if unit != 1 && (ts > math.MaxInt64/unit || ts < math.MinInt64/unit) {
		return time.Time{}, false
	}
	return time.Unix(0, ts*unit), true
}

// floatTime converts a non-integral JSON timestamp f, counted in precision
// p, to a time, rounding to the nearest nanosecond.
func floatTime(f float64, p Precision) (time.Time, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}, false
	}
	var unit int64
	if p != PrecisionAuto {
		unit = int64(p.Duration())
	} else {
		a := math.Abs(f)
		switch {
		case a < 1e10:
			unit = int64(time.Second)
		case a < 1e13:
			unit = int64(time.Millisecond)
		case a < 1e16:
			unit = int64(time.Microsecond)
		default:
			unit = 1
		}
	}
	if unit == 0 {
		return time.Time{}, false
	}
	ns := math.Round(f * float64(unit))
	// 2^63 is exactly representable; anything at or beyond it overflows.
	if ns >= 9223372036854775808.0 || ns < -9223372036854775808.0 {
		return time.Time{}, false
	}
	return time.Unix(0, int64(ns)), true
}

var (
	minTime = time.Unix(0, math.MinInt64)
	maxTime = time.Unix(0, math.MaxInt64)
)

// timeInUnit returns t as a count of p's units (nanoseconds for
// PrecisionAuto), truncated toward zero, and false when t does not fit in
// int64 nanoseconds.
func timeInUnit(t time.Time, p Precision) (int64, bool) {
	if t.Before(minTime) || t.After(maxTime) {
		return 0, false
	}
	ns := t.UnixNano()
	if unit := int64(p.Duration()); unit > 1 {
		ns /= unit
	}
	return ns, true
}
