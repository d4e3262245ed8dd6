"""collectkit's runner for DataKit Python collectors.

    python3 collectkit_pythond.py --name NAME [--run-timeout SECONDS]
                                  DIR_OR_FILE...

Discovers collectors the way DataKit does: for every directory, the .py
files in it and in its immediate subdirectories (as "subdir.module"),
skipping __init__.py; a path to a file names that one module. Each file
is loaded by path under a private module name (see Loader), so no module
of the standard library or of site-packages can shadow it, and files of
the same name in different dirs are all loaded. Every
DataKitFramework subclass defined in a module (not merely imported into it)
that overrides run() is instantiated once and runs on its own thread at a
fixed rate of ``interval`` seconds. Runs of one collector never overlap; a
run that takes longer than the timeout is reported while it still runs.

Exit status: 0 never (the runner runs until stopped), 2 for bad arguments,
3 when no collector could be started.
"""

import argparse
import importlib.util
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


# User files are loaded by path under private module names, so that a
# file named like a standard or installed module (test.py, json.py) is
# still the one loaded, and two dirs may each have a main.py. A module of
# a package directory gets a private parent package (running the
# directory's __init__.py when there is one, as an import of
# "subdir.module" would), so its relative imports work.
_PRIVATE_PREFIX = "_collectkit_user_"


class Loader(object):
    """Loads the discovered files of one runner under private names."""

    def __init__(self):
        self.count = 0
        self.packages = {}  # package dir -> private package name

    def _name(self, stem):
        self.count += 1
        safe = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
        return "%s%d_%s" % (_PRIVATE_PREFIX, self.count, safe)

    def _package(self, pkg_dir):
        name = self.packages.get(pkg_dir)
        if name is not None:
            return name
        name = self._name(os.path.basename(pkg_dir))
        init = os.path.join(pkg_dir, "__init__.py")
        if os.path.isfile(init):
            _exec_module(importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=[pkg_dir]))
        else:
            spec = importlib.util.spec_from_loader(name, None,
                                                  is_package=True)
            module = importlib.util.module_from_spec(spec)
            module.__path__ = [pkg_dir]
            sys.modules[name] = module
        self.packages[pkg_dir] = name
        return name

    def load(self, root, display):
        """Load the file that root/display names ("mod" for root/mod.py,
        "pkg.mod" for root/pkg/mod.py) and return the module."""
        parts = display.split(".")
        path = os.path.join(root, *parts) + ".py"
        if len(parts) > 1:
            parent = self._package(os.path.join(root, *parts[:-1]))
            name = parent + "." + parts[-1]
        else:
            name = self._name(parts[-1])
        return _exec_module(importlib.util.spec_from_file_location(name, path))


def _exec_module(spec):
    """Create, register and run the module spec describes; a module that
    fails is taken out of sys.modules again."""
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def import_module(loader, root, name):
    """Load module name of root, logging why it failed; return the module
    or None."""
    try:
        return loader.load(root, name)
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
    # Each collector's dir stays importable for sibling imports ("import
    # helper", or "from pkg import helper" as under DataKit).
    for root, name in modules:
        for d in (root, os.path.join(root, *name.split(".")[:-1])):
            d = os.path.abspath(d)
            if d not in sys.path:
                sys.path.append(d)
    collectors = []
    seen_files = set()
    seen_classes = set()
    loader = Loader()
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
