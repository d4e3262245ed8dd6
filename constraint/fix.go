package constraint

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/collectkit/collectkit/point"
)

// This file is the slow path, taken only by a point that breaks a checked
// rule. In copy-on-write mode (Normalize) it builds new Tags and Fields
// slices where anything changes and never writes into the point's original
// slices or strings, so a caller may normalize a shallow copy of a point it
// must not modify. In owned mode (NormalizeOwned) it compacts the point's
// own slices instead. Both modes make the same decisions in the same order;
// only where the kept elements are stored differs.
//
// Warning messages are constants where the fix involves no number or
// rewritten key, so the common fixes build no string.

// fixer collects the warnings of one point.
type fixer struct {
	n     *Normalizer
	owned bool // the point's slices may be written to
	warns []point.Warning
	slab  *slab // where added keys go, if not nil (NormalizeBatch)
}

// broke records that rule r was broken. With Reject it returns the
// *RejectError (the message is problem); otherwise it records a warning
// "problem; remedy" and returns nil. Use brokeMsg where both are constants.
func (f *fixer) broke(r Rule, tag bool, key, problem, remedy string) error {
	if f.n.actions[r] == Reject {
		return &RejectError{Point: -1, Key: key, Rule: r, Message: problem}
	}
	return f.brokeMsg(r, tag, key, problem, problem+"; "+remedy)
}

// brokeMsg is broke with the warning's message (problem; remedy) given
// whole.
func (f *fixer) brokeMsg(r Rule, tag bool, key, problem, message string) error {
	return f.brokeCode(r, r.warningCode(tag), key, problem, message)
}

// brokeCode is brokeMsg with the warning code given.
func (f *fixer) brokeCode(r Rule, code point.WarningCode, key, problem, message string) error {
	if f.n.actions[r] == Reject {
		return &RejectError{Point: -1, Key: key, Rule: r, Message: problem}
	}
	f.warns = append(f.warns, point.Warning{Code: code, Point: -1, Key: key, Message: message})
	return nil
}

// fix is Normalize (owned false, dst nil) and NormalizeOwned for a point
// in which scan found faults. On error it returns dst.
func (n *Normalizer) fix(p *point.Point, c point.Category, faults int, owned bool, dst []point.Warning) ([]point.Warning, error) {
	f := fixer{n: n, owned: owned, warns: dst}
	ws, err := f.fix(p, c, faults)
	if err != nil {
		return dst, err
	}
	return ws, nil
}

func (f *fixer) fix(p *point.Point, c point.Category, faults int) ([]point.Warning, error) {
	n := f.n
	name, tags, fields := p.Name, p.Tags, p.Fields
	var err error
	full := faults&faultOther != 0
	if !full {
		// At most fields to drop for their kind and the required key to
		// add: names, keys and values are fine and no key clashes, so the
		// fields loop needs no more.
		if faults&faultDrop != 0 {
			if fields, err = f.dropFields(fields, c); err != nil {
				return nil, err
			}
		}
	} else {
		if name, err = f.name(name); err != nil {
			return nil, err
		}
		if tags, err = f.tags(tags, c); err != nil {
			return nil, err
		}
		if fields, err = f.fields(fields, c); err != nil {
			return nil, err
		}
	}
	req, reqRule, reqOn := n.requiredKey(c)
	// Only the required key missing: scan looked for it and nothing has
	// changed since. Otherwise a fix may have dropped or made it.
	if reqOn && (faults == faultRequired || !keyIn(tags, tagKey, req) && !keyIn(fields, fieldKey, req)) {
		switch c {
		case point.Logging:
			if err := f.brokeMsg(reqRule, false, req, msgLoggingStatus, msgLoggingStatusFull); err != nil {
				return nil, err
			}
			fields = f.appendField(fields, p.Fields, point.Field{Key: req, Value: point.StringValue(defaultLoggingStatus)})
		default:
			problem, message := noNameMessages(c)
			if err := f.brokeMsg(reqRule, true, req, problem, message); err != nil {
				return nil, err
			}
			tags = f.appendTag(tags, p.Tags, point.Tag{Key: req, Value: defaultObjectName})
		}
	}
	if !reqOn {
		req = ""
	}
	if n.on(RuleMaxTags) && len(tags) > n.limits.MaxTags {
		if tags, err = trim(f, RuleMaxTags, true, tags, tagKey, n.limits.MaxTags, req); err != nil {
			return nil, err
		}
	}
	if full && n.on(RuleKeyConflict) && len(tags) > 0 && len(fields) > 0 {
		if fields, err = f.conflicts(tags, fields); err != nil {
			return nil, err
		}
	}
	if n.on(RuleMaxFields) && len(fields) > n.limits.MaxFields {
		if fields, err = trim(f, RuleMaxFields, false, fields, fieldKey, n.limits.MaxFields, req); err != nil {
			return nil, err
		}
	}
	if len(fields) == 0 && n.actions[RuleNoField] == Reject {
		return nil, &RejectError{Point: -1, Rule: RuleNoField, Message: "point has no fields"}
	}
	if len(tags) == 0 {
		tags = nil
	}
	if len(fields) == 0 {
		fields = nil
	}
	p.Name, p.Tags, p.Fields = name, tags, fields
	return f.warns, nil
}

