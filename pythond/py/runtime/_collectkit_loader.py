"""Loading user files by path, shared by every framework's runner.

User files are loaded by path under private module names, so that a file
named like a standard or installed module (test.py, json.py) is still the
one loaded, and two dirs may each have a main.py. A module of a package
directory gets a private parent package (running the directory's
__init__.py when there is one, as an import of "subdir.module" would), so
its relative imports work.
"""

import importlib.util
import os
import sys

PRIVATE_PREFIX = "_collectkit_user_"


class Loader(object):
    """Loads the files of one runner under private names."""

    def __init__(self):
        self.count = 0
        self.packages = {}  # package dir -> private package name

    def _name(self, stem):
        self.count += 1
        safe = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
        return "%s%d_%s" % (PRIVATE_PREFIX, self.count, safe)

    def _package(self, pkg_dir):
        name = self.packages.get(pkg_dir)
        if name is not None:
            return name
        name = self._name(os.path.basename(pkg_dir))
        init = os.path.join(pkg_dir, "__init__.py")
        if os.path.isfile(init):
            exec_module(importlib.util.spec_from_file_location(
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
        return exec_module(importlib.util.spec_from_file_location(name, path))

    def load_file(self, path, stem=None):
        """Load the file at path (any file name, such as x.chart.py) and
        return the module."""
        if stem is None:
            stem = os.path.basename(path).split(".")[0]
        return exec_module(importlib.util.spec_from_file_location(
            self._name(stem), path))


def exec_module(spec):
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


def import_error_message(name, exc):
    """Explain why module name failed to import with exc."""
    if isinstance(exc, ModuleNotFoundError):
        missing = exc.name or ""
        if missing and missing != name and not name.startswith(missing + "."):
            return ("module %s needs %s, which is not installed: %s"
                    % (name, missing, exc))
        return "module %s not found: %s" % (name, exc)
    return ("module %s failed to import: %s: %s"
            % (name, type(exc).__name__, exc))


def isolate(runtime_dir, framework_dir, names):
    """Make the runtime private: take runtime_dir off sys.path and the
    runtime's modules (names) out of sys.modules (the runner keeps its own
    references), and put framework_dir first on sys.path."""
    runtime_dir = os.path.realpath(runtime_dir)
    sys.path[:] = [p for p in sys.path
                   if os.path.realpath(p or os.curdir) != runtime_dir]
    for name in names:
        sys.modules.pop(name, None)
    if framework_dir and framework_dir not in sys.path:
        sys.path.insert(0, framework_dir)
