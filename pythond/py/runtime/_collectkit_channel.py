"""Private data channel between collectors and the collectkit host.

The host starts the interpreter with two inherited pipes and names their
file descriptors in COLLECTKIT_PYTHOND_FDS ("<write fd>,<read fd>").
Collectors write frames to the first and read acknowledgements from the
second, so nothing a script prints can corrupt the data.

Frames (a kind, a meta and a payload), their kinds and the payload of a
report are specified in FORMAT.md of the Go package that reads them
(pythond/internal/wire); this module writes them. A report waits for the
host's answer, so a slow host slows the collectors down instead of
losing data; frames of other kinds (send_json, send_frame) need none.

Processes forked by a collector (multiprocessing.Pool workers) inherit the
pipes, so every exchange (a report's frames and its answer, or one record)
holds a lock across processes: a threading.Lock within the process and,
once the process has forked or is a forked child, flock on the lock file
the host names in COLLECTKIT_PYTHOND_LOCK, which a forked child reopens
(os.register_at_fork) so that its flock is its own.
Answers are read unbuffered, exactly one at a time, so no process reads
another's; sequence numbers are "<pid>.<n>".
"""

import json
import os
import struct
import threading

try:
    import fcntl
except ImportError:  # not POSIX: threads only
    fcntl = None

FDS_ENV = "COLLECTKIT_PYTHOND_FDS"
LOCK_ENV = "COLLECTKIT_PYTHOND_LOCK"

