package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/collectkit/collectkit/point"
)

// DecodeLineProtocol decodes an InfluxDB line-protocol body, with DataKit's
// extensions: unsigned integers ("123u"), the precisions m and h, and
// timestamps whose unit is detected from their magnitude when
// opts.Precision is PrecisionAuto. Blank lines and lines starting with '#'
// are skipped. A line without a timestamp, or with the timestamp 0, gets
// opts.Now (DataKit replaces a zero time with the time of the request).
//
// Every bad line (a syntax error, an empty measurement, a timestamp that
// does not fit) is reported as a *DecodeError with its line and column in
// the returned *DecodeErrors, and decoding carries on with the next line.
// With opts.KeepValid false any bad line means no points are returned.
// DataKit's binary ("..."b) and array field values are not supported and
// are syntax errors. A negative timestamp (before 1970) is kept, with a
// point.Warning{Code: point.WarnNegativeTime} that Warnings returns.
//
// The returned points alias body and d's internal buffers: they are valid
// until the next Decode call on d, or until body is modified. Callers that
// keep points use point.Point.Clone.
func (d *Decoder) DecodeLineProtocol(body []byte, opts Options) ([]point.Point, error) {
	d.reset(body, &opts)
	d.lastLP = true
	defaultTime := now(&opts)
	dec := lineprotocol.NewDecoderWithBytes(body)
	var pos lineCounter
	for dec.Next() {
		if d.tooMany() {
			return nil, d.tooManyErr("lines")
		}
		tag0, field0 := len(d.tags), len(d.fields)
		name, err := dec.Measurement()
		if err != nil {
			d.fail(lpError(err, ""), tag0, field0)
			continue
		}
		nameStr := d.str(name)
		if err := d.lpTags(dec); err != nil {
			d.fail(err, tag0, field0)
			continue
		}
		if err := d.lpFields(dec, &pos); err != nil {
			d.fail(err, tag0, field0)
			continue
		}
		tb, err := dec.TimeBytes()
		if err != nil {
			d.fail(lpError(err, ""), tag0, field0)
			continue
		}
		t := defaultTime
		if tb != nil {
			var ok bool
			ts, perr := parseInt(tb)
			switch {
			case perr == nil && ts == 0: // DataKit: a zero time means now
				ok = true
			case perr == nil:
				t, ok = intTime(ts, opts.Precision)
			}
			if !ok {
				line, col := pos.at(body, d.offset(tb))
				cause := fmt.Errorf("%w: %q in precision %s", ErrTimeRange, tb, opts.Precision)
				if perr != nil && !errors.Is(perr, strconv.ErrRange) {
					cause = fmt.Errorf("%w: invalid timestamp %q", ErrSyntax, tb)
				}
				d.fail(&DecodeError{Line: line, Column: col, Element: -1, Err: cause}, tag0, field0)
				continue
			}
			if ts < 0 {
				d.warns = append(d.warns, negativeTime(len(d.pts), tb))
			}
		}
		src := -1
		if d.inBody(name) {
			src = d.offset(name)
		} else if tb != nil && d.inBody(tb) {
			src = d.offset(tb)
		}
		d.addPoint(nameStr, t, tag0, field0, src)
	}
	pts, err := d.finish(opts.KeepValid)
	if err != nil && !opts.KeepValid {
		d.warns = d.warns[:0]
	}
	return pts, err
}

func (d *Decoder) lpTags(dec *lineprotocol.Decoder) *DecodeError {
	for {
		k, v, err := dec.NextTag()
		if err != nil {
			return lpError(err, "")
		}
		if k == nil {
			return nil
		}
		d.tags = append(d.tags, point.Tag{Key: d.str(k), Value: d.str(v)})
	}
}

