"""collectkit's hooks into prometheus_client.

The runner of framework prometheus installs them before the script runs,
so that a script written for a Prometheus server and a Pushgateway runs
unchanged and its metrics reach the host over the private channel:

- start_http_server, start_wsgi_server (one function in 0.16, under two
  names, in prometheus_client and prometheus_client.exposition) and
  make_wsgi_app remember the registry they serve. Every interval each
  remembered registry is collected in-process with the OpenMetrics
  generator and sent as one X frame; no HTTP request is made. With
  serve the real server is started too, so the port works as before;
  without, start_http_server binds nothing and returns None.
- prometheus_client.exposition._use_gateway, which push_to_gateway,
  pushadd_to_gateway and delete_from_gateway call, sends one U frame:
  the method, the URL path the Pushgateway would receive
  (/metrics/job/<job>{/<label>/<value>}) and the gateway the script
  named, with generate_latest's text 0.0.4 body (empty for DELETE). The
  named gateway is not contacted, and the handler argument is not
  called (it would do the request); the push returns None as a
  successful one does.
- write_to_textfile writes the file as before, then sends the
  registry's exposition as an X frame, once per call.

The module is the framework's own: scripts do not import it.
"""

import functools
import inspect
import threading
import time
import traceback

KIND_EXPOSITION = b"X"
KIND_PUSH = b"U"
_SEP = "\x1f"


def _clean(text):
    text = str(text)
    return text.replace(_SEP, " ").replace("\n", " ")


