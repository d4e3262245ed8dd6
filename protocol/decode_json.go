package protocol

import (
	"fmt"
	"math"
	"strconv"
	"time"
	"unsafe"

	"github.com/collectkit/collectkit/point"
)

// DecodeJSON decodes a DataKit JSON body: an array of objects
//
//	[{"measurement": "cpu", "tags": {"host": "a"}, "fields": {"usage": 0.5}, "time": 1700000000}]
//
// "measurement" is a string; missing, null or empty, it is decoded as the
// empty name, as DataKit does (its JSONPoint reads a missing measurement as "",
// which its checker then replaces with "__default" and a warning;
// constraint's RuleMeasurement does the same here). "tags" is an object of strings (or
// null). A null tag value is dropped with a point.Warning{Code:
// point.WarnNilField} (DataKit reads it as an empty value, which line
// protocol cannot carry either, so Python's feed_object(name=None) works
// against both); any other tag value is an error naming the element and
// key.
// "fields" is an object of numbers, strings and booleans; a null field is
// dropped with a point.Warning{Code: point.WarnNilField} whose Point is
// the element's index in the array; arrays and objects are errors. A point
// needs at least one non-null field. "time" is a number in opts.Precision
// (detected from its magnitude when that is PrecisionAuto); absent, null
// or 0 means opts.Now (DataKit replaces a zero time with the time of the
// request). A time with a fraction (Python's time.time()) is
// converted through float64, which keeps about a microsecond for seconds.
// Other keys are ignored. A key repeated in an element resolves
// first-wins: the first "measurement" and "time" are used, as the
// normalizer keeps the first of repeated tag and field keys. A negative
// time (before 1970) is kept with a point.Warning{Code:
// point.WarnNegativeTime}.
//
// Numbers become float64 values, as in DataKit, unless opts.ExactInts is
// set: then integer literals become KindInt, or KindUint above
// math.MaxInt64 (integers beyond both ranges stay float64). The output of Python's json.dumps decodes as is: NaN,
// Infinity and -Infinity are accepted as float values, and \u escapes,
// surrogate pairs included, are decoded (a lone surrogate becomes U+FFFD).
// Strings must be valid UTF-8.
//
// A bad element is reported as a *DecodeError with its index, and decoding
// carries on with the next element; a syntax error ends decoding, since
// nothing after it can be trusted. With opts.KeepValid false any error
// means no points (and no warnings) are returned.
//
// The returned points and warnings alias body and d's internal buffers:
// they are valid until the next Decode call on d, or until body is
// modified. Callers that keep points use point.Point.Clone.
func (d *Decoder) DecodeJSON(body []byte, opts Options) ([]point.Point, []point.Warning, error) {
	d.reset(body, &opts)
	d.lastLP = false
	s := jsonScanner{d: d, buf: body, opts: &opts, now: now(&opts)}
	s.decode()
	if s.tooMany {
		return nil, nil, d.tooManyErr("elements")
	}
	pts, err := d.finish(opts.KeepValid)
	if err != nil && !opts.KeepValid {
		return nil, nil, err
	}
	if len(d.warns) == 0 {
		return pts, nil, err
	}
	return pts, d.warns, err
}

// jsonScanner is a scanner for exactly the shape of a DataKit JSON body. It
// puts values straight into the decoder's slabs, with no maps and no
// intermediate tree: decoding into maps costs 17 to 29 allocations per
// point.
type jsonScanner struct {
	d    *Decoder
	buf  []byte
	pos  int
	opts *Options
	now  time.Time

	elem int // index of the element being decoded
	// tag0, field0 and warn0 are the slab lengths at the element's start.
	tag0, field0, warn0 int
	// bad is the first semantic error of the current element; the element
	// is scanned to its end and then dropped.
	bad *DecodeError
	// tooMany is set when the body has more elements than MaxPoints.
	tooMany bool
}

func (s *jsonScanner) decode() {
	d := s.d
	s.ws()
	if s.pos >= len(s.buf) || s.buf[s.pos] != '[' {
		what := "end of body"
		if s.pos < len(s.buf) {
			what = fmt.Sprintf("%q", s.buf[s.pos])
		}
		d.fail(&DecodeError{Element: -1, Err: fmt.Errorf("%w: found %s at offset %d, want '['", ErrNotArray, what, s.pos)}, 0, 0)
		return
	}
	s.pos++
	s.ws()
	if s.peek() == ']' {
		s.pos++
		s.end()
		return
	}
	for {
		if d.tooMany() {
			s.tooMany = true
			return
		}
		if err := s.element(); err != nil {
			d.fail(err, s.tag0, s.field0)
			d.warns = d.warns[:s.warn0]
			return
		}
		s.elem++
		s.ws()
		switch s.peek() {
		case ',':
			s.pos++
			s.ws()
			continue
		case ']':
			s.pos++
			s.end()
			return
		}
		d.fail(s.syntax("want ',' or ']' after an array element"), len(d.tags), len(d.fields))
		return
	}
}

