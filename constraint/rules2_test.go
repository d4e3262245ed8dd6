package constraint

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/collectkit/collectkit/point"
)

func TestRule5_KeyLenTruncated(t *testing.T) {
	long := strings.Repeat("k", 300)
	// 255 ASCII bytes then a 3-byte rune: a cut at 256 would split it.
	runeAcross := strings.Repeat("k", 255) + "世界"
	runRuleCases(t, []ruleCase{
		{
			name: "tag and field keys cut to 256 bytes",
			in:   pt("m", tags(long, "v"), fields(fl(long+"f", point.IntValue(1)), fl("g", point.IntValue(2)))),
			want: pt("m", tags(long[:256], "v"), fields(fl("g", point.IntValue(2)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxTagKeyLen, long[:256], "tag key is 300 bytes, over the limit of 256; truncated to 256 bytes"),
				warn(point.WarnExceedMaxFieldKeyLen, long[:256], "field key is 301 bytes, over the limit of 256; truncated to 256 bytes"),
				warn(point.WarnKeyNameConflict, long[:256], "key is both a tag and a field; field dropped"),
			},
		},
		{
			name: "cut at a rune boundary",
			in:   pt("m", nil, fields(fl(runeAcross, point.IntValue(1)))),
			want: pt("m", nil, fields(fl(strings.Repeat("k", 255), point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxFieldKeyLen, strings.Repeat("k", 255), "field key is 261 bytes, over the limit of 256; truncated to 255 bytes"),
			},
		},
		{
			name: "custom limit",
			opts: Options{Limits: Limits{MaxKeyLen: 6}},
			in:   pt("m", tags("région", "v"), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags("régio", "v"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxTagKeyLen, "régio", "tag key is 7 bytes, over the limit of 6; truncated to 6 bytes"),
			},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleKeyLen: Reject}},
			in:     pt("m", tags(long, "v"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: long[:256], Rule: RuleKeyLen, Message: "tag key is 300 bytes, over the limit of 256"},
		},
		{
			name: "unlimited",
			opts: Options{Limits: Limits{MaxKeyLen: -1}},
			in:   pt("m", tags(long, "v"), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags(long, "v"), fields(fl("f", point.IntValue(1)))),
		},
	})
}

func TestRule6_TagValueLenTruncated(t *testing.T) {
	long := strings.Repeat("v", 1100)
	runeAcross := strings.Repeat("v", 1023) + "é"
	runRuleCases(t, []ruleCase{
		{
			name:  "cut to 1024 bytes",
			in:    pt("m", tags("t", long), fields(fl("f", point.IntValue(1)))),
			want:  pt("m", tags("t", long[:1024]), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnExceedMaxTagValueLen, "t", "tag value is 1100 bytes, over the limit of 1024; truncated to 1024 bytes")},
		},
		{
			name:  "cut at a rune boundary",
			in:    pt("m", tags("t", runeAcross), fields(fl("f", point.IntValue(1)))),
			want:  pt("m", tags("t", runeAcross[:1023]), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnExceedMaxTagValueLen, "t", "tag value is 1025 bytes, over the limit of 1024; truncated to 1023 bytes")},
		},
		{
			name: "exactly at the limit is fine",
			in:   pt("m", tags("t", long[:1024]), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags("t", long[:1024]), fields(fl("f", point.IntValue(1)))),
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleTagValueLen: Reject}},
			in:     pt("m", tags("t", long), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "t", Rule: RuleTagValueLen, Message: "tag value is 1100 bytes, over the limit of 1024"},
		},
	})
}

