package protocol

import (
	"strconv"
	"strings"
)

// DecodeError is what was wrong with one line (line protocol, exposition
// text), one array element (JSON) or one message (exposition protobuf) of
// a body.
type DecodeError struct {
	// Line and Column locate the error in a line-protocol or exposition
	// text body; both are 1-based. They are 0 for JSON and protobuf.
	Line, Column int
	// Element is the 0-based index of the JSON array element or of the
	// protobuf MetricFamily message; -1 for line protocol and for a JSON
	// error that concerns the body as a whole (not an array, trailing
	// data).
	Element int
	// Key is the tag or field key concerned, if known.
	Key string
	// Err is the cause.
	Err error
}

// Error formats e as "protocol: at line 3:14: ..." for line protocol,
// "protocol: element 2, key \"k\": ..." for a JSON element and
// "protocol: body: ..." for a JSON body as a whole.
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("protocol: ")
	switch {
	case e.Line > 0:
		b.WriteString("at line ")
		b.WriteString(strconv.Itoa(e.Line))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Column))
	case e.Element >= 0:
		b.WriteString("element ")
		b.WriteString(strconv.Itoa(e.Element))
	default:
		b.WriteString("body")
	}
	if e.Key != "" {
		b.WriteString(", key ")
		b.WriteString(strconv.Quote(e.Key))
	}
	b.WriteString(": ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("invalid")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// DecodeErrors is the error a decoder returns when any line or element of a
// body is bad. It lists the bad ones in body order.
type DecodeErrors struct {
	// Errors are the recorded errors, at most Options.MaxErrors of them.
	Errors []*DecodeError
	// Valid is how many points decoded without error.
	Valid int
	// Invalid is how many lines or elements were bad, including those
	// beyond Options.MaxErrors that Errors does not hold.
	Invalid int
	// Truncated is true when there were more errors than Errors holds.
	Truncated bool
}

// Error lists the recorded errors, one per line after a summary.
func (e *DecodeErrors) Error() string {
	var b strings.Builder
	b.WriteString("protocol: ")
	b.WriteString(strconv.Itoa(len(e.Errors)))
	if e.Truncated {
		b.WriteString(" or more")
	}
	if len(e.Errors) == 1 && !e.Truncated {
		b.WriteString(" bad entry")
	} else {
		b.WriteString(" bad entries")
	}
	b.WriteString(" (")
	b.WriteString(strconv.Itoa(e.Valid))
	b.WriteString(" valid)")
	for _, de := range e.Errors {
		b.WriteString("\n\t")
		b.WriteString(de.Error())
	}
	return b.String()
}

// Unwrap returns the recorded errors, so errors.Is and errors.As look into
// each of them.
func (e *DecodeErrors) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, de := range e.Errors {
		errs[i] = de
	}
	return errs
}

// EncodeError is what an encoder returns for a point it cannot encode.
type EncodeError struct {
	// Key is the tag or field key concerned; empty when the problem is the
	// point as a whole (for example an empty name).
	Key string
	// Err is the cause.
	Err error

	index int  // the point's index in a JSONEncoder.Append batch
	batch bool // whether index is meaningful
}

// Error formats e as "protocol: cannot encode point[ N][, key \"k\"]: ...",
// where N is the point's index for JSONEncoder.
func (e *EncodeError) Error() string {
	s := "protocol: cannot encode point"
	if e.batch {
		s += " " + strconv.Itoa(e.index)
	}
	if e.Key != "" {
		s += ", key " + strconv.Quote(e.Key)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the cause.
func (e *EncodeError) Unwrap() error { return e.Err }
