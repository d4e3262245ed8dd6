# Checks that it runs as "python3 paths.py a b" would run it.
import os
import sys

import prometheus_client  # the interpreter's own
# A module beside the script, not run itself: its name starts with "_".
import _sibling

assert __name__ == "__main__", __name__
assert sys.argv == [os.path.abspath(__file__), "a", "b"], sys.argv
assert sys.path[0] == os.path.dirname(os.path.abspath(__file__)), sys.path
assert _sibling.VALUE == 42
assert prometheus_client.__file__.startswith("/usr/lib/python3/"), \
    prometheus_client.__file__
for name in ("_collectkit_channel", "_collectkit_loader", "run_prometheus"):
    try:
        __import__(name)
    except ImportError:
        continue
    raise AssertionError("runtime module %s is importable" % name)
assert "COLLECTKIT_PYTHOND_FDS" not in os.environ
print("paths ok", flush=True)
