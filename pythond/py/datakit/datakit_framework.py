"""DataKit's Python collector framework, as collectkit runs it.

A collector subclasses DataKitFramework, sets the class attributes ``name``
and ``interval`` (seconds, fractions allowed) and overrides ``run()``, which
reports data with ``report()`` or one of the ``feed_*`` helpers:

    from datakit_framework import DataKitFramework

    class Demo(DataKitFramework):
        name = 'Demo'
        interval = 10

        def run(self):
            return self.feed_metric(measurement='demo', tags={'t': 'v'},
                                    fields={'f': 1})

Under collectkit the data goes to the host over a private pipe, and
``report()`` waits until the host has accepted or refused it. A collector
whose ``__init__`` passes ``ip=``/``port=`` to ``DataKitFramework.__init__``
posts JSON to that address's DataKit write API instead, as DataKit's own
framework does; so does any collector run outside collectkit.

Every other name of DataKit's framework is here too: construct_url,
http_post_json, http_post_raw and http_post_data_core (real HTTP requests
in both modes, to the host's listener by default: see _default_address),
set_lasterror, checkArgEmpty, test, log_name, is_init_log, and the
module's mylog, init_log and logger.

``report()`` returns "" when every point was accepted, and the error text
(DataKit's JSON error document when the host or server sent one) when not.
Set the class attribute ``raise_on_error = True`` to get a ReportError
instead. The http_post_* methods return the server's answer as text
whatever its status, as DataKit's do.
"""

import json
import logging
import marshal
import os
import sys
import threading
import time as _time
import traceback
import urllib.error
import urllib.parse
import urllib.request
from logging.handlers import RotatingFileHandler
from string import Template

# "from datakit_framework import *" gives what DataKit's module gives
# (but requests: this module uses the standard library only).
__all__ = ["DataKitFramework", "ReportError", "mylog", "init_log", "logger",
           "os", "sys", "logging", "Template", "RotatingFileHandler"]

# report() keys and the categories DataKit sends them to, in DataKit's order.
_CATEGORIES = (
    ("M", "metric"),
    ("L", "logging"),
    ("R", "rum"),
    ("O", "object"),
    ("CO", "custom_object"),
    ("E", "keyevent"),
)

_DEFAULT_HOST = "127.0.0.1"
_DEFAULT_PORT = 9529
_HTTP_TIMEOUT = 30.0

# The host's DataKit API listener as "host:port", which the host (or the
# input's envs) sets; construct_url and HTTP mode without ip= or port= use
# it. Unset: DataKit's default, 127.0.0.1:9529.
_ADDRESS_ENV = "COLLECTKIT_PYTHOND_HTTP"


def _default_address():
    text = os.environ.get(_ADDRESS_ENV, "").strip()
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        return _DEFAULT_HOST, _DEFAULT_PORT
    # A listener on every address is reached on loopback.
    if host in ("", "0.0.0.0"):
        host = _DEFAULT_HOST
    elif host == "[::]":
        host = "[::1]"
    elif ":" in host and not host.startswith("["):
        host = "[" + host + "]"
    return host, int(port)


# DataKit's logger of the framework log file.
logger = logging.getLogger("pythond_framework")

# The host channel, set by collectkit's runner through _attach; None when
# the module is used on its own. Importing this module has no side effects.
_channel = None


def _attach(channel):
    """Send reports over channel (the runner's) from now on."""
    global _channel
    _channel = channel


# The input's tags (its "tags" table), which collectkit adds to points that
# come over the pipe; the HTTP mode adds them the same way: to every point
# that lacks the tag, unless the report sets ignore_global_tags.
_TAGS_ENV = "COLLECTKIT_PYTHOND_TAGS"


def _load_input_tags():
    text = os.environ.get(_TAGS_ENV, "")
    if not text:
        return {}
    try:
        tags = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(tags, dict):
        return {}
    return {str(k): str(v) for k, v in tags.items()}


_input_tags = _load_input_tags()

# The log files the runner asked for (_set_log_files): directory, size at
# which a file rotates, rotated files kept. No directory: no files.
_log_files = {"dir": "", "max_bytes": 0, "backups": 0}
_log_lock = threading.Lock()


