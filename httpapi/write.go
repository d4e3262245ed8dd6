package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// writeState is the per-request scratch space of the write routes, pooled.
type writeState struct {
	tags   []point.Tag     // slab for points that receive global tags
	warns  []point.Warning // decode and normalization warnings
	out    []byte          // echo body
	report []string        // loose mode: what was dropped
}

func (h *Handler) state() *writeState {
	if st, ok := h.work.Get().(*writeState); ok {
		return st
	}
	return new(writeState)
}

func (h *Handler) release(st *writeState) {
	if cap(st.tags) > 1<<20 || cap(st.out) > maxPooledBuffer {
		return
	}
	clear(st.tags) // do not pin request bodies through aliased strings
	st.tags, st.warns, st.out, st.report = st.tags[:0], st.warns[:0], st.out[:0], st.report[:0]
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
	// norm, when set, replaces the handler's strict or loose normalizer.
	norm *constraint.Normalizer
	// dec decoded the points, for where they were in the body; nil when
	// the route built them.
	dec *protocol.Decoder
	// elemWarns is how many warnings at the start of the request's
	// warnings came from the JSON decoder: their Point is the element's
	// index in the array rather than a point index.
	elemWarns int
}

// where tells where point i of the body came from, for messages: "line 3"
// (line protocol), "element 2" (JSON) or "point 4" (built by the route);
// elem says i is already a JSON element index.
func (spec *batchSpec) where(i int, elem bool) string {
	switch {
	case i < 0:
		return ""
	case elem:
		return "element " + strconv.Itoa(i)
	case spec.dec != nil:
		line, el := spec.dec.Source(i)
		if line > 0 {
			return "line " + strconv.Itoa(line)
		}
		if el >= 0 {
			return "element " + strconv.Itoa(el)
		}
	}
	return "point " + strconv.Itoa(i)
}

// describe formats warning j of warns in DataKit's "<type>: <message>"
// shape, naming the key and where the point was:
//
//	invalid_field_value_type: field "s": metric field has a string value; field dropped (line 3)
func (spec *batchSpec) describe(warns []point.Warning, j int) string {
	w := warns[j]
	var b strings.Builder
	b.WriteString(w.Code.String())
	b.WriteString(": ")
	if w.Key != "" {
		b.WriteString(keyKind(w.Code))
		b.WriteByte(' ')
		b.WriteString(strconv.Quote(w.Key))
		b.WriteString(": ")
	}
	if w.Message != "" {
		b.WriteString(w.Message)
	} else {
		b.WriteString("fixed")
	}
	if at := spec.where(w.Point, j < spec.elemWarns); at != "" {
		b.WriteString(" (")
		b.WriteString(at)
		b.WriteByte(')')
	}
	return b.String()
}

// describeReject formats a rejection as "<rule>: key \"k\": <message>
// (line 3)".
func (spec *batchSpec) describeReject(re *constraint.RejectError, i int) string {
	var b strings.Builder
	b.WriteString(re.Rule.String())
	b.WriteString(": ")
	if re.Key != "" {
		b.WriteString("key ")
		b.WriteString(strconv.Quote(re.Key))
		b.WriteString(": ")
	}
	if re.Message != "" {
		b.WriteString(re.Message)
	} else {
		b.WriteString("point rejected")
	}
	b.WriteString(" (")
	b.WriteString(spec.where(i, false))
	b.WriteByte(')')
	return b.String()
}

// keyKind says whether a warning's key is a tag or a field key, by code.
func keyKind(c point.WarningCode) string {
	switch c {
	case point.WarnExceedMaxTags, point.WarnExceedMaxTagKeyLen, point.WarnExceedMaxTagValueLen, point.WarnInvalidTagKey:
		return "tag"
	case point.WarnExceedMaxFields, point.WarnExceedMaxFieldKeyLen, point.WarnExceedMaxFieldValueLen,
		point.WarnInvalidFieldValueType, point.WarnNilField, point.WarnNonFiniteFloat, point.WarnExceedMaxFieldValueInt:
		return "field"
	}
	return "key"
}

