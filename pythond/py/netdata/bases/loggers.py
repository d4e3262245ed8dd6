"""Loggers of python.d modules (bases.loggers).

Every service is a logger: self.debug/info/warning/error/alert(*msg)
join their arguments with spaces. A record goes to the sink the runtime
set with set_sink (the host's log), else to stderr in python.d's format:

    2026-12-01 22:31:20: python.d INFO: <module>[<job>] : <message>

PythonDLimitedLogger lets through at most 30 info, warning, error and
alert messages per 60 seconds per logger; debug messages are not
limited.
"""

import sys
import threading
import time
import traceback

LOGGING_LEVELS = {
    'CRITICAL': 50,
    'ERROR': 40,
    'WARNING': 30,
    'INFO': 20,
    'DEBUG': 10,
    'NOTSET': 0,
}

DEFAULT_LOG_LINE_FORMAT = '%(asctime)s: %(name)s %(levelname)s : %(message)s'
DEFAULT_LOG_TIME_FORMAT = '%Y-%m-%d %H:%M:%S'

PYTHON_D_LOG_LINE_FORMAT = \
    '%(asctime)s: %(name)s %(levelname)s: %(module_name)s[%(job_name)s] ' \
    ': %(message)s'
PYTHON_D_LOG_NAME = 'python.d'

_state = {'sink': None, 'level': LOGGING_LEVELS['INFO']}
_write_lock = threading.Lock()


def set_sink(sink, level='INFO'):
    """Send records to sink(level, collector, message, traceback_text),
    level a lower-case name; records below level (a name of
    LOGGING_LEVELS) are dropped. sink None means stderr."""
    _state['sink'] = sink
    _state['level'] = LOGGING_LEVELS.get(str(level).upper(),
                                         LOGGING_LEVELS['INFO'])


def _stderr_line(line):
    with _write_lock:
        try:
            sys.stderr.write(line + '\n')
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def limiter(log_max_count=30, allowed_in_seconds=60):
    """Decorator of a logging method: at most log_max_count calls per
    allowed_in_seconds per logger object."""
    def on_decorator(func):
        def on_call(*args):
            self = args[0]
            now = time.monotonic()
            state = self.__dict__.setdefault('_limiter_state', {})
            window = state.get('start')
            if window is None or now - window >= allowed_in_seconds:
                state['start'] = now
                state['count'] = 0
            if state['count'] >= log_max_count:
                return
            state['count'] += 1
            func(*args)
        return on_call
    return on_decorator


class BaseLogger(object):
    """A logger with a name; messages are joined with spaces."""

    def __init__(self, logger_name=PYTHON_D_LOG_NAME,
                 log_fmt=DEFAULT_LOG_LINE_FORMAT,
                 date_fmt=DEFAULT_LOG_TIME_FORMAT, handler=None):
        self.logger_name = logger_name
        self.log_fmt = log_fmt
        self.date_fmt = date_fmt
        self._level = None

    def __repr__(self):
        return '<Logger: {name})>'.format(name=self.logger_name)

    @property
    def severity(self):
        """The level name below which messages are dropped."""
        level = self._level if self._level is not None else _state['level']
        for name, value in LOGGING_LEVELS.items():
            if value == level:
                return name
        return 'INFO'

    @severity.setter
    def severity(self, level):
        if level in LOGGING_LEVELS:
            self._level = LOGGING_LEVELS[level]

    def _collector(self):
        return self.logger_name

    def _log(self, level, msg, with_traceback=False):
        threshold = self._level if self._level is not None \
            else _state['level']
        if LOGGING_LEVELS[level] < threshold:
            return
        message = ' '.join(str(m) for m in msg)
        tb = ''
        if with_traceback and sys.exc_info()[0] is not None:
            tb = traceback.format_exc()
        sink = _state['sink']
        if sink is not None:
            try:
                sink(level.lower(), self._collector(), message, tb)
                return
            except Exception:
                pass
        self._stderr(level, message, tb)

    def _stderr(self, level, message, tb):
        line = self.log_fmt % {
            'asctime': time.strftime(self.date_fmt),
            'name': self.logger_name,
            'levelname': level,
            'message': message,
            'module_name': '',
            'job_name': '',
        }
        if tb:
            line += '\n' + tb.rstrip('\n')
        _stderr_line(line)

    def debug(self, *msg, **kwargs):
        """Log at DEBUG."""
        self._log('DEBUG', msg)

    def info(self, *msg, **kwargs):
        """Log at INFO."""
        self._log('INFO', msg)

    def warning(self, *msg, **kwargs):
        """Log at WARNING."""
        self._log('WARNING', msg)

    def error(self, *msg, **kwargs):
        """Log at ERROR."""
        self._log('ERROR', msg, kwargs.get('traceback', False))

    def critical(self, *msg, **kwargs):
        """Log at CRITICAL."""
        self._log('CRITICAL', msg, kwargs.get('traceback', False))

    def alert(self, *msg, **kwargs):
        """Log at CRITICAL (python.d's alert)."""
        self._log('CRITICAL', msg, kwargs.get('traceback', False))

    def fatal(self, *msg, **kwargs):
        """Log at CRITICAL and exit(1)."""
        self._log('CRITICAL', msg, True)
        exit(1)


