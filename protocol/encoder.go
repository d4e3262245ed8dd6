package protocol

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/collectkit/collectkit/point"
)

// LineEncoder appends points as canonical line protocol: tags and fields in
// key order (points with equal keys keep their relative order), one line
// per point, each ending in '\n'. Decoding a line LineEncoder wrote gives
// back an equal point, with two documented exceptions:
//
//   - Bytes fields are written as string fields (DataKit's base64 "..."b
//     form is not line protocol that line-protocol/v2 or InfluxDB accept),
//     so they come back as KindString. Their content must be valid UTF-8.
//   - Tags with an empty value are left out (whatever their key), as
//     InfluxDB does: line protocol cannot carry them.
//
// Floats are written so that they read back as floats (line protocol has
// no suffix for floats; integers carry "i" and unsigned integers "u").
//
// The zero value is ready to use and writes nanosecond timestamps. A
// LineEncoder keeps scratch space for sorting between calls; it is not
// safe for concurrent use.
type LineEncoder struct {
	// Precision is the unit of the written timestamps, which are truncated
	// toward zero to it. Zero (PrecisionAuto) and Nanosecond both mean
	// nanoseconds.
	Precision Precision

	order orderScratch
}

// Append appends one line for p, terminated by '\n', to dst and returns the
// extended buffer. A point with a zero Time is written without a
// timestamp; one at the Unix epoch is written as 0, which DataKit and
// this package's decoders read as the time of the request. When p cannot be encoded (an empty or unencodable name or key,
// no fields, a NaN or infinite float, a Value of KindInvalid, invalid
// UTF-8, a time outside int64 nanoseconds) Append returns dst unchanged and
// an *EncodeError.
func (e *LineEncoder) Append(dst []byte, p point.Point) ([]byte, error) {
	out, err := e.appendLine(dst, p)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func (e *LineEncoder) appendLine(dst []byte, p point.Point) ([]byte, error) {
	if p.Name == "" {
		return nil, &EncodeError{Err: fmt.Errorf("%w: empty", ErrInvalidName)}
	}
	if p.Name[0] == '#' { // the line would read as a comment
		return nil, &EncodeError{Err: fmt.Errorf("%w: %q starts with '#'", ErrInvalidName, p.Name)}
	}
	if len(p.Fields) == 0 {
		return nil, &EncodeError{Err: ErrNoFields}
	}
	var why string
	if dst, why = appendToken(dst, p.Name, &measurementTable); why != "" {
		return nil, &EncodeError{Err: fmt.Errorf("%w: %q %s", ErrInvalidName, p.Name, why)}
	}
	for _, i := range e.order.tags(p.Tags) {
		t := p.Tags[i]
		if t.Value == "" {
			continue // not representable; InfluxDB drops such tags too
		}
		dst = append(dst, ',')
		if dst, why = appendToken(dst, t.Key, &keyTable); why != "" {
			return nil, keyError(t.Key, "tag key", why)
		}
		dst = append(dst, '=')
		if dst, why = appendToken(dst, t.Value, &keyTable); why != "" {
			return nil, keyError(t.Key, "tag value", why)
		}
	}
	for n, i := range e.order.fields(p.Fields) {
		f := p.Fields[i]
		if n == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		if dst, why = appendToken(dst, f.Key, &keyTable); why != "" {
			return nil, keyError(f.Key, "field key", why)
		}
		dst = append(dst, '=')
		switch v := f.Value; v.Kind() {
		case point.KindFloat:
			x := v.Float()
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &EncodeError{Key: f.Key, Err: ErrNonFinite}
			}
			dst = appendFloat(dst, x)
		case point.KindInt:
			dst = strconv.AppendInt(dst, v.Int(), 10)
			dst = append(dst, 'i')
		case point.KindUint:
			dst = strconv.AppendUint(dst, v.Uint(), 10)
			dst = append(dst, 'u')
		case point.KindBool:
			dst = strconv.AppendBool(dst, v.Bool())
		case point.KindString, point.KindBytes:
			s := v.Str()
			if !utf8.ValidString(s) {
				return nil, &EncodeError{Key: f.Key, Err: ErrInvalidUTF8}
			}
			dst = append(dst, '"')
			dst = appendLPString(dst, s)
			dst = append(dst, '"')
		default:
			return nil, &EncodeError{Key: f.Key, Err: fmt.Errorf("%w: %s", ErrFieldType, v.Kind())}
		}
	}
	if !p.Time.IsZero() {
		ts, ok := timeInUnit(p.Time, e.Precision)
		if !ok {
			return nil, &EncodeError{Err: fmt.Errorf("%w: %s", ErrTimeRange, p.Time)}
		}
		dst = append(dst, ' ')
		dst = strconv.AppendInt(dst, ts, 10)
	}
	return append(dst, '\n'), nil
}

