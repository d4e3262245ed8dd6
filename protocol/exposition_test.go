package protocol_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

var expoNow = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// ep builds an expected point; tags and fields alternate key and value.
func ep(name string, tags []string, fields ...any) point.Point {
	p := point.Point{Name: name, Time: expoNow}
	for i := 0; i+1 < len(tags); i += 2 {
		p.Tags = append(p.Tags, point.Tag{Key: tags[i], Value: tags[i+1]})
	}
	for i := 0; i+1 < len(fields); i += 2 {
		p.Fields = append(p.Fields, point.Field{Key: fields[i].(string), Value: point.FloatValue(fields[i+1].(float64))})
	}
	return p
}

func at(p point.Point, t time.Time) point.Point { p.Time = t; return p }

func tg(kv ...string) []string { return kv }

// assertExpoPoints compares points with NaN equal to NaN.
func assertExpoPoints(t *testing.T, want, got []point.Point) {
	t.Helper()
	if !assert.Len(t, got, len(want)) {
		for _, p := range got {
			t.Logf("got %v", p)
		}
		return
	}
	for i := range want {
		w, g := want[i], got[i]
		assert.Equal(t, w.Name, g.Name, "point %d", i)
		assert.Equal(t, w.Tags, g.Tags, "point %d (%s)", i, w.Name)
		assert.True(t, w.Time.Equal(g.Time), "point %d (%s): time %v, want %v", i, w.Name, g.Time, w.Time)
		if assert.Len(t, g.Fields, len(w.Fields), "point %d (%s)", i, w.Name) {
			for j := range w.Fields {
				assert.Equal(t, w.Fields[j].Key, g.Fields[j].Key, "point %d (%s)", i, w.Name)
				wv, gv := w.Fields[j].Value.Float(), g.Fields[j].Value.Float()
				assert.True(t, wv == gv || math.IsNaN(wv) && math.IsNaN(gv), "point %d (%s) field %s: %v, want %v", i, w.Name, w.Fields[j].Key, gv, wv)
			}
		}
	}
}

