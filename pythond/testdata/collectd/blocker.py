"""One read blocks for seconds, another keeps its schedule."""

import threading

import collectd

RELEASE = threading.Event()


def slow():
    collectd.info('slow read starts')
    RELEASE.wait(3)
    collectd.info('slow read ends')


def steady():
    collectd.Values(type='gauge', plugin='blocker',
                    type_instance='steady').dispatch(values=[1])


collectd.register_read(slow, 0.5, name='slow')
collectd.register_read(steady, 0.5, name='steady')