// maxListed is how many warnings a log record or an error message lists.
const maxListed = 3

// why lists the first reasons why points were fixed or dropped, for a
// message or log record: the warnings, then the loose report entries,
// and how many more there are. A no_field warning follows from the
// others, so it is listed (and counted) only when there is nothing else.
func (spec *batchSpec) why(st *writeState) []string {
	out := make([]string, 0, maxListed+1)
	all := 0
	for j := range st.warns {
		if st.warns[j].Code != point.WarnNoField {
			if all++; len(out) < maxListed {
				out = append(out, spec.describe(st.warns, j))
			}
		}
	}
	noField := point.WarnNoField.String() + ": "
	for _, r := range st.report {
		if !strings.HasPrefix(r, noField) {
			if all++; len(out) < maxListed {
				out = append(out, r)
			}
		}
	}
	if all == 0 {
		for j := range st.warns {
			if all++; len(out) < maxListed {
				out = append(out, spec.describe(st.warns, j))
			}
		}
	}
	if more := all - len(out); more > 0 {
		out = append(out, fmt.Sprintf("and %d more", more))
	}
	return out
}

// ingest adds the extra tags to pts, normalizes them in place (they are
// the handler's buffers: constraint.Normalizer.NormalizeOwned may compact
// each point's Tags and Fields, so no two points may share an array),
// applies strict and loose, and hands the result to the Sink. It returns the points written (or that would have been, when
// dry). In loose mode st.report lists what was dropped.
func (h *Handler) ingest(ctx context.Context, st *writeState, pts []point.Point, spec *batchSpec) ([]point.Point, error) {
	if len(spec.extraTags) > 0 {
		h.addTags(st, pts, spec.extraTags)
	}
	norm := h.strict
	if spec.loose {
		norm = h.loose
	}
	if spec.norm != nil {
		norm = spec.norm
	}
	if spec.strict && len(st.warns) > 0 {
		return nil, spec.strictErr(st)
	}
	n := 0
	for i := range pts {
		// The points are this request's own (decoded by the handler's
		// decoder, or built for it, with no two points sharing an array),
		// so fixes may compact their slices in place.
		before := len(st.warns)
		var err error
		st.warns, err = norm.NormalizeOwned(&pts[i], spec.category, st.warns)
		for j := before; j < len(st.warns); j++ {
			st.warns[j].Point = i
		}
		if err != nil {
			var re *constraint.RejectError
			if !errors.As(err, &re) {
				return nil, err
			}
			rc := *re
			rc.Point = i
			msg := spec.describeReject(&rc, i)
			if !spec.loose {
				return nil, &Error{Status: http.StatusBadRequest, Code: CodePointRejected, Message: msg, Err: &rc}
			}
			st.report = append(st.report, msg)
			continue
		}
		if len(pts[i].Fields) == 0 {
			st.warns = append(st.warns, point.Warning{Code: point.WarnNoField, Point: i, Message: "point has no fields left and is dropped"})
			if spec.loose {
				st.report = append(st.report, spec.describe(st.warns, len(st.warns)-1))
			}
		}
		if spec.strict && len(st.warns) > 0 {
			return nil, spec.strictErr(st)
		}
		if len(pts[i].Fields) == 0 {
			continue
		}
		if n != i {
			pts[n] = pts[i]
		}
		n++
	}
	if n == 0 {
		return nil, apiErr(http.StatusBadRequest, CodeNoPoints, "none of the %d points is left after checking: %s",
			len(pts), strings.Join(spec.why(st), "; "))
	}
	if len(st.warns)+len(st.report) > 0 && h.log.Enabled(ctx, slog.LevelDebug) {
		h.log.LogAttrs(ctx, slog.LevelDebug, "points fixed or dropped",
			slog.String("route", spec.info.Route.String()), slog.String("input", spec.input),
			slog.Int("points", len(pts)), slog.Int("kept", n), slog.Int("warnings", len(st.warns)),
			slog.Any("first", spec.why(st)))
	}
	pts = pts[:n]
	if spec.dry {
		return pts, nil
	}
	ctx = ContextWithRequestInfo(ctx, spec.info)
	err := h.opts.Sink.Write(ctx, point.Batch{
		Category: spec.category,
		Input:    spec.input,
		Source:   spec.source,
		Version:  spec.version,
		Points:   pts,
	})
	if err != nil {
		return nil, &sinkError{err}
	}
	return pts, nil
}