func TestDecodeExpositionMapping(t *testing.T) {
	ts := time.UnixMilli(1717243200500).UTC()
	tests := []struct {
		name    string
		format  protocol.ExpositionFormat
		body    string
		opts    protocol.ExpositionOptions
		want    []point.Point
		samples int
	}{
		{name: "gauge and untyped", body: "# HELP g A gauge.\n# TYPE g gauge\ng{a=\"1\"} 2.5\nu 3\n# TYPE v untyped\nv -1e-06\n",
			want: []point.Point{ep("g", tg("a", "1"), "value", 2.5), ep("u", nil, "value", 3.0), ep("v", nil, "value", -1e-06)}, samples: 3},
		{name: "special values", body: "a NaN\nb +Inf\nc -Inf\nd 1.234567890123e+012\ne Inf\n",
			want: []point.Point{ep("a", nil, "value", math.NaN()), ep("b", nil, "value", math.Inf(1)), ep("c", nil, "value", math.Inf(-1)),
				ep("d", nil, "value", 1.234567890123e12), ep("e", nil, "value", math.Inf(1))}, samples: 5},
		{name: "counter with created family after it", body: "# TYPE c_total counter\nc_total{m=\"GET\"} 7\n# TYPE c_created gauge\nc_created{m=\"GET\"} 1.7e9\n",
			want: []point.Point{ep("c", tg("m", "GET"), "total", 7.0), ep("c", tg("m", "GET"), "created", 1.7e9)}, samples: 2},
		{name: "created family before its counter", body: "# TYPE c_created gauge\nc_created 5\n# TYPE c_total counter\nc_total 7\n",
			want: []point.Point{ep("c", nil, "created", 5.0), ep("c", nil, "total", 7.0)}, samples: 2},
		{name: "a _created gauge without a base stays a gauge", body: "# TYPE x_created gauge\nx_created 5\n",
			want: []point.Point{ep("x_created", nil, "value", 5.0)}, samples: 1},
		{name: "empty label values are absent", body: "g{a=\"\",b=\"x\",job=\"\"} 1\n",
			opts: protocol.ExpositionOptions{Tags: []point.Tag{{Key: "job", Value: "j"}}},
			want: []point.Point{ep("g", tg("b", "x", "job", "j"), "value", 1.0)}, samples: 1},
		{name: "counter without _total", body: "# TYPE reqs counter\nreqs 4\n",
			want: []point.Point{ep("reqs", nil, "total", 4.0)}, samples: 1},
		{name: "summary", body: "# TYPE s summary\ns{quantile=\"0.5\",a=\"x\"} 1\ns{a=\"x\",quantile=\"0.99\"} 2\ns_count{a=\"x\"} 3\ns_sum{a=\"x\"} 4.5\n",
			want: []point.Point{ep("s", tg("a", "x", "quantile", "0.5"), "value", 1.0), ep("s", tg("a", "x", "quantile", "0.99"), "value", 2.0),
				ep("s", tg("a", "x"), "sum", 4.5, "count", 3.0)}, samples: 4},
		{name: "histogram with le in shortest form", body: "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\nh_bucket{le=\"2.50\"} 2\nh_bucket{le=\"+Inf\"} 3\nh_sum 7\nh_count 3\n",
			want: []point.Point{ep("h", tg("le", "1"), "bucket", 1.0), ep("h", tg("le", "2.5"), "bucket", 2.0), ep("h", tg("le", "+Inf"), "bucket", 3.0),
				ep("h", nil, "sum", 7.0, "count", 3.0)}, samples: 5},
		{name: "sum and count of interleaved series", body: "# TYPE h histogram\nh_sum{a=\"1\"} 1\nh_sum{a=\"2\"} 2\nh_count{a=\"2\"} 20\nh_count{a=\"1\"} 10\n",
			want: []point.Point{ep("h", tg("a", "1"), "sum", 1.0, "count", 10.0), ep("h", tg("a", "2"), "sum", 2.0, "count", 20.0)}, samples: 4},
		{name: "label escapes and quoted UTF-8 names", body: "{\"my.metric\", \"my.label\"=\"a\\\"b\\\\c\\nd\"} 1\n\"other.metric\"{x=\"\"} 2\nx{a=\"1\",} 3\n",
			want: []point.Point{ep("my.metric", tg("my.label", "a\"b\\c\nd"), "value", 1.0), ep("other.metric", nil, "value", 2.0), ep("x", tg("a", "1"), "value", 3.0)}, samples: 3},
		{name: "timestamp in milliseconds", body: "g 1 1717243200500\n",
			want: []point.Point{at(ep("g", nil, "value", 1.0), ts)}, samples: 1},
		{name: "blanks, tabs and comments", body: "\n  # a comment\n\t# TYPE\ng\t{a=\"b\"}\t1  \n\n",
			want: []point.Point{ep("g", tg("a", "b"), "value", 1.0)}, samples: 1},
		{name: "samples of a family after another family", body: "# TYPE c counter\nc_total{a=\"1\"} 1\n# TYPE g gauge\ng 2\nc_total{a=\"2\"} 3\n",
			want: []point.Point{ep("c", tg("a", "1"), "total", 1.0), ep("g", nil, "value", 2.0), ep("c", tg("a", "2"), "total", 3.0)}, samples: 3},
		{name: "a family declared again starts anew", body: "# HELP x a gauge\n# TYPE x gauge\nx 1\n# HELP x a counter\n# TYPE x counter\nx_total 2\n# TYPE g gauge\n# TYPE g counter\ng_total 3\n",
			want: []point.Point{ep("x", nil, "value", 1.0), ep("x", nil, "total", 2.0), ep("g", nil, "total", 3.0)}, samples: 3},
		{name: "TYPE after the samples", body: "c_total 1\n# TYPE c_total counter\nc_total 2\n# HELP c_total again\n",
			want: []point.Point{ep("c_total", nil, "value", 1.0), ep("c", nil, "total", 2.0)}, samples: 2},
		{name: "# EOF is a comment in text 0.0.4", body: "g 1\n# EOF\ng2 2\n",
			want: []point.Point{ep("g", nil, "value", 1.0), ep("g2", nil, "value", 2.0)}, samples: 2},
		{name: "OpenMetrics counter, created and exemplar", format: protocol.ExpositionOpenMetrics,
			body: "# HELP c Requests.\n# TYPE c counter\nc_total{a=\"1\"} 2.0 # {trace_id=\"abc\"} 1.0 1717243200.5\nc_created{a=\"1\"} 1.7e9\n# EOF\n",
			want: []point.Point{ep("c", tg("a", "1"), "total", 2.0), ep("c", tg("a", "1"), "created", 1.7e9)}, samples: 2},
		{name: "OpenMetrics info, stateset, unit, gaugehistogram", format: protocol.ExpositionOpenMetrics,
			body: "# TYPE build info\nbuild_info{version=\"1.2\"} 1\n# TYPE st stateset\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n" +
				"# TYPE t_celsius gauge\n# UNIT t_celsius celsius\nt_celsius 21.5\n" +
				"# TYPE q gaugehistogram\nq_bucket{le=\"0.5\"} 3\nq_bucket{le=\"+Inf\"} 5\nq_gcount 5\nq_gsum 12.5\n# EOF",
			want: []point.Point{ep("build", tg("version", "1.2"), "info", 1.0), ep("st", tg("st", "a"), "value", 1.0), ep("st", tg("st", "b"), "value", 0.0),
				ep("t_celsius", nil, "value", 21.5), ep("q", tg("le", "0.5"), "bucket", 3.0), ep("q", tg("le", "+Inf"), "bucket", 5.0),
				ep("q", nil, "gsum", 12.5, "gcount", 5.0)}, samples: 8},
		{name: "OpenMetrics timestamp in seconds", format: protocol.ExpositionOpenMetrics, body: "g 1 1717243200.5\n# EOF\n",
			want: []point.Point{at(ep("g", nil, "value", 1.0), ts)}, samples: 1},
		{name: "tags after labels, a label wins", body: "g{job=\"mine\",a=\"1\"} 1\nh 2\n",
			opts: protocol.ExpositionOptions{Tags: []point.Tag{{Key: "job", Value: "scrape"}, {Key: "instance", Value: "i"}}},
			want: []point.Point{ep("g", tg("job", "mine", "a", "1", "instance", "i"), "value", 1.0), ep("h", tg("job", "scrape", "instance", "i"), "value", 2.0)}, samples: 2},
		{name: "tags override labels", body: "# TYPE h histogram\nh_bucket{a=\"1\",job=\"mine\",le=\"1\",z=\"2\"} 1\nh_count{job=\"mine\"} 1\n",
			opts: protocol.ExpositionOptions{TagsOverride: true, Tags: []point.Tag{{Key: "job", Value: "push"}, {Key: "i", Value: "x"}}},
			want: []point.Point{ep("h", tg("a", "1", "z", "2", "job", "push", "i", "x", "le", "1"), "bucket", 1.0), ep("h", tg("job", "push", "i", "x"), "count", 1.0)}, samples: 2},
		{name: "many tags override labels", body: "g{t3=\"mine\",z=\"1\"} 1\n",
			opts: protocol.ExpositionOptions{TagsOverride: true, Tags: manyTags(10)},
			want: []point.Point{ep("g", append(tg("z", "1"), withoutTag(manyTags(10), "")...), "value", 1.0)}, samples: 1},
		{name: "many tags", body: "g{t3=\"mine\",z=\"1\"} 1\n",
			opts: protocol.ExpositionOptions{Tags: manyTags(10)},
			want: []point.Point{ep("g", append(tg("t3", "mine", "z", "1"), withoutTag(manyTags(10), "t3")...), "value", 1.0)}, samples: 1},
		{name: "empty body", body: "", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Format, opts.Now = tt.format, expoNow
			pts, st, err := protocol.DecodeExposition(nil, []byte(tt.body), opts)
			require.NoError(t, err)
			assertExpoPoints(t, tt.want, pts)
			assert.Equal(t, tt.samples, st.Samples)
		})
	}
}

