"""collectkit's runner for DataKit Python collectors.

    python3 run_datakit.py --name NAME [--run-timeout SECONDS]
                           [--framework-dir DIR] [--log-dir DIR
                           [--log-max-bytes N] [--log-backups N]]
                           DIR_OR_FILE...

Discovers collectors the way DataKit does: for every directory, the .py
files in it and in its immediate subdirectories (as "subdir.module"),
skipping __init__.py; a path to a file names that one module. Each file
is loaded by path under a private module name (see _collectkit_loader),
so no module of the standard library or of site-packages can shadow it,
and files of the same name in different dirs are all loaded. Every
DataKitFramework subclass defined in a module (not merely imported into
it) that overrides run() is instantiated once and runs on its own thread
at a fixed rate of ``interval`` seconds. Runs of one collector never
overlap; a run that takes longer than the timeout is reported while it
still runs.

Only the framework's folder (../datakit, or --framework-dir) and the
collectors' dirs are on sys.path: the runtime's own modules are not
importable by a collector.

With --log-dir, DataKit's log files are written there as well as sent to
the host: _datakit_pythond_cli.log (shared by every input, each line
naming its input) gets every record of the runner (discovery, imports,
start, collector exceptions with their tracebacks, timeouts, the stop on
SIGTERM), and the framework writes _datakit_pythond_framework_<name>_.log
(mylog records, failed HTTP requests). Both rotate at --log-max-bytes
(default 100000) keeping --log-backups files (default 10), as DataKit's.

Exit status: 0 never (the runner runs until stopped), 2 for bad
arguments, 3 when no collector could be started, after a log record
whose "reason" is "no_collectors" (the host goes by the record, so a
script's own exit status 3 is not taken for this).
"""

import argparse
import logging
import os
import signal
import sys
import threading
import traceback

import _collectkit_channel
import _collectkit_loader
import _collectkit_scheduler

EXIT_NO_COLLECTORS = 3
DEFAULT_INTERVAL = 10.0
_RUNTIME_MODULES = ("_collectkit_channel", "_collectkit_loader",
                    "_collectkit_scheduler", "run_datakit")

_framework = None  # the datakit_framework module, once imported

# DataKit's CLI log file (--log-dir): its logger, and this input's name,
# which every line of the shared file carries.
_cli = logging.getLogger("pythond_cli")
_cli.propagate = False
_cli_input = [""]
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO,
           "warning": logging.WARNING, "error": logging.ERROR,
           "critical": logging.CRITICAL}


# Events that are the collectors' status, not log records (the host keeps
# them without logging them).
_STATUS_EVENTS = ("run_start", "run_end")


def cli_log(level, collector, message, tb="", event=""):
    if not _cli.handlers or event in _STATUS_EVENTS:
        return
    text = "[%s] %s: %s" % (_cli_input[0], collector or "pythond", message)
    if tb:
        text += "\n" + tb.rstrip("\n")
    _cli.log(_LEVELS.get(level, logging.INFO), "%s", text)


def open_cli_log(dklog, args):
    """Start DataKit's CLI log file when --log-dir asks for it; a file that
    cannot be written is reported and left out."""
    _cli_input[0] = args.name
    try:
        handler = dklog.open_log(_cli.name, args.log_dir, dklog.CLI_FILE,
                                 args.log_max_bytes, args.log_backups)
    except OSError as exc:
        log("warning", "", "log", "cannot write the CLI log file: %s" % exc)
        return
    if handler is None:
        return
    runner = os.getpid()

    def stopping(signum, _frame):
        # Processes a collector forked inherit the handler: only the
        # runner logs its stop.
        if os.getpid() == runner:
            cli_log("info", "", "stopping on %s"
                    % signal.Signals(signum).name)
            handler.flush()
        # Die of the signal, as without the log file.
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)

    signal.signal(signal.SIGTERM, stopping)


def log(level, collector, event, message, tb="", **extra):
    cli_log(level, collector, message, tb, event)
    if _framework is None:
        print("%s %s: %s" % (level.upper(), collector or "pythond", message),
              file=sys.stderr, flush=True)
        return
    _framework._log(level, collector, event, message, tb, **extra)


def inside(path, top):
    """Whether path, with symbolic links followed, stays inside top.

    Logs the file it refuses, so a link out of a collector dir is never
    loaded silently.
    """
    real = os.path.realpath(path)
    if os.path.commonpath([real, top]) == top:
        return True
    log("warning", "", "discover",
        "skipped %s: a symbolic link to %s, outside %s" % (path, real, top))
    return False


