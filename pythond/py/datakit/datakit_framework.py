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
framework does; so does any collector run outside collectkit (default
127.0.0.1:9529).

``report()`` returns "" when every point was accepted, and the error text
(DataKit's JSON error document when the host or server sent one) when not.
Set the class attribute ``raise_on_error = True`` to get a ReportError
instead.
"""

import json
import marshal
import os
import sys
import threading
import time as _time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["DataKitFramework", "ReportError"]

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

# A failed HTTP post is logged to stderr at most once a minute per distinct
# error, so a wrong port or a missing token is seen without flooding.
_HTTP_LOG_EVERY = 60.0
_http_logged = {}
_http_log_lock = threading.Lock()


def _log_http_failure(text):
    now = _time.monotonic()
    with _http_log_lock:
        last = _http_logged.get(text)
        if last is not None and now - last < _HTTP_LOG_EVERY:
            return
        if len(_http_logged) > 1000:
            _http_logged.clear()
        _http_logged[text] = now
    print("W! " + text, file=sys.stderr, flush=True)


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


class DataKitFramework(object):
    """Base class of DataKit Python collectors."""

    name = "DataKitFramework"
    interval = 10
    raise_on_error = False

    # Set by __init__(ip=..., port=...): (host, port) to post to over HTTP.
    _ck_http = None

    def __init__(self, **kwargs):
        ip = kwargs.get("ip")
        port = kwargs.get("port")
        if ip or port:
            self._ck_http = (ip or _DEFAULT_HOST, int(port or _DEFAULT_PORT))

    def run(self):
        """Collect and report; called every ``interval`` seconds."""
        raise NotImplementedError("run() is not implemented")

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
        if self._ck_http is None and _channel is not None:
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
        return self._http_post(
            "/v1/write/" + category, query,
            json.dumps(points, default=_json_default).encode("utf-8"))

    def _http_address(self):
        return self._ck_http or (_DEFAULT_HOST, _DEFAULT_PORT)

    def construct_url(self, path, query=None):
        """Return the URL of path on the DataKit HTTP API in use."""
        host, port = self._http_address()
        url = "http://%s:%d%s" % (host, port, path)
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return url

    def _http_post(self, path, query, body):
        url = self.construct_url(path, query)
        request = urllib.request.Request(
            url, data=body, method="POST",
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=_HTTP_TIMEOUT) as r:
                r.read()
                return ""
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            _log_http_failure("%s: POST %s: HTTP %d: %s" % (
                self._collector_name(), url.split("?")[0], exc.code,
                text.strip() or exc.reason))
            return text or _error_text("collectkit.httpError",
                                       "HTTP %d" % exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            _log_http_failure("%s: POST %s: %s" % (
                self._collector_name(), url.split("?")[0], exc))
            return _error_text("collectkit.httpError",
                               "POST %s: %s" % (path, exc))

    def set_lasterror(self, input_name, err_msg):
        """Make err_msg the last error of input_name, shown by the host."""
        if self._ck_http is None and _channel is not None:
            try:
                _channel.send_json(_channel.KIND_LASTERROR, {
                    "input": str(input_name or ""),
                    "collector": self._collector_name(),
                    "message": str(err_msg),
                })
                return ""
            except _channel.Closed as exc:
                return _error_text("collectkit.channelClosed", str(exc))
        return self._http_post("/v1/lasterror", None, json.dumps({
            "input": str(input_name or ""), "err_content": str(err_msg),
        }).encode("utf-8"))

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
    print(line, file=sys.stderr, flush=True)
