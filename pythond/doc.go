// Package pythond runs Python collectors (DataKit's, Netdata's python.d
// modules and collectd's Python plugins) and Netdata external plugins as
// supervised child processes and feeds what they report into a
// point.Sink.
//
// # Configuration
//
// Each [[inputs.pythond]] table ([Input]) is one long-lived Python
// process running every collector found in its dirs, as in DataKit:
//
//	[[inputs.pythond]]
//	  name = 'some-python-inputs'
//	  cmd  = "python3"
//	  dirs = ["mytest"]
//	  envs = ['LD_LIBRARY_PATH=/opt/lib:$LD_LIBRARY_PATH']
//	  tags = { env = "prod" }      # collectkit: added to every point
//	  workdir = "mytest"           # collectkit: relative to the python.d root
//	  restart_min = "1s"           # collectkit: restart back-off bounds
//	  restart_max = "1m"
//	  run_timeout = "30s"          # collectkit: report a run() over this
//	  exact_ints = false           # collectkit: true keeps ints as ints
//
// [ParseConfig] decodes such a document strictly (unknown keys are errors
// naming key and line); a host with its own configuration embeds []Input
// and calls [Input.Validate]. Relative dirs are resolved under
// Options.Root, or first under GitRepos/<repo>/python.d in git-repo mode,
// and may not leave their root through ".." or a symbolic link; absolute
// paths are used as written. Envs add to the inherited environment with
// $VAR expansion (DataKit replaced the environment). Setting only
// restart_max below 1s makes it the minimum delay too.
//
// # Frameworks
//
// Input.Framework (TOML "framework") says which collector API an input's
// scripts are written for. Each framework has its own options, validation,
// way of starting its process and mapping of what it sends to points, and its
// own embedded Python modules, which are the only ones on its scripts'
// sys.path besides their own dirs; collectkit's private runtime is never
// importable by a script. An option of one framework set on an input of
// another is an error naming the framework it belongs to.
//
//   - datakit (the default): DataKitFramework scripts, as below.
//   - netdata: python.d modules unchanged. Dirs hold <module>.chart.py
//     files with their <module>.conf YAML jobs beside them (or in
//     conf_dir); modules, update_every and dimension_ids as
//     python.d.plugin's arguments. The jobs are resolved on the Go side;
//     the runner sends each job update as plugins.d text, which a chart
//     engine turns into one metric point per chart per update
//     (measurement: the chart's context; tags job, chart, family, module
//     and the chart's labels; one float field per dimension, valued as
//     Netdata stores it). Each job's state is kept
//     ([Supervisor.NetdataJobs]) and logged when it changes.
//   - netdata-plugin: cmd is any Netdata external plugin (python.d.plugin,
//     charts.d.plugin, a user's own), run with args (default: the
//     update_every) and the NETDATA_* variables Netdata sets; its stdout,
//     the plugins.d protocol, feeds the same engine, its stderr the log.
//   - collectd: collectd Python plugins unchanged (import collectd).
//     collectd_config names a collectd.conf (an existing one, whose other
//     plugins are skipped and logged once, or a file of just <Plugin
//     python> blocks), read as collectd 5.12 reads it at each start
//     (syntax, Include of files, directories and patterns, the globals
//     Hostname, FQDNLookup, Interval, MaxReadInterval, ReadThreads and
//     TypesDB, and the python plugin's ModulePath, Import and <Module>
//     blocks, in order); a mistake is a config error naming
//     collectd_config and file:line. Relative paths inside the file
//     resolve against the input's working directory, as collectd resolves
//     them against its own. interval and hostname stand in for the
//     file's when it sets none, types_db for its TypesDB (default
//     collectd's own types.db, from Debian's collectd-core). Each
//     dispatched value list is one metric point (measurement: the plugin;
//     tags host, plugin_instance, type and type_instance; one field per
//     data source, named by types.db: gauge a float, derive an int,
//     counter and absolute a uint), each notification a keyevent point.
//   - prometheus: programs written with prometheus_client, unchanged,
//     each .py file of dirs run as __main__ in a supervised process of
//     its own, with argv [file] + args. What they serve
//     (start_http_server, start_wsgi_server, make_wsgi_app) is collected
//     in-process every interval (default 15s) and what they push
//     (push_to_gateway, pushadd_to_gateway, delete_from_gateway) reaches
//     the host as the Pushgateway would receive it, wherever they meant to
//     push; serve = false binds no port. One that exits 0 runs again at
//     its next interval. See PrometheusOptions.
//
// # Tags
//
// Options.GlobalTags are the host's global tags and Input.Tags the
// input's; both are added to every point that lacks the key (the point's
// own tag wins, then the input's, then the global one), unless the report
// sets ignore_global_tags, as DataKit adds its global host tags to what
// comes through /v1/write. A collector in HTTP mode gets the input's tags
// as a JSON object in the environment variable COLLECTKIT_PYTHOND_TAGS
// and adds them to its points the same way before posting; the DataKit it
// posts to adds its own global tags.
//
// # Loading collectors
//
// Each .py file found is loaded by path (importlib's
// spec_from_file_location) under a private module name, so a file named
// like a module of the standard library or of site-packages (DataKit's
// own example is mytest/test.py) is still the one loaded, and two dirs
// may each have a main.py. A file of a package directory (dir/pkg/mod.py)
// gets a private parent package, made by running dir/pkg/__init__.py when
// there is one (as "import pkg.mod" would), so its relative imports work.
// Every dir, and every package directory, is appended to sys.path, so
// collectors import their siblings ("import helper", "from pkg import
// helper") as under DataKit; such an import loads the file a second time,
// under its plain name, and the classes it defines there are not
// collectors.
//
// # Supervision
//
// [New] validates everything that can be checked up front (interpreter in
// PATH, dirs readable, values sane). An input whose interpreter or dirs
// cannot be found is not an error of New unless Options.Strict is set (as
// a -check-config wants): it is left broken, logged at Error and given to
// OnError, and Run resolves it again with the restart back-off while the
// other inputs run, so a dir created later starts its input; an input in
// which the runner finds nothing to run is broken and retried the same
// way. Invalid values are errors of New either way. [Supervisor.Run]
// keeps each process alive until its context is done: a process that exits is
// restarted after a capped exponential back-off with jitter; stopping
// sends SIGTERM to the process group, waits Options.StopGrace and sends
// SIGKILL; every child is reaped and Run returns nil with no goroutine
// left. Everything a script prints to stdout or stderr is logged line by
// line through Options.Logger with the input's name, without ever blocking
// the script. Errors of collectors (an import that fails, with its missing
// dependency named; run() raising, with its traceback; a run over its
// timeout, with its stack; a refused report; set_lasterror; an exit) go to
// Options.OnError as [CollectorError] values, which a host forwards to its
// /v1/lasterror store.
//
// With Options.Watch, a change of a file in an input's dirs (and their
// immediate subdirectories, as deep as collectors are looked for, and a
// netdata input's conf_dir) restarts that input's process after a short
// pause that gathers a burst of writes; for framework prometheus only the
// changed script's process restarts, and a new script starts on its own.
// Editors' swap and backup files and compiled Python restart nothing.
//
// # Status and metrics
//
// [Supervisor.Status] is a snapshot of every input, safe to take at any
// time: its [State] (pending, starting, running, backoff, broken,
// stopped) and Problem, the process's PID, start and restarts, how the
// last process exited, counts of reports, points written and points
// rejected, the input's last [MaxLastErrors] collector errors, and per
// collector its runs, failures, last run and duration, and whether a run
// is in progress and past its run_timeout (it hangs). A DataKit
// collector's runner tells the host when each run starts and ends, the
// collectd runner when each read ends and how long it took; a Netdata
// job's update counts as a run whose duration is not known. The Supervisor is also a prometheus.Collector (register
// it in the host's own registry): per input, label input, the metrics
// collectkit_pythond_up, _restarts_total, _reports_total,
// _points_written_total, _points_rejected_total, _run_failures_total,
// _errors_total (by kind) and the histogram _run_duration_seconds. It
// describes no metrics up front (an unchecked collector), so an old and a
// new Supervisor with other inputs can be registered together.
//
// # Pipeline
//
// Options.Pipeline is called for every logging point a collector reports,
// before normalization, with the point's measurement (a logging point's
// source) as the source that picks the script, as DataKit runs its
// Pipeline scripts on what inputs feed. It may change the point; keep
// false drops it; an error keeps the point as the pipeline left it and is
// a warning of that point for Constraint.OnWarnings and the log.
//
// # The Python side
//
// The package embeds, and installs under Options.StateDir in a directory
// named after the hash of its contents, a standard-library-only package
// for Python 3.8 and later: the datakit_framework module with DataKit's
// DataKitFramework (name, interval, run, report with the keys M, L, R, O,
// CO, E and input, precision, version, ignore_global_tags; feed_metric,
// feed_logging, feed_object, feed_user_event, feed_monitor_event,
// feed_system_event; set_lasterror) and the runner that discovers
// collectors as DataKit does (the .py files of each dir and of its
// immediate subdirectories, __init__.py skipped; only classes defined in
// the module that override run) and runs each on its own thread at a
// fixed rate. A subclass without interval runs every 10 s, and the event
// helpers accept tags=None (DataKit crashes on both).
//
// Reports travel to the host over a private channel of the process, not its
// stdout, so prints cannot corrupt them; a large report is sent in parts that
// the host decodes and normalizes (package constraint) while the script
// encodes the next, so reporting costs a script little. Values map as
// DataKit's JSON API maps them. Every int becomes a float64 field, as in
// DataKit (whose JSON decoder reads every number as a float64), so a script
// writes f1=123 and not f1=123i, in pipe and HTTP mode alike: ints beyond
// 2^53 lose precision as they do there, those beyond the float range refuse
// the report. With exact_ints = true an int becomes an int64 field
// (uint64 above its range; beyond both an error naming the key). float,
// str and bool map to their kinds (bools stay bools), bytes to a bytes
// field. A None field or tag value is dropped with a nil_field warning. A
// missing, None or empty measurement is the empty name, which
// normalization turns into "__default" with an invalid_measurement
// warning, as DataKit does. A time that is None, missing or 0 means now
// (DataKit replaces a zero time); other times are in the report's
// precision, detected from their magnitude when it has none. A tag that
// is not a str or None, a list or dict as a field, a measurement that is
// not a str and a bad time refuse the report with an error naming the
// point and key. Subclasses of the built-in types (OrderedDict, IntEnum,
// numpy.float64) are converted first; other values raise TypeError in
// report(). A key's points may be a list, a tuple, a generator or a
// single dict, in both modes.
//
// The host writes the report's points to the Sink as one point.Batch
// (Input: the report's "input", else the collector's name) only once all
// have arrived (a bad part refuses the whole report), then answers;
// report() waits for that answer, so a slow or busy sink (point.ErrBusy is
// retried) slows collectors down instead of losing data, and a process killed mid-report leaves no partial report in the Sink.
// report() returns "" on success and, on failure, DataKit's JSON error
// document as text (or raises ReportError when the collector sets
// raise_on_error); a report larger than Options.MaxReportBytes in all
// (datakit.bodyTooLarge; what is past the limit is skipped, not kept) and
// a report left without points after normalization (datakit.noPoints, as
// DataKit answers a body without points) are refused and logged like the
// others. A collector that passes ip/port to DataKitFramework.__init__,
// or that runs outside collectkit, posts to that DataKit write API over
// HTTP instead, as DataKit's framework does; a post that fails is logged
// to stderr with the prefix "W! " (a warning in the host's log), at most
// once a minute per distinct error, and report() returns the error text.
//
// Processes a collector forks (multiprocessing.Pool workers) inherit the
// channel and may report too: their reports and log records are taken one
// at a time and each process gets its own answers. Processes started with
// the "spawn" or "forkserver" methods do not inherit the channel.
//
// # Concurrency
//
// New and Run may be called from any goroutine; Run may run once at a
// time per Supervisor. The Sink and OnError are called from one goroutine
// per input process at a time, so different inputs call them
// concurrently, and so is Options.Pipeline. Status, Describe and Collect
// may be called from any goroutine, before, during and after Run. A panic
// in the Sink, OnError or Constraint.OnWarnings is recovered and logged
// with its stack, and becomes an error for that report; a panic in the
// Pipeline is an error of that point. The host goes on. Options is copied
// by New.
package pythond
