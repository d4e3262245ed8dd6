package constraint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/collectkit/collectkit/point"
)

// DataKit's default limits, used for a zero field of Limits.
const (
	DefaultMaxTags           = 256
	DefaultMaxFields         = 1024
	DefaultMaxKeyLen         = 256
	DefaultMaxTagValueLen    = 1024
	DefaultMaxFieldValueLen  = 32 << 20
	DefaultMaxMeasurementLen = 1024
)

// Limits are the counts and lengths a point may have. Lengths are in bytes.
// A zero field means DataKit's default (the Default* constants); a negative
// field means unlimited.
type Limits struct {
	MaxTags           int // tags per point; zero: 256
	MaxFields         int // fields per point; zero: 1024
	MaxKeyLen         int // bytes per tag or field key; zero: 256; if positive, at least 6
	MaxTagValueLen    int // bytes per tag value; zero: 1024; if positive, at least 7
	MaxFieldValueLen  int // bytes per string or bytes field value; zero: 32 MiB; if positive, at least 4
	MaxMeasurementLen int // bytes per measurement name; zero: 1024; if positive, at least 9
}

// The smallest positive limits: what the keys and values the Normalizer
// adds itself need ("status", "default", "info", "__default"). Smaller
// limits would truncate what was just added, and normalizing would never
// settle.
const (
	minKeyLen         = len("status")
	minTagValueLen    = len(defaultObjectName)
	minFieldValueLen  = len(defaultLoggingStatus)
	minMeasurementLen = len(defaultMeasurement)
)

// resolved returns l with zero fields set to the defaults and negative ones
// set to a limit no point reaches. Positive fields below their minimum are
// raised to it (Validate reports them).
func (l Limits) resolved() Limits {
	pick := func(v, def, lowest int) int {
		switch {
		case v == 0:
			return def
		case v < 0:
			return int(^uint(0) >> 1)
		case v < lowest:
			return lowest
		}
		return v
	}
	return Limits{
		MaxTags:           pick(l.MaxTags, DefaultMaxTags, 1),
		MaxFields:         pick(l.MaxFields, DefaultMaxFields, 1),
		MaxKeyLen:         pick(l.MaxKeyLen, DefaultMaxKeyLen, minKeyLen),
		MaxTagValueLen:    pick(l.MaxTagValueLen, DefaultMaxTagValueLen, minTagValueLen),
		MaxFieldValueLen:  pick(l.MaxFieldValueLen, DefaultMaxFieldValueLen, minFieldValueLen),
		MaxMeasurementLen: pick(l.MaxMeasurementLen, DefaultMaxMeasurementLen, minMeasurementLen),
	}
}

// Validate reports every positive limit that is too small to hold what the
// Normalizer adds itself, joined with errors.Join.
func (l Limits) Validate() error {
	var errs []error
	check := func(name string, v, lowest int) {
		if v > 0 && v < lowest {
			errs = append(errs, fmt.Errorf("constraint: Limits.%s is %d; it must be 0 (default), negative (unlimited) or at least %d", name, v, lowest))
		}
	}
	check("MaxKeyLen", l.MaxKeyLen, minKeyLen)
	check("MaxTagValueLen", l.MaxTagValueLen, minTagValueLen)
	check("MaxFieldValueLen", l.MaxFieldValueLen, minFieldValueLen)
	check("MaxMeasurementLen", l.MaxMeasurementLen, minMeasurementLen)
	return errors.Join(errs...)
}

// Options configure a Normalizer. The zero Options give DataKit's defaults:
// DataKit's limits and every rule set to Fix, which includes the rules
// collectkit adds beyond DataKit (non-finite floats, invalid UTF-8, nil
// fields, empty keys, characters line protocol cannot carry).
type Options struct {
	// Limits are the counts and lengths; the zero Limits are DataKit's.
	Limits Limits

	// Actions sets what happens when a rule is broken. A rule absent from
	// the map is fixed. The map is copied by New.
	Actions map[Rule]Action

	// OnWarnings, if not nil, is called by Normalizer.Deliver, so on
	// every path that delivers batches (the Sink middleware, httpapi's
	// routes, pythond's reports), once per batch that had warnings, before
	// the batch is written, and also when the batch is then refused for a
	// rejected point. b is the batch as it is to be written (read-only,
	// not to be kept); a warning's Point is the index of its point in the
	// batch as it came in. It must be safe for concurrent use. Normalize
	// does not call it.
	OnWarnings func(ctx context.Context, b point.Batch, warns []point.Warning)

	// WritePartial makes Deliver (and so every path) write the points
	// that were not rejected when some were, and still report the
	// rejections. By default a batch with a rejected point is not written
	// at all, so an error always means nothing was written (see
	// Normalizer.Sink).
	WritePartial bool

	// Logger receives Deliver's reports: rejected batches at Warn, fixed
	// points at Debug. Nil discards them.
	Logger *slog.Logger
}

// Validate reports every mistake in o: an unknown rule or action in
// Actions, or a limit too small (see Limits.Validate). New accepts any
// Options; call Validate where options come from a user.
func (o Options) Validate() error {
	var errs []error
	for r, a := range o.Actions {
		if !r.IsValid() {
			errs = append(errs, fmt.Errorf("constraint: Options.Actions has unknown rule %d", r))
			continue
		}
		if a >= numActions {
			errs = append(errs, fmt.Errorf("constraint: Options.Actions[%s] is unknown action %d", r, a))
		}
	}
	if err := o.Limits.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
