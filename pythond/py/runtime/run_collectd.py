"""collectkit's runner for collectd Python plugins.

    python3 run_collectd.py --name INPUT --config FILE [--stdout]
                            [--collectd-dir DIR]

FILE is the JSON the host writes from collectd.conf:

    {"name": "collectd", "hostname": "myhost", "interval": 10.0,
     "global_interval": 10.0, "max_read_interval": 86400.0,
     "read_threads": 5,
     "log_traces": false, "interactive": false, "encoding": "",
     "types": {"gauge": [["value", "gauge", null, null]]},
     "items": [{"kind": "module_path", "path": "/abs/dir"},
               {"kind": "import", "module": "cpu_temp"},
               {"kind": "module", "name": "cpu_temp",
                "config": {"key": "Module", "values": ["cpu_temp"],
                           "children": []}}]}

The plugins run as collectd's daemon runs them: the items in order
(module_path prepends to sys.path, import imports the module, module
calls the newest config callback whose identifier without "python."
equals the name, case-insensitively), then the init callbacks (newest
first), then the reads: the first right after init, each at its own
interval on read_threads worker threads, a failing one suspended for
twice its interval each time, up to max_read_interval, until it
succeeds again. Only ../collectd (the collectd module) and the
module_path entries are on sys.path before the standard library.

Frames sent to the host (pythond/internal/wire specifies the layout):

    b"V"  meta: the collector (the module of the callback that
          dispatched); payload: marshal.dumps(list, 2) of value list
          tuples (host, plugin, plugin_instance, type, type_instance,
          time, interval, values). One frame per read run; value lists
          dispatched outside a read go in frames of at most 1,000, sent
          within 50 ms.
    b"N"  meta: the collector; payload: a notification as JSON.
    b"G"  log records of the plugins and of this runner.

With --stdout no channel is used: value lists and notifications are
printed on stdout as JSON lines ({"kind": "V", "collector": ..., "values":
[tuple as a list]}, {"kind": "N", "collector": ..., "notification": {...}})
and log records on stderr as "G <json>" lines. Whatever a plugin prints
goes to stderr in both modes. SIGTERM, SIGINT and the host closing the
channel run the shutdown callbacks and end the process with status 0.
"""

import argparse
import heapq
import importlib
import json
import marshal
import os
import queue
import signal
import sys
import threading
import time
import traceback

import _collectkit_channel
import _collectkit_loader

_RUNTIME_MODULES = ("_collectkit_channel", "_collectkit_loader",
                    "_collectkit_scheduler", "run_collectd")
LEVELS = {3: "error", 4: "warning", 5: "info", 6: "info", 7: "debug"}
# Value lists dispatched outside a read run wait at most this long, or
# until this many are buffered, before they are sent.
LOOSE_DELAY = 0.05
LOOSE_MAX = 1000


class Host(object):
    """Where frames and log records go: the channel, or stdout and
    stderr in --stdout mode."""

    def __init__(self, channel, data_out, closed):
        self.channel = channel
        self.data_out = data_out
        self.closed = closed  # called once the host is gone
        # Held by every write and by exit(), so that no frame or line is
        # cut short when the process ends.
        self.lock = threading.RLock()
        self.gone = False

    def exit(self, code):
        """End the process once no write is in progress."""
        self.lock.acquire()
        try:
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        os._exit(code)

    def _lost(self):
        if not self.gone:
            self.gone = True
            self.closed()

    def _frame(self, kind, meta, payload):
        with self.lock:
            if self.gone:
                return
            try:
                self.channel.send_frame(kind, meta, payload)
            except _collectkit_channel.ChannelClosed:
                self._lost()

    def _line(self, obj):
        data = (json.dumps(obj, ensure_ascii=False) + "\n").encode(
            "utf-8", "surrogatepass")
        with self.lock:
            if self.gone:
                return
            try:
                self.data_out.write(data)
            except OSError:
                self._lost()

    def values(self, collector, batch):
        if self.channel is None:
            for vl in batch:
                self._line({"kind": "V", "collector": collector,
                            "values": list(vl)})
            return
        self._frame(b"V", collector.encode("utf-8", "replace"),
                    marshal.dumps(batch, 2))

    def notification(self, collector, record):
        if self.channel is None:
            self._line({"kind": "N", "collector": collector,
                        "notification": record})
            return
        self._frame(b"N", collector.encode("utf-8", "replace"),
                    json.dumps(record, ensure_ascii=False).encode(
                        "utf-8", "surrogatepass"))

    def run_end(self, collector, seconds, error):
        """Tell the host that a read of collector ended (its status; not a
        log record): how long it took and why it failed ("" if it did
        not). Without the channel there is no one to tell."""
        if self.channel is None or self.gone:
            return
        record = {"level": "debug", "collector": collector,
                  "event": "run_end", "message": "", "traceback": "",
                  "seconds": seconds, "error": error}
        with self.lock:
            try:
                self.channel.send_json(self.channel.KIND_LOG, record)
            except _collectkit_channel.ChannelClosed:
                self._lost()

    def log(self, level, collector, event, message, tb=""):
        record = {"level": level, "collector": collector, "event": event,
                  "message": message, "traceback": tb}
        if self.channel is not None and not self.gone:
            with self.lock:
                try:
                    self.channel.send_json(self.channel.KIND_LOG, record)
                    return
                except _collectkit_channel.ChannelClosed:
                    self._lost()
        line = "G " + json.dumps(record, ensure_ascii=False) + "\n"
        with self.lock:
            try:
                sys.stderr.write(line)
                sys.stderr.flush()
            except (OSError, ValueError):
                pass