func (d *Decoder) lpFields(dec *lineprotocol.Decoder, pos *lineCounter) *DecodeError {
	for {
		k, kind, raw, err := dec.NextFieldBytes()
		if err != nil {
			return lpError(err, "")
		}
		if k == nil {
			return nil
		}
		var (
			pv   point.Value
			perr error
		)
		switch kind {
		case lineprotocol.Float:
			var f float64
			f, perr = parseFloatBytes(raw)
			if perr == nil && (math.IsNaN(f) || math.IsInf(f, 0)) {
				perr = fmt.Errorf("%w: %w", ErrSyntax, ErrNonFinite)
			}
			pv = point.FloatValue(f)
		case lineprotocol.Int:
			var n int64
			n, perr = parseInt(raw)
			pv = point.IntValue(n)
		case lineprotocol.Uint:
			var n uint64
			n, perr = parseUint(raw)
			pv = point.UintValue(n)
		case lineprotocol.Bool:
			switch string(raw) {
			case "t", "T", "true", "True", "TRUE":
				pv = point.BoolValue(true)
			case "f", "F", "false", "False", "FALSE":
				pv = point.BoolValue(false)
			default:
				perr = fmt.Errorf("%w: invalid boolean", ErrSyntax)
			}
		case lineprotocol.String:
			// Already unescaped and checked for valid UTF-8.
			pv = point.StringValue(d.str(raw))
		}
		if perr != nil {
			// Number and bool values are never escaped, so raw lies in the
			// body and gives the column.
			line, col := pos.at(d.body, d.offset(raw))
			key := d.str(k)
			if errors.Is(perr, strconv.ErrSyntax) {
				perr = fmt.Errorf("%w: invalid %s value", ErrSyntax, kind)
			} else if errors.Is(perr, strconv.ErrRange) {
				perr = fmt.Errorf("%s value out of range: %w", kind, lineprotocol.ErrValueOutOfRange)
			}
			return &DecodeError{Line: line, Column: col, Element: -1, Key: strings.Clone(key), Err: fmt.Errorf("value %q: %w", raw, perr)}
		}
		d.fields = append(d.fields, point.Field{Key: d.str(k), Value: pv})
	}
}

// parseInt parses a decimal int64 with an optional '-', like
// strconv.ParseInt(s, 10, 64) (whose errors it returns), but faster on the
// common case of up to 19 plain digits (nanosecond timestamps have 19).
func parseInt(b []byte) (int64, error) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	n, ok := digits19(digits)
	switch {
	case !ok:
		return strconv.ParseInt(string(b), 10, 64)
	case neg && n <= 1<<63:
		return -int64(n), nil // wraps to MinInt64 for 1<<63, as wanted
	case !neg && n <= math.MaxInt64:
		return int64(n), nil
	}
	return strconv.ParseInt(string(b), 10, 64) // out of range: its error
}

// parseUint is parseInt for uint64.
func parseUint(b []byte) (uint64, error) {
	if n, ok := digits19(b); ok {
		return n, nil
	}
	return strconv.ParseUint(string(b), 10, 64)
}

// digits19 parses 1 to 19 decimal digits, which always fit in uint64.
func digits19(b []byte) (uint64, bool) {
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// offset returns the position of b, a slice of the body, in the body.
// inBody reports whether b is a non-empty slice of the body being decoded
// (and not of a scratch buffer holding an unescaped copy).
func (d *Decoder) inBody(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= d.base && p-d.base < uintptr(len(d.body))
}

func (d *Decoder) offset(b []byte) int {
	return int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - d.base)
}

// lpError converts an error of the line-protocol decoder.
func lpError(err error, key string) *DecodeError {
	var le *lineprotocol.DecodeError
	if errors.As(err, &le) {
		cause := le.Err
		if !errors.Is(cause, lineprotocol.ErrValueOutOfRange) {
			cause = fmt.Errorf("%w: %w", ErrSyntax, cause)
		}
		return &DecodeError{Line: int(le.Line), Column: le.Column, Element: -1, Key: key, Err: cause}
	}
	return &DecodeError{Element: -1, Key: key, Err: err}
}

// lineCounter turns byte offsets into line and column numbers. Offsets
// must be asked for in increasing order; it counts newlines only once.
type lineCounter struct {
	off, line int
}

func (c *lineCounter) at(body []byte, off int) (line, col int) {
	if c.line == 0 {
		c.line = 1
	}
	c.line += bytes.Count(body[c.off:off], []byte{'\n'})
	c.off = off
	return c.line, off - (bytes.LastIndexByte(body[:off], '\n') + 1) + 1
}
