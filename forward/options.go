package forward

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/collectkit/collectkit/protocol"
)

// SyncPolicy says when the buffer calls fsync. Every policy survives a
// crash of the process (kill -9): data is in the kernel's page cache once
// Write returns. The policies differ only in what survives a crash of the
// machine (power loss).
type SyncPolicy uint8

const (
	// SyncAlways (the default) fsyncs before Write returns. Writers that
	// arrive together share one fsync (group commit).
	SyncAlways SyncPolicy = iota
	// SyncInterval fsyncs every Options.SyncInterval; a machine crash can
	// lose up to that much accepted data.
	SyncInterval
	// SyncNever leaves flushing to the operating system.
	SyncNever
)

var syncNames = [...]string{"always", "interval", "never"}

// String returns "always", "interval" or "never".
func (p SyncPolicy) String() string {
	if int(p) < len(syncNames) {
		return syncNames[p]
	}
	return "SyncPolicy(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (p SyncPolicy) MarshalText() ([]byte, error) {
	if int(p) >= len(syncNames) {
		return nil, fmt.Errorf("forward: unknown sync policy %d", p)
	}
	return []byte(syncNames[p]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names
// String returns.
func (p *SyncPolicy) UnmarshalText(text []byte) error {
	for i, n := range syncNames {
		if n == string(text) {
			*p = SyncPolicy(i)
			return nil
		}
	}
	return fmt.Errorf("forward: unknown sync policy %q (want always, interval or never)", text)
}

// FullPolicy says what Write does when the buffer has reached
// Options.BufferMaxBytes.
type FullPolicy uint8

const (
	// FullBlock (the default) makes Write wait for room, for at most
	// Options.MaxBlock and never past its context; then it returns an
	// error matching point.ErrBusy and nothing of the batch is kept.
	FullBlock FullPolicy = iota
	// FullDropOldest deletes the oldest undelivered data the sender has
	// not started on (whole segments) to make room; the points are counted
	// in Stats.PointsDropped. When nothing can be dropped it behaves like
	// FullBlock.
	FullDropOldest
	// FullReject returns a busy error at once: the host's input answers
	// 429 and its client retries.
	FullReject
)

var fullNames = [...]string{"block", "drop_oldest", "reject"}

// String returns "block", "drop_oldest" or "reject".
func (p FullPolicy) String() string {
	if int(p) < len(fullNames) {
		return fullNames[p]
	}
	return "FullPolicy(" + strconv.Itoa(int(p)) + ")"
}

// MarshalText implements encoding.TextMarshaler.
func (p FullPolicy) MarshalText() ([]byte, error) {
	if int(p) >= len(fullNames) {
		return nil, fmt.Errorf("forward: unknown full policy %d", p)
	}
	return []byte(fullNames[p]), nil
}

// UnmarshalText implements encoding.TextUnmarshaler; it accepts the names
// String returns.
func (p *FullPolicy) UnmarshalText(text []byte) error {
	for i, n := range fullNames {
		if n == string(text) {
			*p = FullPolicy(i)
			return nil
		}
	}
	return fmt.Errorf("forward: unknown full policy %q (want block, drop_oldest or reject)", text)
}

// CategoryPlaceholder in Options.URL is replaced by the category of the
// batch ("metric", "logging", ...): that is how a forwarder relays to
// another collectkit agent's /v1/write/{category}.
const CategoryPlaceholder = "{category}"

// Options configure a Forwarder. The zero value of every field except URL
// and BufferDir means the documented default.
type Options struct {
	// Name tells this forwarder from others in the same process: it is the
	// "forwarder" label of every metric (see Forwarder.Collect) and
	// Status.Name. Empty: the URL's host and path, such as
	// "127.0.0.1:8428/write". Two forwarders registered in one
	// prometheus.Registry need different names.
	Name string

	// URL is the write endpoint, for example
	//	http://127.0.0.1:8086/write?db=telegraf        InfluxDB v1
	//	http://127.0.0.1:8086/api/v2/write?org=o&bucket=b InfluxDB v2
	//	http://127.0.0.1:8428/write                     VictoriaMetrics
	//	http://vminsert:8480/insert/0/influx/write      VictoriaMetrics cluster
	//	http://agent-b:9529/v1/write/{category}         another collectkit agent
	// A "{category}" in the path is replaced by each batch's category, and
	// batches of different categories are then never mixed. "precision=ns"
	// is added to the query unless it has a precision; when it has one
	// (n, ns, u, us, ms, s, m or h, as InfluxDB spells them), timestamps
	// are encoded in that unit, truncated toward zero. Required.
	URL string
	// Token, if set, is sent as "Authorization: Token <Token>" (InfluxDB v2,
	// InfluxDB 1.8+, collectkit agents).
	Token string
	// Header holds extra request headers (for example a basic-auth header
	// or a tenant header).
	Header http.Header
	// Client sends the requests. Nil: a client with keep-alive connections
	// (Concurrency idle connections per host) and RequestTimeout that does
	// not follow redirects: a 3xx is a permanent error naming its Location.
	// A Client given here must not follow redirects either (set its
	// CheckRedirect to return http.ErrUseLastResponse): Go turns a POST
	// redirected by 301, 302 or 303 into a GET without a body. A response
	// to such a GET is treated as a permanent error, never as delivery.
	Client *http.Client
	// RequestTimeout bounds one request. Zero: 30s. Ignored when Client is
	// set (set its Timeout instead).
	RequestTimeout time.Duration

	// BufferDir is the directory of the on-disk buffer; it is created if
	// missing and must not be shared with another forwarder. Required.
	BufferDir string
	// BufferMaxBytes caps the bytes on disk. Zero: 512 MiB. It must be at
	// least 4 times BatchBytes.
	BufferMaxBytes int64
	// SegmentBytes is the size at which a buffer segment file is sealed
	// and a new one started; disk space is freed a segment at a time (a
	// full buffer seals the segment being written early to free what has
	// been delivered). Zero: BufferMaxBytes/8, at least 1 MiB and at most
	// 64 MiB, and never above BufferMaxBytes, which it must not exceed.
	SegmentBytes int64
	// Sync is the fsync policy; the zero value is SyncAlways.
	Sync SyncPolicy
	// SyncInterval is the period of SyncInterval. Zero: 1s.
	SyncInterval time.Duration
	// Full is what Write does when the buffer is full; the zero value is
	// FullBlock.
	Full FullPolicy
	// MaxBlock bounds how long Write waits for room under FullBlock (and
	// FullDropOldest with nothing to drop). Zero: 5s; negative: until the
	// context of Write is done.
	MaxBlock time.Duration

	// BatchPoints is the most points in one request. Zero: 5000.
	BatchPoints int
	// BatchBytes is the most uncompressed bytes in one request (a batch
	// that would cross it is sent first; a single larger line is sent
	// alone). Zero: 1 MiB.
	BatchBytes int
	// FlushInterval is how long a batch that is not full waits for more
	// points before it is sent. Zero: 1s; negative: send at once.
	FlushInterval time.Duration
	// Concurrency is the number of requests in flight. Zero: 2.
	Concurrency int
	// DisableGzip turns off gzip request bodies (on by default).
	DisableGzip bool

	// MinBackoff and MaxBackoff bound the retry delay, which doubles after
	// each failure, with jitter. Zero: 100ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// MaxConnectBackoff caps the retry delay after a request that got no
	// HTTP response at all (connection refused or reset, a timeout, a
	// DNS failure), so that delivery resumes within about that long of a
	// backend's return however long it was away. A long outage still backs
	// off (exponentially, up to this cap) but costs one failed connection
	// per sender per period, nothing the backend has to process. A backend
	// that answers (5xx, 429) is given the full MaxBackoff. Zero: 2s, and
	// never above MaxBackoff.
	MaxConnectBackoff time.Duration
	// MaxRetryAfter caps a server's Retry-After. Zero: 5m.
	MaxRetryAfter time.Duration
	// ShutdownTimeout bounds the final flush after Run's context is done;
	// what is not delivered by then stays in the buffer for the next start.
	// Zero: 5s; negative: no final flush.
	ShutdownTimeout time.Duration

	// StuckAfter is how long data may wait with nothing delivered before
	// Status reports Stuck and Ready fails. Zero: the longest of 30s,
	// 3×FlushInterval and RequestTimeout, so that one slow request or a
	// long flush period is not taken for a stall.
	StuckAfter time.Duration

	// Logger receives the forwarder's logs. Nil: discard.
	Logger *slog.Logger
}

// Validate reports what is wrong with o, naming the field.
func (o *Options) Validate() error {
	var errs []error
	if o.URL == "" {
		errs = append(errs, errors.New("forward: Options.URL is required"))
	} else if u, err := url.Parse(o.URL); err != nil {
		errs = append(errs, fmt.Errorf("forward: Options.URL: %w", err))
	} else if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Errorf("forward: Options.URL %q: want an http:// or https:// URL with a host", o.URL))
	} else if _, err := urlPrecision(u.Query()); err != nil {
		errs = append(errs, fmt.Errorf("forward: Options.URL %q: %w", o.URL, err))
	}
	if o.BufferDir == "" {
		errs = append(errs, errors.New("forward: Options.BufferDir is required"))
	}
	for _, f := range []struct {
		name string
		v    int64
	}{
		{"BufferMaxBytes", o.BufferMaxBytes}, {"SegmentBytes", o.SegmentBytes}, {"BatchPoints", int64(o.BatchPoints)},
		{"BatchBytes", int64(o.BatchBytes)}, {"Concurrency", int64(o.Concurrency)}, {"SyncInterval", int64(o.SyncInterval)},
		{"MinBackoff", int64(o.MinBackoff)}, {"MaxBackoff", int64(o.MaxBackoff)}, {"MaxConnectBackoff", int64(o.MaxConnectBackoff)}, {"MaxRetryAfter", int64(o.MaxRetryAfter)},
		{"RequestTimeout", int64(o.RequestTimeout)}, {"StuckAfter", int64(o.StuckAfter)},
	} {
		if f.v < 0 {
			errs = append(errs, fmt.Errorf("forward: Options.%s is negative (%d)", f.name, f.v))
		}
	}
	if o.Sync > SyncNever {
		errs = append(errs, fmt.Errorf("forward: Options.Sync: unknown policy %d", o.Sync))
	}
	if o.Full > FullReject {
		errs = append(errs, fmt.Errorf("forward: Options.Full: unknown policy %d", o.Full))
	}
	if len(errs) == 0 {
		d := o.withDefaults()
		if d.BufferMaxBytes < 4*int64(d.BatchBytes) {
			errs = append(errs, fmt.Errorf("forward: Options.BufferMaxBytes (%d) must be at least 4 times BatchBytes (%d)", d.BufferMaxBytes, d.BatchBytes))
		}
		if d.SegmentBytes > d.BufferMaxBytes {
			errs = append(errs, fmt.Errorf("forward: Options.SegmentBytes (%d) is above BufferMaxBytes (%d)", d.SegmentBytes, d.BufferMaxBytes))
		}
		if d.MinBackoff > d.MaxBackoff {
			errs = append(errs, fmt.Errorf("forward: Options.MinBackoff (%v) is above MaxBackoff (%v)", d.MinBackoff, d.MaxBackoff))
		}
	}
	return errors.Join(errs...)
}

