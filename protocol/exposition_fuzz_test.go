package protocol_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/protocol"
)

// FuzzDecodeExposition: any body in any format decodes without a panic to
// well-formed points, or fails with a DecodeError that locates the
// problem and returns no points.
func FuzzDecodeExposition(f *testing.F) {
	for _, name := range []string{"node_exporter.txt", "python_client.txt"} {
		f.Add(readExpoFile(f, name), uint8(protocol.ExpositionText))
	}
	f.Add(readExpoFile(f, "python_client.om.txt"), uint8(protocol.ExpositionOpenMetrics))
	f.Add(readExpoFile(f, "node_exporter.pb"), uint8(protocol.ExpositionProtobuf))
	for _, s := range []string{
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"{\"a.b\", \"c.d\"=\"e\\\"\\n\"} NaN 1717243200000\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum{a=\"1\"} 1\ns_count 2\n",
		"# TYPE c_created gauge\nc_created 1\n# TYPE c counter\nc_total 2\n",
		"# TYPE i info\ni_info{a=\"b\"} 1\n# TYPE q gaugehistogram\nq_bucket{le=\"+Inf\"} 1\nq_gsum 1\n# EOF\n",
		"x_total 1 # {a=\"b\"} 1 2\n# EOF",
		"# c\n{}0\n",
	} {
		f.Add([]byte(s), uint8(protocol.ExpositionText))
		f.Add([]byte(s), uint8(protocol.ExpositionOpenMetrics))
	}
	f.Fuzz(func(t *testing.T, body []byte, format uint8) {
		ef := protocol.ExpositionFormat(format % 3)
		pts, st, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{Format: ef, Now: expoNow, MaxLabels: 64})
		if err != nil {
			assert.Empty(t, pts)
			var de *protocol.DecodeError
			require.ErrorAs(t, err, &de)
			assert.NotEmpty(t, err.Error())
			if ef == protocol.ExpositionProtobuf {
				assert.Zero(t, de.Line)
				assert.GreaterOrEqual(t, de.Element, 0)
			} else {
				assert.GreaterOrEqual(t, de.Line, 1)
				assert.GreaterOrEqual(t, de.Column, 1)
				assert.Equal(t, -1, de.Element)
				assert.LessOrEqual(t, de.Line, bytes.Count(body, []byte{'\n'})+2)
			}
			return
		}
		fields := 0
		for _, p := range pts {
			assert.NotEmpty(t, p.Name)
			require.NotEmpty(t, p.Fields)
			assert.LessOrEqual(t, len(p.Fields), 2)
			fields += len(p.Fields)
			assert.LessOrEqual(t, len(p.Tags), 64+1)
			for _, tag := range p.Tags {
				assert.NotEmpty(t, tag.Key)
			}
			assert.False(t, p.Time.IsZero())
		}
		assert.LessOrEqual(t, fields, st.Samples, "a sample is at most one field")
		assert.LessOrEqual(t, st.Families, st.Samples+bytes.Count(body, []byte{'\n'})+1)
	})
}

// FuzzDecodeExpositionTextProto: the same metric families, written as
// text by prometheus/common and as delimited protobuf, decode to the
// same points in the same order. The families are built from the fuzzed
// bytes and hold what both formats can say (no created timestamps, no
// native histograms).
func FuzzDecodeExpositionTextProto(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte("families with labels, values, quantiles and buckets"))
	f.Add(bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, 8))
	f.Fuzz(func(t *testing.T, data []byte) {
		fams := familiesFrom(data)
		var text bytes.Buffer
		for _, mf := range fams {
			if _, err := expfmt.MetricFamilyToText(&text, mf); err != nil {
				t.Skip(err)
			}
		}
		pb := delimitedFamilies(t, fams...)
		pp, ps, err := protocol.DecodeExposition(nil, pb, protocol.ExpositionOptions{Format: protocol.ExpositionProtobuf, Now: expoNow})
		require.NoError(t, err)
		tp, ts, err := protocol.DecodeExposition(nil, text.Bytes(), protocol.ExpositionOptions{Now: expoNow})
		require.NoError(t, err, "%s", text.String())
		assertExpoPoints(t, pp, tp)
		assert.Equal(t, ps, ts)
	})
}

