"""Dispatches 1,000 value lists per read, reusing one Values."""

import collectd


def read():
    vl = collectd.Values(type='gauge', plugin='bench1k')
    for i in range(1000):
        vl.dispatch(type_instance='t%d' % i, values=[i])


collectd.register_read(read, 0.05)
