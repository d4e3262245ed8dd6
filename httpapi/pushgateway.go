package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/collectkit/collectkit/point"
)

// parseGroupingKey parses the path after /metrics: "job/<job>{/<label>/<value>}",
// where a name ending in "@base64" carries a base64url value (padding
// optional; "=" alone is the empty value) and a plain value is %-decoded
// with '+' as a space, because Python's client quote_plus-es it.
func parseGroupingKey(escapedPath string) ([]point.Tag, error) {
	rest, ok := strings.CutPrefix(escapedPath, "/metrics/")
	if !ok {
		return nil, apiErr(http.StatusNotFound, CodeNotFound, "no API at %s", escapedPath)
	}
	if rest == "job" || rest == "job/" {
		return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "job name must not be empty in %q: want job/<job>{/<label>/<value>}", escapedPath)
	}
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(segs)%2 != 0 {
		return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "odd number of path components in %q: want job/<job>{/<label>/<value>}", escapedPath)
	}
	tags := make([]point.Tag, 0, len(segs)/2)
	for i := 0; i < len(segs); i += 2 {
		name, err := url.PathUnescape(segs[i])
		if err != nil {
			return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "bad label name %q in path: %v", segs[i], err)
		}
		raw := segs[i+1]
		var value string
		if base, isB64 := strings.CutSuffix(name, "@base64"); isB64 {
			name = base
			raw, err = url.PathUnescape(raw)
			if err == nil {
				value, err = decodeBase64Label(raw)
			}
			if err != nil {
				return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "invalid base64 value %q for label %q: %v", segs[i+1], name, err)
			}
		} else {
			value, err = url.QueryUnescape(raw)
			if err != nil {
				return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "bad value %q for label %q in path: %v", raw, name, err)
			}
		}
		if !utf8.ValidString(value) {
			return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "value %q of label %q in path is not valid UTF-8", segs[i+1], name)
		}
		if i == 0 && name != "job" {
			return nil, apiErr(http.StatusNotFound, CodeNotFound, "no API at %s: want /metrics/job/<job>", escapedPath)
		}
		if i == 0 && value == "" {
			return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "job name must not be empty")
		}
		if !model.LabelName(name).IsValid() || strings.HasPrefix(name, "__") {
			return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "invalid label name %q in path", name)
		}
		for _, t := range tags {
			if t.Key == name {
				return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "label %q appears twice in path", name)
			}
		}
		tags = append(tags, point.Tag{Key: name, Value: value})
	}
	return tags, nil
}

// decodeBase64Label decodes RFC 4648 §5 base64url, with or without padding.
func decodeBase64Label(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	return string(b), err
}

