package protocol

import (
	"bytes"
	"fmt"
	"time"
	"unsafe"

	"github.com/collectkit/collectkit/point"
)

// Decoder decodes line-protocol and JSON bodies into points. Its zero value
// is ready to use. A Decoder keeps its buffers (points, tags, fields,
// warnings, and an arena for unescaped strings) between calls, so reusing
// one Decoder for many bodies costs no allocation once the buffers have
// grown to the size of the bodies. A Decoder is not safe for concurrent use:
// give each goroutine its own (a sync.Pool of Decoders works well).
type Decoder struct {
	pts    []point.Point
	spans  []span
	tags   []point.Tag
	fields []point.Field
	warns  []point.Warning
	arena  []byte

	// body is the body being decoded; base is the address of its first
	// byte, so that str can tell slices of it from other buffers.
	body []byte
	base uintptr

	errs      *DecodeErrors
	maxErrors int
	maxPoints int // 0: no limit
	// entries counts the lines or elements read, for maxPoints.
	entries int

	// last is the body of the last call, for Source; lastLP tells how
	// span.src is to be read.
	last   []byte
	lastLP bool
}

// span records where a point's tags and fields are in the slabs. Points get
// their slices only at the end of a call, because the slabs may move while
// they grow.
type span struct {
	tag0, tag1     int32
	field0, field1 int32
	// src is where the point came from: the byte offset of its line in
	// the body (line protocol; -1 when unknown) or its element index (JSON).
	src int32
}

// reset prepares d for a new body.
func (d *Decoder) reset(body []byte, opts *Options) {
	d.pts = d.pts[:0]
	d.spans = d.spans[:0]
	d.tags = d.tags[:0]
	d.fields = d.fields[:0]
	d.warns = d.warns[:0]
	d.arena = d.arena[:0]
	d.body = body
	d.last = body
	d.base = uintptr(unsafe.Pointer(unsafe.SliceData(body)))
	d.errs = nil
	d.maxErrors = opts.maxErrors()
	d.maxPoints = max(opts.MaxPoints, 0)
	d.entries = 0
}

// tooMany counts one more line or element and reports whether that is over
// maxPoints.
func (d *Decoder) tooMany() bool {
	d.entries++
	return d.maxPoints > 0 && d.entries > d.maxPoints
}

// tooManyErr is the error of a body over maxPoints. It clears what was
// decoded, so that no points are returned.
func (d *Decoder) tooManyErr(what string) error {
	d.pts, d.spans, d.warns = d.pts[:0], d.spans[:0], d.warns[:0]
	d.tags, d.fields = d.tags[:0], d.fields[:0]
	d.body, d.base = nil, 0
	return fmt.Errorf("protocol: %w: more than %d %s", ErrTooManyPoints, d.maxPoints, what)
}

// Warnings returns the warnings of the last Decode call: for line protocol
// the negative timestamps (point.WarnNegativeTime, Point the index in the
// returned points); for JSON the same warnings DecodeJSON returned. The
// slice aliases d's buffers, like the points.
func (d *Decoder) Warnings() []point.Warning {
	if len(d.warns) == 0 {
		return nil
	}
	return d.warns
}

// RetainedBytes tells how many bytes d's reusable buffers hold between
// calls. A pool of Decoders uses it to drop one that grew for a single
// large body instead of keeping that memory for every later call.
func (d *Decoder) RetainedBytes() int {
	return cap(d.pts)*int(unsafe.Sizeof(point.Point{})) +
		cap(d.spans)*int(unsafe.Sizeof(span{})) +
		cap(d.tags)*int(unsafe.Sizeof(point.Tag{})) +
		cap(d.fields)*int(unsafe.Sizeof(point.Field{})) +
		cap(d.warns)*int(unsafe.Sizeof(point.Warning{})) +
		cap(d.arena)
}

// negativeTime is the warning for a point whose timestamp is before 1970.
// Such times are valid (line protocol and the point model carry them), but
// they are far more often a client's mistake (a sign error, a subtraction
// gone wrong) than data from before 1970, so they are kept and reported.
func negativeTime(i int, text []byte) point.Warning {
	return point.Warning{Code: point.WarnNegativeTime, Point: i, Key: "time",
		Message: "timestamp " + string(text) + " is before 1970 (negative); kept as it is"}
}

// now returns the time of points without a timestamp.
func now(opts *Options) time.Time {
	if opts.Now.IsZero() {
		return time.Now()
	}
	return opts.Now
}

// str returns b as a string without copying when b lies inside the body,
// and a copy in d's arena otherwise (a decoder's scratch buffer that is
// overwritten on the next line).
func (d *Decoder) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	if p >= d.base && p-d.base < uintptr(len(d.body)) {
		return unsafe.String(unsafe.SliceData(b), len(b))
	}
	return d.copyStr(b)
}

// copyStr copies b into the arena and returns it as a string. Growing the
// arena may move it to a bigger array; strings handed out earlier keep the
// old array alive, and nothing below the arena's length is ever rewritten
// during a call.
func (d *Decoder) copyStr(b []byte) string {
	start := len(d.arena)
	d.arena = append(d.arena, b...)
	return unsafe.String(&d.arena[start], len(b))
}

// addPoint appends a decoded point whose tags and fields are the slab
// entries from tag0 and field0 to the current ends.
func (d *Decoder) addPoint(name string, t time.Time, tag0, field0, src int) {
	d.pts = append(d.pts, point.Point{Name: name, Time: t})
	d.spans = append(d.spans, span{int32(tag0), int32(len(d.tags)), int32(field0), int32(len(d.fields)), int32(src)})
}

// Source tells where point i of the last Decode call came from: for line
// protocol its 1-based line number (0 if unknown) and element -1; for JSON
// line 0 and its 0-based element index in the array. It is for messages
// about a point (a warning, a rejection) that should say where in the body
// the point was. It returns (0, -1) when i is out of range.
func (d *Decoder) Source(i int) (line, element int) {
	if i < 0 || i >= len(d.spans) {
		return 0, -1
	}
	src := int(d.spans[i].src)
	if !d.lastLP {
		return 0, src
	}
	if src < 0 || src > len(d.last) {
		return 0, -1
	}
	return bytes.Count(d.last[:src], []byte{'\n'}) + 1, -1
}

// fail records a decode error, rolling the slabs back to tag0 and field0.
func (d *Decoder) fail(e *DecodeError, tag0, field0 int) {
	d.tags = d.tags[:tag0]
	d.fields = d.fields[:field0]
	if d.errs == nil {
		d.errs = &DecodeErrors{}
	}
	d.errs.Invalid++
	if len(d.errs.Errors) < d.maxErrors {
		d.errs.Errors = append(d.errs.Errors, e)
	} else {
		d.errs.Truncated = true
	}
}

// finish gives every point its tag and field slices and returns the
// result of a Decode call. The slices are capped at their length, so a
// caller that appends to one point's tags does not overwrite the next
// point's.
func (d *Decoder) finish(keepValid bool) ([]point.Point, error) {
	d.body = nil
	d.base = 0
	if d.errs != nil {
		d.errs.Valid = len(d.pts)
		if !keepValid {
			return nil, d.errs
		}
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
	if d.errs != nil {
		return d.pts, d.errs
	}
	return d.pts, nil
}
