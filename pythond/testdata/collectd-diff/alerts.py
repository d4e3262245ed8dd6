"""Notifications: a disk filling up turns from okay to warning to failure
and back, and one value list per read so the reads can be counted. The
read runs every 1.5 s, which the value lists' interval shows.
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
    n.dispatch()
    collectd.Notification(type='gauge', message='read %d' % READS,
                          severity=collectd.NOTIF_OKAY).dispatch()
    collectd.Values(plugin='alerts', type='percent', type_instance='disk',
                    values=[80 + READS]).dispatch()


collectd.register_read(read, 1.5)