class PythonDLogger(object):
    """The logger base of services: records name "<module>[<job>]"."""

    log_traceback = False

    def __init__(self, logger_name=PYTHON_D_LOG_NAME,
                 log_fmt=PYTHON_D_LOG_LINE_FORMAT):
        self.logger = BaseLogger(logger_name, log_fmt=log_fmt)
        self.logger._collector = self._collector
        self.logger._stderr = self._stderr
        self.module_name = 'plugin'
        self.job_name = 'main'

    def _collector(self):
        return '{0}[{1}]'.format(self.module_name, self.job_name)

    def _stderr(self, level, message, tb):
        line = self.logger.log_fmt % {
            'asctime': time.strftime(self.logger.date_fmt),
            'name': self.logger.logger_name,
            'levelname': level,
            'message': message,
            'module_name': self.module_name,
            'job_name': self.job_name,
        }
        if tb:
            line += '\n' + tb.rstrip('\n')
        _stderr_line(line)

    def _trace(self):
        return self.log_traceback or PythonDLogger.log_traceback

    def debug(self, *msg):
        """Log at DEBUG."""
        self.logger._log('DEBUG', msg)

    def info(self, *msg):
        """Log at INFO."""
        self.logger._log('INFO', msg)

    def warning(self, *msg):
        """Log at WARNING."""
        self.logger._log('WARNING', msg)

    def error(self, *msg):
        """Log at ERROR, with the traceback when log_traceback is on."""
        self.logger._log('ERROR', msg, self._trace())

    def alert(self, *msg):
        """Log at CRITICAL, with the traceback when log_traceback is on."""
        self.logger._log('CRITICAL', msg, self._trace())

    def fatal(self, *msg):
        """Log at CRITICAL and exit(1)."""
        self.logger._log('CRITICAL', msg, True)
        exit(1)


class PythonDLimitedLogger(PythonDLogger):
    """PythonDLogger with at most 30 info/warning/error/alert messages per
    60 seconds."""

    @limiter()
    def info(self, *msg):
        """Log at INFO (limited)."""
        PythonDLogger.info(self, *msg)

    @limiter()
    def warning(self, *msg):
        """Log at WARNING (limited)."""
        PythonDLogger.warning(self, *msg)

    @limiter()
    def error(self, *msg):
        """Log at ERROR (limited)."""
        PythonDLogger.error(self, *msg)

    @limiter()
    def alert(self, *msg):
        """Log at CRITICAL (limited)."""
        PythonDLogger.alert(self, *msg)
