package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/pythond"
)

// Config is the agent's TOML configuration.
type Config struct {
	// Listen is the address the write API is served on.
	Listen string `toml:"listen"`
	// PythondDir is the root of relative pythond dirs (DataKit's
	// <install>/python.d), relative to the configuration file's directory
	// when not absolute. Empty: that directory, or <install>/python.d when
	// -config-dir is a DataKit <install>/conf.d.
	PythondDir string `toml:"pythond_dir"`
	// GitReposDir enables DataKit's git-repo mode: relative pythond dirs
	// are looked up in <gitrepos_dir>/<repo>/python.d first, then under
	// pythond_dir. Empty: off, or <install>/gitrepos when git_repo is set
	// and -config-dir is a DataKit <install>/conf.d. Fetching and updating
	// the repositories is left to the user (git pull, then SIGHUP).
	GitReposDir string `toml:"gitrepos_dir"`
	// GitRepo names the repository under gitrepos_dir; its
	// conf.d/**/*.conf files are loaded too, as DataKit does. Empty: every
	// repository's python.d is searched, in lexical order, and no conf.d
	// is loaded from them.
	GitRepo string `toml:"git_repo"`
	// WatchScripts restarts a pythond input's process when a script in
	// its dirs changes on disk, so that an edit takes effect without a
	// reload; the other inputs keep running. Default true; false keeps
	// DataKit's behaviour (a change needs a reload or restart).
	WatchScripts *bool `toml:"watch_scripts"`
	// PythondLogs, when its dir is set, also writes DataKit's pythond log
	// files there (_datakit_pythond_cli.log and one
	// _datakit_pythond_framework_<name>_.log per datakit-framework input),
	// rotated by size, for tooling that reads them; the agent's own log
	// still gets every record.
	PythondLogs PythondLogsConfig `toml:"pythond_logs"`
	// GlobalTags are added to every point the write API accepts, and to
	// every point of the inputs.
	GlobalTags map[string]string `toml:"global_tags"`
	// ElectionTags are added instead of GlobalTags to points of a write
	// that says global_election_tags=true (DataKit's election tags, which
	// elected inputs use so that their points do not name one host).
	ElectionTags map[string]string `toml:"election_tags"`
	// Token, when set, is required of every write API client.
	Token string `toml:"token"`
	// AllowRemote lets clients other than loopback use the API. Off by
	// default, as in DataKit. It needs a token, unless
	// AllowRemoteWithoutToken says open access is intended.
	AllowRemote bool `toml:"allow_remote"`
	// AllowRemoteWithoutToken accepts allow_remote without a token: any
	// host that can reach the listener may write (DataKit's behaviour).
	AllowRemoteWithoutToken bool `toml:"allow_remote_without_token"`
	// MemoryLimit is the Go runtime's soft memory limit, in bytes: the
	// garbage collector works harder as the heap nears it, so that what
	// requests in flight may hold (httpapi's budget) is not doubled by
	// garbage not yet collected. Zero: 384 MiB, unless the
	// GOMEMLIMIT environment variable is set; negative: none.
	MemoryLimit int64 `toml:"memory_limit"`
	// HTTP bounds what requests may cost.
	HTTP HTTPConfig `toml:"http"`
	// Inputs are the [[inputs.pythond]] and [[inputs.prom]] tables; a
	// SIGHUP applies their changes without a restart.
	Inputs Inputs `toml:"inputs"`
	// CollectdNetwork, when the table is present, receives collectd's
	// binary network protocol over UDP.
	CollectdNetwork *CollectdNetworkConfig `toml:"collectd_network"`
	Sink            SinkConfig             `toml:"sink"`
}

// Inputs are the input tables of a configuration.
type Inputs struct {
	// Pythond are Python collector processes (DataKit's pythond input).
	Pythond []pythond.Input `toml:"pythond"`
	// Prom are Prometheus exporters to scrape (DataKit's prom input).
	Prom []PromInput `toml:"prom"`
}

// watchScripts is watch_scripts with its default.
func (c *Config) watchScripts() bool { return c.WatchScripts == nil || *c.WatchScripts }

// PythondLogsConfig is the [pythond_logs] table (pythond.CollectorLogs).
type PythondLogsConfig struct {
	// Dir is where the files go, relative to the configuration file's
	// directory when not absolute. Empty: no files (DataKit writes them
	// in its user's home directory).
	Dir string `toml:"dir"`
	// MaxBytes is the size at which a file is rotated; zero: 100000.
	MaxBytes int64 `toml:"max_bytes"`
	// Backups is how many rotated files are kept; zero: 10.
	Backups int `toml:"backups"`
}

// defaultMemoryLimit is the agent's soft memory limit when neither
// memory_limit nor GOMEMLIMIT is set.
const defaultMemoryLimit = 384 << 20

// defaultMaxInFlight is the agent's cap on write requests processed at
// once when [http] max_in_flight is not set.
const defaultMaxInFlight = 64

// HTTPConfig is the [http] table: the write API's request limits (see
// httpapi.Limits for how they work together). Zero means the default
// (httpapi's, or the agent's where it sets one); negative means no limit.
type HTTPConfig struct {
	// MaxBodyBytes caps a request body as received (413 over it).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// MaxDecodedBytes caps a body once decompressed (413 over it).
	MaxDecodedBytes int64 `toml:"max_decoded_bytes"`
	// MaxPoints caps the points (lines, JSON elements, samples) of one
	// request (413 over it).
	MaxPoints int `toml:"max_points"`
	// MaxInFlight caps the write requests processed at once (429 over
	// it); zero: 64.
	MaxInFlight int `toml:"max_in_flight"`
	// MaxInFlightBytes is the memory budget of all requests in flight
	// (429 when it is used up, 413 for a request that needs more).
	MaxInFlightBytes int64 `toml:"max_in_flight_bytes"`
	// BodyReadTimeout is how long a body may go without a byte (408).
	BodyReadTimeout pythond.Duration `toml:"body_read_timeout"`
	// MinBodyRate is the slowest average rate, in bytes per second, a
	// body may arrive at after BodyReadTimeout (408).
	MinBodyRate int64 `toml:"min_body_rate"`
	// MaxPushLabels and MaxPushLabelBytes bound one Pushgateway sample's
	// labels (400).
	MaxPushLabels     int `toml:"max_push_labels"`
	MaxPushLabelBytes int `toml:"max_push_label_bytes"`
	// MaxConnections caps the open client connections; the listener
	// accepts no more until one closes. Zero: 1024.
	MaxConnections int `toml:"max_connections"`
}

