package scrape

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
)

// Defaults for zero Options fields.
const (
	// DefaultName is the job of a Scraper whose Options.Name is empty
	// (DataKit's input name).
	DefaultName = "prom"
	// DefaultInterval is the scrape interval when Options.Interval is
	// zero: DataKit's prom input's default.
	DefaultInterval = 30 * time.Second
	// DefaultTimeout is Prometheus's scrape timeout, used when
	// Options.Timeout is zero and the interval is longer.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBodyBytes bounds a response body, after decompression,
	// when Options.MaxBodyBytes is zero.
	DefaultMaxBodyBytes = 64 << 20
)

// Target is one exporter URL to scrape.
type Target struct {
	// URL is the exporter's metrics URL, http or https, for example
	// "http://127.0.0.1:9100/metrics". Required.
	URL string
	// Tags are added to every point of this target's scrapes. They win over
	// Options.Tags and over the job and instance tags of the same name.
	Tags map[string]string
}

// BasicAuth is HTTP basic authentication. A zero BasicAuth sends none.
type BasicAuth struct {
	Username string
	Password string
}

// TLSConfig configures https targets. The zero value verifies the
// server's certificate against the system roots and sends no client
// certificate.
type TLSConfig struct {
	// CAFile is a PEM file of the certificate authorities that may sign
	// the targets' certificates, instead of the system roots.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and its key, sent
	// to targets that ask for one. Both or neither.
	CertFile string
	KeyFile  string
	// ServerName is the name the target's certificate must hold, instead
	// of the URL's host.
	ServerName string
	// InsecureSkipVerify accepts any certificate: no protection against a
	// man in the middle.
	InsecureSkipVerify bool
}

func (c TLSConfig) isZero() bool { return c == TLSConfig{} }

// Options configure a Scraper. The zero value of each field is its
// default; New does not modify the caller's Options.
type Options struct {
	// Name is the input's name: the job tag of every point and the Input
	// of every batch. Empty means DefaultName.
	Name string
	// Targets are the exporters. At least one is required.
	Targets []Target
	// Tags are added to every point of every target (after the job and
	// instance tags, which they override).
	Tags map[string]string

	// Interval is the time between two scrapes of a target. Zero means
	// DefaultInterval; negative is an error.
	Interval time.Duration
	// Timeout bounds one scrape (connect, request, body). Zero means
	// DefaultTimeout or Interval, whichever is shorter; more than
	// Interval or negative is an error.
	Timeout time.Duration

	// BearerToken is sent as "Authorization: Bearer <token>".
	BearerToken string
	// BearerTokenFile names a file holding the token (surrounding white
	// space removed). It is read at every scrape, so a rotated token is
	// picked up; New checks that it can be read. At most one of
	// BearerToken, BearerTokenFile and BasicAuth may be set.
	BearerTokenFile string
	// BasicAuth is sent when its Username is not empty.
	BasicAuth BasicAuth
	// TLS configures https targets. It must be zero when Client is set.
	TLS TLSConfig

	// HonorLabels, as Prometheus's honor_labels: when false (the
	// default), a sample's own label named like one of the target's tags
	// (job, instance, Tags) is renamed exported_<name> and the target's
	// tag is added; when true the sample's label is kept and the target's
	// tag of that name is not added.
	HonorLabels bool
	// MaxBodyBytes bounds a response body after decompression; a larger
	// body fails that scrape. Zero means DefaultMaxBodyBytes; negative
	// means no limit.
	MaxBodyBytes int64
	// MaxSamples bounds the samples of one scrape (Prometheus's
	// sample_limit); more fail that scrape. Zero or negative means no
	// limit.
	MaxSamples int

	// Constraint configures the normalization of every point before Sink
	// (see package constraint). Its WritePartial is always in effect: a
	// rejected point is dropped and logged, and the others are written,
	// since nobody resends a scrape.
	Constraint constraint.Options
	// Sink receives one batch per scrape of a target: the samples and the
	// target's up, scrape_duration_seconds and scrape_samples_scraped
	// points, category metric, Input Name. Required. It is called from
	// one goroutine per target, so concurrently.
	Sink point.Sink
	// Logger receives failed scrapes (at Warn, with the URL and the HTTP
	// status) and the recoveries after them (at Info). Nil discards.
	Logger *slog.Logger
	// Client, if not nil, makes the requests instead of a client built
	// from TLS. Its Timeout should be zero or longer than Timeout; the
	// scrape timeout is applied to each request's context. Client must be
	// safe for concurrent use. Run closes the idle connections of the
	// client New builds when it returns, not those of this one.
	Client *http.Client
}

