package pythond

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The datakit room: DataKit's DataKitFramework scripts, the default
// framework. Its options are Input.RunTimeout and Input.ExactInts; its
// Python folder is py/datakit (datakit_framework.py and its private log
// file module), its runner py/runtime/run_datakit.py. Its points come as D
// frames of the private channel, served by serve.go like every framework's
// reports.
//
// # DataKit's framework API
//
// datakit_framework has every public name of DataKit's module and class:
// DataKitFramework with name, log_name, is_init_log, __init__(ip=, port=),
// run, test, report, checkArgEmpty, feed_metric, feed_logging,
// feed_object, feed_user_event, feed_monitor_event, feed_system_event,
// construct_url, set_lasterror, http_post_json, http_post_raw and
// http_post_data_core(url, raw_data, method, is_json); the module's
// mylog, init_log and logger ("pythond_framework"), and what a star
// import of DataKit's module gives (os, sys, logging, Template,
// RotatingFileHandler; not requests, as the module uses the standard
// library only).
//
// report and the feed_* helpers go over the pipe, unless __init__ got ip=
// or port=: then they post JSON to that DataKit API, as DataKit's
// framework does. construct_url, set_lasterror in HTTP mode and the
// http_post_* methods are real HTTP requests in both modes. construct_url
// joins host, port and path with one "/" whether the path starts with one
// or not ("v1/lasterror" and "/v1/lasterror" give the same URL); its host
// and port are those given to __init__, else those of the environment
// variable COLLECTKIT_PYTHOND_HTTP ("host:port", the host's DataKit API
// listener, which a host sets through Options.Env or an input through
// envs; a listener on 0.0.0.0 or [::] is reached on loopback), else
// DataKit's 127.0.0.1:9529. What such a request posts to the host's
// write API is handled there (by httpapi), not by the supervisor: the
// input's tags are not added to it. As in DataKit, the http_post_*
// methods return the answer's body as text whatever its status (DataKit's
// JSON error document for a refused write) and never raise for a failed
// request; unlike DataKit, a request that got no answer returns a
// {"error_code":"collectkit.httpError",...} document instead of "", has a
// 30 s timeout instead of none, and is logged to stderr ("W! ", once a
// minute per distinct error) and to the framework log file.
//
// mylog(msg, *args) formats msg with args as logging does (or joins them
// with spaces when they do not fit, where DataKit's logging prints a
// "--- Logging error ---" traceback) and sends the record to the host's
// log at info level, naming the collector whose run() called it; DataKit
// wrote it only to its file, at debug level.
//
// # Log files
//
// When Options.CollectorLogs.Dir is set, the runner and the framework also
// write DataKit's log files there (DataKit writes them in the home
// directory of its user), each through a logging.handlers
// RotatingFileHandler rotating at CollectorLogs.MaxBytes (default 100000
// bytes) and keeping CollectorLogs.Backups rotated files (default 10):
//
//   - _datakit_pythond_cli.log: every record of the runner (discovery,
//     failed imports, the collectors started, run() exceptions with their
//     tracebacks, run timeouts with the stack, "no collector found", the
//     stop on SIGTERM). Every input's process writes it, as in DataKit;
//     each line names its input ("[name] collector: message"), and the
//     processes take turns through flock on the directory, so rotation by
//     one never loses another's lines.
//   - _datakit_pythond_framework_<name>_.log, <name> the input's: the
//     framework's mylog records and failed HTTP requests, opened on the
//     first one, as in DataKit.
//
// Lines are "<time> <LEVEL> <message>" (DataKit's have the message only).
// The host's Logger gets the same records and stays the main log; a file
// that cannot be written is reported there and left out.
var datakitRoom = room{
	name:    "datakit",
	options: []string{"run_timeout", "exact_ints"},
	set: func(in *Input) []string {
		var keys []string
		if in.RunTimeout != 0 {
			keys = append(keys, "run_timeout")
		}
		if in.ExactInts {
			keys = append(keys, "exact_ints")
		}
		return keys
	},
	start: startDataKit,
}

// datakitRunner and datakitFolder are the runner and the sys.path folder
// of the datakit framework, relative to the installed Python directory.
const (
	datakitRunner = "runtime/run_datakit.py"
	datakitFolder = "datakit"
)

// DataKit's rotation of its pythond log files, the defaults of
// CollectorLogs.
const (
	defaultCollectorLogBytes   = 100000
	defaultCollectorLogBackups = 10
)

func startDataKit(_ context.Context, s *Supervisor, in *resolvedInput, pyDir string) (*launch, error) {
	logs := s.datakitLogs()
	if logs.Dir != "" {
		if err := os.MkdirAll(logs.Dir, 0o755); err != nil {
			in.logger.Warn("DataKit's log files are not written", "dir", logs.Dir, "err", err)
			logs.Dir = ""
		}
	}
	return &launch{Args: datakitArgs(in, pyDir, logs), Channel: true}, nil
}

// datakitLogs returns the supervisor's Options.CollectorLogs.
func (s *Supervisor) datakitLogs() CollectorLogs {
	return s.collectorLogs
}

// datakitArgs returns the runner's command line for in: the runner, its
// options, the log file options when logs.Dir is set, and the dirs.
func datakitArgs(in *resolvedInput, pyDir string, logs CollectorLogs) []string {
	args := []string{
		filepath.Join(pyDir, filepath.FromSlash(datakitRunner)),
		"--name", in.Name,
		"--run-timeout", strconv.FormatFloat(in.runTimeoutSeconds(), 'g', -1, 64),
		"--framework-dir", filepath.Join(pyDir, datakitFolder),
	}
	args = append(args, collectorLogArgs(logs)...)
	args = append(args, "--")
	return append(args, in.dirs...)
}

// collectorLogArgs returns the runner's log file options for logs, none
// when logs.Dir is empty. A relative Dir is made absolute here, as the
// process runs in the input's working directory.
func collectorLogArgs(logs CollectorLogs) []string {
	if logs.Dir == "" {
		return nil
	}
	dir := logs.Dir
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	size := logs.MaxBytes
	if size <= 0 {
		size = defaultCollectorLogBytes
	}
	backups := logs.Backups
	if backups <= 0 {
		backups = defaultCollectorLogBackups
	}
	return []string{
		"--log-dir", dir,
		"--log-max-bytes", strconv.FormatInt(size, 10),
		"--log-backups", strconv.Itoa(backups),
	}
}

// runTimeoutSeconds is the --run-timeout argument: 0 for "the interval",
// negative for none.
func (in Input) runTimeoutSeconds() float64 {
	return time.Duration(in.RunTimeout).Seconds()
}
