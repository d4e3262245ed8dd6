"""Its config callback raises; its read still runs."""

import collectd


def configure(conf):
    raise KeyError('no such option: %s' % conf.children[0].key)


def read():
    collectd.Values(type='gauge', values=[2]).dispatch(plugin='config_raises')


collectd.register_config(configure)
collectd.register_read(read, 0.5)