class Loose(object):
    """Value lists dispatched outside a read run (by a plugin's own
    threads, or by init and write callbacks), sent per collector in
    frames of at most LOOSE_MAX, at most LOOSE_DELAY after the first."""

    def __init__(self, host, ctx):
        self.host = host
        self.ctx = ctx
        self.lock = threading.Lock()
        self.buffers = {}
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._loop,
                                       name="collectd-loose", daemon=True)

    def add(self, vl):
        self.put(getattr(self.ctx, "collector", ""), vl)

    def put(self, collector, vl):
        full = None
        with self.lock:
            buf = self.buffers.get(collector)
            if buf is None:
                buf = self.buffers[collector] = []
            buf.append(vl)
            if len(buf) >= LOOSE_MAX:
                full = self.buffers.pop(collector)
        if full is not None:
            self.host.values(collector, full)
        else:
            self.wake.set()

    def flush(self):
        with self.lock:
            buffers, self.buffers = self.buffers, {}
        for collector, batch in buffers.items():
            if batch:
                self.host.values(collector, batch)

    def _loop(self):
        while True:
            self.wake.wait()
            time.sleep(LOOSE_DELAY)
            self.wake.clear()
            self.flush()


class Read(object):
    """One registered read callback and its schedule."""

    __slots__ = ("ident", "callback", "args", "interval", "effective",
                 "next", "collector", "removed")

    def __init__(self, ident, callback, args, interval, default):
        self.ident = ident
        self.callback = callback
        self.args = args
        self.interval = interval if interval > 0 else default
        self.effective = self.interval
        self.next = 0.0
        self.collector = collector_of(callback)
        self.removed = False


def collector_of(callback):
    module = getattr(callback, "__module__", None)
    return module if isinstance(module, str) else ""


_HERE = os.path.abspath(__file__)


