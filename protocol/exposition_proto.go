package protocol

import (
	"encoding/binary"
	"math"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/collectkit/collectkit/point"
)

// protobuf decodes varint-length-delimited MetricFamily messages. Each
// length prefix is checked against the rest of the body before the
// message is read, so a prefix cannot make the decoder allocate what the
// body does not hold.
func (d *expoDecoder) protobuf(body []byte) error {
	var mf dto.MetricFamily
	for off, idx := 0, 0; off < len(body); idx++ {
		n, size := binary.Uvarint(body[off:])
		if size <= 0 {
			return &DecodeError{Element: idx, Err: cause(ErrSyntax, "bad varint length prefix at byte %d", off)}
		}
		start := off + size
		if rest := uint64(len(body) - start); n > rest {
			return &DecodeError{Element: idx, Err: cause(ErrSyntax, "message at byte %d declares %d bytes but only %d remain", off, n, rest)}
		}
		msg := body[start : start+int(n)]
		mf.Reset()
		if err := proto.Unmarshal(msg, &mf); err != nil {
			return &DecodeError{Element: idx, Err: cause(ErrSyntax, "message at byte %d: %v", off, err)}
		}
		if err := d.protoFamily(&mf); err != nil {
			return &DecodeError{Element: idx, Key: err.key, Err: err.err}
		}
		off = start + int(n)
	}
	return nil
}

type keyedErr struct {
	key string
	err error
}

var protoTypes = [...]expoType{
	dto.MetricType_COUNTER:         typeCounter,
	dto.MetricType_GAUGE:           typeGauge,
	dto.MetricType_SUMMARY:         typeSummary,
	dto.MetricType_UNTYPED:         typeUntyped,
	dto.MetricType_HISTOGRAM:       typeHistogram,
	dto.MetricType_GAUGE_HISTOGRAM: typeGaugeHistogram,
}

// protoFamily maps one MetricFamily's metrics as the text format would
// write them: a counter's value and created timestamp, a summary's
// quantiles, sum, count and created timestamp, a histogram's buckets
// (with the +Inf bucket the text format adds when it is missing), sum,
// count and created timestamp. Native histogram buckets are not mapped.
func (d *expoDecoder) protoFamily(mf *dto.MetricFamily) *keyedErr {
	name := mf.GetName()
	if name == "" || !utf8.ValidString(name) {
		return &keyedErr{err: cause(ErrInvalidName, "invalid metric family name %q", name)}
	}
	typ := typeUntyped
	if t := int(mf.GetType()); t >= 0 && t < len(protoTypes) {
		typ = protoTypes[t]
	} else {
		return &keyedErr{err: cause(ErrSyntax, "family %q has unknown type %d", shortName(name), t)}
	}
	f := d.fams[name]
	if f == nil || f.typ != typ {
		f = d.newFamily(name)
		d.setType(f, typ)
	}
	d.cur = f
	for _, m := range mf.GetMetric() {
		if m == nil {
			continue
		}
		samples := 1
		switch typ {
		case typeCounter:
			if m.GetCounter().GetCreatedTimestamp() != nil {
				samples++
			}
		case typeSummary:
			s := m.GetSummary()
			samples = len(s.GetQuantile()) + 2
			if s.GetCreatedTimestamp() != nil {
				samples++
			}
		case typeHistogram, typeGaugeHistogram:
			h := m.GetHistogram()
			samples = len(h.GetBucket()) + 2
			if !infBucket(h) {
				samples++
			}
			if h.GetCreatedTimestamp() != nil {
				samples++
			}
		}
		d.stats.Samples += samples
		if lim := d.opts.MaxSamples; lim > 0 && d.stats.Samples > lim {
			return &keyedErr{err: cause(ErrTooManyPoints, "more than %d samples, the limit per body", lim)}
		}
		if err := d.protoLabels(name, m.GetLabel()); err != nil {
			return err
		}
		t := d.now
		if m.TimestampMs != nil {
			ms := m.GetTimestampMs()
			if ms > math.MaxInt64/int64(time.Millisecond) || ms < math.MinInt64/int64(time.Millisecond) {
				return &keyedErr{err: cause(ErrTimeRange, "metric of %q has timestamp %d ms, out of range", shortName(name), ms)}
			}
			if d.opts.RejectTimestamps {
				return &keyedErr{err: cause(ErrSampleTimestamp, "sample %q has a timestamp (%d), which is not allowed here", shortName(name), ms)}
			}
			t = time.UnixMilli(ms).UTC()
		}
		labels := d.labels
		switch typ {
		case typeCounter:
			c := m.GetCounter()
			d.emit(f, kindTotal, labels, point.Tag{}, c.GetValue(), t)
			d.protoCreated(f, labels, c.GetCreatedTimestamp(), t)
		case typeGauge:
			d.emit(f, kindValue, labels, point.Tag{}, m.GetGauge().GetValue(), t)
		case typeUntyped:
			d.emit(f, kindValue, labels, point.Tag{}, m.GetUntyped().GetValue(), t)
		case typeSummary:
			s := m.GetSummary()
			for _, q := range s.GetQuantile() {
				d.emit(f, kindQuantile, labels, d.floatTag("quantile", "", q.GetQuantile()), q.GetValue(), t)
			}
			d.emit(f, kindSum, labels, point.Tag{}, s.GetSampleSum(), t)
			d.emit(f, kindCount, labels, point.Tag{}, float64(s.GetSampleCount()), t)
			d.protoCreated(f, labels, s.GetCreatedTimestamp(), t)
		case typeHistogram, typeGaugeHistogram:
			h := m.GetHistogram()
			count := float64(h.GetSampleCount())
			if h != nil && h.SampleCountFloat != nil { // a histogram family's metric may lack its histogram
				count = h.GetSampleCountFloat()
			}
			for _, b := range h.GetBucket() {
				c := float64(b.GetCumulativeCount())
				if b.CumulativeCountFloat != nil {
					c = b.GetCumulativeCountFloat()
				}
				d.emit(f, kindBucket, labels, d.floatTag("le", "", b.GetUpperBound()), c, t)
			}
			if !infBucket(h) {
				d.emit(f, kindBucket, labels, point.Tag{Key: "le", Value: "+Inf"}, count, t)
			}
			sum, cnt := kindSum, kindCount
			if typ == typeGaugeHistogram {
				sum, cnt = kindGSum, kindGCount
			}
			d.emit(f, sum, labels, point.Tag{}, h.GetSampleSum(), t)
			d.emit(f, cnt, labels, point.Tag{}, count, t)
			d.protoCreated(f, labels, h.GetCreatedTimestamp(), t)
		}
	}
	return nil
}

