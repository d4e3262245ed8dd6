package httpapi

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/protocol"
)

// Handler serves DataKit's HTTP API and the InfluxDB- and
// Pushgateway-compatible write routes. Build it with New; it is safe for
// concurrent use.
type Handler struct {
	opts  Options
	log   *slog.Logger
	mux   *http.ServeMux
	start time.Time

	norm   *constraint.Normalizer // Options.Constraint as given
	influx *constraint.Normalizer // as norm, and string fields kept

	hostTags     []point.Tag
	electionTags []point.Tag

	inflight chan struct{}
	budget   *budget // nil: no in-flight memory budget

	decoders sync.Pool  // *protocol.Decoder
	bufs     bufferPool // bodies (decompressed when they were compressed)
	bufrs    sync.Pool  // *bufio.Reader in front of decompressors
	gzips    sync.Pool  // *gzip.Reader
	zstds    sync.Pool  // *zstd.Decoder
	work     sync.Pool  // *writeState

	lastErrs lastErrorStore
	metrics  *metrics
	rejects  rejectLog
	patterns map[string]Route // mux pattern → route, for counting body bytes
}

// New builds a Handler from opts, which it copies. It fails only when
// opts.Validate does.
func New(opts Options) (*Handler, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if opts.Version == "" {
		opts.Version = "unknown"
	}
	if opts.Host == "" {
		opts.Host, _ = os.Hostname()
	}
	if opts.Limits.MaxBodyBytes == 0 {
		opts.Limits.MaxBodyBytes = DefaultMaxBodyBytes
	} else if opts.Limits.MaxBodyBytes < 0 {
		opts.Limits.MaxBodyBytes = -1
	}
	if opts.Limits.MaxDecodedBytes == 0 {
		opts.Limits.MaxDecodedBytes = DefaultMaxDecodedBytes
	} else if opts.Limits.MaxDecodedBytes < 0 {
		opts.Limits.MaxDecodedBytes = -1
	}
	lim := &opts.Limits
	lim.MaxPoints = orDefault(lim.MaxPoints, DefaultMaxPoints)
	lim.MaxInFlightBytes = orDefault(lim.MaxInFlightBytes, DefaultMaxInFlightBytes)
	lim.BodyReadTimeout = orDefault(lim.BodyReadTimeout, DefaultBodyReadTimeout)
	lim.MinBodyRate = orDefault(lim.MinBodyRate, DefaultMinBodyRate)
	lim.MaxPushLabels = orDefault(lim.MaxPushLabels, DefaultMaxPushLabels)
	lim.MaxPushLabelBytes = orDefault(lim.MaxPushLabelBytes, DefaultMaxPushLabelBytes)
	opts.LastErrorMaxBytes = orDefault(opts.LastErrorMaxBytes, DefaultLastErrorMaxBytes)
	opts.LastErrorMaxTotalBytes = orDefault(opts.LastErrorMaxTotalBytes, DefaultLastErrorMaxTotalBytes)
	if opts.TokenHeader == "" {
		opts.TokenHeader = DefaultTokenHeader
	}
	if opts.PushgatewayTokenHeader == "" {
		opts.PushgatewayTokenHeader = DefaultPushgatewayTokenHeader
	}
	if opts.BusyStatus == 0 {
		opts.BusyStatus = http.StatusTooManyRequests
	}
	if opts.LastErrorsPerInput == 0 {
		opts.LastErrorsPerInput = DefaultLastErrorsPerInput
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{
		opts:         opts,
		log:          log,
		start:        opts.Now(),
		hostTags:     sortedTags(opts.GlobalHostTags),
		electionTags: sortedTags(opts.GlobalElectionTags),
	}
	h.lastErrs.perInput = opts.LastErrorsPerInput
	h.lastErrs.inputs = DefaultLastErrorInputs
	h.lastErrs.maxTotal = opts.LastErrorMaxTotalBytes
	if lim.MaxInFlightBytes > 0 {
		h.budget = &budget{limit: lim.MaxInFlightBytes}
	}
	h.metrics = newMetrics(max(lim.MaxInFlightBytes, 0))
	h.rejects = rejectLog{log: log, now: opts.Now, interval: orDefault(opts.RejectLogInterval, DefaultRejectLogInterval)}
	if opts.Limits.MaxInFlight > 0 {
		h.inflight = make(chan struct{}, opts.Limits.MaxInFlight)
	}

	h.norm = constraint.New(opts.Constraint)
	influx := opts.Constraint
	influx.Actions = maps.Clone(opts.Constraint.Actions)
	if influx.Actions == nil {
		influx.Actions = make(map[constraint.Rule]constraint.Action, 1)
	}
	influx.Actions[constraint.RuleStringField] = constraint.Ignore
	h.influx = constraint.New(influx)

	h.routes()
	return h, nil
}

// orDefault returns def for zero, -1 for negative (no limit) and v
// otherwise.
func orDefault[T int | int64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

func sortedTags(m map[string]string) []point.Tag {
	if len(m) == 0 {
		return nil
	}
	tags := make([]point.Tag, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		tags = append(tags, point.Tag{Key: k, Value: m[k]})
	}
	return tags
}

func (h *Handler) now() time.Time { return h.opts.Now() }

// routeSpec is how a route is guarded and answered.
type routeSpec struct {
	dialect dialect
	methods []string // allowed methods; HEAD is allowed with GET
	public  bool     // reachable by non-loopback clients and without token
	ingest  bool     // counts against Limits.MaxInFlight
	route   Route
}

// handle registers fn under pattern with spec's guards.
func (h *Handler) handle(pattern string, spec routeSpec, fn func(w http.ResponseWriter, r *http.Request) error) {
	allow := strings.Join(spec.methods, ", ")
	h.patterns[pattern] = spec.route
	h.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if !spec.ingest {
			if err := h.serveRoute(w, r, spec, allow, fn); err != nil {
				h.fail(w, r, spec.dialect, err)
			}
			return
		}
		start := time.Now()
		h.metrics.inflightN.Add(1)
		status := successStatus(spec.route, r.Method)
		if err := h.serveRoute(w, r, spec, allow, fn); err != nil {
			status = h.fail(w, r, spec.dialect, err)
			if status >= 400 && status < 500 {
				_, code, msg, _ := h.classify(err)
				h.rejects.note(r.Context(), rejection{rejectKey: rejectKey{spec.route, status, code},
					points: pointsOf(err), msg: excerpt(msg)})
			}
		}
		h.metrics.inflightN.Add(-1)
		h.metrics.request(spec.route, requestCategory(spec.route, r), status, time.Since(start))
	})
}

