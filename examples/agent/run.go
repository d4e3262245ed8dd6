package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/collectkit/collectkit/forward"
	"github.com/collectkit/collectkit/httpapi"
	"github.com/collectkit/collectkit/point"
)

//go:embed default.toml
var defaultConfig []byte

//go:embed python.d
var bundledPythonD embed.FS

// alreadyLogged marks the context of a last error reported by a part of
// the agent that has logged it (the Python supervisor, the input set).
type alreadyLogged struct{}

// version is reported by /v1/ping, the X-DataKit header and -version. A
// release build sets it with -ldflags "-X main.version=collectkit-agent/x.y.z".
var version = "collectkit-agent/0.1.0"

// run is the whole agent; main only adds signal handling and the exit
// code. It returns nil after a clean, ctx-triggered shutdown.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return runAgent(ctx, args, stdout, stderr, nil)
}

// runAgent is run with reload requests: each value received re-reads the
// configuration and applies its inputs (main sends one per SIGHUP).
func runAgent(ctx context.Context, args []string, stdout, stderr io.Writer, reload <-chan struct{}) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	switch {
	case o.version:
		_, err := fmt.Fprintln(stdout, versionLine())
		return err
	case o.sample:
		_, err := stdout.Write(sampleConfig)
		return err
	}
	logger := o.newLogger(stderr)

	// The embedded default configuration runs the bundled demo collector,
	// written to a temporary directory that lives as long as the agent.
	defaultBase := ""
	if o.configPath == "" && o.configDir == "" {
		dir, err := os.MkdirTemp("", "collectkit-agent-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		if err := os.CopyFS(dir, bundledPythonD); err != nil {
			return fmt.Errorf("writing the bundled demo collector: %w", err)
		}
		defaultBase = dir
	}
	load := func() (*configSet, error) {
		return loadConfigSet(o.configPath, o.configDir, defaultConfig, defaultBase, os.LookupEnv)
	}
	cs, err := load()
	if err != nil {
		return err
	}
	for _, n := range cs.notes {
		logger.Info("configuration: " + n)
	}
	if o.listen != "" {
		cs.cfg.Listen = o.listen
	}
	if cs.cfg.Listen == "" {
		cs.cfg.Listen = "127.0.0.1:9529"
	}
	switch {
	case o.checkConfig:
		return checkConfig(cs, stdout)
	case o.test:
		return testInputs(ctx, cs, o.testTimeout, stdout, logger)
	}

	if limit := memoryLimit(cs.cfg.MemoryLimit, os.Getenv("GOMEMLIMIT")); limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	a := &agent{o: o, logger: logger, started: time.Now(), load: load, first: cs}
	return a.serve(ctx, reload, stdout)
}

// agent is a running agent: the listener, handler and sinks stay for its
// life; the inputs are replaced on reload.
type agent struct {
	o       *options
	logger  *slog.Logger
	started time.Time
	load    func() (*configSet, error)
	first   *configSet // the configuration started with: its agent-level keys stay

	out     *outputs
	handler *httpapi.Handler
	inputs  *inputSet
	points  atomic.Uint64 // points the sinks accepted
	ready   atomic.Bool   // the inputs have been started
	status  *statusPages
}

// readyCheck answers GET /ready: the inputs are started (an input that
// could not start does not make the agent unready: the others run) and
// the sink accepts points.
func (a *agent) readyCheck(context.Context) error {
	if !a.ready.Load() {
		return errors.New("the inputs are being started")
	}
	if a.out.fwd != nil {
		if err := a.out.fwd.sink.Ready(); err != nil {
			return fmt.Errorf("sink: %w", err)
		}
	}
	return nil
}