// servePushgateway handles PUT|POST|DELETE /metrics/job/<job>{/<label>/<value>}.
//
// The handler does not store metric groups; it turns each push into a
// batch. A host that forwards (rather than stores) sees PUT and POST alike:
// both deliver the pushed samples, and RequestInfo.Method tells which
// replace semantics the client meant (PUT: the whole group, POST: only the
// metric names pushed). DELETE is answered 202 after Hooks.PushgatewayDelete
// (if set) returns.
func (h *Handler) servePushgateway(w http.ResponseWriter, r *http.Request) error {
	key, err := parseGroupingKey(r.URL.EscapedPath())
	if err != nil {
		return err
	}
	info := RequestInfo{Route: RoutePushgateway, RemoteAddr: r.RemoteAddr, Method: r.Method,
		Job: key[0].Value, GroupingKey: key}
	if r.Method == http.MethodDelete {
		if h.opts.Hooks.PushgatewayDelete != nil {
			if err := h.opts.Hooks.PushgatewayDelete(ContextWithRequestInfo(r.Context(), info), info); err != nil {
				return err
			}
		}
		w.WriteHeader(http.StatusAccepted)
		return nil
	}
	rb, err := h.readBody(w, r, r.Header.Get("Content-Encoding"), false)
	if err != nil {
		return err
	}
	defer rb.close()
	families, err := h.parseExposition(r.Context(), rb, r.Header)
	if err != nil {
		return err
	}
	if err := r.Context().Err(); err != nil {
		return err
	}
	st := h.state()
	defer h.release(st)
	pts, err := familiesToPoints(families, key, h.now())
	if err != nil {
		return err
	}
	if len(pts) == 0 {
		// An empty push is valid: it empties the group in a real
		// Pushgateway. There is nothing to write.
		w.WriteHeader(http.StatusOK)
		return nil
	}
	spec := batchSpec{category: point.Metric, input: "pushgateway", source: info.Job, extraTags: h.hostTags, info: info, loose: false}
	if _, err := h.ingest(r.Context(), st, pts, &spec); err != nil {
		var ae *Error
		if errors.As(err, &ae) && ae.Code == CodeNoPoints {
			// Every sample was NaN or ±Inf: nothing to write, but the
			// push itself was valid.
			w.WriteHeader(http.StatusOK)
			return nil
		}
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// What parsing a push allocates, for the budget: prometheus/common's
// dto.Metric with its family bookkeeping per sample, a dto.LabelPair (two
// strings behind pointers) and a point.Tag per label, and the points.
const (
	pushCostPerSample = 512 + costPerPoint
	pushCostPerLabel  = 160
)

// parseExposition parses the text format 0.0.4 or, by Content-Type,
// length-delimited protobuf MetricFamily messages. A text body is checked
// first (prescanText) and parsed with ctx checked between reads, so that
// a client that has gone stops the work.
func (h *Handler) parseExposition(ctx context.Context, rb *reqBody, hdr http.Header) ([]*dto.MetricFamily, error) {
	body := rb.data
	var fams []*dto.MetricFamily
	if expfmt.ResponseFormat(hdr).FormatType() == expfmt.TypeProtoDelim {
		n, err := checkDelimited(body, h.opts.Limits.MaxPoints)
		if err != nil {
			return nil, err
		}
		// A message's size bounds its samples and labels; decoding
		// allocates a few times the bytes.
		if err := rb.lease.grow(4*int64(len(body))+int64(n)*pushCostPerSample, "decoding the push"); err != nil {
			return nil, err
		}
		dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.NewFormat(expfmt.TypeProtoDelim))
		samples := 0
		for {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			mf := new(dto.MetricFamily)
			if err := dec.Decode(mf); err != nil {
				if errors.Is(err, io.EOF) {
					break
				}
				return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "invalid protobuf push body: %v", err)
			}
			if samples += len(mf.GetMetric()); h.opts.Limits.MaxPoints > 0 && samples > h.opts.Limits.MaxPoints {
				return nil, tooManyPoints(nil, h.opts.Limits.MaxPoints)
			}
			fams = append(fams, mf)
		}
	} else {
		samples, labels, err := h.prescanText(body)
		if err != nil {
			return nil, err
		}
		if err := rb.lease.grow(int64(samples)*pushCostPerSample+int64(labels)*pushCostPerLabel, "parsing the push"); err != nil {
			return nil, err
		}
		m, err := parseText(ctx, body)
		if err != nil {
			return nil, err
		}
		fams = make([]*dto.MetricFamily, 0, len(m))
		for _, mf := range m {
			fams = append(fams, mf)
		}
	}
	slices.SortFunc(fams, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return fams, nil
}

// ctxReader fails its reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// parseText parses a text format 0.0.4 body. The text parser of
// prometheus/common panics on some malformed input (a line starting with
// "{" without a metric name, for one); that is the body's fault, so it is
// answered 400 like any other parse error.
func parseText(ctx context.Context, body []byte) (m map[string]*dto.MetricFamily, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, apiErr(http.StatusBadRequest, CodeBadRequest, "invalid text-format push body: the parser failed on it (%v)", r)
		}
	}()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	m, err = parser.TextToMetricFamilies(ctxReader{ctx, bytes.NewReader(body)})
	if cerr := ctx.Err(); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "invalid text-format push body: %v", err)
	}
	return m, nil
}

