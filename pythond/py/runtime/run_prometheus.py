"""collectkit's runner for prometheus_client programs.

    python3 run_prometheus.py --name INPUT --script FILE
                              [--interval SECONDS] [--no-serve]
                              [--framework-dir DIR] [-- ARG...]

Runs one program, FILE, as __main__ (runpy.run_path) with sys.argv =
[FILE, ARG...] and the program's own dir first on sys.path, as
"python3 FILE ARG..." would, after installing the hooks of
../prometheus/_collectkit_prometheus.py into prometheus_client: the
registries the program serves are collected every SECONDS (X frames),
its pushes go to the host (U frames), and with --no-serve
start_http_server binds no port. Only the framework's folder
(../prometheus, or --framework-dir) is added to sys.path; the runtime's
own modules are not importable by the program, and prometheus_client is
the interpreter's own.

Exit status: the program's (0 when it returns, SystemExit's code, 1
after an uncaught exception, whose traceback is printed on stderr and
sent as an error log record). When the program ends by returning or
with SystemExit, its registries are collected once more first.
"""

import argparse
import os
import runpy
import sys
import traceback

import _collectkit_channel
import _collectkit_loader

DEFAULT_INTERVAL = 15.0
_RUNTIME_MODULES = ("_collectkit_channel", "_collectkit_loader",
                    "run_prometheus")


class Log(object):
    """Log records to the host, or to stderr without a channel."""

    def __init__(self, channel, script):
        self.channel = channel
        self.script = script

    def __call__(self, level, event, message, tb=""):
        if self.channel is None:
            print("%s %s: %s" % (level.upper(), self.script, message),
                  file=sys.stderr, flush=True)
            if tb:
                print(tb, file=sys.stderr, end="", flush=True)
            return
        try:
            self.channel.send_json(_collectkit_channel.KIND_LOG, {
                "level": level, "collector": self.script, "event": event,
                "message": message, "traceback": tb})
        except _collectkit_channel.ChannelClosed:
            pass


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(prog="run_prometheus")
    parser.add_argument("--name", required=True)
    parser.add_argument("--script", required=True)
    parser.add_argument("--interval", type=float, default=DEFAULT_INTERVAL)
    parser.add_argument("--no-serve", action="store_true")
    parser.add_argument("--framework-dir",
                        default=os.path.join(os.path.dirname(here),
                                             "prometheus"))
    parser.add_argument("args", nargs="*")
    args = parser.parse_args(argv)
    if not args.interval > 0:
        parser.error("--interval must be a positive number of seconds")

    script = os.path.abspath(args.script)
    channel = _collectkit_channel.Channel.from_env(os.environ)
    log = Log(channel, os.path.basename(script))
    _collectkit_loader.isolate(here, os.path.abspath(args.framework_dir),
                               _RUNTIME_MODULES)
    import _collectkit_prometheus
    hooks = None
    if channel is not None:
        hooks = _collectkit_prometheus.Hooks(channel, args.interval,
                                             not args.no_serve, log)
        hooks.install()

    # As "python3 FILE": the program's dir first, the runner's gone.
    sys.path.insert(0, os.path.dirname(script))
    sys.argv = [script] + list(args.args)
    status = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exc:
        status = exc.code
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        tb = traceback.format_exc()
        print(tb, file=sys.stderr, end="", flush=True)
        log("error", "run", "%s raised %s: %s" % (
            os.path.basename(script), type(exc).__name__, exc), tb)
        if hooks is not None:
            hooks.stop(False)
        return 1
    if hooks is not None:
        try:
            hooks.stop(True)
        except _collectkit_channel.ChannelClosed:
            pass
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