// ErrInvalidOptions is matched by every error New returns for Options a
// caller got wrong.
var ErrInvalidOptions = errors.New("invalid scrape options")

// OptionsError is one mistake in Options: Field names it as Go would,
// with the target index ("Targets[2].URL").
type OptionsError struct {
	Field string
	Err   error
}

// Error returns "scrape: <Field>: <Err>".
func (e *OptionsError) Error() string { return "scrape: " + e.Field + ": " + e.Err.Error() }

// Unwrap returns Err.
func (e *OptionsError) Unwrap() error { return e.Err }

// Is reports whether target is ErrInvalidOptions.
func (e *OptionsError) Is(target error) bool { return target == ErrInvalidOptions }

// config is Options with the defaults applied and the targets parsed.
type config struct {
	name        string
	interval    time.Duration
	timeout     time.Duration
	maxBody     int64 // < 0: none
	maxSamples  int
	honorLabels bool
	bearer      string
	bearerFile  string
	basic       BasicAuth
	targets     []targetConfig
	client      *http.Client
}

// targetConfig is one validated target.
type targetConfig struct {
	url      string
	instance string
	labels   []point.Tag // job, instance, Options.Tags, Target.Tags; sorted, unique
}

// resolve validates opts and applies the defaults. Every mistake is
// reported, joined.
func resolve(opts Options) (config, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &OptionsError{Field: field, Err: fmt.Errorf(format, args...)})
	}
	c := config{
		name:        opts.Name,
		interval:    opts.Interval,
		timeout:     opts.Timeout,
		maxBody:     opts.MaxBodyBytes,
		maxSamples:  opts.MaxSamples,
		honorLabels: opts.HonorLabels,
		bearer:      opts.BearerToken,
		bearerFile:  opts.BearerTokenFile,
		basic:       opts.BasicAuth,
		client:      opts.Client,
	}
	if c.name == "" {
		c.name = DefaultName
	}
	if opts.Sink == nil {
		bad("Sink", "required")
	}
	switch {
	case c.interval == 0:
		c.interval = DefaultInterval
	case c.interval < 0:
		bad("Interval", "negative duration %s", c.interval)
	}
	switch {
	case c.timeout == 0:
		c.timeout = min(DefaultTimeout, max(c.interval, 0))
	case c.timeout < 0:
		bad("Timeout", "negative duration %s", c.timeout)
	case c.interval > 0 && c.timeout > c.interval:
		bad("Timeout", "%s is longer than the interval %s; a scrape must end before the next one starts", c.timeout, c.interval)
	}
	switch {
	case c.maxBody == 0:
		c.maxBody = DefaultMaxBodyBytes
	case c.maxBody < 0:
		c.maxBody = -1
	}
	auths := 0
	for _, set := range []bool{c.bearer != "", c.bearerFile != "", c.basic.Username != ""} {
		if set {
			auths++
		}
	}
	if auths > 1 {
		bad("BearerToken", "at most one of BearerToken, BearerTokenFile and BasicAuth may be set")
	}
	if c.basic.Username == "" && c.basic.Password != "" {
		bad("BasicAuth.Username", "required when BasicAuth.Password is set")
	}
	if c.bearerFile != "" {
		if _, err := readToken(c.bearerFile); err != nil {
			bad("BearerTokenFile", "%v", err)
		}
	}
	if strings.ContainsAny(c.bearer, "\r\n") {
		bad("BearerToken", "contains a line break")
	}
	if c.client == nil {
		tc, err := tlsConfig(opts.TLS)
		if err != nil {
			errs = append(errs, err)
		}
		c.client = newClient(tc)
	} else if !opts.TLS.isZero() {
		bad("TLS", "must be zero when Client is set (configure the Client's transport instead)")
	}
	if len(opts.Targets) == 0 {
		bad("Targets", "at least one target is required")
	}
	common := map[string]string{"job": c.name}
	for k, v := range opts.Tags {
		if k == "" {
			bad("Tags", "empty tag key")
		}
		common[k] = v
	}
	seen := make(map[string]int, len(opts.Targets))
	for i, t := range opts.Targets {
		field := fmt.Sprintf("Targets[%d]", i)
		inst, err := instanceOf(t.URL)
		if err != nil {
			bad(field+".URL", "%v", err)
			continue
		}
		if j, dup := seen[t.URL]; dup {
			bad(field+".URL", "%q is also Targets[%d]", t.URL, j)
			continue
		}
		seen[t.URL] = i
		labels := map[string]string{"instance": inst}
		for k, v := range common {
			labels[k] = v
		}
		for k, v := range t.Tags {
			if k == "" {
				bad(field+".Tags", "empty tag key")
			}
			labels[k] = v
		}
		c.targets = append(c.targets, targetConfig{url: t.URL, instance: inst, labels: sortedTags(labels)})
	}
	return c, errors.Join(errs...)
}

