package protocol

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unsafe"

	"github.com/influxdata/line-protocol/v2/lineprotocol"

	"github.com/collectkit/collectkit/point"
)

// DecodeLineProtocol decodes an InfluxDB line-protocol body, with DataKit's
// extensions: unsigned integers ("123u"), the precisions m and h, and
// timestamps whose unit is detected from their magnitude when
// opts.Precision is PrecisionAuto. Blank lines and lines starting with '#'
// are skipped. A line without a timestamp gets opts.Now.
//
// Every bad line (a syntax error, an empty measurement, a timestamp that
// does not fit) is reported as a *DecodeError with its line and column in
// the returned *DecodeErrors, and decoding carries on with the next line.
// With opts.KeepValid false any bad line means no points are returned.
// DataKit's binary ("..."b) and array field values are not supported and
// are syntax errors.
//
// The returned points alias body and d's internal buffers: they are valid
// until the next Decode call on d, or until body is modified. Callers that
// keep points use point.Point.Clone.
func (d *Decoder) DecodeLineProtocol(body []byte, opts Options) ([]point.Point, error) {
	d.reset(body, &opts)
	defaultTime := now(&opts)
	dec := lineprotocol.NewDecoderWithBytes(body)
	var pos lineCounter
	for dec.Next() {
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
		if err := d.lpFields(dec); err != nil {
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
			ts, perr := strconv.ParseInt(unsafe.String(unsafe.SliceData(tb), len(tb)), 10, 64)
			if perr == nil {
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
		}
		d.addPoint(nameStr, t, tag0, field0)
	}
	return d.finish(opts.KeepValid)
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

func (d *Decoder) lpFields(dec *lineprotocol.Decoder) *DecodeError {
	for {
		k, v, err := dec.NextField()
		if err != nil {
			return lpError(err, "")
		}
		if k == nil {
			return nil
		}
		var pv point.Value
		switch v.Kind() {
		case lineprotocol.Float:
			pv = point.FloatValue(v.FloatV())
		case lineprotocol.Int:
			pv = point.IntValue(v.IntV())
		case lineprotocol.Uint:
			pv = point.UintValue(v.UintV())
		case lineprotocol.Bool:
			pv = point.BoolValue(v.BoolV())
		case lineprotocol.String:
			pv = point.StringValue(d.str(v.BytesV()))
		}
		d.fields = append(d.fields, point.Field{Key: d.str(k), Value: pv})
	}
}

// offset returns the position of b, a slice of the body, in the body.
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
