"""Fixed-rate scheduling with run timeouts, shared by the runners."""

import sys
import threading
import time
import traceback


class Task(object):
    """One callable run on its own thread every interval seconds.

    Runs never overlap; the n-th run is due at start + n * interval, and
    ticks missed by a long run are skipped, not made up. log(level, name,
    event, message, traceback, **extra) reports what goes wrong, and the
    start and end of every run (events run_start and run_end, the latter
    with extra seconds and error), which the host keeps as the
    collector's status rather than logging them.
    """

    def __init__(self, name, interval, timeout, call, log):
        self.name = name
        self.interval = interval
        self.timeout = timeout  # seconds, or None
        self.call = call
        self.log = log
        self.started = None
        self.overran = False
        self.thread = threading.Thread(target=self.loop, name=name,
                                       daemon=True)

    def loop(self):
        next_run = time.monotonic()
        while True:
            self.overran = False
            self.log("debug", self.name, "run_start", "run() started")
            self.started = time.monotonic()
            error = ""
            try:
                self.call()
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                error = "%s: %s" % (type(exc).__name__, exc)
                self.log("error", self.name, "run",
                         "run() raised " + error, traceback.format_exc())
            took = time.monotonic() - self.started
            self.started = None
            self.log("debug", self.name, "run_end",
                     "run() ended after %.3fs" % took, "",
                     seconds=took, error=error)
            if self.overran:
                self.log("warning", self.name, "run",
                         "run() finished after %.3fs" % took)
            next_run += self.interval
            now = time.monotonic()
            if next_run <= now:
                skipped = int((now - next_run) // self.interval) + 1
                next_run += skipped * self.interval
            time.sleep(next_run - now)

    def check_timeout(self, now):
        started = self.started
        if (started is None or self.timeout is None or self.overran
                or now - started <= self.timeout):
            return
        self.overran = True
        frame = sys._current_frames().get(self.thread.ident)
        stack = "".join(traceback.format_stack(frame)) if frame else ""
        self.log("error", self.name, "timeout",
                 "run() has been running for %.3fs, over its timeout of %gs"
                 % (now - started, self.timeout), stack)


def watch(tasks):
    """Check the tasks' timeouts forever (return at once if none has)."""
    timeouts = [t.timeout for t in tasks if t.timeout]
    if not timeouts:
        return
    tick = max(0.01, min(0.2, min(timeouts) / 4))
    while True:
        time.sleep(tick)
        now = time.monotonic()
        for t in tasks:
            t.check_timeout(now)
