# A batch job: it pushes once when it is done and exits.
import os
import sys
import time

from prometheus_client import CollectorRegistry, Gauge, pushadd_to_gateway

registry = CollectorRegistry()
last = Gauge("job_last_success_unixtime",
             "Last time the batch job succeeded", registry=registry)
runs = Gauge("job_runs", "Runs of this batch job", registry=registry)
last.set_to_current_time()
runs.set(1)
pushadd_to_gateway("localhost:9091", job="batch", registry=registry,
                   grouping_key={"pid": os.getpid()})
print("batch done at", time.time(), file=sys.stderr)
