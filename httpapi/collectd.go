package httpapi

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/point"
)

// collectdInput is the batch input of the collectd route unless the
// request says ?input=.
const collectdInput = "collectd"

// serveCollectd handles POST /collectd: the body collectd's write_http
// plugin sends with Format "JSON" (collectd.DecodeJSON).
//
// Every value list becomes one point of category metric and every
// notification one point of category keyevent, mapped by
// collectd.AppendPoints (with the data source names the body carries) and
// collectd.NotificationPoint: measurement = plugin; tags host,
// plugin_instance, type and type_instance (empty ones omitted); one field
// per data source named as in types.db (gauge a float, derive an int,
// counter and absolute a uint; a null, NaN, gauge gives no field); the
// value list's time (a missing one is now). The global host tags are
// added and each point is normalized as on /v1/write/metric, with the
// same body limits, memory budget, token and loopback checks. Value lists
// and notifications of one body go to the Sink as two batches (metric
// first), each with Input "collectd" (or ?input=) and Source
// "write_http". write_http sends notifications in bodies of their own; a
// body that mixes both and whose keyevent batch is refused after the
// metric batch was written is answered with the refusal.
//
// The loopback and token rules are every route's. A request without the
// token is answered 401 with a Basic challenge, so write_http's User and
// Password (any user name, the token as password) work: curl sends them
// only once challenged, and then resends the body. Header "X-Token: ..."
// in the Node block, or ?token= in its URL, passes the token in the first
// request.
//
// Query parameters, as on /v1/write: input, loose (write the elements that
// decode and map, and report the others: LooseReport and
// X-Collectkit-Dropped), strict (reject the body on any warning), dry,
// ignore_global_host_tags and global_election_tags.
//
// Answers: 200 with an empty body when everything was written (also when
// no point was left, for example a body of NaN gauges only); 400
// datakit.invalidJsonPoint naming the element index and key (or the value
// list's identifier) when an element cannot be decoded or mapped; 413 over
// the body or point limits; 429 or 503 with Retry-After when the budget
// or the Sink is busy. write_http treats only 200 as success: with
// LogHttpError true it logs any other status (also 204); it never resends
// a body, whatever the status, so what a 4xx or 5xx refused is lost.
func (h *Handler) serveCollectd(w http.ResponseWriter, r *http.Request) error {
	// The route is registered public so that the token check can answer
	// as write_http needs: its User and Password are sent only after a
	// 401 with a Basic challenge (curl's "any" authentication).
	if err := h.guard(r, dialectDataKit, RouteCollectd); err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Code == CodeInvalidToken {
			w.Header().Set("WWW-Authenticate", `Basic realm="collectkit"`)
			ae.Status = http.StatusUnauthorized
		}
		return err
	}
	q := r.URL.Query()
	spec := batchSpec{
		category: point.Metric,
		input:    first(q, "input"),
		source:   "write_http",
		strict:   flag(q, "strict"),
		loose:    flag(q, "loose"),
		dry:      flag(q, "dry"),
		info:     RequestInfo{Route: RouteCollectd, RemoteAddr: r.RemoteAddr, Method: r.Method},
	}
	spec.info.Dry = spec.dry
	if spec.input == "" {
		spec.input = collectdInput
	}
	switch {
	case flag(q, "global_election_tags"):
		spec.extraTags = h.electionTags
	case !flag(q, "ignore_global_host_tags", "ignore_global_tags"):
		spec.extraTags = h.hostTags
	}
	enc := first(q, "encoding")
	if enc == "" {
		enc = r.Header.Get("Content-Encoding")
	}
	if r.ContentLength == 0 {
		return apiErr(http.StatusBadRequest, CodeEmptyBody, "request body is empty, want collectd's write_http JSON")
	}
	rb, err := h.readBody(w, r, enc, false)
	if err != nil {
		return err
	}
	defer rb.close()
	if len(rb.data) == 0 {
		return apiErr(http.StatusBadRequest, CodeEmptyBody, "request body is empty, want collectd's write_http JSON")
	}
	// The elements are counted, and what decoding will allocate
	// estimated, before collectd.DecodeJSON (which decodes the whole
	// array at once) runs.
	elems, commas := scanCollectdJSON(rb.data)
	if max := h.opts.Limits.MaxPoints; max > 0 && elems > max {
		return tooManyPoints(nil, max)
	}
	if err := rb.lease.grow(int64(elems)*costPerCollectdElement+int64(commas)*costPerCollectdComma, "decoding the body"); err != nil {
		return err
	}
	if err := r.Context().Err(); err != nil {
		return err
	}

	decStart := time.Now()
	vls, notifs, decErr := collectd.DecodeJSON(rb.data)
	h.metrics.decoded(RouteCollectd, decStart)
	var je *collectd.JSONError
	if decErr != nil && errors.As(decErr, &je) && je.Index < 0 {
		return collectdErr(decErr)
	}
	now := h.now()
	pts, mapErr := collectd.AppendPoints(make([]point.Point, 0, len(vls)), nil, vls...)
	events := make([]point.Point, 0, len(notifs))
	for i := range notifs {
		events = append(events, collectd.NotificationPoint(notifs[i]))
	}
	if err := errors.Join(decErr, mapErr); err != nil && (!spec.loose || len(pts)+len(events) == 0) {
		return collectdErr(err)
	}
	fillTime(pts, now)
	fillTime(events, now)

	// In loose mode the elements that could not be decoded or mapped are
	// reported like the points the checks dropped.
	var report []string
	dropped := 0
	for _, err := range []error{decErr, mapErr} {
		for _, e := range unjoin(err) {
			report = append(report, e.Error())
			dropped++
		}
	}
	decodeDropped := dropped
	accepted := 0
	for _, b := range []struct {
		cat point.Category
		pts []point.Point
	}{{point.Metric, pts}, {point.KeyEvent, events}} {
		if len(b.pts) == 0 {
			continue
		}
		s := spec
		s.category = b.cat
		st := h.state()
		n := len(b.pts)
		kept, err := h.ingest(r.Context(), st, b.pts, &s)
		report = append(report, st.report...)
		h.release(st)
		if err != nil {
			var ae *Error
			if spec.loose && errors.As(err, &ae) && ae.Code == CodeNoPoints {
				dropped += n
				report = append(report, ae.Message)
				continue
			}
			return err
		}
		accepted += len(kept)
		dropped += n - len(kept)
	}
	if accepted == 0 && dropped > 0 {
		return apiErr(http.StatusBadRequest, CodeNoPoints, "none of the %d elements is left after checking: %s",
			dropped, strings.Join(report[:min(len(report), maxListed)], "; "))
	}
	if !spec.dry {
		// Elements that could not be decoded or mapped, counted as
		// metric points (a bad element's kind is unknown).
		h.metrics.addPoints(RouteCollectd, point.Metric, outcomeDropped, decodeDropped)
	}
	if spec.loose && dropped > 0 {
		w.Header().Set(HeaderDropped, strconv.Itoa(dropped))
	}
	if len(report) > 0 {
		return writeContent(w, LooseReport{Accepted: accepted, Dropped: dropped, Errors: report})
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// collectdErr is the answer to a write_http body that cannot be decoded
// or mapped.
func collectdErr(err error) error {
	msgs := make([]string, 0, maxListed+1)
	all := unjoin(err)
	for i, e := range all {
		if i == maxListed {
			msgs = append(msgs, "and "+strconv.Itoa(len(all)-maxListed)+" more")
			break
		}
		msgs = append(msgs, e.Error())
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidJSONPoint,
		Message: "invalid collectd JSON body: " + strings.Join(msgs, "; "), Err: err}
}

// unjoin returns the errors errors.Join joined in err, or err itself.
func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, unjoin(e)...)
		}
		return out
	}
	return []error{err}
}

