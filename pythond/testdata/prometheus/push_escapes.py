# Pushes whose job and grouping key need escaping, each way the client
# pushes: push_to_gateway (PUT), pushadd_to_gateway (POST) and
# delete_from_gateway (DELETE).
#
#     python3 push_escapes.py [ADDR]
import sys

from prometheus_client import (CollectorRegistry, Gauge, delete_from_gateway,
                               pushadd_to_gateway, push_to_gateway)

ADDR = sys.argv[1] if len(sys.argv) > 1 else "pushgateway.invalid:9091"

registry = CollectorRegistry()
g = Gauge("queue_depth", "Items waiting", ["instance", "queue"],
          registry=registry)
g.labels(instance="from-body", queue="a b").set(7)
plain = Gauge("plain", "No labels", registry=registry)
plain.set(1.5)

push_to_gateway(ADDR, job="batch/x", registry=registry,
                grouping_key={"instance": "host 1", "empty": "",
                              "path": "/var/lib", "z": 1})
pushadd_to_gateway("http://" + ADDR + "/", job="ünïcode job",
                   registry=registry)
delete_from_gateway(ADDR, job="batch/x", grouping_key={"instance": "host 1"})
