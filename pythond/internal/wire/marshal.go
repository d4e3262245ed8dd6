package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The type codes of marshal version 2 (see FORMAT.md).
const (
	mNone      = 'N'
	mTrue      = 'T'
	mFalse     = 'F'
	mInt       = 'i'
	mLong      = 'l'
	mFloat     = 'g'
	mComplex   = 'y'
	mStr       = 'u'
	mBytes     = 's'
	mList      = '['
	mTuple     = '('
	mSet       = '<'
	mFrozenset = '>'
	mDict      = '{'
	mDictEnd   = '0'

	// maxMarshalDepth bounds the nesting of values skipped under
	// unknown keys.
	maxMarshalDepth = 1000
	// maxPointErrors is how many bad points an error lists.
	maxPointErrors = 10
)

// marshalTypeNames names the Python type of each type code the decoder
// knows, for error messages.
var marshalTypeNames = [256]string{
	mNone: "None", mTrue: "bool", mFalse: "bool", mInt: "int", mLong: "int",
	mFloat: "float", mComplex: "complex", mStr: "str", mBytes: "bytes",
	mList: "list", mTuple: "tuple", mSet: "set", mFrozenset: "frozenset",
	mDict: "dict",
}

// errIntRange is the cause of a field or time that is an int outside
// both the int64 and the uint64 range.
var errIntRange = errors.New("integer outside the 64-bit range")

// pointSpan records where a point's tags and fields are in the slabs;
// points get their slices only at the end, since the slabs may move while
// they grow.
type pointSpan struct {
	tag0, tag1, field0, field1 int
}

// Decoder decodes payloads into points. Its slabs are kept between
// calls, so a decoder that is reused costs no allocation once they have
// grown. Strings alias the payload (or the decoder's arena, for the rare
// str that needed repair), so the points are valid until the next decode
// or until the payload is modified.
type Decoder struct {
	// ExactInts keeps ints as int64 (uint64 above its range) fields;
	// false converts them to float64 as DataKit's JSON path does.
	ExactInts bool

	buf   []byte
	pos   int
	prec  protocol.Precision
	now   time.Time
	first int // report index of the chunk's first point

	pts    []point.Point
	spans  []pointSpan
	tags   []point.Tag
	fields []point.Field
	warns  []point.Warning
	arena  []byte
	errs   protocol.DecodeErrors

	// The point being decoded: its index in the chunk, slab lengths at its
	// start, and its first semantic error (the point is read to its end,
	// then dropped).
	elem                int
	tag0, field0, warn0 int
	bad                 *protocol.DecodeError
}

// Decode decodes one chunk: a marshal payload as FORMAT.md specifies,
// whose first point is point first of its report, with timestamps in prec (detected
// from their magnitude when that is protocol.PrecisionAuto) and now for
// points without one. It returns the chunk's points and the warnings of
// the decoding (Point is the index in the chunk), or a
// *protocol.DecodeErrors (each Element the point's index in the report)
// when any point is bad, in which case no points are returned: a point that breaks
// the rules of DataKit's JSON API, or a payload that is not well formed
// (which ends decoding, naming the offset and what was expected there).
func (d *Decoder) Decode(payload []byte, first int, prec protocol.Precision, now time.Time) ([]point.Point, []point.Warning, error) {
	d.buf, d.pos, d.first, d.prec, d.now = payload, 0, first, prec, now
	d.pts = d.pts[:0]
	d.spans = d.spans[:0]
	d.tags = d.tags[:0]
	d.fields = d.fields[:0]
	d.warns = d.warns[:0]
	d.arena = d.arena[:0]
	d.errs = protocol.DecodeErrors{}
	d.elem = -1
	d.bad = nil

	if err := d.list(); err != nil {
		d.addError(err)
	}
	d.buf = nil
	if len(d.errs.Errors) > 0 {
		errs := &protocol.DecodeErrors{Errors: d.errs.Errors, Valid: len(d.pts), Invalid: d.errs.Invalid, Truncated: d.errs.Truncated}
		clear(d.pts)                     // let go of the strings
		d.errs = protocol.DecodeErrors{} // the error keeps its list
		return nil, nil, errs
	}
	for i := range d.pts {
		s := d.spans[i]
		if s.tag1 > s.tag0 {
			d.pts[i].Tags = d.tags[s.tag0:s.tag1:s.tag1]
		}
		if s.field1 > s.field0 {
			d.pts[i].Fields = d.fields[s.field0:s.field1:s.field1]
		}
	}
	if len(d.warns) == 0 {
		return d.pts, nil, nil
	}
	return d.pts, d.warns, nil
}

