package constraint

import (
	"fmt"
	"testing"

	"github.com/collectkit/collectkit/point"
)

// The tests named TestRuleN follow the numbered rules of DataKit's "data
// structure constraints" (DataKit API document); the others are DataKit's
// per-category rules and the rules collectkit adds.

func TestRule1_KeyConflictDropsField(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "field with a tag's key is dropped",
			in:    pt("cpu", tags("host", "a"), fields(fl("host", point.IntValue(1)), fl("usage", point.FloatValue(0.5)))),
			want:  pt("cpu", tags("host", "a"), fields(fl("usage", point.FloatValue(0.5)))),
			warns: []point.Warning{warn(point.WarnKeyNameConflict, "host", "key is both a tag and a field; field dropped")},
		},
		{
			name: "several conflicts, order kept",
			cat:  point.Logging,
			in: pt("nginx", tags("a", "1", "b", "2"),
				fields(fl("b", point.IntValue(1)), fl("message", point.StringValue("m")), fl("a", point.IntValue(2)), fl("status", point.StringValue("ok")))),
			want: pt("nginx", tags("a", "1", "b", "2"),
				fields(fl("message", point.StringValue("m")), fl("status", point.StringValue("ok")))),
			warns: []point.Warning{
				warn(point.WarnKeyNameConflict, "b", "key is both a tag and a field; field dropped"),
				warn(point.WarnKeyNameConflict, "a", "key is both a tag and a field; field dropped"),
			},
		},
		{
			name:  "conflict created by a dot fix",
			cat:   point.Logging,
			in:    pt("l", tags("a_b", "x"), fields(fl("a.b", point.IntValue(1)), fl("status", point.StringValue("ok")))),
			want:  pt("l", tags("a_b", "x"), fields(fl("status", point.StringValue("ok")))),
			warns: []point.Warning{warn(point.WarnDotInKey, "a.b", `field key contains "."; renamed to "a_b"`), warn(point.WarnKeyNameConflict, "a_b", "key is both a tag and a field; field dropped")},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleKeyConflict: Reject}},
			in:     pt("cpu", tags("host", "a"), fields(fl("host", point.IntValue(1)), fl("usage", point.FloatValue(0.5)))),
			reject: &RejectError{Point: -1, Key: "host", Rule: RuleKeyConflict, Message: "key is both a tag and a field"},
		},
		{
			name: "ignore",
			opts: Options{Actions: map[Rule]Action{RuleKeyConflict: Ignore}},
			in:   pt("cpu", tags("host", "a"), fields(fl("host", point.IntValue(1)))),
			want: pt("cpu", tags("host", "a"), fields(fl("host", point.IntValue(1)))),
		},
	})
}

func TestRule2_DuplicateKeyKeepsFirst(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "adjacent duplicate tags",
			in:    pt("m", tags("a", "1", "a", "2", "b", "3"), fields(fl("f", point.IntValue(1)))),
			want:  pt("m", tags("a", "1", "b", "3"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnKeyNameConflict, "a", "duplicate tag key; this tag dropped, the first one kept")},
		},
		{
			name: "separated duplicate fields",
			in:   pt("m", nil, fields(fl("f", point.IntValue(1)), fl("g", point.IntValue(2)), fl("f", point.IntValue(3)))),
			want: pt("m", nil, fields(fl("f", point.IntValue(1)), fl("g", point.IntValue(2)))),
			warns: []point.Warning{
				warn(point.WarnKeyNameConflict, "f", "duplicate field key; this field dropped, the first one kept"),
			},
		},
		{
			name: "three of a kind",
			in:   pt("m", nil, fields(fl("f", point.IntValue(1)), fl("f", point.IntValue(2)), fl("f", point.IntValue(3)))),
			want: pt("m", nil, fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnKeyNameConflict, "f", "duplicate field key; this field dropped, the first one kept"),
				warn(point.WarnKeyNameConflict, "f", "duplicate field key; this field dropped, the first one kept"),
			},
		},
		{
			name: "first valid field is the one kept",
			in:   pt("m", nil, fields(fl("f", point.Value{}), fl("f", point.IntValue(2)))),
			want: pt("m", nil, fields(fl("f", point.IntValue(2)))),
			warns: []point.Warning{
				warn(point.WarnNilField, "f", "field has no value; field dropped"),
			},
		},
		{
			name:  "duplicate after truncation",
			opts:  Options{Limits: Limits{MaxKeyLen: 8}},
			in:    pt("m", tags("abcdefgh1", "x", "abcdefgh2", "y"), fields(fl("f", point.IntValue(1)))),
			want:  pt("m", tags("abcdefgh", "x"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnExceedMaxTagKeyLen, "abcdefgh", "tag key is 9 bytes, over the limit of 8; truncated to 8 bytes"), warn(point.WarnExceedMaxTagKeyLen, "abcdefgh", "tag key is 9 bytes, over the limit of 8; truncated to 8 bytes"), warn(point.WarnKeyNameConflict, "abcdefgh", "duplicate tag key; this tag dropped, the first one kept")},
		},
		{
			name: "many unsorted keys, one duplicate",
			in:   pt("m", nil, append(manyFields(100, true), fl("k0050", point.IntValue(-1)))),
			want: pt("m", nil, manyFields(100, true)),
			warns: []point.Warning{
				warn(point.WarnKeyNameConflict, "k0050", "duplicate field key; this field dropped, the first one kept"),
			},
		},
		{
			name:   "reject",
			opts:   Options{Actions: map[Rule]Action{RuleDuplicateKey: Reject}},
			in:     pt("m", tags("a", "1", "a", "2"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "a", Rule: RuleDuplicateKey, Message: "duplicate tag key"},
		},
		{
			name: "ignore",
			opts: Options{Actions: map[Rule]Action{RuleDuplicateKey: Ignore}},
			in:   pt("m", tags("a", "1", "a", "2"), fields(fl("f", point.IntValue(1)))),
			want: pt("m", tags("a", "1", "a", "2"), fields(fl("f", point.IntValue(1)))),
		},
	})
}

