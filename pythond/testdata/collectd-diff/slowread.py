"""A read that takes longer than its interval next to a fast one: reads
run on ReadThreads threads, so the fast one keeps its schedule. Both
count their calls in value lists.
"""

import time

import collectd

CALLS = {'slow': 0, 'fast': 0}


def slow():
    CALLS['slow'] += 1
    n = CALLS['slow']
    time.sleep(2.5)
    collectd.Values(plugin='slowread', type='gauge', type_instance='slow',
                    values=[n]).dispatch()


def fast():
    CALLS['fast'] += 1
    collectd.Values(plugin='slowread', type='gauge', type_instance='fast',
                    values=[CALLS['fast']]).dispatch()


collectd.register_read(slow, name='slow')
collectd.register_read(fast, name='fast')
