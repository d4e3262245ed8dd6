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
	// (compressed or not): 64 MiB, so that a body carrying one string
	// field of DataKit's largest size (32 MiB) passes with room to spare.
	DefaultMaxBodyBytes = 64 << 20
	// DefaultMaxDecodedBytes caps a body after decompression: 64 MiB.
	DefaultMaxDecodedBytes = 64 << 20
	// DefaultMaxPoints caps the lines, elements or samples of one request.
	DefaultMaxPoints = 100_000
	// DefaultMaxInFlightBytes is the memory budget shared by all requests
	// in flight: 128 MiB.
	DefaultMaxInFlightBytes = 128 << 20
	// DefaultBodyReadTimeout is how long a body may go without progress,
	// and the grace before DefaultMinBodyRate applies: 30 seconds.
	DefaultBodyReadTimeout = 30 * time.Second
	// DefaultMinBodyRate is the slowest average rate, in bytes per second,
	// at which a body may arrive once DefaultBodyReadTimeout has passed.
	DefaultMinBodyRate = 1024
	// DefaultMaxPushLabels caps the labels of one Pushgateway sample.
	DefaultMaxPushLabels = 256
	// DefaultMaxPushLabelBytes caps the bytes of one Pushgateway sample's
	// label set (between the braces): 16 KiB.
	DefaultMaxPushLabelBytes = 16 << 10
	// DefaultLastErrorsPerInput is how many lasterror reports are kept per
	// input.
	DefaultLastErrorsPerInput = 8
	// DefaultLastErrorInputs is how many distinct inputs the lasterror store
	// keeps before it forgets the one reported least recently.
	DefaultLastErrorInputs = 1024
	// DefaultLastErrorMaxBytes caps the err_content of one lasterror
	// report: 16 KiB. Longer reports are truncated, and say so.
	DefaultLastErrorMaxBytes = 16 << 10
	// DefaultLastErrorMaxTotalBytes caps the err_content bytes the whole
	// lasterror store keeps: 4 MiB. Over it, the oldest reports go first.
	DefaultLastErrorMaxTotalBytes = 4 << 20
	// DefaultTokenHeader is the header checked for the token on every route.
	DefaultTokenHeader = "X-Token"
	// DefaultPushgatewayTokenHeader is the extra header checked on the
	// Pushgateway routes: the one that published Prometheus Python client
	// examples add in a custom push handler to carry a monitoring token.
	DefaultPushgatewayTokenHeader = "X-BK-TOKEN"
)

// Limits bound what one request, and all requests together, may cost. The
// zero Limits are the defaults. Package doc's "Limits" section tells how
// they work together.
type Limits struct {
	// MaxBodyBytes caps the body as received. Zero means
	// DefaultMaxBodyBytes; negative means no limit. Over it: 413.
	MaxBodyBytes int64
	// MaxDecodedBytes caps the body after Content-Encoding is undone (and
	// a plain body too), so a small compressed "zip bomb" cannot exhaust
	// memory: the body is decompressed as it arrives and refused as soon
	// as it passes the limit. Zero means DefaultMaxDecodedBytes; negative
	// means no limit. Over it: 413.
	MaxDecodedBytes int64
	// MaxPoints caps the points of one request: the lines of a
	// line-protocol body (every line counts, blank and comment lines too,
	// because they are counted as the body arrives, before decoding), the
	// elements of a JSON body, the samples of a Pushgateway push. Zero
	// means DefaultMaxPoints; negative means no limit. Over it: 413.
	MaxPoints int
	// MaxInFlightBytes is the memory budget of all requests in flight
	// together: each request takes the buffers it grows for its body as
	// they grow, and before decoding an estimate of what decoding will
	// allocate (from its count of lines and key=value pairs), and gives
	// all of it back when it is answered. A request that needs more than
	// is left is answered Options.BusyStatus (429 by default)
	// datakit.reachMaxAPILimit with Retry-After; one that needs more than
	// the whole budget is answered 413. Zero means
	// DefaultMaxInFlightBytes; negative means no budget.
	MaxInFlightBytes int64
	// MaxInFlight caps how many write requests (DataKit, InfluxDB and
	// Pushgateway routes) are processed at once; one more is answered 429
	// datakit.reachMaxAPILimit with Retry-After. Zero or negative means no
	// limit.
	MaxInFlight int
	// BodyReadTimeout is how long reading a body may go without receiving
	// a byte, and the grace period after which MinBodyRate applies. Over
	// it: 408 datakit.HTTPReadError, and the connection is closed. It
	// needs a server connection that supports read deadlines
	// (http.ResponseController); while the body is read it replaces
	// http.Server.ReadTimeout. Zero means DefaultBodyReadTimeout;
	// negative means none.
	BodyReadTimeout time.Duration
	// MinBodyRate is the slowest average rate, in bytes per second, at
	// which a body may arrive: a body gets BodyReadTimeout plus one second
	// for every MinBodyRate bytes it has delivered (as Apache's
	// mod_reqtimeout does), so a trickle of a byte a second is cut off
	// while a large body on a slow link is not. Zero means
	// DefaultMinBodyRate; negative means no rate is required.
	MinBodyRate int64
	// MaxPushLabels caps the labels of one Pushgateway sample (text,
	// OpenMetrics or protobuf), checked as the body is decoded. Zero means
	// DefaultMaxPushLabels; negative means no limit. Over it: 400 naming
	// the line (text) or the message (protobuf).
	MaxPushLabels int
	// MaxPushLabelBytes caps the bytes of one Pushgateway sample's label
	// set (for text, between the braces). Zero means
	// DefaultMaxPushLabelBytes; negative means no limit. Over it: 400
	// naming the line.
	MaxPushLabelBytes int
}

