package httpapi

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/internal/datakit"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// writeState is the per-request scratch space of the write routes, pooled.
type writeState struct {
	tags   []point.Tag       // slab for points that receive global tags
	warns  []point.Warning   // decode and normalization warnings
	out    []byte            // echo body
	report []string          // loose mode: what was dropped
	res    constraint.Result // normalization of the request's batch
	// pipeIdx maps the index of a point kept by Options.Pipeline to its
	// index in the body; empty when the pipeline dropped none.
	pipeIdx []int
}

func (h *Handler) state() *writeState {
	if st, ok := h.work.Get().(*writeState); ok {
		return st
	}
	return new(writeState)
}

func (h *Handler) release(st *writeState) {
	if cap(st.tags) > 1<<20 || cap(st.out) > maxPooledBuffer || cap(st.res.Warnings) > 1<<20 || cap(st.pipeIdx) > 1<<20 {
		return
	}
	clear(st.tags) // do not pin request bodies through aliased strings
	st.tags, st.warns, st.out, st.report = st.tags[:0], st.warns[:0], st.out[:0], st.report[:0]
	st.pipeIdx = st.pipeIdx[:0]
	st.res.Reset()
	h.work.Put(st)
}

// batchSpec is what a route decided about a decoded body before it goes
// through normalization and to the Sink.
type batchSpec struct {
	category               point.Category
	input, source, version string
	extraTags              []point.Tag
	strict, loose, dry     bool
	info                   RequestInfo
	// norm, when set, replaces the handler's normalizer.
	norm *constraint.Normalizer
	// dec decoded the points, for where they were in the body; nil when
	// the route built them.
	dec *protocol.Decoder
	// elemWarns is how many warnings at the start of the request's
	// warnings came from the JSON decoder: their Point is the element's
	// index in the array rather than a point index.
	elemWarns int
	// pipeDropped is how many points Options.Pipeline dropped.
	pipeDropped int
}

// ingest adds the extra tags to pts, normalizes them in place with
// constraint.Normalizer.NormalizeBatch (they are the request's own: the
// handler's decoder or the route built them, and no two share an array),
// applies strict and loose, and hands the result to the Sink after
// Normalizer.Deliver applied the constraint options. It returns the points
// written (or that would have been, when dry).
//
// A rejected point refuses the request (400 datakit.pointRejected) unless
// the request is loose or Constraint.WritePartial is set: then the other
// points are written and st.report lists the rejections (the write route
// answers them in its LooseReport). In loose mode st.report also lists
// the points dropped for having no fields.
func (h *Handler) ingest(ctx context.Context, st *writeState, pts []point.Point, spec *batchSpec) ([]point.Point, error) {
	in := len(pts)
	kept, rejected, err := h.ingestBatch(ctx, st, pts, spec)
	h.metrics.batch(spec, in, len(kept), rejected, err)
	if err != nil {
		return nil, &batchError{err, in}
	}
	return kept, nil
}

// ingestBatch is ingest; it also returns how many points a rule rejected
// when the others were written (loose or WritePartial).
func (h *Handler) ingestBatch(ctx context.Context, st *writeState, pts []point.Point, spec *batchSpec) (_ []point.Point, rejected int, _ error) {
	if len(spec.extraTags) > 0 {
		h.addTags(st, pts, spec.extraTags)
	}
	if spec.category == point.Logging && h.opts.Pipeline != nil {
		if pts = h.runPipeline(ctx, st, pts, spec); len(pts) == 0 {
			return nil, 0, nil // all dropped on purpose: nothing to write
		}
	}
	norm := h.norm
	if spec.norm != nil {
		norm = spec.norm
	}
	if spec.strict && len(st.warns) > 0 {
		return nil, 0, spec.strictErr(st) // the decoder's warnings
	}
	res := &st.res
	kept, err := norm.NormalizeBatch(pts, spec.category, res)
	if err != nil {
		return nil, 0, err
	}
	rejected = len(res.Rejected)
	if len(st.pipeIdx) > 0 {
		// Warnings and rejections name points as they were in the body.
		for k := range res.Warnings {
			res.Warnings[k].Point = st.bodyIndex(res.Warnings[k].Point)
		}
		for _, re := range res.Rejected {
			re.Point = st.bodyIndex(re.Point)
		}
	}
	st.warns = append(st.warns, res.Warnings...)
	if spec.strict && len(st.warns) > 0 && len(res.Rejected) == 0 {
		return nil, 0, spec.strictErr(st)
	}
	if spec.loose {
		// A loose request is answered with its rejections and the rest
		// is written, so they are reported here and not to Deliver.
		for _, re := range res.Rejected {
			st.report = append(st.report, spec.describeReject(re))
		}
		clear(res.Rejected)
		res.Rejected = res.Rejected[:0]
		for j := len(st.warns) - len(res.Warnings); j < len(st.warns); j++ {
			if st.warns[j].Code == point.WarnNoField {
				st.report = append(st.report, spec.describe(st.warns, j))
			}
		}
	}
	if len(st.warns)+len(st.report) > 0 && h.log.Enabled(ctx, slog.LevelDebug) {
		h.log.LogAttrs(ctx, slog.LevelDebug, "points fixed or dropped",
			slog.String("route", spec.info.Route.String()), slog.String("input", spec.input),
			slog.Int("points", len(pts)), slog.Int("kept", len(kept)), slog.Int("warnings", len(st.warns)),
			slog.Any("first", spec.why(st)))
	}
	if spec.dry {
		// Checked but not delivered: answered as Deliver would decide.
		switch {
		case len(res.Rejected) > 0 && !norm.WritePartial():
			return nil, 0, spec.rejectErr(res)
		case len(kept) == 0:
			return nil, 0, spec.noPoints(st, len(pts))
		}
		return kept, rejected, nil
	}
	b := point.Batch{
		Category: spec.category,
		Input:    spec.input,
		Source:   spec.source,
		Version:  spec.version,
		Points:   kept,
	}
	// OnWarnings sees the decoder's warnings too, as in pythond.
	res.Warnings = append(res.Warnings[:0], st.warns...)
	write, _ := norm.Deliver(ctx, b, res)
	for _, re := range res.Rejected { // left only under WritePartial
		st.report = append(st.report, spec.describeReject(re))
	}
	switch {
	case !write && len(res.Rejected) > 0:
		return nil, 0, spec.rejectErr(res)
	case !write || len(kept) == 0:
		return nil, 0, spec.noPoints(st, len(pts))
	}
	ctx = ContextWithRequestInfo(ctx, spec.info)
	if err := h.opts.Sink.Write(ctx, b); err != nil {
		return nil, 0, &sinkError{err}
	}
	return kept, rejected, nil
}