func (d *Decoder) addError(e *protocol.DecodeError) {
	d.errs.Invalid++
	if len(d.errs.Errors) < maxPointErrors {
		d.errs.Errors = append(d.errs.Errors, e)
	} else {
		d.errs.Truncated = true
	}
}

// listStart reads the start of the top-level list of a payload, a list of
// what, and returns its length.
func (d *Decoder) listStart(what string) (int, *protocol.DecodeError) {
	if c, ok := d.peek(); !ok || c != mList {
		return 0, d.malformed("a list of " + what + " ('[')")
	}
	d.pos++
	return d.count("list")
}

// list decodes the top-level list. It returns an error only for a payload
// that is not well formed; bad points are recorded as they are met.
func (d *Decoder) list() *protocol.DecodeError {
	n, err := d.listStart("points")
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		d.elem = i
		if err := d.element(); err != nil {
			return err
		}
	}
	d.elem = -1
	if d.pos != len(d.buf) {
		return d.malformedf("%d bytes after the list of points", len(d.buf)-d.pos)
	}
	return nil
}

// element decodes point d.elem.
func (d *Decoder) element() *protocol.DecodeError {
	d.tag0, d.field0, d.warn0 = len(d.tags), len(d.fields), len(d.warns)
	d.bad = nil
	if c, _ := d.peek(); c != mDict {
		d.semantic("", fmt.Errorf("%w: a point is a dict, not %s", protocol.ErrSyntax, d.typeName()))
		if err := d.skip(1); err != nil {
			return err
		}
		d.drop()
		return nil
	}
	d.pos++
	var (
		name string
		t    = d.now
	)
	for {
		key, end, err := d.key(1)
		if err != nil {
			return err
		}
		if end {
			break
		}
		switch key {
		case "measurement":
			switch c, _ := d.peek(); c {
			case mNone: // DataKit reads null as ""
				d.pos++
				name = ""
			case mStr:
				d.pos++
				name, err = d.str()
			default:
				d.semantic(key, fmt.Errorf("%w: measurement is %s, not str", protocol.ErrInvalidName, d.typeName()))
				err = d.skip(2)
			}
		case "tags":
			err = d.tagDict()
		case "fields":
			err = d.fieldDict()
		case "time":
			t, err = d.time()
		default:
			err = d.skip(2)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case d.bad != nil:
	case len(d.fields) == d.field0:
		d.semantic("fields", protocol.ErrNoFields)
	}
	if d.bad != nil {
		d.drop()
		return nil
	}
	d.pts = append(d.pts, point.Point{Name: name, Time: t})
	d.spans = append(d.spans, pointSpan{d.tag0, len(d.tags), d.field0, len(d.fields)})
	return nil
}

// semantic records the first problem of the current point.
func (d *Decoder) semantic(key string, err error) {
	if d.bad == nil {
		d.bad = &protocol.DecodeError{Element: d.first + d.elem, Key: key, Err: err}
	}
}

// drop forgets the current point and records why.
func (d *Decoder) drop() {
	d.tags = d.tags[:d.tag0]
	d.fields = d.fields[:d.field0]
	d.warns = d.warns[:d.warn0]
	d.addError(d.bad)
}

// key reads the next key of a dict whose '{' has been consumed, or its
// end. A key that is not a str is skipped with its value and recorded as
// the point's problem; key then goes on to the next one.
func (d *Decoder) key(depth int) (key string, end bool, err *protocol.DecodeError) {
	for {
		c, ok := d.peek()
		switch {
		case !ok:
			return "", false, d.malformed("a dict key or the end of the dict ('0')")
		case c == mDictEnd:
			d.pos++
			return "", true, nil
		case c == mStr:
			d.pos++
			key, err = d.str()
			return key, false, err
		}
		d.semantic("", fmt.Errorf("%w: a dict key of type %s (keys must be str)", protocol.ErrInvalidKey, d.typeName()))
		if err := d.skip(depth + 1); err != nil {
			return "", false, err
		}
		if err := d.skip(depth + 1); err != nil {
			return "", false, err
		}
	}
}

// dictStart consumes the start of a point's "tags" or "fields" value: a
// dict continues (more is true), None is an empty one, and anything else is
// recorded as an error of kind (naming what) and skipped.
func (d *Decoder) dictStart(what string, kind error) (more bool, err *protocol.DecodeError) {
	switch c, _ := d.peek(); c {
	case mNone:
		d.pos++
		return false, nil
	case mDict:
		d.pos++
		return true, nil
	}
	d.semantic(what, fmt.Errorf("%w: %s is %s, not a dict", kind, what, d.typeName()))
	return false, d.skip(2)
}

func (d *Decoder) tagDict() *protocol.DecodeError {
	if more, err := d.dictStart("tags", protocol.ErrTagType); !more {
		return err
	}
	for {
		key, end, err := d.key(2)
		if err != nil || end {
			return err
		}
		c, _ := d.peek()
		if c == mNone { // DataKit reads it as ""; the tag is dropped
			d.pos++
			d.warns = append(d.warns, point.Warning{Code: point.WarnNilField, Point: d.elem, Key: key, Message: "null tag value dropped"})
			continue
		}
		if c != mStr {
			d.semantic(key, fmt.Errorf("%w (found %s)", protocol.ErrTagType, d.typeName()))
			if err := d.skip(3); err != nil {
				return err
			}
			continue
		}
		d.pos++
		v, err := d.str()
		if err != nil {
			return err
		}
		d.tags = append(d.tags, point.Tag{Key: key, Value: v})
	}
}

func (d *Decoder) fieldDict() *protocol.DecodeError {
	if more, err := d.dictStart("fields", protocol.ErrFieldType); !more {
		return err
	}
	for {
		key, end, err := d.key(2)
		if err != nil || end {
			return err
		}
		if err := d.field(key); err != nil {
			return err
		}
	}
}

// field decodes the value of field key.
func (d *Decoder) field(key string) *protocol.DecodeError {
	c, ok := d.peek()
	if !ok {
		return d.malformed("a field value")
	}
	var v point.Value
	switch c {
	case mNone:
		d.pos++
		d.warns = append(d.warns, point.Warning{Code: point.WarnNilField, Point: d.elem, Key: key, Message: "null field value dropped"})
		return nil
	case mTrue, mFalse:
		d.pos++
		v = point.BoolValue(c == mTrue)
	case mInt, mLong:
		start := d.pos
		neg, mag, inRange, err := d.integer()
		if err != nil {
			return err
		}
		switch {
		case !d.ExactInts:
			f := float64(mag) // rounds to nearest, as parsing its digits would
			if !inRange {
				f = bigIntFloat(d.buf[start:d.pos])
			}
			if math.IsInf(f, 0) {
				d.semantic(key, fmt.Errorf("%w: an int too large for a float", errIntRange))
				return nil
			}
			if neg {
				f = -f
			}
			v = point.FloatValue(f)
		case !inRange || (neg && mag > 1<<63):
			d.semantic(key, fmt.Errorf("%w: %s", errIntRange, bigText(neg, mag, inRange)))
			return nil
		case neg:
			v = point.IntValue(int64(-mag)) // two's complement: -2^63 stays exact
		case mag > math.MaxInt64:
			v = point.UintValue(mag)
		default:
			v = point.IntValue(int64(mag))
		}
	case mFloat:
		d.pos++
		b, err := d.take(8, "the 8 bytes of a float")
		if err != nil {
			return err
		}
		v = point.FloatValue(math.Float64frombits(binary.LittleEndian.Uint64(b)))
	case mStr:
		d.pos++
		s, err := d.str()
		if err != nil {
			return err
		}
		v = point.StringValue(s)
	case mBytes:
		d.pos++
		n, err := d.length("bytes")
		if err != nil {
			return err
		}
		b := d.buf[d.pos : d.pos+n : d.pos+n]
		d.pos += n
		v = point.BytesValue(b)
	default:
		d.semantic(key, fmt.Errorf("%w: a value of type %s cannot be a field value", protocol.ErrFieldType, d.typeName()))
		return d.skip(3)
	}
	d.fields = append(d.fields, point.Field{Key: key, Value: v})
	return nil
}

// bigIntFloat returns the magnitude of the well-formed 'l' int in b
// rounded to the nearest float64 (+Inf beyond its range).
func bigIntFloat(b []byte) float64 {
	n := int(int32(binary.LittleEndian.Uint32(b[1:])))
	if n < 0 {
		n = -n
	}
	x := new(big.Int)
	digit := new(big.Int)
	for i := n - 1; i >= 0; i-- {
		x.Lsh(x, 15)
		x.Or(x, digit.SetUint64(uint64(binary.LittleEndian.Uint16(b[5+2*i:]))))
	}
	f, _ := new(big.Float).SetInt(x).Float64()
	return f
}

// bigText describes an integer that does not fit a field.
func bigText(neg bool, mag uint64, inRange bool) string {
	switch {
	case !inRange && neg:
		return "below -2^64"
	case !inRange:
		return "above 2^64-1"
	}
	return "-" + strconv.FormatUint(mag, 10) + " is below -2^63"
}

// time decodes the value of "time" as the JSON API does.
func (d *Decoder) time() (time.Time, *protocol.DecodeError) {
	c, _ := d.peek()
	switch c {
	case mNone:
		d.pos++
		return d.now, nil
	case mInt, mLong:
		neg, mag, inRange, err := d.integer()
		if err != nil {
			return d.now, err
		}
		if inRange && (mag <= math.MaxInt64 || (neg && mag == 1<<63)) {
			ts := int64(mag)
			if neg {
				ts = int64(-mag)
			}
			if ts == 0 { // DataKit: a zero time means now
				return d.now, nil
			}
			if t, ok := d.prec.Time(ts); ok {
				if ts < 0 {
					d.negativeTime(strconv.FormatInt(ts, 10))
				}
				return t, nil
			}
			d.semantic("time", fmt.Errorf("%w: %d in precision %s", protocol.ErrTimeRange, ts, d.prec))
			return d.now, nil
		}
		d.semantic("time", fmt.Errorf("%w: an integer beyond int64 in precision %s", protocol.ErrTimeRange, d.prec))
		return d.now, nil
	case mFloat:
		d.pos++
		b, err := d.take(8, "the 8 bytes of a float")
		if err != nil {
			return d.now, err
		}
		f := math.Float64frombits(binary.LittleEndian.Uint64(b))
		if f == 0 {
			return d.now, nil
		}
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			if t, ok := d.prec.Time(int64(f)); ok {
				if f < 0 {
					d.negativeTime(pyFloat(f))
				}
				return t, nil
			}
		} else if t, ok := d.prec.FloatTime(f); ok {
			if f < 0 {
				d.negativeTime(pyFloat(f))
			}
			return t, nil
		}
		d.semantic("time", fmt.Errorf("%w: %v in precision %s", protocol.ErrTimeRange, f, d.prec))
		return d.now, nil
	}
	d.semantic("time", fmt.Errorf("%w: time is %s, not a number", protocol.ErrTimeRange, d.typeName()))
	return d.now, d.skip(2)
}

