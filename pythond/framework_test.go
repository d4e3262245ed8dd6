package pythond

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

// wantBatch is a batch as a test expects it: points compared without
// their time unless wantTime is set.
type wantBatch struct {
	Category point.Category
	Input    string
	Version  string
	Points   []point.Point
	Time     time.Time // zero: any time within the test
}

func mkPoint(name string, tags map[string]string, fields ...point.Field) point.Point {
	p := point.Point{Name: name}
	for k, v := range tags {
		p.Tags = append(p.Tags, point.Tag{Key: k, Value: v})
	}
	p.Fields = fields
	return sortPoint(p)
}

func sortPoint(p point.Point) point.Point {
	p = p.Clone()
	sort.Slice(p.Tags, func(i, j int) bool { return p.Tags[i].Key < p.Tags[j].Key })
	sort.Slice(p.Fields, func(i, j int) bool { return p.Fields[i].Key < p.Fields[j].Key })
	return p
}

func f(k string, v any) point.Field {
	val, ok := point.AnyValue(v)
	if !ok {
		panic(fmt.Sprintf("bad value %v", v))
	}
	return point.Field{Key: k, Value: val}
}

// TestFrameworkReports runs every feed_* helper and report() key once in a
// real interpreter and checks the exact batches the sink receives.
func TestFrameworkReports(t *testing.T) {
	t.Parallel()
	for _, exact := range []bool{false, true} {
		t.Run(fmt.Sprintf("exact_ints=%v", exact), func(t *testing.T) {
			t.Parallel()
			testFrameworkReports(t, exact)
		})
	}
}

