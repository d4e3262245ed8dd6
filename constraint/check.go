package constraint

import (
	"encoding/binary"
	"hash/maphash"
	"unicode/utf8"
	"unsafe"

	"github.com/collectkit/collectkit/point"
)

// This file is the fast path: a read-only scan that says whether a point
// needs no change at all. It must not allocate for the points agents send
// every second (a few tags and fields, sorted or not).

// What scan found. Zero: nothing, the point is compliant.
const (
	// faultDrop: fields to drop for their kind of value (nil, non-finite,
	// string on a metric point) and nothing else; keys, values, counts
	// and the name are fine, and there is no duplicate or conflict.
	faultDrop = 1 << iota
	// faultOther: anything else; the whole fix runs.
	faultOther
)

// scan checks p against pl read-only and reports what it found. Strings
// are checked a word at a time; a point with non-ASCII text falls back to
// compliant, which decodes UTF-8.
func (n *Normalizer) scan(p *point.Point, pl *plan) int {
	tags, fields := p.Tags, p.Fields
	if len(p.Name) > pl.maxName || len(tags) > pl.maxTags || len(fields) > pl.maxFields ||
		p.Name == "" && pl.emptyName || len(fields) == 0 && pl.noFieldReject {
		return faultOther
	}
	// Lanes of everything line protocol writes as a token: the name, keys
	// and tag values; and whether the name starts with '#'.
	names := tokenBits(p.Name)
	hash := p.Name != "" && p.Name[0] == '#'
	var keys uint64 // high, dot and control bits of every key
	var text uint64 // high bits of the string fields
	for i := range tags {
		t := &tags[i]
		if len(t.Key) > pl.maxKey || len(t.Value) > pl.maxTagValue || t.Key == "" && pl.emptyKey {
			return faultOther
		}
		keys |= keyBits(t.Key)
		names |= tokenBits(t.Value)
	}
	faults := 0
	for i := range fields {
		f := &fields[i]
		if len(f.Key) > pl.maxKey || f.Key == "" && pl.emptyKey {
			return faultOther
		}
		keys |= keyBits(f.Key)
		switch v := f.Value; v.Kind() {
		case point.KindInt, point.KindUint, point.KindBool:
		case point.KindFloat:
			if x := v.Float(); pl.nonFinite && x-x != 0 { // NaN or ±Inf
				faults = faultDrop
			}
		case point.KindString:
			if pl.stringField {
				faults = faultDrop
				break
			}
			s := v.Str()
			if len(s) > pl.maxFieldValue {
				return faultOther
			}
			text |= valueBits(s)
		case point.KindBytes:
			if pl.stringField {
				faults = faultDrop
				break
			}
			if v.Len() > pl.maxFieldValue {
				return faultOther
			}
			if pl.unsafe { // line protocol writes bytes as a string
				text |= valueBits(v.Str())
			}
		default: // KindInvalid
			if pl.nilField {
				faults = faultDrop
			}
		}
	}
	if keys&dotLanes != 0 && !pl.dots {
		return faultOther
	}
	if (hash || (keys|names)&tailLane != 0) && pl.unsafe {
		return faultOther
	}
	if (keys|names|text)&highLanes != 0 && (pl.utf8 || pl.unsafe) && !exactText(p, pl.utf8, pl.unsafe) {
		return faultOther
	}
	if pl.required != "" && !hasKey(p, pl.required) {
		return faultOther
	}
	if pl.dup || pl.conflict {
		if len(tags) <= smallSet && len(fields) <= smallSet {
			if sigClash(tags, fields, pl.dup, pl.conflict) {
				return faultOther
			}
		} else if pl.dup && (hasDuplicate(len(tags), func(i int) string { return tags[i].Key }, n.seed) ||
			hasDuplicate(len(fields), func(i int) string { return fields[i].Key }, n.seed)) ||
			pl.conflict && hasConflict(tags, fields, n.seed) {
			return faultOther
		}
	}
	return faults
}

// exactText checks, string by string, what the word scan found may be
// wrong with text that is not all ASCII or has a control character: that the name, keys, tag values and string
// fields of p are valid UTF-8 (if utf8), and that the name, keys and tag
// values have no control character and bytes fields are valid UTF-8 (if
// ctl: RuleUnsafeChars).
func exactText(p *point.Point, utf8On, ctl bool) bool {
	bad := func(s string, text bool) bool {
		return utf8On && !utf8.ValidString(s) || ctl && text && hasControl(s)
	}
	if bad(p.Name, true) {
		return false
	}
	for i := range p.Tags {
		if bad(p.Tags[i].Key, true) || bad(p.Tags[i].Value, true) {
			return false
		}
	}
	for i := range p.Fields {
		f := &p.Fields[i]
		if bad(f.Key, true) || f.Value.Kind() == point.KindString && bad(f.Value.Str(), false) ||
			ctl && f.Value.Kind() == point.KindBytes && !utf8.ValidString(f.Value.Str()) {
			return false
		}
	}
	return true
}

// Lanes of the words keyBits and tokenBits return: a byte that is not
// ASCII or is a control character (below 0x20, or DEL) sets a 0x80 lane
// (then exactText checks the strings one by one); a '.' sets a 0x40 lane
// (keys only). Carries and borrows may set lanes above a byte that
// matches, so only whether a kind of lane is set at all means anything.
const (
	highLanes = 0x8080808080808080
	dotLanes  = highLanes >> 1
	ones      = 0x0101010101010101
)

