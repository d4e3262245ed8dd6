"""Push to a Pushgateway-compatible URL with prometheus_client, as seed 003 does.

Usage: push_gateway.py ADDR TOKEN
Runs push_to_gateway (PUT), pushadd_to_gateway (POST) and delete_from_gateway
(DELETE) with a handler that adds the X-BK-TOKEN header.
"""
import sys

from prometheus_client import (CollectorRegistry, Counter, Gauge, Histogram,
                               Summary, delete_from_gateway,
                               push_to_gateway, pushadd_to_gateway)
from prometheus_client.exposition import default_handler

ADDR, TOKEN = sys.argv[1], sys.argv[2]


def bk_handler(url, method, timeout, headers, data):
    def handle():
        headers.append(("X-BK-TOKEN", TOKEN))
        default_handler(url, method, timeout, headers, data)()

    return handle


registry = CollectorRegistry()
counter = Counter("api_called_total", "How many is the api called",
                  ["inner_ip"], registry=registry)
gauge = Gauge("cpu_usage", "simulate the cpu usage metric", registry=registry)
histogram = Histogram("task_time_histogram", "task time", registry=registry,
                      buckets=(1, 2, float("inf")))
summary = Summary("task_time_summary", "task time", registry=registry)

counter.labels(inner_ip="10.0.0.1").inc(2)
gauge.set(0.25)
histogram.observe(1.5)
summary.observe(7)

push_to_gateway(ADDR, job="demo job", registry=registry,
                grouping_key={"instance": "my.host.ip", "path": "/var/lib"},
                handler=bk_handler)

registry2 = CollectorRegistry()
g2 = Gauge("queue_len", "queue length", ["instance"], registry=registry2)
g2.labels(instance="from-body").set(3)
pushadd_to_gateway(ADDR, job="batch", registry=registry2,
                   grouping_key={"instance": "gk", "empty": ""},
                   handler=bk_handler)

delete_from_gateway(ADDR, job="batch", grouping_key={"instance": "gk"},
                    handler=bk_handler)
print("ok")
