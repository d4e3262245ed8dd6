package wire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// interpreters returns the distinct python3 interpreters of the machine:
// the first on PATH and /usr/bin/python3.
func interpreters(t testing.TB) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	for _, name := range []string{"python3", "/usr/bin/python3"} {
		path, err := exec.LookPath(name)
		if err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(path)
		if err != nil || seen[real] {
			continue
		}
		seen[real] = true
		out = append(out, path)
	}
	if len(out) == 0 {
		t.Skip("no python3 interpreter")
	}
	return out
}

// pyEncode runs python with the embedded framework's own encoder on each
// Python expression (a list of points) and returns the payloads, or the
// exception text when encoding raised.
func pyEncode(t testing.TB, python string, exprs []string) []string {
	t.Helper()
	script := `
import sys, collections, enum
sys.path.insert(0, "../../py/datakit")
from datakit_framework import _encode_points

class Kind(enum.IntEnum):
    A = 3

class MyFloat(float):
    pass

class MyStr(str):
    pass

for line in sys.stdin:
    try:
        print(_encode_points(eval(line)).hex())
    except Exception as exc:
        print("!" + type(exc).__name__)
`
	cmd := exec.Command(python, "-c", script)
	cmd.Stdin = strings.NewReader(strings.Join(exprs, "\n") + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "%s: %s", python, stderr.String())
	var res []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		res = append(res, sc.Text())
	}
	require.Len(t, res, len(exprs))
	return res
}

var testNow = time.Unix(1600000000, 0)

func pt(name string, tags []point.Tag, t time.Time, fields ...point.Field) point.Point {
	return point.Point{Name: name, Tags: tags, Fields: fields, Time: t}
}

