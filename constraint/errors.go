package constraint

import (
	"errors"
	"strconv"
	"strings"
)

// ErrRejected is matched by every *RejectError (use errors.Is).
var ErrRejected = errors.New("constraint: point rejected")

// RejectError says a point broke a rule whose Action is Reject. It is
// permanent: sending the same point again gives the same error.
type RejectError struct {
	Point   int    // index of the point in its batch; -1 when unknown (Normalize)
	Key     string // the tag or field key concerned, if any
	Rule    Rule   // the rule broken
	Message string // what was wrong, for people
}

// Error formats e as "constraint: point 3: rule dot_in_key: key "a.b": ...".
func (e *RejectError) Error() string {
	var b strings.Builder
	b.WriteString("constraint: ")
	if e.Point >= 0 {
		b.WriteString("point ")
		b.WriteString(strconv.Itoa(e.Point))
		b.WriteString(": ")
	}
	b.WriteString("rule ")
	b.WriteString(e.Rule.String())
	if e.Key != "" {
		b.WriteString(": key ")
		b.WriteString(strconv.Quote(e.Key))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is ErrRejected.
func (e *RejectError) Is(target error) bool { return target == ErrRejected }