// instanceOf checks a target URL and returns its host:port, with the
// scheme's default port when the URL has none, as Prometheus's instance
// label.
func instanceOf(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	var port string
	switch u.Scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		return "", fmt.Errorf("%q: scheme must be http or https", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return "", fmt.Errorf("%q: credentials in the URL are not sent; use BasicAuth", raw)
	}
	if p := u.Port(); p != "" {
		port = p
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

// readToken reads a bearer token file.
func readToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%s: empty token", path)
	}
	if strings.ContainsAny(tok, "\r\n") {
		return "", fmt.Errorf("%s: token contains a line break", path)
	}
	return tok, nil
}

// tlsConfig builds the client TLS configuration; nil for the zero value.
func tlsConfig(c TLSConfig) (*tls.Config, error) {
	if c.isZero() {
		return nil, nil
	}
	var errs []error
	bad := func(field string, err error) {
		errs = append(errs, &OptionsError{Field: "TLS." + field, Err: err})
	}
	tc := &tls.Config{
		ServerName:         c.ServerName,
		InsecureSkipVerify: c.InsecureSkipVerify, //nolint:gosec // the user asked for it
		MinVersion:         tls.VersionTLS12,
	}
	if c.CAFile != "" {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			bad("CAFile", err)
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				bad("CAFile", fmt.Errorf("%s holds no PEM certificate", c.CAFile))
			}
			tc.RootCAs = pool
		}
	}
	switch {
	case c.CertFile != "" && c.KeyFile != "":
		cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
		if err != nil {
			bad("CertFile", err)
		} else {
			tc.Certificates = []tls.Certificate{cert}
		}
	case c.CertFile != "":
		bad("KeyFile", errors.New("required when CertFile is set"))
	case c.KeyFile != "":
		bad("CertFile", errors.New("required when KeyFile is set"))
	}
	return tc, errors.Join(errs...)
}

// newClient is the client of a Scraper without Options.Client: its own
// transport, so that idle connections are its own, compression left to
// the scraper (which bounds the decompressed size), no HTTP_PROXY from
// the environment (Prometheus uses none unless configured). Redirects
// are followed, as Prometheus does; net/http does not send the
// Authorization header to another host.
func newClient(tc *tls.Config) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.Proxy = nil // as Prometheus: no proxy from the environment
	tr.DisableCompression = true
	tr.MaxIdleConnsPerHost = 2
	return &http.Client{Transport: tr}
}
