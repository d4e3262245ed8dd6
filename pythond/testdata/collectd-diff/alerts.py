"""Notifications: a disk filling up turns from okay to warning to failure
and back, and one value list per read so the reads can be counted. The
read runs every 1.5 s, which the value lists' interval shows. Meta data
of every kind is attached, which write and notification callbacks see.
"""

import collectd

READS = 0
SEVERITIES = [collectd.NOTIF_OKAY, collectd.NOTIF_WARNING,
              collectd.NOTIF_FAILURE]


def read():
    global READS
    READS += 1
    severity = SEVERITIES[READS % 3]
    n = collectd.Notification(plugin='alerts', type='percent',
                              type_instance='disk')
    n.severity = severity
    n.plugin_instance = 'sda%d' % (READS % 2)
    n.message = 'disk %d%% full' % (80 + READS)
    n.meta = {'reads': READS, 'ratio': READS / 4.0}
    n.dispatch()
    collectd.Notification(type='gauge', message='read %d' % READS,
                          severity=collectd.NOTIF_OKAY).dispatch()
    collectd.Values(plugin='alerts', type='percent', type_instance='disk',
                    values=[80 + READS],
                    meta={'f': 1.5, 'u': collectd.Unsigned(7),
                          's': collectd.Signed(-3), 'b': False,
                          'big': 2 ** 63, 'list': [1, 2], 1: 'not a str key',
                          'none': None}).dispatch()


collectd.register_read(read, 1.5)
