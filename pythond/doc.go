// Package pythond runs DataKit Python collectors as supervised child
// processes and feeds what they report into a point.Sink.
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
//
// [ParseConfig] decodes such a document strictly (unknown keys are errors
// naming key and line); a host with its own configuration embeds []Input
// and calls [Input.Validate]. Relative dirs are resolved under
// Options.Root, or first under GitRepos/<repo>/python.d in git-repo mode,
// and may not leave their root through ".." or a symbolic link; absolute
// paths are used as written. Envs add to the inherited environment with
// $VAR expansion (DataKit replaced the environment).
//
// # Supervision
//
// [New] validates everything that can be checked up front (interpreter in
// PATH, dirs readable, values sane) and [Supervisor.Run] keeps each
// process alive until its context is done: a process that exits is
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
// Reports travel over a private pipe (descriptors 3 and 4, named in
// COLLECTKIT_PYTHOND_FDS), so prints cannot corrupt them: each report is
// written by Python's marshal.dumps(points, 2) in length-prefixed frames,
// large ones in chunks of 128 points doubling up to 8,192 that the host
// decodes and normalizes (package constraint) while the script encodes
// the next. marshal is several times faster than json.dumps (0.24 ms
// against 1.5 ms for 1,000 typical points), which is most of what a
// report costs a script; version 2 of its format has no back-references
// and writes every str as UTF-8, and the host reads exactly that subset
// with a strict, bounded decoder of its own. Values map as DataKit's JSON
// API maps them, integers kept exact: int to an int64 field (uint64 above
// its range; beyond both an error naming the key), float, str, bool, and
// bytes to a bytes field; a None field is dropped with a nil_field
// warning; a tag that is not a str, a list or dict as a field and a bad
// time refuse the report with an error naming the point and key.
// Subclasses of the built-in types (OrderedDict, IntEnum, numpy.float64)
// are converted first; other values raise TypeError in report().
//
// The host writes the report's points to the Sink as one point.Batch
// (Input: the report's "input", else the collector's name) only once all
// have arrived (a bad chunk refuses the whole report), then answers; report() waits for that answer, so a slow or busy sink
// (point.ErrBusy is retried) slows collectors down instead of losing data,
// and a process killed mid-report leaves no partial report in the Sink.
// report() returns "" on success and, on failure, DataKit's JSON error
// document as text (or raises ReportError when the collector sets
// raise_on_error). A collector that passes ip/port to
// DataKitFramework.__init__, or that runs outside collectkit, posts to
// that DataKit write API over HTTP instead, as DataKit's framework does.
//
// # Concurrency
//
// New and Run may be called from any goroutine; Run may run once at a
// time per Supervisor. The Sink and OnError are called from one goroutine
// per input process at a time, so different inputs call them
// concurrently. Options is copied by New.
package pythond