// strictErr is the answer to a strict request with warnings: 400
// datakit.pointGotWarning naming the first warning, its key and where its
// point was.
func (spec *batchSpec) strictErr(st *writeState) error {
	msg := spec.describe(st.warns, 0)
	if len(st.warns) > 1 {
		msg += fmt.Sprintf(" (and %d more warnings)", len(st.warns)-1)
	}
	return apiErr(http.StatusBadRequest, CodePointGotWarning, "%s", msg)
}

// addTags gives every point the extra tags it does not already have. The
// merged tag lists live in one slab per request; each point's slice is
// capped so a later append (by the normalizer) copies instead of writing
// into its neighbour.
func (h *Handler) addTags(st *writeState, pts []point.Point, extra []point.Tag) {
	need := 0
	for i := range pts {
		need += len(pts[i].Tags) + len(extra)
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
		pts[i].Tags = slab[start:len(slab):len(slab)]
	}
	st.tags = slab
}

// flag reports a DataKit boolean query parameter: set when non-empty.
func flag(q map[string][]string, names ...string) bool {
	for _, n := range names {
		if v := q[n]; len(v) > 0 && v[0] != "" {
			return true
		}
	}
	return false
}

func first(q map[string][]string, name string) string {
	if v := q[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// tooManyPoints is the answer to a body over Limits.MaxPoints.
func tooManyPoints(err error, limit int) error {
	return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeBodyTooLarge,
		Message: fmt.Sprintf("body has more than %d points, the limit per request; send it in smaller batches", limit), Err: err}
}

// decodeErr turns a decoder error into the DataKit error of its format.
func decodeErr(err error, isJSON bool) error {
	code, what := CodeInvalidLinePoint, "line protocol"
	if isJSON {
		code, what = CodeInvalidJSONPoint, "JSON"
	}
	return &Error{Status: http.StatusBadRequest, Code: code, Message: "invalid " + what + " body: " + err.Error(), Err: err}
}

// serveWrite handles POST /v1/write/{category}.
func (h *Handler) serveWrite(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("category")
	cat, err := point.ParseCategory(name)
	if err != nil || !cat.IsValid() {
		return apiErr(http.StatusBadRequest, CodeInvalidCategory, "invalid category %q in URL %q; want one of %s", name, r.URL.Path, categoryList())
	}
	q := r.URL.Query()
	prec, err := protocol.ParsePrecision(first(q, "precision"))
	if err != nil {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPrecision,
			Message: fmt.Sprintf("invalid precision %q; want n, u, ms, s, m or h", first(q, "precision")), Err: err}
	}
	spec := batchSpec{
		category: cat,
		input:    first(q, "input"),
		source:   first(q, "source"),
		version:  first(q, "version"),
		strict:   flag(q, "strict"),
		loose:    flag(q, "loose"),
		dry:      flag(q, "dry"),
		info:     RequestInfo{Route: RouteWrite, RemoteAddr: r.RemoteAddr, Method: r.Method},
	}
	spec.info.Dry = spec.dry
	if spec.input == "" {
		spec.input = cat.String()
	}
	switch {
	case flag(q, "global_election_tags"):
		spec.extraTags = h.electionTags
	case !flag(q, "ignore_global_host_tags", "ignore_global_tags"):
		spec.extraTags = h.hostTags
	}
	echo := first(q, "echo")
	switch {
	case echo == "lp" || echo == "json":
	case flag(q, "echo_line_proto"):
		echo = "lp"
	case flag(q, "echo_json"):
		echo = "json"
	default:
		echo = ""
	}
	enc := first(q, "encoding")
	if enc == "" {
		enc = r.Header.Get("Content-Encoding")
	}
	if r.ContentLength == 0 {
		return apiErr(http.StatusBadRequest, CodeEmptyBody, "request body is empty")
	}
	isJSON := strings.Contains(r.Header.Get("Content-Type"), "application/json")
	rb, err := h.readBody(w, r, enc, !isJSON)
	if err != nil {
		return err
	}
	defer rb.close()
	body := rb.data
	if len(body) == 0 {
		return apiErr(http.StatusBadRequest, CodeEmptyBody, "request body is empty")
	}
	if err := rb.lease.grow(decodeCost(body, rb.lines, isJSON, h.opts.Limits.MaxPoints), "decoding the body"); err != nil {
		return err
	}
	if err := r.Context().Err(); err != nil {
		return err
	}

	dec := h.decoder()
	defer h.putDecoder(dec)
	st := h.state()
	defer h.release(st)

	dopts := protocol.Options{
		Precision: prec,
		Now:       h.now(),
		KeepValid: spec.loose,
		ExactInts: h.opts.JSONExactInts,
		MaxErrors: h.opts.MaxDecodeErrors,
		MaxPoints: h.opts.Limits.MaxPoints,
	}
	spec.dec = dec
	var pts []point.Point
	if isJSON {
		var warns []point.Warning
		pts, warns, err = dec.DecodeJSON(body, dopts)
		st.warns = append(st.warns, warns...)
		spec.elemWarns = len(warns)
	} else {
		pts, err = dec.DecodeLineProtocol(body, dopts)
		st.warns = append(st.warns, dec.Warnings()...)
	}
	if errors.Is(err, protocol.ErrTooManyPoints) {
		return tooManyPoints(err, h.opts.Limits.MaxPoints)
	}
	decodeDropped := 0
	if err != nil {
		var des *protocol.DecodeErrors
		if !spec.loose || len(pts) == 0 || !errors.As(err, &des) {
			return decodeErr(err, isJSON)
		}
		decodeDropped = des.Invalid
		for _, de := range des.Errors {
			st.report = append(st.report, de.Error())
		}
		if des.Truncated {
			st.report = append(st.report, "(more bad entries not listed)")
		}
	}
	if len(pts) == 0 {
		return apiErr(http.StatusBadRequest, CodeNoPoints, "the body has no points")
	}
	decoded := len(pts)
	if err := r.Context().Err(); err != nil {
		return err
	}
	pts, err = h.ingest(r.Context(), st, pts, &spec)
	if err != nil {
		return err
	}
	dropped := decoded - len(pts) + decodeDropped
	if spec.loose && dropped > 0 {
		// The loose report is the body unless echo takes it; the count
		// is always in this header.
		w.Header().Set(HeaderDropped, strconv.Itoa(dropped))
	}
	switch echo {
	case "lp":
		var enc protocol.LineEncoder
		for _, p := range pts {
			if st.out, err = enc.Append(st.out, p); err != nil {
				return err
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(st.out)
		return nil
	case "json":
		var enc protocol.JSONEncoder
		if st.out, err = enc.Append(st.out, pts); err != nil {
			return err
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(st.out)
		return nil
	}
	if len(st.report) > 0 {
		return writeContent(w, LooseReport{Accepted: len(pts), Dropped: dropped, Errors: st.report})
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// HeaderDropped is the response header that carries, on a write with
// ?loose= that dropped anything, how many lines, elements or points were
// dropped. It is set with echo too, where the body holds the points
// instead of the LooseReport.
const HeaderDropped = "X-Collectkit-Dropped"

// LooseReport is the body of a 200 answer to a write with ?loose= when
// something was dropped: the points written and what could not be repaired.
// It is wrapped as {"content": LooseReport}.
type LooseReport struct {
	Accepted int      `json:"accepted"`
	Dropped  int      `json:"dropped"`
	Errors   []string `json:"errors"`
}

func categoryList() string {
	cats := point.Categories()
	names := make([]string, len(cats))
	for i, c := range cats {
		names[i] = c.String()
	}
	return strings.Join(names, ", ")
}