func keyError(key, what, why string) error {
	if key == "" {
		return &EncodeError{Err: fmt.Errorf("%w: empty %s", ErrInvalidKey, what)}
	}
	return &EncodeError{Key: key, Err: fmt.Errorf("%w: %s %s", ErrInvalidKey, what, why)}
}

// escTable classifies bytes for appendToken: plain, escaped with a
// backslash, or impossible (control characters, which line-protocol/v2
// rejects in names, keys and tag values).
type escTable [256]uint8

const (
	escPlain uint8 = iota
	escBackslash
	escBad
)

func makeEscTable(special string) escTable {
	var t escTable
	for c := 0; c < 0x20; c++ {
		t[c] = escBad
	}
	t[0x7f] = escBad
	for i := 0; i < len(special); i++ {
		t[special[i]] = escBackslash
	}
	return t
}

// The characters line protocol escapes with a backslash: in measurement
// names comma and space; in tag keys, tag values and field keys also '='.
// These tables are constant.
var (
	measurementTable = makeEscTable(", ")
	keyTable         = makeEscTable(",= ")
)

// appendToken appends s escaped by t in one pass. When s cannot be
// written it says why (and what it appended is to be discarded): a
// control character, invalid UTF-8, or a trailing backslash, which would
// escape the separator after it.
func appendToken(dst []byte, s string, t *escTable) ([]byte, string) {
	if s == "" {
		return dst, "is empty"
	}
	ascii := true
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch t[c] {
		case escPlain:
			if c >= 0x80 {
				ascii = false
			}
		case escBackslash:
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', c)
			start = i + 1
		default:
			return dst, "contains a control character"
		}
	}
	dst = append(dst, s[start:]...)
	if !ascii && !utf8.ValidString(s) {
		return dst, "is not valid UTF-8"
	}
	if s[len(s)-1] == '\\' {
		return dst, "ends in a backslash"
	}
	return dst, ""
}

// appendLPString escapes a string field value the way line-protocol/v2
// reads it back: backslash, quote, newline, carriage return and tab.
func appendLPString(dst []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc byte
		switch s[i] {
		case '\\', '"':
			esc = s[i]
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		case '\t':
			esc = 't'
		default:
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', esc)
		start = i + 1
	}
	return append(dst, s[start:]...)
}

// appendFloat formats x like encoding/json (plain decimals between 1e-6 and
// 1e21, exponent form outside), which line protocol reads back as a float.
func appendFloat(dst []byte, x float64) []byte {
	a := math.Abs(x)
	if a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.AppendFloat(dst, x, 'e', -1, 64)
	}
	return strconv.AppendFloat(dst, x, 'f', -1, 64)
}

// orderScratch sorts tag and field indexes by key without allocating once
// warmed up.
type orderScratch struct {
	idx []int
}

func (o *orderScratch) identity(n int) []int {
	o.idx = o.idx[:0]
	for i := range n {
		o.idx = append(o.idx, i)
	}
	return o.idx
}

func (o *orderScratch) tags(ts []point.Tag) []int {
	idx := o.identity(len(ts))
	if !slices.IsSortedFunc(ts, func(a, b point.Tag) int { return strings.Compare(a.Key, b.Key) }) {
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(ts[a].Key, ts[b].Key) })
	}
	return idx
}

func (o *orderScratch) fields(fs []point.Field) []int {
	idx := o.identity(len(fs))
	if !slices.IsSortedFunc(fs, func(a, b point.Field) int { return strings.Compare(a.Key, b.Key) }) {
		slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(fs[a].Key, fs[b].Key) })
	}
	return idx
}

