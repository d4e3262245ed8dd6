package pythond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond/internal/collectdconf"
	"github.com/collectkit/collectkit/pythond/internal/wire"
)

// The collectd room: collectd Python plugins run unchanged by collectkit's
// runtime (py/runtime/run_collectd.py, sys.path folder py/collectd, the
// collectd module). The input's collectd.conf is read on the Go side
// (internal/collectdconf) at each start into the JSON config the runner
// reads: globals, the types.db data sets and the <Plugin python> items.
// The runner sends value lists (V frames, marshal), which become metric
// points by collectd.AppendPoints, and notifications (N frames, JSON),
// which become keyevent points.

// CollectdOptions are the options of framework collectd.
type CollectdOptions struct {
	// CollectdConfig is the collectd.conf to read: an existing one (its
	// other plugins are skipped and logged once) or a file with just
	// <Plugin python> blocks. A relative path is relative to the python.d
	// root. Paths inside the file that are relative resolve against the
	// input's working directory, as collectd resolves them against its
	// own. Required.
	CollectdConfig string `toml:"collectd_config"`
	// Interval is collectd's global Interval when the file sets none.
	// Zero means 10s, collectd's default. Framework prometheus shares the
	// key: there it is how often each script's registries are collected
	// (zero: DefaultPrometheusInterval).
	Interval Duration `toml:"interval"`
	// Hostname is collectd's Hostname when the file sets none. Empty
	// means the OS host name, made fully qualified when the file's
	// FQDNLookup is true (collectd's default), as collectd does.
	Hostname string `toml:"hostname"`
	// TypesDB are the types.db files when the file sets no TypesDB.
	// Relative paths are relative to the python.d root. Empty means
	// collectd.DefaultTypesDB.
	TypesDB []string `toml:"types_db"`
}

var collectdRoom = room{
	name:     "collectd",
	options:  []string{"collectd_config", "interval", "hostname", "types_db"},
	set:      collectdSet,
	validate: validateCollectd,
	resolve:  resolveCollectd,
	start:    startCollectd,
	noDirs:   true,
}

// collectdRunner is the collectd runner, relative to the installed Python
// directory; it puts py/collectd on sys.path itself.
const collectdRunner = "runtime/run_collectd.py"

// Defaults of collectd 5.12 for what the file does not set.
const (
	collectdDefaultInterval    = 10 * time.Second
	collectdDefaultMaxInterval = 86400 * time.Second
	collectdDefaultThreads     = 5
)

func collectdSet(in *Input) []string {
	var keys []string
	if in.CollectdConfig != "" {
		keys = append(keys, "collectd_config")
	}
	if in.Interval != 0 {
		keys = append(keys, "interval")
	}
	if in.Hostname != "" {
		keys = append(keys, "hostname")
	}
	if len(in.TypesDB) > 0 {
		keys = append(keys, "types_db")
	}
	return keys
}

func validateCollectd(in *Input, bad badFunc) {
	switch {
	case strings.TrimSpace(in.CollectdConfig) == "":
		bad("collectd_config", "collectd_config is required for framework collectd")
	case strings.ContainsRune(in.CollectdConfig, 0):
		bad("collectd_config", "collectd_config contains a NUL byte")
	}
	if in.Interval < 0 {
		bad("interval", "negative interval %s", in.Interval)
	}
	if strings.ContainsAny(in.Hostname, "\x00\n") {
		bad("hostname", "hostname %q contains a control character", in.Hostname)
	}
	for i, f := range in.TypesDB {
		if strings.TrimSpace(f) == "" || strings.ContainsRune(f, 0) {
			bad(fmt.Sprintf("types_db[%d]", i), "%q is not a file name", f)
		}
	}
}

// collectdSetup is what one start of a collectd input reads: the file
// and the types.db.
type collectdSetup struct {
	cfg *collectdconf.Config
	db  *collectd.TypesDB
}

