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
// (constraint.Normalizer.NormalizeBatch, then Deliver for the options),
// and the batch goes to the sink, waiting while it is busy. A rejected
// point is reported and left out, and the others are written whatever
// Constraint.WritePartial says: these points have no client that could
// send them again, so refusing the batch would lose every valid one. collector
// names the source in errors (a Netdata job). The points become the
// batch's: their slices are changed in place.
func (s *Supervisor) deliver(ctx context.Context, in *resolvedInput, collector string, cat point.Category, pts []point.Point) error {
	if len(pts) == 0 {
		return nil
	}
	in.unit.reports.Add(1)
	for i := range pts {
		p := &pts[i]
		for _, t := range in.tags {
			if _, ok := p.Tag(t.Key); !ok {
				p.Tags = append(p.Tags, t)
			}
		}
	}
	var res constraint.Result
	var dropped int
	var pipeWarns []point.Warning
	if pts, dropped, pipeWarns = s.runPipeline(ctx, in, cat, pts, 0, nil); dropped > 0 && len(pts) == 0 {
		return nil
	}
	out, err := s.norm.NormalizeBatch(pts, cat, &res)
	if err != nil {
		in.unit.rejected.Add(uint64(len(pts)))
		s.deliveryFailed(ctx, in, collector, err)
		return err
	}
	in.unit.rejected.Add(uint64(len(res.Rejected)))
	res.Warnings = append(pipeWarns, res.Warnings...)
	b := point.Batch{Category: cat, Input: in.Name, Points: out}
	var write bool
	var rejected error
	if err := guard(ctx, in, "Constraint.OnWarnings", func() { write, rejected = s.norm.Deliver(ctx, b, &res) }); err != nil {
		s.deliveryFailed(ctx, in, collector, err)
		return err
	}
	if len(res.Warnings) > 0 && in.logger.Enabled(ctx, slog.LevelDebug) {
		in.logger.Debug("points fixed", "collector", collector, "warnings", fmt.Sprint(res.Warnings))
	}
	if rejected != nil {
		s.deliveryFailed(ctx, in, collector, errors.New(rejectedMessage(&res)))
		write = true // the points left are valid: see above
	}
	if !write || len(out) == 0 {
		return nil
	}
	if err := s.writeBatch(ctx, in, b); err != nil {
		in.unit.rejected.Add(uint64(len(out)))
		s.deliveryFailed(ctx, in, collector, err)
		return err
	}
	in.unit.points.Add(uint64(len(out)))
	return nil
}

func (s *Supervisor) deliveryFailed(ctx context.Context, in *resolvedInput, collector string, err error) {
	in.logger.Warn("points refused", "collector", collector, "err", err)
	s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: collector, Kind: KindReport, Message: err.Error()})
}