func TestRule7_FieldValueLenTruncated(t *testing.T) {
	limits := Limits{MaxFieldValueLen: 8}
	runRuleCases(t, []ruleCase{
		{
			name:  "string cut at a rune boundary",
			cat:   point.Logging,
			opts:  Options{Limits: limits},
			in:    pt("l", nil, fields(fl("message", point.StringValue("abcdefg€")), fl("status", point.StringValue("ok")))),
			want:  pt("l", nil, fields(fl("message", point.StringValue("abcdefg")), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{warn(point.WarnExceedMaxFieldValueLen, "message", "string field is 10 bytes, over the limit of 8; truncated to 7 bytes")},
		},
		{
			name:  "bytes cut at the limit when they are not text (unsafe_chars ignored)",
			cat:   point.Logging,
			opts:  Options{Limits: limits, Actions: map[Rule]Action{RuleUnsafeChars: Ignore}},
			in:    pt("l", nil, fields(fl("blob", point.BytesValue([]byte("abcdefg€"))), fl("status", point.StringValue("ok")))),
			want:  pt("l", nil, fields(fl("blob", point.BytesValue([]byte("abcdefg\xe2"))), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{warn(point.WarnExceedMaxFieldValueLen, "blob", "bytes field is 10 bytes, over the limit of 8; truncated to 8 bytes")},
		},
		{
			name:  "bytes cut at a rune boundary, since line protocol writes them as text",
			cat:   point.Logging,
			opts:  Options{Limits: limits},
			in:    pt("l", nil, fields(fl("blob", point.BytesValue([]byte("abcdefg€"))), fl("status", point.StringValue("ok")))),
			want:  pt("l", nil, fields(fl("blob", point.BytesValue([]byte("abcdefg"))), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{warn(point.WarnExceedMaxFieldValueLen, "blob", "bytes field is 10 bytes, over the limit of 8; truncated to 7 bytes")},
		},
		{
			name:  "default limit 32 MiB",
			cat:   point.Logging,
			in:    pt("l", nil, fields(fl("message", point.StringValue(strings.Repeat("x", 32<<20+1))), fl("status", point.StringValue("ok")))),
			want:  pt("l", nil, fields(fl("message", point.StringValue(strings.Repeat("x", 32<<20))), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{warn(point.WarnExceedMaxFieldValueLen, "message", "string field is 33554433 bytes, over the limit of 33554432; truncated to 33554432 bytes")},
		},
		{
			name:   "reject",
			cat:    point.Logging,
			opts:   Options{Limits: limits, Actions: map[Rule]Action{RuleFieldValueLen: Reject}},
			in:     pt("l", nil, fields(fl("message", point.StringValue("abcdefghi")), fl("status", point.StringValue("ok")))),
			reject: &RejectError{Point: -1, Key: "message", Rule: RuleFieldValueLen, Message: "string field is 9 bytes, over the limit of 8"},
		},
	})
}

func TestRule8_DotInKeyOnlyForMetric(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "metric keeps dots",
			cat:  point.Metric,
			in:   pt("m", tags("a.b", "1"), fields(fl("f3.14", point.IntValue(1)))),
			want: pt("m", tags("a.b", "1"), fields(fl("f3.14", point.IntValue(1)))),
		},
		{
			name: "logging renames",
			cat:  point.Logging,
			in:   pt("l", tags("a.b", "1"), fields(fl("f.1", point.IntValue(1)), fl("status", point.StringValue("ok")))),
			want: pt("l", tags("a_b", "1"), fields(fl("f_1", point.IntValue(1)), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{
				warn(point.WarnDotInKey, "a.b", `tag key contains "."; renamed to "a_b"`),
				warn(point.WarnDotInKey, "f.1", `field key contains "."; renamed to "f_1"`),
			},
		},
		{
			name:  "every non-metric category: keyevent",
			cat:   point.KeyEvent,
			in:    pt("e", nil, fields(fl("df.title", point.StringValue("t")))),
			want:  pt("e", nil, fields(fl("df_title", point.StringValue("t")))),
			warns: []point.Warning{warn(point.WarnDotInKey, "df.title", `field key contains "."; renamed to "df_title"`)},
		},
		{
			name:  "rename collides with an existing key: first kept",
			cat:   point.Object,
			in:    pt("o", tags("name", "n", "a_b", "1", "a.b", "2"), fields(fl("f", point.IntValue(1)))),
			want:  pt("o", tags("name", "n", "a_b", "1"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnDotInKey, "a.b", `tag key contains "."; renamed to "a_b"`), warn(point.WarnKeyNameConflict, "a_b", "duplicate tag key; this tag dropped, the first one kept")},
		},
		{
			name:   "reject",
			cat:    point.Tracing,
			opts:   Options{Actions: map[Rule]Action{RuleDotInKey: Reject}},
			in:     pt("t", tags("a.b", "1"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "a.b", Rule: RuleDotInKey, Message: `tag key contains "."`},
		},
		{
			name: "ignore",
			cat:  point.Logging,
			opts: Options{Actions: map[Rule]Action{RuleDotInKey: Ignore}},
			in:   pt("l", tags("a.b", "1"), fields(fl("status", point.StringValue("ok")))),
			want: pt("l", tags("a.b", "1"), fields(fl("status", point.StringValue("ok")))),
		},
	})
}

func TestRuleMeasurement(t *testing.T) {
	long := strings.Repeat("m", 1030)
	runRuleCases(t, []ruleCase{
		{
			name:  "empty becomes __default",
			in:    pt("", nil, fields(fl("f", point.IntValue(1)))),
			want:  pt("__default", nil, fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnInvalidMeasurement, "", "measurement name is empty; set to __default")},
		},
		{
			name:  "long name cut to 1024 bytes",
			in:    pt(long, nil, fields(fl("f", point.IntValue(1)))),
			want:  pt(long[:1024], nil, fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnInvalidMeasurement, "", "measurement name is 1030 bytes, over the limit of 1024; truncated to 1024 bytes")},
		},
		{
			name:  "cut at a rune boundary",
			opts:  Options{Limits: Limits{MaxMeasurementLen: 9}},
			in:    pt("measure中", nil, fields(fl("f", point.IntValue(1)))),
			want:  pt("measure", nil, fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnInvalidMeasurement, "", "measurement name is 10 bytes, over the limit of 9; truncated to 7 bytes")},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleMeasurement: Reject}},
			in:     pt("", nil, fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Rule: RuleMeasurement, Message: "measurement name is empty"},
		},
	})
}

func TestRuleStringField_MetricDropsStrings(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "string and bytes dropped from metric",
			cat:  point.Metric,
			in:   pt("abc", tags("t1", "b"), fields(fl("f1", point.IntValue(123)), fl("f3", point.StringValue("strval")), fl("d", point.BytesValue([]byte{1})))),
			want: pt("abc", tags("t1", "b"), fields(fl("f1", point.IntValue(123)))),
			warns: []point.Warning{
				warn(point.WarnInvalidFieldValueType, "f3", "metric field has a string value; field dropped"),
				warn(point.WarnInvalidFieldValueType, "d", "metric field has a bytes value; field dropped"),
			},
		},
		{
			name: "other categories keep strings",
			cat:  point.Network,
			in:   pt("n", nil, fields(fl("f3", point.StringValue("strval")))),
			want: pt("n", nil, fields(fl("f3", point.StringValue("strval")))),
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleStringField: Reject}},
			in:     pt("abc", nil, fields(fl("f3", point.StringValue("strval")))),
			reject: &RejectError{Point: -1, Key: "f3", Rule: RuleStringField, Message: "metric field has a string value"},
		},
	})
}

