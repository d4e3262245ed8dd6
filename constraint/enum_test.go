package constraint

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRuleText(t *testing.T) {
	for _, r := range Rules() {
		t.Run(r.String(), func(t *testing.T) {
			text, err := r.MarshalText()
			require.NoError(t, err)
			var back Rule
			require.NoError(t, back.UnmarshalText(text))
			assert.Equal(t, r, back)
			assert.NotEqual(t, "unknown", r.String())
		})
	}
	tests := []struct {
		name string
		text string
	}{
		{"unknown is not a rule", "unknown"},
		{"empty", ""},
		{"warning code is not a rule name", "key_name_conflict"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r Rule
			assert.Error(t, r.UnmarshalText([]byte(tc.text)))
		})
	}
	_, err := RuleUnknown.MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "Rule(200)", Rule(200).String())
	assert.Len(t, Rules(), int(numRules)-1)
}

func TestActionText(t *testing.T) {
	for _, a := range []Action{Fix, Reject, Ignore} {
		text, err := a.MarshalText()
		require.NoError(t, err)
		var back Action
		require.NoError(t, back.UnmarshalText(text))
		assert.Equal(t, a, back)
	}
	var a Action
	assert.Error(t, a.UnmarshalText([]byte("drop")))
	_, err := Action(7).MarshalText()
	assert.Error(t, err)
	assert.Equal(t, "fix", Action(0).String())
}

func TestActionsFromJSON(t *testing.T) {
	var o Options
	require.NoError(t, json.Unmarshal([]byte(`{"Actions":{"dot_in_key":"reject","utf8":"ignore"}}`), &o))
	assert.Equal(t, map[Rule]Action{RuleDotInKey: Reject, RuleUTF8: Ignore}, o.Actions)
	assert.Error(t, json.Unmarshal([]byte(`{"Actions":{"dots":"reject"}}`), &o))
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr []string // substrings of the error, one per mistake
	}{
		{name: "zero options", opts: Options{}},
		{name: "unlimited", opts: Options{Limits: Limits{MaxTags: -1, MaxFields: -1, MaxKeyLen: -1, MaxTagValueLen: -1, MaxFieldValueLen: -1, MaxMeasurementLen: -1}}},
		{name: "smallest limits", opts: Options{Limits: Limits{MaxTags: 1, MaxFields: 1, MaxKeyLen: 6, MaxTagValueLen: 7, MaxFieldValueLen: 4, MaxMeasurementLen: 9}}},
		{
			name:    "limits too small",
			opts:    Options{Limits: Limits{MaxKeyLen: 5, MaxTagValueLen: 1, MaxFieldValueLen: 3, MaxMeasurementLen: 8}},
			wantErr: []string{"Limits.MaxKeyLen is 5", "Limits.MaxTagValueLen is 1", "Limits.MaxFieldValueLen is 3", "Limits.MaxMeasurementLen is 8"},
		},
		{
			name:    "unknown rule and action",
			opts:    Options{Actions: map[Rule]Action{RuleUnknown: Fix, RuleUTF8: Action(9)}},
			wantErr: []string{"unknown rule 0", "Options.Actions[utf8] is unknown action 9"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			if len(tc.wantErr) == 0 {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, s := range tc.wantErr {
				assert.Contains(t, err.Error(), s)
			}
		})
	}
}

func TestNewCopiesOptions(t *testing.T) {
	opts := Options{Actions: map[Rule]Action{RuleDotInKey: Reject}}
	n := New(opts)
	opts.Actions[RuleDotInKey] = Ignore
	assert.Equal(t, Reject, n.actions[RuleDotInKey])

	// Limits below the minimum are raised to it.
	n = New(Options{Limits: Limits{MaxKeyLen: 1}})
	assert.Equal(t, minKeyLen, n.limits.MaxKeyLen)
}

func TestRejectErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  *RejectError
		want string
	}{
		{"with point and key", &RejectError{Point: 3, Key: "a.b", Rule: RuleDotInKey, Message: `tag key contains "."`}, `constraint: point 3: rule dot_in_key: key "a.b": tag key contains "."`},
		{"from Normalize", &RejectError{Point: -1, Rule: RuleMeasurement, Message: "measurement name is empty"}, `constraint: rule measurement: measurement name is empty`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
			assert.ErrorIs(t, tc.err, ErrRejected)
		})
	}
}