// integer decodes an 'i' or 'l' at d.pos into its sign and magnitude;
// inRange is false when the magnitude exceeds uint64.
func (d *Decoder) integer() (neg bool, mag uint64, inRange bool, err *protocol.DecodeError) {
	start := d.pos
	c := d.buf[d.pos]
	d.pos++
	if c == mInt {
		b, err := d.take(4, "the 4 bytes of an int")
		if err != nil {
			return false, 0, false, err
		}
		n := int64(int32(binary.LittleEndian.Uint32(b)))
		if n < 0 {
			return true, uint64(-n), true, nil
		}
		return false, uint64(n), true, nil
	}
	b, err := d.take(4, "the digit count of an int")
	if err != nil {
		return false, 0, false, err
	}
	n := int64(int32(binary.LittleEndian.Uint32(b)))
	neg = n < 0
	if neg {
		n = -n
	}
	if n > int64(len(d.buf)-d.pos)/2 {
		d.pos = start
		return false, 0, false, d.malformedf("an int of %d digits, but only %d bytes remain", n, len(d.buf)-start-5)
	}
	digits := d.buf[d.pos : d.pos+int(2*n)]
	inRange = true
	for i := 0; i < int(n); i++ {
		dig := uint64(binary.LittleEndian.Uint16(digits[2*i:]))
		if dig >= 1<<15 {
			d.pos += 2 * i
			return false, 0, false, d.malformedf("int digit %d is %d, above 2^15-1", i, dig)
		}
		if i == int(n)-1 && dig == 0 {
			d.pos += 2 * i
			return false, 0, false, d.malformed("a non-zero most significant int digit")
		}
		shift := 15 * i
		switch {
		case dig == 0:
		case shift >= 64 || shift+bits.Len64(dig) > 64:
			inRange = false
		default:
			mag |= dig << shift
		}
	}
	d.pos += int(2 * n)
	if !inRange {
		mag = 0
	}
	return neg, mag, inRange, nil
}

