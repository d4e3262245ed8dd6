package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"time"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
	"github.com/collectkit/collectkit/pythond"
)

//go:embed default.toml
var defaultConfig []byte

//go:embed python.d
var bundledPythonD embed.FS

// pythondError marks the context of a last error the Python supervisor
// reports, which it has already logged.
type pythondError struct{}

// version is reported by /v1/ping and the X-DataKit header.
const version = "collectkit-agent/0.1.0"

// run is the whole agent; main only adds signal handling and the exit code.
// It returns nil after a clean, ctx-triggered shutdown.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flag.NewFlagSet("agent", flag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.String("config", "", "TOML configuration `file` (default: the embedded default configuration)")
	listen := flags.String("listen", "", "listen `address`, overriding the configuration's listen")
	outDir := flags.String("out", "", "also append accepted points to `DIR`/<category>.lp")
	var outSync forward.SyncPolicy
	flags.TextVar(&outSync, "out-sync", forward.SyncAlways, "when -out files are fsynced: always (before a write is acknowledged), interval (every second) or never")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", flags.Arg(0))
	}
	logger := slog.New(slog.NewTextHandler(stderr, nil))

	cfg, baseDir, cleanup, err := loadConfig(*configPath)
	if err != nil {
		return err
	}
	defer cleanup()
	if *listen != "" {
		cfg.Listen = *listen
	}
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:9529"
	}

	if limit := memoryLimit(cfg.MemoryLimit, os.Getenv("GOMEMLIMIT")); limit > 0 {
		debug.SetMemoryLimit(limit)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Sinks: the configured one, -out, or stdout when neither is given.
	out, err := buildSinks(ctx, cfg, baseDir, *outDir, outSync, stdout, logger)
	if err != nil {
		return err
	}

	handler, err := httpapi.New(httpapi.Options{
		Sink:             out.sink,
		Version:          version,
		GlobalHostTags:   cfg.GlobalTags,
		Token:            cfg.Token,
		AllowNonLoopback: cfg.AllowRemote,
		Limits:           cfg.HTTP.limits(),
		Logger:           logger.With("component", "httpapi"),
		Hooks: httpapi.Hooks{
			// The handler keeps every reported error; the agent also logs
			// those posted by external collectors (the Python supervisor
			// logs its own).
			OnLastError: func(ctx context.Context, e httpapi.LastError) {
				if ctx.Value(pythondError{}) == nil {
					logger.Warn("last error reported", "input", e.Input, "source", e.Source, "error", e.Content)
				}
			},
		},
	})
	if err != nil {
		return errors.Join(err, out.close())
	}
	if cfg.AllowRemote && cfg.Token == "" {
		logger.Warn("allow_remote without a token: any host that reaches the listener may write (allow_remote_without_token = true)", "listen", cfg.Listen)
	}

	var sup *pythond.Supervisor
	if len(cfg.Inputs.Pythond) > 0 {
		// Relative dirs are resolved against pythond_dir, which is itself
		// relative to the configuration file (its directory when unset).
		root := cfg.PythondDir
		if !filepath.IsAbs(root) {
			root = filepath.Join(baseDir, root)
		}
		gitRepos := cfg.GitReposDir
		if gitRepos != "" && !filepath.IsAbs(gitRepos) {
			gitRepos = filepath.Join(baseDir, gitRepos)
		}
		sup, err = pythond.New(pythond.Options{
			Inputs:     cfg.Inputs.Pythond,
			Root:       root,
			GitRepos:   gitRepos,
			GlobalTags: cfg.GlobalTags,
			Sink:       out.sink,
			Logger:     logger.With("component", "pythond"),
			OnError: func(ctx context.Context, e pythond.CollectorError) {
				handler.ReportLastError(context.WithValue(ctx, pythondError{}, true), httpapi.LastError{Input: e.Input, Source: e.Collector, Content: e.Error(), Time: e.Time})
			},
		})
		if err != nil {
			return errors.Join(err, out.close())
		}
	}

	proms, err := newPromInputs(cfg, baseDir, out.sink, logger)
	if err != nil {
		return errors.Join(err, out.close())
	}
	out.metrics = append(out.metrics, proms.writeMetrics)

	mux := http.NewServeMux()
	mux.Handle("/", handler)
	// The host's own route gets the checks of every write API route:
	// loopback only unless allow_remote, and the token when one is set.
	mux.Handle("GET /metrics", handler.Protect(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		out.writeMetrics(w)
	})))
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen: %w", err), out.close())
	}
	if n := cfg.HTTP.maxConnections(); n > 0 {
		ln = limitListener(ln, n)
	}
	logger.Info("write API listening", "addr", ln.Addr().String(), "version", version)
	var cdNet *collectdNetwork
	if cfg.CollectdNetwork != nil {
		cdLog := logger.With("component", "collectd_network")
		cdNet, err = newCollectdNetwork(cfg.CollectdNetwork, baseDir, cfg.GlobalTags, out.sink, cdLog)
		if err != nil {
			return errors.Join(err, ln.Close(), out.close())
		}
		level := cfg.CollectdNetwork.SecurityLevel
		if level == "" {
			level = "None"
		}
		if cfg.AllowRemote && level == "None" {
			cdLog.Warn(`allow_remote with security_level "None": any host that reaches the port may send`, "listen", cdNet.addr())
		}
		cdLog.Info("collectd network listening", "addr", cdNet.addr(), "security_level", level)
	}
	// Bounded so that a stalled client cannot hold a connection forever;
	// generous enough for a 32 MiB body on a slow link.
	// Requests see reqCtx through r.Context(): it is cancelled when the
	// shutdown deadline passes, so no request outlives the agent's stop.
	reqCtx, reqCancel := context.WithCancel(context.Background())
	defer reqCancel()
	srv := &http.Server{
		Handler:           mux,
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
	}

	var wg sync.WaitGroup
	errc := make(chan error, 4)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()
	pyCtx, pyCancel := context.WithCancel(ctx)
	defer pyCancel()
	pyDone := make(chan struct{})
	if sup != nil {
		go func() {
			defer close(pyDone)
			if err := sup.Run(pyCtx); err != nil {
				errc <- fmt.Errorf("pythond: %w", err)
			}
		}()
	} else {
		close(pyDone)
	}

	cdCtx, cdCancel := context.WithCancel(ctx)
	defer cdCancel()
	cdDone := make(chan struct{})
	if cdNet != nil {
		go func() {
			defer close(cdDone)
			if err := cdNet.run(cdCtx); err != nil {
				errc <- fmt.Errorf("collectd_network: %w", err)
			}
		}()
	} else {
		close(cdDone)
	}

	stopProm := proms.start(ctx)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	logger.Info("shutting down")

	// Stop taking data first, then stop the collectors, then flush sinks.
	shutCtx, shutCancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer shutCancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		// Requests still running past the deadline are told to stop and
		// their connections closed; the sinks below still flush what was
		// accepted.
		logger.Warn("requests still running at the shutdown deadline were cancelled", "err", err)
		reqCancel()
		srv.Close()
	}
	wg.Wait()
	stopProm()
	cdCancel()
	<-cdDone
	pyCancel()
	<-pyDone
	cancel()
	if err := out.close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	for {
		select {
		case err := <-errc:
			runErr = errors.Join(runErr, err)
		default:
			return runErr
		}
	}
}

