# A program that fails at once.
from prometheus_client import Counter

Counter("never_total", "Never collected")
raise RuntimeError("exporter could not connect to its database")
