"""Print one registry of every prometheus_client metric type.

Usage: python_client.py text|openmetrics

The registry holds a Counter (with an exemplar), a Gauge with a unit, a
Histogram, a Summary, an Info, an Enum, a gauge histogram from a custom
collector, and label values with quotes, backslashes and newlines.
Timestamps and values are fixed, except the _created samples, which
prometheus_client sets to the time each metric was made.
"""

import sys

from prometheus_client import (CollectorRegistry, Counter, Enum, Gauge,
                               Histogram, Info, Summary, generate_latest)
from prometheus_client.core import (GaugeHistogramMetricFamily,
                                    GaugeMetricFamily)
from prometheus_client.openmetrics.exposition import \
    generate_latest as generate_openmetrics


class QueueCollector:
    """A custom collector with a gauge histogram and a timestamped gauge."""

    def collect(self):
        g = GaugeHistogramMetricFamily(
            'queue_wait', 'Time items wait in the queue.', labels=['queue'])
        g.add_metric(['mail'], [('0.5', 3.0), ('+Inf', 5.0)], 12.5)
        yield g
        t = GaugeMetricFamily('last_run', 'When the job last ran.',
                              labels=['job'])
        t.add_metric(['nightly'], 1.0, timestamp=1717243200.5)
        yield t


def main():
    fmt = sys.argv[1] if len(sys.argv) > 1 else 'text'
    reg = CollectorRegistry()
    c = Counter('http_requests', 'Requests served.', ['method', 'path'],
                registry=reg)
    c.labels('GET', '/').inc(7)
    c.labels('POST', 'a "quoted" \\ path\nwith a newline').inc(2,
                                                            {'trace_id': 'abc'})
    g = Gauge('temperature', 'Room temperature.', ['room'], unit='celsius',
              registry=reg)
    g.labels('lab').set(21.5)
    g.labels('cold').set(float('-inf'))
    Gauge('not_a_number', 'Always NaN.', registry=reg).set(float('nan'))
    h = Histogram('task_seconds', 'Task durations.', ['kind'],
                  buckets=[0.1, 1.0, 10.0], registry=reg)
    for v in (0.05, 0.5, 5.0, 50.0):
        h.labels('batch').observe(v)
    s = Summary('payload_bytes', 'Payload sizes.', registry=reg)
    s.observe(100)
    s.observe(300)
    i = Info('build', 'Build information.', registry=reg)
    i.info({'version': '1.2.3', 'revision': 'abc123'})
    e = Enum('task_state', 'Task state.', states=['starting', 'running',
                                                   'stopped'], registry=reg)
    e.state('running')
    reg.register(QueueCollector())
    out = generate_openmetrics(reg) if fmt == 'openmetrics' else \
        generate_latest(reg)
    sys.stdout.buffer.write(out)


if __name__ == '__main__':
    main()
