"""collectd's Python plugin interface, as collectd 5.12 provides it.

Plugins written for collectd's python plugin (``import collectd``) run
unchanged: the names, constants, classes, call signatures, error types
and messages are those of the module collectd 5.12 embeds. The daemon's
part (reading the configuration, importing the plugins, calling their
callbacks, scheduling reads) is done by the runner that imports this
module and attaches itself to it; importing the module on its own has
no side effects and starts nothing.

Differences a plugin may notice:

- Values and notifications dispatched before the init phase (at import
  time or from a config callback) are kept and delivered once the init
  callbacks have run. collectd 5.12 crashes on a dispatch at import time.
- Data sets (types.db) are known from the start, also at import time.
- ``Encoding`` is ignored (strings are UTF-8, as on Python 3 in
  collectd) and ``Interactive`` starts no console.
- ``Values.write(destination)`` to a name that is not one of the Python
  write callbacks goes where dispatched values go.

Meta data (``meta`` of Values and Notification) is a dict with str keys;
write and notification callbacks get it as collectd stores it: other
keys are dropped, True/False stay bool, a float stays float, Signed and
Unsigned stay so, any other int becomes Signed (Unsigned when it only
fits 64 bits unsigned), and any other value becomes its str().
"""

import operator as _operator
import sys as _sys
import threading as _threading
import time as _time

LOG_ERROR = 3
LOG_WARNING = 4
LOG_NOTICE = 5
LOG_INFO = 6
LOG_DEBUG = 7

NOTIF_FAILURE = 1
NOTIF_WARNING = 2
NOTIF_OKAY = 4

DS_TYPE_COUNTER = "counter"
DS_TYPE_GAUGE = "gauge"
DS_TYPE_DERIVE = "derive"
DS_TYPE_ABSOLUTE = "absolute"

# DATA_MAX_NAME_LEN and NOTIF_MAX_MSG_LEN of collectd, less the NUL.
_NAME_MAX = 127
_MESSAGE_MAX = 255
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT64_MAX = (1 << 64) - 1


class _Absent(object):
    """The default of an argument that was not given (None is a value)."""

    __slots__ = ()

    def __repr__(self):
        return "<not given>"


# An argument not given: a callback's data (it then gets none), or a
# member that dispatch does not override.
_ABSENT = _Absent()

# Per thread: the plugin context of the callback running on it, set by
# the runner. batch is the list a read run's value lists go to (None
# elsewhere), interval the read's interval (0: the global one),
# collector the module the callback comes from, logging is True while
# log callbacks run (so that they cannot recurse).
_ctx = _threading.local()


class CollectdError(Exception):
    """Raise it in a read callback to log a warning without a traceback;
    the read still counts as failed."""


class Signed(int):
    """An int stored as a signed 64-bit meta data value."""


class Unsigned(int):
    """An int stored as an unsigned 64-bit meta data value."""


def _gauge(x):
    return float(x)


def _derive(x):
    i = int(x)
    if _INT64_MIN <= i <= _INT64_MAX:
        return i
    raise OverflowError("int too big to convert")


def _counter(x):
    i = int(x)
    if 0 <= i <= _UINT64_MAX:
        return i
    if i < 0:
        raise OverflowError("can't convert negative int to unsigned")
    raise OverflowError("int too big to convert")


_CONVERTERS = {
    DS_TYPE_GAUGE: _gauge,
    DS_TYPE_DERIVE: _derive,
    DS_TYPE_COUNTER: _counter,
    DS_TYPE_ABSOLUTE: _counter,
}


class _DataSet(object):
    """One types.db line, with what dispatch needs precomputed."""

    __slots__ = ("name", "sources", "count", "converters", "gauges")

    def __init__(self, name, sources):
        self.name = name
        self.sources = tuple(
            (str(s[0]), str(s[1]).lower(),
             None if s[2] is None else float(s[2]),
             None if s[3] is None else float(s[3])) for s in sources)
        self.count = len(self.sources)
        self.converters = tuple(_CONVERTERS.get(s[1], _gauge)
                                for s in self.sources)
        self.gauges = all(s[1] == DS_TYPE_GAUGE for s in self.sources)