func manyTags(n int) []point.Tag {
	var tags []point.Tag
	for i := range n {
		tags = append(tags, point.Tag{Key: fmt.Sprintf("t%d", i), Value: "v"})
	}
	return tags
}

func withoutTag(tags []point.Tag, key string) []string {
	var kv []string
	for _, t := range tags {
		if t.Key != key {
			kv = append(kv, t.Key, t.Value)
		}
	}
	return kv
}

func TestDecodeExpositionAppends(t *testing.T) {
	dst := []point.Point{{Name: "keep"}}
	pts, _, err := protocol.DecodeExposition(dst, []byte("g 1\n"), protocol.ExpositionOptions{Now: expoNow})
	require.NoError(t, err)
	require.Len(t, pts, 2)
	assert.Equal(t, "keep", pts[0].Name)
	assert.Equal(t, "g", pts[1].Name)

	pts, _, err = protocol.DecodeExposition(dst, []byte("g 1\nbad{\n"), protocol.ExpositionOptions{Now: expoNow})
	require.Error(t, err)
	assert.Equal(t, dst, pts, "an error leaves dst as it was")

	// Appending to one point's tags does not touch another's.
	pts, _, err = protocol.DecodeExposition(nil, []byte("a{x=\"1\"} 1\nb{y=\"2\"} 2\n"), protocol.ExpositionOptions{Now: expoNow})
	require.NoError(t, err)
	pts[0].Tags = append(pts[0].Tags, point.Tag{Key: "new", Value: "v"})
	pts[0].Fields = append(pts[0].Fields, point.Field{Key: "new", Value: point.IntValue(1)})
	assert.Equal(t, []point.Tag{{Key: "y", Value: "2"}}, pts[1].Tags)
	assert.Equal(t, "value", pts[1].Fields[0].Key)
}