func tg(kv ...string) []point.Tag {
	var out []point.Tag
	for i := 0; i < len(kv); i += 2 {
		out = append(out, point.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return out
}

func fl(k string, v point.Value) point.Field { return point.Field{Key: k, Value: v} }

// TestDecodeMarshal decodes what real interpreters write for every value
// kind and edge, through the framework's own encoder.
func TestDecodeMarshal(t *testing.T) {
	t.Parallel()
	sec := time.Unix(1700000000, 0)
	tests := []struct {
		name  string
		expr  string // Python expression: the list of points
		prec  protocol.Precision
		first int
		want  []point.Point
		warns []point.Warning
		// wantErr: substrings of the error; wantIs: its cause.
		wantErr []string
		wantIs  error
	}{
		{
			name: "every scalar kind",
			expr: `[{"measurement": "m", "tags": {"t": "v"}, "fields": {"i": 1, "neg": -5, "b": True, "bf": False, "f": 1.5, "nz": -0.0, "s": "x", "e": "", "by": b"\x00\xff", "ba": bytearray(b"ab"), "mv": memoryview(b"cd")}, "time": 1700000000}]`,
			want: []point.Point{pt("m", tg("t", "v"), sec,
				fl("i", point.IntValue(1)), fl("neg", point.IntValue(-5)), fl("b", point.BoolValue(true)), fl("bf", point.BoolValue(false)),
				fl("f", point.FloatValue(1.5)), fl("nz", point.FloatValue(math.Copysign(0, -1))), fl("s", point.StringValue("x")), fl("e", point.StringValue("")),
				fl("by", point.BytesValue([]byte{0, 0xff})), fl("ba", point.BytesValue([]byte("ab"))), fl("mv", point.BytesValue([]byte("cd"))))},
		},
		{
			name: "int boundaries: int32, 15-bit digits, int64 and uint64",
			expr: `[{"measurement": "m", "fields": {"a": 2**31-1, "b": -2**31, "c": 2**31, "d": -2**31-1, "e": 2**63-1, "f": -2**63, "g": 2**63, "h": 2**64-1, "i": 2**30, "j": 2**45+2**15+7, "k": 0}}]`,
			want: []point.Point{pt("m", nil, testNow,
				fl("a", point.IntValue(math.MaxInt32)), fl("b", point.IntValue(math.MinInt32)), fl("c", point.IntValue(1<<31)), fl("d", point.IntValue(-1<<31-1)),
				fl("e", point.IntValue(math.MaxInt64)), fl("f", point.IntValue(math.MinInt64)), fl("g", point.UintValue(1<<63)), fl("h", point.UintValue(math.MaxUint64)),
				fl("i", point.IntValue(1<<30)), fl("j", point.IntValue(1<<45+1<<15+7)), fl("k", point.IntValue(0)))},
		},
		{
			name:    "an int above 2^64-1 names its key",
			expr:    `[{"measurement": "m", "fields": {"ok": 1}}, {"measurement": "m", "fields": {"ok": 1, "huge": 2**64}}]`,
			wantErr: []string{`element 1, key "huge"`, "above 2^64-1"},
			wantIs:  errIntRange,
		},
		{
			name:    "an int below -2^63 names its key",
			expr:    `[{"measurement": "m", "fields": {"low": -2**63-1}}]`,
			wantErr: []string{`element 0, key "low"`, "-9223372036854775809 is below -2^63"},
			wantIs:  errIntRange,
		},
		{
			name:    "a very large negative int",
			expr:    `[{"measurement": "m", "fields": {"low": -2**200}}]`,
			wantErr: []string{`key "low"`, "below -2^64"},
			wantIs:  errIntRange,
		},
		{
			name: "unicode, astral characters included",
			expr: `[{"measurement": "测量", "tags": {"city": "北京", "ключ": "значение"}, "fields": {"emoji": "😀 \U0001F680", "mixed": "a€b𝄞"}}]`,
			want: []point.Point{pt("测量", tg("city", "北京", "ключ", "значение"), testNow,
				fl("emoji", point.StringValue("😀 🚀")), fl("mixed", point.StringValue("a€b𝄞")))},
		},
		{
			name: "surrogates are repaired as the JSON path does",
			expr: `[{"measurement": "m", "fields": {"lone": "a\ud800b", "low": "\udc00", "pair": "\ud83d\ude00!", "end": "x\ud83d"}}]`,
			want: []point.Point{pt("m", nil, testNow,
				fl("lone", point.StringValue("a\uFFFDb")), fl("low", point.StringValue("\uFFFD")), fl("pair", point.StringValue("😀!")), fl("end", point.StringValue("x\uFFFD")))},
		},
		{
			name: "empty and None tags, missing time",
			expr: `[{"measurement": "a", "tags": {}, "fields": {"f": 1}}, {"measurement": "b", "tags": None, "fields": {"f": 2}, "time": None}]`,
			want: []point.Point{pt("a", nil, testNow, fl("f", point.IntValue(1))), pt("b", nil, testNow, fl("f", point.IntValue(2)))},
		},
		{
			name:  "a None field is dropped with a warning",
			expr:  `[{"measurement": "m", "fields": {"f": 1}}, {"measurement": "m", "fields": {"n": None, "f": 2}}]`,
			want:  []point.Point{pt("m", nil, testNow, fl("f", point.IntValue(1))), pt("m", nil, testNow, fl("f", point.IntValue(2)))},
			warns: []point.Warning{{Code: point.WarnNilField, Point: 1, Key: "n", Message: "null field value dropped"}},
		},
		{
			name:    "only None fields is no fields",
			expr:    `[{"measurement": "m", "fields": {"n": None}}]`,
			wantErr: []string{`element 0, key "fields"`},
			wantIs:  protocol.ErrNoFields,
		},
		{
			name:    "empty fields",
			expr:    `[{"measurement": "m", "fields": {}}]`,
			wantErr: []string{`element 0, key "fields"`},
			wantIs:  protocol.ErrNoFields,
		},
		{
			name: "NaN and infinities decode as floats",
			expr: `[{"measurement": "m", "fields": {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "ok": 1.0}}]`,
			want: []point.Point{pt("m", nil, testNow,
				fl("nan", point.FloatValue(math.NaN())), fl("inf", point.FloatValue(math.Inf(1))), fl("ninf", point.FloatValue(math.Inf(-1))), fl("ok", point.FloatValue(1)))},
		},
		{
			name:    "a non-string tag names the point and the key",
			expr:    `[{"measurement": "m", "fields": {"f": 1}}, {"measurement": "m", "tags": {"good": "x", "port": 8080}, "fields": {"f": 1}}]`,
			first:   256,
			wantErr: []string{`element 257, key "port"`, "found int"},
			wantIs:  protocol.ErrTagType,
		},
		{
			name:  "a None tag is dropped with a warning, as feed_object(name=None) needs",
			expr:  `[{"measurement": "m", "fields": {"f": 1}}, {"measurement": "obj", "tags": {"name": None, "host": "h"}, "fields": {"f": 1}}]`,
			want:  []point.Point{pt("m", nil, testNow, fl("f", point.IntValue(1))), pt("obj", tg("host", "h"), testNow, fl("f", point.IntValue(1)))},
			warns: []point.Warning{{Code: point.WarnNilField, Point: 1, Key: "name", Message: "null tag value dropped"}},
		},
		{
			name:    "a None tag's warning goes with a bad point",
			expr:    `[{"measurement": "m", "tags": {"t": None, "n": 1}, "fields": {"f": 1}}]`,
			wantErr: []string{`element 0, key "n"`, "found int"},
			wantIs:  protocol.ErrTagType,
		},
		{
			name:    "tags that are not a dict",
			expr:    `[{"measurement": "m", "tags": ["a"], "fields": {"f": 1}}]`,
			wantErr: []string{`key "tags"`, "tags is list"},
			wantIs:  protocol.ErrTagType,
		},
		{
			name:    "list, dict and complex fields are errors",
			expr:    `[{"measurement": "m", "fields": {"l": [1]}}, {"measurement": "m", "fields": {"d": {}}}, {"measurement": "m", "fields": {"c": 1j}}]`,
			wantErr: []string{"3 bad entries", `element 0, key "l"`, `element 1, key "d"`, `element 2, key "c"`, "type complex"},
			wantIs:  protocol.ErrFieldType,
		},
		{
			name:    "a key that is not a str",
			expr:    `[{"measurement": "m", "fields": {1: 2}}]`,
			wantErr: []string{"element 0", "dict key of type int"},
			wantIs:  protocol.ErrInvalidKey,
		},
		{
			name: "a missing, None or empty measurement is the empty name, as DataKit reads it",
			expr: `[{"fields": {"f": 1}}, {"measurement": None, "fields": {"f": 2}}, {"measurement": "", "fields": {"f": 3}}]`,
			want: []point.Point{pt("", nil, testNow, fl("f", point.IntValue(1))), pt("", nil, testNow, fl("f", point.IntValue(2))), pt("", nil, testNow, fl("f", point.IntValue(3)))},
		},
		{
			name:    "measurement that is not a str",
			expr:    `[{"measurement": 5, "fields": {"f": 1}}]`,
			wantErr: []string{`element 0, key "measurement"`, "measurement is int"},
			wantIs:  protocol.ErrInvalidName,
		},
		{
			name:    "a point that is not a dict",
			expr:    `[["measurement", "m"]]`,
			wantErr: []string{"element 0", "a point is a dict, not list"},
		},
		{
			name: "unknown keys are skipped whatever they hold",
			expr: `[{"extra": [1, (2, 3.5), {"a": {1, 2}, 7: None}, frozenset([1]), 1j, None, b"x", 2**100, -2**100, True], "measurement": "m", "fields": {"f": 1}, "z": {}}]`,
			want: []point.Point{pt("m", nil, testNow, fl("f", point.IntValue(1)))},
		},
		{
			name: "subclasses of built-in types are converted",
			expr: `[collections.OrderedDict([("measurement", MyStr("m")), ("tags", collections.defaultdict(str, t="v")), ("fields", {"k": Kind.A, "f": MyFloat(2.5), "l": 1})])]`,
			want: []point.Point{pt("m", tg("t", "v"), testNow, fl("k", point.IntValue(3)), fl("f", point.FloatValue(2.5)), fl("l", point.IntValue(1)))},
		},
		{
			name: "time in seconds, milliseconds, microseconds and nanoseconds by magnitude",
			expr: `[{"measurement": "s", "fields": {"f": 1}, "time": 1700000000}, {"measurement": "ms", "fields": {"f": 1}, "time": 1700000000123}, {"measurement": "us", "fields": {"f": 1}, "time": 1700000000123456}, {"measurement": "ns", "fields": {"f": 1}, "time": 1700000000123456789}]`,
			want: []point.Point{
				pt("s", nil, sec, fl("f", point.IntValue(1))),
				pt("ms", nil, time.UnixMilli(1700000000123), fl("f", point.IntValue(1))),
				pt("us", nil, time.UnixMicro(1700000000123456), fl("f", point.IntValue(1))),
				pt("ns", nil, time.Unix(0, 1700000000123456789), fl("f", point.IntValue(1))),
			},
		},
		{
			name: "float times: integral, with a fraction, rounded to the nanosecond",
			expr: `[{"measurement": "a", "fields": {"f": 1}, "time": 1700000000.0}, {"measurement": "b", "fields": {"f": 1}, "time": 1700000000.5}]`,
			want: []point.Point{pt("a", nil, sec, fl("f", point.IntValue(1))), pt("b", nil, sec.Add(500*time.Millisecond), fl("f", point.IntValue(1)))},
		},
		{
			name: "a zero time, int or float, means now as in DataKit",
			expr: `[{"measurement": "a", "fields": {"f": 1}, "time": 0}, {"measurement": "b", "fields": {"f": 1}, "time": 0.0}, {"measurement": "c", "fields": {"f": 1}, "time": -0.0}, {"measurement": "d", "fields": {"f": 1}, "time": 1}]`,
			prec: protocol.Second,
			want: []point.Point{
				pt("a", nil, testNow, fl("f", point.IntValue(1))), pt("b", nil, testNow, fl("f", point.IntValue(1))),
				pt("c", nil, testNow, fl("f", point.IntValue(1))), pt("d", nil, time.Unix(1, 0), fl("f", point.IntValue(1))),
			},
		},
		{
			name: "explicit precision",
			expr: `[{"measurement": "a", "fields": {"f": 1}, "time": 1700000000123}, {"measurement": "b", "fields": {"f": 1}, "time": 5}]`,
			prec: protocol.Millisecond,
			want: []point.Point{pt("a", nil, time.UnixMilli(1700000000123), fl("f", point.IntValue(1))), pt("b", nil, time.UnixMilli(5), fl("f", point.IntValue(1)))},
		},
		{
			name:    "a time beyond int64",
			expr:    `[{"measurement": "m", "fields": {"f": 1}, "time": 2**70}]`,
			wantErr: []string{`element 0, key "time"`},
			wantIs:  protocol.ErrTimeRange,
		},
		{
			name:    "a time that overflows its precision",
			expr:    `[{"measurement": "m", "fields": {"f": 1}, "time": 2**62}]`,
			prec:    protocol.Second,
			wantErr: []string{`element 0, key "time"`, "in precision s"},
			wantIs:  protocol.ErrTimeRange,
		},
		{
			name:    "a time that is not a number",
			expr:    `[{"measurement": "m", "fields": {"f": 1}, "time": "now"}]`,
			wantErr: []string{`key "time"`, "time is str, not a number"},
			wantIs:  protocol.ErrTimeRange,
		},
		{
			name:    "a bool time, which json.dumps wrote as true",
			expr:    `[{"measurement": "m", "fields": {"f": 1}, "time": True}]`,
			wantErr: []string{`key "time"`, "time is bool"},
			wantIs:  protocol.ErrTimeRange,
		},
		{
			name:    "a NaN time",
			expr:    `[{"measurement": "m", "fields": {"f": 1}, "time": float("nan")}]`,
			wantErr: []string{`key "time"`},
			wantIs:  protocol.ErrTimeRange,
		},
		{
			name: "an empty list",
			expr: `[]`,
		},
	}
	exprs := make([]string, len(tests))
	for i, tc := range tests {
		exprs[i] = tc.expr
	}
	for _, python := range interpreters(t) {
		payloads := pyEncode(t, python, exprs)
		d := Decoder{ExactInts: true}
		for i, tc := range tests {
			t.Run(python+"/"+tc.name, func(t *testing.T) {
				require.False(t, strings.HasPrefix(payloads[i], "!"), "python raised %s", payloads[i])
				payload, err := hex.DecodeString(payloads[i])
				require.NoError(t, err)
				pts, warns, err := d.Decode(payload, tc.first, tc.prec, testNow)
				if tc.wantErr != nil {
					require.Error(t, err)
					assert.Nil(t, pts)
					for _, s := range tc.wantErr {
						assert.Contains(t, err.Error(), s)
					}
					if tc.wantIs != nil {
						assert.ErrorIs(t, err, tc.wantIs)
					}
					return
				}
				require.NoError(t, err)
				require.Len(t, pts, len(tc.want))
				for j, want := range tc.want {
					assert.True(t, samePoint(want, pts[j]), "point %d\ngot  %s %v\nwant %s %v", j, pts[j], pts[j].Time, want, want.Time)
				}
				assert.Equal(t, tc.warns, warns)
			})
		}
	}
}

// samePoint is Point.Equal with NaN equal to NaN, and the time compared.
func samePoint(a, b point.Point) bool {
	if a.Name != b.Name || !a.Time.Equal(b.Time) || len(a.Tags) != len(b.Tags) || len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Tags {
		if a.Tags[i] != b.Tags[i] {
			return false
		}
	}
	for i, fa := range a.Fields {
		fb := b.Fields[i]
		nan := fa.Value.Kind() == point.KindFloat && fb.Value.Kind() == point.KindFloat && math.IsNaN(fa.Value.Float()) && math.IsNaN(fb.Value.Float())
		if fa.Key != fb.Key || !(nan || fa.Value.Equal(fb.Value)) {
			return false
		}
	}
	return true
}

// TestEncodeRefused checks that values json.dumps refused are refused by
// the encoder too, with the same exception.
func TestEncodeRefused(t *testing.T) {
	t.Parallel()
	for _, python := range interpreters(t) {
		got := pyEncode(t, python, []string{
			`[{"measurement": "m", "fields": {"f": object()}}]`,
			`[{"measurement": "m", "fields": {"f": collections.OrderedDict(a=object())}}]`,
		})
		assert.Equal(t, []string{"!TypeError", "!TypeError"}, got, python)
	}
}

// TestDecodeMarshalNonFinite shows that the NaN and infinities the
// decoder keeps are dropped by normalization, as over the JSON path.
func TestDecodeMarshalNonFinite(t *testing.T) {
	t.Parallel()
	payload := pyEncode(t, interpreters(t)[0], []string{`[{"measurement": "m", "fields": {"nan": float("nan"), "inf": float("-inf"), "ok": 1.0}}]`})[0]
	b, err := hex.DecodeString(payload)
	require.NoError(t, err)
	var d Decoder
	pts, _, err := d.Decode(b, 0, protocol.PrecisionAuto, testNow)
	require.NoError(t, err)
	require.Len(t, pts, 1)
	warns, err := constraint.Normalize(&pts[0], point.Metric, constraint.Options{})
	require.NoError(t, err)
	assert.Equal(t, []point.Field{fl("ok", point.FloatValue(1))}, pts[0].Fields)
	assert.NotEmpty(t, warns)
}

// TestDecodeMarshalMalformed feeds payloads no Python writes.
func TestDecodeMarshalMalformed(t *testing.T) {
	t.Parallel()
	u32 := func(n uint32) string { return string([]byte{byte(n), byte(n >> 8), byte(n >> 16), byte(n >> 24)}) }
	str := func(s string) string { return "u" + u32(uint32(len(s))) + s }
	// One good point, to which the cases append or which they alter.
	good := "{" + str("measurement") + str("m") + str("fields") + "{" + str("f") + "i" + u32(1) + "00"
	list := func(n uint32, items ...string) []byte { return []byte("[" + u32(n) + strings.Join(items, "")) }
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{name: "empty payload", payload: nil, want: "offset 0: want a list of points ('['), found the end of the payload"},
		{name: "JSON", payload: []byte(`[{"measurement": "m"}]`), want: "offset 1: a list of 1701651067 items, but"},
		{name: "dict at top level", payload: []byte("{0"), want: "offset 0: want a list of points"},
		{name: "count above the bytes left", payload: list(100, good), want: "a list of 100 items, but 48 bytes remain"},
		{name: "negative count", payload: list(0xffffffff), want: "a list of -1 items"},
		{name: "trailing bytes", payload: append(list(1, good), 'N'), want: "1 bytes after the list of points"},
		{name: "str length beyond the payload", payload: list(1, "{"+"u"+u32(1<<31-1)+"x"), want: "a str of 2147483647 bytes, but 1 bytes remain"},
		{name: "truncated float", payload: list(1, "{"+str("measurement")+str("m")+str("fields")+"{"+str("f")+"g\x00\x00"), want: "want the 8 bytes of a float"},
		{name: "unknown type code", payload: list(1, "{"+str("x")+"c"), want: "found byte 'c'"},
		{name: "back-reference of version 3", payload: list(1, "{"+str("x")+"r"+u32(0)), want: "found byte 'r'"},
		{name: "flagged code of version 3", payload: list(1, "\xfb"), want: "offset 5: want a value of type None, bool, int, float, complex, str, bytes, list, tuple, set, frozenset or dict, found byte 0xfb"},
		{name: "long digit out of range", payload: list(1, "{"+str("measurement")+str("m")+str("fields")+"{"+str("f")+"l"+u32(1)+"\x00\x80"), want: "int digit 0 is 32768"},
		{name: "unnormalized long", payload: list(1, "{"+str("measurement")+str("m")+str("fields")+"{"+str("f")+"l"+u32(2)+"\x01\x00\x00\x00"), want: "want a non-zero most significant int digit"},
		{name: "long longer than the payload", payload: list(1, "{"+str("x")+"l"+u32(1000)+"\x01\x00"), want: "an int of 1000 digits, but only 2 bytes remain"},
		{name: "invalid UTF-8 that is no surrogate", payload: list(1, "{"+str("measurement")+str("m\xff")+"0"), want: "invalid UTF-8: byte 0xff at offset"},
		{name: "dict without its end", payload: list(1, "{"+str("measurement")+str("m")), want: "want a dict key or the end of the dict ('0'), found the end of the payload"},
		{name: "nested too deeply", payload: list(1, "{"+str("x")+strings.Repeat("["+u32(1), 2000)+"N"), want: "values nested deeper than 1000"},
	}
	var d Decoder
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pts, warns, err := d.Decode(tc.payload, 0, protocol.PrecisionAuto, testNow)
			require.Error(t, err)
			assert.ErrorContains(t, err, tc.want)
			assert.Nil(t, pts)
			assert.Nil(t, warns)
		})
	}
	t.Run("every truncation of a good payload", func(t *testing.T) {
		whole := list(2, good, good)
		for n := 0; n < len(whole); n++ {
			_, _, err := d.Decode(whole[:n], 0, protocol.PrecisionAuto, testNow)
			assert.Error(t, err, "prefix of %d bytes", n)
		}
		pts, _, err := d.Decode(whole, 0, protocol.PrecisionAuto, testNow)
		require.NoError(t, err)
		assert.Len(t, pts, 2)
	})
}

