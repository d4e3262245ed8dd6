# Serves a registry, sets it, and ends before any interval: the last
# collection, made when it ends, still has its value.
from prometheus_client import CollectorRegistry, Gauge, start_http_server

registry = CollectorRegistry()
start_http_server(9, "127.0.0.1", registry)
Gauge("final_value", "Set just before the end", registry=registry).set(9)