// familiesFrom builds metric families from bytes, each byte a choice.
func familiesFrom(data []byte) []*dto.MetricFamily {
	next := func() int {
		if len(data) == 0 {
			return 0
		}
		c := int(data[0])
		data = data[1:]
		return c
	}
	pick := func(s ...string) string { return s[next()%len(s)] }
	str := func(s string) *string { return &s }
	values := []float64{0, 1, -2.5, 1e-06, 1.234567890123e12, math.NaN(), math.Inf(1), math.Inf(-1), 0.1, 3}
	val := func() *float64 { v := values[next()%len(values)]; return &v }
	u64 := func() *uint64 { v := uint64(next()); return &v }
	types := []dto.MetricType{dto.MetricType_COUNTER, dto.MetricType_GAUGE, dto.MetricType_SUMMARY, dto.MetricType_UNTYPED, dto.MetricType_HISTOGRAM}
	var fams []*dto.MetricFamily
	for i := range next()%4 + 1 {
		typ := types[next()%len(types)]
		name := pick("fa", "fb_total", "fc.dotted", "fd:colon", "fé") + strings.Repeat("x", i)
		mf := &dto.MetricFamily{Name: str(name), Type: typ.Enum(), Help: str(pick("", "help", "a \\ b\nc \"q\""))}
		for j := range next()%3 + 1 {
			m := &dto.Metric{Label: []*dto.LabelPair{{Name: str("i"), Value: str(strings.Repeat("i", j))}}}
			for _, k := range []string{"a", "b.c", "d"} {
				if next()%2 == 1 {
					m.Label = append(m.Label, &dto.LabelPair{Name: str(k), Value: str(pick("x", "", "\"q\"", "back\\slash", "new\nline", "é", "}{,="))})
				}
			}
			if next()%4 == 0 {
				ms := int64(next()) * 1_000_003
				m.TimestampMs = &ms
			}
			switch typ {
			case dto.MetricType_COUNTER:
				m.Counter = &dto.Counter{Value: val()}
			case dto.MetricType_GAUGE:
				m.Gauge = &dto.Gauge{Value: val()}
			case dto.MetricType_UNTYPED:
				m.Untyped = &dto.Untyped{Value: val()}
			case dto.MetricType_SUMMARY:
				s := &dto.Summary{SampleCount: u64(), SampleSum: val()}
				for _, q := range []float64{0.5, 0.9, 0.99} {
					if next()%2 == 1 {
						s.Quantile = append(s.Quantile, &dto.Quantile{Quantile: &q, Value: val()})
					}
				}
				m.Summary = s
			case dto.MetricType_HISTOGRAM:
				h := &dto.Histogram{SampleCount: u64(), SampleSum: val()}
				c := uint64(0)
				for _, ub := range []float64{0.1, 1, 2.5, 10, math.Inf(1)} {
					if next()%2 == 1 {
						c += uint64(next() % 4)
						cum := c
						h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: &ub, CumulativeCount: &cum})
					}
				}
				m.Histogram = h
			}
			mf.Metric = append(mf.Metric, m)
		}
		fams = append(fams, mf)
	}
	return fams
}

// FuzzDecodeExpositionExpfmt: a text body that prometheus/common's parser
// reads decodes here too, to the same samples, but for what this package
// documents differently: prometheus/common makes a counter's or
// histogram's <name>_total or <name>_created an untyped family of its own
// where this package keeps it in the family (as OpenMetrics does), and it
// drops a summary sample without quantile and a histogram sample without
// a suffix, which this package rejects. Gauge histograms, which
// prometheus/common reads as histograms with _sum and _count, are left
// out. prometheus/common also wants a final newline; one is added.
func FuzzDecodeExpositionExpfmt(f *testing.F) {
	f.Add(readExpoFile(f, "python_client.txt"))
	f.Add(readExpoFile(f, "node_exporter.txt"))
	for _, s := range []string{
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
		"# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_sum{a=\"1\"} 1\ns_count 2\n",
		"{\"a.b\", \"c.d\"=\"e\\\"\\n\"} NaN 1717243200000\n",
		"# TYPE foo counter\nfoo_total 1\nfoo_created 2\n",
		"# TYPE c_created gauge\nc_created 1\n# TYPE c_total counter\nc_total 2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 0 && body[len(body)-1] != '\n' {
			body = append(body, '\n')
		}
		var m map[string]*dto.MetricFamily
		ok := func() (ok bool) {
			defer func() {
				if recover() != nil {
					ok = false // prometheus/common panics on some bodies
				}
			}()
			p := expfmt.NewTextParser(model.UTF8Validation)
			var err error
			m, err = p.TextToMetricFamilies(bytes.NewReader(body))
			return err == nil
		}()
		if !ok {
			return
		}
		pts, st, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{Now: expoNow})
		if err != nil && (strings.Contains(err.Error(), "has no quantile label") || strings.Contains(err.Error(), "does not fit its")) {
			return
		}
		require.NoError(t, err, "prometheus/common reads %q", body)
		fams := make([]*dto.MetricFamily, 0, len(m))
		for _, mf := range m {
			if mf.GetType() == dto.MetricType_GAUGE_HISTOGRAM {
				return
			}
			fams = append(fams, mf)
		}
		// The declared types, also of families without samples (which
		// prometheus/common leaves out).
		declared := map[string]string{}
		for _, line := range strings.Split(string(body), "\n") {
			if w := strings.Fields(line); len(w) == 4 && w[0] == "#" && w[1] == "TYPE" {
				declared[w[2]] = strings.ToLower(w[3])
			}
		}
		for _, mf := range fams {
			if mf.GetType() != dto.MetricType_UNTYPED {
				continue
			}
			for _, s := range []string{"_total", "_created"} {
				base, cut := strings.CutSuffix(mf.GetName(), s)
				if owner := declared[base]; cut && (owner == "counter" || owner == "summary" || owner == "histogram") {
					if s == "_total" && owner != "counter" {
						continue
					}
					if s == "_total" {
						mf.Type = dto.MetricType_COUNTER.Enum()
					} else {
						mf.Type = dto.MetricType_GAUGE.Enum()
					}
					for _, x := range mf.Metric {
						v := x.GetUntyped().GetValue()
						x.Untyped = nil
						if s == "_total" {
							x.Counter = &dto.Counter{Value: &v}
						} else {
							x.Gauge = &dto.Gauge{Value: &v}
						}
					}
				}
			}
		}
		want := familySamples(fams, false)
		assert.Equal(t, want, pointSamples(pts, false), "%q", body)
		assert.Equal(t, len(want), st.Samples)
	})
}