// TestDecodeMarshalReuse checks that a decoder reused for the same chunk
// allocates nothing: its slabs are kept.
func TestDecodeMarshalReuse(t *testing.T) {
	exprs := []string{`[{"measurement": "cpu", "tags": {"host": "web%02d" % (i % 10), "cpu": "cpu%d" % (i % 8)}, "fields": {"u": 12.5 + i, "n": i, "big": 2**40, "ok": True, "s": "é"}, "time": 1700000000 + i} for i in range(500)]`}
	b, err := hex.DecodeString(pyEncode(t, interpreters(t)[0], exprs)[0])
	require.NoError(t, err)
	var d Decoder
	pts, _, err := d.Decode(b, 0, protocol.PrecisionAuto, testNow)
	require.NoError(t, err)
	require.Len(t, pts, 500)
	assert.Equal(t, "web07", pts[497].Tags[0].Value)
	allocs := testing.AllocsPerRun(20, func() {
		if _, _, err := d.Decode(b, 0, protocol.PrecisionAuto, testNow); err != nil {
			panic(err)
		}
	})
	assert.Zero(t, allocs)
}

// FuzzDecodeMarshal checks that no payload makes the decoder panic, and
// that what it accepts keeps the rules of a point.
func FuzzDecodeMarshal(f *testing.F) {
	// The seeds in testdata/fuzz/FuzzDecodeMarshal are real python3
	// output; a few hand-made ones here.
	f.Add([]byte("[\x00\x00\x00\x00"))
	f.Add([]byte("[\x01\x00\x00\x00{0"))
	var d Decoder
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, prec := range []protocol.Precision{protocol.PrecisionAuto, protocol.Nanosecond} {
			pts, warns, err := d.Decode(payload, 7, prec, testNow)
			if err != nil {
				if pts != nil || warns != nil {
					t.Fatalf("points or warnings with an error: %v", err)
				}
				var pe *protocol.DecodeError
				if !errors.As(err, &pe) {
					t.Fatalf("error of type %T: %v", err, err)
				}
				continue
			}
			for i, p := range pts {
				if len(p.Fields) == 0 {
					t.Fatalf("point %d without fields: %s", i, p)
				}
				if !utf8.ValidString(p.Name) {
					t.Fatalf("point %d: invalid UTF-8 name %q", i, p.Name)
				}
				for _, tag := range p.Tags {
					if !utf8.ValidString(tag.Key) || !utf8.ValidString(tag.Value) {
						t.Fatalf("point %d: invalid UTF-8 tag %q=%q", i, tag.Key, tag.Value)
					}
				}
				for _, fd := range p.Fields {
					if fd.Value.Kind() == point.KindInvalid {
						t.Fatalf("point %d: invalid value for %q", i, fd.Key)
					}
				}
			}
		}
	})
}

