package netdata

import (
	"log/slog"
	"time"
)

// Default limits, used when the Options field is zero.
const (
	// DefaultMaxLineBytes is the default longest line (without its line
	// end), Netdata's own limit for plugin lines.
	DefaultMaxLineBytes = 16 << 10
	// DefaultMaxCharts is the default number of charts an Engine keeps.
	DefaultMaxCharts = 10000
	// DefaultMaxDimensions is the default number of dimensions an Engine
	// keeps over all its charts.
	DefaultMaxDimensions = 100000
	// DefaultMaxLabels is the default number of labels per chart (and of
	// CLABEL lines waiting for CLABEL_COMMIT).
	DefaultMaxLabels = 64
)

// Options configure an [Engine]. The zero Options are the defaults. The
// limits bound what a plugin's output can make the Engine keep: about
// (MaxCharts + MaxDimensions) × MaxLineBytes at the very most.
type Options struct {
	// Module is the module tag and measurement prefix of charts whose
	// CHART line has no module parameter (its 13th word). Empty means the
	// chart's type (the part of type.id before the dot).
	Module string
	// DimensionIDs names fields by dimension id instead of dimension name.
	DimensionIDs bool
	// MaxLineBytes is the longest line accepted, without its line end;
	// longer lines are errors (ErrLineTooLong) and skipped whole. Zero
	// means DefaultMaxLineBytes, negative means no limit.
	MaxLineBytes int
	// MaxCharts is how many charts may be defined; a CHART line for a new
	// chart beyond it is an error (ErrTooManyCharts). Zero means
	// DefaultMaxCharts, negative means no limit.
	MaxCharts int
	// MaxDimensions is how many dimensions all charts together may have;
	// a DIMENSION line for a new one beyond it is an error
	// (ErrTooManyDimensions). Zero means DefaultMaxDimensions, negative
	// means no limit.
	MaxDimensions int
	// MaxLabels is how many labels a chart may have, and how many CLABEL
	// lines may wait for their CLABEL_COMMIT (ErrTooManyLabels). Zero
	// means DefaultMaxLabels, negative means no limit.
	MaxLabels int
	// Now is the clock [Engine.Read] stamps each line with. Nil means
	// time.Now.
	Now func() time.Time
	// OnError receives each bad line's *LineError during [Engine.Read].
	// Nil means log it through Logger at warning level.
	OnError func(error)
	// Logger receives debug records about ignored commands and, when
	// OnError is nil, bad lines. Nil means discard.
	Logger *slog.Logger
}

// limit resolves a limit option: 0 → def, negative → no limit (-1).
func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// over reports whether n items exceed limit l (-1: never).
func over(n, l int) bool { return l >= 0 && n > l }
