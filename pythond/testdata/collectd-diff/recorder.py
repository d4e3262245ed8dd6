"""Write and notification callbacks that record, as JSON lines, every value
list and notification the daemon hands them: each field, the values with
their Python types, and the meta data with the type of each value.

    <Module recorder>
      Path "/where/records.jsonl"
    </Module>
"""

import json
import threading
import time

import collectd

PATH = None
LOCK = threading.Lock()


def configure(conf):
    global PATH
    for node in conf.children:
        if node.key.lower() == 'path':
            PATH = node.values[0]
        else:
            collectd.warning('recorder: unknown option %s' % node.key)


def _meta(meta):
    out = {}
    for key, value in sorted(meta.items()):
        if not isinstance(value, (bool, int, float, str)):
            value = repr(value)
        out[key] = [type(value).__name__, value]
    return out


def _append(record):
    if PATH is None:
        return
    record['seen'] = time.time()
    line = json.dumps(record, sort_keys=True) + '\n'
    with LOCK:
        with open(PATH, 'a') as f:
            f.write(line)


def write(vl):
    _append({
        'kind': 'values',
        'host': vl.host,
        'plugin': vl.plugin,
        'plugin_instance': vl.plugin_instance,
        'type': vl.type,
        'type_instance': vl.type_instance,
        'time': vl.time,
        'interval': vl.interval,
        'values': list(vl.values),
        'value_types': [type(v).__name__ for v in vl.values],
        'meta': _meta(vl.meta),
    })


def notify(n):
    _append({
        'kind': 'notification',
        'host': n.host,
        'plugin': n.plugin,
        'plugin_instance': n.plugin_instance,
        'type': n.type,
        'type_instance': n.type_instance,
        'time': n.time,
        'severity': n.severity,
        'message': n.message,
        'meta': _meta(n.meta),
    })


collectd.register_config(configure)
collectd.register_write(write)
collectd.register_notification(notify)