func testFrameworkReports(t *testing.T, exact bool) {
	// n is an int field as the sink gets it: a float as in DataKit, or
	// exact with exact_ints.
	n := func(k string, v int64) point.Field {
		if exact {
			return f(k, v)
		}
		return f(k, float64(v))
	}
	event := func(source string, extra ...point.Field) []point.Field {
		fs := []point.Field{n("df_date_range", 10), f("df_source", source)}
		fs = append(fs, extra...)
		return append(fs, f("df_status", "info"), f("df_event_id", "e1"), f("df_title", "title"), f("df_message", "msg"), f("k1", "v1"))
	}
	ms := time.UnixMilli(1700000000123).UTC()
	big := f("big", float64(1<<63+5)) // rounded as DataKit's float64 does
	if exact {
		big = f("big", uint64(1<<63+5))
	}
	tests := []struct {
		name string
		code string // Python statements inside run(); r must be ""
		want []wantBatch
	}{
		{
			name: "feed_metric with kwargs as fields",
			code: `r = self.feed_metric(measurement="cpu", tags={"host": "a"}, fields={"usage": 1.5, "n": 3}, extra=7)`,
			want: []wantBatch{{Category: point.Metric, Input: "Feeder", Points: []point.Point{
				mkPoint("cpu", map[string]string{"host": "a", "cfg": "x"}, f("usage", 1.5), n("n", 3), n("extra", 7))}}},
		},
		{
			name: "feed_metric with input and time in seconds",
			code: `r = self.feed_metric(input="myin", measurement="m", fields={"f": True}, time=1700000000)`,
			want: []wantBatch{{Category: point.Metric, Input: "myin", Time: time.Unix(1700000000, 0).UTC(), Points: []point.Point{
				mkPoint("m", map[string]string{"cfg": "x", "host": "h1"}, f("f", true))}}},
		},
		{
			name: "feed_logging puts message and kwargs in fields",
			code: `r = self.feed_logging(source="app", tags={"a": "b"}, message="hello", level="x")`,
			want: []wantBatch{{Category: point.Logging, Input: "Feeder", Points: []point.Point{
				mkPoint("app", map[string]string{"a": "b", "cfg": "x", "host": "h1"}, f("message", "hello"), f("level", "x"), f("status", "info"))}}},
		},
		{
			name: "feed_object makes name a tag",
			code: `r = self.feed_object(cls="host", name="web01", tags={"os": "linux"}, fields={"cpus": 4}, extra="e")`,
			want: []wantBatch{{Category: point.Object, Input: "Feeder", Points: []point.Point{
				mkPoint("host", map[string]string{"os": "linux", "name": "web01", "cfg": "x", "host": "h1"}, n("cpus", 4), f("extra", "e"))}}},
		},
		{
			name: "feed_user_event with tags None",
			code: `r = self.feed_user_event(df_user_id="u1", df_status="info", df_event_id="e1", df_title="title", df_message="msg", k1="v1")`,
			want: []wantBatch{{Category: point.KeyEvent, Input: "Feeder", Points: []point.Point{
				mkPoint("measurement", map[string]string{"cfg": "x", "host": "h1"}, event("user", f("df_user_id", "u1"))...)}}},
		},
		{
			name: "feed_monitor_event",
			code: `r = self.feed_monitor_event(df_dimension_tags='{"host":"web01"}', tags={"t": "1"}, df_status="info", df_event_id="e1", df_title="title", df_message="msg", k1="v1")`,
			want: []wantBatch{{Category: point.KeyEvent, Input: "Feeder", Points: []point.Point{
				mkPoint("measurement", map[string]string{"t": "1", "cfg": "x", "host": "h1"}, event("monitor", f("df_dimension_tags", `{"host":"web01"}`))...)}}},
		},
		{
			name: "feed_system_event",
			code: `r = self.feed_system_event(df_status="info", df_event_id="e1", df_title="title", df_message="msg", k1="v1")`,
			want: []wantBatch{{Category: point.KeyEvent, Input: "Feeder", Points: []point.Point{
				mkPoint("measurement", map[string]string{"cfg": "x", "host": "h1"}, event("system")...)}}},
		},
		{
			name: "report with every category key in DataKit's order",
			code: `r = self.report({
    'E': [{"measurement": "e", "tags": {}, "fields": {"df_title": "t"}, "time": 1700000000123}],
    'CO': [{"measurement": "co", "tags": {"name": "n"}, "fields": {"f": 1}, "time": 1700000000123}],
    'O': [{"measurement": "o", "tags": {"name": "n"}, "fields": {"f": 1}, "time": 1700000000123}],
    'R': [{"measurement": "r", "tags": {}, "fields": {"f": 1}, "time": 1700000000123}],
    'L': [{"measurement": "l", "tags": {}, "fields": {"message": "m", "status": "warn"}, "time": 1700000000123}],
    'M': [{"measurement": "m1", "tags": {}, "fields": {"f": 1}, "time": 1700000000123},
          {"measurement": "m2", "tags": {}, "fields": {"f": 2.0}, "time": 1700000000123}],
    'input': 'datakitpy', 'version': '1.2.3', 'precision': 'ms'})`,
			want: []wantBatch{
				{Category: point.Metric, Input: "datakitpy", Version: "1.2.3", Time: ms, Points: []point.Point{
					mkPoint("m1", map[string]string{"cfg": "x", "host": "h1"}, n("f", 1)), mkPoint("m2", map[string]string{"cfg": "x", "host": "h1"}, f("f", 2.0))}},
				{Category: point.Logging, Input: "datakitpy", Version: "1.2.3", Time: ms, Points: []point.Point{
					mkPoint("l", map[string]string{"cfg": "x", "host": "h1"}, f("message", "m"), f("status", "warn"))}},
				{Category: point.RUM, Input: "datakitpy", Version: "1.2.3", Time: ms, Points: []point.Point{mkPoint("r", map[string]string{"cfg": "x", "host": "h1"}, n("f", 1))}},
				{Category: point.Object, Input: "datakitpy", Version: "1.2.3", Time: ms, Points: []point.Point{mkPoint("o", map[string]string{"name": "n", "cfg": "x", "host": "h1"}, n("f", 1))}},
				{Category: point.CustomObject, Input: "datakitpy", Version: "1.2.3", Time: ms, Points: []point.Point{mkPoint("co", map[string]string{"name": "n", "cfg": "x", "host": "h1"}, n("f", 1))}},
				{Category: point.KeyEvent, Input: "datakitpy", Version: "1.2.3", Time: ms, Points: []point.Point{mkPoint("e", map[string]string{"cfg": "x", "host": "h1"}, f("df_title", "t"))}},
			},
		},
		{
			name: "report seed 000 demo drops the string field of a metric",
			code: `r = self.report({'M': [{"measurement": "abc", "tags": {"t1": "b", "t2": "d"}, "fields": {"f1": 123, "f2": 3.4, "f3": "strval"}}], 'input': "datakitpy"})`,
			want: []wantBatch{{Category: point.Metric, Input: "datakitpy", Points: []point.Point{
				mkPoint("abc", map[string]string{"t1": "b", "t2": "d", "cfg": "x", "host": "h1"}, n("f1", 123), f("f2", 3.4))}}},
		},
		{
			name: "tuples and generators are lists; a missing or empty measurement is __default",
			code: `r = self.report({'M': ({"measurement": "", "fields": {"f": 1}}, {"fields": {"f": 2}}), 'L': ({"measurement": "l%d" % i, "fields": {"message": "x"}} for i in range(2))})`,
			want: []wantBatch{
				{Category: point.Metric, Input: "Feeder", Points: []point.Point{
					mkPoint("__default", map[string]string{"cfg": "x", "host": "h1"}, n("f", 1)), mkPoint("__default", map[string]string{"cfg": "x", "host": "h1"}, n("f", 2))}},
				{Category: point.Logging, Input: "Feeder", Points: []point.Point{
					mkPoint("l0", map[string]string{"cfg": "x", "host": "h1"}, f("message", "x"), f("status", "info")), mkPoint("l1", map[string]string{"cfg": "x", "host": "h1"}, f("message", "x"), f("status", "info"))}},
			},
		},
		{
			name: "report with ignore_global_tags leaves out the input's tags",
			code: `r = self.report({'M': [{"measurement": "m", "tags": {"cfg": "own"}, "fields": {"f": 1}}, {"measurement": "n", "fields": {"f": 1}}], 'ignore_global_tags': True})`,
			want: []wantBatch{{Category: point.Metric, Input: "Feeder", Points: []point.Point{
				mkPoint("m", map[string]string{"cfg": "own"}, n("f", 1)), mkPoint("n", nil, n("f", 1))}}},
		},
		{
			name: "a point's own tag wins over the input's tag; big ints and unicode survive",
			code: `r = self.report({'M': [{"measurement": "m", "tags": {"cfg": "own", "city": "北京"}, "fields": {"big": 2**63 + 5, "neg": -2**62}}]})`,
			want: []wantBatch{{Category: point.Metric, Input: "Feeder", Points: []point.Point{
				mkPoint("m", map[string]string{"cfg": "own", "city": "北京", "host": "h1"}, big, n("neg", -1<<62))}}},
		},
	}

	h := newHarness(t)
	var script strings.Builder
	script.WriteString(`
from datakit_framework import DataKitFramework

class Feeder(DataKitFramework):
    name = 'Feeder'
    interval = 60
    raise_on_error = True

    def run(self):
`)
	for _, tc := range tests {
		for _, line := range strings.Split(tc.code, "\n") {
			script.WriteString("        " + line + "\n")
		}
		script.WriteString("        assert r == '', r\n")
	}
	script.WriteString("        print('all reported')\n")
	h.write("feeder/feeder.py", script.String())
	before := time.Now()
	opts := h.options(Input{Dirs: []string{"feeder"}, Tags: map[string]string{"cfg": "x"}, ExactInts: exact})
	opts.GlobalTags = map[string]string{"cfg": "global", "host": "h1"} // the input's cfg wins
	h.start(opts)
	h.logs.waitLog(t, "all reported", 1, 10*time.Second)
	after := time.Now()
	batches := h.rec.Batches()

	i := 0
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.LessOrEqual(t, i+len(tc.want), len(batches), "not enough batches")
			for _, want := range tc.want {
				got := batches[i]
				i++
				assert.Equal(t, want.Category, got.Category)
				assert.Equal(t, want.Input, got.Input)
				assert.Equal(t, want.Version, got.Version)
				require.Len(t, got.Points, len(want.Points))
				for j, wp := range want.Points {
					gp := sortPoint(got.Points[j])
					if want.Time.IsZero() {
						assert.WithinRange(t, gp.Time, before.Add(-time.Second), after.Add(time.Second))
					} else {
						assert.True(t, want.Time.Equal(gp.Time), "time %v, want %v", gp.Time, want.Time)
					}
					gp.Time = time.Time{}
					assert.True(t, wp.Equal(gp), "got  %s\nwant %s", gp, wp)
				}
			}
		})
	}
	assert.Len(t, batches, i, "extra batches")
}

