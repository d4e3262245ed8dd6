"""The benchmark's plugin: every read dispatches 1,000 value lists
through one reused Values object, three in four of type gauge (one
value), one in four of type if_octets (two derive values), then writes
the number of reads done to the ReadLog file.

    <Module ckbench>
      ReadLog "/where/reads"
    </Module>
"""

import collectd

READ_LOG = None
READS = 0
PER_READ = 1000


def configure(conf):
    global READ_LOG
    for node in conf.children:
        if node.key.lower() == 'readlog':
            READ_LOG = node.values[0]


def read():
    global READS
    READS += 1
    vl = collectd.Values(plugin='ckbench')
    for i in range(PER_READ):
        instance = 'p%02d' % (i // 100)
        if i % 4 == 3:
            vl.dispatch(type='if_octets', plugin_instance=instance,
                        type_instance='nic%03d' % i,
                        values=[READS * 1000 + i, READS * 2000 + i])
        else:
            vl.dispatch(type='gauge', plugin_instance=instance,
                        type_instance='g%03d' % i,
                        values=[READS + i / 8.0])
    if READ_LOG is not None:
        with open(READ_LOG, 'w') as f:
            f.write('%d\n' % READS)


collectd.register_config(configure)
collectd.register_read(read)
