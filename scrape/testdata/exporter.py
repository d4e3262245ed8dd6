"""A prometheus_client exporter with one metric of every kind.

Usage: exporter.py PORT

It serves its registry with start_http_server on 127.0.0.1:PORT, prints
"ready" once it listens, and exits when its standard input is closed.
Every value is fixed; only the _created samples depend on the time.
"""

import sys

from prometheus_client import (CollectorRegistry, Counter, Enum, Gauge,
                               Histogram, Info, Summary, start_http_server)


def main():
    port = int(sys.argv[1])
    reg = CollectorRegistry()
    c = Counter('api_called', 'How many times the api was called.',
                ['endpoint'], registry=reg)
    c.labels('/users').inc(3)
    c.labels('/orders').inc()
    g = Gauge('cpu_usage', 'Simulated CPU usage.', registry=reg)
    g.set(0.25)
    h = Histogram('task_time_histogram', 'Task time.', registry=reg,
                  buckets=(1, 2, 3, 4, 5, float('inf')))
    h.observe(3)
    h.observe(4.5)
    s = Summary('task_time_summary', 'Task time.', registry=reg)
    s.observe(10)
    s.observe(32)
    i = Info('exporter', 'Exporter build.', registry=reg)
    i.info({'version': '1.0', 'lang': 'python'})
    e = Enum('task_state', 'Task state.', states=['idle', 'running'],
             registry=reg)
    e.state('running')
    start_http_server(port, '127.0.0.1', reg)
    print('ready', flush=True)
    sys.stdin.read()


if __name__ == '__main__':
    main()
