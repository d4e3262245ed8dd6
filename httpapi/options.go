package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
)

// Default limits. Options fields left at zero take these values.
const (
	// DefaultMaxBodyBytes caps the request body as sent on the wire
	// (compressed or not): 32 MiB, the largest string field DataKit allows.
	DefaultMaxBodyBytes = 32 << 20
	// DefaultMaxDecodedBytes caps a body after decompression: 128 MiB.
	DefaultMaxDecodedBytes = 128 << 20
	// DefaultLastErrorsPerInput is how many lasterror reports are kept per
	// input.
	DefaultLastErrorsPerInput = 8
	// DefaultLastErrorInputs is how many distinct inputs the lasterror store
	// keeps before it forgets the one reported least recently.
	DefaultLastErrorInputs = 1024
	// DefaultTokenHeader is the header checked for the token on every route.
	DefaultTokenHeader = "X-Token"
	// DefaultPushgatewayTokenHeader is the extra header checked on the
	// Pushgateway routes: the one the Prometheus Python client examples
	// of seed 003 add in their custom push handler.
	DefaultPushgatewayTokenHeader = "X-BK-TOKEN"
)

// Limits bound what one request may cost. The zero Limits are the defaults.
type Limits struct {
	// MaxBodyBytes caps the body as received. Zero means
	// DefaultMaxBodyBytes; negative means no limit. Over it: 413.
	MaxBodyBytes int64
	// MaxDecodedBytes caps the body after Content-Encoding is undone, so a
	// small compressed "zip bomb" cannot exhaust memory. Zero means
	// DefaultMaxDecodedBytes; negative means no limit. Over it: 413.
	MaxDecodedBytes int64
	// MaxInFlight caps how many write requests (DataKit, InfluxDB and
	// Pushgateway routes) are processed at once; one more is answered 429
	// datakit.reachMaxAPILimit with Retry-After. Zero or negative means no
	// limit.
	MaxInFlight int
}

// Hooks are the host's answers to the DataKit endpoints that need more than
// a Sink. A nil hook makes its endpoint answer 501 datakit.notImplemented.
// Hooks are called concurrently. A hook's result is sent back as
// {"content": result}; an error is classified like any other (return an
// *Error to choose the status and code).
type Hooks struct {
	// OnLastError receives every error reported through POST /v1/lasterror
	// and (*Handler).ReportLastError, after it is stored. Nil: stored only.
	OnLastError func(ctx context.Context, e LastError)
	// Workspace answers GET /v1/workspace.
	Workspace func(ctx context.Context) (any, error)
	// QueryRaw answers POST /v1/query/raw.
	QueryRaw func(ctx context.Context, q QueryRequest) (any, error)
	// SetObjectLabels answers POST /v1/object/labels.
	SetObjectLabels func(ctx context.Context, l ObjectLabels) (any, error)
	// DeleteObjectLabels answers DELETE /v1/object/labels.
	DeleteObjectLabels func(ctx context.Context, l ObjectLabels) (any, error)
	// PipelineDebug answers POST /v1/pipeline/debug.
	PipelineDebug func(ctx context.Context, req PipelineDebugRequest) (any, error)
	// PushgatewayDelete is told about DELETE /metrics/job/...; info holds
	// the job and grouping key. Nil: the request is just answered 202.
	PushgatewayDelete func(ctx context.Context, info RequestInfo) error
	// DialtestingDebug answers POST /v1/dialtesting/debug.
	DialtestingDebug func(ctx context.Context, req DialtestingDebugRequest) (any, error)
}

// Options configure a Handler. The zero value (plus a Sink) is a handler
// that behaves like DataKit's write API on loopback, with the limits above.
type Options struct {
	// Sink receives every accepted batch. Required.
	Sink point.Sink
	// Version is reported in the X-DataKit header and by /v1/ping. Empty
	// means "unknown".
	Version string
	// Host is the host name /v1/ping reports. Empty means os.Hostname().
	Host string
	// Limits bound request cost; zero fields take the defaults.
	Limits Limits
	// GlobalHostTags are added to every point (without replacing a tag the
	// point already has) unless the request says ignore_global_host_tags
	// or global_election_tags. Nil: none.
	GlobalHostTags map[string]string
	// GlobalElectionTags are added instead of GlobalHostTags when the
	// request says global_election_tags, as DataKit does. Nil: none.
	GlobalElectionTags map[string]string
	// Token, when not empty, is required on every route except the ping
	// routes. It is accepted from the TokenHeader header, from
	// "Authorization: Token <t>" or "Bearer <t>", as a Basic-auth password,
	// from the ?token= parameter, and on the InfluxDB v1 route from ?p=.
	// Compared in constant time. Empty: no authentication (DataKit's
	// behaviour).
	Token string
	// TokenHeader names the header carrying the token. Empty means
	// DefaultTokenHeader.
	TokenHeader string
	// PushgatewayTokenHeader names one more header accepted on the
	// Pushgateway routes. Empty means DefaultPushgatewayTokenHeader.
	PushgatewayTokenHeader string
	// AllowNonLoopback lets clients other than loopback use every route.
	// False (DataKit's default) answers them 403
	// datakit.publicAccessDisabled on everything but the ping routes. A
	// request carrying X-Forwarded-For or X-Real-IP counts as non-loopback.
	AllowNonLoopback bool
	// BusyStatus is the status for a Sink that says busy (point.ErrBusy):
	// http.StatusTooManyRequests or http.StatusServiceUnavailable. Zero
	// means 429.
	BusyStatus int
	// Constraint configures point normalization (package constraint). On
	// the write routes the object name rule is Reject unless the request
	// says loose, whatever Constraint.Actions says for it; on the InfluxDB
	// routes the string-field rule is Ignore (InfluxDB keeps string
	// fields).
	Constraint constraint.Options
	// JSONExactInts keeps JSON integer literals exact (KindInt) instead of
	// DataKit's float64 for every JSON number.
	JSONExactInts bool
	// MaxDecodeErrors is how many bad lines an error response lists. Zero
	// means 100; negative means all.
	MaxDecodeErrors int
	// LastErrorsPerInput is how many lasterror reports are kept per input.
	// Zero means DefaultLastErrorsPerInput; negative keeps none.
	LastErrorsPerInput int
	// Hooks are the host's answers for endpoints beyond writing.
	Hooks Hooks
	// Logger receives request failures (Error for 5xx, Debug for 4xx) and,
	// at Debug, the warnings of accepted writes (count and the first few
	// with key and line). Nil discards.
	Logger *slog.Logger
	// Now returns the current time; nil means time.Now. For tests.
	Now func() time.Time
}

// Validate reports what is wrong with o, if anything.
func (o Options) Validate() error {
	var errs []error
	if o.Sink == nil {
		errs = append(errs, errors.New("httpapi: Options.Sink is nil"))
	}
	if o.BusyStatus != 0 && o.BusyStatus != http.StatusTooManyRequests && o.BusyStatus != http.StatusServiceUnavailable {
		errs = append(errs, fmt.Errorf("httpapi: Options.BusyStatus is %d, want 0, 429 or 503", o.BusyStatus))
	}
	if err := o.Constraint.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("httpapi: Options.Constraint: %w", err))
	}
	return errors.Join(errs...)
}