def find_modules(paths):
    """Return [(root, module name)] for the given dirs and files."""
    found = []
    for path in paths:
        if os.path.isfile(path):
            root, base = os.path.split(os.path.abspath(path))
            if base.endswith(".py"):
                found.append((root, base[:-3]))
            continue
        try:
            entries = sorted(os.listdir(path))
        except OSError as exc:
            log("error", "", "discover", "cannot list %s: %s" % (path, exc))
            continue
        top = os.path.realpath(path)
        for entry in entries:
            full = os.path.join(path, entry)
            if entry.startswith(".") or entry == "__pycache__":
                continue
            if not inside(full, top):
                continue
            if os.path.isfile(full):
                if entry.endswith(".py") and entry != "__init__.py":
                    found.append((path, entry[:-3]))
                continue
            if not os.path.isdir(full):
                continue
            try:
                subs = sorted(os.listdir(full))
            except OSError as exc:
                log("error", "", "discover",
                    "cannot list %s: %s" % (full, exc))
                continue
            for sub in subs:
                subpath = os.path.join(full, sub)
                if (sub.endswith(".py") and sub != "__init__.py"
                        and not sub.startswith(".")
                        and os.path.isfile(subpath)
                        and inside(subpath, top)):
                    found.append((path, entry + "." + sub[:-3]))
    return found


def import_module(loader, root, name):
    """Load module name of root, logging why it failed; return the module
    or None."""
    try:
        return loader.load(root, name)
    except BaseException as exc:  # SyntaxError, SystemExit, anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        log("error", "", "import",
            _collectkit_loader.import_error_message(name, exc),
            traceback.format_exc())
    return None


def find_collectors(module, display, base, seen):
    """Return the collector classes defined in module."""
    classes = []
    for value in list(vars(module).values()):
        if (not isinstance(value, type) or not issubclass(value, base)
                or value is base or value in seen
                or value.__module__ != module.__name__):
            continue
        seen.add(value)
        if value.run is base.run:
            log("warning", value.__name__, "discover",
                "class %s in %s does not override run(); skipped"
                % (value.__name__, display))
            continue
        classes.append(value)
    return classes


def interval_of(name, instance):
    value = getattr(instance, "interval", None)
    try:
        interval = float(value)
    except (TypeError, ValueError):
        interval = 0.0
    if interval > 0 and interval == interval:
        return interval
    log("warning", name, "init",
        "interval %r is not a positive number of seconds; using %g"
        % (value, DEFAULT_INTERVAL))
    return DEFAULT_INTERVAL


def new_task(instance, run_timeout):
    name = instance._collector_name()
    interval = interval_of(name, instance)
    if run_timeout == 0:
        timeout = interval
    elif run_timeout < 0:
        timeout = None
    else:
        timeout = run_timeout
    return _collectkit_scheduler.Task(
        name, interval, timeout, _framework._run_as(name, instance.run), log)


def main(argv):
    global _framework
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(prog="run_datakit")
    parser.add_argument("--name", required=True)
    parser.add_argument("--run-timeout", type=float, default=0.0)
    parser.add_argument("--framework-dir",
                        default=os.path.join(os.path.dirname(here),
                                             "datakit"))
    parser.add_argument("--log-dir", default="")
    parser.add_argument("--log-max-bytes", type=int, default=0)
    parser.add_argument("--log-backups", type=int, default=0)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)

    channel = _collectkit_channel.Channel.from_env(os.environ)
    _collectkit_loader.isolate(here, os.path.abspath(args.framework_dir),
                               _RUNTIME_MODULES)
    import datakit_framework
    import _collectkit_dklog
    datakit_framework._attach(channel)
    _framework = datakit_framework
    base = datakit_framework.DataKitFramework
    # As DataKit's runner does with --logname: the framework log file is
    # named after the input.
    base.log_name = args.name
    if args.log_dir:
        datakit_framework._set_log_files(args.log_dir, args.log_max_bytes,
                                         args.log_backups)
        open_cli_log(_collectkit_dklog, args)

    modules = find_modules(args.paths)
    # Each collector's dir stays importable for sibling imports ("import
    # helper", or "from pkg import helper" as under DataKit).
    for root, name in modules:
        for d in (root, os.path.join(root, *name.split(".")[:-1])):
            d = os.path.abspath(d)
            if d not in sys.path:
                sys.path.append(d)
    tasks = []
    seen_files = set()
    seen_classes = set()
    loader = _collectkit_loader.Loader()
    for root, name in modules:
        path = os.path.realpath(os.path.join(root, *name.split("."))
                                + ".py")
        if path in seen_files:
            continue
        seen_files.add(path)
        module = import_module(loader, root, name)
        if module is None:
            continue
        for cls in find_collectors(module, name, base, seen_classes):
            try:
                instance = cls()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                log("error", cls.__name__, "init",
                    "%s() raised %s: %s" % (cls.__name__,
                                           type(exc).__name__, exc),
                    traceback.format_exc())
                continue
            tasks.append(new_task(instance, args.run_timeout))
    if not tasks:
        log("error", "", "discover",
            "no collector found in %s" % ", ".join(args.paths),
            reason="no_collectors")
        return EXIT_NO_COLLECTORS
    log("info", "", "start", "running %d collector(s): %s" % (
        len(tasks), ", ".join(t.name for t in tasks)))
    for t in tasks:
        t.thread.start()
    _collectkit_scheduler.watch(tasks)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
