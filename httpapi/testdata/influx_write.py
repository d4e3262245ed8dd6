"""Write points through InfluxDB's /write with the influxdb client.

Usage: influx_write.py HOST PORT PASSWORD
"""
import sys

from influxdb import InfluxDBClient

host, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
client = InfluxDBClient(host=host, port=port, username="writer",
                        password=password, database="telemetry")
points = [
    {
        "measurement": "cpu_load_short",
        "tags": {"host": "server01", "region": "us-west"},
        "time": "2009-11-10T23:00:00Z",
        "fields": {"value": 0.64, "count": 3},
    },
    {
        "measurement": "disk",
        "tags": {"host": "server01"},
        "time": 1257894000123456789,
        "fields": {"free": 12345, "ok": True},
    },
    {
        "measurement": "event",
        "tags": {"host": "server01"},
        "time": "2009-11-10T23:00:01Z",
        "fields": {"msg": "disk \"sda\" full", "code": 7},
    },
]
assert client.write_points(points, retention_policy="autogen")
assert client.write_points(points[:1], time_precision="s",
                           retention_policy="autogen") is True
print("ok")