func TestRuleLoggingStatus(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "status field added",
			cat:   point.Logging,
			in:    pt("nginx", tags("host", "a"), fields(fl("message", point.StringValue("GET /")))),
			want:  pt("nginx", tags("host", "a"), fields(fl("message", point.StringValue("GET /")), fl("status", point.StringValue("info")))),
			warns: []point.Warning{warn(point.WarnAddRequiredKV, "status", `logging point has no status; field status="info" added`)},
		},
		{
			name: "a status tag is enough",
			cat:  point.Logging,
			in:   pt("nginx", tags("status", "error"), fields(fl("message", point.StringValue("x")))),
			want: pt("nginx", tags("status", "error"), fields(fl("message", point.StringValue("x")))),
		},
		{
			name:  "a nil status is replaced",
			cat:   point.Logging,
			in:    pt("nginx", nil, fields(fl("status", point.Value{}), fl("message", point.StringValue("x")))),
			want:  pt("nginx", nil, fields(fl("message", point.StringValue("x")), fl("status", point.StringValue("info")))),
			warns: []point.Warning{warn(point.WarnNilField, "status", "field has no value; field dropped"), warn(point.WarnAddRequiredKV, "status", `logging point has no status; field status="info" added`)},
		},
		{
			name: "only logging",
			cat:  point.RUM,
			in:   pt("view", nil, fields(fl("message", point.StringValue("x")))),
			want: pt("view", nil, fields(fl("message", point.StringValue("x")))),
		},
		{
			name:   "reject",
			cat:    point.Logging,
			opts:   Options{Actions: map[Rule]Action{RuleLoggingStatus: Reject}},
			in:     pt("nginx", nil, fields(fl("message", point.StringValue("x")))),
			reject: &RejectError{Point: -1, Key: "status", Rule: RuleLoggingStatus, Message: "logging point has no status"},
		},
	})
}

