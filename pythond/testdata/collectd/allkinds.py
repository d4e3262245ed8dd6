"""Registers one callback of every kind and logs what each one gets."""

import json

import collectd

STATE = {'reads': 0}


def tree(node):
    return {'key': node.key, 'values': list(node.values),
            'types': [type(v).__name__ for v in node.values],
            'children': [tree(c) for c in node.children],
            'parent_ok': all(c.parent is node for c in node.children)}


def configure(conf, data):
    collectd.info('config ' + json.dumps({
        'tree': tree(conf), 'root_parent': conf.parent is None,
        'data': data}))
    collectd.register_read(read_fast, 0.5, {'k': 'v'}, 'fast')


def init():
    collectd.info('init')
    collectd.Notification(type='gauge', message='hello',
                          severity=collectd.NOTIF_WARNING).dispatch()
    collectd.register_read(read_from_init, name='from_init')


def read_from_init():
    collectd.Values(type='gauge', plugin='from_init', values=[1]).dispatch()
    collectd.unregister_read(read_from_init)


def read_fast(data):
    STATE['reads'] += 1
    vl = collectd.Values(type='if_octets', plugin='allkinds')
    vl.plugin_instance = 'eth0'
    vl.dispatch(values=[STATE['reads'], 7.9], meta={'data': data['k'],
                                                    'n': 5, 'f': 1.5,
                                                    'b': True,
                                                    'u': collectd.Unsigned(7),
                                                    'l': [1]})
    if STATE['reads'] == 2:
        collectd.flush()
        collectd.flush('python.named_flush', 5, 'some/id')


def read_default():
    collectd.Values(type='gauge', values=[1.5]).dispatch(
        type_instance='default')
    if not STATE.get('late'):
        STATE['late'] = True
        collectd.register_read(read_late, name='late')


def read_late():
    collectd.Values(type='gauge', plugin='late', values=[1]).dispatch()
    collectd.unregister_read('python.late')


def write(vl, data):
    collectd.info('write ' + json.dumps({
        'host': vl.host, 'plugin': vl.plugin,
        'plugin_instance': vl.plugin_instance, 'type': vl.type,
        'type_instance': vl.type_instance, 'time': vl.time,
        'interval': vl.interval, 'values': list(vl.values),
        'value_types': [type(v).__name__ for v in vl.values],
        'meta': {k: [repr(v), type(v).__name__]
                 for k, v in sorted(vl.meta.items())},
        'data': data}))


def flush_all(timeout, identifier):
    collectd.info('flush all %r %r' % (timeout, identifier))


def flush_named(timeout, identifier, data):
    collectd.info('flush named %r %r %r' % (timeout, identifier, data))


def log_cb(severity, message):
    # Logging from a log callback reaches the log, not the callbacks.
    if message.startswith('init'):
        collectd.info('log callback saw %d %s' % (severity, message))


def bad_log(severity, message):
    raise RuntimeError('log callback fails')


def notification(n):
    collectd.info('notification %r' % (n,))


def shutdown():
    collectd.info('shutdown')


print('allkinds prints to stdout')
# Before init: kept, and sent once init has run.
collectd.Values(type='gauge', plugin='early', values=[3]).dispatch()
collectd.register_config(configure, 'cfgdata')
collectd.register_init(init)
collectd.register_read(read_default)
collectd.register_write(write, None, 'w')
collectd.register_flush(flush_all)
collectd.register_flush(flush_named, 'fd', 'named_flush')
collectd.register_log(log_cb)
collectd.register_log(bad_log, name='bad_log')
collectd.register_notification(notification)
collectd.register_shutdown(shutdown)