// defaultMaxConnections is the agent's cap on open connections when
// [http] max_connections is not set.
const defaultMaxConnections = 1024

// limits returns the httpapi limits the table sets.
func (h HTTPConfig) limits() httpapi.Limits {
	return httpapi.Limits{
		MaxBodyBytes:      h.MaxBodyBytes,
		MaxDecodedBytes:   h.MaxDecodedBytes,
		MaxPoints:         h.MaxPoints,
		MaxInFlight:       h.maxInFlight(),
		MaxInFlightBytes:  h.MaxInFlightBytes,
		BodyReadTimeout:   time.Duration(h.BodyReadTimeout),
		MinBodyRate:       h.MinBodyRate,
		MaxPushLabels:     h.MaxPushLabels,
		MaxPushLabelBytes: h.MaxPushLabelBytes,
	}
}

// maxConnections is the listener's cap; zero means none.
func (h HTTPConfig) maxConnections() int {
	switch {
	case h.MaxConnections == 0:
		return defaultMaxConnections
	case h.MaxConnections < 0:
		return 0
	}
	return h.MaxConnections
}

// maxInFlight is the limit handed to httpapi: zero there means none.
func (h HTTPConfig) maxInFlight() int {
	switch {
	case h.MaxInFlight == 0:
		return defaultMaxInFlight
	case h.MaxInFlight < 0:
		return 0
	}
	return h.MaxInFlight
}

// SinkConfig selects where accepted points go.
type SinkConfig struct {
	// Kind is "stdout", "file" or "influx"; empty means stdout unless -out
	// is given.
	Kind string `toml:"kind"`
	// Dir is the output directory of kind "file".
	Dir string `toml:"dir"`
	// URL is the write endpoint of kind "influx".
	URL string `toml:"url"`
	// Token is sent as "Authorization: Token <token>" by kind "influx".
	Token string `toml:"token"`
	// BufferDir is the on-disk buffer of kind "influx"; empty: a directory
	// under the user cache directory.
	BufferDir string `toml:"buffer_dir"`
	// BufferMaxBytes caps the on-disk buffer; zero: the forwarder's default.
	BufferMaxBytes int64 `toml:"buffer_max_bytes"`
	// Sync is when kind "file" and kind "influx" (its buffer) fsync:
	// "always" (the default: before a write is acknowledged), "interval"
	// or "never". Every choice survives a crash of the agent; they differ
	// in what survives a crash of the machine.
	Sync forward.SyncPolicy `toml:"sync"`
	// SyncInterval is the period of sync = "interval"; zero: 1s.
	SyncInterval pythond.Duration `toml:"sync_interval"`
}

// parseConfig decodes and validates a configuration. name is used in error
// messages.
func parseConfig(name string, data []byte) (Config, error) {
	var cfg Config
	if err := decodeConfig(name, data, &cfg); err != nil {
		return Config{}, err
	}
	if err := cfg.validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", name, err)
	}
	return cfg, nil
}

// decodeConfig decodes data into cfg, refusing unknown keys; errors name
// the file (name) and, where TOML gives it, the line.
func decodeConfig(name string, data []byte, cfg *Config) error {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			var keys []string
			for _, e := range strict.Errors {
				row, col := e.Position()
				keys = append(keys, fmt.Sprintf("%s (line %d, column %d)", strings.Join(e.Key(), "."), row, col))
			}
			return fmt.Errorf("%s: unknown configuration key %s", name, strings.Join(keys, ", "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return fmt.Errorf("%s:%d:%d: %v", name, row, col, de)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			errs = append(errs, fmt.Errorf("listen: %q is not host:port: %w", c.Listen, err))
		}
	}
	if err := (pythond.Config{Inputs: c.Inputs.Pythond}).Validate(); err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, promErrors(c.Inputs.Prom)...)
	if c.CollectdNetwork != nil {
		if err := c.CollectdNetwork.validate(c.AllowRemote); err != nil {
			errs = append(errs, err)
		}
	}
	if c.AllowRemote && c.Token == "" && !c.AllowRemoteWithoutToken {
		errs = append(errs, errors.New("allow_remote: true without a token lets any host that reaches the listener write; "+
			"set token, or set allow_remote_without_token = true if open access is intended"))
	}
	if c.Sink.SyncInterval < 0 {
		errs = append(errs, fmt.Errorf("sink.sync_interval: negative duration %s", c.Sink.SyncInterval))
	}
	switch c.Sink.Kind {
	case "", "stdout":
	case "file":
		if c.Sink.Dir == "" {
			errs = append(errs, errors.New(`sink.dir: required when sink.kind = "file"`))
		}
	case "influx":
		if c.Sink.URL == "" {
			errs = append(errs, errors.New(`sink.url: required when sink.kind = "influx"`))
		}
	default:
		errs = append(errs, fmt.Errorf(`sink.kind: %q is not one of "stdout", "file", "influx"`, c.Sink.Kind))
	}
	return errors.Join(errs...)
}