_HEADER = struct.Struct(">BHI")
_SEP = "\x1f"
_SMALL = 64 * 1024
# Reports are sent in chunks of 128, 256, ... up to 8192 points, so that
# the host decodes one chunk while the next is being encoded.
_FIRST_CHUNK = 128
_MAX_CHUNK = 8192

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

    It is safe for use by several threads and by processes forked from
    the one that created it. An exchange holds the channel's lock from
    writing its first frame to reading its answer, so answers need no
    dispatching and frames are never interleaved.
    """

    # For framework modules, which get the channel from their runner and
    # do not import this module themselves.
    Closed = ChannelClosed
    KIND_DATA = KIND_DATA
    KIND_LOG = KIND_LOG
    KIND_LASTERROR = KIND_LASTERROR

    def __init__(self, write_fd, read_fd, lock_path=""):
        self._wfd = write_fd
        self._rfd = read_fd
        self._lock_path = lock_path
        self._lock_fd = -1
        self._open_lock()
        self._tlock = threading.Lock()
        # True once this process has forked or is a forked child: only
        # then can another process share the pipes, and exchanges flock.
        self._shared = False
        self._seq = 0
        self._pid = os.getpid()
        self._closed = None
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(before=self._before_fork,
                                after_in_child=self._after_fork)

    def _open_lock(self):
        if fcntl is None or not self._lock_path:
            return
        try:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CLOEXEC)
        except OSError:
            fd = -1
        old, self._lock_fd = self._lock_fd, fd
        if old >= 0:
            os.close(old)

    def _before_fork(self):
        # Let an exchange that did not flock finish; every later one does.
        with self._tlock:
            self._shared = True

    def _after_fork(self):
        # The parent's threads are gone: their lock state goes with them.
        self._tlock = threading.Lock()
        self._shared = True
        self._pid = os.getpid()
        self._seq = 0
        self._open_lock()

    def _acquire(self):
        """Take the lock of an exchange; return whether it flocked."""
        self._tlock.acquire()
        if not self._shared or self._lock_fd < 0:
            return False
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
        except BaseException:
            self._tlock.release()
            raise
        return True

    def _release(self, flocked):
        if flocked:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            except OSError:
                pass
        self._tlock.release()

    @classmethod
    def from_env(cls, environ):
        """Return the channel named in environ, or None outside a host.

        The variable is removed so that programs the collectors start do
        not try to use descriptors they do not have.
        """
        value = environ.pop(FDS_ENV, "")
        lock_path = environ.pop(LOCK_ENV, "")
        if not value:
            return None
        write_fd, read_fd = (int(v) for v in value.split(","))
        os.set_inheritable(write_fd, False)
        os.set_inheritable(read_fd, False)
        return cls(write_fd, read_fd, lock_path)

    def _write(self, kind, meta, payload):
        header = _HEADER.pack(kind, len(meta), len(payload))
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
                self._closed = "host channel closed: %s" % exc
                raise ChannelClosed(self._closed)
            view = view[n:]

    def send_points(self, category, points, encode, input_name="",
                    collector="", precision="", version="",
                    ignore_global_tags=False):
        """Send a list of points and wait for the host's answer.

        A long list goes in chunks of growing size, each encoded with
        encode(list) -> bytes while the host decodes the previous one; the
        host writes the points only when the last chunk has arrived, all or
        nothing. Returns "" when the host accepted every point, else the
        host's error text. Raises ChannelClosed if the host is gone, and
        what encode raises (after telling the host to drop the report).
        """
        flocked = self._acquire()
        try:
            if self._closed is not None:
                raise ChannelClosed(self._closed)
            self._seq += 1
            seq = "%d.%d" % (self._pid, self._seq)
            head = _SEP.join((
                seq, category, _clean(input_name), _clean(collector),
                _clean(precision), _clean(version),
                "1" if ignore_global_tags else "",
            ))
            total = len(points)
            start, size = 0, _FIRST_CHUNK
            failure = None
            while True:
                part = points if total <= size and not start else \
                    points[start:start + size]
                start += len(part)
                more = start < total
                try:
                    payload = encode(part)
                except Exception as exc:
                    failure, payload, more = exc, b"", False
                flag = "1" if more else ("abort" if failure else "")
                self._write(KIND_DATA, (head + _SEP + flag).encode("utf-8"),
                            payload)
                if not more:
                    break
                size = min(size * 2, _MAX_CHUNK)
            result = self._read_ack(seq)
        finally:
            self._release(flocked)
        if failure is not None:
            raise failure
        return result

    def _read_ack(self, seq):
        try:
            while True:
                kind, meta_len, payload_len = _HEADER.unpack(
                    self._read_exact(_HEADER.size))
                rest = self._read_exact(meta_len + payload_len)
                meta = rest[:meta_len].decode("utf-8")
                text = rest[meta_len:].decode("utf-8", "replace")
                ack_seq, _, status = meta.partition(_SEP)
                if kind == KIND_ACK and ack_seq == seq:
                    return "" if status == "ok" else (text or status)
        except (EOFError, OSError, ValueError, struct.error) as exc:
            self._closed = "host channel closed: %s" % (
                exc if not isinstance(exc, EOFError) else "end of stream")
            raise ChannelClosed(self._closed)

    def send_json(self, kind, obj):
        """Send a record that needs no answer (a log line, a last error)."""
        payload = json.dumps(obj, ensure_ascii=False).encode(
            "utf-8", "surrogatepass")
        flocked = self._acquire()
        try:
            self._write(kind, b"", payload)
        finally:
            self._release(flocked)

    def send_frame(self, kind, meta, payload):
        """Send one frame that needs no answer: kind is one byte (b"P") or
        its code, meta and payload are bytes. Raises ChannelClosed if the
        host is gone."""
        if isinstance(kind, (bytes, bytearray)):
            if len(kind) != 1:
                raise ValueError("frame kind must be one byte, not %r"
                                 % (kind,))
            kind = kind[0]
        if kind in (KIND_DATA, KIND_ACK):
            raise ValueError("frame kind %r is reserved" % chr(kind))
        if len(meta) > 0xFFFF:
            raise ValueError("frame meta of %d bytes is over 65535"
                             % len(meta))
        if len(payload) > 0xFFFFFFFF:
            raise ValueError("frame payload of %d bytes is over 4 GiB"
                             % len(payload))
        flocked = self._acquire()
        try:
            if self._closed is not None:
                raise ChannelClosed(self._closed)
            self._write(kind, bytes(meta), bytes(payload))
        finally:
            self._release(flocked)

    def _read_exact(self, n):
        """Read exactly n bytes from the answer pipe, unbuffered, so that
        nothing past this answer is taken from the pipe."""
        if n == 0:
            return b""
        chunks = []
        while n > 0:
            data = os.read(self._rfd, n)
            if not data:
                raise EOFError
            chunks.append(data)
            n -= len(data)
        return b"".join(chunks)