// Hooks are the host's answers to the DataKit endpoints that need more than
// a Sink. A nil hook makes its endpoint answer 501 datakit.notImplemented,
// unless its doc says otherwise.
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
	// Ready answers GET /ready: nil is 200 {"status":"ready",...}; an
	// error is 503 {"status":"not ready","message":<its text>,...}, so it
	// should say why (a full buffer, delivery stuck). Nil: always ready.
	// ctx is the request's.
	Ready func(ctx context.Context) error
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
	// routes and /health. It is accepted from the TokenHeader header, from
	// "Authorization: Token <t>" or "Bearer <t>", as a Basic-auth password,
	// from the ?token= parameter, and on the InfluxDB v1 route from ?p=.
	// Compared in constant time. Empty: no authentication (DataKit's
	// behaviour). Prefer the header: a token in the URL ends up in the
	// access logs of proxies and servers on the way, and in shell
	// history. ?token= and ?p= are accepted because DataKit and InfluxDB
	// 1.x clients send them.
	Token string
	// TokenHeader names the header carrying the token. Empty means
	// DefaultTokenHeader.
	TokenHeader string
	// PushgatewayTokenHeader names one more header accepted on the
	// Pushgateway routes. Empty means DefaultPushgatewayTokenHeader.
	PushgatewayTokenHeader string
	// AllowNonLoopback lets clients other than loopback use every route.
	// False (DataKit's default) answers them 403
	// datakit.publicAccessDisabled on everything but the ping routes and
	// /health. A request carrying X-Forwarded-For or X-Real-IP counts as
	// non-loopback.
	AllowNonLoopback bool
	// BusyStatus is the status for a Sink that says busy (point.ErrBusy):
	// http.StatusTooManyRequests or http.StatusServiceUnavailable. Zero
	// means 429.
	BusyStatus int
	// Constraint configures point normalization (package constraint) on
	// every write route, with the same result as constraint.Normalize
	// with these Options. The zero value fixes every rule as DataKit
	// does: an object or custom_object point without "name" gets the tag
	// name="default" and an add_required_kv warning (so ?strict= refuses
	// it with datakit.pointGotWarning, as DataKit does). To refuse such
	// points instead (400 datakit.pointRejected; with ?loose= or
	// WritePartial the other points are written), set
	//
	//	Actions: map[constraint.Rule]constraint.Action{constraint.RuleObjectName: constraint.Reject}
	//
	// On the InfluxDB routes the string-field rule is Ignore (InfluxDB
	// keeps string fields) whatever Actions says. The other options mean
	// what they mean in constraint's Sink middleware: OnWarnings sees each
	// batch's fixes, Logger gets the fixes and rejections, and with
	// WritePartial a request with rejected points has its other points
	// written (answered 200 listing the rejections) instead of being
	// refused whole.
	Constraint constraint.Options
	// Pipeline, if not nil, is called for each point of a logging write
	// (POST /v1/write/logging; the other routes write no logging points)
	// after the global tags are added and before normalization, with the
	// request's ?source= or, without it, the point's measurement. It may
	// change the point in place. keep false drops the point: it counts as
	// dropped in the X-Collectkit-Dropped header (HeaderDropped) and, with
	// ?loose=, in the LooseReport; a request whose points it all drops is
	// answered 200 without calling the Sink. An error (or a panic) keeps
	// the point as the pipeline left it with a warning (so ?strict=
	// refuses the request). The context carries the RequestInfo. It is
	// called concurrently.
	Pipeline point.Pipeline
	// JSONExactInts keeps JSON integer literals exact (KindInt) instead of
	// DataKit's float64 for every JSON number.
	JSONExactInts bool
	// MaxDecodeErrors is how many bad lines an error response lists. Zero
	// means 100; negative means all.
	MaxDecodeErrors int
	// LastErrorsPerInput is how many lasterror reports are kept per input.
	// Zero means DefaultLastErrorsPerInput; negative keeps none.
	LastErrorsPerInput int
	// LastErrorMaxBytes caps the err_content of one lasterror report (from
	// POST /v1/lasterror or ReportLastError). A longer one is cut at a
	// UTF-8 boundary, ends in a note saying how long it was, and has
	// LastError.Truncated set; the POST is answered with the same
	// facts. Zero means DefaultLastErrorMaxBytes; negative means no limit.
	LastErrorMaxBytes int
	// LastErrorMaxTotalBytes caps the err_content bytes the lasterror
	// store keeps over all inputs; over it the oldest reports are
	// forgotten. Zero means DefaultLastErrorMaxTotalBytes; negative means
	// no limit (LastErrorsPerInput and the number of inputs still bound it).
	LastErrorMaxTotalBytes int
	// Hooks are the host's answers for endpoints beyond writing.
	Hooks Hooks
	// Logger receives request failures (Error for 5xx, Debug for each
	// 4xx, and the Warn records of RejectLogInterval for rejected writes)
	// and, at Debug, the warnings of accepted writes (count and the first
	// few with key and line). Nil discards.
	Logger *slog.Logger
	// RejectLogInterval is how often, at most, write requests answered
	// 4xx (refused bodies, rejected points, limits, a busy sink, missing
	// tokens) are logged at Warn, so that a client losing data is seen at
	// the default level without one record per request. A rejection after
	// a quiet interval is logged at once ("write rejected": route, status,
	// code, points, the error with its line); the ones within the next
	// interval are summarized when it ends ("writes rejected": requests
	// and points by route, status and code, and the last error). Zero
	// means DefaultRejectLogInterval (1 minute); negative turns the Warn
	// records off.
	RejectLogInterval time.Duration
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