func TestDecodeExpositionErrors(t *testing.T) {
	tests := []struct {
		name         string
		format       protocol.ExpositionFormat
		body         string
		opts         protocol.ExpositionOptions
		line, column int
		is           error
		msg          string
	}{
		{name: "labels without a name", body: "# c\n{}0\n", line: 2, column: 1, is: protocol.ErrInvalidName, msg: "labels without a metric name"},
		{name: "unterminated label value", body: "# TYPE g gauge\ng{a=\"x} 1\n", line: 2, column: 5, is: protocol.ErrSyntax, msg: "unterminated"},
		{name: "bad escape", body: "g{a=\"\\t\"} 1\n", line: 1, column: 6, is: protocol.ErrSyntax, msg: "invalid escape"},
		{name: "no value", body: "g{a=\"b\"}\n", line: 1, is: protocol.ErrSyntax, msg: "no value"},
		{name: "bad value", body: "ok 1\ng 0x1p3\n", line: 2, column: 3, is: protocol.ErrSyntax, msg: "expected a float"},
		{name: "underscore in value", body: "g 1_000\n", line: 1, is: protocol.ErrSyntax},
		{name: "float timestamp in 0.0.4", body: "g 1 1.5\n", line: 1, column: 5, is: protocol.ErrTimeRange},
		{name: "timestamp out of range", body: "g 1 9223372036854775\n", line: 1, is: protocol.ErrTimeRange},
		{name: "text after timestamp", body: "g 1 2 3\n", line: 1, column: 7, is: protocol.ErrSyntax, msg: "unexpected text"},
		{name: "exemplar in 0.0.4", body: "g 1 # {a=\"b\"} 1\n", line: 1, is: protocol.ErrTimeRange},
		{name: "unknown type", body: "# TYPE g sometimes\n", line: 1, is: protocol.ErrSyntax, msg: "unknown metric type"},
		{name: "bad escape in HELP", body: "# HELP g a\\tb\n", line: 1, is: protocol.ErrSyntax},
		{name: "duplicate label", body: "g{a=\"1\",b=\"2\",a=\"3\"} 1\n", line: 1, is: protocol.ErrSyntax, msg: "duplicate label \"a\""},
		{name: "duplicate label among many", body: "g{" + strings.Repeat("", 0) + labelList(20) + ",l7=\"x\"} 1\n", line: 1, is: protocol.ErrSyntax, msg: "duplicate label \"l7\""},
		{name: "reserved label", body: "g{__name__=\"x\"} 1\n", line: 1, is: protocol.ErrSyntax, msg: "reserved"},
		{name: "missing =", body: "g{a \"x\"} 1\n", line: 1, is: protocol.ErrSyntax, msg: "expected '='"},
		{name: "two names", body: "g{\"h\"} 1\n", line: 1, is: protocol.ErrSyntax},
		{name: "bucket without le", body: "# TYPE h histogram\nh_bucket 1\n", line: 2, is: protocol.ErrSyntax, msg: "no le label"},
		{name: "bad le", body: "# TYPE h histogram\nh_bucket{le=\"x\"} 1\n", line: 2, is: protocol.ErrSyntax, msg: "not a float"},
		{name: "histogram sample of its bare name", body: "# TYPE h histogram\nh 1\n", line: 2, is: protocol.ErrSyntax, msg: "does not fit its histogram family"},
		{name: "label value not UTF-8", body: "g{a=\"\xff\"} 1\n", line: 1, column: 5, is: protocol.ErrInvalidUTF8},
		{name: "bad metric name", body: "1g 1\n", line: 1, is: protocol.ErrInvalidName},
		{name: "OpenMetrics without EOF", format: protocol.ExpositionOpenMetrics, body: "g 1\n", line: 2, is: protocol.ErrSyntax, msg: "does not end with # EOF"},
		{name: "OpenMetrics text after EOF", format: protocol.ExpositionOpenMetrics, body: "g 1\n# EOF\ng 2\n", line: 3, is: protocol.ErrSyntax, msg: "after # EOF"},
		{name: "OpenMetrics empty line after EOF", format: protocol.ExpositionOpenMetrics, body: "# EOF\n\n", line: 2, is: protocol.ErrSyntax},
		{name: "OpenMetrics millisecond timestamp out of range", format: protocol.ExpositionOpenMetrics, body: "g 1 1717243200500000000\n# EOF\n", line: 1, is: protocol.ErrTimeRange},
		{name: "timestamp rejected", body: "# TYPE g gauge\ng 1 1717243200000\n", opts: protocol.ExpositionOptions{RejectTimestamps: true}, line: 2, column: 5, is: protocol.ErrSampleTimestamp, msg: "timestamp (1717243200000)"},
		{name: "too many samples", body: "a 1\nb 2\nc 3\nd 4\n", opts: protocol.ExpositionOptions{MaxSamples: 3}, line: 4, is: protocol.ErrTooManyPoints, msg: "more than 3 samples"},
		{name: "too many labels", body: "# TYPE m gauge\nm{" + labelList(300) + "} 1\n", opts: protocol.ExpositionOptions{MaxLabels: 256}, line: 2, column: 2, is: protocol.ErrTooManyLabels,
			msg: "sample \"m\" has 300 labels, more than the limit of 256 per sample"},
		{name: "labels too long", body: "m{a=\"" + strings.Repeat("v", 20000) + "\"} 1\n", opts: protocol.ExpositionOptions{MaxLabelBytes: 16384}, line: 1, column: 2, is: protocol.ErrLabelsTooLong,
			msg: "sample \"m\" has 20004 bytes of labels, more than the limit of 16384 per sample"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Format, opts.Now = tt.format, expoNow
			pts, _, err := protocol.DecodeExposition(nil, []byte(tt.body), opts)
			require.Error(t, err)
			assert.Empty(t, pts)
			var de *protocol.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, tt.line, de.Line, "%v", err)
			if tt.column > 0 {
				assert.Equal(t, tt.column, de.Column, "%v", err)
			}
			assert.Equal(t, -1, de.Element)
			assert.ErrorIs(t, err, tt.is)
			assert.Contains(t, err.Error(), tt.msg)
			assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("protocol: at line %d:", tt.line)), err.Error())
		})
	}
}