class _Runtime(object):
    """The daemon side of the module. The runner replaces the hooks
    (emit, log, on_read, flush_hook) when it attaches; until then value
    lists and notifications are kept and log lines go to stderr."""

    def __init__(self):
        self.lock = _threading.RLock()
        self.hostname = ""
        self.interval = 10.0
        self.types = {}
        # config, init and shutdown: lists of (identifier, callback,
        # args), newest first.
        self.configs = []
        self.inits = []
        self.shutdowns = []
        # The others: identifier -> (callback, args), in order of
        # registration; a second registration replaces the first.
        self.writes = {}
        self.flushes = {}
        self.logs = {}
        self.notifications = {}
        # identifier -> (callback, args, interval)
        self.reads = {}
        # True while write callbacks exist: dispatch then also queues the
        # value lists for them.
        self.writers = False
        self.early = []
        self.emit = self._keep
        self.emit_notification = self._keep_notification
        self.to_writers = None
        self.log = self._stderr_log
        self.on_read = None
        self.on_unregister_read = None
        self.flush_hook = None

    def _keep(self, vl):
        with self.lock:
            # None once the runner took the list: emit is its hook then.
            if self.early is not None:
                self.early.append(("V", getattr(_ctx, "collector", ""), vl))
                return
        self.emit(vl)

    def _keep_notification(self, n):
        with self.lock:
            if self.early is not None:
                self.early.append(("N", getattr(_ctx, "collector", ""), n))
                return
        self.emit_notification(n)

    @staticmethod
    def _stderr_log(severity, message):
        try:
            _sys.stderr.write("collectd[%d]: %s\n" % (severity, message))
        except (OSError, ValueError):
            pass

    def callback_failed(self, kind, ident, exc):
        """Log an exception a callback raised; the runner replaces it
        with one that also logs the traceback when LogTraces is set."""
        self.log(LOG_ERROR, "Unhandled python exception in %s callback: "
                 "%s: %s" % (kind, type(exc).__name__, exc))

    def dataset(self, name):
        ds = self.types.get(name)
        if ds is None:
            raise TypeError("Dataset %s not found" % (name,))
        return ds


_rt = _Runtime()


def _argument_error(argno, value):
    return TypeError("argument %d must be str, bytes or bytearray, not %s"
                     % (argno, "None" if value is None
                        else type(value).__name__))


def _truncate(text, limit):
    """Cut text to limit bytes of UTF-8 as collectd's fixed buffers do
    (a character cut in two is dropped)."""
    if len(text) * 4 <= limit:
        return text
    data = text.encode("utf-8", "surrogatepass")
    if len(data) <= limit:
        return text
    return data[:limit].decode("utf-8", "ignore")


def _arg_text(value, argno, limit=_NAME_MAX):
    """A string argument of a constructor or method call."""
    if value.__class__ is str:
        if "\x00" in value:
            raise TypeError("argument %d must be encoded string without "
                            "null bytes, not str" % argno)
        if len(value) * 4 <= limit:
            return value
        return _truncate(value, limit)
    if isinstance(value, (bytes, bytearray)):
        if b"\x00" in value:
            raise TypeError("argument %d must be encoded string without "
                            "null bytes, not %s" % (argno,
                                                    type(value).__name__))
        return _truncate(bytes(value).decode("utf-8", "replace"), limit)
    if isinstance(value, str):
        return _arg_text(str(value), argno, limit)
    raise _argument_error(argno, value)


def _set_text(value, limit=_NAME_MAX):
    """A string assigned to an attribute: a NUL ends it, as in C."""
    if isinstance(value, (bytes, bytearray)):
        value = bytes(value).decode("utf-8", "replace")
    elif not isinstance(value, str):
        raise TypeError("expected bytes, %s found" % type(value).__name__)
    value = str(value)
    if "\x00" in value:
        value = value[:value.index("\x00")]
    return _truncate(value, limit)