// fillTime gives points without a time the time now.
func fillTime(pts []point.Point, now time.Time) {
	for i := range pts {
		if pts[i].Time.IsZero() {
			pts[i].Time = now
		}
	}
}

// What collectd.DecodeJSON allocates, for the budget, measured with the
// real decoder: per array element (a value list, a notification or an
// element it refuses) up to 700 bytes, and per comma inside an element (a
// value, a data source type or name, a key) up to 140 bytes. A 4 KiB body
// of 18 value lists is estimated at 40 KiB.
const (
	costPerCollectdElement = 700
	costPerCollectdComma   = 140
)

// scanCollectdJSON counts the elements of a JSON body's top-level array
// and the commas outside strings below it, without allocating. A body
// that is not an array counts as one element.
func scanCollectdJSON(b []byte) (elems, commas int) {
	depth, in, any := 0, false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case in:
			if c == '\\' {
				i++
			} else if c == '"' {
				in = false
			}
			continue
		case c == '"':
			in = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
		case c == ',':
			if depth == 1 {
				elems++
			} else {
				commas++
			}
			continue
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			continue
		}
		if depth >= 1 && !(depth == 1 && (c == '[' || c == ']')) {
			any = true
		}
	}
	if any {
		elems++
	}
	return elems, commas
}