def user_traceback(exc):
    """The traceback of exc without the frames of this runner and of the
    import machinery that lead to the plugin's code."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name != _HERE and not name.startswith("<frozen importlib") \
                and os.path.basename(os.path.dirname(name)) != "importlib":
            break
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))


def exception_text(exc):
    return "%s: %s" % (type(exc).__name__, exc)


class Runner(object):
    """The daemon's part: callbacks, reads, dispatch to the host and to
    the plugins' write, notification and log callbacks."""

    def __init__(self, host, spec, module):
        self.host = host
        self.spec = spec
        self.cd = module
        self.rt = module._rt
        self.ctx = module._ctx
        self.interval = float(spec.get("interval") or 10.0)
        self.max_interval = float(spec.get("max_read_interval") or 86400.0)
        self.threads = max(1, int(spec.get("read_threads") or 5))
        self.log_traces = bool(spec.get("log_traces"))
        self.heap = []
        self.seq = 0
        self.cond = threading.Condition()
        self.work = queue.SimpleQueue()
        self.reads = {}
        self.loose = Loose(host, self.ctx)
        self.write_queue = queue.SimpleQueue()
        self.writer = threading.Thread(target=self.write_loop,
                                       name="collectd-writer", daemon=True)

        rt = self.rt
        rt.hostname = str(spec.get("hostname") or "")
        # A read's default interval is the python plugin's (its
        # <LoadPlugin python> Interval, else the global one); a value
        # list dispatched outside any read gets the global Interval.
        rt.interval = float(spec.get("global_interval") or self.interval)
        rt.log = self.plugin_log
        bad = []
        for name, sources in (spec.get("types") or {}).items():
            try:
                rt.types[name] = module._DataSet(name, sources)
            except (TypeError, ValueError, IndexError) as exc:
                bad.append("%s (%s)" % (name, exc))
        if bad:
            self.log(3, "config", "data sets skipped, not [name, type, "
                     "min, max] lists: %s" % ", ".join(bad), collector="")
        rt.callback_failed = self.callback_failed
        rt.emit_notification = self.notify
        rt.to_writers = self.to_writers
        rt.flush_hook = self.loose.flush

    # Logging.

    def log(self, severity, event, message, tb="", collector=None):
        """Log a record from the runner or a plugin, and give it to the
        plugins' log callbacks (not again while one of them logs)."""
        if collector is None:
            collector = getattr(self.ctx, "collector", "")
        self.host.log(LEVELS.get(severity, "info"), collector, event,
                      message, tb)
        if not self.rt.logs or getattr(self.ctx, "logging", False):
            return
        self.ctx.logging = True
        try:
            with self.rt.lock:
                targets = list(self.rt.logs.values())
            for callback, args in targets:
                try:
                    callback(severity, message, *args)
                except BaseException:
                    traceback.print_exc()
        finally:
            self.ctx.logging = False

    def plugin_log(self, severity, message):
        self.log(severity, "log", message)

    def trace(self, exc):
        return user_traceback(exc) if self.log_traces else ""

    def failed(self, event, where, exc):
        """Log exc, raised by a callback: a CollectdError as a warning
        without traceback, anything else as an error, as collectd does."""
        if isinstance(exc, self.cd.CollectdError):
            self.log(4, event, "%s in %s: %s" % (type(exc).__name__, where,
                                                 exc))
        else:
            self.log(3, event, "Unhandled python exception in %s: %s"
                     % (where, exception_text(exc)), self.trace(exc))

    def callback_failed(self, kind, ident, exc):
        self.failed("write" if kind in ("flush", "write") else kind,
                    kind + " callback", exc)

    # Calling callbacks.

    def call(self, kind, ident, callback, args, collector=None):
        """Call a config, init or shutdown callback in its context;
        return whether it returned."""
        self.ctx.collector = collector_of(callback) if collector is None \
            else collector
        self.ctx.interval = 0
        try:
            callback(*args)
            return True
        except BaseException as exc:
            self.failed(kind, "loading module" if kind == "config"
                        else kind + " callback", exc)
            return False
        finally:
            self.ctx.collector = ""

    def configure(self):
        for item in self.spec.get("items") or ():
            kind = item.get("kind")
            if kind == "module_path":
                path = str(item.get("path") or "")
                if path:
                    sys.path.insert(0, path)
            elif kind == "import":
                self.import_module(str(item.get("module") or ""))
            elif kind == "module":
                self.module_config(str(item.get("name") or ""),
                                   item.get("config") or {})
            else:
                self.log(4, "config", "unknown item %r in %s" % (
                    kind, self.spec.get("name") or "the config"),
                    collector="")

    def import_module(self, name):
        self.ctx.collector = name
        try:
            importlib.import_module(name)
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            self.log(3, "import", 'Error importing module "%s": '
                     'Unhandled python exception in importing module: %s'
                     % (name, exception_text(exc)), user_traceback(exc))
        finally:
            self.ctx.collector = ""

    def module_config(self, name, tree):
        wanted = name.lower()
        with self.rt.lock:
            found = None
            for ident, callback, args in self.rt.configs:
                if ident[len("python."):].lower() == wanted:
                    found = (ident, callback, args)
                    break
        if found is None:
            self.log(4, "config", 'Found a configuration for the "%s" '
                     "plugin, but the plugin isn't loaded or didn't "
                     "register a configuration callback." % name,
                     collector=name)
            return
        ident, callback, args = found
        self.call("config", ident, callback,
                  (build_config(self.cd.Config, tree, None),) + args)

    def init(self):
        with self.rt.lock:
            inits = list(self.rt.inits)
        for ident, callback, args in inits:
            self.call("init", ident, callback, args)

    def shutdown(self):
        with self.rt.lock:
            shutdowns = list(self.rt.shutdowns)
        for ident, callback, args in shutdowns:
            self.call("shutdown", ident, callback, args)
        self.loose.flush()

    # Dispatch.

    def release(self):
        """Send what was dispatched before init, and from now on send
        dispatches made outside a read run through the loose buffer."""
        self.loose.thread.start()
        self.writer.start()
        with self.rt.lock:
            early, self.rt.early = self.rt.early, None
            # Before any later dispatch, so each series stays in order.
            for kind, collector, item in early:
                if kind == "V":
                    self.loose.put(collector, item)
            self.rt.emit = self.loose.add
            self.rt.emit_notification = self.notify
        for kind, collector, item in early:
            if kind == "N":
                self.deliver_notification(collector, item)

    def notify(self, n):
        collector = getattr(self.ctx, "collector", "")
        if self.rt.early is not None:
            with self.rt.lock:
                if self.rt.early is not None:
                    self.rt.early.append(("N", collector, n))
                    return
        self.deliver_notification(collector, n)

    def deliver_notification(self, collector, n):
        self.host.notification(collector, {
            "host": n.host, "plugin": n.plugin,
            "plugin_instance": n.plugin_instance, "type": n.type,
            "type_instance": n.type_instance, "time": n.time,
            "severity": n.severity, "message": n.message})
        with self.rt.lock:
            targets = list(self.rt.notifications.items())
        ctx = self.ctx
        outer = getattr(ctx, "collector", "")
        for ident, (callback, args) in targets:
            ctx.collector = collector_of(callback)
            try:
                callback(n, *args)
            except BaseException as exc:
                self.failed("write", "notification callback", exc)
            finally:
                ctx.collector = outer

    def to_writers(self, vl, meta, only):
        # Taken by the writer thread, which starts after init.
        self.write_queue.put((vl, meta, only))

    def write_loop(self):
        cd = self.cd
        while True:
            vl, meta, only = self.write_queue.get()
            with self.rt.lock:
                targets = [(k, v) for k, v in self.rt.writes.items()
                           if only is None or k in only]
            for ident, (callback, args) in targets:
                v = cd.Values.__new__(cd.Values)
                (v._host, v._plugin, v._plugin_instance, v._type,
                 v._type_instance, v._time, v._interval, values) = vl
                # Its own list: the host's frame holds the same values.
                v._values = list(values)
                v._meta = dict(meta)
                self.ctx.collector = collector_of(callback)
                try:
                    callback(v, *args)
                except BaseException as exc:
                    self.failed("write", "write callback", exc)
                self.ctx.collector = ""

    # Reads.

    def add_read(self, ident):
        with self.rt.lock:
            entry = self.rt.reads.get(ident)
        if entry is None:
            return
        callback, args, interval = entry
        read = Read(ident, callback, args, interval, self.interval)
        with self.cond:
            old = self.reads.get(ident)
            if old is not None:
                old.removed = True
            self.reads[ident] = read
            read.next = time.monotonic()
            self.push(read)

    def remove_read(self, ident):
        with self.cond:
            read = self.reads.pop(ident, None)
            if read is not None:
                read.removed = True

    def push(self, read):
        self.seq += 1
        heapq.heappush(self.heap, (read.next, self.seq, read))
        self.cond.notify()

    def start_reads(self):
        for i in range(self.threads):
            threading.Thread(target=self.worker, name="collectd-read-%d" % i,
                             daemon=True).start()
        with self.rt.lock:
            self.rt.on_read = self.add_read
            self.rt.on_unregister_read = self.remove_read
            idents = list(self.rt.reads)
        for ident in idents:
            self.add_read(ident)
        threading.Thread(target=self.schedule, name="collectd-scheduler",
                         daemon=True).start()

    def schedule(self):
        with self.cond:
            while True:
                while not self.heap:
                    self.cond.wait()
                due, _, read = self.heap[0]
                now = time.monotonic()
                if due > now:
                    self.cond.wait(due - now)
                    continue
                heapq.heappop(self.heap)
                if not read.removed:
                    self.work.put(read)

    def worker(self):
        ctx = self.ctx
        while True:
            read = self.work.get()
            batch = []
            ctx.batch = batch
            ctx.interval = read.interval
            ctx.collector = read.collector
            started = time.monotonic()
            failed = None
            try:
                read.callback(*read.args)
            except BaseException as exc:
                failed = exc
            finally:
                ctx.batch = None
                ctx.interval = 0
            if batch:
                self.host.values(read.collector, batch)
            took = time.monotonic() - started
            self.host.run_end(read.collector, took, "" if failed is None
                              else "%s: %s" % (type(failed).__name__, failed))
            if failed is not None:
                self.failed("read", "read callback", failed)
                read.effective = min(read.effective * 2, self.max_interval)
                self.log(5, "read", "read-function of plugin `%s' failed. "
                         "Will suspend it for %.3f seconds."
                         % (read.ident, read.effective))
            else:
                read.effective = read.interval
                if took > read.interval:
                    self.log(4, "read", "plugin_read_thread: read-function "
                             "of the `%s' plugin took %.3f seconds, which is "
                             "above its read interval (%.3f seconds). You "
                             "might want to adjust the `Interval' or "
                             "`ReadThreads' settings."
                             % (read.ident, took, read.interval))
            ctx.collector = ""
            failed = None
            with self.cond:
                if read.removed:
                    continue
                read.next += read.effective
                now = time.monotonic()
                if read.next < now:
                    read.next = now
                self.push(read)


