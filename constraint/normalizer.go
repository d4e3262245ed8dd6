package constraint

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"

	"github.com/collectkit/collectkit/point"
)

// What the Normalizer adds when a point lacks it, as DataKit does.
const (
	defaultMeasurement   = "__default"
	defaultLoggingStatus = "info"
	defaultObjectName    = "default"
)

// Normalizer applies the data constraints to points. Build it with New; it
// is immutable afterwards and safe for concurrent use.
type Normalizer struct {
	limits       Limits
	actions      [numRules]Action
	onWarnings   func(ctx context.Context, b point.Batch, warns []point.Warning)
	writePartial bool
	logger       *slog.Logger
	seed         maphash.Seed
}

// New returns a Normalizer for opts. It copies what it keeps of opts, so
// later changes to opts (or its Actions map) have no effect. New does not
// fail: unknown rules in Actions are ignored, unknown actions mean Fix and
// too-small limits are raised to their minimum; Options.Validate reports
// all of these.
func New(opts Options) *Normalizer {
	n := &Normalizer{}
	n.init(opts)
	return n
}

func (n *Normalizer) init(opts Options) {
	n.limits = opts.Limits.resolved()
	n.seed = maphash.MakeSeed()
	for r, a := range opts.Actions {
		if r.IsValid() && a < numActions {
			n.actions[r] = a
		}
	}
	n.onWarnings = opts.OnWarnings
	n.writePartial = opts.WritePartial
	n.logger = opts.Logger
}

// Normalize applies the constraints for category c to *p with the
// Normalizer's options. See the package documentation for what it does and
// the order it does it in.
func (n *Normalizer) Normalize(p *point.Point, c point.Category) ([]point.Warning, error) {
	if !c.IsValid() {
		return nil, fmt.Errorf("constraint: cannot normalize a point of invalid category %s", c)
	}
	if n.compliant(p, c) {
		return nil, nil
	}
	return n.fix(p, c)
}

// Normalize applies the constraints for category c to *p with opts. It is
// New(opts).Normalize(p, c) without keeping the Normalizer; build one with
// New when normalizing many points.
func Normalize(p *point.Point, c point.Category, opts Options) ([]point.Warning, error) {
	var n Normalizer
	n.init(opts)
	if c.IsValid() && n.compliant(p, c) {
		return nil, nil // without the copy below, so a compliant point costs no allocation
	}
	slow := n // escapes to the heap through the fix path
	return slow.Normalize(p, c)
}
