package protocol

import "time"

// Options control decoding. The zero Options are DataKit's defaults:
// auto-detected precision, the current time for points without one, and
// a whole body rejected when any line or element is bad.
type Options struct {
	// Precision is the unit of timestamps in the body. Zero
	// (PrecisionAuto) detects it from each timestamp's magnitude.
	Precision Precision
	// Now is the time given to points without a timestamp. Zero means
	// time.Now() taken once at the start of the call.
	Now time.Time
	// KeepValid, when true, returns the points of the good lines or
	// elements together with the error describing the bad ones. When false
	// (DataKit's behaviour) any bad line or element means no points at all.
	KeepValid bool
	// ExactInts applies to JSON only: integer number literals become
	// KindInt values (KindUint above math.MaxInt64) instead of float64, which
	// is what DataKit does with every JSON number.
	ExactInts bool
	// MaxErrors is how many DecodeErrors a *DecodeErrors records before it
	// only counts (and sets Truncated). Zero means 100; negative means
	// no limit.
	MaxErrors int
	// MaxPoints bounds the lines (line protocol: every line the decoder
	// reads, bad ones included, blank and comment lines not) or array
	// elements (JSON) of one body, so that the cost of decoding is known
	// before a body is decoded. Over it, decoding stops and the call
	// returns no points and an error matching ErrTooManyPoints, whatever
	// KeepValid says. Zero or negative means no limit.
	MaxPoints int
}

func (o *Options) maxErrors() int {
	switch {
	case o.MaxErrors == 0:
		return 100
	case o.MaxErrors < 0:
		return int(^uint(0) >> 1)
	}
	return o.MaxErrors
}
