"""Reads a temperature in millidegrees Celsius from a sysfs-style file.

    <Module thermal>
      Path "/sys/class/thermal/thermal_zone0/temp"
    </Module>
"""

import collectd

PATH = '/sys/class/thermal/thermal_zone0/temp'


def configure(conf):
    global PATH
    for node in conf.children:
        if node.key.lower() == 'path':
            PATH = node.values[0]
        else:
            collectd.warning('thermal: unknown option %s' % node.key)


def read():
    with open(PATH) as f:
        milli = int(f.read().strip())
    vl = collectd.Values(type='temperature')
    vl.plugin = 'thermal'
    vl.dispatch(values=[milli / 1000.0])


collectd.register_config(configure)
collectd.register_read(read)
