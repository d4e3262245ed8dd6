package wire

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/protocol"
)

// Frame kinds of the collectd framework (see FORMAT.md).
const (
	KindValues       = 'V' // collectd: value lists (marshal)
	KindNotification = 'N' // collectd: a notification (JSON)
)

// maxValueListErrors is how many bad value lists an error lists.
const maxValueListErrors = 10

// ValueListDecoder decodes the payload of a V frame: a marshal list of
// (host, plugin, plugin_instance, type, type_instance, time, interval,
// values) tuples. Its buffers are kept between calls, so the value lists
// it returns, and their strings (which alias the payload), are valid
// until the next call or until the payload is modified. It is not safe
// for concurrent use.
type ValueListDecoder struct {
	d      Decoder
	vls    []collectd.ValueList
	values []collectd.Value
	spans  [][2]int
}

// Decode decodes payload. The type of each value comes from the data set
// of the value list's type in db: an int is a derive (int64), counter or
// absolute (uint64) value, or a gauge as a float; a float is a gauge
// (truncated for the integer types). A value list whose type is not in db
// keeps ints as derive and floats as gauge values (collectd.AppendPoints
// then reports the type). A value list that is not such a tuple, or whose
// value does not fit its type, is left out with a *protocol.DecodeError
// naming its index; a payload that is not well formed ends decoding. The
// error joins them (the first ten); the value lists decoded are returned
// either way.
func (vd *ValueListDecoder) Decode(payload []byte, db *collectd.TypesDB) ([]collectd.ValueList, error) {
	d := &vd.d
	d.buf, d.pos, d.first, d.elem = payload, 0, 0, -1
	d.arena = d.arena[:0]
	vd.vls = vd.vls[:0]
	vd.values = vd.values[:0]
	vd.spans = vd.spans[:0]
	var errs []error
	invalid := 0
	bad := func(err *protocol.DecodeError) {
		invalid++
		if len(errs) < maxValueListErrors {
			errs = append(errs, err)
		}
	}
	err := vd.list(db, bad)
	d.buf = nil
	if err != nil {
		bad(err)
	}
	for i := range vd.vls {
		s := vd.spans[i]
		vd.vls[i].Values = vd.values[s[0]:s[1]:s[1]]
	}
	if invalid > len(errs) {
		errs = append(errs, fmt.Errorf("and %d more bad value lists", invalid-len(errs)))
	}
	return vd.vls, errors.Join(errs...)
}

func (vd *ValueListDecoder) list(db *collectd.TypesDB, bad func(*protocol.DecodeError)) *protocol.DecodeError {
	d := &vd.d
	n, err := d.listStart("value lists")
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		d.elem = i
		if c, _ := d.peek(); c != mTuple && c != mList {
			e := vd.semantic("a value list is a tuple, not %s", d.typeName())
			if err := d.skip(1); err != nil {
				return err
			}
			bad(e)
			continue
		}
		if err := vd.valueList(db, bad); err != nil {
			return err
		}
	}
	d.elem = -1
	if d.pos != len(d.buf) {
		return d.malformedf("%d bytes after the list of value lists", len(d.buf)-d.pos)
	}
	return nil
}

func (vd *ValueListDecoder) semantic(format string, args ...any) *protocol.DecodeError {
	return &protocol.DecodeError{Element: vd.d.index(), Err: fmt.Errorf("%w: "+format, append([]any{protocol.ErrSyntax}, args...)...)}
}

// valueList decodes the tuple at d.pos; a semantic problem drops it
// (after reading it to its end) and is passed to bad.
func (vd *ValueListDecoder) valueList(db *collectd.TypesDB, bad func(*protocol.DecodeError)) *protocol.DecodeError {
	d := &vd.d
	d.pos++
	n, err := d.count("tuple")
	if err != nil {
		return err
	}
	if n != 8 {
		e := vd.semantic("a value list has 8 items, not %d", n)
		for i := 0; i < n; i++ {
			if err := d.skip(2); err != nil {
				return err
			}
		}
		bad(e)
		return nil
	}
	var (
		vl    collectd.ValueList
		first *protocol.DecodeError
	)
	note := func(e *protocol.DecodeError) {
		if first == nil {
			first = e
		}
	}
	strs := [5]*string{&vl.Host, &vl.Plugin, &vl.PluginInstance, &vl.Type, &vl.TypeInstance}
	names := [5]string{"host", "plugin", "plugin_instance", "type", "type_instance"}
	for i, dst := range strs {
		if c, _ := d.peek(); c != mStr {
			note(vd.semantic("%s is %s, not str", names[i], d.typeName()))
			if err := d.skip(2); err != nil {
				return err
			}
			continue
		}
		d.pos++
		s, err := d.str()
		if err != nil {
			return err
		}
		*dst = s
	}
	var secs [2]float64
	for i, what := range [2]string{"time", "interval"} {
		f, ok, err := vd.number()
		if err != nil {
			return err
		}
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1<<33 {
			note(vd.semantic("%s is not a number of seconds", what))
		}
		secs[i] = f
	}
	if secs[0] > 0 && first == nil {
		sec, frac := math.Modf(secs[0])
		vl.Time = time.Unix(int64(sec), int64(math.Round(frac*1e9)))
	}
	vl.Interval = time.Duration(secs[1] * float64(time.Second))
	start := len(vd.values)
	if e, err := vd.readValues(db, vl.Type); err != nil {
		return err
	} else if e != nil {
		note(e)
	}
	if first != nil {
		vd.values = vd.values[:start]
		bad(first)
		return nil
	}
	vd.vls = append(vd.vls, vl)
	vd.spans = append(vd.spans, [2]int{start, len(vd.values)})
	return nil
}

