package constraint

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/collectkit/collectkit/point"
)

// compliant reports whether p breaks no checked rule for category c. It is
// the straightforward form of the check that scan makes fast (it looks up
// every rule's action and decodes every string), kept as its reference:
// scan must find no fault exactly when compliant holds.
func (n *Normalizer) compliant(p *point.Point, c point.Category) bool {
	l := &n.limits
	if n.on(RuleMeasurement) && (p.Name == "" || len(p.Name) > l.MaxMeasurementLen) {
		return false
	}
	if n.on(RuleUTF8) && !utf8.ValidString(p.Name) {
		return false
	}
	if n.on(RuleUnsafeChars) && (!safeForLP(p.Name) || strings.HasPrefix(p.Name, "#")) {
		return false
	}
	if n.on(RuleMaxTags) && len(p.Tags) > l.MaxTags {
		return false
	}
	if n.on(RuleMaxFields) && len(p.Fields) > l.MaxFields {
		return false
	}
	if len(p.Fields) == 0 && n.actions[RuleNoField] == Reject {
		return false
	}
	dots := n.dotsAllowed(c)
	for i := range p.Tags {
		t := &p.Tags[i]
		if !n.keyCompliant(t.Key, dots) {
			return false
		}
		if n.on(RuleTagValueLen) && len(t.Value) > l.MaxTagValueLen {
			return false
		}
		if n.on(RuleUTF8) && !utf8.ValidString(t.Value) {
			return false
		}
		if n.on(RuleUnsafeChars) && !safeForLP(t.Value) {
			return false
		}
	}
	metric := c == point.Metric
	for i := range p.Fields {
		f := &p.Fields[i]
		if !n.keyCompliant(f.Key, dots) {
			return false
		}
		switch f.Value.Kind() {
		case point.KindInvalid:
			if n.on(RuleNilField) {
				return false
			}
		case point.KindFloat:
			if v := f.Value.Float(); n.on(RuleNonFinite) && (math.IsNaN(v) || math.IsInf(v, 0)) {
				return false
			}
		case point.KindString, point.KindBytes:
			if metric && n.on(RuleStringField) {
				return false
			}
			if n.on(RuleFieldValueLen) && f.Value.Len() > l.MaxFieldValueLen {
				return false
			}
			if f.Value.Kind() == point.KindString && n.on(RuleUTF8) && !utf8.ValidString(f.Value.Str()) {
				return false
			}
			if f.Value.Kind() == point.KindBytes && n.on(RuleUnsafeChars) && !utf8.ValidString(f.Value.Str()) {
				return false
			}
		}
	}
	if key, _, ok := n.requiredKey(c); ok && !hasKey(p, key) {
		return false
	}
	dup, conflict := n.on(RuleDuplicateKey), n.on(RuleKeyConflict)
	if len(p.Tags) <= smallSet && len(p.Fields) <= smallSet {
		return !smallClash(p.Tags, p.Fields, dup, conflict)
	}
	if dup {
		if hasDuplicate(len(p.Tags), func(i int) string { return p.Tags[i].Key }, n.seed) ||
			hasDuplicate(len(p.Fields), func(i int) string { return p.Fields[i].Key }, n.seed) {
			return false
		}
	}
	if conflict && hasConflict(p.Tags, p.Fields, n.seed) {
		return false
	}
	return true
}

func (n *Normalizer) keyCompliant(key string, dots bool) bool {
	if key == "" {
		return !n.on(RuleEmptyKey)
	}
	if n.on(RuleKeyLen) && len(key) > n.limits.MaxKeyLen {
		return false
	}
	if !dots && strings.IndexByte(key, '.') >= 0 {
		return false
	}
	if n.on(RuleUnsafeChars) && !safeForLP(key) {
		return false
	}
	return !n.on(RuleUTF8) || utf8.ValidString(key)
}

// safeForLP reports whether s has no control character and does not end
// in a backslash.
func safeForLP(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) && !strings.HasSuffix(s, `\`)
}

// smallClash reports whether a few tags and fields have a duplicate key
// (if dup) or a key in both (if conflict), comparing pairwise.
func smallClash(tags []point.Tag, fields []point.Field, dup, conflict bool) bool {
	if dup {
		for i := 1; i < len(tags); i++ {
			for j := 0; j < i; j++ {
				if tags[i].Key == tags[j].Key {
					return true
				}
			}
		}
	}
	for i := range fields {
		k := fields[i].Key
		if dup {
			for j := 0; j < i; j++ {
				if fields[j].Key == k {
					return true
				}
			}
		}
		if conflict {
			for j := range tags {
				if tags[j].Key == k {
					return true
				}
			}
		}
	}
	return false
}
