package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/collectkit/collectkit/forward"
)

// options are the agent's command-line flags.
type options struct {
	configPath  string
	configDir   string
	listen      string
	outDir      string
	outSync     forward.SyncPolicy
	version     bool
	logLevel    slog.Level
	logFormat   string
	checkConfig bool
	test        bool
	testTimeout time.Duration
	sample      bool
}

// parseFlags parses args; flag.ErrHelp after -h, which main answers with
// exit status 0.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{logLevel: slog.LevelInfo, logFormat: "text"}
	flags := flag.NewFlagSet("agent", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "Usage: agent [flags]\n\n"+
			"Serves DataKit's write API, runs Python collectors and Prometheus scrapes, and\n"+
			"prints or forwards every accepted point. SIGHUP reloads the inputs; SIGINT or\n"+
			"SIGTERM stops it. Flags:\n\n")
		flags.PrintDefaults()
	}
	flags.StringVar(&o.configPath, "config", "", "TOML configuration `file` (default: the embedded default configuration, unless -config-dir is given); ${VAR} and $VAR expand from the environment, $$ is a literal $")
	flags.StringVar(&o.configDir, "config-dir", "", "also load every *.conf and *.toml file under `DIR` (recursively), after -config; inputs are appended, a key set twice is an error. A DIR named conf.d is taken as DataKit's <install>/conf.d: pythond dirs resolve under <install>/python.d, git repositories under <install>/gitrepos")
	flags.StringVar(&o.listen, "listen", "", "listen `address`, overriding the configuration's listen")
	flags.StringVar(&o.outDir, "out", "", "also append accepted points to `DIR`/<category>.lp")
	o.outSync = forward.SyncAlways
	flags.TextVar(&o.outSync, "out-sync", forward.SyncAlways, "when -out files are fsynced: always (before a write is acknowledged), interval (every second) or never")
	flags.BoolVar(&o.version, "version", false, "print the version and exit")
	flags.TextVar(&o.logLevel, "log-level", slog.LevelInfo, "least severe log records written: debug, info, warn or error")
	flags.StringVar(&o.logFormat, "log-format", "text", "log record format: text (key=value) or json")
	flags.BoolVar(&o.checkConfig, "check-config", false, "validate the configuration strictly (directories and interpreters must exist), print what would run, and exit: 0 when valid, 1 listing every problem")
	flags.BoolVar(&o.test, "test", false, "run every input once (each Python collector until it has reported, each Prometheus target one scrape), print the points as line protocol on stdout, and exit")
	flags.DurationVar(&o.testTimeout, "test-timeout", defaultTestTimeout, "how long -test waits for the collectors to report")
	flags.BoolVar(&o.sample, "sample-config", false, "print a configuration with every key, commented, and exit")
	if err := flags.Parse(args); err != nil {
		return nil, err
	}
	if flags.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags come first; see -h)", flags.Arg(0))
	}
	switch o.logFormat {
	case "text", "json":
	default:
		return nil, fmt.Errorf("-log-format: %q is not text or json", o.logFormat)
	}
	if o.checkConfig && o.test {
		return nil, errors.New("-check-config and -test are exclusive")
	}
	return o, nil
}

// newLogger returns the agent's logger as -log-level and -log-format say.
func (o *options) newLogger(w io.Writer) *slog.Logger {
	hopts := &slog.HandlerOptions{Level: o.logLevel}
	if o.logFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, hopts))
	}
	return slog.New(slog.NewTextHandler(w, hopts))
}