def _real(value):
    """A number as C's double: no strings."""
    if value.__class__ is float:
        return value
    if isinstance(value, (str, bytes, bytearray)) or not (
            hasattr(type(value), "__float__")
            or hasattr(type(value), "__index__")):
        raise TypeError("must be real number, not %s" % type(value).__name__)
    return float(value)


def _checked_type(value, argno):
    value = _arg_text(value, argno)
    if value and value not in _rt.types:
        raise TypeError("Dataset %s not found" % (value,))
    return value


def _too_many(extra, count):
    return TypeError("function takes at most %d arguments (%d given)"
                     % (count, count + len(extra)))


def _invalid_keyword(bad):
    return TypeError("'%s' is an invalid keyword argument for this function"
                     % next(iter(bad)))


def _meta(meta):
    """Meta data as collectd stores and returns it (see the module doc)."""
    out = {}
    for key, value in meta.items():
        if not isinstance(key, str):
            continue
        if value is True or value is False:
            out[key] = value
        elif isinstance(value, float):
            out[key] = float(value)
        elif isinstance(value, Unsigned):
            out[key] = Unsigned(int(value) & _UINT64_MAX)
        elif isinstance(value, Signed):
            out[key] = Signed(_wrap_signed(int(value)))
        elif isinstance(value, int):
            i = int(value)
            if _INT64_MIN <= i <= _INT64_MAX:
                out[key] = Signed(i)
            elif 0 <= i <= _UINT64_MAX:
                out[key] = Unsigned(i)
            else:
                out[key] = str(i)
        elif isinstance(value, str):
            out[key] = str(value)
        else:
            out[key] = str(value)
    return out


def _wrap_signed(i):
    i &= _UINT64_MAX
    return i - (1 << 64) if i > _INT64_MAX else i


def _text_attribute(name, doc, limit=_NAME_MAX):
    """A string attribute kept in slot _<name>: an assigned value is cut
    at a NUL and at limit bytes, as collectd's fixed buffers keep it."""
    slot = "_" + name

    def get(self):
        return getattr(self, slot)

    def set(self, value):
        setattr(self, slot, _set_text(value, limit))
    return property(get, set, doc=doc)


class _PluginData(object):
    """The identification shared by Values and Notification."""

    __slots__ = ("_type", "_plugin_instance", "_type_instance", "_plugin",
                 "_host", "_time", "_meta")

    @property
    def type(self):
        """The data set (types.db) of this value list; assigning an
        unknown one raises TypeError."""
        return self._type

    @type.setter
    def type(self, value):
        value = _set_text(value)
        if value not in _rt.types:
            raise TypeError("Dataset %s not found" % (value,))
        self._type = value

    plugin_instance = _text_attribute(
        "plugin_instance", "The plugin instance; may be empty.")

    type_instance = _text_attribute(
        "type_instance", "The type instance; may be empty.")

    plugin = _text_attribute(
        "plugin", "The plugin's name; empty means \"python\" on dispatch.")

    host = _text_attribute(
        "host", "The host; empty means the configured Hostname on dispatch.")

    @property
    def time(self):
        """Seconds since the epoch; 0 means now on dispatch."""
        return self._time

    @time.setter
    def time(self, value):
        self._time = _real(value)

    @property
    def meta(self):
        """A dict of meta data (see the module doc), or None."""
        return self._meta

    @meta.setter
    def meta(self, value):
        self._meta = value

    def _ident_repr(self):
        parts = ["type=%r" % (self._type,)]
        for name in ("type_instance", "plugin", "plugin_instance", "host"):
            value = getattr(self, "_" + name)
            if value:
                parts.append("%s=%r" % (name, value))
        if self._time:
            parts.append("time=%r" % (self._time,))
        return parts


