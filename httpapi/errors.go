package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/collectkit/collectkit/internal/datakit"
	"github.com/collectkit/collectkit/point"
)

// Error is an API error with the HTTP status and DataKit error code it is
// answered with. Host hooks may return an *Error (or wrap one) to choose the
// response; any other error from a hook becomes 500.
type Error struct {
	// Status is the HTTP status code, for example 400.
	Status int
	// Code is the DataKit error code, for example "datakit.emptyBody".
	Code string
	// Message says what was wrong and where, for people.
	Message string
	// Err is the cause, if any.
	Err error
}

// Error returns "<code>: <message>".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// DataKit error codes used by the handler; every collectkit path that
// answers in DataKit's vocabulary uses the same codes. The first group are
// DataKit's own; the second are codes DataKit does not have because it
// lacks the feature, spelled as DataKit spells its codes.
const (
	CodeBadRequest           = datakit.CodeBadRequest           // "datakit.badRequest"
	CodeInvalidCategory      = datakit.CodeInvalidCategory      // "datakit.invalidCategory"
	CodeEmptyBody            = datakit.CodeEmptyBody            // "datakit.emptyBody"
	CodeNoPoints             = datakit.CodeNoPoints             // "datakit.noPoints"
	CodeInvalidLinePoint     = datakit.CodeInvalidLinePoint     // "datakit.invalidLinePoint"
	CodeInvalidJSONPoint     = datakit.CodeInvalidJSONPoint     // "datakit.invalidJsonPoint"
	CodeDecodeBodyFailed     = datakit.CodeDecodeBodyFailed     // "datakit.decodeBodyFailed"
	CodeInvalidPrecision     = datakit.CodeInvalidPrecision     // "datakit.invalidPrecision"
	CodePointGotWarning      = datakit.CodePointGotWarning      // "datakit.pointGotWarning"
	CodeReachMaxAPILimit     = datakit.CodeReachMaxAPILimit     // "datakit.reachMaxAPILimit"
	CodePublicAccessDisabled = datakit.CodePublicAccessDisabled // "datakit.publicAccessDisabled"
	CodeInvalidToken         = datakit.CodeInvalidToken         // "datakit.invalidToken"
	CodeHTTPReadError        = datakit.CodeHTTPReadError        // "datakit.HTTPReadError"
	CodeInputOrErrContentNil = datakit.CodeInputOrErrContentNil // "datakit.inputOrErrcontentCanNotBeNil"
	CodeInvalidClass         = datakit.CodeInvalidClass         // "datakit.invalidClass"

	CodeBodyTooLarge     = datakit.CodeBodyTooLarge     // "datakit.bodyTooLarge": a body or report over its size or point limit
	CodePointRejected    = datakit.CodePointRejected    // "datakit.pointRejected": a point broke a rule set to Reject
	CodeSinkBusy         = datakit.CodeSinkBusy         // "datakit.sinkBusy": the host's sink is busy; retry later
	CodeSinkFailed       = datakit.CodeSinkFailed       // "datakit.sinkFailed": the host's sink failed to store the points
	CodeNotImplemented   = datakit.CodeNotImplemented   // "datakit.notImplemented": a route DataKit has and collectkit does not
	CodeNotFound         = datakit.CodeNotFound         // "datakit.notFound": no such route
	CodeMethodNotAllowed = datakit.CodeMethodNotAllowed // "datakit.methodNotAllowed": the route does not take the method
	CodeInternal         = datakit.CodeInternal         // "datakit.internalError": a failure of the server itself
	CodeRequestCanceled  = datakit.CodeRequestCanceled  // "datakit.requestCanceled": the request ended before it was answered
)

