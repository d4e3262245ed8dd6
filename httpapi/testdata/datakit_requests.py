"""Post DataKit JSON the way DataKit's Python framework does.

Usage: datakit_requests.py BASE_URL
It sends requests.post(url, json=[...]): Content-Type application/json,
json.dumps spacing and "time": null when unset. requests refuses NaN with
json= (it calls json.dumps with allow_nan=False), so NaN and Infinity
tokens are sent the way a script that serialises itself does:
data=json.dumps(...) with the JSON content type.
"""
import json
import sys

import requests

base = sys.argv[1]
points = [
    {
        "measurement": "py_metric",
        "tags": {"host": "h1"},
        "fields": {"load": 1.5, "count": 2, "ok": True},
        "time": None,
    },
    {
        "measurement": "py_metric",
        "tags": {"host": "h2"},
        "fields": {"load": 0.5},
        "time": 1717243200,
    },
]
r = requests.post(base + "/v1/write/metric?input=demo&precision=s",
                  json=points)
assert r.status_code == 200, (r.status_code, r.text)
assert r.text == "", r.text
assert r.headers["X-DataKit"] == "1.2.3-test"

try:
    requests.post(base + "/v1/write/metric",
                  json=[{"measurement": "m", "fields": {"x": float("nan")}}])
    raise SystemExit("requests sent NaN with json=")
except requests.exceptions.InvalidJSONError:
    pass

nonfinite = [{"measurement": "py_nan", "tags": {"host": "h3"},
              "fields": {"nan": float("nan"), "inf": float("inf"),
                         "ninf": float("-inf"), "v": 1},
              "time": None}]
r = requests.post(base + "/v1/write/metric?input=demo",
                  data=json.dumps(nonfinite),
                  headers={"Content-Type": "application/json"})
assert r.status_code == 200, (r.status_code, r.text)

logs = [{"measurement": "app", "tags": {"f.ile": "a.log"},
         "fields": {"message": "hello \u00e9\U0001F600", "status": "error"},
         "time": None}]
r = requests.post(base + "/v1/write/logging?input=demo", json=logs)
assert r.status_code == 200, (r.status_code, r.text)

bad = [{"measurement": "m", "tags": {"t": 1}, "fields": {"a": 1}}]
r = requests.post(base + "/v1/write/metric", json=bad)
assert r.status_code == 400, r.status_code
assert r.json()["error_code"] == "datakit.invalidJsonPoint", r.text

r = requests.post(base + "/v1/lasterror",
                  json={"input": "demo", "source": "py",
                        "err_content": "boom"})
assert r.status_code == 200, (r.status_code, r.text)
print("ok")