_PluginData.__module__ = "collectd"
_PluginData.__name__ = _PluginData.__qualname__ = "PluginData"


def _meta_repr(meta):
    if isinstance(meta, dict) and not meta:
        return None
    return "meta=%r" % (meta,)


class Values(_PluginData):
    """A Values object used for dispatching values to collectd and
    receiving values from write callbacks."""

    __slots__ = ("_values", "_interval")

    def __init__(self, type=_ABSENT, values=_ABSENT, plugin_instance=_ABSENT,
                 type_instance=_ABSENT, plugin=_ABSENT, host=_ABSENT,
                 time=_ABSENT, interval=_ABSENT, meta=_ABSENT, *extra, **bad):
        if extra:
            raise _too_many(extra, 9)
        if bad:
            raise _invalid_keyword(bad)
        self._type = "" if type is _ABSENT else _checked_type(type, 1)
        self._values = [] if values is _ABSENT else values
        self._plugin_instance = "" if plugin_instance is _ABSENT else \
            _arg_text(plugin_instance, 3)
        self._type_instance = "" if type_instance is _ABSENT else \
            _arg_text(type_instance, 4)
        self._plugin = "" if plugin is _ABSENT else _arg_text(plugin, 5)
        self._host = "" if host is _ABSENT else _arg_text(host, 6)
        self._time = 0.0 if time is _ABSENT else _real(time)
        self._interval = 0.0 if interval is _ABSENT else _real(interval)
        self._meta = {} if meta is _ABSENT else meta

    @property
    def values(self):
        """The values, a list or tuple in the order of the data set's
        sources."""
        return self._values

    @values.setter
    def values(self, value):
        self._values = value

    @property
    def interval(self):
        """Seconds between two values; 0 means the read callback's
        interval on dispatch."""
        return self._interval

    @interval.setter
    def interval(self, value):
        self._interval = _real(value)

    def __repr__(self):
        parts = self._ident_repr()
        if self._interval:
            parts.append("interval=%r" % (self._interval,))
        values = self._values
        if not (isinstance(values, list) and not values):
            parts.append("values=%r" % (values,))
        meta = _meta_repr(self._meta)
        if meta:
            parts.append(meta)
        return "collectd.Values(%s)" % ",".join(parts)

    def _build(self, type, values, plugin_instance, type_instance, plugin,
               host, time, interval, meta, fill):
        """Check and convert as dispatch does; return the value list
        tuple and its meta dict (or None). An argument that is _ABSENT
        takes the member."""
        t = self._type if type is _ABSENT else _arg_text(type, 1)
        if not t:
            raise RuntimeError("type not set")
        ds = _rt.types.get(t)
        if ds is None:
            raise TypeError("Dataset %s not found" % (t,))
        v = self._values if values is _ABSENT else values
        if not isinstance(v, (list, tuple)):
            raise TypeError("values must be list or tuple")
        m = self._meta if meta is _ABSENT else meta
        if m is not None and not isinstance(m, dict):
            raise TypeError("meta must be a dict")
        if len(v) != ds.count:
            raise RuntimeError("type %s needs %d values, got %d"
                               % (t, ds.count, len(v)))
        if ds.gauges:
            if ds.count == 1:
                converted = [float(v[0])]
            else:
                converted = [float(x) for x in v]
        else:
            converted = [c(x) for c, x in zip(ds.converters, v)]
        h = self._host if host is _ABSENT else _arg_text(host, 6)
        p = self._plugin if plugin is _ABSENT else _arg_text(plugin, 5)
        pi = self._plugin_instance if plugin_instance is _ABSENT else \
            _arg_text(plugin_instance, 3)
        ti = self._type_instance if type_instance is _ABSENT else \
            _arg_text(type_instance, 4)
        tm = self._time if time is _ABSENT else _real(time)
        iv = self._interval if interval is _ABSENT else _real(interval)
        if fill:
            if not tm:
                tm = _time.time()
            if iv <= 0:
                iv = getattr(_ctx, "interval", 0) or _rt.interval
        return ((h or _rt.hostname, p or "python", pi, t, ti, tm, iv,
                 converted), m or None)

    def dispatch(self, type=_ABSENT, values=_ABSENT, plugin_instance=_ABSENT,
                 type_instance=_ABSENT, plugin=_ABSENT, host=_ABSENT,
                 time=_ABSENT, interval=_ABSENT, meta=_ABSENT, *extra, **bad):
        """dispatch([type][, values][, plugin_instance][, type_instance]
        [, plugin][, host][, time][, interval][, meta]) -> None

        Dispatch this value list; arguments override the members for this
        call only."""
        if extra:
            raise _too_many(extra, 9)
        if bad:
            raise _invalid_keyword(bad)
        vl, m = self._build(type, values, plugin_instance, type_instance,
                            plugin, host, time, interval, meta, True)
        batch = getattr(_ctx, "batch", None)
        if batch is not None:
            batch.append(vl)
        else:
            _rt.emit(vl)
        if _rt.writers:
            _rt.to_writers(vl, _meta(m) if m else {}, None)

    def write(self, destination=_ABSENT, type=_ABSENT, values=_ABSENT,
              plugin_instance=_ABSENT, type_instance=_ABSENT, plugin=_ABSENT,
              host=_ABSENT, time=_ABSENT, interval=_ABSENT, meta=_ABSENT,
              *extra, **bad):
        """write(destination[, type][, values][, plugin_instance]
        [, type_instance][, plugin][, host][, time][, interval][, meta])
        -> None

        Write this value list to the write callback named destination
        ("python.<name>"), or to every one when it is empty, bypassing
        the dispatch path: time and interval are not filled in for Python
        write callbacks. Any other destination is the host's."""
        if extra:
            raise _too_many(extra, 10)
        if bad:
            raise _invalid_keyword(bad)
        if destination is _ABSENT:
            raise TypeError("function missing required argument "
                            "'destination' (pos 1)")
        destination = _arg_text(destination, 1)
        vl, m = self._build(type, values, plugin_instance, type_instance,
                            plugin, host, time, interval, meta, False)
        with _rt.lock:
            if not destination:
                own = list(_rt.writes)
            else:
                own = [destination] if destination in _rt.writes else []
        if not destination or not own:
            now = vl[5] or _time.time()
            iv = vl[6] if vl[6] > 0 else \
                (getattr(_ctx, "interval", 0) or _rt.interval)
            filled = vl[:5] + (now, iv, vl[7])
            batch = getattr(_ctx, "batch", None)
            if batch is not None:
                batch.append(filled)
            else:
                _rt.emit(filled)
        if own and _rt.to_writers is not None:
            _rt.to_writers(vl, _meta(m) if m else {}, own)


