package main

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"regexp"
	"time"

	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond"
	"github.com/collectkit/collectkit/scrape"
)

// PromInput is one [[inputs.prom]] table: Prometheus exporters scraped
// every interval, with DataKit's prom input's name and keys.
type PromInput struct {
	// Name is the job tag of the points and the input they are reported
	// as; empty: "prom".
	Name string `toml:"name"`
	// URLs are the exporters' metrics URLs. Required.
	URLs []string `toml:"urls"`
	// Interval is the time between scrapes; zero: 30s (DataKit's).
	Interval pythond.Duration `toml:"interval"`
	// Timeout bounds a scrape; zero: 10s or the interval if shorter.
	Timeout pythond.Duration `toml:"timeout"`
	// Tags are added to every point, over the global tags.
	Tags map[string]string `toml:"tags"`
	// BearerTokenFile holds a token sent as "Authorization: Bearer".
	BearerTokenFile string `toml:"bearer_token_file"`
	// Username and Password are sent as basic authentication.
	Username string `toml:"username"`
	Password string `toml:"password"`
	// TLSCA, TLSCert, TLSKey, TLSServerName and InsecureSkipVerify
	// configure https URLs (see scrape.TLSConfig).
	TLSCA              string `toml:"tls_ca"`
	TLSCert            string `toml:"tls_cert"`
	TLSKey             string `toml:"tls_key"`
	TLSServerName      string `toml:"tls_server_name"`
	InsecureSkipVerify bool   `toml:"insecure_skip_verify"`
	// HonorLabels keeps a sample's own job, instance and tag labels
	// instead of renaming them exported_<name>.
	HonorLabels bool `toml:"honor_labels"`
}

// options returns the scrape options of the input; relative file names
// are taken relative to baseDir (empty: left as they are).
func (in PromInput) options(baseDir string, globalTags map[string]string, sink point.Sink, logger *slog.Logger) scrape.Options {
	path := func(p string) string {
		if p == "" || baseDir == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(baseDir, p)
	}
	tags := maps.Clone(globalTags)
	if tags == nil {
		tags = map[string]string{}
	}
	maps.Copy(tags, in.Tags)
	opts := scrape.Options{
		Name:            in.Name,
		Tags:            tags,
		Interval:        time.Duration(in.Interval),
		Timeout:         time.Duration(in.Timeout),
		BearerTokenFile: path(in.BearerTokenFile),
		BasicAuth:       scrape.BasicAuth{Username: in.Username, Password: in.Password},
		TLS: scrape.TLSConfig{
			CAFile:             path(in.TLSCA),
			CertFile:           path(in.TLSCert),
			KeyFile:            path(in.TLSKey),
			ServerName:         in.TLSServerName,
			InsecureSkipVerify: in.InsecureSkipVerify,
		},
		HonorLabels: in.HonorLabels,
		Sink:        sink,
		Logger:      logger,
	}
	for _, u := range in.URLs {
		opts.Targets = append(opts.Targets, scrape.Target{URL: u})
	}
	return opts
}

// validate checks what needs no file (the files are read when the agent
// starts); its errors name scrape's fields.
func (in PromInput) validate() error {
	o := in.options("", nil, point.Discard(), nil)
	o.BearerTokenFile, o.TLS.CAFile, o.TLS.CertFile, o.TLS.KeyFile = "", "", "", ""
	if in.BearerTokenFile != "" && in.Username != "" {
		o.BearerToken = "x" // reported as two kinds of authentication
	}
	if (in.TLSCert == "") != (in.TLSKey == "") {
		o.TLS.CertFile, o.TLS.KeyFile = in.TLSCert, in.TLSKey // reported as a missing half
	}
	_, err := scrape.New(o)
	return err
}

// promKeys maps scrape.Options fields to the keys of [[inputs.prom]].
var promKeys = map[string]string{
	"Name": "name", "Targets": "urls", "Tags": "tags", "Interval": "interval", "Timeout": "timeout",
	"BearerToken": "bearer_token_file", "BearerTokenFile": "bearer_token_file",
	"BasicAuth.Username": "username", "TLS.CAFile": "tls_ca", "TLS.CertFile": "tls_cert",
	"TLS.KeyFile": "tls_key",
}

var targetField = regexp.MustCompile(`^Targets\[(\d+)\]\.URL$`)

// promConfigError rewrites the field names of scrape's errors as the
// table's keys, one error per mistake, each prefixed with prefix
// ("inputs.prom[0]: urls[1]: ...").
func promConfigError(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	out := make([]error, 0, len(list))
	for _, e := range list {
		var oe *scrape.OptionsError
		if !errors.As(e, &oe) {
			out = append(out, fmt.Errorf("%s: %w", prefix, e))
			continue
		}
		key, ok := promKeys[oe.Field]
		if m := targetField.FindStringSubmatch(oe.Field); m != nil {
			key, ok = "urls["+m[1]+"]", true
		}
		if !ok {
			key = oe.Field
		}
		if oe.Field == "BearerToken" {
			out = append(out, fmt.Errorf("%s: %s: set either bearer_token_file or username and password", prefix, key))
			continue
		}
		out = append(out, fmt.Errorf("%s: %s: %w", prefix, key, oe.Err))
	}
	return errors.Join(out...)
}

// promErrors validates the [[inputs.prom]] tables.
func promErrors(ins []PromInput) []error {
	var errs []error
	names := map[string]int{}
	for i, in := range ins {
		if err := in.validate(); err != nil {
			errs = append(errs, promConfigError(fmt.Sprintf("inputs.prom[%d]", i), err))
		}
		// The name labels the input's metrics and status.
		name := in.Name
		if name == "" {
			name = scrape.DefaultName
		}
		if j, dup := names[name]; dup {
			errs = append(errs, fmt.Errorf("inputs.prom[%d]: name %q is already used by inputs.prom[%d]; give each a name", i, name, j))
		}
		names[name] = i
	}
	return errs
}
