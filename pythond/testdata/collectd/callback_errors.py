"""Every kind of callback but read raises."""

import collectd


def init_warns():
    raise collectd.CollectdError('init cerr')


def init_fails():
    raise RuntimeError('init fails')


def read():
    collectd.Values(type='gauge', plugin='callback_errors',
                    values=[1]).dispatch()
    collectd.Notification(type='gauge', plugin='callback_errors',
                          message='note', severity=collectd.NOTIF_OKAY
                          ).dispatch()
    collectd.unregister_read(read)


def write(vl):
    if vl.plugin == 'callback_errors':
        raise ValueError('write fails')


def notification(n):
    raise ValueError('notification fails')


def shutdown():
    raise ValueError('shutdown fails')


collectd.register_init(init_warns)
collectd.register_init(init_fails)
collectd.register_read(read)
collectd.register_write(write)
collectd.register_notification(notification)
collectd.register_shutdown(shutdown)