// serveRoute applies spec's guards and calls fn.
func (h *Handler) serveRoute(w http.ResponseWriter, r *http.Request, spec routeSpec, allow string, fn func(w http.ResponseWriter, r *http.Request) error) error {
	if !methodAllowed(spec.methods, r.Method) {
		w.Header().Set("Allow", allow)
		return apiErr(http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"method %s is not allowed on %s; use %s", r.Method, r.URL.Path, allow)
	}
	if !spec.public {
		if err := h.guard(r, spec.dialect, spec.route); err != nil {
			return err
		}
	}
	if spec.ingest && h.inflight != nil {
		select {
		case h.inflight <- struct{}{}:
			defer func() { <-h.inflight }()
		default:
			return apiErr(http.StatusTooManyRequests, CodeReachMaxAPILimit,
				"more than %d write requests in flight", cap(h.inflight))
		}
	}
	return fn(w, r)
}

// successStatus is the status a write route answers when its handler
// returns no error.
func successStatus(route Route, method string) int {
	switch {
	case route == RouteInfluxV1 || route == RouteInfluxV2:
		return http.StatusNoContent
	case route == RoutePushgateway && method == http.MethodDelete:
		return http.StatusAccepted
	}
	return http.StatusOK
}

// guard applies the loopback and token checks of every non-public route.
func (h *Handler) guard(r *http.Request, d dialect, route Route) error {
	if !h.opts.AllowNonLoopback && !isLoopback(r) {
		return apiErr(http.StatusForbidden, CodePublicAccessDisabled,
			"api %s disabled from external IP, only loopback(localhost) allowed", r.URL.Path)
	}
	if h.opts.Token != "" && !h.tokenOK(r, route) {
		status := http.StatusForbidden
		if d != dialectDataKit {
			status = http.StatusUnauthorized
		}
		return apiErr(status, CodeInvalidToken, "missing or wrong token on %s", r.URL.Path)
	}
	return nil
}