// memoryLimit returns the soft memory limit to set, or 0 to leave the
// runtime's (GOMEMLIMIT's, or none) alone.
func memoryLimit(configured int64, env string) int64 {
	switch {
	case configured > 0:
		return configured
	case configured < 0 || env != "":
		return 0
	}
	return defaultMemoryLimit
}

// loadConfig reads the configuration file, or the embedded default with
// the bundled demo collector written to a temporary python.d. It returns the
// directory relative paths in the configuration are resolved against.
func loadConfig(path string) (Config, string, func(), error) {
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return Config{}, "", nil, fmt.Errorf("reading configuration: %w", err)
		}
		cfg, err := parseConfig(path, data)
		if err != nil {
			return Config{}, "", nil, err
		}
		abs, err := filepath.Abs(filepath.Dir(path))
		if err != nil {
			return Config{}, "", nil, err
		}
		return cfg, abs, func() {}, nil
	}
	cfg, err := parseConfig("default.toml (embedded)", defaultConfig)
	if err != nil {
		return Config{}, "", nil, err
	}
	dir, err := os.MkdirTemp("", "collectkit-agent-")
	if err != nil {
		return Config{}, "", nil, err
	}
	cleanup := func() { _ = os.RemoveAll(dir) }
	if err := os.CopyFS(dir, bundledPythonD); err != nil {
		cleanup()
		return Config{}, "", nil, fmt.Errorf("writing the bundled demo collector: %w", err)
	}
	return cfg, dir, cleanup, nil
}

