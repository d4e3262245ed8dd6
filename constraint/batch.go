package constraint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/collectkit/collectkit/point"
)

// Result is what NormalizeBatch found in a batch: the warnings and the
// rejections, each with Point set to the index of its point in the batch
// as it came in. Its zero value is ready to use.
//
// Reuse one Result across batches (a server keeps one per request state):
// NormalizeBatch resets it, reuses its slices, and keeps the keys it adds
// (a logging point's status, an object's name) in storage the Result owns.
// So the points of a batch may alias the Result, and it must not be used
// for another batch while they are in use.
type Result struct {
	// Warnings of the fixed and dropped points, in order.
	Warnings []point.Warning
	// Rejected holds one error per rejected point, in order.
	Rejected []*RejectError
	// In is how many points the batch had before NormalizeBatch.
	In int
	// Dropped is how many points were dropped for having no fields left
	// (warning no_field); rejected points are not counted here.
	Dropped int

	slab slab
}

// Reset empties r for the next batch, keeping its memory. NormalizeBatch
// calls it; a caller that pools Results may call it when it is done with
// a batch, to let go of the batch's strings.
func (r *Result) Reset() {
	clear(r.Rejected)
	r.Warnings, r.Rejected = r.Warnings[:0], r.Rejected[:0]
	r.In, r.Dropped = 0, 0
	r.slab.reset()
}

// Err joins the rejections with errors.Join: nil when no point was
// rejected; otherwise errors.Is(err, ErrRejected) holds and errors.As
// finds the first *RejectError.
func (r *Result) Err() error {
	if len(r.Rejected) == 0 {
		return nil
	}
	errs := make([]error, len(r.Rejected))
	for i, re := range r.Rejected {
		errs[i] = re
	}
	return errors.Join(errs...)
}

// NormalizeBatch normalizes pts, points of category c that the caller owns
// (as NormalizeOwned requires: no two points share an array), in place.
// It returns the points that are kept, in order, compacted to the front of
// pts: a rejected point is left out and so is a point left with no fields
// (warning no_field, unless RuleNoField is Reject, which rejects it, or
// Ignore, which keeps it). r receives the warnings and rejections; it is
// reset first.
//
// A point that only lacks the key its category requires (a logging
// point's status, an object's name) gets it without allocating when r is
// reused: the point's list with the key added is kept in storage r owns. A
// compliant batch costs no allocation.
//
// NormalizeBatch applies no option but the rules: hand the result to
// Deliver for OnWarnings, WritePartial and the logger. The error is for a
// category that is not valid.
func (n *Normalizer) NormalizeBatch(pts []point.Point, c point.Category, r *Result) ([]point.Point, error) {
	r.Reset()
	r.In = len(pts)
	if !c.IsValid() || int(c) >= maxCategories {
		return nil, fmt.Errorf("constraint: cannot normalize a batch of invalid category %s", c)
	}
	return n.batch(pts, c, true, r), nil
}

// Deliver applies the options to batch b that NormalizeBatch (or the
// middleware) normalized with result r, b.Points being the points kept:
// it reports the warnings to Options.OnWarnings (with b) and the logger,
// and the rejections to the logger, and says whether b is to be written.
// It is not when a point was rejected (unless Options.WritePartial is
// set) or when no point is left of a batch that had some. err joins the rejections (see
// Result.Err), whether or not b is written.
func (n *Normalizer) Deliver(ctx context.Context, b point.Batch, r *Result) (write bool, err error) {
	logger := n.logger
	if logger == nil {
		logger = discard
	}
	if len(r.Warnings) > 0 {
		if logger.Enabled(ctx, slog.LevelDebug) {
			logger.LogAttrs(ctx, slog.LevelDebug, "constraint: points fixed",
				slog.String("category", b.Category.String()), slog.String("input", b.Input),
				slog.Int("warnings", len(r.Warnings)), slog.String("first", r.Warnings[0].String()))
		}
		if n.onWarnings != nil {
			n.onWarnings(ctx, b, r.Warnings)
		}
	}
	if len(r.Rejected) > 0 {
		err = r.Err()
		logger.LogAttrs(ctx, slog.LevelWarn, "constraint: points rejected",
			slog.String("category", b.Category.String()), slog.String("input", b.Input),
			slog.Int("rejected", len(r.Rejected)), slog.Int("points", r.In),
			slog.Bool("batch_written", n.writePartial && len(b.Points) > 0), slog.String("first", r.Rejected[0].Error()))
		if !n.writePartial {
			return false, err
		}
	}
	return len(b.Points) > 0 || r.In == 0, err // an empty batch passes as it came
}