class Hooks(object):
    """The hooks of one process: the registries to collect, and the
    thread that collects them every interval."""

    def __init__(self, channel, interval, serve, log):
        self.channel = channel
        self.interval = interval
        self.serve = serve
        self.log = log  # log(level, event, message, tb="")
        self.started = time.monotonic()
        self.lock = threading.Lock()
        self.registries = []  # [(registry, source)], each registry once
        self.thread = None
        self.stopped = threading.Event()
        self.om_generate = None
        self.text_generate = None
        self.handler_noted = False
        self.local = threading.local()  # .starting: inside a server start

    def install(self):
        """Patch prometheus_client; return False when it is not
        installed (the script's own import then fails as it would)."""
        try:
            import prometheus_client
            from prometheus_client import exposition
            from prometheus_client.openmetrics import exposition as om
        except ImportError as exc:
            self.log("warning", "start",
                     "prometheus_client is not importable (%s): nothing "
                     "is intercepted" % exc)
            return False
        self.om_generate = om.generate_latest
        self.text_generate = exposition.generate_latest
        self.default_registry = exposition.REGISTRY
        modules = (prometheus_client, exposition)
        wrapped = {}
        for name in ("start_http_server", "start_wsgi_server",
                     "make_wsgi_app", "write_to_textfile"):
            for module in modules:
                original = getattr(module, name, None)
                if original is None:
                    continue
                # start_http_server is start_wsgi_server: one wrapper
                # keeps them the same object.
                if id(original) not in wrapped:
                    wrapped[id(original)] = self._wrap(name, original)
                setattr(module, name, wrapped[id(original)])
        exposition._use_gateway = self._use_gateway
        return True

    def _wrap(self, name, original):
        try:
            sig = inspect.signature(original)
        except (TypeError, ValueError):
            sig = None
        default = self.default_registry

        def registry_of(args, kwargs):
            if sig is None:
                return kwargs.get("registry", default)
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError:
                return None  # the original raises the TypeError
            bound.apply_defaults()
            return bound.arguments.get("registry", default)

        if name == "make_wsgi_app":
            @functools.wraps(original)
            def make_wsgi_app(*args, **kwargs):
                registry = registry_of(args, kwargs)
                app = original(*args, **kwargs)
                if not getattr(self.local, "starting", False):
                    self.watch(registry, "make_wsgi_app")
                return app
            return make_wsgi_app

        if name == "write_to_textfile":
            @functools.wraps(original)
            def write_to_textfile(*args, **kwargs):
                registry = registry_of(args, kwargs)
                original(*args, **kwargs)
                if registry is not None:
                    self.send(registry, "write_to_textfile")
            return write_to_textfile

        @functools.wraps(original)
        def start_http_server(*args, **kwargs):
            registry = registry_of(args, kwargs)
            port = args[0] if args else kwargs.get("port", "")
            result = None
            if self.serve:
                # The server makes its app with make_wsgi_app: that is
                # this start, not an app of the script's own.
                self.local.starting = True
                try:
                    result = original(*args, **kwargs)
                finally:
                    self.local.starting = False
            self.watch(registry, "start_http_server:%s" % (port,))
            return result
        return start_http_server

    def watch(self, registry, source):
        """Collect registry every interval from now on."""
        if registry is None:
            return
        with self.lock:
            if any(r is registry for r, _ in self.registries):
                return
            self.registries.append((registry, source))
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._loop, name="collectkit-prometheus",
                    daemon=True)
                self.thread.start()

    def _loop(self):
        # Collections happen at the process's start plus whole
        # intervals.
        n = 1
        while True:
            due = self.started + n * self.interval
            now = time.monotonic()
            if due > now and self.stopped.wait(due - now):
                return
            # A collection that took longer than an interval skips the
            # times it missed.
            elapsed = time.monotonic() - self.started
            n = max(n + 1, int(elapsed / self.interval) + 1)
            try:
                self.collect()
            except self.channel.Closed:
                return  # the host is gone: the process is being stopped

    def collect(self):
        """Send every watched registry once."""
        with self.lock:
            todo = list(self.registries)
        for registry, source in todo:
            self.send(registry, source)

    def send(self, registry, source):
        try:
            body = self.om_generate(registry)
        except Exception as exc:
            self.log("error", "collect",
                     "collecting the registry of %s failed: %s: %s"
                     % (source, type(exc).__name__, exc),
                     traceback.format_exc())
            return
        self.channel.send_frame(KIND_EXPOSITION,
                                _clean(source).encode("utf-8"), body)

    def stop(self, final):
        """Stop collecting; with final, collect once more first."""
        self.stopped.set()
        if final:
            self.collect()

    def _use_gateway(self, method, gateway, job, registry, grouping_key,
                     timeout, handler):
        from prometheus_client import exposition
        path = push_path(job, grouping_key)
        data = b""
        if method != "DELETE":
            if registry is None:
                registry = self.default_registry
            data = self.text_generate(registry)
        if handler is not exposition.default_handler and \
                not self.handler_noted:
            self.handler_noted = True
            self.log("info", "push",
                     "the push handler %s is not called: pushes go to "
                     "the host, not to %s"
                     % (getattr(handler, "__name__", repr(handler)),
                        gateway))
        meta = _SEP.join((method, _clean(path), _clean(gateway)))
        try:
            self.channel.send_frame(KIND_PUSH, meta.encode("utf-8"), data)
        except self.channel.Closed as exc:
            # What a push to a gateway that cannot be reached raises.
            raise OSError("error talking to pushgateway: %s" % exc)


def push_path(job, grouping_key):
    """The path prometheus_client's _use_gateway requests:
    /metrics/job/<job>{/<label>/<value>}, labels sorted, each pair
    escaped as the client escapes it."""
    from prometheus_client import exposition
    escape = getattr(exposition, "_escape_grouping_key", None) or \
        _escape_grouping_key
    path = "/metrics/%s/%s" % escape("job", job)
    for k, v in sorted((grouping_key or {}).items()):
        path += "/%s/%s" % escape(str(k), str(v))
    return path


def _escape_grouping_key(k, v):
    import base64
    from urllib.parse import quote_plus
    if v == "":
        return k + "@base64", "="
    if "/" in v:
        return k + "@base64", base64.urlsafe_b64encode(
            v.encode("utf-8")).decode("utf-8")
    return k, quote_plus(v)
