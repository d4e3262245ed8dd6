"""A read that fails three times, then succeeds."""

import time

import collectd

CALLS = [0]


def read():
    CALLS[0] += 1
    collectd.info('attempt %d at %.3f' % (CALLS[0], time.monotonic()))
    if CALLS[0] == 2:
        raise collectd.CollectdError('not ready')
    if CALLS[0] <= 3:
        raise ValueError('attempt %d failed' % CALLS[0])
    collectd.Values(type='gauge', values=[CALLS[0]]).dispatch()


collectd.register_read(read, 0.5)