// outputs is the agent's sink chain and what must be closed at exit.
type outputs struct {
	sink    point.Sink
	closers []func() error
	metrics []func(io.Writer)
}

func (o *outputs) close() error {
	var errs []error
	for i := len(o.closers) - 1; i >= 0; i-- {
		errs = append(errs, o.closers[i]())
	}
	o.closers = nil
	return errors.Join(errs...)
}

func (o *outputs) writeMetrics(w io.Writer) {
	for _, m := range o.metrics {
		m(w)
	}
}

func buildSinks(ctx context.Context, cfg Config, baseDir, outDir string, outSync forward.SyncPolicy, stdout io.Writer, logger *slog.Logger) (*outputs, error) {
	o := &outputs{}
	fileLog := logger.With("component", "filesink")
	var sinks []point.Sink
	switch cfg.Sink.Kind {
	case "stdout":
		sinks = append(sinks, newLineSink(stdout))
	case "file":
		dir := cfg.Sink.Dir
		if !filepath.IsAbs(dir) {
			dir = filepath.Join(baseDir, dir)
		}
		fsink, err := newFileSink(dir, fileSinkOptions{Sync: cfg.Sink.Sync, SyncInterval: time.Duration(cfg.Sink.SyncInterval), Logger: fileLog})
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, fsink)
		o.closers = append(o.closers, fsink.Close)
	case "influx":
		fwd, err := newForwarder(ctx, cfg.Sink, baseDir, logger)
		if err != nil {
			return nil, err
		}
		sinks = append(sinks, fwd.sink)
		o.closers = append(o.closers, fwd.close)
		o.metrics = append(o.metrics, fwd.writeMetrics)
	}
	if outDir != "" {
		fsink, err := newFileSink(outDir, fileSinkOptions{Sync: outSync, Logger: fileLog})
		if err != nil {
			return nil, errors.Join(err, o.close())
		}
		sinks = append(sinks, fsink)
		o.closers = append(o.closers, fsink.Close)
	}
	if len(sinks) == 0 {
		sinks = append(sinks, newLineSink(stdout))
	}
	if len(sinks) == 1 {
		o.sink = sinks[0]
	} else {
		o.sink = untilError(sinks)
	}
	return o, nil
}

// untilError writes a batch to each sink in order and stops at the first
// error. Unlike point.MultiSink, which writes to every sink whatever fails,
// it keeps a client's retry (after a busy forwarder, say) from storing the
// batch twice in the sinks after the one that failed. The forwarder, the
// sink most likely to be busy, comes first.
func untilError(sinks []point.Sink) point.Sink {
	return point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		for _, s := range sinks {
			if err := s.Write(ctx, b); err != nil {
				return err
			}
		}
		return nil
	})
}
