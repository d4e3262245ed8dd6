"""Post one logging point whose message is DataKit's largest field.

Usage: big_logging.py BASE_URL
The message is 32 MiB (DataKit's field value limit) of a repeating
pattern and the body, with a 1 MiB second field, about 33 MiB, sent with
requests' json= as DataKit's Python framework does.
"""
import sys

import requests

base = sys.argv[1]
pattern = "0123456789abcdef"
message = pattern * (32 * 1024 * 1024 // len(pattern))
pad = "p" * (1024 * 1024)
r = requests.post(base + "/v1/write/logging?input=big",
                  json=[{"measurement": "app", "tags": {"host": "h1"},
                         "fields": {"message": message, "pad": pad},
                         "time": None}],
                  timeout=120)
assert r.status_code == 200, (r.status_code, r.text[:500])
print("ok")