// TestFuzzSeeds writes the seed corpus from real python3 output when
// PYTHOND_WRITE_SEEDS is set, and otherwise checks that it exists.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzDecodeMarshal")
	if os.Getenv("PYTHOND_WRITE_SEEDS") == "" {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.GreaterOrEqual(t, len(entries), 5)
		return
	}
	exprs := []string{
		`[{"measurement": "cpu", "tags": {"host": "a"}, "fields": {"u": 1.5, "n": 3, "ok": True, "s": "x", "b": b"\x01"}, "time": 1700000000}]`,
		`[{"measurement": "m", "fields": {"a": 2**31, "b": -2**63, "c": 2**64-1, "d": 2**64, "e": -2**31-1}}]`,
		`[{"measurement": "北京", "tags": {"e": "😀"}, "fields": {"s": "a\ud800b\ud83d\ude00", "n": None}}]`,
		`[{"measurement": "m", "tags": {"t": 1}, "fields": {"l": [1, (2,)], "d": {}, "c": 1j}, "time": "x"}]`,
		`[{"x": [frozenset([1]), {1, 2}, {None: 1.5}], "measurement": "m", "fields": {"f": float("nan")}, "time": 1700000000.5}, 5, []]`,
		`[{"measurement": "m", "fields": {"f": i}, "time": None} for i in range(3)]`,
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for i, hx := range pyEncode(t, interpreters(t)[0], exprs) {
		b, err := hex.DecodeString(hx)
		require.NoError(t, err)
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("python3-%d", i)), []byte(body), 0o644))
	}
}

