package datakit

import (
	"strconv"
	"strings"

	"github.com/collectkit/collectkit/point"
)

// MaxListed is how many reasons a message about a batch lists before
// "and N more".
const MaxListed = 3

// DescribeWarning formats w in DataKit's "<type>: <message>" shape, naming
// the key and, if where is not empty, where the point was:
//
//	invalid_field_value_type: field "s": metric field has a string value; field dropped (line 3)
func DescribeWarning(w point.Warning, where string) string {
	var b strings.Builder
	b.WriteString(w.Code.String())
	b.WriteString(": ")
	if w.Key != "" {
		b.WriteString(keyKind(w.Code))
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(w.Key))
		b.WriteString(": ")
	}
	if w.Message != "" {
		b.WriteString(w.Message)
	} else {
		b.WriteString("fixed")
	}
	if where != "" {
		b.WriteString(" (")
		b.WriteString(where)
		b.WriteByte(')')
	}
	return b.String()
}

// DescribeRejection formats a rejection of the point at where under rule
// as "<rule>: key \"k\": <message> (line 3)".
func DescribeRejection(rule, key, message, where string) string {
	var b strings.Builder
	b.WriteString(rule)
	b.WriteString(": ")
	if key != "" {
		b.WriteString("key ")
		b.WriteString(strconv.Quote(key))
		b.WriteString(": ")
	}
	if message != "" {
		b.WriteString(message)
	} else {
		b.WriteString("point rejected")
	}
	if where != "" {
		b.WriteString(" (")
		b.WriteString(where)
		b.WriteByte(')')
	}
	return b.String()
}

// Reasons lists the first MaxListed of the reasons why points were fixed
// or dropped, for a message or a log record: warnings first (as
// DescribeWarning gives them, where(j) naming the place of the point of
// warning j; where may be nil), then the other entries, and "and N more" if there are more. A no_field
// warning follows from the others, so it is listed (and counted) only
// when there is nothing else.
func Reasons(warns []point.Warning, where func(i int) string, other []string) []string {
	out := make([]string, 0, MaxListed+1)
	all := 0
	at := func(i int) string {
		if where == nil {
			return ""
		}
		return where(i)
	}
	for j := range warns {
		if warns[j].Code != point.WarnNoField {
			if all++; len(out) < MaxListed {
				out = append(out, DescribeWarning(warns[j], at(j)))
			}
		}
	}
	noField := point.WarnNoField.String() + ": "
	for _, r := range other {
		if !strings.HasPrefix(r, noField) {
			if all++; len(out) < MaxListed {
				out = append(out, r)
			}
		}
	}
	if all == 0 {
		for j := range warns {
			if all++; len(out) < MaxListed {
				out = append(out, DescribeWarning(warns[j], at(j)))
			}
		}
	}
	if more := all - len(out); more > 0 {
		out = append(out, "and "+strconv.Itoa(more)+" more")
	}
	return out
}

// NoPoints is the message of a batch of n points none of which is left
// after checking, with the reasons Reasons lists.
func NoPoints(n int, reasons []string) string {
	if n == 0 {
		return "the batch has no points"
	}
	msg := "none of the " + strconv.Itoa(n) + " points is left after checking"
	if len(reasons) > 0 {
		msg += ": " + strings.Join(reasons, "; ")
	}
	return msg
}

// keyKind says whether a warning's key is a tag or a field key, by code.
func keyKind(c point.WarningCode) string {
	switch c {
	case point.WarnExceedMaxTags, point.WarnExceedMaxTagKeyLen, point.WarnExceedMaxTagValueLen, point.WarnInvalidTagKey:
		return "tag"
	case point.WarnExceedMaxFields, point.WarnExceedMaxFieldKeyLen, point.WarnExceedMaxFieldValueLen,
		point.WarnInvalidFieldValueType, point.WarnNilField, point.WarnNonFiniteFloat, point.WarnExceedMaxFieldValueInt:
		return "field"
	}
	return "key"
}