// end checks that nothing but white space follows the array.
func (s *jsonScanner) end() {
	s.ws()
	if s.pos < len(s.buf) {
		s.d.fail(&DecodeError{Element: -1, Err: fmt.Errorf("%w: unexpected %q at offset %d after the array", ErrSyntax, s.buf[s.pos], s.pos)}, len(s.d.tags), len(s.d.fields))
	}
}

// semantic records the first semantic error of the current element.
func (s *jsonScanner) semantic(key string, err error) {
	if s.bad == nil {
		s.bad = &DecodeError{Element: s.elem, Key: key, Err: err}
	}
}

// element decodes one array element. It returns an error only for a
// syntax error; semantic errors drop the element and are recorded.
func (s *jsonScanner) element() *DecodeError {
	d := s.d
	s.tag0, s.field0, s.warn0 = len(d.tags), len(d.fields), len(d.warns)
	s.bad = nil
	if s.peek() != '{' {
		s.semantic("", fmt.Errorf("%w: array element is not an object", ErrSyntax))
		if err := s.skipValue(0); err != nil {
			return err
		}
		s.dropElement()
		return nil
	}
	s.pos++
	var (
		name             string
		t                = s.now
		haveName, haveTS bool
	)
	err := s.object(func(key string) *DecodeError {
		switch key {
		case "measurement":
			// A repeated key resolves first-wins, as tags and fields do
			// (the normalizer keeps the first of duplicate keys).
			if haveName {
				return s.skipValue(0)
			}
			haveName = true
			if s.peek() == 'n' { // null: DataKit reads it as ""
				name = ""
				return s.literal("null")
			}
			if s.peek() != '"' {
				s.semantic(key, fmt.Errorf("%w: measurement is not a string", ErrInvalidName))
				return s.skipValue(0)
			}
			v, err := s.str()
			if err != nil {
				return err
			}
			name = v
			return nil
		case "tags":
			return s.tags()
		case "fields":
			return s.fields()
		case "time":
			if haveTS {
				return s.skipValue(0)
			}
			haveTS = true
			var err *DecodeError
			t, err = s.time()
			return err
		}
		return s.skipValue(0)
	})
	if err != nil {
		return err
	}
	switch {
	case s.bad != nil:
	case len(d.fields) == s.field0:
		s.semantic("fields", ErrNoFields)
	}
	if s.bad != nil {
		s.dropElement()
		return nil
	}
	d.addPoint(name, t, s.tag0, s.field0, s.elem)
	return nil
}

func (s *jsonScanner) dropElement() {
	d := s.d
	d.warns = d.warns[:s.warn0]
	d.fail(s.bad, s.tag0, s.field0)
}

func (s *jsonScanner) tags() *DecodeError {
	switch s.peek() {
	case 'n':
		return s.literal("null")
	case '{':
		s.pos++
	default:
		s.semantic("tags", fmt.Errorf("%w: tags is not an object", ErrTagType))
		return s.skipValue(0)
	}
	return s.object(func(key string) *DecodeError {
		if s.peek() == 'n' { // null: DataKit reads it as ""; the tag is dropped
			if err := s.literal("null"); err != nil {
				return err
			}
			s.d.warns = append(s.d.warns, point.Warning{Code: point.WarnNilField, Point: s.elem, Key: key, Message: "null tag value dropped"})
			return nil
		}
		if s.peek() != '"' {
			s.semantic(key, ErrTagType)
			return s.skipValue(0)
		}
		v, err := s.str()
		if err != nil {
			return err
		}
		s.d.tags = append(s.d.tags, point.Tag{Key: key, Value: v})
		return nil
	})
}