Values.__module__ = "collectd"


class Notification(_PluginData):
    """The Notification class is a wrapper around the collectd
    notification: a severity and a message about a data instance."""

    __slots__ = ("_severity", "_message")

    def __init__(self, type=_ABSENT, message=_ABSENT, plugin_instance=_ABSENT,
                 type_instance=_ABSENT, plugin=_ABSENT, host=_ABSENT,
                 time=_ABSENT, severity=_ABSENT, meta=_ABSENT, *extra, **bad):
        if extra:
            raise _too_many(extra, 9)
        if bad:
            raise _invalid_keyword(bad)
        self._type = "" if type is _ABSENT else _checked_type(type, 1)
        self._message = "" if message is _ABSENT else \
            _arg_text(message, 2, _MESSAGE_MAX)
        self._plugin_instance = "" if plugin_instance is _ABSENT else \
            _arg_text(plugin_instance, 3)
        self._type_instance = "" if type_instance is _ABSENT else \
            _arg_text(type_instance, 4)
        self._plugin = "" if plugin is _ABSENT else _arg_text(plugin, 5)
        self._host = "" if host is _ABSENT else _arg_text(host, 6)
        self._time = 0.0 if time is _ABSENT else _real(time)
        self._severity = 0 if severity is _ABSENT else \
            _operator.index(severity)
        self._meta = {} if meta is _ABSENT else meta

    message = _text_attribute(
        "message", "What is going on, up to 255 bytes.", _MESSAGE_MAX)

    @property
    def severity(self):
        """NOTIF_FAILURE, NOTIF_WARNING or NOTIF_OKAY."""
        return self._severity

    @severity.setter
    def severity(self, value):
        self._severity = _operator.index(value)

    def __repr__(self):
        parts = self._ident_repr()
        if self._severity:
            parts.append("severity=%r" % (self._severity,))
        if self._message:
            parts.append("message=%r" % (self._message,))
        meta = _meta_repr(self._meta)
        if meta:
            parts.append(meta)
        return "collectd.Notification(%s)" % ",".join(parts)

    def dispatch(self, type=_ABSENT, message=_ABSENT, plugin_instance=_ABSENT,
                 type_instance=_ABSENT, plugin=_ABSENT, host=_ABSENT,
                 time=_ABSENT, severity=_ABSENT, meta=_ABSENT, *extra, **bad):
        """dispatch([type][, message][, plugin_instance][, type_instance]
        [, plugin][, host][, time][, severity][, meta]) -> None

        Dispatch this notification; arguments override the members for
        this call only."""
        if extra:
            raise _too_many(extra, 9)
        if bad:
            raise _invalid_keyword(bad)
        t = self._type if type is _ABSENT else _arg_text(type, 1)
        if not t:
            raise RuntimeError("type not set")
        if t not in _rt.types:
            raise TypeError("Dataset %s not found" % (t,))
        m = self._meta if meta is _ABSENT else meta
        if m is not None and not isinstance(m, dict):
            raise TypeError("meta must be a dict")
        n = Notification.__new__(Notification)
        n._type = t
        n._message = self._message if message is _ABSENT else \
            _arg_text(message, 2, _MESSAGE_MAX)
        n._plugin_instance = self._plugin_instance \
            if plugin_instance is _ABSENT else _arg_text(plugin_instance, 3)
        n._type_instance = self._type_instance if type_instance is _ABSENT \
            else _arg_text(type_instance, 4)
        n._plugin = (self._plugin if plugin is _ABSENT
                     else _arg_text(plugin, 5)) or "python"
        n._host = (self._host if host is _ABSENT
                   else _arg_text(host, 6)) or _rt.hostname
        n._time = (self._time if time is _ABSENT else _real(time)) or \
            _time.time()
        n._severity = self._severity if severity is _ABSENT else \
            _operator.index(severity)
        n._meta = _meta(m) if m else {}
        _rt.emit_notification(n)