// loadCollectd reads in's collectd.conf and its types.db; errors are
// ConfigErrors naming the key (prefix + ".collectd_config" or
// ".types_db") and, for the file, file:line.
func loadCollectd(s *Supervisor, in *resolvedInput, prefix string) (*collectdSetup, error) {
	path := in.CollectdConfig
	if !filepath.IsAbs(path) {
		path = filepath.Join(s.root, path)
	}
	cfg, err := collectdconf.Load(path, collectdconf.Options{Dir: in.workdir})
	if err != nil {
		return nil, &ConfigError{Key: prefix + "collectd_config", Err: fmt.Errorf("%w: %w", ErrInvalidConfig, err)}
	}
	files, key := cfg.TypesDB, "collectd_config"
	if len(files) == 0 {
		key = "types_db"
		for _, f := range in.TypesDB {
			if !filepath.IsAbs(f) {
				f = filepath.Join(s.root, f)
			}
			files = append(files, f)
		}
	}
	db, err := collectd.LoadTypesDB(files...)
	if err != nil {
		what := "types_db"
		if key == "collectd_config" {
			what = "the TypesDB option of " + path
		}
		return nil, &ConfigError{Key: prefix + key, Err: fmt.Errorf("%w: %s: %w", ErrInvalidConfig, what, err)}
	}
	return &collectdSetup{cfg: cfg, db: db}, nil
}

func resolveCollectd(s *Supervisor, in *resolvedInput, prefix string) error {
	setup, err := loadCollectd(s, in, prefix+".")
	if err != nil {
		return err
	}
	for _, w := range setup.cfg.Warnings {
		in.logger.Warn("collectd config", "err", w)
	}
	if len(setup.cfg.Skipped) > 0 {
		in.logger.Info("collectd config: skipped plugins: " + strings.Join(setup.cfg.Skipped, ", "))
	}
	if len(setup.cfg.Python.Items) == 0 {
		in.logger.Warn("collectd config has no <Plugin python> ModulePath, Import or Module: nothing to run", "file", setup.cfg.Files[0])
	}
	return nil
}

// collectdJSON is the runner's config file.
type collectdJSON struct {
	Name            string              `json:"name"`
	Hostname        string              `json:"hostname"`
	Interval        float64             `json:"interval"`
	GlobalInterval  float64             `json:"global_interval"`
	MaxReadInterval float64             `json:"max_read_interval"`
	ReadThreads     int                 `json:"read_threads"`
	LogTraces       bool                `json:"log_traces"`
	Interactive     bool                `json:"interactive"`
	Encoding        string              `json:"encoding"`
	Types           map[string][][4]any `json:"types"`
	Items           []map[string]any    `json:"items"`
}

// collectdConfigJSON builds the runner's config from a setup.
func collectdConfigJSON(ctx context.Context, in *resolvedInput, setup *collectdSetup) collectdJSON {
	cfg := setup.cfg
	global := cfg.Interval
	if global == 0 {
		global = time.Duration(in.Interval)
	}
	if global == 0 {
		global = collectdDefaultInterval
	}
	interval := cfg.Python.Interval // <LoadPlugin python> Interval
	if interval == 0 {
		interval = global
	}
	maxInterval := cfg.MaxReadInterval
	if maxInterval == 0 {
		maxInterval = collectdDefaultMaxInterval
	}
	threads := cfg.ReadThreads
	if threads == 0 {
		threads = collectdDefaultThreads
	}
	out := collectdJSON{
		Name:            in.Name,
		Hostname:        collectdHostname(ctx, in, cfg),
		Interval:        interval.Seconds(),
		GlobalInterval:  global.Seconds(),
		MaxReadInterval: maxInterval.Seconds(),
		ReadThreads:     threads,
		LogTraces:       cfg.Python.LogTraces,
		Interactive:     cfg.Python.Interactive,
		Encoding:        cfg.Python.Encoding,
		Types:           map[string][][4]any{},
		Items:           []map[string]any{},
	}
	bound := func(f float64) any {
		if math.IsNaN(f) {
			return nil
		}
		return f
	}
	for _, typ := range setup.db.Types() {
		ds, _ := setup.db.DataSet(typ)
		sources := make([][4]any, 0, len(ds.Sources))
		for _, src := range ds.Sources {
			sources = append(sources, [4]any{src.Name, src.Type.String(), bound(src.Min), bound(src.Max)})
		}
		out.Types[typ] = sources
	}
	for _, it := range cfg.Python.Items {
		switch it.Kind {
		case collectdconf.ItemModulePath:
			out.Items = append(out.Items, map[string]any{"kind": string(it.Kind), "path": it.Path})
		case collectdconf.ItemImport:
			out.Items = append(out.Items, map[string]any{"kind": string(it.Kind), "module": it.Module})
		case collectdconf.ItemModule:
			out.Items = append(out.Items, map[string]any{"kind": string(it.Kind), "name": it.Name, "config": it.Config})
		}
	}
	return out
}