// withDefaults returns a copy of o with zero values replaced by defaults.
func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if o.BufferMaxBytes == 0 {
		o.BufferMaxBytes = 512 << 20
	}
	if o.SegmentBytes == 0 {
		o.SegmentBytes = min(max(o.BufferMaxBytes/8, 1<<20), 64<<20, o.BufferMaxBytes)
	}
	if o.BatchPoints == 0 {
		o.BatchPoints = 5000
	}
	if o.BatchBytes == 0 {
		o.BatchBytes = 1 << 20
	}
	if o.Concurrency == 0 {
		o.Concurrency = 2
	}
	def(&o.SyncInterval, time.Second)
	def(&o.MaxBlock, 5*time.Second)
	def(&o.FlushInterval, time.Second)
	def(&o.MinBackoff, 100*time.Millisecond)
	def(&o.MaxBackoff, 30*time.Second)
	def(&o.MaxConnectBackoff, 2*time.Second)
	o.MaxConnectBackoff = min(o.MaxConnectBackoff, o.MaxBackoff)
	def(&o.MaxRetryAfter, 5*time.Minute)
	def(&o.ShutdownTimeout, 5*time.Second)
	def(&o.RequestTimeout, 30*time.Second)
	def(&o.StuckAfter, max(30*time.Second, 3*o.FlushInterval, o.RequestTimeout))
	if o.Name == "" {
		o.Name = defaultName(o.URL)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// defaultName is the Name of a forwarder whose Options.Name is empty: the
// URL's host and path, which holds no credentials.
func defaultName(raw string) string {
	u, err := url.Parse(strings.Replace(raw, CategoryPlaceholder, "CATEGORY", 1))
	if err != nil {
		return raw
	}
	return u.Host + strings.Replace(u.Path, "CATEGORY", CategoryPlaceholder, 1)
}

// redactURL returns raw without what may be a credential: the user
// information and the values of the query parameters p, password and
// token (InfluxDB v1's and DataKit's ways to pass them).
func redactURL(raw string) string {
	u, err := url.Parse(strings.Replace(raw, CategoryPlaceholder, "CATEGORY", 1))
	if err != nil {
		return ""
	}
	u.User = nil
	if q := u.Query(); len(q) > 0 {
		for k := range q {
			switch strings.ToLower(k) {
			case "p", "password", "token":
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return strings.Replace(u.String(), "CATEGORY", CategoryPlaceholder, 1)
}

// endpoint is a parsed Options.URL.
type endpoint struct {
	relay     bool               // the path has {category}
	prefix    string             // URL up to {category} (the whole URL when !relay)
	suffix    string             // the rest of the URL after {category}, query included
	precision protocol.Precision // unit of the encoded timestamps
}

// urlPrecision returns the timestamp unit the query's "precision" names
// (InfluxDB's n, ns, u, us, ms, s, m, h), Nanosecond when it has none.
func urlPrecision(q url.Values) (protocol.Precision, error) {
	v := q.Get("precision")
	if v == "" {
		return protocol.Nanosecond, nil
	}
	p, err := protocol.ParsePrecision(v)
	if err != nil || p == protocol.PrecisionAuto {
		return 0, fmt.Errorf("unknown precision %q (want n, ns, u, us, ms, s, m or h, or none for ns)", v)
	}
	return p, nil
}

func parseEndpoint(raw string) (endpoint, error) {
	u, err := url.Parse(strings.Replace(raw, CategoryPlaceholder, "CATEGORY", 1))
	if err != nil {
		return endpoint{}, fmt.Errorf("forward: Options.URL: %w", err)
	}
	q := u.Query()
	prec, err := urlPrecision(q)
	if err != nil {
		return endpoint{}, fmt.Errorf("forward: Options.URL %q: %w", raw, err)
	}
	if q.Get("precision") == "" {
		q.Set("precision", "ns")
		u.RawQuery = q.Encode()
	}
	s := u.String()
	if i := strings.Index(s, "CATEGORY"); strings.Contains(raw, CategoryPlaceholder) && i >= 0 {
		return endpoint{relay: true, prefix: s[:i], suffix: s[i+len("CATEGORY"):], precision: prec}, nil
	}
	return endpoint{prefix: s, precision: prec}, nil
}