func apiErr(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// sinkError marks an error returned by the host's Sink so that the one
// classifying function can tell it from the handler's own failures.
type sinkError struct{ err error }

func (e *sinkError) Error() string { return "sink: " + e.err.Error() }
func (e *sinkError) Unwrap() error { return e.err }

// dialect selects the error body format of a route family.
type dialect uint8

const (
	dialectDataKit dialect = iota
	dialectInfluxV1
	dialectInfluxV2
	dialectPushgateway
)

// classify turns any error into the status, code and message the client
// gets, plus a Retry-After hint. It is the only place that decides a status.
func (h *Handler) classify(err error) (status int, code, msg string, retryAfter time.Duration) {
	var ae *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		status, code, msg = ae.Status, ae.Code, ae.Message
		if status == 0 {
			status = http.StatusBadRequest
		}
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			retryAfter = time.Second
		}
		if ae.Err != nil && msg == "" {
			msg = ae.Err.Error()
		}
	// The messages below name the condition only: the error itself may
	// carry a file path, an address or other details of the server (a
	// Sink's buffer segment, say), and goes to the log instead.
	case errors.Is(err, point.ErrBusy):
		ra, _ := point.RetryAfter(err)
		if ra <= 0 {
			ra = time.Second
		}
		retryAfter = ra
		status, code = h.opts.BusyStatus, CodeSinkBusy
		msg = fmt.Sprintf("the points cannot be taken now (the sink is busy); retry after %s", ra.Round(time.Second))
	case errors.As(err, &mbe):
		status, code = http.StatusRequestEntityTooLarge, CodeBodyTooLarge
		msg = fmt.Sprintf("request body is larger than the limit of %d bytes", mbe.Limit)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		status, code, msg = http.StatusServiceUnavailable, CodeRequestCanceled, "the request was canceled before it was answered"
	default:
		var se *sinkError
		if errors.As(err, &se) {
			status, code, msg = http.StatusInternalServerError, CodeSinkFailed, "the points could not be stored (the sink failed; the server log has the cause)"
		} else {
			status, code, msg = http.StatusInternalServerError, CodeInternal, "internal error (the server log has the cause)"
		}
	}
	return status, code, msg, retryAfter
}

// fail writes err to w in the route's dialect and returns the status.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, d dialect, err error) int {
	status, code, msg, retryAfter := h.classify(err)
	if status >= 500 {
		h.log.LogAttrs(r.Context(), slog.LevelError, "request failed",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", excerpt(err.Error())))
	} else {
		h.log.LogAttrs(r.Context(), slog.LevelDebug, "request rejected",
			slog.String("path", r.URL.Path), slog.Int("status", status), slog.String("error", excerpt(err.Error())))
	}
	hdr := w.Header()
	if retryAfter > 0 {
		secs := int((retryAfter + time.Second - 1) / time.Second)
		hdr.Set("Retry-After", strconv.Itoa(secs))
	}
	switch d {
	case dialectPushgateway:
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		hdr.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(msg + "\n"))
		return status
	case dialectInfluxV1:
		hdr.Set("Content-Type", "application/json")
		hdr.Set("X-Influxdb-Error", msg)
		w.WriteHeader(status)
		b, _ := json.Marshal(struct {
			Error string `json:"error"`
		}{msg})
		_, _ = w.Write(b)
		return status
	case dialectInfluxV2:
		hdr.Set("Content-Type", "application/json; charset=utf-8")
		hdr.Set("X-Influxdb-Error", msg)
		w.WriteHeader(status)
		b, _ := json.Marshal(struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}{influxV2Code(status), msg})
		_, _ = w.Write(b)
		return status
	}
	hdr.Set("Content-Type", "application/json")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	b, _ := json.Marshal(struct {
		Code    string `json:"error_code"`
		Message string `json:"message,omitempty"`
	}{code, msg})
	_, _ = w.Write(b)
	return status
}

// maxLoggedError bounds the error text of a log record: a decode error
// can quote a client's line, and a client chooses how long that is.
const maxLoggedError = 4 << 10

// excerpt cuts s to maxLoggedError bytes, saying so.
func excerpt(s string) string {
	if len(s) <= maxLoggedError {
		return s
	}
	return clip(s, maxLoggedError) + fmt.Sprintf("... (%d bytes)", len(s))
}

// influxV2Code maps a status to InfluxDB 2's error "code" strings.
func influxV2Code(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not found"
	case http.StatusMethodNotAllowed:
		return "method not allowed"
	case http.StatusRequestEntityTooLarge:
		return "request too large"
	case http.StatusUnsupportedMediaType:
		return "unsupported media type"
	case http.StatusTooManyRequests:
		return "too many requests"
	case http.StatusServiceUnavailable:
		return "unavailable"
	case http.StatusNotImplemented:
		return "not implemented"
	}
	return "internal error"
}
