package protocol

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
)

// This file maps samples to points; exposition_text.go and
// exposition_proto.go read the formats and call emit.

// expoType is a metric family's type.
type expoType uint8

const (
	typeUntyped expoType = iota
	typeCounter
	typeGauge
	typeSummary
	typeHistogram
	typeGaugeHistogram
	typeInfo
	typeStateset
)

var expoTypeNames = [...]string{"untyped", "counter", "gauge", "summary", "histogram", "gaugehistogram", "info", "stateset"}

func (t expoType) String() string { return expoTypeNames[t] }

// parseExpoType reads a TYPE line's type, in any case. It takes
// OpenMetrics' names (unknown, gaugehistogram, info, stateset) in both
// text formats, and gauge_histogram as prometheus/common does.
func parseExpoType(b []byte) (expoType, bool) {
	var buf [16]byte
	if len(b) > len(buf) {
		return 0, false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	switch string(buf[:len(b)]) {
	case "untyped", "unknown":
		return typeUntyped, true
	case "counter":
		return typeCounter, true
	case "gauge":
		return typeGauge, true
	case "summary":
		return typeSummary, true
	case "histogram":
		return typeHistogram, true
	case "gaugehistogram", "gauge_histogram":
		return typeGaugeHistogram, true
	case "info":
		return typeInfo, true
	case "stateset":
		return typeStateset, true
	}
	return 0, false
}

// sampleKind is what a sample is within its family.
type sampleKind uint8

const (
	kindValue sampleKind = iota
	kindTotal
	kindCreated
	kindQuantile
	kindBucket
	kindSum
	kindCount
	kindGSum
	kindGCount
	kindInfo
	// kindNone: the sample does not fit the family of its name.
	kindNone sampleKind = 255
)

// expoFamily is a metric family of one body.
type expoFamily struct {
	name string // as declared, or the first sample's name
	meas string // the measurement of its points
	typ  expoType
	// typed, helped, united and sampled record a TYPE, HELP and UNIT line
	// and a sample: a metadata line the family has had already, or one
	// after its samples, starts a new family of that name.
	typed, helped, united, sampled bool
	// created is the base of a gauge named <base>_created, "" otherwise.
	created string
	// lastAgg is the index in expoDecoder.pts of the point that holds the
	// family's last sum and count, -1 before any; aggs finds the others by
	// their tags when the _sum and _count of a series are not adjacent.
	lastAgg int
	aggs    map[string]int
}

// setType gives f its type and measurement.
func (d *expoDecoder) setType(f *expoFamily, t expoType) {
	f.typ, f.typed = t, true
	f.meas, f.created = f.name, ""
	switch t {
	case typeCounter:
		if m := strings.TrimSuffix(f.name, "_total"); m != "" {
			f.meas = m
		}
	case typeInfo:
		if m := strings.TrimSuffix(f.name, "_info"); m != "" {
			f.meas = m
		}
	case typeGauge:
		if base, ok := strings.CutSuffix(f.name, "_created"); ok && base != "" {
			f.created = base
		}
	}
	switch t {
	case typeCounter, typeSummary, typeHistogram, typeGaugeHistogram:
		d.bases[f.meas] = struct{}{}
	}
}

// match tells what a sample called name is in f, if it belongs to f.
func (f *expoFamily) match(name string) (sampleKind, bool) {
	rel, ok := strings.CutPrefix(name, f.name)
	if !ok {
		return 0, false
	}
	switch f.typ {
	case typeUntyped, typeGauge, typeStateset:
		return kindValue, rel == ""
	case typeCounter:
		switch rel {
		case "", "_total":
			return kindTotal, true
		case "_created":
			return kindCreated, true
		}
	case typeSummary:
		switch rel {
		case "":
			return kindQuantile, true
		case "_sum":
			return kindSum, true
		case "_count":
			return kindCount, true
		case "_created":
			return kindCreated, true
		}
	case typeHistogram:
		switch rel {
		case "_bucket":
			return kindBucket, true
		case "_sum":
			return kindSum, true
		case "_count":
			return kindCount, true
		case "_created":
			return kindCreated, true
		}
	case typeGaugeHistogram:
		switch rel {
		case "_bucket":
			return kindBucket, true
		case "_gsum", "_sum":
			return kindGSum, true
		case "_gcount", "_count":
			return kindGCount, true
		}
	case typeInfo:
		switch rel {
		case "", "_info":
			return kindInfo, true
		}
	}
	return 0, false
}

// suffixes are the sample-name suffixes of the typed families.
var expoSuffixes = [...]string{"_total", "_created", "_bucket", "_sum", "_count", "_gsum", "_gcount", "_info"}

// expoDecoder holds one DecodeExposition call's state.
type expoDecoder struct {
	opts  *ExpositionOptions
	now   time.Time
	base  int // len(dst): points below it are the caller's
	pts   []point.Point
	stats ExpositionStats

	// tagSlab and fieldSlab are blocks the points' Tags and Fields are
	// cut from; a full block is left to its points and a new one made.
	tagSlab   []point.Tag
	fieldSlab []point.Field

	fams  map[string]*expoFamily
	cur   *expoFamily // the family of the last line
	bases map[string]struct{}
	// pending are the points of gauges named <base>_created whose base had
	// not been seen: fixCreated makes them created points if it came later.
	pending []int

	tagIdx map[string]int // ExpositionOptions.Tags by key, when many
	masked []bool         // per ExpositionOptions.Tags: a label of that name is in the sample

	labels []point.Tag // the sample being read
	sorted []point.Tag
	sig    []byte
	seen   map[string]struct{}
	fbuf   [32]byte
}

func (d *expoDecoder) init() {
	d.fams = make(map[string]*expoFamily)
	d.bases = make(map[string]struct{})
	if n := len(d.opts.Tags); n > 8 {
		d.tagIdx = make(map[string]int, n)
		for i, t := range d.opts.Tags {
			if _, dup := d.tagIdx[t.Key]; !dup {
				d.tagIdx[t.Key] = i
			}
		}
	}
	d.masked = make([]bool, len(d.opts.Tags))
}

// family returns the family called name, made (untyped) if new.
func (d *expoDecoder) family(name string) *expoFamily {
	if f := d.fams[name]; f != nil {
		return f
	}
	return d.newFamily(name)
}

// newFamily makes an untyped family called name, which takes the place of
// any family of that name for the samples that follow.
func (d *expoDecoder) newFamily(name string) *expoFamily {
	f := &expoFamily{name: name, meas: name, lastAgg: -1}
	d.fams[name] = f
	d.stats.Families++
	return f
}

// sampleFamily finds the family of a sample called name: the current
// family, a family of that name, or one whose name is name without a
// typed suffix; failing those, a new untyped family.
func (d *expoDecoder) sampleFamily(name string) (*expoFamily, sampleKind) {
	if f := d.cur; f != nil {
		if k, ok := f.match(name); ok {
			return f, k
		}
	}
	if f := d.fams[name]; f != nil {
		if k, ok := f.match(name); ok {
			return f, k
		}
	}
	for _, s := range expoSuffixes {
		if base, ok := strings.CutSuffix(name, s); ok {
			if f := d.fams[base]; f != nil {
				if k, ok := f.match(name); ok {
					return f, k
				}
			}
		}
	}
	if f := d.fams[name]; f != nil {
		// A family of that name whose type has no such sample: a
		// histogram "h" with a sample "h", say.
		return f, kindNone
	}
	return d.family(name), kindValue
}

// optIndex is the index in ExpositionOptions.Tags of the tag called key,
// or -1.
func (d *expoDecoder) optIndex(key string) int {
	if d.tagIdx != nil {
		if i, ok := d.tagIdx[key]; ok {
			return i
		}
		return -1
	}
	for i := range d.opts.Tags {
		if d.opts.Tags[i].Key == key {
			return i
		}
	}
	return -1
}

// dupLabel returns a label name that labels has twice, or "". Few labels
// are compared pairwise; more go through a set, so the check is linear.
func (d *expoDecoder) dupLabel(labels []point.Tag) string {
	if len(labels) <= 8 {
		for i := 1; i < len(labels); i++ {
			for j := range i {
				if labels[i].Key == labels[j].Key {
					return labels[i].Key
				}
			}
		}
		return ""
	}
	// clear costs what the map once held: a set that held many labels is
	// dropped, so a sample with many labels does not tax every later one.
	if d.seen == nil || len(d.seen) > 256 {
		d.seen = make(map[string]struct{}, len(labels))
	} else {
		clear(d.seen)
	}
	for _, l := range labels {
		if _, ok := d.seen[l.Key]; ok {
			return l.Key
		}
		d.seen[l.Key] = struct{}{}
	}
	return ""
}

// carveTags returns n tags of the current block, starting a new block
// when it has no room. The slice is capped at n.
func (d *expoDecoder) carveTags(n int) []point.Tag {
	if n == 0 {
		return nil
	}
	if cap(d.tagSlab)-len(d.tagSlab) < n {
		d.tagSlab = make([]point.Tag, 0, max(n, min(2*cap(d.tagSlab), 16384), 256))
	}
	l := len(d.tagSlab)
	d.tagSlab = d.tagSlab[:l+n]
	return d.tagSlab[l : l+n : l+n]
}

// carveFields is carveTags for fields.
func (d *expoDecoder) carveFields(n int) []point.Field {
	if cap(d.fieldSlab)-len(d.fieldSlab) < n {
		d.fieldSlab = make([]point.Field, 0, max(n, min(2*cap(d.fieldSlab), 16384), 256))
	}
	l := len(d.fieldSlab)
	d.fieldSlab = d.fieldSlab[:l+n]
	return d.fieldSlab[l : l+n : l+n]
}

// tags returns the tags of a point: labels (without empty ones, which
// Prometheus treats as absent, and those that
// ExpositionOptions.Tags override), ExpositionOptions.Tags (without those a
// label of the same name keeps), then extra (le or quantile) if set.
func (d *expoDecoder) tags(labels []point.Tag, extra point.Tag) []point.Tag {
	opt := d.opts.Tags
	n := len(labels) + len(opt)
	if extra.Key != "" {
		n++
	}
	if len(opt) > 0 {
		clear(d.masked)
	}
	for _, l := range labels {
		if l.Value == "" { // Prometheus: a label with an empty value is absent
			n--
			continue
		}
		if len(opt) > 0 {
			if i := d.optIndex(l.Key); i >= 0 {
				d.masked[i] = true
				n--
			}
		}
	}
	t := d.carveTags(n)
	j := 0
	for _, l := range labels {
		if l.Value == "" || (d.opts.TagsOverride && len(opt) > 0 && d.optIndex(l.Key) >= 0) {
			continue
		}
		t[j] = l
		j++
	}
	for i, o := range opt {
		if !d.opts.TagsOverride && d.masked[i] {
			continue
		}
		t[j] = o
		j++
	}
	if extra.Key != "" {
		t[j] = extra
		j++
	}
	return t[:j:j]
}

// emit maps one sample of f to a point (or to a field of its series'
// sum-and-count point). extra is the le or quantile tag.
func (d *expoDecoder) emit(f *expoFamily, k sampleKind, labels []point.Tag, extra point.Tag, v float64, t time.Time) {
	switch k {
	case kindSum, kindCount, kindGSum, kindGCount:
		d.agg(f, k, labels, v, t)
		return
	}
	name, key := f.meas, "value"
	switch k {
	case kindTotal:
		key = "total"
	case kindCreated:
		key = "created"
	case kindBucket:
		key = "bucket"
	case kindInfo:
		key = "info"
	}
	if f.created != "" && k == kindValue {
		if _, ok := d.bases[f.created]; ok {
			name, key = f.created, "created"
		} else {
			d.pending = append(d.pending, len(d.pts))
		}
	}
	fs := d.carveFields(1)
	fs[0] = point.Field{Key: key, Value: point.FloatValue(v)}
	d.pts = append(d.pts, point.Point{Name: name, Tags: d.tags(labels, extra), Fields: fs, Time: t})
}

// agg puts a _sum or _count sample into the point of its series, which
// holds the sum first and the count second.
func (d *expoDecoder) agg(f *expoFamily, k sampleKind, labels []point.Tag, v float64, t time.Time) {
	sumKey, countKey := "sum", "count"
	if k == kindGSum || k == kindGCount {
		sumKey, countKey = "gsum", "gcount"
	}
	isSum := k == kindSum || k == kindGSum
	mark := len(d.tagSlab)
	tags := d.tags(labels, point.Tag{})
	idx := -1
	if f.lastAgg >= 0 && slices.Equal(d.pts[f.lastAgg].Tags, tags) {
		idx = f.lastAgg
	} else if f.lastAgg >= 0 {
		d.signature(tags)
		if i, ok := f.aggs[string(d.sig)]; ok {
			idx = i
		}
	}
	if idx >= 0 {
		if mark <= len(d.tagSlab) && len(tags) > 0 && &d.tagSlab[len(d.tagSlab)-1] == &tags[len(tags)-1] {
			d.tagSlab = d.tagSlab[:len(d.tagSlab)-len(tags)] // the point has tags already
		}
		p := &d.pts[idx]
		f.lastAgg = idx
		for i := range p.Fields {
			if (isSum && p.Fields[i].Key == sumKey) || (!isSum && p.Fields[i].Key == countKey) {
				p.Fields[i].Value = point.FloatValue(v) // a repeated sample: the last wins
				return
			}
		}
		p.Fields = p.Fields[:2]
		if isSum {
			p.Fields[1] = p.Fields[0]
			p.Fields[0] = point.Field{Key: sumKey, Value: point.FloatValue(v)}
		} else {
			p.Fields[1] = point.Field{Key: countKey, Value: point.FloatValue(v)}
		}
		return
	}
	fs := d.carveFields(2)[:1]
	if isSum {
		fs[0] = point.Field{Key: sumKey, Value: point.FloatValue(v)}
	} else {
		fs[0] = point.Field{Key: countKey, Value: point.FloatValue(v)}
	}
	idx = len(d.pts)
	d.pts = append(d.pts, point.Point{Name: f.meas, Tags: tags, Fields: fs, Time: t})
	if f.lastAgg >= 0 || f.aggs != nil {
		if f.aggs == nil {
			f.aggs = make(map[string]int)
			d.signature(d.pts[f.lastAgg].Tags)
			f.aggs[string(d.sig)] = f.lastAgg
		}
		d.signature(tags)
		f.aggs[string(d.sig)] = idx
	}
	f.lastAgg = idx
}

// signature writes the tags, sorted by key, into d.sig.
func (d *expoDecoder) signature(tags []point.Tag) {
	s := tags
	if !slices.IsSortedFunc(s, cmpTag) {
		d.sorted = append(d.sorted[:0], tags...)
		slices.SortFunc(d.sorted, cmpTag)
		s = d.sorted
	}
	d.sig = d.sig[:0]
	for _, t := range s {
		d.sig = append(d.sig, t.Key...)
		d.sig = append(d.sig, 0xff)
		d.sig = append(d.sig, t.Value...)
		d.sig = append(d.sig, 0xff)
	}
}

func cmpTag(a, b point.Tag) int { return strings.Compare(a.Key, b.Key) }

// fixCreated turns the pending gauges named <base>_created into created
// points of base when base turned out to be a counter, summary or
// histogram after them.
func (d *expoDecoder) fixCreated() {
	for _, i := range d.pending {
		p := &d.pts[i]
		base := strings.TrimSuffix(p.Name, "_created")
		if _, ok := d.bases[base]; ok {
			p.Name = base
			p.Fields[0].Key = "created"
		}
	}
}

// floatTag returns the le or quantile tag for v: the label's own text when
// it is already the shortest form of v (no copy), else that form.
func (d *expoDecoder) floatTag(key string, raw string, v float64) point.Tag {
	var b []byte
	switch {
	case math.IsInf(v, 1):
		b = append(d.fbuf[:0], "+Inf"...)
	case math.IsInf(v, -1):
		b = append(d.fbuf[:0], "-Inf"...)
	default:
		b = strconv.AppendFloat(d.fbuf[:0], v, 'g', -1, 64)
	}
	if string(b) == raw {
		return point.Tag{Key: key, Value: raw}
	}
	return point.Tag{Key: key, Value: string(b)}
}
