package collectdconf

import (
	"errors"
	"fmt"
)

// Sentinels wrapped by [Error]; test them with errors.Is.
var (
	// ErrSyntax: a file does not follow collectd.conf's syntax.
	ErrSyntax = errors.New("syntax error")
	// ErrInclude: an include loop, or includes nested deeper than
	// collectd allows (8 files).
	ErrInclude = errors.New("include error")
	// ErrRead: the file, or a file or directory it includes, could not
	// be read.
	ErrRead = errors.New("read error")
	// ErrValue: an option collectd checks has a value it refuses (such
	// as two values for Hostname, or a number for ModulePath).
	ErrValue = errors.New("invalid value")
)

// Error is a problem at a place in a file: File and Line (1-based; 0 when
// the problem is about the file as a whole) and the cause, which wraps
// one of the sentinels.
type Error struct {
	File string
	Line int
	Err  error
}

// Error formats the problem as "file:line: cause".
func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.File, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errorAt makes an *Error at n's place wrapping sentinel.
func errorAt(n *Node, sentinel error, format string, args ...any) *Error {
	return &Error{File: n.File, Line: n.Line, Err: fmt.Errorf("%w: "+format, append([]any{sentinel}, args...)...)}
}