Notification.__module__ = "collectd"


class Config(object):
    """This represents a piece of collectd's config file. It is passed
    to scripts with config callbacks (see register_config) and is of
    little use if created somewhere else."""

    __slots__ = ("key", "parent", "values", "children")

    def __init__(self, key=_ABSENT, parent=None, values=(), children=(),
                 *extra, **bad):
        if extra:
            raise _too_many(extra, 4)
        if bad:
            raise _invalid_keyword(bad)
        if key is _ABSENT:
            raise TypeError("function missing required argument 'key' "
                            "(pos 1)")
        if not isinstance(key, str):
            raise TypeError("argument 1 must be str")
        self.key = key
        self.parent = parent
        self.values = values
        self.children = children

    def __repr__(self):
        return "%r<collectd.Config %snode >" % (
            self.key, "root " if self.parent is None else "")


Config.__module__ = "collectd"


# Logging.

def _logger(name, severity):
    def log(*args, **kwargs):
        if kwargs:
            raise TypeError("%s() takes no keyword arguments" % name)
        if len(args) != 1:
            raise TypeError("function takes exactly 1 argument (%d given)"
                            % len(args))
        message = args[0]
        if message.__class__ is not str:
            if isinstance(message, (bytes, bytearray)):
                message = bytes(message).decode("utf-8", "replace")
            elif isinstance(message, str):
                message = str(message)
            else:
                raise _argument_error(1, message)
        _rt.log(severity, message)
    log.__name__ = log.__qualname__ = name
    log.__doc__ = "%s(message) -> None\n\nLog a message with severity " \
        "LOG_%s." % (name, {3: "ERROR", 4: "WARNING", 5: "NOTICE",
                            6: "INFO", 7: "DEBUG"}[severity])
    return log