func (f *fixer) name(name string) (string, error) {
	n := f.n
	if n.on(RuleUTF8) && !utf8.ValidString(name) {
		if err := f.broke(RuleUTF8, false, "", "measurement name is not valid UTF-8", "invalid bytes replaced with U+FFFD"); err != nil {
			return "", err
		}
		name = strings.ToValidUTF8(name, string(utf8.RuneError))
	}
	measurement := n.on(RuleMeasurement)
	if max := n.limits.MaxMeasurementLen; measurement && len(name) > max {
		cut := truncate(name, max)
		if err := f.broke(RuleMeasurement, false, "", fmt.Sprintf("measurement name is %d bytes, over the limit of %d", len(name), max),
			fmt.Sprintf("truncated to %d bytes", len(cut))); err != nil {
			return "", err
		}
		name = cut
	}
	var err error
	if name, err = f.token(name, tokenName, ""); err != nil {
		return "", err
	}
	if measurement && name == "" {
		if err := f.brokeMsg(RuleMeasurement, false, "", msgEmptyName, msgEmptyNameFull); err != nil {
			return "", err
		}
		name = defaultMeasurement
	}
	return name, nil
}

// What token fixes: a measurement name, a tag key, a tag value or a field
// key.
const (
	tokenName = iota
	tokenTagKey
	tokenTagValue
	tokenFieldKey
)

var tokenWhat = [...]string{"measurement name", "tag key", "tag value", "field key"}

// token applies RuleUnsafeChars to s, a string line protocol writes as a
// token of kind what; key is the key the warning names.
func (f *fixer) token(s string, what int, key string) (string, error) {
	if !f.n.on(RuleUnsafeChars) {
		return s, nil
	}
	fixed, found := safeToken(s, what == tokenName)
	if found == 0 {
		return s, nil
	}
	var problem, remedy []string
	if found&unsafeCtl != 0 {
		problem = append(problem, "contains a control character")
		remedy = append(remedy, "control characters replaced with spaces")
	}
	if found&unsafeTail != 0 {
		problem = append(problem, "ends in a backslash")
		remedy = append(remedy, "trailing backslashes removed")
	}
	if found&unsafeHash != 0 {
		problem = append(problem, "starts with '#'")
		remedy = append(remedy, "the '#' replaced with '_'")
	}
	code := point.WarnNewLineOrTailEscape // DataKit's code for tag values and field keys
	switch what {
	case tokenName:
		code = point.WarnInvalidMeasurement
	case tokenTagKey:
		code, key = point.WarnInvalidTagKey, fixed
	case tokenFieldKey:
		key = fixed
	}
	p := tokenWhat[what] + " " + strings.Join(problem, " and ")
	if err := f.brokeCode(RuleUnsafeChars, code, key, p, p+"; "+strings.Join(remedy, ", ")); err != nil {
		return "", err
	}
	return fixed, nil
}