def _set_log_files(directory, max_bytes=0, backups=0):
    """Write the framework log file in directory (the runner's call)."""
    _log_files.update(dir=directory or "", max_bytes=max_bytes,
                      backups=backups, path="", failed=False)


# The collector whose run() the current thread is in, set by the runner.
_current = threading.local()


def _run_as(name, call):
    """Return call wrapped so that mylog names collector name."""
    def run():
        _current.name = name
        return call()
    return run


def _current_collector():
    return getattr(_current, "name", "")


# A failed HTTP request is logged to stderr at most once a minute per
# distinct error, so a wrong port or a missing token is seen without
# flooding.
_HTTP_LOG_EVERY = 60.0
_http_logged = {}
_http_log_lock = threading.Lock()


def _log_http_failure(text):
    if init_log():
        _file_log(logging.WARNING, text)
    now = _time.monotonic()
    with _http_log_lock:
        last = _http_logged.get(text)
        if last is not None and now - last < _HTTP_LOG_EVERY:
            return
        if len(_http_logged) > 1000:
            _http_logged.clear()
        _http_logged[text] = now
    _stderr("W! " + text)


def _stderr(line):
    # One write per line: print() writes the newline apart, and lines of
    # two threads would run together.
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _as_list(points):
    """Return the points of one report key as a list: a dict is one point,
    a tuple, generator or other iterable is listed."""
    if isinstance(points, list):
        return points
    if isinstance(points, dict):
        return [points]
    return list(points)


def _with_tags(points, tags):
    """Return points with tags added to each dict point that lacks them;
    the caller's dicts are not changed."""
    out = []
    for p in points:
        if isinstance(p, dict):
            own = p.get("tags")
            if own is None or isinstance(own, dict):
                merged = dict(tags)
                if own:
                    merged.update(own)
                p = dict(p)
                p["tags"] = merged
        out.append(p)
    return out


class ReportError(Exception):
    """A report was refused; raised only when raise_on_error is true."""


def _json_default(obj):
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj).decode("utf-8", "replace")
    raise TypeError("value %r of type %s cannot be reported"
                    % (obj, type(obj).__name__))


# Points go to the host in version 2 of the marshal format: no
# back-references, every str as UTF-8. marshal.dumps is about six times
# faster than json.dumps on typical points, and the host reads exactly
# this version.
_MARSHAL_VERSION = 2
_MAX_DEPTH = 100


def _encode_points(points):
    try:
        return marshal.dumps(points, _MARSHAL_VERSION)
    except ValueError:
        # marshal takes only the exact built-in types; convert subclasses
        # (OrderedDict, IntEnum, numpy.float64, ...) as json.dumps would,
        # and refuse the rest with the error json.dumps gave.
        return marshal.dumps(_plain(points, 0), _MARSHAL_VERSION)