// str reads the length and bytes of a str whose type code has been
// consumed. The result aliases the payload, unless the str held lone
// surrogates (which Python writes as if they were code points): those are
// repaired into the arena as package protocol repairs JSON \u escapes, a
// pair into its character and a lone one into U+FFFD.
func (d *Decoder) str() (string, *protocol.DecodeError) {
	n, err := d.length("str")
	if err != nil {
		return "", err
	}
	b := d.buf[d.pos : d.pos+n]
	if n == 0 {
		return "", nil
	}
	if !validUTF8(b) {
		s, err := d.repair(b)
		if err != nil {
			return "", err
		}
		d.pos += n
		return s, nil
	}
	d.pos += n
	return unsafe.String(&b[0], n), nil
}

// validUTF8 is utf8.Valid with a cheaper path for the short ASCII
// strings that most keys and tag values are.
func validUTF8(b []byte) bool {
	if len(b) <= 32 {
		var or byte
		for _, c := range b {
			or |= c
		}
		if or < utf8.RuneSelf {
			return true
		}
	}
	return utf8.Valid(b)
}

// repair converts a str with surrogates to UTF-8 in the arena. Any other
// invalid byte is an error: Python does not write it.
func (d *Decoder) repair(b []byte) (string, *protocol.DecodeError) {
	start := len(d.arena)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			d.arena = append(d.arena, b[i:i+size]...)
			i += size
			continue
		}
		hi, ok := surrogate(b[i:])
		if !ok {
			d.arena = d.arena[:start]
			d.pos += i
			return "", &protocol.DecodeError{Element: d.index(), Err: fmt.Errorf("%w: byte %#x at offset %d of the payload", protocol.ErrInvalidUTF8, b[i], d.pos)}
		}
		i += 3
		r = utf8.RuneError
		if hi < 0xDC00 {
			if lo, ok := surrogate(b[i:]); ok && lo >= 0xDC00 {
				r = 0x10000 + (hi-0xD800)<<10 + (lo - 0xDC00)
				i += 3
			}
		}
		d.arena = utf8.AppendRune(d.arena, r)
	}
	s := d.arena[start:]
	return unsafe.String(&s[0], len(s)), nil
}