// maxPushLabelWork bounds the sum over a push's samples of n*(n+1)/2 for a
// sample of n labels: the text parser checks each new label against all
// before it, so that sum is its cost (8M such steps take about a second).
const maxPushLabelWork = 8 << 20

// prescanText checks a text-format body in one linear pass before the
// parser sees it: at most MaxPoints samples, at most MaxPushLabels labels
// and MaxPushLabelBytes bytes of labels per sample, and (unless
// MaxPushLabels is negative) a bounded total parser cost. It counts samples and labels for the budget. A sample's
// labels are the '=' outside quotes between its braces; a line the
// prescan cannot make sense of is left to the parser to reject.
func (h *Handler) prescanText(body []byte) (samples, labels int, err error) {
	lim := &h.opts.Limits
	work := 0
	for line, rest := 0, body; len(rest) > 0; {
		line++
		var l []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			l, rest = rest[:i], rest[i+1:]
		} else {
			l, rest = rest, nil
		}
		l = bytes.TrimLeft(l, " \t")
		if len(l) == 0 || l[0] == '#' {
			continue
		}
		samples++
		if lim.MaxPoints > 0 && samples > lim.MaxPoints {
			return 0, 0, tooManyPoints(nil, lim.MaxPoints)
		}
		open := bytes.IndexByte(l, '{')
		if open < 0 {
			continue
		}
		n, size := countLabels(l[open+1:])
		labels += n
		work += n * (n + 1) / 2
		name := l[:open]
		if len(name) > 64 {
			name = name[:64]
		}
		switch {
		case lim.MaxPushLabels >= 0 && n > lim.MaxPushLabels:
			return 0, 0, apiErr(http.StatusBadRequest, CodeBadRequest,
				"line %d: sample %q has %d labels, more than the limit of %d per sample", line, name, n, lim.MaxPushLabels)
		case lim.MaxPushLabelBytes >= 0 && size > lim.MaxPushLabelBytes:
			return 0, 0, apiErr(http.StatusBadRequest, CodeBadRequest,
				"line %d: sample %q has %d bytes of labels, more than the limit of %d per sample", line, name, size, lim.MaxPushLabelBytes)
		case lim.MaxPushLabels >= 0 && work > maxPushLabelWork:
			return 0, 0, apiErr(http.StatusBadRequest, CodeBadRequest,
				"line %d: the push has too many labels in total for one request (samples with many labels cost the parser the square of their count); send it in smaller pushes", line)
		}
	}
	return samples, labels, nil
}

// countLabels counts the '=' outside quoted strings in b up to the first
// '}' outside quotes, and tells how many bytes come before that brace.
func countLabels(b []byte) (n, size int) {
	in := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && in:
			i++
		case c == '"':
			in = !in
		case in:
		case c == '=':
			n++
		case c == '}':
			return n, i
		}
	}
	return n, len(b)
}

// checkDelimited walks the varint length prefixes of a length-delimited
// protobuf body and rejects a malformed prefix or a message longer than
// the rest of the body, before the decoder allocates the declared length.
// It returns the number of messages (metric families).
func checkDelimited(body []byte, maxMessages int) (int, error) {
	msgs := 0
	for off := 0; off < len(body); {
		n, size := binary.Uvarint(body[off:])
		if size <= 0 {
			return 0, apiErr(http.StatusBadRequest, CodeBadRequest,
				"invalid protobuf push body: bad varint length prefix at byte %d", off)
		}
		off += size
		if rest := uint64(len(body) - off); n > rest {
			return 0, apiErr(http.StatusBadRequest, CodeBadRequest,
				"invalid protobuf push body: message at byte %d declares %d bytes but only %d remain", off-size, n, rest)
		}
		off += int(n)
		if msgs++; maxMessages > 0 && msgs > maxMessages {
			return 0, tooManyPoints(nil, maxMessages)
		}
	}
	return msgs, nil
}

