package netdata

import (
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
)

// chart is one chart's definition and collection state.
type chart struct {
	typ, id, full   string // full is "type.id"
	family, context string
	module, job     string
	measurement     string
	obsolete        bool

	dims []*dim
	byID map[string]*dim

	labels []point.Tag // committed CLABELs, in first-commit order
	tags   []point.Tag // job, chart, family, module, then public labels

	rounds int // completed updates
}

// dim is one dimension's definition and collection state.
type dim struct {
	id, name string
	alg      algorithm
	mul, div int64
	hidden   bool

	hasLast   bool      // last and lastTime hold a collection
	last      int64     // the last collected value
	lastTime  time.Time // when last was collected
	lastRound int       // chart.rounds right after last was collected

	set bool  // collected in the open update
	cur int64 // the value collected in the open update
}

// splitChartID splits "type.id" at its first dot.
func splitChartID(full string) (typ, id string, ok bool) {
	typ, id, ok = strings.Cut(full, ".")
	return typ, id, ok && typ != "" && id != ""
}

// jobOf returns the job tag of a chart of type typ from module mod: the
// type without its "<module>_" prefix (python.d's chart type is
// "<module>_<name>", name being the job's name: override or key, spaces
// as _), the module when the type is the module (python.d's single-job
// form), else the whole type.
func jobOf(typ, mod string) string {
	if typ == mod {
		return mod
	}
	if rest, ok := strings.CutPrefix(typ, mod+"_"); ok && rest != "" {
		return rest
	}
	return typ
}

// retag rebuilds c.tags after the definition or the labels changed. Tags
// with empty values are left out, and so are labels whose name starts
// with "_" (Netdata's internal labels, such as python.d's _collect_job).
func (c *chart) retag() {
	c.tags = c.tags[:0]
	add := func(k, v string) {
		if v != "" {
			c.tags = append(c.tags, point.Tag{Key: k, Value: v})
		}
	}
	add("job", c.job)
	add("chart", c.full)
	add("family", c.family)
	add("module", c.module)
	for _, l := range c.labels {
		if !strings.HasPrefix(l.Key, "_") {
			add(l.Key, l.Value)
		}
	}
}

// setLabel sets label k to v, keeping the order labels were first set in.
func (c *chart) setLabel(k, v string) (added bool) {
	for i := range c.labels {
		if c.labels[i].Key == k {
			c.labels[i].Value = v
			return false
		}
	}
	c.labels = append(c.labels, point.Tag{Key: k, Value: v})
	return true
}

// removeDim drops dimension id from c, reporting whether it was there.
func (c *chart) removeDim(id string) bool {
	d, ok := c.byID[id]
	if !ok {
		return false
	}
	delete(c.byID, id)
	for i, x := range c.dims {
		if x == d {
			c.dims = append(c.dims[:i], c.dims[i+1:]...)
			break
		}
	}
	return true
}

// compute ends the open update of c collected at now, with micros the
// BEGIN line's microseconds since the previous update (0 when unknown),
// and returns its point; ok is false when no dimension has a value. It
// moves the collected values into the dimensions' last values.
func (c *chart) compute(now time.Time, micros int64, byID bool) (p point.Point, ok bool) {
	var n int
	var sumAbs, sumDelta float64
	for _, d := range c.dims {
		if !d.set {
			continue
		}
		n++
		sumAbs += float64(d.cur)
		if d.hasLast {
			if delta, ok := counterDelta(d.last, d.cur); ok {
				sumDelta += delta
			}
		}
	}
	if n == 0 {
		c.rounds++
		return p, false
	}
	fields := make([]point.Field, 0, n)
	for _, d := range c.dims {
		if !d.set {
			continue
		}
		v, has := d.value(now, micros, c.rounds, sumAbs, sumDelta)
		if has {
			key := d.name
			if byID {
				key = d.id
			}
			fields = append(fields, point.Field{Key: key, Value: point.FloatValue(v)})
		}
		d.set = false
		d.hasLast, d.last, d.lastTime, d.lastRound = true, d.cur, now, c.rounds+1
	}
	c.rounds++
	if len(fields) == 0 {
		return p, false
	}
	tags := make([]point.Tag, len(c.tags))
	copy(tags, c.tags)
	return point.Point{Name: c.measurement, Tags: tags, Fields: fields, Time: now}, true
}

// value is d's stored value for the collection d.cur at now (see the
// package doc for each algorithm); has is false when there is none.
// rounds is the chart's count of completed updates before this one.
func (d *dim) value(now time.Time, micros int64, rounds int, sumAbs, sumDelta float64) (v float64, has bool) {
	switch d.alg {
	case absolute:
		return ratio(float64(d.cur), d.mul, d.div), true
	case percentOfAbsoluteRow:
		if sumAbs == 0 {
			return 0, true
		}
		return 100 * float64(d.cur) / sumAbs, true
	}
	if !d.hasLast {
		return 0, false
	}
	delta, ok := counterDelta(d.last, d.cur)
	if !ok {
		return 0, false // a reset: no value, as for a first collection
	}
	if d.alg == percentOfIncrementalRow {
		if sumDelta == 0 {
			return 0, true
		}
		return 100 * delta / sumDelta, true
	}
	var secs float64
	if micros > 0 && d.lastRound == rounds {
		secs = float64(micros) / 1e6
	} else {
		secs = now.Sub(d.lastTime).Seconds()
	}
	if secs <= 0 {
		return 0, false
	}
	v = ratio(delta, d.mul, d.div) / secs
	return v, isFinite(v)
}