// collectdHostname is collectd's host name: the file's Hostname, else
// the input's hostname, else the OS host name, looked up as a fully
// qualified name (its canonical name) when FQDNLookup is true, as
// collectd does; a failed lookup keeps the short name.
func collectdHostname(ctx context.Context, in *resolvedInput, cfg *collectdconf.Config) string {
	if cfg.Hostname != "" {
		return cfg.Hostname
	}
	if in.Hostname != "" {
		return in.Hostname
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		in.logger.Warn("collectd: no OS host name; using localhost", "err", err)
		return "localhost"
	}
	if !cfg.FQDNLookup {
		return host
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cname, err := net.DefaultResolver.LookupCNAME(ctx, host)
	if cname = strings.TrimSuffix(cname, "."); err != nil || cname == "" {
		in.logger.Debug("collectd: FQDNLookup failed; using the short host name", "host", host, "err", err)
		return host
	}
	return cname
}

// notificationRecord is the payload of an N frame.
type notificationRecord struct {
	Host           string  `json:"host"`
	Plugin         string  `json:"plugin"`
	PluginInstance string  `json:"plugin_instance"`
	Type           string  `json:"type"`
	TypeInstance   string  `json:"type_instance"`
	Time           float64 `json:"time"`
	Severity       int     `json:"severity"`
	Message        string  `json:"message"`
}

func startCollectd(ctx context.Context, s *Supervisor, in *resolvedInput, pyDir string) (*launch, error) {
	setup, err := loadCollectd(s, in, "")
	if err != nil {
		return nil, fmt.Errorf("collectd configuration: %w", err)
	}
	spec := collectdConfigJSON(ctx, in, setup)
	dir := filepath.Join(s.stateDir, "pythond", "run")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the collectd config file: %w", err)
	}
	f, err := os.CreateTemp(dir, "collectd-config-*.json")
	if err != nil {
		return nil, fmt.Errorf("creating the collectd config file: %w", err)
	}
	werr := json.NewEncoder(f).Encode(spec)
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("writing the collectd config file: %w", err)
	}
	db := setup.db
	var (
		dec wire.ValueListDecoder
		pts []point.Point
	)
	values := func(ctx context.Context, meta, payload []byte) {
		collector := string(meta)
		vls, err := dec.Decode(payload, db)
		if err != nil {
			in.logger.Warn("bad value lists from the collectd runner", "collector", collector, "err", err)
			s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: collector, Kind: KindReport, Message: err.Error()})
		}
		pts, err = collectd.AppendPoints(pts[:0], db, vls...)
		if err != nil {
			in.logger.Warn("value lists dropped", "collector", collector, "err", err)
			s.report(ctx, in, CollectorError{Name: in.Name, Input: in.Name, Collector: collector, Kind: KindReport, Message: err.Error()})
		}
		// deliver works in pts, whose strings alias payload: both are
		// reused once this returns.
		_ = s.deliver(ctx, in, collector, point.Metric, pts)
		clear(pts)
	}
	notification := func(ctx context.Context, meta, payload []byte) {
		var rec notificationRecord
		if err := json.Unmarshal(payload, &rec); err != nil {
			in.logger.Warn("malformed notification from the collectd runner", "collector", string(meta), "err", err)
			return
		}
		n := collectd.Notification{
			Host: rec.Host, Plugin: rec.Plugin, PluginInstance: rec.PluginInstance,
			Type: rec.Type, TypeInstance: rec.TypeInstance,
			Severity: collectd.Severity(rec.Severity), Message: rec.Message,
		}
		if rec.Time > 0 && rec.Time < 1<<33 {
			sec, frac := math.Modf(rec.Time)
			n.Time = time.Unix(int64(sec), int64(math.Round(frac*1e9)))
		}
		_ = s.deliver(ctx, in, string(meta), point.KeyEvent, []point.Point{collectd.NotificationPoint(n)})
	}
	args := []string{
		filepath.Join(pyDir, filepath.FromSlash(collectdRunner)),
		"--name", in.Name,
		"--config", f.Name(),
	}
	return &launch{
		Args:    args,
		Channel: true,
		Frames: map[byte]func(context.Context, []byte, []byte){
			wire.KindValues:       values,
			wire.KindNotification: notification,
		},
		Close: func() { os.Remove(f.Name()) },
	}, nil
}