// TestReportErrors checks what report() returns and raises when the host
// refuses points, and the errors the host sees.
func TestReportErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("bad/bad.py", `
import json
from datakit_framework import DataKitFramework, ReportError

class Bad(DataKitFramework):
    name = 'Bad'
    interval = 60

    def run(self):
        bad = {'M': [{"measurement": "m", "tags": {"t": 1}, "fields": {"f": 1}}], 'input': 'badin'}
        r = self.report(bad)
        print("code=" + json.loads(r)["error_code"])
        r = self.report({'M': [{"measurement": "m", "fields": {"f": 1}}], 'precision': 'weeks'})
        print("code=" + json.loads(r)["error_code"])
        self.raise_on_error = True
        try:
            self.report(bad)
        except ReportError as e:
            print("raised ReportError")
        try:
            self.feed_metric(measurement="m")
        except ValueError as e:
            print("ValueError: %s" % e)
        pts = [{"measurement": "m", "fields": {"f": i}} for i in range(300)]
        pts[200]["fields"]["f"] = object()
        try:
            self.report({'M': pts})
        except TypeError as e:
            print("TypeError raised")
        self.set_lasterror("myinput", "something broke")
`)
	h.start(h.options(Input{Dirs: []string{"bad"}}))
	h.logs.waitLog(t, "ValueError: arguments missing \"fields\"", 1, 10*time.Second)
	assert.Len(t, h.logs.find("code=datakit.invalidJsonPoint"), 1)
	assert.Len(t, h.logs.find("code=datakit.invalidPrecision"), 1)
	assert.Len(t, h.logs.find("raised ReportError"), 1)
	h.logs.waitLog(t, "TypeError raised", 1, 5*time.Second)
	reports := h.errs.wait(t, KindReport, 4, 5*time.Second)
	assert.Contains(t, reports[3].Message, "failed to encode", "the chunks already sent are dropped")
	assert.Equal(t, "badin", reports[0].Input)
	assert.Equal(t, "Bad", reports[0].Collector)
	assert.Contains(t, reports[0].Message, `"t"`)
	last := h.errs.wait(t, KindLastError, 1, 5*time.Second)
	assert.Equal(t, "myinput", last[0].Input)
	assert.Equal(t, "something broke", last[0].Message)
	assert.Equal(t, "test", last[0].Name)
	assert.Zero(t, h.rec.Len())
}