// manyFields returns n int fields k000, k001, ...; reversed when unsorted.
func manyFields(n int, unsorted bool) []point.Field {
	fs := make([]point.Field, n)
	for i := range fs {
		j := i
		if unsorted {
			j = n - 1 - i
		}
		fs[i] = fl(keyN(j), point.IntValue(int64(j)))
	}
	return fs
}

func keyN(i int) string { return fmt.Sprintf("k%04d", i) }

func TestRule3_MaxTagsKeepsSmallestKeys(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "largest keys dropped, order kept",
			opts:  Options{Limits: Limits{MaxTags: 2}},
			in:    pt("m", tags("c", "1", "a", "2", "d", "3", "b", "4"), fields(fl("f", point.IntValue(1)))),
			want:  pt("m", tags("a", "2", "b", "4"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{warn(point.WarnExceedMaxTags, "c", `4 tags, over the limit of 2; 2 tags with the largest keys dropped, from "c"`)},
		},
		{
			name: "default limit 256",
			in:   pt("m", manyTags(257), fields(fl("f", point.IntValue(1)))),
			want: pt("m", manyTags(256), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxTags, "k0256", `257 tags, over the limit of 256; 1 tags with the largest keys dropped, from "k0256"`),
			},
		},
		{
			name: "object name is never the one dropped",
			cat:  point.Object,
			opts: Options{Limits: Limits{MaxTags: 2}},
			in:   pt("host", tags("a", "1", "b", "2", "name", "web01"), fields(fl("f", point.IntValue(1)))),
			want: pt("host", tags("a", "1", "name", "web01"), fields(fl("f", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxTags, "b", `3 tags, over the limit of 2; 1 tags with the largest keys dropped, from "b"`),
			},
		},
		{
			name: "a field with a dropped tag's key survives",
			opts: Options{Limits: Limits{MaxTags: 1}},
			in:   pt("m", tags("a", "1", "b", "2"), fields(fl("b", point.IntValue(1)))),
			want: pt("m", tags("a", "1"), fields(fl("b", point.IntValue(1)))),
			warns: []point.Warning{
				warn(point.WarnExceedMaxTags, "b", `2 tags, over the limit of 1; 1 tags with the largest keys dropped, from "b"`),
			},
		},
		{
			name:   "reject",
			opts:   Options{Limits: Limits{MaxTags: 1}, Actions: map[Rule]Action{RuleMaxTags: Reject}},
			in:     pt("m", tags("a", "1", "b", "2"), fields(fl("f", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "b", Rule: RuleMaxTags, Message: "2 tags, over the limit of 1"},
		},
		{
			name: "unlimited",
			opts: Options{Limits: Limits{MaxTags: -1}},
			in:   pt("m", manyTags(300), fields(fl("f", point.IntValue(1)))),
			want: pt("m", manyTags(300), fields(fl("f", point.IntValue(1)))),
		},
	})
}

func manyTags(n int) []point.Tag {
	ts := make([]point.Tag, n)
	for i := range ts {
		ts[i] = point.Tag{Key: keyN(i), Value: "v"}
	}
	return ts
}

func TestRule4_MaxFieldsKeepsSmallestKeys(t *testing.T) {
	runRuleCases(t, []ruleCase{
		{
			name:  "largest keys dropped, order kept",
			opts:  Options{Limits: Limits{MaxFields: 2}},
			in:    pt("m", nil, fields(fl("z", point.IntValue(1)), fl("x", point.IntValue(2)), fl("y", point.IntValue(3)))),
			want:  pt("m", nil, fields(fl("x", point.IntValue(2)), fl("y", point.IntValue(3)))),
			warns: []point.Warning{warn(point.WarnExceedMaxFields, "z", `3 fields, over the limit of 2; 1 fields with the largest keys dropped, from "z"`)},
		},
		{
			name: "default limit 1024, unsorted input",
			in:   pt("m", nil, manyFields(1026, true)),
			want: pt("m", nil, manyFields(1026, true)[2:]),
			warns: []point.Warning{
				warn(point.WarnExceedMaxFields, "k1024", `1026 fields, over the limit of 1024; 2 fields with the largest keys dropped, from "k1024"`),
			},
		},
		{
			name: "logging status is never the one dropped",
			cat:  point.Logging,
			opts: Options{Limits: Limits{MaxFields: 1}},
			in:   pt("l", nil, fields(fl("message", point.StringValue("m")))),
			want: pt("l", nil, fields(fl("status", point.StringValue("info")))),
			warns: []point.Warning{
				warn(point.WarnAddRequiredKV, "status", `logging point has no status; field status="info" added`),
				warn(point.WarnExceedMaxFields, "message", `2 fields, over the limit of 1; 1 fields with the largest keys dropped, from "message"`),
			},
		},
		{
			name:   "reject",
			opts:   Options{Limits: Limits{MaxFields: 1}, Actions: map[Rule]Action{RuleMaxFields: Reject}},
			in:     pt("m", nil, fields(fl("a", point.IntValue(1)), fl("b", point.IntValue(1)))),
			reject: &RejectError{Point: -1, Key: "b", Rule: RuleMaxFields, Message: "2 fields, over the limit of 1"},
		},
	})
}
