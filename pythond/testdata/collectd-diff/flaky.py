"""Two read callbacks that fail: "always" raises at every call, "twice"
raises at its first two calls and then dispatches. Each call is appended
to the CallLog file as "<name> <time>", so the schedule can be checked.

    <Module flaky>
      CallLog "/where/calls.log"
    </Module>
"""

import time

import collectd

CALL_LOG = None
CALLS = {'always': 0, 'twice': 0}


def configure(conf):
    global CALL_LOG
    for node in conf.children:
        if node.key.lower() == 'calllog':
            CALL_LOG = node.values[0]


def _called(name):
    CALLS[name] += 1
    if CALL_LOG is not None:
        with open(CALL_LOG, 'a') as f:
            f.write('%s %.6f\n' % (name, time.time()))
    return CALLS[name]


def always():
    n = _called('always')
    raise ValueError('sensor %d unreachable' % n)


def twice():
    n = _called('twice')
    if n <= 2:
        raise collectd.CollectdError('not ready (%d)' % n)
    collectd.Values(plugin='flaky', type='gauge', type_instance='twice',
                    values=[n]).dispatch()


collectd.register_config(configure)
collectd.register_read(always, name='always')
collectd.register_read(twice, name='twice')
