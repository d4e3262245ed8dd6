package pythond

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
)

// deliver is the sink path of frameworks whose points are made on the Go
// side (the netdata rooms): the input's and global tags are added to each
// point that lacks them, the points are normalized as every report's are
// (a rejected point is dropped with a warning instead of refusing the
// batch: there is no script to answer), and the batch goes to the sink,
// waiting while it is busy. collector names the source in errors (a
// Netdata job). The points become the batch's: their slices are changed in
// place.
func (s *Supervisor) deliver(ctx context.Context, in *resolvedInput, collector string, cat point.Category, pts []point.Point) error {
	if len(pts) == 0 {
		return nil
	}
	var warns []point.Warning
	out := pts[:0]
	for i := range pts {
		p := pts[i]
		for _, t := range in.tags {
			if _, ok := p.Tag(t.Key); !ok {
				p.Tags = append(p.Tags, t)
			}
		}
		ws, err := s.norm.NormalizeOwned(&p, cat, nil)
		for _, w := range ws {
			w.Point = len(out)
			warns = append(warns, w)
		}
		if err != nil {
			var re *constraint.RejectError
			if errors.As(err, &re) {
				re.Point = i
			}
			in.logger.Warn("point dropped", "collector", collector, "err", err)
			continue
		}
		if len(p.Fields) == 0 && s.dropEmpty {
			continue
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil
	}
	b := point.Batch{Category: cat, Input: in.Name, Points: out}
	if len(warns) > 0 {
		if s.onWarnings != nil {
			if err := guard(ctx, in, "Constraint.OnWarnings", func() { s.onWarnings(ctx, b, warns) }); err != nil {
				s.deliveryFailed(ctx, in, collector, err)
				return err
			}
		}
		if in.logger.Enabled(ctx, slog.LevelDebug) {
			in.logger.Debug("points fixed", "collector", collector, "warnings", fmt.Sprint(warns))
		}
	}
	if err := s.writeBatch(ctx, in, b); err != nil {
		s.deliveryFailed(ctx, in, collector, err)
		return err
	}
	return nil
}

func (s *Supervisor) deliveryFailed(ctx context.Context, in *resolvedInput, collector string, err error) {
	in.logger.Warn("points refused", "collector", collector, "err", err)
	s.report(ctx, CollectorError{Name: in.Name, Input: in.Name, Collector: collector, Kind: KindReport, Message: err.Error()})
}
