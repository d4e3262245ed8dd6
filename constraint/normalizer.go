package constraint

import (
	"context"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"

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
	plans        [maxCategories]plan // by category; built by init
	results      *sync.Pool          // of *Result, for the middleware; set by New
}

// maxCategories bounds the categories the Normalizer knows (a test checks
// that package point declares fewer).
const maxCategories = 16

// plan is what the Normalizer checks for one category, resolved once in
// New so that the scan of a point reads flags instead of looking up rule
// actions. A limit whose rule is ignored is the largest int.
type plan struct {
	maxName, maxTags, maxFields int
	maxKey, maxTagValue         int
	maxFieldValue               int
	emptyName                   bool // an empty name breaks RuleMeasurement
	emptyKey                    bool // an empty key breaks RuleEmptyKey
	dots                        bool // keys may contain '.'
	utf8                        bool // RuleUTF8 is checked
	nilField, nonFinite         bool // RuleNilField, RuleNonFinite are checked
	stringField                 bool // string and bytes fields are dropped (metric)
	dup, conflict               bool // RuleDuplicateKey, RuleKeyConflict are checked
	noFieldReject               bool // a point without fields is rejected
	unsafe                      bool // RuleUnsafeChars is checked
	required                    string
}

// New returns a Normalizer for opts. It copies what it keeps of opts, so
// later changes to opts (or its Actions map) have no effect. New does not
// fail: unknown rules in Actions are ignored, unknown actions mean Fix and
// too-small limits are raised to their minimum; Options.Validate reports
// all of these.
func New(opts Options) *Normalizer {
	n := &Normalizer{results: new(sync.Pool)}
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
	for _, c := range point.Categories() {
		if int(c) < maxCategories {
			n.plans[c] = n.makePlan(c)
		}
	}
	n.onWarnings = opts.OnWarnings
	n.writePartial = opts.WritePartial
	n.logger = opts.Logger
}

func (n *Normalizer) makePlan(c point.Category) plan {
	const unlimited = int(^uint(0) >> 1)
	limit := func(r Rule, v int) int {
		if n.on(r) {
			return v
		}
		return unlimited
	}
	l := &n.limits
	pl := plan{
		maxName:       limit(RuleMeasurement, l.MaxMeasurementLen),
		maxTags:       limit(RuleMaxTags, l.MaxTags),
		maxFields:     limit(RuleMaxFields, l.MaxFields),
		maxKey:        limit(RuleKeyLen, l.MaxKeyLen),
		maxTagValue:   limit(RuleTagValueLen, l.MaxTagValueLen),
		maxFieldValue: limit(RuleFieldValueLen, l.MaxFieldValueLen),
		emptyName:     n.on(RuleMeasurement),
		emptyKey:      n.on(RuleEmptyKey),
		dots:          n.dotsAllowed(c),
		utf8:          n.on(RuleUTF8),
		nilField:      n.on(RuleNilField),
		nonFinite:     n.on(RuleNonFinite),
		stringField:   c == point.Metric && n.on(RuleStringField),
		dup:           n.on(RuleDuplicateKey),
		conflict:      n.on(RuleKeyConflict),
		noFieldReject: n.actions[RuleNoField] == Reject,
		unsafe:        n.on(RuleUnsafeChars),
	}
	if key, _, ok := n.requiredKey(c); ok {
		pl.required = key
	}
	return pl
}

// Normalize applies the constraints for category c to *p with the
// Normalizer's options. See the package documentation for what it does and
// the order it does it in.
//
// Normalize never writes into the arrays behind p.Tags and p.Fields: a fix
// gives *p new slices. So a caller may normalize a shallow copy of a point
// it must not modify, as the Sink middleware does.
func (n *Normalizer) Normalize(p *point.Point, c point.Category) ([]point.Warning, error) {
	return n.normalize(p, c, false, nil)
}

// NormalizeOwned is Normalize for a caller that owns the arrays behind
// p.Tags and p.Fields up to their capacity, such as the points a
// protocol.Decoder has just returned (their slices are capped at their
// length, so no point reaches into its neighbour's). It appends the
// warnings to dst and returns the extended slice.
//
// Where Normalize would give *p new slices, NormalizeOwned compacts p.Tags
// and p.Fields in place (it moves elements within them; it never writes
// into the bytes of a string, which may alias a request body). It gives
// exactly the point and warnings Normalize gives. The fixes that points
// commonly need (dropping a string field of a metric point or a nil or
// non-finite field) then cost no allocation when dst has room for the
// warnings; adding a required key (a logging point's status) does when
// the slice has room for it, and NormalizeBatch adds it without
// allocating either. Fixes that build a new string (truncation, UTF-8
// repair, renaming a dotted key) or trim to a count limit still allocate.
//
// On error, dst is returned as it was and *p's slices are left in an
// unspecified order: drop the point.
func (n *Normalizer) NormalizeOwned(p *point.Point, c point.Category, dst []point.Warning) ([]point.Warning, error) {
	return n.normalize(p, c, true, dst)
}

// normalize is Normalize (owned false, dst nil) and NormalizeOwned: the
// read-only scan, and the fix path only for a point that breaks a rule.
func (n *Normalizer) normalize(p *point.Point, c point.Category, owned bool, dst []point.Warning) ([]point.Warning, error) {
	if !c.IsValid() || int(c) >= maxCategories {
		return dst, fmt.Errorf("constraint: cannot normalize a point of invalid category %s", c)
	}
	faults := n.scan(p, &n.plans[c])
	if faults == 0 {
		return dst, nil
	}
	return n.fix(p, c, faults, owned, dst)
}

// Normalize applies the constraints for category c to *p with opts. It is
// New(opts).Normalize(p, c) without keeping the Normalizer; build one with
// New when normalizing many points.
func Normalize(p *point.Point, c point.Category, opts Options) ([]point.Warning, error) {
	var n Normalizer
	n.init(opts)
	if c.IsValid() && int(c) < maxCategories && n.scan(p, &n.plans[c]) == 0 {
		return nil, nil // without the copy below, so a compliant point costs no allocation
	}
	slow := n // escapes to the heap through the fix path
	return slow.Normalize(p, c)
}
