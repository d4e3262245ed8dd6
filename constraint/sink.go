package constraint

import (
	"context"
	"errors"
	"fmt"

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
// Points are dropped from the batch as NormalizeBatch drops them, and the
// options apply as Deliver applies them: warnings, with Point set to the
// index in the incoming batch, go to Options.OnWarnings and the logger
// before next is called.
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
	return point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		if !b.Category.IsValid() || int(b.Category) >= maxCategories {
			return fmt.Errorf("constraint: batch from input %q has invalid category %s", b.Input, b.Category)
		}
		r := n.result()
		defer n.release(r)
		r.Reset()
		r.In = len(b.Points)
		nb := b
		nb.Points = n.batch(b.Points, b.Category, false, r)
		write, rejectErr := n.Deliver(ctx, nb, r)
		if !write {
			return rejectErr
		}
		return errors.Join(next.Write(ctx, nb), rejectErr)
	})
}

// result returns a Result from the Normalizer's pool: next may not keep
// the batch once Write returns, so the slab can serve the next batch.
func (n *Normalizer) result() *Result {
	if n.results != nil {
		if r, ok := n.results.Get().(*Result); ok {
			return r
		}
	}
	return new(Result)
}

// maxPooledResult bounds the warnings a pooled Result keeps room for.
const maxPooledResult = 1 << 16

func (n *Normalizer) release(r *Result) {
	if n.results == nil || cap(r.Warnings) > maxPooledResult || cap(r.slab.fields) > maxPooledResult {
		return
	}
	r.Reset()
	n.results.Put(r)
}