error = _logger("error", LOG_ERROR)
warning = _logger("warning", LOG_WARNING)
notice = _logger("notice", LOG_NOTICE)
info = _logger("info", LOG_INFO)
debug = _logger("debug", LOG_DEBUG)


# Registration.

def _identifier(callback, name, argno):
    if not callable(callback):
        raise TypeError("callback needs a be a callable object.")
    if name is not _ABSENT:
        if isinstance(name, (bytes, bytearray)):
            name = bytes(name).decode("utf-8", "replace")
        elif not isinstance(name, str):
            raise _argument_error(argno, name)
        return "python." + name
    module = getattr(callback, "__module__", None)
    if isinstance(module, str):
        return "python." + module
    return "python.%x" % id(callback)


def _args(data):
    return () if data is _ABSENT else (data,)


def _lookup(target):
    """The identifier that unregister_*(target) names."""
    if isinstance(target, str):
        return target
    if callable(target):
        return _identifier(target, _ABSENT, 1)
    raise TypeError("This function needs a string or a callable object as "
                    "its only parameter.")


def _unregister_list(kind, entries, target):
    ident = _lookup(target)
    with _rt.lock:
        for i, entry in enumerate(entries):
            if entry[0] == ident:
                del entries[i]
                return
    raise RuntimeError("Unable to unregister %s callback '%s'."
                       % (kind, ident))


def _unregister_named(kind, table, target):
    ident = _lookup(target)
    with _rt.lock:
        if table.pop(ident, None) is None:
            raise RuntimeError("Unable to unregister %s callback '%s'."
                               % (kind, ident))
        _rt.writers = bool(_rt.writes)


def _register_named(table, callback, data, name):
    ident = _identifier(callback, name, 3)
    with _rt.lock:
        replaced = ident in table
        table[ident] = (callback, _args(data))
        _rt.writers = bool(_rt.writes)
    if replaced:
        _rt.log(LOG_WARNING, "register_callback: a callback named `%s' "
                "already exists - overwriting the old entry!" % ident)
    return ident


def register_config(callback, data=_ABSENT, name=_ABSENT):
    """register_config(callback[, data][, name]) -> identifier

    callback(Config[, data]) is called for each <Module> block whose name
    matches the identifier without "python."."""
    ident = _identifier(callback, name, 3)
    with _rt.lock:
        _rt.configs.insert(0, (ident, callback, _args(data)))
    return ident


def register_init(callback, data=_ABSENT, name=_ABSENT):
    """register_init(callback[, data][, name]) -> identifier

    callback([data]) is called once after the configuration, before the
    first read."""
    ident = _identifier(callback, name, 3)
    with _rt.lock:
        _rt.inits.insert(0, (ident, callback, _args(data)))
    return ident


def register_shutdown(callback, data=_ABSENT, name=_ABSENT):
    """register_shutdown(callback[, data][, name]) -> identifier

    callback([data]) is called once when the daemon stops."""
    ident = _identifier(callback, name, 3)
    with _rt.lock:
        _rt.shutdowns.insert(0, (ident, callback, _args(data)))
    return ident