// Protect wraps a host's own handler (a /metrics page, a status API) in the
// checks every non-public route of h has: a client that is not loopback
// gets 403 datakit.publicAccessDisabled unless Options.AllowNonLoopback
// is set, and, when Options.Token is set, a request without it gets 403
// datakit.invalidToken. The token is accepted wherever the write routes
// accept it. Answers carry X-DataKit like h's own.
func (h *Handler) Protect(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h.guard(r, dialectDataKit, RouteUnknown); err != nil {
			w.Header().Set("X-DataKit", h.opts.Version)
			h.fail(w, r, dialectDataKit, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func methodAllowed(methods []string, m string) bool {
	for _, a := range methods {
		if a == m || (a == http.MethodGet && m == http.MethodHead) {
			return true
		}
	}
	return false
}

// isLoopback reports whether r comes from a loopback address without proxy
// headers. Requests over a Unix socket (no IP address) count as loopback.
func isLoopback(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-IP") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if host == "" || host == "@" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	return addr.Unmap().IsLoopback()
}

// tokenOK reports whether r carries the configured token anywhere it may.
func (h *Handler) tokenOK(r *http.Request, route Route) bool {
	want := h.opts.Token
	eq := func(got string) bool {
		return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
	}
	if eq(r.Header.Get(h.opts.TokenHeader)) {
		return true
	}
	if route == RoutePushgateway && eq(r.Header.Get(h.opts.PushgatewayTokenHeader)) {
		return true
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		scheme, cred, _ := strings.Cut(auth, " ")
		cred = strings.TrimSpace(cred)
		switch strings.ToLower(scheme) {
		case "token", "bearer":
			// InfluxDB v1 also sends "Token user:password".
			if eq(cred) {
				return true
			}
			if _, pw, ok := strings.Cut(cred, ":"); ok && eq(pw) {
				return true
			}
		case "basic":
			if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
				if _, pw, ok := strings.Cut(string(raw), ":"); ok && eq(pw) {
					return true
				}
			}
		}
	}
	q := r.URL.Query()
	if eq(q.Get("token")) {
		return true
	}
	return route == RouteInfluxV1 && eq(q.Get("p"))
}

// ServeHTTP answers one request. Every response carries X-DataKit.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-DataKit", h.opts.Version)
	h.mux.ServeHTTP(w, r)
}

// routes registers every route on a private mux.
func (h *Handler) routes() {
	h.mux = http.NewServeMux()
	h.patterns = make(map[string]Route)
	post := []string{http.MethodPost}
	get := []string{http.MethodGet}
	dk := func(methods []string) routeSpec { return routeSpec{dialect: dialectDataKit, methods: methods} }

	h.handle("/v1/write/{category}", routeSpec{dialect: dialectDataKit, methods: post, ingest: true, route: RouteWrite}, h.serveWrite)
	h.handle("/v1/ping", routeSpec{dialect: dialectDataKit, methods: get, public: true}, h.servePing)
	h.handle("/health", routeSpec{dialect: dialectDataKit, methods: get, public: true}, h.serveHealth)
	h.handle("/ready", dk(get), h.serveReady)
	h.handle("/v1/lasterror", dk(post), h.serveLastError)
	h.handle("/v1/workspace", dk(get), h.serveWorkspace)
	h.handle("/v1/query/raw", dk(post), h.serveQueryRaw)
	h.handle("/v1/object/labels", dk([]string{http.MethodPost, http.MethodDelete}), h.serveObjectLabels)
	h.handle("/v1/pipeline/debug", dk(post), h.servePipelineDebug)
	h.handle("/v1/dialtesting/debug", dk(post), h.serveDialtestingDebug)

	h.handle("/write", routeSpec{dialect: dialectInfluxV1, methods: post, ingest: true, route: RouteInfluxV1}, h.serveInfluxV1)
	h.handle("/query", routeSpec{dialect: dialectInfluxV1, methods: []string{http.MethodGet, http.MethodPost}, route: RouteInfluxV1}, h.serveInfluxQuery)
	h.handle("/api/v2/write", routeSpec{dialect: dialectInfluxV2, methods: post, ingest: true, route: RouteInfluxV2}, h.serveInfluxV2)
	h.handle("/ping", routeSpec{dialect: dialectInfluxV1, methods: get, public: true}, h.serveInfluxPing)

	h.handle("/collectd", routeSpec{dialect: dialectDataKit, methods: post, public: true, ingest: true, route: RouteCollectd}, h.serveCollectd) // guarded by serveCollectd
	h.handle("/metrics/", routeSpec{dialect: dialectPushgateway, methods: []string{http.MethodPut, http.MethodPost, http.MethodDelete}, ingest: true, route: RoutePushgateway}, h.servePushgateway)

	h.handle("/", routeSpec{dialect: dialectDataKit, methods: []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodOptions}, public: true},
		func(w http.ResponseWriter, r *http.Request) error {
			return apiErr(http.StatusNotFound, CodeNotFound, "no API at %s", r.URL.Path)
		})
}

// writeContent answers 200 with {"content": v}.
func writeContent(w http.ResponseWriter, v any) error {
	b, err := json.Marshal(struct {
		Content any `json:"content"`
	}{v})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	return nil
}

// servePing answers GET /v1/ping.
func (h *Handler) servePing(w http.ResponseWriter, r *http.Request) error {
	return writeContent(w, struct {
		Version string `json:"version"`
		Uptime  string `json:"uptime"`
		Host    string `json:"host"`
	}{h.opts.Version, h.now().Sub(h.start).String(), h.opts.Host})
}

// decoder takes a protocol decoder from the pool.
func (h *Handler) decoder() *protocol.Decoder {
	if d, ok := h.decoders.Get().(*protocol.Decoder); ok {
		return d
	}
	return new(protocol.Decoder)
}

// maxPooledDecoder is the most memory a decoder put back into the pool may
// hold; one that grew bigger for one large body is dropped, so that memory
// goes back to the system after the request.
const maxPooledDecoder = 16 << 20

// putDecoder gives d back to the pool unless it has grown large.
func (h *Handler) putDecoder(d *protocol.Decoder) {
	if d.RetainedBytes() <= maxPooledDecoder {
		h.decoders.Put(d)
	}
}