func TestRuleObjectName(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "object: name tag added",
			cat:   point.Object,
			in:    pt("some", nil, fields(fl("f1", point.IntValue(123)))),
			want:  pt("some", tags("name", "default"), fields(fl("f1", point.IntValue(123)))),
			warns: []point.Warning{warn(point.WarnAddRequiredKV, "name", `object point has no name; tag name="default" added`)},
		},
		{
			name:  "custom_object gets the object rule too",
			cat:   point.CustomObject,
			in:    pt("some", tags("a", "1"), fields(fl("f1", point.IntValue(123)))),
			want:  pt("some", tags("a", "1", "name", "default"), fields(fl("f1", point.IntValue(123)))),
			warns: []point.Warning{warn(point.WarnAddRequiredKV, "name", `custom_object point has no name; tag name="default" added`)},
		},
		{
			name: "a name field is enough (DataKit's own fix adds one)",
			cat:  point.Object,
			in:   pt("some", nil, fields(fl("f1", point.IntValue(123)), fl("name", point.StringValue("default")))),
			want: pt("some", nil, fields(fl("f1", point.IntValue(123)), fl("name", point.StringValue("default")))),
		},
		{
			name:   "reject",
			cat:    point.Object,
			opts:   Options{Actions: map[Rule]Action{RuleObjectName: Reject}},
			in:     pt("some", nil, fields(fl("f1", point.IntValue(123)))),
			reject: &RejectError{Point: -1, Key: "name", Rule: RuleObjectName, Message: "object point has no name"},
		},
	})
}

func TestRuleNonFinite(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "NaN and infinities dropped",
			in:   pt("m", nil, fields(fl("a", point.FloatValue(math.NaN())), fl("b", point.FloatValue(math.Inf(1))), fl("c", point.FloatValue(math.Inf(-1))), fl("d", point.FloatValue(1.5)))),
			want: pt("m", nil, fields(fl("d", point.FloatValue(1.5)))),
			warns: []point.Warning{
				warn(point.WarnNonFiniteFloat, "a", "field value is NaN; field dropped"),
				warn(point.WarnNonFiniteFloat, "b", "field value is +Inf; field dropped"),
				warn(point.WarnNonFiniteFloat, "c", "field value is -Inf; field dropped"),
			},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleNonFinite: Reject}},
			in:     pt("m", nil, fields(fl("a", point.FloatValue(math.NaN())))),
			reject: &RejectError{Point: -1, Key: "a", Rule: RuleNonFinite, Message: "field value is NaN"},
		},
	})
}

func TestRuleUTF8(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "repaired everywhere; bytes are not text to this rule",
			cat:  point.Logging,
			opts: Options{Actions: map[Rule]Action{RuleUnsafeChars: Ignore}},
			in:   pt("m\xff", tags("k\xfe", "v\xc3"), fields(fl("s", point.StringValue("a\xffb")), fl("raw", point.BytesValue([]byte{0xff})), fl("status", point.StringValue("ok")))),
			want: pt("m\uFFFD", tags("k\uFFFD", "v\uFFFD"), fields(fl("s", point.StringValue("a\uFFFDb")), fl("raw", point.BytesValue([]byte{0xff})), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{
				warn(point.WarnInvalidUTF8, "", "measurement name is not valid UTF-8; invalid bytes replaced with U+FFFD"),
				warn(point.WarnInvalidUTF8, "k\uFFFD", "tag key is not valid UTF-8; invalid bytes replaced with U+FFFD"),
				warn(point.WarnInvalidUTF8, "k\uFFFD", "tag value is not valid UTF-8; invalid bytes replaced with U+FFFD"),
				warn(point.WarnInvalidUTF8, "s", "string field is not valid UTF-8; invalid bytes replaced with U+FFFD"),
			},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleUTF8: Reject}},
			in:     pt("m", tags("k", "\xff"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "k", Rule: RuleUTF8, Message: "tag value is not valid UTF-8"},
		},
		{
			name: "ignore",
			opts: Options{Actions: map[Rule]Action{RuleUTF8: Ignore}},
			in:   pt("m\xff", tags("k", "\xff"), fields(fl("f", point.IntValue(1)))),
			want: pt("m\xff", tags("k", "\xff"), fields(fl("f", point.IntValue(1)))),
		},
	})
}

