package netdataconf

import (
	"errors"
	"fmt"
)

// Sentinels wrapped by [Error]; test them with errors.Is.
var (
	// ErrSyntax: a YAML file does not parse.
	ErrSyntax = errors.New("netdataconf: YAML syntax error")
	// ErrNotMapping: a file's document, or a job, is not a mapping.
	ErrNotMapping = errors.New("netdataconf: not a mapping")
	// ErrBadValue: one of the job default keys (update_every, priority,
	// autodetection_retry, chart_cleanup, penalty) has a value of the wrong type.
	ErrBadValue = errors.New("netdataconf: bad value")
	// ErrUnknownModule: a name of Options.Modules matches no module file.
	ErrUnknownModule = errors.New("netdataconf: unknown module")
	// ErrRead: a file or directory could not be read.
	ErrRead = errors.New("netdataconf: read error")
	// ErrOutside: a module file is a symbolic link that leads out of its
	// module dir; it is not loaded.
	ErrOutside = errors.New("netdataconf: module file outside its dir")
)

// Error is one problem in one place: a file, a line (1-based, 0 when
// unknown), a key (empty when the problem is not about one key) and a module
// (empty for python.d.conf). Err wraps one of the package sentinels.
type Error struct {
	File   string
	Line   int
	Module string
	Key    string
	Err    error
}

// Error formats e as "file:line: module \"m\": key \"k\": what was wrong".
func (e *Error) Error() string {
	where := e.File
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	msg := e.Err.Error()
	if e.Key != "" {
		msg = fmt.Sprintf("key %q: %s", e.Key, msg)
	}
	if e.Module != "" {
		msg = fmt.Sprintf("module %q: %s", e.Module, msg)
	}
	if where == "" {
		return msg
	}
	return where + ": " + msg
}

// Unwrap returns the wrapped sentinel (and cause).
func (e *Error) Unwrap() error { return e.Err }