// surrogate decodes a surrogate code point written as a 3-byte sequence.
func surrogate(b []byte) (rune, bool) {
	if len(b) < 3 || b[0] != 0xED || b[1] < 0xA0 || b[1] > 0xBF || b[2]&0xC0 != 0x80 {
		return 0, false
	}
	return 0xD000 | rune(b[1]&0x3F)<<6 | rune(b[2]&0x3F), true
}

// skip moves past any value at depth, checking that it is well formed.
func (d *Decoder) skip(depth int) *protocol.DecodeError {
	if depth > maxMarshalDepth {
		return d.malformedf("values nested deeper than %d", maxMarshalDepth)
	}
	c, ok := d.peek()
	if !ok {
		return d.malformed("a value")
	}
	switch c {
	case mNone, mTrue, mFalse:
		d.pos++
		return nil
	case mInt, mLong:
		_, _, _, err := d.integer()
		return err
	case mFloat, mComplex:
		d.pos++
		if c == mComplex {
			_, err := d.take(16, "the 16 bytes of a complex")
			return err
		}
		_, err := d.take(8, "the 8 bytes of a float")
		return err
	case mStr, mBytes:
		d.pos++
		n, err := d.length(marshalTypeNames[c])
		if err != nil {
			return err
		}
		d.pos += n
		return nil
	case mList, mTuple, mSet, mFrozenset:
		d.pos++
		n, err := d.count(marshalTypeNames[c])
		if err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
		return nil
	case mDict:
		d.pos++
		for {
			if c, ok := d.peek(); ok && c == mDictEnd {
				d.pos++
				return nil
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if err := d.skip(depth + 1); err != nil {
				return err
			}
		}
	}
	return d.malformed("a value of type None, bool, int, float, complex, str, bytes, list, tuple, set, frozenset or dict")
}

// length reads the uint32 length of a str or bytes and checks that that
// many bytes follow.
func (d *Decoder) length(what string) (int, *protocol.DecodeError) {
	n, err := d.u32(what, "length")
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(d.buf)-d.pos) {
		d.pos -= 4
		return 0, d.malformedf("a %s of %d bytes, but %d bytes remain", what, n, len(d.buf)-d.pos-4)
	}
	return int(n), nil
}