func TestRuleNilField(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "nil field dropped",
			in:    pt("m", nil, fields(fl("a", point.Value{}), fl("b", point.IntValue(1)))),
			want:  pt("m", nil, fields(fl("b", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnNilField, "a", "field has no value; field dropped")},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleNilField: Reject}},
			in:     pt("m", nil, fields(fl("a", point.Value{}))),
			reject: &RejectError{Point: -1, Key: "a", Rule: RuleNilField, Message: "field has no value"},
		},
	})
}

func TestRuleEmptyKey(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "empty tag and field keys dropped",
			in:   pt("m", tags("", "v", "t", "1"), fields(fl("", point.IntValue(1)), fl("b", point.IntValue(1)))),
			want: pt("m", tags("t", "1"), fields(fl("b", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnDisabledKey, "", "tag key is empty; tag dropped"),
				warn(point.WarnDisabledKey, "", "field key is empty; field dropped"),
			},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleEmptyKey: Reject}},
			in:     pt("m", tags("", "v"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Rule: RuleEmptyKey, Message: "tag key is empty"},
		},
	})
}

func TestRuleNoField(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "Normalize leaves a point with no fields to the middleware",
			in:   pt("m", tags("t", "1"), nil),
			want: pt("m", tags("t", "1"), nil),
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleNoField: Reject}},
			in:     pt("m", nil, fields(fl("s", point.StringValue("x")))),
			reject: &RejectError{Point: -1, Rule: RuleNoField, Message: "point has no fields"},
		},
	})
}

