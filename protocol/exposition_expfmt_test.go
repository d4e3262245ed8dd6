package protocol_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protodelim"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/collectkit/collectkit/internal/testkit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// The decoder against prometheus/common's expfmt on real bodies: what
// node_exporter and a prometheus_client program serve. Every sample expfmt
// reads must be in our points exactly once, and our points must hold
// nothing else. Samples are compared, not points: a summary's or
// histogram's _sum and _count are two samples and one point with two
// fields.

// expoSample is one sample as a point carries it: measurement, sorted
// tags, field key and value.
type expoSample struct {
	name, tags, key, value string
}

func (s expoSample) String() string { return s.name + "{" + s.tags + "} " + s.key + "=" + s.value }

func sampleTags(tags []point.Tag) string {
	kv := make([]string, len(tags))
	for i, t := range tags {
		kv[i] = t.Key + "=" + strconv.Quote(t.Value)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func fmtValue(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// pointSamples lists every field of pts as a sample, sorted.
func pointSamples(pts []point.Point, skipCreated bool) []string {
	var out []string
	for _, p := range pts {
		for _, f := range p.Fields {
			if skipCreated && f.Key == "created" {
				continue
			}
			out = append(out, expoSample{p.Name, sampleTags(p.Tags), f.Key, fmtValue(f.Value.Float())}.String())
		}
	}
	sort.Strings(out)
	return out
}

// familySamples lists what expfmt read, as this package documents the
// mapping, independently of its code: counters lose _total, a gauge
// <base>_created next to a typed <base> is "created", a histogram without
// a +Inf bucket gets one (in protobuf, where the text format adds it), le
// and quantile are in shortest form, and a sum or count is there if the
// body had it.
func familySamples(fams []*dto.MetricFamily, fromProto bool) []string {
	bases := map[string]bool{}
	for _, mf := range fams {
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			bases[strings.TrimSuffix(mf.GetName(), "_total")] = true
		case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			bases[mf.GetName()] = true
		}
	}
	var out []string
	for _, mf := range fams {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			var tags []point.Tag
			for _, l := range m.GetLabel() {
				if l.GetValue() == "" {
					continue // absent, as Prometheus treats it; expfmt keeps it
				}
				tags = append(tags, point.Tag{Key: l.GetName(), Value: l.GetValue()})
			}
			add := func(meas, key string, v float64, extra ...point.Tag) {
				out = append(out, expoSample{meas, sampleTags(append(slices.Clip(tags), extra...)), key, fmtValue(v)}.String())
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(strings.TrimSuffix(name, "_total"), "total", m.GetCounter().GetValue())
			case dto.MetricType_GAUGE:
				if base, ok := strings.CutSuffix(name, "_created"); ok && bases[base] {
					add(base, "created", m.GetGauge().GetValue())
				} else {
					add(name, "value", m.GetGauge().GetValue())
				}
			case dto.MetricType_UNTYPED:
				add(name, "value", m.GetUntyped().GetValue())
			case dto.MetricType_SUMMARY:
				for _, q := range m.GetSummary().GetQuantile() {
					add(name, "value", q.GetValue(), point.Tag{Key: "quantile", Value: fmtValue(q.GetQuantile())})
				}
				if s := m.GetSummary(); fromProto || s.SampleSum != nil {
					add(name, "sum", s.GetSampleSum())
				}
				if s := m.GetSummary(); fromProto || s.SampleCount != nil {
					add(name, "count", float64(s.GetSampleCount()))
				}
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				inf := false
				for _, b := range h.GetBucket() {
					add(name, "bucket", float64(b.GetCumulativeCount()), point.Tag{Key: "le", Value: fmtValue(b.GetUpperBound())})
					inf = inf || math.IsInf(b.GetUpperBound(), 1)
				}
				if !inf && fromProto {
					add(name, "bucket", float64(h.GetSampleCount()), point.Tag{Key: "le", Value: "+Inf"})
				}
				if fromProto || h.SampleSum != nil {
					add(name, "sum", h.GetSampleSum())
				}
				if fromProto || h.SampleCount != nil {
					add(name, "count", float64(h.GetSampleCount()))
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

func expfmtText(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	m, err := p.TextToMetricFamilies(bytes.NewReader(body))
	require.NoError(t, err)
	fams := make([]*dto.MetricFamily, 0, len(m))
	for _, mf := range m {
		fams = append(fams, mf)
	}
	return fams
}

func expfmtProto(t *testing.T, body []byte) []*dto.MetricFamily {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
	var fams []*dto.MetricFamily
	for {
		mf := new(dto.MetricFamily)
		if err := dec.Decode(mf); errors.Is(err, io.EOF) {
			return fams
		} else {
			require.NoError(t, err)
		}
		fams = append(fams, mf)
	}
}

func decodeExpo(t *testing.T, body []byte, f protocol.ExpositionFormat) ([]point.Point, protocol.ExpositionStats) {
	t.Helper()
	pts, st, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{Format: f, Now: expoNow})
	require.NoError(t, err)
	return pts, st
}

// checkAgainstExpfmt asserts that pts hold exactly the samples of fams.
func checkAgainstExpfmt(t *testing.T, fams []*dto.MetricFamily, fromProto bool, pts []point.Point, st protocol.ExpositionStats) {
	t.Helper()
	want := familySamples(fams, fromProto)
	require.NotEmpty(t, want)
	assert.Equal(t, want, pointSamples(pts, false))
	assert.Equal(t, len(want), st.Samples)
	t.Logf("%d families, %d samples, %d points", len(fams), len(want), len(pts))
}

func readExpoFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/exposition/" + name)
	require.NoError(t, err)
	return b
}

func TestDecodeExpositionNodeExporterBody(t *testing.T) {
	body := readExpoFile(t, "node_exporter.txt")
	pts, st := decodeExpo(t, body, protocol.ExpositionText)
	checkAgainstExpfmt(t, expfmtText(t, body), false, pts, st)
	pb := readExpoFile(t, "node_exporter.pb")
	pts, st = decodeExpo(t, pb, protocol.ExpositionProtobuf)
	checkAgainstExpfmt(t, expfmtProto(t, pb), true, pts, st)
}

func TestDecodeExpositionPythonClientBody(t *testing.T) {
	body := readExpoFile(t, "python_client.txt")
	pts, st := decodeExpo(t, body, protocol.ExpositionText)
	checkAgainstExpfmt(t, expfmtText(t, body), false, pts, st)
	checkOpenMetricsLikeText(t, body, readExpoFile(t, "python_client.om.txt"))
}

// checkOpenMetricsLikeText: prometheus/common reads no OpenMetrics, so an
// OpenMetrics body is checked against the text body of the same registry:
// the same samples but for what the formats say differently (created
// values, which are taken at each output; info, whose text form is a
// gauge <name>_info; gauge histograms, whose text form is a histogram and
// _gsum and _gcount gauges).
func checkOpenMetricsLikeText(t *testing.T, text, om []byte) {
	t.Helper()
	tp, _ := decodeExpo(t, text, protocol.ExpositionText)
	op, _ := decodeExpo(t, om, protocol.ExpositionOpenMetrics)
	want := pointSamples(tp, true)
	for i, s := range want {
		switch {
		case strings.HasPrefix(s, "build_info{"):
			want[i] = strings.Replace(strings.Replace(s, "build_info{", "build{", 1), " value=", " info=", 1)
		case strings.HasPrefix(s, "queue_wait_gsum{"):
			want[i] = strings.Replace(strings.Replace(s, "queue_wait_gsum{", "queue_wait{", 1), " value=", " gsum=", 1)
		case strings.HasPrefix(s, "queue_wait_gcount{"):
			want[i] = strings.Replace(strings.Replace(s, "queue_wait_gcount{", "queue_wait{", 1), " value=", " gcount=", 1)
		}
	}
	sort.Strings(want)
	assert.Equal(t, want, pointSamples(op, true))
	// The created samples are there too, one per created sample of text.
	count := func(pts []point.Point) (n int) {
		for _, p := range pts {
			for _, f := range p.Fields {
				if f.Key == "created" {
					n++
				}
			}
		}
		return n
	}
	assert.Equal(t, count(tp), count(op))
	assert.Positive(t, count(op))
}

// TestDecodeExpositionTextEqualsProtobuf: node_exporter's protobuf body,
// written as text and as OpenMetrics by expfmt, decodes to the same points
// in the same order in all three formats.
func TestDecodeExpositionTextEqualsProtobuf(t *testing.T) {
	pb := readExpoFile(t, "node_exporter.pb")
	fams := expfmtProto(t, pb)
	var text bytes.Buffer
	for _, mf := range fams {
		_, err := expfmt.MetricFamilyToText(&text, mf)
		require.NoError(t, err)
	}
	pp, ps := decodeExpo(t, pb, protocol.ExpositionProtobuf)
	tp, tst := decodeExpo(t, text.Bytes(), protocol.ExpositionText)
	assertExpoPoints(t, pp, tp)
	assert.Equal(t, ps, tst)

	// node_exporter 1.5 serves no OpenMetrics (it answers text to an
	// OpenMetrics Accept): its families written as OpenMetrics by
	// expfmt decode to the same points too.
	var om bytes.Buffer
	for _, mf := range fams {
		_, err := expfmt.MetricFamilyToOpenMetrics(&om, mf)
		require.NoError(t, err)
	}
	_, err := expfmt.FinalizeOpenMetrics(&om)
	require.NoError(t, err)
	op, ost := decodeExpo(t, om.Bytes(), protocol.ExpositionOpenMetrics)
	assertExpoPoints(t, pp, op)
	assert.Equal(t, ps.Samples, ost.Samples)
}

// TestDecodeExpositionNodeExporterLive scrapes a node_exporter the test
// starts on a free loopback port, as text and as protobuf.
func TestDecodeExpositionNodeExporterLive(t *testing.T) {
	const exe = "/usr/bin/prometheus-node-exporter"
	testkit.Program(t, exe)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "--web.listen-address="+addr)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	defer func() {
		cancel()
		_ = cmd.Wait()
	}()
	get := func(accept string) ([]byte, string) {
		var last error
		for range 100 {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
			req.Header.Set("Accept", accept)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				b, err := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				return b, resp.Header.Get("Content-Type")
			}
			last = err
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("node_exporter did not answer: %v\n%s", last, stderr.String())
		return nil, ""
	}
	body, ct := get("text/plain")
	require.Equal(t, protocol.ExpositionText, protocol.ExpositionFormatOf(ct))
	pts, st := decodeExpo(t, body, protocol.ExpositionText)
	checkAgainstExpfmt(t, expfmtText(t, body), false, pts, st)

	body, ct = get("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited")
	require.Equal(t, protocol.ExpositionProtobuf, protocol.ExpositionFormatOf(ct), ct)
	pts, st = decodeExpo(t, body, protocol.ExpositionProtobuf)
	checkAgainstExpfmt(t, expfmtProto(t, body), true, pts, st)
}

// TestDecodeExpositionPythonClientLive runs the prometheus_client program
// of testdata in both formats.
func TestDecodeExpositionPythonClientLive(t *testing.T) {
	python := testkit.Python(t, "prometheus_client")
	run := func(format string) []byte {
		cmd := exec.CommandContext(t.Context(), python, "testdata/exposition/python_client.py", format)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		require.NoError(t, err, "%s", stderr.String())
		return out
	}
	text := run("text")
	pts, st := decodeExpo(t, text, protocol.ExpositionText)
	checkAgainstExpfmt(t, expfmtText(t, text), false, pts, st)
	checkOpenMetricsLikeText(t, text, run("openmetrics"))
}

// TestDecodeExpositionProtobuf maps each protobuf type, including what
// the text format cannot carry (created timestamps, float counts, gauge
// histograms), and rejects bad length prefixes before decoding.
func TestDecodeExpositionProtobuf(t *testing.T) {
	f64 := func(v float64) *float64 { return &v }
	u64 := func(v uint64) *uint64 { return &v }
	str := func(s string) *string { return &s }
	lbl := []*dto.LabelPair{{Name: str("a"), Value: str("x")}}
	created := timestamppb.New(time.Unix(1700000000, 500_000_000))
	ms := int64(1717243200500)
	fams := []*dto.MetricFamily{
		{Name: str("c_total"), Type: dto.MetricType_COUNTER.Enum(), Metric: []*dto.Metric{{Label: lbl, Counter: &dto.Counter{Value: f64(3), CreatedTimestamp: created}}}},
		{Name: str("g"), Type: dto.MetricType_GAUGE.Enum(), Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: f64(1.5)}, TimestampMs: &ms}}},
		{Name: str("u"), Type: dto.MetricType_UNTYPED.Enum(), Metric: []*dto.Metric{{Untyped: &dto.Untyped{Value: f64(2)}}}},
		{Name: str("s"), Type: dto.MetricType_SUMMARY.Enum(), Metric: []*dto.Metric{{Summary: &dto.Summary{SampleCount: u64(4), SampleSum: f64(10),
			Quantile: []*dto.Quantile{{Quantile: f64(0.5), Value: f64(2)}}}}}},
		{Name: str("h"), Type: dto.MetricType_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{SampleCount: u64(3), SampleSum: f64(6),
			Bucket: []*dto.Bucket{{UpperBound: f64(1), CumulativeCount: u64(1)}, {UpperBound: f64(2.5), CumulativeCountFloat: f64(2.5)}}}}}},
		{Name: str("gh"), Type: dto.MetricType_GAUGE_HISTOGRAM.Enum(), Metric: []*dto.Metric{{Histogram: &dto.Histogram{SampleCountFloat: f64(5), SampleSum: f64(12.5),
			Bucket: []*dto.Bucket{{UpperBound: f64(math.Inf(1)), CumulativeCount: u64(5)}}}}}},
	}
	body := delimitedFamilies(t, fams...)
	pts, st, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{Format: protocol.ExpositionProtobuf, Now: expoNow, Tags: []point.Tag{{Key: "job", Value: "j"}}})
	require.NoError(t, err)
	assertExpoPoints(t, []point.Point{
		ep("c", tg("a", "x", "job", "j"), "total", 3.0),
		ep("c", tg("a", "x", "job", "j"), "created", 1700000000.5),
		at(ep("g", tg("job", "j"), "value", 1.5), time.UnixMilli(ms)),
		ep("u", tg("job", "j"), "value", 2.0),
		ep("s", tg("job", "j", "quantile", "0.5"), "value", 2.0),
		ep("s", tg("job", "j"), "sum", 10.0, "count", 4.0),
		ep("h", tg("job", "j", "le", "1"), "bucket", 1.0),
		ep("h", tg("job", "j", "le", "2.5"), "bucket", 2.5),
		ep("h", tg("job", "j", "le", "+Inf"), "bucket", 3.0),
		ep("h", tg("job", "j"), "sum", 6.0, "count", 3.0),
		ep("gh", tg("job", "j", "le", "+Inf"), "bucket", 5.0),
		ep("gh", tg("job", "j"), "gsum", 12.5, "gcount", 5.0),
	}, pts)
	assert.Equal(t, protocol.ExpositionStats{Samples: 15, Families: 6}, st)

	// A family again: of the same type it goes on, of another it starts anew.
	again := delimitedFamilies(t, fams[1], fams[1], &dto.MetricFamily{Name: str("g"), Type: dto.MetricType_COUNTER.Enum(),
		Metric: []*dto.Metric{{Counter: &dto.Counter{Value: f64(9)}}}})
	pts, st, err = protocol.DecodeExposition(nil, again, protocol.ExpositionOptions{Format: protocol.ExpositionProtobuf, Now: expoNow})
	require.NoError(t, err)
	assertExpoPoints(t, []point.Point{at(ep("g", nil, "value", 1.5), time.UnixMilli(ms)), at(ep("g", nil, "value", 1.5), time.UnixMilli(ms)), ep("g", nil, "total", 9.0)}, pts)
	assert.Equal(t, protocol.ExpositionStats{Samples: 3, Families: 2}, st)

	bad := []struct {
		name string
		body []byte
		opts protocol.ExpositionOptions
		elem int
		is   error
		msg  string
	}{
		{"length beyond the body", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x0a, 0x01, 0x61}, protocol.ExpositionOptions{}, 0, protocol.ErrSyntax, "declares 140737488355328 bytes but only 3 remain"},
		{"varint overflow", bytes.Repeat([]byte{0xff}, 11), protocol.ExpositionOptions{}, 0, protocol.ErrSyntax, "bad varint length prefix at byte 0"},
		{"truncated varint", []byte{0x03, 0x0a, 0x01, 'a', 0x80}, protocol.ExpositionOptions{}, 1, protocol.ErrSyntax, "bad varint length prefix at byte 4"},
		{"not a message", []byte{0x02, 0xff, 0xff}, protocol.ExpositionOptions{}, 0, protocol.ErrSyntax, "message at byte 0"},
		{"no name", delimitedFamilies(t, &dto.MetricFamily{Type: dto.MetricType_GAUGE.Enum()}), protocol.ExpositionOptions{}, 0, protocol.ErrInvalidName, "invalid metric family name"},
		{"timestamp rejected", delimitedFamilies(t, fams[1]), protocol.ExpositionOptions{RejectTimestamps: true}, 0, protocol.ErrSampleTimestamp, "timestamp"},
		{"too many samples", body, protocol.ExpositionOptions{MaxSamples: 10}, 4, protocol.ErrTooManyPoints, "more than 10 samples"},
		{"too many labels", body, protocol.ExpositionOptions{MaxLabels: -1 + 1}, -2, nil, ""},
		{"labels too long", delimitedFamilies(t, fams[0]), protocol.ExpositionOptions{MaxLabelBytes: 1}, 0, protocol.ErrLabelsTooLong, "2 bytes of labels"},
		{"label not UTF-8", delimitedFamilies(t, &dto.MetricFamily{Name: str("g"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: str("a"), Value: str("\xff")}}, Gauge: &dto.Gauge{Value: f64(1)}}}}), protocol.ExpositionOptions{}, 0, protocol.ErrInvalidUTF8, "not valid UTF-8"},
		{"duplicate label", delimitedFamilies(t, &dto.MetricFamily{Name: str("g"), Type: dto.MetricType_GAUGE.Enum(),
			Metric: []*dto.Metric{{Label: []*dto.LabelPair{{Name: str("a"), Value: str("1")}, {Name: str("a"), Value: str("2")}}, Gauge: &dto.Gauge{Value: f64(1)}}}}), protocol.ExpositionOptions{}, 0, protocol.ErrSyntax, "duplicate label"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Format = protocol.ExpositionProtobuf
			pts, _, err := protocol.DecodeExposition(nil, tt.body, opts)
			if tt.elem == -2 {
				require.NoError(t, err, "zero limits are no limits")
				return
			}
			require.Error(t, err)
			assert.Empty(t, pts)
			var de *protocol.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.elem, de.Element, "%v", err)
			assert.Zero(t, de.Line)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.msg)
		})
	}
}

func delimitedFamilies(t testing.TB, fams ...*dto.MetricFamily) []byte {
	t.Helper()
	var b bytes.Buffer
	for _, mf := range fams {
		_, err := protodelim.MarshalTo(&b, mf)
		require.NoError(t, err)
	}
	return b.Bytes()
}
