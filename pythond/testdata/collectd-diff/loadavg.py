"""The load average from a data file next to this module (three numbers,
comma separated), as the multi-value type load. It registers a config, an
init and a read callback; the config callback is never called without a
Module block, which the gauge "configured" shows.
"""

import os

import collectd

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    'loadavg_data.txt')
CONFIGURED = 0
READS = 0


def configer(conf):
    global CONFIGURED
    CONFIGURED = 1
    collectd.info('loadavg: config called')


def initer():
    collectd.info('loadavg: init called')


def reader():
    global READS
    READS += 1
    with open(DATA) as f:
        short, mid, long_ = (float(x) for x in f.read().strip().split(','))
    vl = collectd.Values(type='load')
    vl.plugin = 'loadavg'
    vl.dispatch(values=[short * READS, mid, long_])
    collectd.Values(plugin='loadavg', type='gauge',
                    type_instance='configured').dispatch(values=[CONFIGURED])
    collectd.info('loadavg: reader called')


collectd.register_config(configer)
collectd.register_init(initer)
collectd.register_read(reader)