// What safeToken found.
const (
	unsafeCtl  = 1 << iota // a control character
	unsafeTail             // a trailing backslash
	unsafeHash             // a leading '#' (names only)
)

// safeToken returns s with every control character (below 0x20, and DEL)
// replaced by a space, then trailing backslashes removed and, for a name,
// a leading '#' replaced by '_', and what it found.
func safeToken(s string, name bool) (string, int) {
	found := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f {
			found = unsafeCtl
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] < 0x20 || b[j] == 0x7f {
					b[j] = ' '
				}
			}
			s = string(b)
			break
		}
	}
	if s != "" && s[len(s)-1] == '\\' {
		found |= unsafeTail
		s = strings.TrimRight(s, `\`)
	}
	if name && s != "" && s[0] == '#' {
		found |= unsafeHash
		s = "_" + s[1:]
	}
	return s, found
}

// key fixes a tag or field key. It returns false if the key is to be
// dropped.
func (f *fixer) key(key string, tag, dots bool) (string, bool, error) {
	n := f.n
	if key == "" {
		if !n.on(RuleEmptyKey) {
			return key, true, nil
		}
		if tag {
			return "", false, f.brokeMsg(RuleEmptyKey, tag, "", "tag key is empty", "tag key is empty; tag dropped")
		}
		return "", false, f.brokeMsg(RuleEmptyKey, tag, "", "field key is empty", "field key is empty; field dropped")
	}
	if n.on(RuleUTF8) && !utf8.ValidString(key) {
		fixed := strings.ToValidUTF8(key, string(utf8.RuneError))
		if err := f.broke(RuleUTF8, tag, fixed, kind(tag)+" key is not valid UTF-8", "invalid bytes replaced with U+FFFD"); err != nil {
			return "", false, err
		}
		key = fixed
	}
	if !dots && strings.IndexByte(key, '.') >= 0 {
		fixed := strings.ReplaceAll(key, ".", "_")
		if err := f.broke(RuleDotInKey, tag, key, kind(tag)+` key contains "."`, `renamed to "`+fixed+`"`); err != nil {
			return "", false, err
		}
		key = fixed
	}
	if max := n.limits.MaxKeyLen; n.on(RuleKeyLen) && len(key) > max {
		fixed := truncate(key, max)
		if err := f.broke(RuleKeyLen, tag, fixed, fmt.Sprintf("%s key is %d bytes, over the limit of %d", kind(tag), len(key), max),
			fmt.Sprintf("truncated to %d bytes", len(fixed))); err != nil {
			return "", false, err
		}
		key = fixed
	}
	what := tokenFieldKey
	if tag {
		what = tokenTagKey
	}
	var err error
	if key, err = f.token(key, what, ""); err != nil {
		return "", false, err
	}
	if key == "" && n.on(RuleEmptyKey) { // it was all backslashes
		return "", false, f.brokeMsg(RuleEmptyKey, tag, "", kind(tag)+" key is empty", kind(tag)+" key is empty; "+kind(tag)+" dropped")
	}
	return key, true, nil
}

func (f *fixer) tags(in []point.Tag, c point.Category) ([]point.Tag, error) {
	n := f.n
	dots := n.dotsAllowed(c)
	dup := n.on(RuleDuplicateKey)
	var seen keySet
	out := in // in until the first change; then a new slice, or in[:i] when owned
	changed := false
	for i, t := range in {
		key, keep, err := f.key(t.Key, true, dots)
		if err != nil {
			return nil, err
		}
		kept := out
		if !changed {
			kept = in[:i]
		}
		if keep && dup && seen.hasTag(kept, key) {
			if err := f.brokeMsg(RuleDuplicateKey, true, key, msgDupTag, msgDupTagFull); err != nil {
				return nil, err
			}
			keep = false
		}
		value := t.Value
		if keep {
			if value, err = f.tagValue(key, value); err != nil {
				return nil, err
			}
		}
		if !changed {
			if keep && key == t.Key && value == t.Value {
				continue
			}
			changed = true
			if f.owned {
				out = in[:i]
			} else {
				out = make([]point.Tag, i, len(in)+1)
				copy(out, in[:i])
			}
		}
		if keep {
			out = append(out, point.Tag{Key: key, Value: value})
		}
	}
	return out, nil
}

func (f *fixer) tagValue(key, value string) (string, error) {
	n := f.n
	if n.on(RuleUTF8) && !utf8.ValidString(value) {
		if err := f.broke(RuleUTF8, true, key, "tag value is not valid UTF-8", "invalid bytes replaced with U+FFFD"); err != nil {
			return "", err
		}
		value = strings.ToValidUTF8(value, string(utf8.RuneError))
	}
	if max := n.limits.MaxTagValueLen; n.on(RuleTagValueLen) && len(value) > max {
		cut := truncate(value, max)
		if err := f.broke(RuleTagValueLen, true, key, fmt.Sprintf("tag value is %d bytes, over the limit of %d", len(value), max),
			fmt.Sprintf("truncated to %d bytes", len(cut))); err != nil {
			return "", err
		}
		value = cut
	}
	return f.token(value, tokenTagValue, key)
}

func (f *fixer) fields(in []point.Field, c point.Category) ([]point.Field, error) {
	n := f.n
	dots := n.dotsAllowed(c)
	dup := n.on(RuleDuplicateKey)
	var seen keySet
	out := in // in until the first change; then a new slice, or in[:i] when owned
	changed := false
	for i, fl := range in {
		key, keep, err := f.key(fl.Key, false, dots)
		if err != nil {
			return nil, err
		}
		if keep {
			if keep, err = f.fieldKind(key, fl.Value, c); err != nil {
				return nil, err
			}
		}
		kept := out
		if !changed {
			kept = in[:i]
		}
		if keep && dup && seen.hasField(kept, key) {
			if err := f.brokeMsg(RuleDuplicateKey, false, key, msgDupField, msgDupFieldFull); err != nil {
				return nil, err
			}
			keep = false
		}
		value, valueChanged := fl.Value, false
		if keep {
			if value, valueChanged, err = f.fieldValue(key, value); err != nil {
				return nil, err
			}
		}
		if !changed {
			if keep && key == fl.Key && !valueChanged {
				continue
			}
			changed = true
			out = f.fieldsFrom(in, i)
		}
		if keep {
			out = append(out, point.Field{Key: key, Value: value})
		}
	}
	return out, nil
}

// fieldsFrom returns the slice to keep fields in from the ith field of in
// on: in[:i] when owned, otherwise a copy of it with room for all of in and
// one more (a logging status).
func (f *fixer) fieldsFrom(in []point.Field, i int) []point.Field {
	if f.owned {
		return in[:i]
	}
	out := make([]point.Field, i, len(in)+1)
	copy(out, in[:i])
	return out
}

// dropFields is fields for a point whose only fault is fields to drop for
// their kind of value: it drops them and changes nothing else.
func (f *fixer) dropFields(in []point.Field, c point.Category) ([]point.Field, error) {
	out := in
	changed := false
	for i, fl := range in {
		keep, err := f.fieldKind(fl.Key, fl.Value, c)
		if err != nil {
			return nil, err
		}
		if !changed {
			if keep {
				continue
			}
			changed = true
			out = f.fieldsFrom(in, i)
		}
		if keep {
			out = append(out, fl)
		}
	}
	return out, nil
}

// fieldKind checks the rules that drop a field for its kind of value and
// reports whether the field is kept.
func (f *fixer) fieldKind(key string, v point.Value, c point.Category) (bool, error) {
	n := f.n
	switch v.Kind() {
	case point.KindInvalid:
		if n.on(RuleNilField) {
			return false, f.brokeMsg(RuleNilField, false, key, msgNil, msgNilFull)
		}
	case point.KindFloat:
		if x := v.Float(); n.on(RuleNonFinite) && (math.IsNaN(x) || math.IsInf(x, 0)) {
			switch {
			case math.IsNaN(x):
				return false, f.brokeMsg(RuleNonFinite, false, key, msgNaN, msgNaNFull)
			case x > 0:
				return false, f.brokeMsg(RuleNonFinite, false, key, msgPosInf, msgPosInfFull)
			}
			return false, f.brokeMsg(RuleNonFinite, false, key, msgNegInf, msgNegInfFull)
		}
	case point.KindString:
		if c == point.Metric && n.on(RuleStringField) {
			return false, f.brokeMsg(RuleStringField, false, key, msgStringField, msgStringFieldFull)
		}
	case point.KindBytes:
		if c == point.Metric && n.on(RuleStringField) {
			return false, f.brokeMsg(RuleStringField, false, key, msgBytesField, msgBytesFieldFull)
		}
	}
	return true, nil
}

// fieldValue repairs and truncates string and bytes values.
func (f *fixer) fieldValue(key string, v point.Value) (point.Value, bool, error) {
	n := f.n
	k := v.Kind()
	if k != point.KindString && k != point.KindBytes {
		return v, false, nil
	}
	s, changed := v.Str(), false
	if k == point.KindString && n.on(RuleUTF8) && !utf8.ValidString(s) {
		if err := f.broke(RuleUTF8, false, key, "string field is not valid UTF-8", "invalid bytes replaced with U+FFFD"); err != nil {
			return v, false, err
		}
		s, changed = strings.ToValidUTF8(s, string(utf8.RuneError)), true
	}
	// Line protocol writes bytes as a string, so under RuleUnsafeChars they
	// are text too: repaired, and truncated at a UTF-8 boundary.
	bytesText := k == point.KindBytes && n.on(RuleUnsafeChars)
	if bytesText && !utf8.ValidString(s) {
		if err := f.brokeCode(RuleUnsafeChars, point.WarnInvalidUTF8, key, msgBytesUTF8, msgBytesUTF8Full); err != nil {
			return v, false, err
		}
		s, changed = strings.ToValidUTF8(s, string(utf8.RuneError)), true
	}
	if max := n.limits.MaxFieldValueLen; n.on(RuleFieldValueLen) && len(s) > max {
		cut := s[:max] // bytes are cut anywhere
		if k == point.KindString || bytesText {
			cut = truncate(s, max)
		}
		if err := f.broke(RuleFieldValueLen, false, key, fmt.Sprintf("%s field is %d bytes, over the limit of %d", k, len(s), max),
			fmt.Sprintf("truncated to %d bytes", len(cut))); err != nil {
			return v, false, err
		}
		s, changed = cut, true
	}
	if !changed {
		return v, false, nil
	}
	if k == point.KindString {
		return point.StringValue(s), true, nil
	}
	// BytesValue aliases its argument and never writes to it, so a
	// substring of the original value can back it without a copy of up to
	// 32 MiB.
	return point.BytesValue(unsafe.Slice(unsafe.StringData(s), len(s))), true, nil
}

// conflicts drops the fields whose key is also a tag key, into a new slice
// if any is dropped.
func (f *fixer) conflicts(tags []point.Tag, fields []point.Field) ([]point.Field, error) {
	var tagSet keySet
	var out []point.Field
	for i, fl := range fields {
		if !tagSet.hasTag(tags, fl.Key) {
			if out != nil {
				out = append(out, fl)
			}
			continue
		}
		if err := f.brokeMsg(RuleKeyConflict, false, fl.Key, msgConflict, msgConflictFull); err != nil {
			return nil, err
		}
		if out == nil {
			if f.owned {
				out = fields[:i] // not nil: fields is not empty
			} else {
				out = make([]point.Field, i, len(fields))
				copy(out, fields[:i])
			}
		}
	}
	if out == nil {
		return fields, nil
	}
	return out, nil
}

// trim keeps the max entries of s with the smallest keys (the protected key
// counts as smallest), in their original order.
func trim[T any](f *fixer, r Rule, tag bool, s []T, keyOf func(T) string, max int, protected string) ([]T, error) {
	idx := make([]int, len(s))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ka, kb := keyOf(s[a]), keyOf(s[b])
		if (ka == protected) != (kb == protected) {
			if ka == protected {
				return -1
			}
			return 1
		}
		return cmp.Compare(ka, kb)
	})
	keep := make([]bool, len(s))
	for _, i := range idx[:max] {
		keep[i] = true
	}
	dropped := len(s) - max
	first := keyOf(s[idx[max]])
	if err := f.broke(r, tag, first, fmt.Sprintf("%d %ss, over the limit of %d", len(s), kind(tag), max),
		fmt.Sprintf("%d %ss with the largest keys dropped, from %q", dropped, kind(tag), first)); err != nil {
		return nil, err
	}
	out := make([]T, 0, max)
	for i, x := range s {
		if keep[i] {
			out = append(out, x)
		}
	}
	return out, nil
}

// appendOwned appends x to s, copying s first if it is still the point's
// original slice orig (whose backing array must not be written to).
func appendOwned[T any](s, orig []T, x T) []T {
	if len(s) > 0 && len(orig) > 0 && &s[0] == &orig[0] {
		s = slices.Clip(s)
	}
	return append(s, x)
}

// appendTag appends x to the point's tags s: in place when owned and s
// has room, else into the batch's slab if there is one.
func (f *fixer) appendTag(s, orig []point.Tag, x point.Tag) []point.Tag {
	switch {
	case len(s) < cap(s) && (f.owned || len(s) > 0 && (len(orig) == 0 || &s[0] != &orig[0])):
		return append(s, x) // owned, or a new slice of the fix
	case f.slab != nil:
		return f.slab.appendTag(s, x)
	case f.owned:
		return append(s, x)
	}
	return appendOwned(s, orig, x)
}

// appendField appends x to the point's fields s: in place when owned and
// s has room, else into the batch's slab if there is one.
func (f *fixer) appendField(s, orig []point.Field, x point.Field) []point.Field {
	switch {
	case len(s) < cap(s) && (f.owned || len(s) > 0 && (len(orig) == 0 || &s[0] != &orig[0])):
		return append(s, x) // owned, or a new slice of the fix
	case f.slab != nil:
		return f.slab.appendField(s, x)
	case f.owned:
		return append(s, x)
	}
	return appendOwned(s, orig, x)
}

func tagKey(t point.Tag) string     { return t.Key }
func fieldKey(f point.Field) string { return f.Key }

func keyIn[T any](s []T, keyOf func(T) string, key string) bool {
	for _, x := range s {
		if keyOf(x) == key {
			return true
		}
	}
	return false
}

// truncate cuts s to at most max bytes without splitting a UTF-8 sequence.
// Bytes that are not part of a valid sequence may be cut anywhere.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for j := 0; j < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(s[i]); j++ {
		i--
	}
	if !utf8.RuneStart(s[i]) {
		return s[:max] // a run of stray continuation bytes: not a rune to keep whole
	}
	if r, size := utf8.DecodeRuneInString(s[i:]); r != utf8.RuneError && i+size <= max {
		i += size
	}
	return s[:i]
}