// count reads the item count of a list, tuple or set and checks it
// against the bytes that remain (an item takes at least one).
func (d *Decoder) count(what string) (int, *protocol.DecodeError) {
	n, err := d.u32(what, "item count")
	if err != nil {
		return 0, err
	}
	if n < 0 || n > int64(len(d.buf)-d.pos) {
		d.pos -= 4
		return 0, d.malformedf("a %s of %d items, but %d bytes remain", what, n, len(d.buf)-d.pos-4)
	}
	return int(n), nil
}

// u32 reads the 4-byte signed length or count of a what.
func (d *Decoder) u32(what, field string) (int64, *protocol.DecodeError) {
	if len(d.buf)-d.pos < 4 {
		return 0, d.malformed("the " + field + " of a " + what)
	}
	n := int64(int32(binary.LittleEndian.Uint32(d.buf[d.pos:])))
	d.pos += 4
	return n, nil
}

// take returns the next n bytes.
func (d *Decoder) take(n int, what string) ([]byte, *protocol.DecodeError) {
	if len(d.buf)-d.pos < n {
		return nil, d.malformed(what)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

func (d *Decoder) peek() (byte, bool) {
	if d.pos < len(d.buf) {
		return d.buf[d.pos], true
	}
	return 0, false
}

// typeName names the Python type of the value at d.pos.
func (d *Decoder) typeName() string {
	c, ok := d.peek()
	switch {
	case !ok:
		return "nothing"
	case marshalTypeNames[c] != "":
		return marshalTypeNames[c]
	}
	return "type code " + codeText(c)
}

// codeText shows a type code: 'u' when printable ASCII, else 0xfb.
func codeText(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("%#02x", c)
}

// index is the report index of the current point, or -1 outside points.
func (d *Decoder) index() int {
	if d.elem < 0 {
		return -1
	}
	return d.first + d.elem
}

// malformed reports a payload that is not well formed at d.pos: want is
// what was expected there.
func (d *Decoder) malformed(want string) *protocol.DecodeError {
	found := "the end of the payload"
	if c, ok := d.peek(); ok {
		found = "byte " + codeText(c)
	}
	return &protocol.DecodeError{Element: d.index(), Err: fmt.Errorf("%w: malformed payload at offset %d: want %s, found %s", protocol.ErrSyntax, d.pos, want, found)}
}

func (d *Decoder) malformedf(format string, args ...any) *protocol.DecodeError {
	return &protocol.DecodeError{Element: d.index(), Err: fmt.Errorf("%w: malformed payload at offset %d: %s", protocol.ErrSyntax, d.pos, fmt.Sprintf(format, args...))}
}

// negativeTime warns of a time before 1970 (kept), as protocol's JSON
// decoder does; text is the time as Python writes it.
func (d *Decoder) negativeTime(text string) {
	d.warns = append(d.warns, point.Warning{Code: point.WarnNegativeTime, Point: d.elem, Key: "time",
		Message: "timestamp " + text + " is before 1970 (negative); kept as it is"})
}

// pyFloat formats f as Python's repr does (and so json.dumps).
func pyFloat(f float64) string {
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		m, e, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, 64), "e")
		exp, _ := strconv.Atoi(e)
		return fmt.Sprintf("%se%+03d", m, exp)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}
