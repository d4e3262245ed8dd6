package protocol

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/collectkit/collectkit/point"
)

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