// WritePartial reports Options.WritePartial: whether a batch with
// rejected points has its other points written.
func (n *Normalizer) WritePartial() bool { return n.writePartial }

var discard = slog.New(slog.DiscardHandler)

// batch normalizes pts into r. Owned, it works in place and returns pts
// compacted; otherwise it never writes into pts or their arrays and
// returns pts itself when no point changed, else a new slice.
func (n *Normalizer) batch(pts []point.Point, c point.Category, owned bool, r *Result) []point.Point {
	pl := &n.plans[c]
	dropEmpty := n.actions[RuleNoField] == Fix
	var out []point.Point // copy mode: nil until the first point that differs
	kept := 0             // owned: the points kept so far, at the front of pts
	var q point.Point
	for i := range pts {
		p := &pts[i] // owned: fixed in place
		if !owned {
			q = pts[i] // a shallow copy: the fixes never write into its arrays
			p = &q
		}
		before := len(r.Warnings)
		var err error
		changed := false
		if faults := n.scan(p, pl); faults != 0 {
			f := fixer{n: n, owned: owned, warns: r.Warnings, slab: &r.slab}
			var ws []point.Warning
			if ws, err = f.fix(p, c, faults); err == nil {
				r.Warnings = ws
			}
			changed = true
		}
		drop := false
		if err != nil {
			re, ok := err.(*RejectError)
			if !ok {
				re = &RejectError{Point: i, Message: err.Error()}
			}
			re.Point = i
			r.Rejected = append(r.Rejected, re)
			drop = true
		} else {
			for j := before; j < len(r.Warnings); j++ {
				r.Warnings[j].Point = i
			}
			if len(p.Fields) == 0 && dropEmpty {
				r.Warnings = append(r.Warnings, point.Warning{Code: point.WarnNoField, Point: i, Message: msgNoFieldDropped})
				r.Dropped++
				drop = true
			}
		}
		switch {
		case owned:
			if !drop {
				if kept != i {
					pts[kept] = *p
				}
				kept++
			}
		case out == nil && !drop && !changed:
		default:
			if out == nil {
				out = make([]point.Point, i, len(pts))
				copy(out, pts[:i])
			}
			if !drop {
				out = append(out, q)
			}
		}
	}
	switch {
	case owned:
		clear(pts[kept:]) // let the dropped points' strings go
		return pts[:kept]
	case out == nil:
		return pts
	}
	return out
}

// slab holds the tag and field lists of points that got a key added.
// Each list is capped at its length, so appending to one never writes
// into the next. A full chunk is left to the points that use it and a
// bigger one started; reset sizes the chunk for the largest batch seen.
type slab struct {
	fields     []point.Field
	tags       []point.Tag
	usedFields int // used since reset, over every chunk
	usedTags   int
	wantFields int // the most used in one batch
	wantTags   int
}

// slabChunk is the smallest chunk a slab allocates.
const slabChunk = 256

// reset empties s. When the last batch needed more than the current
// chunk, the chunk is replaced by one that holds that much, so the next
// such batch fits in one.
func (s *slab) reset() {
	s.wantFields = max(s.wantFields, s.usedFields)
	s.wantTags = max(s.wantTags, s.usedTags)
	if cap(s.fields) < s.wantFields {
		s.fields = make([]point.Field, 0, s.wantFields)
	} else {
		clear(s.fields) // do not pin the strings of the last batch
		s.fields = s.fields[:0]
	}
	if cap(s.tags) < s.wantTags {
		s.tags = make([]point.Tag, 0, s.wantTags)
	} else {
		clear(s.tags)
		s.tags = s.tags[:0]
	}
	s.usedFields, s.usedTags = 0, 0
}

// appendField returns in with x appended, in the slab.
func (s *slab) appendField(in []point.Field, x point.Field) []point.Field {
	need := len(in) + 1
	if cap(s.fields)-len(s.fields) < need {
		s.fields = make([]point.Field, 0, max(need, 2*cap(s.fields), s.wantFields, slabChunk))
	}
	start := len(s.fields)
	s.fields = append(append(s.fields, in...), x)
	s.usedFields += need
	return s.fields[start:len(s.fields):len(s.fields)]
}

// appendTag returns in with x appended, in the slab.
func (s *slab) appendTag(in []point.Tag, x point.Tag) []point.Tag {
	need := len(in) + 1
	if cap(s.tags)-len(s.tags) < need {
		s.tags = make([]point.Tag, 0, max(need, 2*cap(s.tags), s.wantTags, slabChunk))
	}
	start := len(s.tags)
	s.tags = append(append(s.tags, in...), x)
	s.usedTags += need
	return s.tags[start:len(s.tags):len(s.tags)]
}
