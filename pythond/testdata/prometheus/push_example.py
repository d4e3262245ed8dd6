# -*- coding: utf-8 -*-
# A push example in the style of the Prometheus SDK (Python) guide: a
# registry pushed to a gateway with a handler that adds a token header.
#
#     python3 push_example.py [ADDR [PERIOD [COUNT]]]
import random
import sys
import time

from prometheus_client.exposition import default_handler
from prometheus_client import (CollectorRegistry, Counter, Gauge, Summary,
                               Histogram, push_to_gateway)

# What to change
JOBNAME = "bk_push_job"
TOKEN = "bk-secret-token"
# host:port
ADDR = sys.argv[1] if len(sys.argv) > 1 else "pushgateway.invalid:9091"
PERIOD = float(sys.argv[2]) if len(sys.argv) > 2 else 10
COUNT = int(sys.argv[3]) if len(sys.argv) > 3 else 0  # 0: forever

Registry = CollectorRegistry()

# metric definitions
# counter
counter = Counter("api_called_total", "How many is the api called",
                  registry=Registry)

# gauge
gauge = Gauge("cpu_usage", "simulate the cpu usage metric", registry=Registry)

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


# a push handler that sends the monitoring token
def bk_handler(url, method, timeout, headers, data):
    def handle():
        headers.append(("X-BK-TOKEN", TOKEN))
        print(headers)
        default_handler(url, method, timeout, headers, data)()

    return handle


# push to the endpoint
def push_demo():
    n = 0
    while True:
        n += 1
        # set the metrics as needed
        counter.inc(1)
        gauge.set(random.random() if COUNT == 0 else 0.5)
        histogram.observe(3)
        summary.observe(random.randint(1, 100) if COUNT == 0 else 42)

        push_to_gateway(
            ADDR,
            job=JOBNAME,
            registry=Registry,
            grouping_key={"instance": "my.host.ip"},
            handler=bk_handler,
        )
        if COUNT and n >= COUNT:
            return
        time.sleep(PERIOD)


push_demo()