// infBucket tells whether a histogram has a +Inf bucket.
func infBucket(h *dto.Histogram) bool {
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), 1) {
			return true
		}
	}
	return false
}

// protoCreated emits a created timestamp, in seconds, if there is one.
func (d *expoDecoder) protoCreated(f *expoFamily, labels []point.Tag, ts *timestamppb.Timestamp, t time.Time) {
	if ts == nil {
		return
	}
	d.emit(f, kindCreated, labels, point.Tag{}, float64(ts.GetSeconds())+float64(ts.GetNanos())/1e9, t)
}

// protoLabels checks a metric's labels into d.labels.
func (d *expoDecoder) protoLabels(name string, pairs []*dto.LabelPair) *keyedErr {
	lim := d.opts
	if lim.MaxLabels > 0 && len(pairs) > lim.MaxLabels {
		return &keyedErr{err: cause(ErrTooManyLabels, "sample %q has %d labels, more than the limit of %d per sample", shortName(name), len(pairs), lim.MaxLabels)}
	}
	d.labels = d.labels[:0]
	size := 0
	for _, lp := range pairs {
		k, v := lp.GetName(), lp.GetValue()
		switch {
		case k == "" || !utf8.ValidString(k):
			return &keyedErr{key: k, err: cause(ErrSyntax, "invalid label name %q in %q", k, shortName(name))}
		case k == "__name__":
			return &keyedErr{key: k, err: cause(ErrSyntax, "label name \"__name__\" is reserved (in %q)", shortName(name))}
		case !utf8.ValidString(v):
			return &keyedErr{key: k, err: cause(ErrInvalidUTF8, "value of label %q in %q is not valid UTF-8", shortName(k), shortName(name))}
		}
		size += len(k) + len(v)
		d.labels = append(d.labels, point.Tag{Key: k, Value: v})
	}
	if lim.MaxLabelBytes > 0 && size > lim.MaxLabelBytes {
		return &keyedErr{err: cause(ErrLabelsTooLong, "sample %q has %d bytes of labels, more than the limit of %d per sample", shortName(name), size, lim.MaxLabelBytes)}
	}
	if dup := d.dupLabel(d.labels); dup != "" {
		return &keyedErr{key: dup, err: cause(ErrSyntax, "duplicate label %q in %q", shortName(dup), shortName(name))}
	}
	return nil
}
