"""A log callback that appends "<severity> <message>" lines to its File,
next to a read that logs at each level and fails every other call.

    <Module logsink>
      File "/where/log.txt"
    </Module>
"""

import threading

import collectd

FILE = None
LOCK = threading.Lock()
READS = 0


def configure(conf):
    global FILE
    for node in conf.children:
        if node.key.lower() == 'file':
            FILE = node.values[0]


def log(severity, message):
    if FILE is None:
        return
    with LOCK:
        with open(FILE, 'a') as f:
            f.write('%d %s\n' % (severity, message))


def read():
    global READS
    READS += 1
    collectd.debug('logsink: debug %d' % READS)
    collectd.info('logsink: info %d' % READS)
    collectd.notice('logsink: notice %d' % READS)
    collectd.warning('logsink: warning %d' % READS)
    collectd.error('logsink: error %d' % READS)
    if READS % 2 == 0:
        raise KeyError('logsink %d' % READS)


collectd.register_config(configure)
collectd.register_log(log)
collectd.register_read(read)
