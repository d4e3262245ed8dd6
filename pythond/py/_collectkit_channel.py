"""Private data channel between collectors and the collectkit host.

The host starts the interpreter with two inherited pipes and names their
file descriptors in COLLECTKIT_PYTHOND_FDS ("<write fd>,<read fd>").
Collectors write frames to the first and read acknowledgements from the
second, so nothing a script prints can corrupt the data.

A frame is a 7-byte header followed by two byte strings:

    kind (1 byte) | meta length (uint16, big endian) |
    payload length (uint32, big endian) | meta | payload

Kinds sent to the host:

    b"D"  points: meta is seq, category, input, collector, precision,
          version and ignore_global_tags joined by 0x1f; the payload is a
          JSON array of {"measurement", "tags", "fields", "time"} objects.
    b"G"  a log record: empty meta, JSON payload.
    b"L"  set_lasterror: empty meta, JSON payload.

The host answers every b"D" frame, in order, with a b"A" frame whose meta
is "<seq>\\x1f<status>" (status "ok" or "error") and whose payload is the
error text. A report waits for its answer, so a slow host slows the
collectors down instead of losing data.
"""

import json
import os
import struct
import threading

FDS_ENV = "COLLECTKIT_PYTHOND_FDS"

_HEADER = struct.Struct(">BHI")
_SEP = "\x1f"
_SMALL = 64 * 1024

KIND_DATA = ord("D")
KIND_LOG = ord("G")
KIND_LASTERROR = ord("L")
KIND_ACK = ord("A")


class ChannelClosed(Exception):
    """The host closed the channel; no more data can be sent."""


def _clean(text):
    """Return text as a meta field: no separator, no newline."""
    text = "" if text is None else str(text)
    if _SEP in text or "\n" in text:
        text = text.replace(_SEP, " ").replace("\n", " ")
    return text


class Channel(object):
    """A framed, acknowledged channel to the host.

    It is safe for use by several threads: frames are written whole under a
    lock and each report waits for its own acknowledgement.
    """

    def __init__(self, write_fd, read_fd):
        self._wfd = write_fd
        self._rfile = os.fdopen(read_fd, "rb", buffering=64 * 1024)
        self._wlock = threading.Lock()
        self._state = threading.Lock()
        self._seq = 0
        self._waiters = {}
        self._closed = None
        self._reader = threading.Thread(
            target=self._read_acks, name="collectkit-acks", daemon=True)
        self._reader.start()

    @classmethod
    def from_env(cls, environ):
        """Return the channel named in environ, or None outside a host.

        The variable is removed so that programs the collectors start do
        not try to use descriptors they do not have.
        """
        value = environ.pop(FDS_ENV, "")
        if not value:
            return None
        write_fd, read_fd = (int(v) for v in value.split(","))
        os.set_inheritable(write_fd, False)
        os.set_inheritable(read_fd, False)
        return cls(write_fd, read_fd)

    def _write(self, kind, meta, payload):
        header = _HEADER.pack(kind, len(meta), len(payload))
        with self._wlock:
            if len(payload) <= _SMALL:
                self._write_all(header + meta + payload)
            else:
                self._write_all(header + meta)
                self._write_all(payload)

    def _write_all(self, data):
        view = memoryview(data)
        while view:
            try:
                n = os.write(self._wfd, view)
            except (BrokenPipeError, OSError) as exc:
                raise ChannelClosed("host channel closed: %s" % exc)
            view = view[n:]

    def send_points(self, category, payload, input_name="", collector="",
                    precision="", version="", ignore_global_tags=False):
        """Send one JSON array of points and wait for the host's answer.

        Returns "" when the host accepted every point, else the host's
        error text. Raises ChannelClosed if the host is gone.
        """
        waiter = threading.Lock()
        waiter.acquire()
        with self._state:
            if self._closed is not None:
                raise ChannelClosed(self._closed)
            self._seq += 1
            seq = self._seq
            slot = [waiter, None]
            self._waiters[seq] = slot
        meta = _SEP.join((
            str(seq), category, _clean(input_name), _clean(collector),
            _clean(precision), _clean(version),
            "1" if ignore_global_tags else "",
        )).encode("utf-8")
        try:
            self._write(KIND_DATA, meta, payload)
        except ChannelClosed:
            with self._state:
                self._waiters.pop(seq, None)
            raise
        waiter.acquire()
        result = slot[1]
        if isinstance(result, ChannelClosed):
            raise result
        return result

    def send_json(self, kind, obj):
        """Send a record that needs no answer (a log line, a last error)."""
        payload = json.dumps(obj, ensure_ascii=False).encode(
            "utf-8", "surrogatepass")
        self._write(kind, b"", payload)

    def _read_exact(self, n):
        data = self._rfile.read(n)
        if data is None or len(data) < n:
            raise EOFError
        return data

    def _read_acks(self):
        reason = "host closed the channel"
        try:
            while True:
                kind, meta_len, payload_len = _HEADER.unpack(
                    self._read_exact(_HEADER.size))
                meta = self._read_exact(meta_len).decode("utf-8", "replace")
                payload = self._read_exact(payload_len).decode(
                    "utf-8", "replace")
                if kind != KIND_ACK:
                    continue
                seq, _, status = meta.partition(_SEP)
                with self._state:
                    slot = self._waiters.pop(int(seq), None)
                if slot is None:
                    continue
                slot[1] = "" if status == "ok" else (payload or status)
                slot[0].release()
        except (EOFError, OSError, ValueError, struct.error) as exc:
            if not isinstance(exc, EOFError):
                reason = "host channel failed: %s" % exc
        with self._state:
            self._closed = reason
            waiters, self._waiters = self._waiters, {}
        for slot in waiters.values():
            slot[1] = ChannelClosed(reason)
            slot[0].release()