func (a *agent) serve(ctx context.Context, reload <-chan struct{}, stdout io.Writer) error {
	cfg := &a.first.cfg
	logger := a.logger
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Sinks: the configured one, -out, or stdout when neither is given.
	out, err := buildSinks(ctx, *cfg, a.first.baseDir, a.o.outDir, a.o.outSync, stdout, logger)
	if err != nil {
		return err
	}
	a.out = out
	counted := point.SinkFunc(func(ctx context.Context, b point.Batch) error {
		err := out.sink.Write(ctx, b)
		if err == nil {
			a.points.Add(uint64(len(b.Points)))
		}
		return err
	})

	handler, err := httpapi.New(httpapi.Options{
		Sink:               counted,
		Version:            version,
		GlobalHostTags:     cfg.GlobalTags,
		GlobalElectionTags: cfg.ElectionTags,
		Token:              cfg.Token,
		AllowNonLoopback:   cfg.AllowRemote,
		Limits:             cfg.HTTP.limits(),
		Logger:             logger.With("component", "httpapi"),
		Hooks: httpapi.Hooks{
			// The handler keeps every reported error; the agent also logs
			// those posted by external collectors (the Python supervisor
			// and the input set log their own).
			OnLastError: func(ctx context.Context, e httpapi.LastError) {
				if ctx.Value(alreadyLogged{}) == nil {
					logger.Warn("last error reported", "input", e.Input, "source", e.Source, "error", e.Content)
				}
			},

			Ready: a.readyCheck,
		},
	})
	if err != nil {
		return errors.Join(err, out.close())
	}
	a.handler = handler
	if cfg.AllowRemote && cfg.Token == "" {
		logger.Warn("allow_remote without a token: any host that reaches the listener may write (allow_remote_without_token = true)", "listen", cfg.Listen)
	}

	mux := http.NewServeMux()
	mux.Handle("/", handler)
	a.routes(mux)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return errors.Join(fmt.Errorf("listen: %w", err), out.close())
	}
	if n := cfg.HTTP.maxConnections(); n > 0 {
		ln = limitListener(ln, n)
	}
	logger.Info("write API listening", "addr", ln.Addr().String(), "version", version)
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
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("http server: %w", err)
		}
	}()

	inCtx, inCancel := context.WithCancel(ctx)
	defer inCancel()
	a.inputs = newInputSet(inCtx, &inputEnv{
		allowRemote: cfg.AllowRemote,
		baseDir:     a.first.baseDir,
		globalTags:  cfg.GlobalTags,
		sink:        counted,
		logger:      logger,
		handler:     handler,
	})
	a.inputs.apply(inputSpecs(a.first))
	a.ready.Store(true)
	statusDone := make(chan struct{})
	go func() {
		defer close(statusDone)
		a.status.run(inCtx)
	}()
	a.notify("READY=1")

	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case runErr = <-errc:
			break loop
		case <-reload:
			a.reload()
		}
	}
	logger.Info("shutting down")
	a.notify("STOPPING=1")

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
	a.inputs.stopAll()
	inCancel()
	<-statusDone
	cancel()
	if err := out.close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	return runErr
}

// reload re-reads the configuration and applies its inputs. A
// configuration that does not load is refused whole, every reason logged,
// and the running one stays. Keys that only a restart applies (the
// listener, handler and sinks stay up) are logged as not applied.
func (a *agent) reload() {
	a.notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonicMicros()))
	defer a.notify("READY=1")
	a.logger.Info("reloading the configuration")
	cs, err := a.load()
	if err != nil {
		for _, e := range flattenErrors(err) {
			a.logger.Error("configuration refused", "reason", e.Error())
		}
		a.logger.Error("configuration not reloaded; the running one stays")
		return
	}
	for _, n := range cs.notes {
		a.logger.Info("configuration: " + n)
	}
	if keys := restartKeys(&a.first.cfg, &cs.cfg, a.o.listen != ""); len(keys) > 0 {
		a.logger.Warn("configuration changes that need a restart were not applied", "keys", strings.Join(keys, ", "))
	}
	// Inputs are built with the agent-level values started with.
	cs.baseDir = a.first.baseDir
	a.inputs.apply(inputSpecs(cs))
	a.logger.Info("configuration reloaded", "inputs", len(cs.cfg.Inputs.Pythond)+len(cs.cfg.Inputs.Prom))
}

// notify tells the service manager about a state change; it does nothing
// unless started by systemd as Type=notify.
func (a *agent) notify(state string) {
	if err := sdNotify(state); err != nil {
		a.logger.Warn("service manager notification failed", "state", state, "err", err)
	}
}

// flattenErrors returns the errors joined in err, one reason each.
func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	// A file name prefix around a joined error: one line per reason.
	lines := strings.Split(err.Error(), "\n")
	if len(lines) == 1 {
		return []error{err}
	}
	out := make([]error, len(lines))
	for i, l := range lines {
		out[i] = errors.New(l)
	}
	return out
}

// restartKeys names the agent-level keys that differ between the running
// and the new configuration: they take effect at the next start.
func restartKeys(old, cur *Config, listenFlag bool) []string {
	var keys []string
	diff := func(key string, a, b any) {
		if !reflect.DeepEqual(a, b) {
			keys = append(keys, key)
		}
	}
	if !listenFlag {
		l := cur.Listen
		if l == "" {
			l = "127.0.0.1:9529"
		}
		diff("listen", old.Listen, l)
	}
	diff("token", old.Token, cur.Token)
	diff("allow_remote", old.AllowRemote, cur.AllowRemote)
	diff("allow_remote_without_token", old.AllowRemoteWithoutToken, cur.AllowRemoteWithoutToken)
	diff("memory_limit", old.MemoryLimit, cur.MemoryLimit)
	diff("global_tags", emptyNil(old.GlobalTags), emptyNil(cur.GlobalTags))
	diff("election_tags", emptyNil(old.ElectionTags), emptyNil(cur.ElectionTags))
	diff("http", old.HTTP, cur.HTTP)
	diff("sink", old.Sink, cur.Sink)
	return keys
}

func emptyNil(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return m
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

// outputs is the agent's sink chain and what must be closed at exit.
type outputs struct {
	sink    point.Sink
	closers []func() error
	fwd     *forwarder // [sink] kind "influx"; nil otherwise
}

func (o *outputs) close() error {
	var errs []error
	for i := len(o.closers) - 1; i >= 0; i-- {
		errs = append(errs, o.closers[i]())
	}
	o.closers = nil
	return errors.Join(errs...)
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
		o.fwd = fwd
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