// oddBits has a 0x80 lane set if a byte of w is not ASCII or is a control
// character. Adding one to each byte maps DEL to 0x80, the other control
// characters to 0x01..0x20 and the other ASCII bytes to 0x21..0x7f
// without a carry; taking 0x21 away then borrows only from the first
// group. Bytes from 0x80 up give (or carry into) a lane with the high bit
// set or one that borrows. The lowest lane that matches sees no carry or
// borrow from below, so the result is zero exactly when no byte matches.
func oddBits(w uint64) uint64 {
	t := w + ones
	return ((t - 0x21*ones) | t) & highLanes
}

// laneBits is keyBits of 8 bytes packed in w.
func laneBits(w uint64) uint64 {
	x := w ^ ('.' * ones) // a zero byte where w has a '.'
	return oddBits(w) | ((x-ones)&^x&highLanes)>>1
}

// tokenLaneBits is tokenBits of 8 bytes packed in w.
func tokenLaneBits(w uint64) uint64 { return oddBits(w) }

// pad fills the bytes before a short string: spaces, which set no lane.
const pad = 0x20 * ones

// tailLane is set by keyBits and tokenBits when s ends in a backslash,
// which would escape the separator after it in line protocol.
const tailLane = 1 << 60

// tailBit is tailLane if the top byte of w, the last word of a string
// (which ends in that byte), is a backslash.
func tailBit(w uint64) uint64 {
	x := w ^ '\\'<<56 // top byte zero where it is a backslash
	return ((x - 1<<56) &^ x & (1 << 63)) >> 3
}

// keyBits ORs laneBits over s: bit 7 of some byte if s is not all ASCII
// or has a control character, bit 6 of some byte if it contains a '.',
// and tailLane if it ends in a backslash. Short strings are
// read as one or two overlapping words, or padded with spaces in front,
// so that the last word always ends with the last byte.
func keyBits(s string) uint64 {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch n := len(b); {
	case n >= 8:
		var acc uint64
		for i := 0; i+8 <= n; i += 8 {
			acc |= laneBits(binary.LittleEndian.Uint64(b[i:]))
		}
		w := binary.LittleEndian.Uint64(b[n-8:])
		return acc | laneBits(w) | tailBit(w)
	case n >= 4:
		w := uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
		return laneBits(w) | tailBit(w)
	default:
		w := uint64(pad) >> (8 * n)
		for i, c := range b {
			w |= uint64(c) << (8 * (8 - n + i))
		}
		return laneBits(w) | tailBit(w)
	}
}

// tokenBits is keyBits without the '.' lanes, for names and tag values.
func tokenBits(s string) uint64 {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch n := len(b); {
	case n >= 8:
		var acc uint64
		for i := 0; i+8 <= n; i += 8 {
			acc |= tokenLaneBits(binary.LittleEndian.Uint64(b[i:]))
		}
		w := binary.LittleEndian.Uint64(b[n-8:])
		return acc | tokenLaneBits(w) | tailBit(w)
	case n >= 4:
		w := uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
		return tokenLaneBits(w) | tailBit(w)
	default:
		w := uint64(pad) >> (8 * n)
		for i, c := range b {
			w |= uint64(c) << (8 * (8 - n + i))
		}
		return tokenLaneBits(w) | tailBit(w)
	}
}

// hasControl reports whether s has a byte below 0x20 or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			return true
		}
	}
	return false
}

// valueBits is the high bits of s: not zero if s is not all ASCII.
func valueBits(s string) uint64 {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch n := len(b); {
	case n >= 8:
		var acc uint64
		for i := 0; i+8 <= n; i += 8 {
			acc |= binary.LittleEndian.Uint64(b[i:])
		}
		return (acc | binary.LittleEndian.Uint64(b[n-8:])) & highLanes
	case n >= 4:
		return uint64(binary.LittleEndian.Uint32(b)|binary.LittleEndian.Uint32(b[n-4:])) & highLanes
	default:
		var w uint64
		for _, c := range b {
			w |= uint64(c)
		}
		return w & highLanes
	}
}

// sig is a one-byte signature of a key (its length and three of its
// bytes): equal keys have equal signatures.
func sig(k string) uint8 {
	n := len(k)
	if n == 0 {
		return 0
	}
	h := uint32(n)*0x9E3779B1 ^ uint32(k[0])*0x85EBCA77 ^ uint32(k[n-1])*0xC2B2AE3D ^ uint32(k[n/2])*0x27D4EB2F
	return uint8(h >> 24)
}

// sigClash reports whether up to smallSet tags and smallSet fields have a
// duplicate key (if dup) or a key in both (if conflict). Keys are compared
// only when their signatures match, which a bit set finds.
func sigClash(tags []point.Tag, fields []point.Field, dup, conflict bool) bool {
	var sigs [2 * smallSet]uint8
	var seen [4]uint64
	nt := len(tags)
	key := func(i int) string {
		if i < nt {
			return tags[i].Key
		}
		return fields[i-nt].Key
	}
	for i := range nt + len(fields) {
		k := key(i)
		s := sig(k)
		sigs[i] = s
		if bit := uint64(1) << (s & 63); seen[s>>6]&bit == 0 {
			seen[s>>6] |= bit
			continue
		}
		for j := range i {
			if sigs[j] != s || key(j) != k {
				continue
			}
			if (j < nt) == (i < nt) {
				if dup {
					return true
				}
			} else if conflict {
				return true
			}
		}
	}
	return false
}

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
