# make_wsgi_app, start_wsgi_server and write_to_textfile, each with a
# registry of its own.
#
#     python3 wsgi_textfile.py PORT TEXTFILE
import sys
import time

from prometheus_client import (CollectorRegistry, Gauge, make_wsgi_app,
                               start_wsgi_server, write_to_textfile)

app_registry = CollectorRegistry()
Gauge("app_gauge", "Served by a WSGI app", registry=app_registry).set(1)
app = make_wsgi_app(app_registry)

server_registry = CollectorRegistry()
Gauge("server_gauge", "Served by start_wsgi_server",
      registry=server_registry).set(2)
start_wsgi_server(int(sys.argv[1]), "127.0.0.1", server_registry)

file_registry = CollectorRegistry()
Gauge("file_gauge", "Written to a textfile", registry=file_registry).set(3)
write_to_textfile(sys.argv[2], file_registry)

while True:
    time.sleep(1)
