package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

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
	decStart := time.Now()
	if isJSON {
		var warns []point.Warning
		pts, warns, err = dec.DecodeJSON(body, dopts)
		st.warns = append(st.warns, warns...)
		spec.elemWarns = len(warns)
	} else {
		pts, err = dec.DecodeLineProtocol(body, dopts)
		st.warns = append(st.warns, dec.Warnings()...)
	}
	h.metrics.decoded(RouteWrite, decStart)
	if errors.Is(err, protocol.ErrTooManyPoints) {
		return tooManyPoints(err, h.opts.Limits.MaxPoints)
	}
	decodeDropped := 0
	if err != nil {
		var des *protocol.DecodeErrors
		if !spec.loose || len(pts) == 0 || !errors.As(err, &des) {
			if !spec.dry {
				h.metrics.addPoints(RouteWrite, cat, outcomeRejected, pointsOf(err))
			}
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
	if !spec.dry {
		h.metrics.addPoints(RouteWrite, cat, outcomeDropped, decodeDropped)
	}
	if (spec.loose || spec.pipeDropped > 0) && dropped > 0 {
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
// ?loose= that dropped anything or a logging write of which
// Options.Pipeline dropped points, how many lines, elements or points were
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
