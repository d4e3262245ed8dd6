package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"time"

	"github.com/collectkit/collectkit/collectd"
	"github.com/collectkit/collectkit/constraint"
	"github.com/collectkit/collectkit/point"
)

// defaultCollectdListen is the address of [collectd_network] when listen
// is not set: collectd's network port, on loopback.
const defaultCollectdListen = "127.0.0.1:25826"

// CollectdNetworkConfig is the [collectd_network] table: a UDP listener
// for collectd's binary network protocol, what collectd daemons send with
// their network plugin. Without the table no listener is started.
type CollectdNetworkConfig struct {
	// Listen is the UDP address; empty: 127.0.0.1:25826. It must be
	// a loopback address unless allow_remote is set.
	Listen string `toml:"listen"`
	// SecurityLevel is "None" (the default; signed and encrypted packets
	// are still accepted when auth_file can check them), "Sign" (only
	// signed or encrypted packets) or "Encrypt" (only encrypted ones), as
	// collectd's network plugin server option.
	SecurityLevel string `toml:"security_level"`
	// AuthFile is collectd's "user: password" file, re-read when it
	// changes; relative to the configuration file. Required by Sign and
	// Encrypt.
	AuthFile string `toml:"auth_file"`
	// TypesDB are the types.db files that name the data sources; relative
	// to the configuration file. Empty: collectd.DefaultTypesDB.
	TypesDB []string `toml:"types_db"`
}

// validate checks the table; allowRemote is the top-level allow_remote.
func (c *CollectdNetworkConfig) validate(allowRemote bool) error {
	var errs []error
	listen := c.listen()
	if host, _, err := net.SplitHostPort(listen); err != nil {
		errs = append(errs, fmt.Errorf("collectd_network.listen: %q is not host:port: %w", listen, err))
	} else if !allowRemote && !isLoopbackHost(host) {
		errs = append(errs, fmt.Errorf("collectd_network.listen: %q is not a loopback address; "+
			"set allow_remote = true to receive from other hosts (and security_level = \"Sign\" or \"Encrypt\")", listen))
	}
	level, err := c.securityLevel()
	if err != nil {
		errs = append(errs, err)
	} else if level != collectd.None && c.AuthFile == "" {
		errs = append(errs, fmt.Errorf("collectd_network.auth_file: required when security_level = %q", c.SecurityLevel))
	}
	for i, f := range c.TypesDB {
		if f == "" {
			errs = append(errs, fmt.Errorf("collectd_network.types_db[%d]: empty path", i))
		}
	}
	return errors.Join(errs...)
}

func (c *CollectdNetworkConfig) listen() string {
	if c.Listen == "" {
		return defaultCollectdListen
	}
	return c.Listen
}

func (c *CollectdNetworkConfig) securityLevel() (collectd.SecurityLevel, error) {
	if c.SecurityLevel == "" {
		return collectd.None, nil
	}
	l, err := collectd.ParseSecurityLevel(c.SecurityLevel)
	if err != nil {
		return 0, fmt.Errorf("collectd_network.security_level: %q is not \"None\", \"Sign\" or \"Encrypt\"", c.SecurityLevel)
	}
	return l, nil
}

// isLoopbackHost reports whether a listen host binds to loopback only:
// "localhost" or a loopback IP. An empty host binds every interface.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// collectdNetwork is the running [collectd_network] listener.
type collectdNetwork struct {
	srv *collectd.Server
}

// newCollectdNetwork loads the types.db files and the auth file, and binds
// the UDP socket, so that every error shows at start-up. Points go through
// globalTags and a normalizer into sink, the stack HTTP writes end in.
func newCollectdNetwork(cfg *CollectdNetworkConfig, baseDir string, globalTags map[string]string, sink point.Sink, logger *slog.Logger) (*collectdNetwork, error) {
	level, err := cfg.securityLevel()
	if err != nil {
		return nil, err
	}
	files := cfg.TypesDB
	if len(files) == 0 {
		files = []string{collectd.DefaultTypesDB}
	}
	files = slices.Clone(files)
	for i, f := range files {
		files[i] = resolve(baseDir, f)
	}
	db, err := collectd.LoadTypesDB(files...)
	if err != nil {
		return nil, fmt.Errorf("collectd_network.types_db: %w (Debian's collectd-core package ships %s)", err, collectd.DefaultTypesDB)
	}
	// UDP has no client to resend a refused batch: the points that pass
	// are written, the others logged by the normalizer.
	norm := constraint.New(constraint.Options{WritePartial: true, Logger: logger})
	srv := &collectd.Server{
		Addr:          cfg.listen(),
		SecurityLevel: level,
		TypesDB:       db,
		Sink:          withGlobalTags(globalTags, time.Now, norm.Sink(sink)),
		Logger:        logger,
	}
	if cfg.AuthFile != "" {
		af := collectd.NewAuthFile(resolve(baseDir, cfg.AuthFile))
		if err := af.Load(); err != nil {
			return nil, fmt.Errorf("collectd_network.auth_file: %w", err)
		}
		srv.Passwords = af
	}
	if err := srv.ListenPacket(context.Background()); err != nil {
		return nil, fmt.Errorf("collectd_network.listen: %w", err)
	}
	return &collectdNetwork{srv: srv}, nil
}

// addr is the bound UDP address.
func (c *collectdNetwork) addr() string { return c.srv.LocalAddr().String() }

// run serves until ctx is done.
func (c *collectdNetwork) run(ctx context.Context) error { return c.srv.Run(ctx) }

func resolve(baseDir, path string) string {
	if filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(baseDir, path)
}

// withGlobalTags returns a sink that gives every point the global tags it
// does not already have, and the time now when it has none, and writes
// the result to next. The incoming batch is not modified.
func withGlobalTags(globalTags map[string]string, now func() time.Time, next point.Sink) point.Sink {
	extra := make([]point.Tag, 0, len(globalTags))
	for _, k := range slices.Sorted(maps.Keys(globalTags)) {
		extra = append(extra, point.Tag{Key: k, Value: globalTags[k]})
	}
	return point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		t := now()
		pts := make([]point.Point, len(b.Points))
		for i, p := range b.Points {
			if p.Time.IsZero() {
				p.Time = t
			}
			if len(extra) > 0 {
				tags := make([]point.Tag, len(p.Tags), len(p.Tags)+len(extra))
				copy(tags, p.Tags)
			next:
				for _, e := range extra {
					for _, have := range p.Tags {
						if have.Key == e.Key {
							continue next
						}
					}
					tags = append(tags, e)
				}
				p.Tags = tags
			}
			pts[i] = p
		}
		nb := b
		nb.Points = pts
		return next.Write(ctx, nb)
	})
}
