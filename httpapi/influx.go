package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// influxPrecision parses InfluxDB's precision parameter: absent means
// nanoseconds (InfluxDB never guesses); unknown values are an error.
func influxPrecision(s string) (protocol.Precision, error) {
	if s == "" {
		return protocol.Nanosecond, nil
	}
	p, err := protocol.ParsePrecision(s)
	if err != nil {
		return 0, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPrecision,
			Message: fmt.Sprintf("invalid precision %q; want ns, us, ms, s, m or h", s), Err: err}
	}
	return p, nil
}

// serveInfluxV1 handles InfluxDB 1.x POST /write?db=&rp=&precision=.
func (h *Handler) serveInfluxV1(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	db := first(q, "db")
	if db == "" {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "database is required")
	}
	info := RequestInfo{Route: RouteInfluxV1, RemoteAddr: r.RemoteAddr, Method: r.Method,
		Database: db, RetentionPolicy: first(q, "rp")}
	return h.serveInflux(w, r, first(q, "precision"), info)
}

// serveInfluxV2 handles InfluxDB 2.x POST /api/v2/write?org=&bucket=&precision=.
func (h *Handler) serveInfluxV2(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	bucket := first(q, "bucket")
	if bucket == "" {
		return apiErr(http.StatusBadRequest, CodeBadRequest, "bucket is required")
	}
	info := RequestInfo{Route: RouteInfluxV2, RemoteAddr: r.RemoteAddr, Method: r.Method,
		Org: first(q, "org"), Bucket: bucket}
	return h.serveInflux(w, r, first(q, "precision"), info)
}

// serveInflux is the common part of both InfluxDB write routes: line
// protocol only, whole body accepted or rejected (InfluxDB 2's semantics),
// points as category metric with string fields kept (InfluxDB keeps them;
// DataKit's metric rule would drop them), 204 on success.
func (h *Handler) serveInflux(w http.ResponseWriter, r *http.Request, precision string, info RequestInfo) error {
	prec, err := influxPrecision(precision)
	if err != nil {
		return err
	}
	rb, err := h.readBody(w, r, r.Header.Get("Content-Encoding"), true)
	if err != nil {
		return err
	}
	defer rb.close()
	if err := rb.lease.grow(decodeCost(rb.data, rb.lines, false, h.opts.Limits.MaxPoints), "decoding the body"); err != nil {
		return err
	}
	dec := h.decoder()
	defer h.putDecoder(dec)
	decStart := time.Now()
	pts, err := dec.DecodeLineProtocol(rb.data, protocol.Options{Precision: prec, Now: h.now(),
		MaxErrors: h.opts.MaxDecodeErrors, MaxPoints: h.opts.Limits.MaxPoints})
	h.metrics.decoded(info.Route, decStart)
	if errors.Is(err, protocol.ErrTooManyPoints) {
		return tooManyPoints(err, h.opts.Limits.MaxPoints)
	}
	if err != nil {
		h.metrics.addPoints(info.Route, point.Metric, outcomeRejected, pointsOf(err))
		return decodeErr(err, false)
	}
	if err := r.Context().Err(); err != nil {
		return err
	}
	if len(pts) == 0 {
		if info.Route == RouteInfluxV2 {
			return apiErr(http.StatusBadRequest, CodeEmptyBody, "writing requires points")
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	st := h.state()
	defer h.release(st)
	st.warns = append(st.warns, dec.Warnings()...)
	spec := batchSpec{category: point.Metric, input: info.Route.String(), extraTags: h.hostTags, info: info,
		norm: h.influx, dec: dec}
	if _, err := h.ingest(r.Context(), st, pts, &spec); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveInfluxPing answers GET|HEAD /ping like InfluxDB: 204 with version
// headers, or 200 with a JSON version for ?verbose=true.
func (h *Handler) serveInfluxPing(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("X-Influxdb-Version", h.opts.Version)
	w.Header().Set("X-Influxdb-Build", "collectkit")
	if v := r.URL.Query().Get("verbose"); v == "true" || v == "1" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = fmt.Fprintf(w, "{\"version\":%q}\n", h.opts.Version)
		return nil
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// serveInfluxQuery answers /query with an empty result, because InfluxDB
// clients probe it (for example to create the database) before writing.
func (h *Handler) serveInfluxQuery(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("X-Influxdb-Version", h.opts.Version)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("{\"results\":[{\"statement_id\":0}]}\n"))
	return nil
}