// addTags gives every point the extra tags it does not already have. The
// merged tag lists live in one slab per request, with room for one more
// tag after each (an object's name, which normalization may add); each
// point's slice is capped there, so an append beyond that copies instead
// of writing into its neighbour.
func (h *Handler) addTags(st *writeState, pts []point.Point, extra []point.Tag) {
	need := 0
	for i := range pts {
		need += len(pts[i].Tags) + len(extra) + 1
	}
	if cap(st.tags) < need {
		st.tags = make([]point.Tag, 0, need)
	}
	slab := st.tags[:0]
	for i := range pts {
		start := len(slab)
		slab = append(slab, pts[i].Tags...)
	next:
		for _, t := range extra {
			for _, have := range pts[i].Tags {
				if have.Key == t.Key {
					continue next
				}
			}
			slab = append(slab, t)
		}
		pts[i].Tags = slab[start : len(slab) : len(slab)+1]
		slab = slab[:len(slab)+1]
	}
	st.tags = slab
}

// runPipeline calls Options.Pipeline on each point of a logging batch,
// with the request's source or else the point's measurement, and returns
// the points it kept, compacted to the front of pts. A pipeline error is
// a warning of its point (kept as the pipeline left it); a dropped point is
// counted in spec.pipeDropped and, in loose mode, listed in st.report.
// When it drops any, st.pipeIdx maps the kept points to their index in the
// body.
func (h *Handler) runPipeline(ctx context.Context, st *writeState, pts []point.Point, spec *batchSpec) []point.Point {
	ctx = ContextWithRequestInfo(ctx, spec.info)
	st.pipeIdx = st.pipeIdx[:0]
	kept := pts[:0]
	for i := range pts {
		src := spec.source
		if src == "" {
			src = pts[i].Name
		}
		keep, err := callPipeline(ctx, h.opts.Pipeline, src, &pts[i])
		if err != nil {
			st.warns = append(st.warns, point.Warning{Code: point.WarnUnknown, Point: i,
				Message: fmt.Sprintf("pipeline for source %q failed: %s; point kept as the pipeline left it", src, excerpt(err.Error()))})
		}
		if !keep {
			spec.pipeDropped++
			if spec.loose {
				st.report = append(st.report, datakit.DescribeRejection("pipeline", "",
					fmt.Sprintf("the pipeline for source %q dropped the point", src), spec.where(i, false)))
			}
			continue
		}
		st.pipeIdx = append(st.pipeIdx, i)
		kept = append(kept, pts[i])
	}
	if len(kept) == len(pts) {
		st.pipeIdx = st.pipeIdx[:0]
	}
	clear(pts[len(kept):])
	return kept
}

// callPipeline calls p, turning a panic into an error that keeps the point.
func callPipeline(ctx context.Context, p point.Pipeline, source string, pt *point.Point) (keep bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			keep, err = true, fmt.Errorf("panic: %v", v)
		}
	}()
	return p(ctx, source, point.Logging, pt)
}

// bodyIndex returns the index in the body of point i of the batch the
// pipeline left.
func (st *writeState) bodyIndex(i int) int {
	if i >= 0 && i < len(st.pipeIdx) {
		return st.pipeIdx[i]
	}
	return i
}