func TestRuleUnsafeChars(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name: "control characters become spaces, trailing backslashes go",
			cat:  point.Logging,
			in: pt("log\nline\\\\", tags("k\r", "a\nb", "path", `C:\dir\`, "t", "\x7f"),
				fields(fl("f\t1", point.IntValue(1)), fl("msg", point.StringValue("two\nlines\\")), fl("status", point.StringValue("ok")))),
			want: pt("log line", tags("k ", "a b", "path", `C:\dir`, "t", " "),
				fields(fl("f 1", point.IntValue(1)), fl("msg", point.StringValue("two\nlines\\")), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{
				warn(point.WarnInvalidMeasurement, "", "measurement name contains a control character and ends in a backslash; control characters replaced with spaces, trailing backslashes removed"),
				warn(point.WarnInvalidTagKey, "k ", "tag key contains a control character; control characters replaced with spaces"),
				warn(point.WarnNewLineOrTailEscape, "k ", "tag value contains a control character; control characters replaced with spaces"),
				warn(point.WarnNewLineOrTailEscape, "path", "tag value ends in a backslash; trailing backslashes removed"),
				warn(point.WarnNewLineOrTailEscape, "t", "tag value contains a control character; control characters replaced with spaces"),
				warn(point.WarnNewLineOrTailEscape, "f 1", "field key contains a control character; control characters replaced with spaces"),
			},
		},
		{
			name: "a leading # in the name becomes _",
			in:   pt("#cpu", nil, fields(fl("f", point.IntValue(1)))),
			want: pt("_cpu", nil, fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnInvalidMeasurement, "", "measurement name starts with '#'; the '#' replaced with '_'"),
			},
		},
		{
			name: "a name of backslashes becomes the default",
			in:   pt(`\\`, tags("k#", "#v"), fields(fl("#f", point.IntValue(1)))),
			want: pt("__default", tags("k#", "#v"), fields(fl("#f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnInvalidMeasurement, "", "measurement name ends in a backslash; trailing backslashes removed"),
				warn(point.WarnInvalidMeasurement, "", "measurement name is empty; set to __default"),
			},
		},
		{
			name: "a key of backslashes is dropped; a fixed key that collides is a duplicate",
			in:   pt("m", tags(`\`, "v", "a", "1", "a\\", "2"), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags("a", "1"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnInvalidTagKey, "", "tag key ends in a backslash; trailing backslashes removed"),
				warn(point.WarnDisabledKey, "", "tag key is empty; tag dropped"),
				warn(point.WarnInvalidTagKey, "a", "tag key ends in a backslash; trailing backslashes removed"),
				warn(point.WarnKeyNameConflict, "a", "duplicate tag key; this tag dropped, the first one kept"),
			},
		},
		{
			name: "truncation that leaves a trailing backslash",
			opts: Options{Limits: Limits{MaxTagValueLen: 8}},
			in:   pt("m", tags("k", `abcdefg\xyz`), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags("k", "abcdefg"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxTagValueLen, "k", "tag value is 11 bytes, over the limit of 8; truncated to 8 bytes"),
				warn(point.WarnNewLineOrTailEscape, "k", "tag value ends in a backslash; trailing backslashes removed"),
			},
		},
		{
			name: "non-ASCII text with a control character",
			in:   pt("m", tags("k", "é\x01"), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags("k", "é "), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnNewLineOrTailEscape, "k", "tag value contains a control character; control characters replaced with spaces"),
			},
		},
		{
			name: "bytes that are not UTF-8 are repaired, and cut at a rune boundary",
			cat:  point.Logging,
			opts: Options{Limits: Limits{MaxFieldValueLen: 5}},
			in:   pt("m", nil, fields(fl("raw", point.BytesValue([]byte{'a', 0xff, 'b'})), fl("long", point.BytesValue([]byte("abcdé"))), fl("status", point.StringValue("ok")))),
			want: pt("m", nil, fields(fl("raw", point.BytesValue([]byte("a\uFFFDb"))), fl("long", point.BytesValue([]byte("abcd"))), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{
				warn(point.WarnInvalidUTF8, "raw", "bytes field is not valid UTF-8, which line protocol cannot carry; invalid bytes replaced with U+FFFD"),
				warn(point.WarnExceedMaxFieldValueLen, "long", "bytes field is 6 bytes, over the limit of 5; truncated to 4 bytes"),
			},
		},
		{
			name: "string field values and backslashes inside tokens are fine",
			in:   pt("m", tags("k", `a\b`, "é", "ü"), fields(fl("s", point.IntValue(1)))),
			want: pt("m", tags("k", `a\b`, "é", "ü"), fields(fl("s", point.IntValue(1)))),
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleUnsafeChars: Reject}},
			in:     pt("m", tags("k", "a\nb"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "k", Rule: RuleUnsafeChars, Message: "tag value contains a control character"},
		},
		{
			name: "ignore",
			opts: Options{Actions: map[Rule]Action{RuleUnsafeChars: Ignore}},
			in:   pt("#m\n", tags("k\\", "a\nb"), fields(fl("f\x00", point.IntValue(1)))),
			want: pt("#m\n", tags("k\\", "a\nb"), fields(fl("f\x00", point.IntValue(1)))),
		},
	})
}

// TestScanControlLanes checks the word scan against a byte-by-byte check
// for every byte value at every position of strings of length 1 to 17.
func TestScanControlLanes(t *testing.T) {
	n := New(Options{})
	for size := 1; size <= 17; size++ {
		for pos := 0; pos < size; pos++ {
			for c := 0; c < 256; c++ {
				b := []byte(strings.Repeat("a", size))
				b[pos] = byte(c)
				s := string(b)
				p := pt("m", tags("k", s), fields(fl(s, point.IntValue(1))))
				want := n.compliant(&p, point.Metric)
				require.Equal(t, want, n.scan(&p, &n.plans[point.Metric]) == 0, "%q", s)
			}
		}
	}
}
