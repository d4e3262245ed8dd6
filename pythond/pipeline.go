package pythond

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/collectkit/collectkit/point"
)

// runPipeline calls Options.Pipeline for every point of pts when cat is
// logging, with the point's measurement as its source (a logging point's
// measurement is its source, as DataKit writes them). It returns pts
// without the points the pipeline dropped (in place) and how many it
// dropped; a pipeline error, or panic, keeps the point as the pipeline
// left it and adds a warning to warns, whose Point is first plus the
// point's index in pts.
func (s *Supervisor) runPipeline(ctx context.Context, in *resolvedInput, cat point.Category, pts []point.Point, first int, warns []point.Warning) ([]point.Point, int, []point.Warning) {
	if s.pipeline == nil || cat != point.Logging || len(pts) == 0 {
		return pts, 0, warns
	}
	kept := pts[:0]
	failed := 0
	for i := range pts {
		keep, err := s.callPipeline(ctx, in, cat, &pts[i])
		if err != nil {
			if failed == 0 {
				in.logger.Warn("pipeline failed; the point is kept as it left it", "source", pts[i].Name, "err", err)
			}
			failed++
			warns = append(warns, point.Warning{Code: point.WarnUnknown, Point: first + i, Message: "pipeline: " + err.Error()})
		}
		if keep || err != nil {
			kept = append(kept, pts[i])
		}
	}
	dropped := len(pts) - len(kept)
	clear(pts[len(kept):]) // let the dropped points' strings go
	return kept, dropped, warns
}

// callPipeline calls the pipeline for *p, turning a panic into an error
// logged with its stack.
func (s *Supervisor) callPipeline(ctx context.Context, in *resolvedInput, cat point.Category, p *point.Point) (keep bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			keep, err = true, fmt.Errorf("panicked: %v", v)
			in.logger.ErrorContext(ctx, "host callback panicked", "callback", "Pipeline", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	return s.pipeline(ctx, p.Name, cat, p)
}
