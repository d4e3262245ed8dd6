package constraint

import (
	"fmt"
	"strconv"

	"github.com/collectkit/collectkit/point"
)

// Rule names one data constraint. The first eight follow the numbered rules
// of DataKit's "data structure constraints"; the rest are DataKit's
// per-category rules and the checks collectkit adds. The zero Rule,
// RuleUnknown, names no rule.
type Rule uint8

// The rules. The comment of each is its String form and, in brackets, the
// warning code a fix produces.
const (
	RuleUnknown       Rule = iota // unknown
	RuleKeyConflict               // key_conflict: a key in both tags and fields; the field is dropped [key_name_conflict] (DataKit rule 1)
	RuleDuplicateKey              // duplicate_key: a key twice among tags or fields; the first is kept [key_name_conflict] (DataKit rule 2)
	RuleMaxTags                   // max_tags: more tags than Limits.MaxTags; the largest keys are dropped [exceed_max_tags] (DataKit rule 3)
	RuleMaxFields                 // max_fields: more fields than Limits.MaxFields; the largest keys are dropped [exceed_max_fields] (DataKit rule 4)
	RuleKeyLen                    // key_len: a key longer than Limits.MaxKeyLen; truncated [exceed_max_tag_key_len, exceed_max_field_key_len] (DataKit rule 5)
	RuleTagValueLen               // tag_value_len: a tag value longer than Limits.MaxTagValueLen; truncated [exceed_max_tag_value_len] (DataKit rule 6)
	RuleFieldValueLen             // field_value_len: a string or bytes field longer than Limits.MaxFieldValueLen; truncated [exceed_max_field_value_len] (DataKit rule 7)
	RuleDotInKey                  // dot_in_key: a '.' in a key of a non-metric point; replaced by '_' [dot_in_key] (DataKit rule 8)
	RuleMeasurement               // measurement: an empty name (becomes "__default") or one longer than Limits.MaxMeasurementLen (truncated) [invalid_measurement]
	RuleStringField               // string_field: a string or bytes field on a metric point; dropped [invalid_field_value_type]
	RuleLoggingStatus             // logging_status: a logging point without "status"; field status="info" added [add_required_kv]
	RuleObjectName                // object_name: an object or custom_object point without "name"; tag name="default" added [add_required_kv]
	RuleNonFinite                 // non_finite: a NaN or ±Inf float field; dropped [non_finite_float]
	RuleUTF8                      // utf8: invalid UTF-8 in the name, a key, a tag value or a string field; repaired with U+FFFD [invalid_utf8_string]
	RuleNilField                  // nil_field: a field with no value (KindInvalid, a JSON null); dropped [nil_field]
	RuleEmptyKey                  // empty_key: a tag or field with an empty key; dropped [disabled_key]
	RuleNoField                   // no_field: a point with no fields; the Sink middleware drops it [no_field]
	RuleUnsafeChars               // unsafe_chars: what line protocol cannot carry: a control character or trailing backslash in the name, a key or a tag value, a name starting with '#'; fixed [invalid_measurement, invalid_tag_key, found_new_line_or_tail_espace]

	numRules // must stay last
)

var ruleNames = [numRules]string{
	"unknown", "key_conflict", "duplicate_key", "max_tags", "max_fields", "key_len",
	"tag_value_len", "field_value_len", "dot_in_key", "measurement", "string_field",
	"logging_status", "object_name", "non_finite", "utf8", "nil_field", "empty_key",
	"no_field", "unsafe_chars",
}

// Rules returns every rule except RuleUnknown, in declaration order.
func Rules() []Rule {
	rs := make([]Rule, 0, numRules-1)
	for r := RuleUnknown + 1; r < numRules; r++ {
		rs = append(rs, r)
	}
	return rs
}

// IsValid reports whether r is one of the declared rules other than
// RuleUnknown.
func (r Rule) IsValid() bool { return r > RuleUnknown && r < numRules }

// String returns the rule's name, for example "dot_in_key".
func (r Rule) String() string {
	if r < numRules {
		return ruleNames[r]
	}
	return "Rule(" + strconv.Itoa(int(r)) + ")"
}

// ParseRule returns the rule with the given name (as String returns it).
// "unknown" and any other text is an error.
func ParseRule(name string) (Rule, error) {
	for r := RuleUnknown + 1; r < numRules; r++ {
		if ruleNames[r] == name {
			return r, nil
		}
	}
	return RuleUnknown, fmt.Errorf("constraint: unknown rule %q", name)
}

// MarshalText implements encoding.TextMarshaler, so a Rule can be a TOML or
// JSON map key.
func (r Rule) MarshalText() ([]byte, error) {
	if !r.IsValid() {
		return nil, fmt.Errorf("constraint: cannot marshal invalid rule %d", r)
	}
	return []byte(ruleNames[r]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseRule.
func (r *Rule) UnmarshalText(text []byte) error {
	v, err := ParseRule(string(text))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Action is what the Normalizer does about a point that breaks a rule. The
// zero Action, Fix, is the default for every rule.
type Action uint8

// The actions.
const (
	Fix    Action = iota // fix the point as DataKit would and report a warning
	Reject               // reject the point with a *RejectError
	Ignore               // do not check the rule at all
	numActions
)

var actionNames = [numActions]string{"fix", "reject", "ignore"}

// String returns "fix", "reject" or "ignore".
func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// ParseAction returns the action with the given name (as String returns
// it).
func ParseAction(name string) (Action, error) {
	for a := Action(0); a < numActions; a++ {
		if actionNames[a] == name {
			return a, nil
		}
	}
	return Fix, fmt.Errorf("constraint: unknown action %q (want fix, reject or ignore)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (a Action) MarshalText() ([]byte, error) {
	if a >= numActions {
		return nil, fmt.Errorf("constraint: cannot marshal invalid action %d", a)
	}
	return []byte(actionNames[a]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler with ParseAction.
func (a *Action) UnmarshalText(text []byte) error {
	v, err := ParseAction(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// warningCode is the warning a fix under rule r reports; tag tells tags
// from fields where DataKit has two codes.
func (r Rule) warningCode(tag bool) point.WarningCode {
	switch r {
	case RuleKeyConflict, RuleDuplicateKey:
		return point.WarnKeyNameConflict
	case RuleMaxTags:
		return point.WarnExceedMaxTags
	case RuleMaxFields:
		return point.WarnExceedMaxFields
	case RuleKeyLen:
		if tag {
			return point.WarnExceedMaxTagKeyLen
		}
		return point.WarnExceedMaxFieldKeyLen
	case RuleTagValueLen:
		return point.WarnExceedMaxTagValueLen
	case RuleFieldValueLen:
		return point.WarnExceedMaxFieldValueLen
	case RuleDotInKey:
		return point.WarnDotInKey
	case RuleMeasurement:
		return point.WarnInvalidMeasurement
	case RuleStringField:
		return point.WarnInvalidFieldValueType
	case RuleLoggingStatus, RuleObjectName:
		return point.WarnAddRequiredKV
	case RuleNonFinite:
		return point.WarnNonFiniteFloat
	case RuleUTF8:
		return point.WarnInvalidUTF8
	case RuleNilField:
		return point.WarnNilField
	case RuleEmptyKey:
		return point.WarnDisabledKey
	case RuleNoField:
		return point.WarnNoField
	case RuleUnsafeChars:
		return point.WarnNewLineOrTailEscape // unsafeWarning tells the code for names and tag keys
	}
	return point.WarnUnknown
}
