# -*- coding: utf-8 -*-
# A pull example in the style of the Prometheus SDK (Python) guide: the
# metrics are served by start_http_server and set in a loop.
#
#     python3 exporter.py [PORT [PERIOD]]
import sys
import time

from prometheus_client import (start_http_server, CollectorRegistry,
                               Counter, Gauge, Histogram, Summary, Info,
                               Enum)

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080
PERIOD = float(sys.argv[2]) if len(sys.argv) > 2 else 10
HOST = "127.0.0.1"

Registry = CollectorRegistry()

# metric definitions
# counter
counter = Counter("api_called_total", "How many is the api called",
                  ["inner_ip"], registry=Registry)

# gauge
gauge = Gauge("cpu_usage", "simulate the cpu usage metric", ["inner_ip"],
              registry=Registry)

# histogram
histogram = Histogram(
    "task_time_histogram",
    "analyze the time of task with histogram",
    registry=Registry,
    buckets=(1, 2, 3, 4, 5, float("inf")),
)

# summary
summary = Summary(
    "task_time_summary", "analyze the time of task with summary",
    registry=Registry,
)

# info
info = Info("build", "the build of this exporter", registry=Registry)
info.info({"version": "1.2.3", "branch": "main"})

# enum
state = Enum("task_state", "the state of the task",
             states=["starting", "running", "stopped"], registry=Registry)


def pull_demo():
    # with a web framework, adapt this to it
    start_http_server(PORT, HOST, Registry)

    n = 0
    while True:
        n += 1
        # set the metrics as needed
        counter.labels(inner_ip="10.0.0.1").inc(1)
        gauge.labels(inner_ip="10.0.0.1").set(n * 0.25)
        histogram.observe(3)
        summary.observe(n * 10)
        state.state("running")
        print("ready", n, flush=True)
        time.sleep(PERIOD)


pull_demo()
