"""Dispatches many value lists a read and records every one it sees.

The write callback appends "identifier first-value" lines to the file
named by COLLECTKIT_RECORD, so a test can check that each value list sent
over the network arrived once.
"""

import os
import threading

import collectd

RECORD = os.environ.get('COLLECTKIT_RECORD', '/dev/null')
_lock = threading.Lock()
_reads = [0]


def read():
    _reads[0] += 1
    n = _reads[0]
    for i in range(20):
        collectd.Values(plugin='netplug', plugin_instance=str(i),
                        type='if_octets').dispatch(values=[n, i])
    collectd.Values(plugin='netplug', type='absolute').dispatch(values=[n])
    collectd.Values(plugin='netplug', type='counter').dispatch(values=[n])
    collectd.Values(plugin='netplug', type='load').dispatch(
        values=[float(n), float('nan'), 2.5])
    if n % 2 == 1:
        collectd.Notification(plugin='netplug', type='gauge',
                              severity=collectd.NOTIF_FAILURE,
                              message='read %d' % n).dispatch()


def write(vl):
    if vl.plugin != 'netplug':
        return
    ident = '%s/%s' % (vl.host, vl.plugin)
    if vl.plugin_instance:
        ident += '-' + vl.plugin_instance
    ident += '/' + vl.type
    if vl.type_instance:
        ident += '-' + vl.type_instance
    with _lock:
        with open(RECORD, 'a') as f:
            f.write('%s %d\n' % (ident, int(vl.values[0])))


collectd.register_read(read, 1)
collectd.register_write(write)
