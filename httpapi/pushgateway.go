package httpapi

import (
	"encoding/binary"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// parseGroupingKey parses the path of a push into its grouping key with
// protocol.ParsePushPath: a path not under /metrics/job is 404, any other
// mistake in it 400 saying what.
func parseGroupingKey(escapedPath string) ([]point.Tag, error) {
	key, err := protocol.ParsePushPath(escapedPath)
	if err == nil {
		return key, nil
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(escapedPath, "/metrics/"), "/")
	if !strings.HasPrefix(escapedPath, "/metrics/") || (first != "job" && first != "job@base64") {
		return nil, apiErr(http.StatusNotFound, CodeNotFound, "no API at %s: want /metrics/job/<job>{/<label>/<value>}", escapedPath)
	}
	return nil, apiErr(http.StatusBadRequest, CodeBadRequest, "%v", err)
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
	decStart := time.Now()
	pts, err := h.decodePush(rb, r.Header, key)
	h.metrics.decoded(RoutePushgateway, decStart)
	if err != nil {
		return err
	}
	if err := r.Context().Err(); err != nil {
		return err
	}
	st := h.state()
	defer h.release(st)
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

// What decoding a push allocates, for the budget: per sample a point and
// its field (and their copies in normalization), per label a tag.
const (
	pushCostPerSample = 128 + costPerPoint
	pushCostPerLabel  = 64
)

// decodePush decodes a push body with protocol.DecodeExposition: text
// format 0.0.4, or by Content-Type length-delimited protobuf or
// OpenMetrics. The grouping key overrides body labels of the same name,
// samples must not carry timestamps, and the limits on samples, labels
// and label bytes hold for every format. The points come in order of
// their family's name (as the families of a push are listed), each
// family's in body order.
func (h *Handler) decodePush(rb *reqBody, hdr http.Header, key []point.Tag) ([]point.Point, error) {
	body := rb.data
	lim := &h.opts.Limits
	format := protocol.ExpositionFormatOf(hdr.Get("Content-Type"))
	if format == protocol.ExpositionProtobuf {
		n, err := checkDelimited(body, lim.MaxPoints)
		if err != nil {
			return nil, err
		}
		// A message's size bounds its samples and labels; decoding
		// allocates a few times the bytes.
		if err := rb.lease.grow(4*int64(len(body))+int64(n)*pushCostPerSample, "decoding the push"); err != nil {
			return nil, err
		}
	} else {
		samples, labels := protocol.CountExpositionText(body)
		if lim.MaxPoints > 0 && samples > lim.MaxPoints {
			return nil, tooManyPoints(nil, lim.MaxPoints)
		}
		if err := rb.lease.grow(int64(samples)*pushCostPerSample+int64(labels)*pushCostPerLabel, "decoding the push"); err != nil {
			return nil, err
		}
	}
	pts, _, err := protocol.DecodeExposition(nil, body, protocol.ExpositionOptions{
		Format:           format,
		Now:              h.now(),
		Tags:             key,
		TagsOverride:     true,
		RejectTimestamps: true,
		MaxSamples:       lim.MaxPoints,
		MaxLabels:        lim.MaxPushLabels,
		MaxLabelBytes:    lim.MaxPushLabelBytes,
	})
	if err != nil {
		return nil, pushErr(err, format, lim.MaxPoints)
	}
	slices.SortStableFunc(pts, cmpFamily)
	return pts, nil
}

// pushErr turns a decoding error into the answer to the push.
func pushErr(err error, format protocol.ExpositionFormat, maxPoints int) error {
	var de *protocol.DecodeError
	if !errors.As(err, &de) {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "invalid push body: %v", err)
	}
	where := "line " + strconv.Itoa(de.Line)
	if format == protocol.ExpositionProtobuf {
		where = "metric family " + strconv.Itoa(de.Element)
	}
	switch {
	case errors.Is(err, protocol.ErrTooManyPoints):
		return tooManyPoints(nil, maxPoints)
	case errors.Is(err, protocol.ErrSampleTimestamp):
		return apiErr(http.StatusBadRequest, CodeBadRequest, "pushed metrics must not have timestamps: %s: %v", where, de.Err)
	case errors.Is(err, protocol.ErrTooManyLabels), errors.Is(err, protocol.ErrLabelsTooLong):
		return apiErr(http.StatusBadRequest, CodeBadRequest, "%s: %v", where, de.Err)
	case format == protocol.ExpositionProtobuf:
		return apiErr(http.StatusBadRequest, CodeBadRequest, "invalid protobuf push body: %s: %v", where, de.Err)
	case format == protocol.ExpositionOpenMetrics:
		return apiErr(http.StatusBadRequest, CodeBadRequest, "invalid OpenMetrics push body: %s: %v (column %d)", where, de.Err, de.Column)
	}
	return apiErr(http.StatusBadRequest, CodeBadRequest, "invalid text-format push body: %s: %v (column %d)", where, de.Err, de.Column)
}

// familyOf tells the family name a point came from, as two parts to be
// read one after the other: text 0.0.4 writes a counter as <name>_total
// and its created timestamps as a gauge <name>_created.
func familyOf(p *point.Point) (string, string) {
	if len(p.Fields) == 1 {
		switch p.Fields[0].Key {
		case "total":
			return p.Name, "_total"
		case "created":
			return p.Name, "_created"
		}
	}
	return p.Name, ""
}

// cmpFamily orders points by familyOf without building the names.
func cmpFamily(a, b point.Point) int {
	a1, a2 := familyOf(&a)
	b1, b2 := familyOf(&b)
	for i := 0; ; i++ {
		ca, oka := byteAt(a1, a2, i)
		cb, okb := byteAt(b1, b2, i)
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		case ca != cb:
			return int(ca) - int(cb)
		}
	}
}

func byteAt(s1, s2 string, i int) (byte, bool) {
	if i < len(s1) {
		return s1[i], true
	}
	if i -= len(s1); i < len(s2) {
		return s2[i], true
	}
	return 0, false
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