def _plain(obj, depth):
    """Return obj with every container and scalar of an exact built-in
    type, or raise TypeError naming the first value that has none."""
    kind = type(obj)
    if kind in (str, int, float, bool, bytes, type(None)):
        return obj
    if depth > _MAX_DEPTH:
        raise ValueError("points nested more than %d deep" % _MAX_DEPTH)
    if isinstance(obj, dict):
        return {_plain(k, depth + 1): _plain(v, depth + 1)
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v, depth + 1) for v in obj]
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, int):
        return int(obj)
    if isinstance(obj, float):
        return float(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return bytes(obj)
    raise TypeError("value %r of type %s cannot be reported"
                    % (obj, type(obj).__name__))


def _check_arg(name, value):
    # DataKit rejects every falsy value; 0 and False are real values here.
    if value is None or (isinstance(value, (str, dict, list)) and not value):
        raise ValueError('arguments missing "%s"' % name)


def _error_text(code, message):
    return json.dumps({"error_code": code, "message": message})


def _http_request(url, data, method, is_json, who):
    """Send one request as DataKit's http_post_data_core does; return
    (accepted, text): the answer's body whatever its status, or an error
    document when no answer came. A failure is logged, naming who."""
    method = str(method or "POST").upper()
    headers = {}
    body = None
    try:
        if is_json is True:
            headers["Content-Type"] = "application/json"
            payload = json.dumps(data, default=_json_default).encode("utf-8")
        else:
            payload = str(data).encode("utf-8")
    except (TypeError, ValueError) as exc:
        text = "%s %s: %s" % (method, url.split("?")[0], exc)
        _log_http_failure("%s: %s" % (who, text))
        return False, _error_text("collectkit.encodeFailed", text)
    if method == "GET":
        # requests sends bytes params as the query string, and JSON
        # "params" (always empty in DataKit's code) as nothing.
        if is_json is not True and payload:
            url += ("&" if "?" in url else "?") + payload.decode("utf-8")
    else:
        body = payload
    request = urllib.request.Request(url, data=body, method=method,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as r:
            return True, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        text = exc.read().decode("utf-8", "replace")
        _log_http_failure("%s: %s %s: HTTP %d: %s" % (
            who, method, url.split("?")[0], exc.code,
            text.strip() or exc.reason))
        return False, text or _error_text("collectkit.httpError",
                                          "HTTP %d" % exc.code)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        _log_http_failure("%s: %s %s: %s" % (
            who, method, url.split("?")[0], exc))
        return False, _error_text("collectkit.httpError",
                                  "%s %s: %s" % (method, url, exc))


class DataKitFramework(object):
    """Base class of DataKit Python collectors."""

    name = "DataKitFramework"
    interval = 10
    raise_on_error = False
    # DataKit's runner sets log_name to the input's name; the framework
    # log file is named after it and opened on the first mylog.
    log_name = ""
    is_init_log = False

    __dk_host, __dk_port = _default_address()
    __magic = "{xxx}"
    # True once __init__ got ip= or port=: report over HTTP.
    _ck_http = False

    def __init__(self, **kwargs):
        ip = kwargs.get("ip")
        if ip:
            self.__dk_host = ip
            self._ck_http = True
        port = kwargs.get("port")
        if port:
            self.__dk_port = port
            self._ck_http = True

    def run(self):
        """Collect and report; called every ``interval`` seconds."""
        raise NotImplementedError("run() is not implemented")

    def test(self):
        """DataKit's debug helper: print log_name and log a record."""
        print("log_name = ", self.log_name)
        mylog("789")

    def _collector_name(self):
        name = getattr(self, "name", "")
        if not name or name == DataKitFramework.name:
            name = type(self).__name__
        return str(name)

    # -- reporting -------------------------------------------------------

    def report(self, in_data):
        """Report the points of in_data, a dict with the keys 'M' (metric),
        'L' (logging), 'R' (rum), 'O' (object), 'CO' (custom_object) and
        'E' (keyevent), each a list of {"measurement", "tags", "fields",
        "time"} dicts, and the options 'input', 'precision', 'version' and
        'ignore_global_tags'. Categories are sent in that order.

        Returns "" when all were accepted, else the first error text (the
        other categories are still sent). Raises ReportError instead when
        raise_on_error is true.
        """
        if not isinstance(in_data, dict):
            raise TypeError("report() takes a dict, not %s"
                            % type(in_data).__name__)
        failure = ""
        for key, category in _CATEGORIES:
            points = in_data.get(key)
            if not points:
                continue
            result = self._send(category, points, in_data)
            if result and not failure:
                failure = result
        if failure and self.raise_on_error:
            raise ReportError(failure)
        return failure

    def _send(self, category, points, opts):
        points = _as_list(points)
        if not self._ck_http and _channel is not None:
            try:
                return _channel.send_points(
                    category, points, _encode_points,
                    input_name=opts.get("input") or "",
                    collector=self._collector_name(),
                    precision=opts.get("precision") or "",
                    version=opts.get("version") or "",
                    ignore_global_tags=bool(opts.get("ignore_global_tags")))
            except _channel.Closed as exc:
                return _error_text("collectkit.channelClosed", str(exc))
        query = []
        for key in ("precision", "input", "ignore_global_tags", "version"):
            if opts.get(key):
                query.append((key, str(opts[key])))
        if _input_tags and not opts.get("ignore_global_tags"):
            points = _with_tags(points, _input_tags)
        ok, text = _http_request(
            self.construct_url("v1/write/" + category, query), points,
            "POST", True, self._collector_name())
        return "" if ok else text

    def construct_url(self, path, query=None):
        """Return the URL of path ("v1/x" or "/v1/x") on the DataKit API in
        use: the ip/port given to __init__, else the host's listener. query,
        a dict or list of pairs, is URL-encoded after "?"."""
        url = "http://%s:%s/%s" % (self.__dk_host, self.__dk_port,
                                   str(path).lstrip("/"))
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def http_post_json(self, url, raw_data):
        """POST raw_data as JSON to url; return the answer's text."""
        return self.http_post_data_core(url, raw_data, "POST", True)

    def http_post_raw(self, url, raw_data):
        """POST str(raw_data) (line protocol for the write API) to url;
        return the answer's text."""
        return self.http_post_data_core(url, raw_data, "POST", False)

    def http_post_data_core(self, url, raw_data, method, is_json):
        """Send raw_data to url with method ("POST", "GET", ...), as JSON
        when is_json is True, else as str(raw_data). Returns the answer's
        body as text whatever its status (DataKit's error document for a
        refused write), or an error document when there was no answer; it
        never raises for a failed request."""
        return _http_request(url, raw_data, method, is_json,
                             self._collector_name())[1]

    def set_lasterror(self, input_name, err_msg):
        """Make err_msg the last error of input_name, shown by the host."""
        if not self._ck_http and _channel is not None:
            try:
                _channel.send_json(_channel.KIND_LASTERROR, {
                    "input": str(input_name or ""),
                    "collector": self._collector_name(),
                    "message": str(err_msg),
                })
                return ""
            except _channel.Closed as exc:
                return _error_text("collectkit.channelClosed", str(exc))
        return self.http_post_json(self.construct_url("v1/lasterror"), {
            "input": str(input_name or ""), "err_content": str(err_msg),
        })

    def checkArgEmpty(self, name, checkStr):
        """Raise ValueError('arguments missing "<name>"') when checkStr is
        falsy, as DataKit does (0 and "" included)."""
        if not checkStr:
            raise ValueError('arguments missing "%s"' % name)

    # -- helpers ---------------------------------------------------------

    def feed_metric(self, input=None, measurement=None, tags=None,
                    fields=None, time=None, **kwargs):
        """Report one metric point; kwargs are extra fields."""
        _check_arg("measurement", measurement)
        _check_arg("fields", fields)
        data = {"measurement": measurement, "tags": dict(tags or {}),
                "fields": dict(fields, **kwargs), "time": time}
        return self.report({"M": [data], "input": input})

    def feed_logging(self, input=None, source=None, tags=None, message=None,
                     time=None, **kwargs):
        """Report one log line of source; kwargs are extra fields."""
        _check_arg("source", source)
        fields = {"message": message}
        fields.update(kwargs)
        data = {"measurement": source, "tags": dict(tags or {}),
                "fields": fields, "time": time}
        return self.report({"L": [data], "input": input})

    def feed_object(self, input=None, cls=None, name=None, tags=None,
                    fields=None, time=None, **kwargs):
        """Report one object of class cls; name becomes the "name" tag."""
        _check_arg("cls", cls)
        _check_arg("fields", fields)
        tags = dict(tags or {})
        if name is not None:
            tags["name"] = str(name)
        data = {"measurement": cls, "tags": tags,
                "fields": dict(fields, **kwargs), "time": time}
        return self.report({"O": [data], "input": input})

    def _feed_event(self, source, extra, tags, df_date_range, df_status,
                    df_event_id, df_title, df_message, kwargs):
        _check_arg("df_date_range", df_date_range)
        _check_arg("df_status", df_status)
        _check_arg("df_event_id", df_event_id)
        _check_arg("df_title", df_title)
        fields = {"df_date_range": df_date_range, "df_source": source}
        fields.update(extra)
        fields["df_status"] = df_status
        fields["df_event_id"] = df_event_id
        fields["df_title"] = df_title
        fields["df_message"] = "" if df_message is None else df_message
        fields.update(kwargs)
        data = {"measurement": "measurement", "tags": dict(tags or {}),
                "fields": fields}
        return self.report({"E": [data]})

    def feed_user_event(self, df_user_id=None, tags=None, df_date_range=10,
                        df_status=None, df_event_id=None, df_title=None,
                        df_message=None, **kwargs):
        """Report a keyevent with df_source "user"."""
        _check_arg("df_user_id", df_user_id)
        return self._feed_event("user", {"df_user_id": df_user_id}, tags,
                                df_date_range, df_status, df_event_id,
                                df_title, df_message, kwargs)

    def feed_monitor_event(self, df_dimension_tags=None, tags=None,
                           df_date_range=10, df_status=None, df_event_id=None,
                           df_title=None, df_message=None, **kwargs):
        """Report a keyevent with df_source "monitor".

        df_dimension_tags is a JSON string such as '{"host":"web01"}'; a
        dict is encoded to one.
        """
        _check_arg("df_dimension_tags", df_dimension_tags)
        if isinstance(df_dimension_tags, dict):
            df_dimension_tags = json.dumps(df_dimension_tags)
        return self._feed_event(
            "monitor", {"df_dimension_tags": df_dimension_tags}, tags,
            df_date_range, df_status, df_event_id, df_title, df_message,
            kwargs)

    def feed_system_event(self, tags=None, df_date_range=10, df_status=None,
                          df_event_id=None, df_title=None, df_message=None,
                          **kwargs):
        """Report a keyevent with df_source "system"."""
        return self._feed_event("system", {}, tags, df_date_range, df_status,
                                df_event_id, df_title, df_message, kwargs)

    def mylog(self, msg, *args, **kwargs):
        """The module's mylog, as a method."""
        mylog(msg, *args, **kwargs)


def init_log():
    """Open the framework log file, _datakit_pythond_framework_<log_name>
    _.log, in the directory the host writes DataKit's log files to; return
    its path, or "" when the host writes none. mylog calls it once."""
    with _log_lock:
        directory = _log_files["dir"]
        if not directory or _log_files.get("failed"):
            return ""
        if _log_files.get("path"):
            return _log_files["path"]
        # Imported here: importing this module loads no other module of
        # collectkit's.
        import _collectkit_dklog
        name = _collectkit_dklog.framework_file(DataKitFramework.log_name)
        try:
            _collectkit_dklog.open_log(logger.name, directory, name,
                                       _log_files["max_bytes"],
                                       _log_files["backups"])
        except OSError as exc:
            _log_files["failed"] = True
            _log("warning", _current_collector(), "log",
                 "cannot write the framework log file: %s" % exc)
            return ""
        _log_files["path"] = os.path.join(directory, name)
        return _log_files["path"]


def _format(msg, args):
    """Return msg formatted with args as logging would; when they do not
    fit (DataKit itself calls mylog("text:", value)), joined by spaces."""
    text = str(msg)
    if not args:
        return text
    if len(args) == 1 and isinstance(args[0], dict) and args[0]:
        args = args[0]
    try:
        return text % args
    except (TypeError, ValueError, KeyError):
        if isinstance(args, dict):
            args = (args,)
        return " ".join([text] + [str(a) for a in args])


def _file_log(level, text, **kwargs):
    if not DataKitFramework.is_init_log:
        init_log()
        DataKitFramework.is_init_log = True
    if logger.isEnabledFor(level):
        logger.log(level, "%s", text, **kwargs)


# The keyword arguments of logging.Logger.debug; mylog ignores others.
_LOGGING_KWARGS = ("exc_info", "stack_info", "extra")


def mylog(msg, *args, **kwargs):
    """DataKit's framework log: msg, %-formatted with args, goes to the
    host's log (at info level, naming the collector) and, when the host
    writes DataKit's log files, to the framework log file. kwargs are
    logging's (exc_info=True adds the traceback)."""
    text = _format(msg, args)
    tb = ""
    if kwargs.get("exc_info"):
        tb = traceback.format_exc()
        if tb.startswith("NoneType: None"):
            tb = ""
    _log("info", _current_collector(), "log", text, tb)
    _file_log(logging.DEBUG, text,
              **{k: v for k, v in kwargs.items() if k in _LOGGING_KWARGS})


def _log(level, collector, event, message, traceback_text="", **extra):
    """Send a log record to the host, or write it to stderr on its own."""
    if _channel is not None:
        try:
            record = {
                "level": level, "collector": collector, "event": event,
                "message": message, "traceback": traceback_text,
            }
            record.update(extra)
            _channel.send_json(_channel.KIND_LOG, record)
            return
        except _channel.Closed:
            pass
    line = "%s %s: %s" % (level.upper(), collector or "pythond", message)
    if traceback_text:
        line += "\n" + traceback_text.rstrip("\n")
    _stderr(line)