// number reads an int or float as a float64; ok is false (the value
// skipped) for another type.
func (vd *ValueListDecoder) number() (float64, bool, *protocol.DecodeError) {
	d := &vd.d
	c, ok := d.peek()
	if !ok {
		return 0, false, d.malformed("a number")
	}
	switch c {
	case mFloat:
		d.pos++
		b, err := d.take(8, "the 8 bytes of a float")
		if err != nil {
			return 0, false, err
		}
		return math.Float64frombits(leUint64(b)), true, nil
	case mInt, mLong:
		neg, mag, inRange, err := d.integer()
		if err != nil {
			return 0, false, err
		}
		if !inRange {
			return 0, false, nil
		}
		f := float64(mag)
		if neg {
			f = -f
		}
		return f, true, nil
	}
	return 0, false, d.skip(2)
}

func leUint64(b []byte) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// readValues reads the values list of a value list of type typ.
func (vd *ValueListDecoder) readValues(db *collectd.TypesDB, typ string) (*protocol.DecodeError, *protocol.DecodeError) {
	d := &vd.d
	c, ok := d.peek()
	if !ok {
		return nil, d.malformed("the values of a value list")
	}
	if c != mList && c != mTuple {
		e := vd.semantic("values is %s, not a list", d.typeName())
		return e, d.skip(2)
	}
	d.pos++
	n, err := d.count(marshalTypeNames[c])
	if err != nil {
		return nil, err
	}
	ds, known := db.DataSet(typ)
	var first *protocol.DecodeError
	for i := 0; i < n; i++ {
		t := collectd.Gauge
		typed := known && i < len(ds.Sources)
		if typed {
			t = ds.Sources[i].Type
		}
		v, e, err := vd.value(t, typed, i)
		if err != nil {
			return nil, err
		}
		if e != nil && first == nil {
			first = e
		}
		vd.values = append(vd.values, v)
	}
	return first, nil
}

// value reads value i as a value of type t (when typed; else by its
// Python type).
func (vd *ValueListDecoder) value(t collectd.DSType, typed bool, i int) (collectd.Value, *protocol.DecodeError, *protocol.DecodeError) {
	d := &vd.d
	c, ok := d.peek()
	if !ok {
		return collectd.Value{}, nil, d.malformed("a value")
	}
	switch c {
	case mFloat:
		f, _, err := vd.number()
		if err != nil {
			return collectd.Value{}, nil, err
		}
		switch {
		case !typed || t == collectd.Gauge:
			return collectd.GaugeValue(f), nil, nil
		case math.IsNaN(f) || math.IsInf(f, 0):
			return collectd.Value{}, vd.semantic("value %d is %v, not a %s number", i, f, t), nil
		}
		a := math.Abs(math.Trunc(f))
		v := vd.integerValue(t, f < 0, uint64(min(a, math.MaxUint64)), a < 1<<64)
		if v.Type != t {
			return collectd.Value{}, vd.semantic("value %d (%v) does not fit a %s value", i, f, t), nil
		}
		return v, nil, nil
	case mInt, mLong:
		neg, mag, inRange, err := d.integer()
		if err != nil {
			return collectd.Value{}, nil, err
		}
		if !typed {
			t = collectd.Derive
		}
		if t == collectd.Gauge {
			f := float64(mag)
			if !inRange {
				f = math.Inf(1)
			}
			if neg {
				f = -f
			}
			return collectd.GaugeValue(f), nil, nil
		}
		v := vd.integerValue(t, neg, mag, inRange)
		if v.Type != t {
			return collectd.Value{}, vd.semantic("value %d does not fit a %s value", i, t), nil
		}
		return v, nil, nil
	}
	e := vd.semantic("value %d is %s, not a number", i, d.typeName())
	return collectd.Value{}, e, d.skip(3)
}

// integerValue makes a derive (int64) or counter/absolute (uint64) value;
// one that does not fit has Type Gauge, an impossible result the caller
// reports.
func (vd *ValueListDecoder) integerValue(t collectd.DSType, neg bool, mag uint64, inRange bool) collectd.Value {
	bad := collectd.Value{Type: collectd.Gauge}
	if !inRange {
		return bad
	}
	if t == collectd.Derive {
		switch {
		case neg && mag <= 1<<63:
			return collectd.DeriveValue(int64(-mag))
		case !neg && mag <= math.MaxInt64:
			return collectd.DeriveValue(int64(mag))
		}
		return bad
	}
	if neg && mag != 0 {
		return bad
	}
	if t == collectd.Absolute {
		return collectd.AbsoluteValue(mag)
	}
	return collectd.CounterValue(mag)
}
