"""collectkit's runner for DataKit Python collectors.

    python3 collectkit_pythond.py --name NAME [--run-timeout SECONDS]
                                  DIR_OR_FILE...

Discovers collectors the way DataKit does: for every directory, the .py
files in it and in its immediate subdirectories (as "subdir.module"),
skipping __init__.py; a path to a file names that one module. Every
DataKitFramework subclass defined in a module (not merely imported into it)
that overrides run() is instantiated once and runs on its own thread at a
fixed rate of ``interval`` seconds. Runs of one collector never overlap; a
run that takes longer than the timeout is reported while it still runs.

Exit status: 0 never (the runner runs until stopped), 2 for bad arguments,
3 when no collector could be started.
"""

import argparse
import importlib
import os
import sys
import threading
import time
import traceback

EXIT_NO_COLLECTORS = 3
DEFAULT_INTERVAL = 10.0


def log(level, collector, event, message, tb=""):
    import datakit_framework
    datakit_framework._log(level, collector, event, message, tb)


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
        for entry in entries:
            full = os.path.join(path, entry)
            if entry.startswith(".") or entry == "__pycache__":
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
                if (sub.endswith(".py") and sub != "__init__.py"
                        and not sub.startswith(".")
                        and os.path.isfile(os.path.join(full, sub))):
                    found.append((path, entry + "." + sub[:-3]))
    return found


def import_module(name):
    """Import name, logging why it failed; return the module or None."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and missing != name and not name.startswith(missing + "."):
            message = ("module %s needs %s, which is not installed: %s"
                       % (name, missing, exc))
        else:
            message = "module %s not found: %s" % (name, exc)
        log("error", "", "import", message, traceback.format_exc())
    except BaseException as exc:  # SyntaxError, SystemExit, anything
        if isinstance(exc, KeyboardInterrupt):
            raise
        log("error", "", "import",
            "module %s failed to import: %s: %s"
            % (name, type(exc).__name__, exc), traceback.format_exc())
    return None


def find_collectors(module, base, seen):
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
                % (value.__name__, module.__name__))
            continue
        classes.append(value)
    return classes


class Collector(object):
    """One collector instance and its scheduling thread."""

    def __init__(self, instance, run_timeout):
        self.instance = instance
        self.name = instance._collector_name()
        self.interval = self._interval(instance)
        if run_timeout == 0:
            self.timeout = self.interval
        elif run_timeout < 0:
            self.timeout = None
        else:
            self.timeout = run_timeout
        self.started = None
        self.overran = False
        self.thread = threading.Thread(target=self.loop, name=self.name,
                                       daemon=True)

    def _interval(self, instance):
        value = getattr(instance, "interval", None)
        try:
            interval = float(value)
        except (TypeError, ValueError):
            interval = 0.0
        if interval > 0 and interval == interval:
            return interval
        log("warning", self.name, "init",
            "interval %r is not a positive number of seconds; using %g"
            % (value, DEFAULT_INTERVAL))
        return DEFAULT_INTERVAL

    def loop(self):
        next_run = time.monotonic()
        while True:
            self.overran = False
            self.started = time.monotonic()
            try:
                self.instance.run()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                log("error", self.name, "run",
                    "run() raised %s: %s" % (type(exc).__name__, exc),
                    traceback.format_exc())
            took = time.monotonic() - self.started
            self.started = None
            if self.overran:
                log("warning", self.name, "run",
                    "run() finished after %.3fs" % took)
            # Fixed rate: the n-th run is due at start + n * interval;
            # ticks missed by a long run are skipped, not made up.
            next_run += self.interval
            now = time.monotonic()
            if next_run <= now:
                skipped = int((now - next_run) // self.interval) + 1
                next_run += skipped * self.interval
            time.sleep(next_run - now)

    def check_timeout(self, now):
        started = self.started
        if (started is None or self.timeout is None or self.overran
                or now - started <= self.timeout):
            return
        self.overran = True
        frame = sys._current_frames().get(self.thread.ident)
        stack = "".join(traceback.format_stack(frame)) if frame else ""
        log("error", self.name, "timeout",
            "run() has been running for %.3fs, over its timeout of %gs"
            % (now - started, self.timeout), stack)


def watch(collectors):
    timeouts = [c.timeout for c in collectors if c.timeout]
    if not timeouts:
        return
    tick = max(0.01, min(0.2, min(timeouts) / 4))
    while True:
        time.sleep(tick)
        now = time.monotonic()
        for c in collectors:
            c.check_timeout(now)


def main(argv):
    parser = argparse.ArgumentParser(prog="collectkit_pythond")
    parser.add_argument("--name", required=True)
    parser.add_argument("--run-timeout", type=float, default=0.0)
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args(argv)

    here = os.path.dirname(os.path.abspath(__file__))
    if here not in sys.path:
        sys.path.insert(0, here)
    import datakit_framework
    base = datakit_framework.DataKitFramework

    modules = find_modules(args.paths)
    for root, _ in modules:
        if root not in sys.path:
            sys.path.append(root)
    collectors = []
    seen_modules = set()
    seen_classes = set()
    for root, name in modules:
        if name in seen_modules:
            continue
        seen_modules.add(name)
        module = import_module(name)
        where = os.path.abspath(getattr(module, "__file__", None) or "")
        if module is not None and not where.startswith(
                os.path.abspath(root) + os.sep):
            log("warning", "", "discover",
                "module %s in %s is shadowed by %s; rename the file"
                % (name, root, where or "a built-in module"))
            continue
        if module is None:
            continue
        for cls in find_collectors(module, base, seen_classes):
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
            collectors.append(Collector(instance, args.run_timeout))
    if not collectors:
        log("error", "", "discover",
            "no collector found in %s" % ", ".join(args.paths))
        return EXIT_NO_COLLECTORS
    log("info", "", "start", "running %d collector(s): %s" % (
        len(collectors), ", ".join(c.name for c in collectors)))
    for c in collectors:
        c.thread.start()
    watch(collectors)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
