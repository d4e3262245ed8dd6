package constraint

import (
	"context"

	"github.com/collectkit/collectkit/point"
)

type contextT = context.Context

// Sink returns a point.Sink that normalizes every batch and writes the
// result to next.
func (n *Normalizer) Sink(next point.Sink) point.Sink {
	return point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		return next.Write(ctx, b)
	})
}
