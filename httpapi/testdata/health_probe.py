"""Probe /health, /ready and /ping as load balancers and clients do.

Usage: health_probe.py BASE_URL TOKEN
/health is InfluxDB 2's health check and needs no token; /ready needs the
token. The test flips readiness between the two /ready calls: the first
answers 200, the second 503 with the reason. The influxdb client's ping()
is its probe of /ping.
"""
import sys

import influxdb
import requests

base, token = sys.argv[1], sys.argv[2]

r = requests.get(base + "/health", timeout=10)
assert r.status_code == 200, (r.status_code, r.text)
assert r.headers["Content-Type"] == "application/json", r.headers
assert r.json() == {
    "name": "collectkit",
    "message": "ready for queries and writes",
    "status": "pass",
    "checks": [],
    "version": "1.2.3-test",
    "commit": "",
}, r.json()

r = requests.get(base + "/ready", timeout=10)
assert r.status_code == 403, (r.status_code, r.text)

r = requests.get(base + "/ready", headers={"X-Token": token}, timeout=10)
assert r.status_code == 200, (r.status_code, r.text)
body = r.json()
assert body["status"] == "ready", body
assert "message" not in body, body
assert body["up"], body

r = requests.get(base + "/ready", headers={"X-Token": token}, timeout=10)
assert r.status_code == 503, (r.status_code, r.text)
assert r.json()["status"] == "not ready", r.text
assert r.json()["message"] == "forward buffer full", r.text

host, port = base[len("http://"):].rsplit(":", 1)
client = influxdb.InfluxDBClient(host=host, port=int(port), timeout=10)
assert client.ping() == "1.2.3-test", client.ping()
print("ok")