def register_read(callback, interval=0, data=_ABSENT, name=_ABSENT):
    """register_read(callback[, interval][, data][, name]) -> identifier

    callback([data]) is called every interval seconds (0: the global
    Interval). A second read callback of the same identifier is refused
    with a log line."""
    ident = _identifier(callback, name, 4)
    interval = _real(interval)
    with _rt.lock:
        if ident in _rt.reads:
            duplicate = True
        else:
            duplicate = False
            _rt.reads[ident] = (callback, _args(data), interval)
            hook = _rt.on_read
    if duplicate:
        _rt.log(LOG_WARNING, 'The read function "%s" is already registered. '
                'Check for duplicates in your configuration!' % ident)
    elif hook is not None:
        hook(ident)
    return ident


def register_write(callback, data=_ABSENT, name=_ABSENT):
    """register_write(callback[, data][, name]) -> identifier

    callback(Values[, data]) gets every dispatched value list, with every
    field filled in."""
    return _register_named(_rt.writes, callback, data, name)


def register_flush(callback, data=_ABSENT, name=_ABSENT):
    """register_flush(callback[, data][, name]) -> identifier

    callback(timeout, identifier[, data]) is called by flush()."""
    return _register_named(_rt.flushes, callback, data, name)


def register_log(callback, data=_ABSENT, name=_ABSENT):
    """register_log(callback[, data][, name]) -> identifier

    callback(severity, message[, data]) gets every log message."""
    return _register_named(_rt.logs, callback, data, name)


def register_notification(callback, data=_ABSENT, name=_ABSENT):
    """register_notification(callback[, data][, name]) -> identifier

    callback(Notification[, data]) gets every dispatched notification."""
    return _register_named(_rt.notifications, callback, data, name)


def unregister_config(target):
    """unregister_config(identifier or callback) -> None"""
    _unregister_list("config", _rt.configs, target)


def unregister_init(target):
    """unregister_init(identifier or callback) -> None"""
    _unregister_list("init", _rt.inits, target)


def unregister_shutdown(target):
    """unregister_shutdown(identifier or callback) -> None"""
    _unregister_list("shutdown", _rt.shutdowns, target)


def unregister_read(target):
    """unregister_read(identifier or callback) -> None"""
    ident = _lookup(target)
    with _rt.lock:
        found = _rt.reads.pop(ident, None) is not None
        hook = _rt.on_unregister_read
    if not found:
        _rt.log(LOG_WARNING, "plugin_unregister_read: No such read function: "
                "%s" % ident)
        raise RuntimeError("Unable to unregister read callback '%s'." % ident)
    if hook is not None:
        hook(ident)


def unregister_write(target):
    """unregister_write(identifier or callback) -> None"""
    _unregister_named("write", _rt.writes, target)


def unregister_flush(target):
    """unregister_flush(identifier or callback) -> None"""
    _unregister_named("flush", _rt.flushes, target)


def unregister_log(target):
    """unregister_log(identifier or callback) -> None"""
    _unregister_named("log", _rt.logs, target)


def unregister_notification(target):
    """unregister_notification(identifier or callback) -> None"""
    _unregister_named("notification", _rt.notifications, target)


def get_dataset(name):
    """get_dataset(type) -> [(name, type, min, max), ...]

    The data sources of a types.db type; min and max are None for U."""
    name = _arg_text(name, 1)
    ds = _rt.dataset(name)
    return [tuple(s) for s in ds.sources]


def flush(plugin=_ABSENT, timeout=-1, identifier=_ABSENT):
    """flush([plugin][, timeout][, identifier]) -> None

    Call the flush callback named plugin, or every one."""
    plugin = None if plugin is _ABSENT else _arg_text(plugin, 1)
    timeout = _operator.index(timeout)
    identifier = None if identifier is _ABSENT else _arg_text(identifier, 3)
    hook = _rt.flush_hook
    if hook is not None:
        hook()
    with _rt.lock:
        targets = [(k, v) for k, v in _rt.flushes.items()
                   if not plugin or k == plugin]
    for ident, (callback, args) in targets:
        try:
            callback(timeout, identifier, *args)
        except Exception as exc:
            _rt.callback_failed("flush", ident, exc)


del _logger
