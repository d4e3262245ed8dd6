package netdata

import (
	"errors"
	"strconv"
	"strings"
)

// Sentinels wrapped by [LineError] (test them with errors.Is), and
// ErrDisabled, which [Engine.Feed] and [Engine.Read] return as it is.
var (
	// ErrDisabled: the plugin sent DISABLE, asking not to be run again.
	ErrDisabled = errors.New("netdata: plugin sent DISABLE")
	// ErrLineTooLong: a line is longer than Options.MaxLineBytes.
	ErrLineTooLong = errors.New("netdata: line too long")
	// ErrUnknownCommand: the first word of a line is no plugins.d command.
	ErrUnknownCommand = errors.New("netdata: unknown command")
	// ErrSyntax: a line does not split into words (an unterminated quote)
	// or lacks a required parameter.
	ErrSyntax = errors.New("netdata: syntax error")
	// ErrBadValue: a number (priority, update_every, multiplier, divisor,
	// microseconds, a SET value) does not parse as a 64-bit integer, or a
	// chart id is not "type.id".
	ErrBadValue = errors.New("netdata: bad value")
	// ErrNoChart: DIMENSION or CLABEL_COMMIT before any CHART, or SET or
	// END outside BEGIN ... END.
	ErrNoChart = errors.New("netdata: no current chart")
	// ErrUnknownChart: BEGIN names a chart no CHART line defined.
	ErrUnknownChart = errors.New("netdata: unknown chart")
	// ErrUnknownDimension: SET names a dimension the chart does not have.
	ErrUnknownDimension = errors.New("netdata: unknown dimension")
	// ErrTooManyCharts: a CHART line would exceed Options.MaxCharts.
	ErrTooManyCharts = errors.New("netdata: too many charts")
	// ErrTooManyDimensions: a DIMENSION line would exceed
	// Options.MaxDimensions.
	ErrTooManyDimensions = errors.New("netdata: too many dimensions")
	// ErrTooManyLabels: a CLABEL line would exceed Options.MaxLabels.
	ErrTooManyLabels = errors.New("netdata: too many labels")
)

// LineError is one bad line: its 1-based number (counted by the Engine
// over every line it was fed), its command word (empty when the line has
// none that could be read), and what was wrong, which wraps one of the
// package sentinels. A bad line changes no state except as documented for
// its command; the Engine goes on with the next line.
type LineError struct {
	Line    int
	Command string
	Err     error
}

// Error formats e as `netdata: line 12: SET: ...`.
func (e *LineError) Error() string {
	var b strings.Builder
	b.WriteString("netdata: line ")
	b.WriteString(strconv.Itoa(e.Line))
	b.WriteString(": ")
	if e.Command != "" {
		b.WriteString(e.Command)
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimPrefix(e.Err.Error(), "netdata: "))
	return b.String()
}

// Unwrap returns the cause, which wraps a package sentinel.
func (e *LineError) Unwrap() error { return e.Err }
