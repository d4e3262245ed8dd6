"""DataKit's pythond log files, as collectkit writes them.

DataKit's runner writes _datakit_pythond_cli.log and its framework
_datakit_pythond_framework_<name>_.log, each through a
logging.handlers.RotatingFileHandler (100000 bytes, 10 backups). Here both
go to the directory the host names (Options.CollectorLogs.Dir) instead of
the home directory, and only when it names one.

The CLI file is shared by every input's process, as in DataKit, so the
handler takes an flock on the directory around each record and its
rotation, and reopens the file when another process has rotated it; no
record is written to a file that was renamed away.
"""

import logging
import logging.handlers
import os

try:
    import fcntl
except ImportError:  # not POSIX: one process per file is assumed
    fcntl = None

CLI_FILE = "_datakit_pythond_cli.log"
DEFAULT_MAX_BYTES = 100000
DEFAULT_BACKUPS = 10
FORMAT = "%(asctime)s %(levelname)s %(message)s"


def framework_file(name):
    """Return the name of the framework log file of input name."""
    return "_datakit_pythond_framework_" + name + "_.log"


class SharedRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler that several processes may share."""

    def __init__(self, filename, max_bytes, backups):
        logging.handlers.RotatingFileHandler.__init__(
            self, filename, maxBytes=max_bytes, backupCount=backups,
            encoding="utf-8", delay=True)
        self.setFormatter(logging.Formatter(FORMAT))
        self._dir_fd = -1
        self._open_dir()
        # A forked child (multiprocessing) shares the parent's descriptor,
        # and with it the parent's flock: it takes its own.
        if hasattr(os, "register_at_fork"):
            os.register_at_fork(after_in_child=self._open_dir)

    def _open_dir(self):
        if fcntl is None:
            return
        old, self._dir_fd = self._dir_fd, -1
        if old >= 0:
            os.close(old)
        try:
            self._dir_fd = os.open(os.path.dirname(self.baseFilename),
                                   os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            pass

    def _reopen_if_moved(self):
        if self.stream is None:
            return
        try:
            same = (os.stat(self.baseFilename).st_ino
                    == os.fstat(self.stream.fileno()).st_ino)
        except OSError:
            same = False
        if not same:
            self.stream.close()
            self.stream = None  # opened again by emit

    def emit(self, record):
        locked = False
        if self._dir_fd >= 0:
            try:
                fcntl.flock(self._dir_fd, fcntl.LOCK_EX)
                locked = True
            except OSError:
                pass
        try:
            self._reopen_if_moved()
            logging.handlers.RotatingFileHandler.emit(self, record)
            if self.stream is not None:
                self.stream.flush()
        finally:
            if locked:
                fcntl.flock(self._dir_fd, fcntl.LOCK_UN)

    def close(self):
        logging.handlers.RotatingFileHandler.close(self)
        if self._dir_fd >= 0:
            os.close(self._dir_fd)
            self._dir_fd = -1


def open_log(logger_name, directory, file_name, max_bytes, backups):
    """Give logger logger_name a handler writing directory/file_name at
    DEBUG level, and return the handler; None when directory is empty.
    Raises OSError when the file cannot be written."""
    if not directory:
        return None
    if not max_bytes or max_bytes <= 0:
        max_bytes = DEFAULT_MAX_BYTES
    if backups is None or backups <= 0:
        backups = DEFAULT_BACKUPS
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, file_name)
    # Fail now, with the reason, rather than on the first record.
    with open(path, "a", encoding="utf-8"):
        pass
    handler = SharedRotatingFileHandler(path, max_bytes, backups)
    logger = logging.getLogger(logger_name)
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    return handler