func (s *jsonScanner) fields() *DecodeError {
	switch s.peek() {
	case 'n':
		return s.literal("null")
	case '{':
		s.pos++
	default:
		s.semantic("fields", fmt.Errorf("%w: fields is not an object", ErrFieldType))
		return s.skipValue(0)
	}
	d := s.d
	return s.object(func(key string) *DecodeError {
		var v point.Value
		switch c := s.peek(); c {
		case '"':
			str, err := s.str()
			if err != nil {
				return err
			}
			v = point.StringValue(str)
		case 't':
			if err := s.literal("true"); err != nil {
				return err
			}
			v = point.BoolValue(true)
		case 'f':
			if err := s.literal("false"); err != nil {
				return err
			}
			v = point.BoolValue(false)
		case 'n':
			if err := s.literal("null"); err != nil {
				return err
			}
			d.warns = append(d.warns, point.Warning{Code: point.WarnNilField, Point: s.elem, Key: key, Message: "null field value dropped"})
			return nil
		case '[', '{':
			s.semantic(key, fmt.Errorf("%w: an array or object cannot be a field value", ErrFieldType))
			return s.skipValue(0)
		default:
			var err *DecodeError
			v, err = s.number()
			if err != nil {
				return err
			}
		}
		d.fields = append(d.fields, point.Field{Key: key, Value: v})
		return nil
	})
}

func (s *jsonScanner) time() (time.Time, *DecodeError) {
	switch c := s.peek(); {
	case c == 'n' && (s.pos+1 >= len(s.buf) || s.buf[s.pos+1] != 'a'):
		return s.now, s.literal("null")
	case c == '-' || (c >= '0' && c <= '9') || c == 'N' || c == 'I':
	default:
		s.semantic("time", fmt.Errorf("%w: time is not a number", ErrTimeRange))
		return s.now, s.skipValue(0)
	}
	start := s.pos
	isInt, err := s.scanNumber()
	if err != nil {
		return s.now, err
	}
	text := unsafe.String(&s.buf[start], s.pos-start)
	if isInt {
		if ts, perr := strconv.ParseInt(text, 10, 64); perr == nil {
			if ts == 0 { // DataKit: a zero time means now
				return s.now, nil
			}
			if t, ok := intTime(ts, s.opts.Precision); ok {
				if ts < 0 {
					s.d.warns = append(s.d.warns, negativeTime(s.elem, s.buf[start:s.pos]))
				}
				return t, nil
			}
		}
	} else if f, perr := parseFloat(text); perr == nil {
		if f == 0 {
			return s.now, nil
		}
		t, ok := time.Time{}, false
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			t, ok = intTime(int64(f), s.opts.Precision)
		} else {
			t, ok = floatTime(f, s.opts.Precision)
		}
		if ok {
			if f < 0 {
				s.d.warns = append(s.d.warns, negativeTime(s.elem, s.buf[start:s.pos]))
			}
			return t, nil
		}
	}
	s.semantic("time", fmt.Errorf("%w: %s in precision %s", ErrTimeRange, text, s.opts.Precision))
	return s.now, nil
}

// number scans a number (or NaN, Infinity, -Infinity) into a Value.
func (s *jsonScanner) number() (point.Value, *DecodeError) {
	start := s.pos
	isInt, err := s.scanNumber()
	if err != nil {
		return point.Value{}, err
	}
	b := s.buf[start:s.pos]
	if isInt {
		// Up to 15 digits always fit in int64 and convert to float64
		// exactly, which is most numbers in practice.
		neg := b[0] == '-'
		digits := b
		if neg {
			digits = b[1:]
		}
		if len(digits) <= 15 {
			var n int64
			for _, c := range digits {
				n = n*10 + int64(c-'0')
			}
			if neg {
				n = -n
			}
			if s.opts.ExactInts {
				return point.IntValue(n), nil
			}
			if neg && n == 0 {
				return point.FloatValue(math.Copysign(0, -1)), nil
			}
			return point.FloatValue(float64(n)), nil
		}
		text := unsafe.String(&b[0], len(b))
		if s.opts.ExactInts {
			if neg {
				if n, perr := strconv.ParseInt(text, 10, 64); perr == nil {
					return point.IntValue(n), nil
				}
			} else if n, perr := strconv.ParseUint(text, 10, 64); perr == nil {
				if n <= math.MaxInt64 {
					return point.IntValue(int64(n)), nil
				}
				return point.UintValue(n), nil
			}
		}
	}
	f, perr := parseFloatBytes(b)
	if b[len(b)-1] == 'N' || b[len(b)-1] == 'y' { // NaN, Infinity, -Infinity
		f, perr = parseFloat(unsafe.String(&b[0], len(b)))
	}
	if perr != nil {
		return point.Value{}, &DecodeError{Element: s.elem, Err: fmt.Errorf("%w: number %s at offset %d: %w", ErrSyntax, b, start, perr)}
	}
	return point.FloatValue(f), nil
}
