package point

import (
	"fmt"
	"strconv"
)

// WarningCode names what was wrong with a point and has been fixed (or,
// under a stricter policy, rejected). The String forms are DataKit's warning
// types where DataKit has one.
type WarningCode uint8

// Warning codes. The comment of each is its String form.
const (
	WarnUnknown                WarningCode = iota // unknown
	WarnInvalidMeasurement                        // invalid_measurement
	WarnExceedMaxTags                             // exceed_max_tags
	WarnExceedMaxFields                           // exceed_max_fields
	WarnExceedMaxTagKeyLen                        // exceed_max_tag_key_len
	WarnExceedMaxTagValueLen                      // exceed_max_tag_value_len
	WarnExceedMaxFieldKeyLen                      // exceed_max_field_key_len
	WarnExceedMaxFieldValueLen                    // exceed_max_field_value_len
	WarnKeyNameConflict                           // key_name_conflict
	WarnDotInKey                                  // dot_in_key
	WarnInvalidTagKey                             // invalid_tag_key
	WarnInvalidFieldValueType                     // invalid_field_value_type
	WarnNilField                                  // nil_field
	WarnAddRequiredKV                             // add_required_kv
	WarnNoField                                   // no_field
	WarnInvalidUTF8                               // invalid_utf8_string
	WarnNonFiniteFloat                            // non_finite_float (beyond DataKit)
	WarnExceedMaxFieldValueInt                    // exceed_max_field_value_int
	WarnDisabledKey                               // disabled_key
	WarnNewLineOrTailEscape                       // found_new_line_or_tail_espace (DataKit's spelling)
	WarnNegativeTime                              // negative_time (beyond DataKit): a time before 1970, kept as it is
)

var warningNames = [...]string{
	"unknown", "invalid_measurement", "exceed_max_tags", "exceed_max_fields",
	"exceed_max_tag_key_len", "exceed_max_tag_value_len", "exceed_max_field_key_len",
	"exceed_max_field_value_len", "key_name_conflict", "dot_in_key", "invalid_tag_key",
	"invalid_field_value_type", "nil_field", "add_required_kv", "no_field",
	"invalid_utf8_string", "non_finite_float", "exceed_max_field_value_int", "disabled_key",
	"found_new_line_or_tail_espace", "negative_time",
}

// String returns the code's DataKit-style name, for example "dot_in_key".
func (c WarningCode) String() string {
	if int(c) < len(warningNames) {
		return warningNames[c]
	}
	return "WarningCode(" + strconv.Itoa(int(c)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (c WarningCode) MarshalText() ([]byte, error) {
	if int(c) >= len(warningNames) {
		return nil, fmt.Errorf("point: unknown warning code %d", c)
	}
	return []byte(warningNames[c]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names
// String returns.
func (c *WarningCode) UnmarshalText(text []byte) error {
	for i, n := range warningNames {
		if n == string(text) {
			*c = WarningCode(i)
			return nil
		}
	}
	return fmt.Errorf("point: unknown warning code %q", text)
}

// Warning records one thing that was wrong with a point and what was done
// about it.
type Warning struct {
	Code    WarningCode
	Point   int    // index of the point in its batch or body; -1 when unknown
	Key     string // the tag or field key concerned, if any
	Message string // what was done, for people
}

// String formats w as "<code>: <message>", DataKit's format.
func (w Warning) String() string {
	if w.Message == "" {
		return w.Code.String()
	}
	return w.Code.String() + ": " + w.Message
}
