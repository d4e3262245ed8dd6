// Command agent is a complete collector agent built only from collectkit's
// public API: it serves DataKit's write API (and the InfluxDB, Pushgateway
// and collectd write_http compatible routes), runs DataKit-style Python
// collectors, scrapes Prometheus exporters, receives collectd's network
// protocol, and prints or forwards every accepted point.
//
// With no flags it listens on 127.0.0.1:9529, runs the bundled demo
// collector, and prints accepted points as line protocol on stdout:
//
//	go run ./examples/agent
//
// # Flags
//
//	-config FILE       TOML configuration (default: the embedded default.toml,
//	                   unless -config-dir is given)
//	-config-dir DIR    also every *.conf and *.toml under DIR, recursively
//	-listen ADDR       overrides the configuration's listen address
//	-out DIR           also append every point to DIR/<category>.lp
//	-out-sync P        when -out files are fsynced: always (default), interval, never
//	-log-level L       debug, info (default), warn or error
//	-log-format F      text (default, key=value) or json
//	-check-config      validate strictly, print what would run, exit 0 or 1
//	-test              run every input once, print its points, exit
//	-test-timeout D    how long -test waits (default 30s)
//	-sample-config     print a configuration with every key, commented
//	-version           print the version, Go version and VCS revision
//	-h                 the flags (exit status 0)
//
// -check-config builds every input as a start would, but strictly: a
// pythond dir or interpreter that does not exist, a dir without a .py
// collector, a prom TLS or token file that cannot be read is a problem.
// It prints each input (framework, interpreter, dirs and the collector
// files found in them; prom interval and URLs) and exits 0, or 1 with
// every problem listed. The sink is not contacted.
//
// -test starts the inputs without the listener, writes their points as
// line protocol to stdout until every pythond collector has finished a
// run and every prom target has been scraped once (within 5s), and exits
// 0; 1 naming the inputs that could not start or did not report within
// -test-timeout.
//
// # Configuration
//
// -sample-config prints every key with its default and a comment. In the
// configuration files, ${VAR} and $VAR are replaced by the environment
// variable's value before the TOML is read (not in comments); ${VAR:-text}
// gives a default used when VAR is unset or empty; $$ is a literal $ (so
// envs = ["PATH=/opt/bin:$$PATH"] leaves $PATH to the Python process). A
// variable that is not set is an error naming it, the file and the line.
// The value is escaped for the string it is put in.
//
// -config-dir DIR reads every *.conf and *.toml file under DIR in lexical
// order of their paths, after -config, and merges them: [[inputs.*]]
// tables are appended; any other key set in two files is an error naming
// both. When DIR is named conf.d it is taken as DataKit's
// <install>/conf.d: pythond_dir defaults to <install>/python.d and, with
// git_repo set, gitrepos_dir to <install>/gitrepos; DataKit's own
// conf.d/datakit.conf is not read, and input kinds this agent does not
// run ([[inputs.cpu]] ...) are skipped with a log line, so a DataKit
// conf.d can be pointed at as it is. Relative paths resolve against the
// -config file's directory, else <install>, else DIR.
//
// pythond_dir is the root of relative pythond dirs. gitrepos_dir turns on
// DataKit's git-repo mode: a relative dir is looked up in
// <gitrepos_dir>/<repo>/python.d first (git_repo names the repository;
// without it every repository, in lexical order), then under pythond_dir;
// with git_repo, <gitrepos_dir>/<git_repo>/conf.d/**/*.conf is loaded
// too, as DataKit does. Cloning and pulling the repository is left to the
// user (a cron job or deploy step, then a SIGHUP).
//
// watch_scripts (default true) restarts a pythond input's process when a
// script in its dirs changes on disk, so that an edit takes effect
// without a reload; the other inputs keep running. false keeps DataKit's
// behaviour, where a change needs a restart.
//
// [election_tags] are added instead of [global_tags] to the points of a
// write that says ?global_election_tags=true, as DataKit does for the
// inputs it elects (the points then do not name one host).
//
// [http] sets every limit of httpapi.Limits plus max_connections; zero
// is the default, negative is none. The defaults take a 33 MiB body with
// a 32 MiB field, DataKit's largest field value.
//
// # Reload
//
// SIGHUP re-reads -config and -config-dir. An invalid configuration is
// refused, every reason logged, and the running one stays. Otherwise each
// input ([[inputs.pythond]], [[inputs.prom]], [collectd_network]) is
// compared by its configuration value: an unchanged input keeps running
// (its Python process is not restarted), a changed one is restarted, a
// removed one stopped and a new one started. pythond_dir, gitrepos_dir,
// git_repo and watch_scripts are part of the pythond inputs' values. The
// listener, handler and sinks stay up, so no write is refused or lost
// during a reload; changes to listen, token, allow_remote*, memory_limit,
// global_tags, election_tags, [http] and [sink] need a restart and are
// logged as not applied.
//
// An input that cannot start (a missing dir or interpreter, a dir without
// collectors, a prom file that cannot be read) does not stop the agent:
// it is logged, reported to /v1/lasterror and shown by the status pages,
// pythond retries it with back-off (a dir may appear later), and the
// other inputs run.
//
// # Endpoints
//
// Beyond the write API (see package httpapi):
//
//	GET /health      InfluxDB 2's health answer; no token or loopback check, like /ping
//	GET /ready       200 once the inputs are started and the sink accepts points
//	                 (the forwarder's buffer not full, delivery not stuck), else 503 and why
//	GET /metrics     the agent's own metrics: collectkit_build_info{version,goversion,revision},
//	                 Go runtime and process, httpapi, each pythond input, each prom
//	                 scraper (label input), the forwarder (label forwarder)
//	GET /v1/status   the status as JSON: pythond inputs and collectors, prom targets,
//	                 the forwarder, lasterror reports, points accepted, inputs that could
//	                 not be built, and points per second over the last 10 minutes
//	GET /status      the same as a page for people
//
// /metrics, /v1/status and /status are guarded like the write API:
// loopback only unless allow_remote, and the token when one is set.
//
// # Delivery
//
// A write to an -out file (or a [sink] of kind "file") is acknowledged only
// once its lines are in the file, so killing the agent loses nothing it
// answered 200 for; the sync policy decides what survives a machine crash.
// A full disk is answered 429 (busy) until space returns, and a torn last
// line left by a crash is cut off at the next start.
//
// # Signals and systemd
//
// SIGINT or SIGTERM stops it cleanly: the HTTP server drains, the inputs
// are stopped, sinks are flushed, its temporary files are removed, and it
// exits 0. Started by systemd as Type=notify (NOTIFY_SOCKET set) it sends
// READY=1 once listening with its inputs started, RELOADING=1 and READY=1
// around a reload, and STOPPING=1 at shutdown.
package main