// TestDecodeMarshalMatchesJSON decodes the same points sent both ways,
// marshal through this decoder and json.dumps through package protocol
// (DataKit's path: report, json.dumps, its JSON decoder), and expects the
// same points and warnings: ints as floats by default, exact with
// exact_ints.
func TestDecodeMarshalMatchesJSON(t *testing.T) {
	t.Parallel()
	exprs := []string{
		`[{"measurement": "cpu", "tags": {"host": "web%02d" % i, "k": "é😀"}, "fields": {"u": 12.5 + i / 7, "n": i * 7919, "big": 2**63 + i, "neg": -2**62 - i, "ok": i % 2 == 0, "s": "a\ud800b\ud83d\ude00", "none": None}, "time": 1700000000 + i / 3} for i in range(50)]`,
		`[{"measurement": "m", "fields": {"f": 1}, "time": t} for t in (0, -1, 1700000000123, 1700000000123.25, 1700000000123456, 1700000000123456789, 1.5e15, -9999999999.75, 2**63 - 1)]`,
		`[{"measurement": "m", "fields": {"f": float("nan"), "g": float("-inf"), "h": 1e308, "i": 5e-324}}]`,
		`[{"fields": {"f": 1}}, {"measurement": "", "fields": {"f": 2}}, {"measurement": None, "fields": {"f": 3}}]`,
	}
	// Ints beyond 64 bits: only DataKit's float mode has a value for them.
	floatOnly := []string{
		`[{"measurement": "m", "fields": {"a": 2**53 + 1, "b": -2**53 - 1, "c": 2**64, "d": -2**64 - 1, "e": 2**70 + 2**17 + 1, "f": 3**200, "g": -(2**1023), "h": 2**64 - 1, "i": -2**63, "j": 0, "k": True}}]`,
		`[{"measurement": "m", "fields": {"huge": 10**400}}]`,
		`[{"measurement": "m", "fields": {"huge": -(2**1024)}}]`,
	}
	nExact := len(exprs)
	exprs = append(exprs, floatOnly...)
	script := `
import sys, json, marshal
for line in sys.stdin:
    pts = eval(line)
    print(marshal.dumps(pts, 2).hex(), json.dumps(pts).encode("ascii").hex())
`
	for _, python := range interpreters(t) {
		cmd := exec.Command(python, "-c", script)
		cmd.Stdin = strings.NewReader(strings.Join(exprs, "\n") + "\n")
		out, err := cmd.Output()
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		require.Len(t, lines, len(exprs))
		for i, line := range lines {
			for _, tc := range []struct {
				prec  protocol.Precision
				exact bool
			}{{protocol.PrecisionAuto, true}, {protocol.Millisecond, true}, {protocol.Nanosecond, true}, {protocol.PrecisionAuto, false}, {protocol.Second, false}} {
				prec := tc.prec
				if tc.exact && i >= nExact {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d/%s/exact=%v", python, i, prec, tc.exact), func(t *testing.T) {
					m, j, ok := strings.Cut(line, " ")
					require.True(t, ok)
					mb, err := hex.DecodeString(m)
					require.NoError(t, err)
					jb, err := hex.DecodeString(j)
					require.NoError(t, err)
					md := Decoder{ExactInts: tc.exact}
					var jd protocol.Decoder
					mpts, mwarns, merr := md.Decode(mb, 0, prec, testNow)
					jpts, jwarns, jerr := jd.DecodeJSON(jb, protocol.Options{Precision: prec, Now: testNow, ExactInts: tc.exact})
					if jerr != nil {
						require.Error(t, merr, "JSON: %v", jerr)
						assert.True(t, i == 1 || strings.Contains(exprs[i], "huge"), "only bad times and huge ints fail: %v", jerr)
						return
					}
					require.NoError(t, merr)
					require.Len(t, mpts, len(jpts))
					for k := range jpts {
						assert.True(t, samePoint(jpts[k], mpts[k]), "point %d\nmarshal %s %v\njson    %s %v", k, mpts[k], mpts[k].Time, jpts[k], jpts[k].Time)
					}
					assert.Equal(t, jwarns, mwarns)
				})
			}
		}
	}
}

// BenchmarkDecodeMarshal measures the decoder alone on the points of
// BenchmarkReport, 1,000 per payload.
func BenchmarkDecodeMarshal(b *testing.B) {
	payload, err := hex.DecodeString(pyEncode(b, interpreters(b)[0], []string{benchPoints(1000)})[0])
	if err != nil {
		b.Fatal(err)
	}
	var d Decoder
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := d.Decode(payload, 0, protocol.PrecisionAuto, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

// benchPoints is the Python expression for n points like pythond's
// BenchmarkReport reports: 3 tags and 4 numeric or boolean fields each.
func benchPoints(n int) string {
	return fmt.Sprintf(`[{"measurement": "cpu", "tags": {"host": "web%%02d" %% (i %% 10), "region": "eu-west-1", "cpu": "cpu%%d" %% (i %% 8)}, "fields": {"usage_user": 12.5 + i, "usage_system": 3.25, "count": i, "ok": True}} for i in range(%d)]`, n)
}