// familiesToPoints maps pushed samples to metric points, all at time now:
//
//   - gauge and untyped: measurement <name>, field "value";
//   - counter: measurement <name> without "_total", field "total";
//   - a gauge family "<base>_created" next to a counter, summary or
//     histogram <base> (how text format 0.0.4 carries created
//     timestamps): measurement <base>, field "created";
//   - summary: one point per quantile (tag "quantile", field "value") and
//     one with fields "sum" and "count";
//   - histogram: one point per bucket (tag "le", field "bucket", the
//     cumulative count) and one with fields "sum" and "count".
//
// Tags are the sample's labels with the grouping key (job first) laid over
// them: a path label replaces a body label of the same name. A sample with
// a timestamp is an error, as in the Pushgateway.
func familiesToPoints(fams []*dto.MetricFamily, key []point.Tag, now time.Time) ([]point.Point, error) {
	bases := make(map[string]bool, len(fams))
	for _, mf := range fams {
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			bases[strings.TrimSuffix(mf.GetName(), "_total")] = true
		case dto.MetricType_SUMMARY, dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			bases[mf.GetName()] = true
		}
	}
	var pts []point.Point
	for _, mf := range fams {
		name := mf.GetName()
		for _, m := range mf.GetMetric() {
			if m == nil {
				continue
			}
			if m.TimestampMs != nil {
				return nil, apiErr(http.StatusBadRequest, CodeBadRequest,
					"pushed metrics must not have timestamps: metric %q has timestamp %d", name, m.GetTimestampMs())
			}
			tags := groupTags(m.GetLabel(), key)
			one := func(measurement string, extra *point.Tag, fields ...point.Field) {
				t := tags
				if extra != nil {
					t = append(slices.Clip(tags), *extra)
				}
				pts = append(pts, point.Point{Name: measurement, Tags: t, Fields: fields, Time: now})
			}
			f := func(k string, v float64) point.Field { return point.Field{Key: k, Value: point.FloatValue(v)} }
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				one(strings.TrimSuffix(name, "_total"), nil, f("total", m.GetCounter().GetValue()))
			case dto.MetricType_GAUGE:
				if base, ok := strings.CutSuffix(name, "_created"); ok && bases[base] {
					one(base, nil, f("created", m.GetGauge().GetValue()))
				} else {
					one(name, nil, f("value", m.GetGauge().GetValue()))
				}
			case dto.MetricType_SUMMARY:
				s := m.GetSummary()
				for _, q := range s.GetQuantile() {
					one(name, &point.Tag{Key: "quantile", Value: formatFloat(q.GetQuantile())}, f("value", q.GetValue()))
				}
				one(name, nil, f("sum", s.GetSampleSum()), f("count", float64(s.GetSampleCount())))
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				hg := m.GetHistogram()
				for _, b := range hg.GetBucket() {
					c := float64(b.GetCumulativeCount())
					if b != nil && b.CumulativeCountFloat != nil {
						c = b.GetCumulativeCountFloat()
					}
					one(name, &point.Tag{Key: "le", Value: formatFloat(b.GetUpperBound())}, f("bucket", c))
				}
				cnt := float64(hg.GetSampleCount())
				// hg is nil for a histogram family whose metric carries no
				// histogram: the getters are nil-safe, the fields are not.
				if hg != nil && hg.SampleCountFloat != nil {
					cnt = hg.GetSampleCountFloat()
				}
				one(name, nil, f("sum", hg.GetSampleSum()), f("count", cnt))
			default: // untyped
				one(name, nil, f("value", m.GetUntyped().GetValue()))
			}
		}
	}
	return pts, nil
}

// groupTags returns the sample's labels with the grouping key laid over.
func groupTags(labels []*dto.LabelPair, key []point.Tag) []point.Tag {
	tags := make([]point.Tag, 0, len(labels)+len(key))
next:
	for _, l := range labels {
		for _, k := range key {
			if k.Key == l.GetName() {
				continue next
			}
		}
		tags = append(tags, point.Tag{Key: l.GetName(), Value: l.GetValue()})
	}
	return append(tags, key...)
}

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
