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
	// faultRequired: the key the category requires is missing. Alone or
	// with faultDrop, the fix only drops fields and adds the key.
	faultRequired
)

// scan checks p against pl read-only and reports what it found. Strings
// are checked a word at a time; a point with text the words flag (not
// ASCII, a control character, a trailing backslash) falls back to
// exactText, which decodes UTF-8.
//
// So the check of a compliant point reads each string once, eight bytes at
// a time, for the length, '.', control character, trailing backslash and
// non-ASCII checks (UTF-8 is decoded, and control characters looked for
// byte by byte, only when a point has text that is not all ASCII), and it
// finds duplicate and conflicting keys among a few dozen by comparing
// one-byte signatures first; the plan holds the rules' actions, resolved
// per category once, in New.
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
	var keys uint64 // lanes of every key
	var text uint64 // high bits of the string fields
	// Signatures of the keys of a small point, and a bit set of those
	// seen: keys are compared only if two signatures are equal.
	small := len(tags) <= smallSet && len(fields) <= smallSet
	var sigs [2 * smallSet]uint8
	var seen [4]uint64
	same := false
	for i := range tags {
		t := &tags[i]
		if len(t.Key) > pl.maxKey || len(t.Value) > pl.maxTagValue || t.Key == "" && pl.emptyKey {
			return faultOther
		}
		lanes, last := keyBits(t.Key)
		keys |= lanes
		names |= tokenBits(t.Value)
		if small {
			sg := sig(last, len(t.Key))
			sigs[i] = sg
			bit := uint64(1) << (sg & 63)
			same = same || seen[sg>>6]&bit != 0
			seen[sg>>6] |= bit
		}
	}
	faults := 0
	for i := range fields {
		f := &fields[i]
		if len(f.Key) > pl.maxKey || f.Key == "" && pl.emptyKey {
			return faultOther
		}
		lanes, last := keyBits(f.Key)
		keys |= lanes
		if small {
			sg := sig(last, len(f.Key))
			sigs[len(tags)+i] = sg
			bit := uint64(1) << (sg & 63)
			same = same || seen[sg>>6]&bit != 0
			seen[sg>>6] |= bit
		}
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
	if hash && pl.unsafe {
		return faultOther
	}
	if (keys|names|text)&highLanes != 0 && (pl.utf8 || pl.unsafe) && !exactText(p, pl.utf8, pl.unsafe) {
		return faultOther
	}
	if pl.required != "" && !hasKey(p, pl.required) {
		faults |= faultRequired
	}
	if pl.dup || pl.conflict {
		if small {
			if same && sigClash(tags, fields, &sigs, pl.dup, pl.conflict) {
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

// exactText checks, string by string, what the word scan flagged in text
// that is not all ASCII, has a control character or ends in a backslash:
// that the name, keys, tag values and string fields of p are valid UTF-8
// (if utf8On), and (if ctl, that is RuleUnsafeChars) that the name, keys
// and tag values have no control character and no trailing backslash and
// that bytes fields are valid UTF-8.
func exactText(p *point.Point, utf8On, ctl bool) bool {
	bad := func(s string, text bool) bool {
		return utf8On && !utf8.ValidString(s) || ctl && text && (hasControl(s) || s != "" && s[len(s)-1] == '\\')
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
// ASCII or is a control character (below 0x20, or DEL), or a last byte
// that is a backslash, sets a 0x80 lane (then exactText checks the
// strings one by one); a '.' sets a 0x40 lane (keyBits only). Carries and
// borrows may set lanes above a byte that matches, so only whether a kind
// of lane is set at all means anything.
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

// tokenLaneBits is tokenBits of 8 bytes packed in w: the '.' lanes are
// not needed.
func tokenLaneBits(w uint64) uint64 { return oddBits(w) }

// pad fills the bytes before a short string: spaces, which set no lane.
const pad = 0x20 * ones

// tailBit has the 0x80 lane of the top byte set if that byte of w, the
// last word of a string (which ends in that byte), is a backslash, which
// would escape the separator after it in line protocol. Only the top lane
// of x-1<<56 differs from x, so the others cancel out.
func tailBit(w uint64) uint64 {
	x := w ^ '\\'<<56 // top byte zero where it is a backslash
	return (x - 1<<56) &^ x
}

// keyBits ORs laneBits over s: bit 7 of some byte if s is not all ASCII,
// has a control character or ends in a backslash, bit 6 of some byte if
// it contains a '.'; and the last word it read, which holds the last
// byte of s in its top lane (strings shorter than a word are padded with
// spaces in front; from 4 to 7 bytes, two overlapping halves are read).
func keyBits(s string) (lanes, last uint64) {
	b := unsafe.Slice(unsafe.StringData(s), len(s))
	switch n := len(b); {
	case n >= 8:
		var acc uint64
		for i := 0; i+8 <= n; i += 8 {
			acc |= laneBits(binary.LittleEndian.Uint64(b[i:]))
		}
		w := binary.LittleEndian.Uint64(b[n-8:])
		return acc | laneBits(w) | tailBit(w)&highLanes, w
	case n >= 4:
		w := uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
		return laneBits(w) | tailBit(w)&highLanes, w
	default:
		w := uint64(pad) >> (8 * n)
		for i, c := range b {
			w |= uint64(c) << (8 * (8 - n + i))
		}
		return laneBits(w) | tailBit(w)&highLanes, w
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
		return acc | tokenLaneBits(w) | tailBit(w)&highLanes
	case n >= 4:
		w := uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
		return tokenLaneBits(w) | tailBit(w)&highLanes
	default:
		w := uint64(pad) >> (8 * n)
		for i, c := range b {
			w |= uint64(c) << (8 * (8 - n + i))
		}
		return tokenLaneBits(w) | tailBit(w)&highLanes
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

// sig is a one-byte signature of a key of n bytes whose last word (as
// keyBits reads it) is last: equal keys have equal signatures.
func sig(last uint64, n int) uint8 {
	return uint8(((last ^ uint64(n)) * 0x9E3779B97F4A7C15) >> 56)
}

// sigClash reports whether up to smallSet tags and smallSet fields, the
// signatures of whose keys are sigs (tags first), have a duplicate key (if
// dup) or a key in both (if conflict). Keys are compared only when their
// signatures are equal.
func sigClash(tags []point.Tag, fields []point.Field, sigs *[2 * smallSet]uint8, dup, conflict bool) bool {
	nt := len(tags)
	key := func(i int) string {
		if i < nt {
			return tags[i].Key
		}
		return fields[i-nt].Key
	}
	for i := 1; i < nt+len(fields); i++ {
		s := sigs[i]
		for j := range i {
			if sigs[j] != s || key(j) != key(i) {
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