// JSONEncoder appends points as a DataKit JSON body:
//
//	[{"measurement":"cpu","tags":{"host":"a"},"fields":{"usage":0.5,"n":3},"time":1700000000000000000}]
//
// Tags and fields are in key order; "tags" is left out when there are
// none and "time" when the point's Time is zero. Integers are written as
// integer literals and floats always with a '.' or an exponent, so
// DecodeJSON with Options.ExactInts reads back the same kinds, except that
// an unsigned integer up to math.MaxInt64 reads back as KindInt. Bytes
// fields are written as strings, as for LineEncoder. The output is strict
// JSON: NaN and infinite floats are an *EncodeError rather than Python's
// NaN tokens, which most JSON parsers reject.
//
// The zero value is ready to use and writes nanosecond timestamps. It is
// not safe for concurrent use.
type JSONEncoder struct {
	// Precision is the unit of the written timestamps; zero and Nanosecond
	// both mean nanoseconds.
	Precision Precision

	order orderScratch
}

// Append appends pts as one JSON array to dst and returns the extended
// buffer. If a point cannot be encoded (see LineEncoder.Append for the
// reasons; names and keys only need to be non-empty valid UTF-8 here),
// Append returns dst unchanged and an *EncodeError naming the point's
// index.
func (e *JSONEncoder) Append(dst []byte, pts []point.Point) ([]byte, error) {
	out := append(dst, '[')
	for i := range pts {
		if i > 0 {
			out = append(out, ',')
		}
		var err error
		out, err = e.appendPoint(out, &pts[i])
		if err != nil {
			ee := err.(*EncodeError)
			ee.index, ee.batch = i, true
			return dst, ee
		}
	}
	return append(out, ']'), nil
}

func (e *JSONEncoder) appendPoint(dst []byte, p *point.Point) ([]byte, error) {
	if p.Name == "" {
		return nil, &EncodeError{Err: fmt.Errorf("%w: empty", ErrInvalidName)}
	}
	if !utf8.ValidString(p.Name) {
		return nil, &EncodeError{Err: fmt.Errorf("%w: %q is not valid UTF-8", ErrInvalidName, p.Name)}
	}
	if len(p.Fields) == 0 {
		return nil, &EncodeError{Err: ErrNoFields}
	}
	dst = append(dst, `{"measurement":`...)
	dst = appendJSONString(dst, p.Name)
	if len(p.Tags) > 0 {
		dst = append(dst, `,"tags":{`...)
		for n, i := range e.order.tags(p.Tags) {
			t := p.Tags[i]
			if !utf8.ValidString(t.Key) || !utf8.ValidString(t.Value) {
				return nil, &EncodeError{Key: t.Key, Err: ErrInvalidUTF8}
			}
			if n > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, t.Key)
			dst = append(dst, ':')
			dst = appendJSONString(dst, t.Value)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"fields":{`...)
	for n, i := range e.order.fields(p.Fields) {
		f := p.Fields[i]
		if !utf8.ValidString(f.Key) {
			return nil, &EncodeError{Key: f.Key, Err: ErrInvalidUTF8}
		}
		if n > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, f.Key)
		dst = append(dst, ':')
		switch v := f.Value; v.Kind() {
		case point.KindFloat:
			x := v.Float()
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &EncodeError{Key: f.Key, Err: ErrNonFinite}
			}
			start := len(dst)
			dst = appendFloat(dst, x)
			if !bytes.ContainsAny(dst[start:], ".e") {
				dst = append(dst, '.', '0')
			}
		case point.KindInt:
			dst = strconv.AppendInt(dst, v.Int(), 10)
		case point.KindUint:
			dst = strconv.AppendUint(dst, v.Uint(), 10)
		case point.KindBool:
			dst = strconv.AppendBool(dst, v.Bool())
		case point.KindString, point.KindBytes:
			s := v.Str()
			if !utf8.ValidString(s) {
				return nil, &EncodeError{Key: f.Key, Err: ErrInvalidUTF8}
			}
			dst = appendJSONString(dst, s)
		default:
			return nil, &EncodeError{Key: f.Key, Err: fmt.Errorf("%w: %s", ErrFieldType, v.Kind())}
		}
	}
	dst = append(dst, '}')
	if !p.Time.IsZero() {
		ts, ok := timeInUnit(p.Time, e.Precision)
		if !ok {
			return nil, &EncodeError{Err: fmt.Errorf("%w: %s", ErrTimeRange, p.Time)}
		}
		dst = append(dst, `,"time":`...)
		dst = strconv.AppendInt(dst, ts, 10)
	}
	return append(dst, '}'), nil
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s, valid UTF-8, as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