def build_config(cls, tree, parent):
    """The Config tree of a module block; numbers are floats, as
    collectd gives them."""
    values = []
    for v in tree.get("values") or ():
        if isinstance(v, bool) or isinstance(v, str):
            values.append(v)
        elif isinstance(v, (int, float)):
            values.append(float(v))
        else:
            values.append(str(v))
    node = cls(str(tree.get("key") or ""), parent, tuple(values), ())
    node.children = tuple(build_config(cls, c, node)
                          for c in tree.get("children") or ())
    return node


def watch_channel(channel, stop):
    """Stop once the host closes its end of the channel."""
    fd = channel._rfd
    while True:
        try:
            if not os.read(fd, 4096):
                break
        except InterruptedError:
            continue
        except OSError:
            break
    stop()


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(prog="run_collectd")
    parser.add_argument("--name", required=True)
    parser.add_argument("--config", required=True)
    parser.add_argument("--collectd-dir",
                        default=os.path.join(os.path.dirname(here),
                                             "collectd"))
    parser.add_argument("--stdout", action="store_true")
    args = parser.parse_args(argv)

    channel = None
    data_out = None
    if args.stdout:
        os.environ.pop(_collectkit_channel.FDS_ENV, None)
        data_out = os.fdopen(os.dup(1), "wb", buffering=0)
    else:
        channel = _collectkit_channel.Channel.from_env(os.environ)
        if channel is None:
            sys.stderr.write("run_collectd: no host channel (%s is not set); "
                             "use --stdout to run on its own\n"
                             % _collectkit_channel.FDS_ENV)
            return 2
    # Nothing a plugin prints, nor its subprocesses, reaches stdout.
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    stop_event = threading.Event()
    host = Host(channel, data_out, stop_event.set)
    try:
        with open(args.config, "r", encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as exc:
        host.log("error", "", "config", "cannot read the config file %s: %s"
                 % (args.config, exc))
        return 2

    _collectkit_loader.isolate(here, os.path.abspath(args.collectd_dir),
                               _RUNTIME_MODULES)
    import collectd
    runner = Runner(host, spec, collectd)

    def on_signal(signum, frame):
        stop_event.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if channel is not None:
        threading.Thread(target=watch_channel,
                         args=(channel, stop_event.set),
                         name="collectd-channel", daemon=True).start()

    if spec.get("encoding"):
        runner.log(4, "config", "Encoding %r is ignored: strings are always "
                   "UTF-8 on Python 3" % spec.get("encoding"), collector="")
    if spec.get("interactive"):
        runner.log(4, "config", "Interactive is accepted, but no console is "
                   "started", collector="")
    runner.configure()
    if not stop_event.is_set():
        runner.init()
        runner.release()
        runner.start_reads()
    while not stop_event.wait(1.0):
        pass
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    runner.shutdown()
    host.exit(0)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
