package constraint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/collectkit/collectkit/point"
)

// Sink returns a point.Sink that normalizes every batch for its category
// and writes the result to next. It is how one Normalizer guards every
// input of a host.
//
// The incoming batch is not modified: a point that needs a change is
// copied (its Tags or Fields slices are replaced, never written into) and
// the others are passed on as they are, in the same order, with the same
// Category, Input, Source and Version. A batch that needs no change is
// passed on unchanged without allocating.
//
// Points are dropped from the batch when they are rejected (a rule set to
// Reject) and when they are left with no fields (warning no_field, unless
// RuleNoField is Reject, which rejects them, or Ignore, which keeps them).
// Warnings, with Point set to the index in the incoming batch, go to
// Options.OnWarnings and the logger before next is called.
//
// When some points are rejected, by default nothing is written: the
// returned error joins one *RejectError per rejected point (errors.Is(err,
// ErrRejected) holds, and errors.As finds the first). The batch is rejected
// as a whole because a Sink error must mean "not written": an HTTP client
// told 400 resends the corrected batch, and a partial write would store the
// good points twice. Options.WritePartial instead writes the other points
// and returns the rejections joined with next's error, if any; use it where
// nobody resends. A batch left empty is not passed on at all. A batch of an
// invalid category is an error and is not passed on.
func (n *Normalizer) Sink(next point.Sink) point.Sink {
	logger := n.logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		if !b.Category.IsValid() {
			return fmt.Errorf("constraint: batch from input %q has invalid category %s", b.Input, b.Category)
		}
		out, warns, rejected := n.batch(b)
		if len(warns) > 0 {
			logger.LogAttrs(ctx, slog.LevelDebug, "constraint: points fixed",
				slog.String("category", b.Category.String()), slog.String("input", b.Input),
				slog.Int("warnings", len(warns)), slog.String("first", warns[0].String()))
			if n.onWarnings != nil {
				n.onWarnings(ctx, b, warns)
			}
		}
		var rejectErr error
		if len(rejected) > 0 {
			rejectErr = errors.Join(rejected...)
			logger.LogAttrs(ctx, slog.LevelWarn, "constraint: points rejected",
				slog.String("category", b.Category.String()), slog.String("input", b.Input),
				slog.Int("rejected", len(rejected)), slog.Int("points", len(b.Points)),
				slog.Bool("batch_written", n.writePartial), slog.String("first", rejected[0].Error()))
			if !n.writePartial {
				return rejectErr
			}
		}
		if len(out) == 0 && len(b.Points) > 0 {
			return rejectErr
		}
		nb := b
		nb.Points = out
		return errors.Join(next.Write(ctx, nb), rejectErr)
	})
}

// batch normalizes the points of b without modifying b. out is b.Points
// itself when no point changed.
func (n *Normalizer) batch(b point.Batch) (out []point.Point, warns []point.Warning, rejected []error) {
	var owned []point.Point // nil until the first point that differs
	for i := range b.Points {
		q := b.Points[i] // a shallow copy: Normalize never writes into its slices
		ws, err := n.Normalize(&q, b.Category)
		drop := false
		if err != nil {
			var re *RejectError
			if errors.As(err, &re) {
				re.Point = i
			}
			rejected = append(rejected, err)
			drop = true
		}
		for _, w := range ws {
			w.Point = i
			warns = append(warns, w)
		}
		if !drop && len(q.Fields) == 0 && n.actions[RuleNoField] == Fix {
			warns = append(warns, point.Warning{Code: point.WarnNoField, Point: i, Message: "point has no fields; point dropped"})
			drop = true
		}
		if owned == nil {
			if !drop && len(ws) == 0 {
				continue
			}
			owned = make([]point.Point, i, len(b.Points))
			copy(owned, b.Points[:i])
		}
		if !drop {
			owned = append(owned, q)
		}
	}
	if owned == nil {
		return b.Points, warns, rejected
	}
	return owned, warns, rejected
}
