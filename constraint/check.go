package constraint

import (
	"hash/maphash"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/collectkit/collectkit/point"
)

// This file is the fast path: a read-only scan that says whether a point
// needs no change at all. It must not allocate for the points agents send
// every second (a few tags and fields, sorted or not).

// on reports whether rule r is checked at all.
func (n *Normalizer) on(r Rule) bool { return n.actions[r] != Ignore }

// dotsAllowed reports whether keys of category c may contain '.'.
func (n *Normalizer) dotsAllowed(c point.Category) bool {
	return c == point.Metric || !n.on(RuleDotInKey)
}

// requiredKey returns the key category c requires and whether its rule is
// checked.
func (n *Normalizer) requiredKey(c point.Category) (key string, rule Rule, ok bool) {
	switch c {
	case point.Logging:
		return "status", RuleLoggingStatus, n.on(RuleLoggingStatus)
	case point.Object, point.CustomObject:
		return "name", RuleObjectName, n.on(RuleObjectName)
	}
	return "", RuleUnknown, false
}

// compliant reports whether p breaks no checked rule for category c.
func (n *Normalizer) compliant(p *point.Point, c point.Category) bool {
	l := &n.limits
	if n.on(RuleMeasurement) && (p.Name == "" || len(p.Name) > l.MaxMeasurementLen) {
		return false
	}
	if n.on(RuleUTF8) && !utf8.ValidString(p.Name) {
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
	return !n.on(RuleUTF8) || utf8.ValidString(key)
}

func hasKey(p *point.Point, key string) bool {
	for i := range p.Tags {
		if p.Tags[i].Key == key {
			return true
		}
	}
	for i := range p.Fields {
		if p.Fields[i].Key == key {
			return true
		}
	}
	return false
}

// Sizes for the duplicate search: up to smallSet keys compare pairwise;
// up to tableKeys keys use an open-addressing table on the stack; more
// than that use a map (and allocate).
const (
	smallSet  = 32
	tableKeys = 1024
)

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

// hasDuplicate reports whether two of the n keys key(0..n-1) are equal.
func hasDuplicate(n int, key func(int) string, seed maphash.Seed) bool {
	if n < 2 {
		return false
	}
	sorted := true
	for i := 1; i < n; i++ {
		if key(i-1) >= key(i) {
			sorted = false
			break
		}
	}
	switch {
	case sorted:
		return false
	case n <= smallSet:
		for i := 1; i < n; i++ {
			k := key(i)
			for j := 0; j < i; j++ {
				if key(j) == k {
					return true
				}
			}
		}
		return false
	case n <= tableKeys:
		var t table
		for i := 0; i < n; i++ {
			if !t.insert(key, i, seed) {
				return true
			}
		}
		return false
	}
	seen := make(map[string]struct{}, n)
	for i := 0; i < n; i++ {
		k := key(i)
		if _, dup := seen[k]; dup {
			return true
		}
		seen[k] = struct{}{}
	}
	return false
}

// hasConflict reports whether a key is both a tag and a field.
func hasConflict(tags []point.Tag, fields []point.Field, seed maphash.Seed) bool {
	if len(tags) == 0 || len(fields) == 0 {
		return false
	}
	if len(tags)*len(fields) <= smallSet*smallSet/4 {
		for i := range fields {
			for j := range tags {
				if fields[i].Key == tags[j].Key {
					return true
				}
			}
		}
		return false
	}
	if len(tags) <= tableKeys {
		var t table
		tagKey := func(i int) string { return tags[i].Key }
		for i := range tags {
			t.insert(tagKey, i, seed)
		}
		for i := range fields {
			if t.contains(tagKey, fields[i].Key, seed) {
				return true
			}
		}
		return false
	}
	set := make(map[string]struct{}, len(tags))
	for i := range tags {
		set[tags[i].Key] = struct{}{}
	}
	for i := range fields {
		if _, ok := set[fields[i].Key]; ok {
			return true
		}
	}
	return false
}

// table is a fixed-size open-addressing hash set of indexes into a key
// list, for up to tableKeys keys. Its zero value is empty.
type table struct {
	slots [2 * tableKeys]uint16 // index+1; 0 is an empty slot
}

const tableMask = 2*tableKeys - 1

// insert adds index i and reports false if an equal key is already there.
func (t *table) insert(key func(int) string, i int, seed maphash.Seed) bool {
	k := key(i)
	h := maphash.String(seed, k) & tableMask
	for t.slots[h] != 0 {
		if key(int(t.slots[h]-1)) == k {
			return false
		}
		h = (h + 1) & tableMask
	}
	t.slots[h] = uint16(i + 1)
	return true
}

// contains reports whether an index with key k is in the table.
func (t *table) contains(key func(int) string, k string, seed maphash.Seed) bool {
	h := maphash.String(seed, k) & tableMask
	for t.slots[h] != 0 {
		if key(int(t.slots[h]-1)) == k {
			return true
		}
		h = (h + 1) & tableMask
	}
	return false
}