func labelList(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "l%d=\"v\"", i)
	}
	return b.String()
}

// TestDecodeExpositionLinear: samples with many labels cost time in
// proportion to their bytes. 4 MiB of one sample's labels (360k labels),
// 20k samples of 64 labels each, and 100k samples of 9 labels after one of
// 360k decode in a fraction of a second; a parser that compares each label
// with all before it takes minutes.
func TestDecodeExpositionLinear(t *testing.T) {
	one := "m{" + labelList(360_000) + "} 1\n"
	many := strings.Repeat("m{"+labelList(63)+",s=\"x\"} 1\n", 20_000)
	after := one + strings.Repeat("m{"+labelList(9)+"} 1\n", 100_000)
	for _, body := range []string{one, many, after} {
		start := time.Now()
		pts, st, err := protocol.DecodeExposition(nil, []byte(body), protocol.ExpositionOptions{Now: expoNow})
		elapsed := time.Since(start)
		require.NoError(t, err)
		assert.Equal(t, st.Samples, len(pts))
		t.Logf("%d bytes, %d samples: %s", len(body), st.Samples, elapsed)
		if !expoRace {
			assert.Less(t, elapsed, 2*time.Second)
		}
	}
}

func TestExpositionFormat(t *testing.T) {
	tests := []struct {
		ct   string
		want protocol.ExpositionFormat
	}{
		{"text/plain; version=0.0.4; charset=utf-8", protocol.ExpositionText},
		{"", protocol.ExpositionText},
		{"garbage;;", protocol.ExpositionText},
		{"application/openmetrics-text; version=1.0.0; charset=utf-8", protocol.ExpositionOpenMetrics},
		{"application/openmetrics-text; version=0.0.1; charset=utf-8", protocol.ExpositionOpenMetrics},
		{"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited", protocol.ExpositionProtobuf},
		{"application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=text", protocol.ExpositionText},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, protocol.ExpositionFormatOf(tt.ct), tt.ct)
	}
	for _, f := range []protocol.ExpositionFormat{protocol.ExpositionText, protocol.ExpositionOpenMetrics, protocol.ExpositionProtobuf} {
		b, err := f.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, f.String(), string(b))
		var g protocol.ExpositionFormat
		require.NoError(t, g.UnmarshalText(b))
		assert.Equal(t, f, g)
	}
	var g protocol.ExpositionFormat
	assert.Error(t, g.UnmarshalText([]byte("xml")))
	_, err := protocol.ExpositionFormat(9).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "ExpositionFormat(9)", protocol.ExpositionFormat(9).String())
	_, _, err = protocol.DecodeExposition(nil, []byte("g 1\n"), protocol.ExpositionOptions{Format: 9})
	assert.Error(t, err)
	assert.False(t, errors.Is(err, protocol.ErrSyntax))
}
