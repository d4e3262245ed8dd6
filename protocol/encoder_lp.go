package protocol

import (
	"fmt"
	"math"
	"strconv"
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
