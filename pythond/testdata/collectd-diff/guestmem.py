"""Memory of a guest, from a meminfo file next to this module, with the
types of guest_types.db (a TypesDB of its own). The config callback reads a
global that only a Module block's options would define: collectd must not
call it without one.
"""

import os

import collectd

MEMINFO = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       'guest_meminfo')


def configure(conf):
    # GUEST is only defined when a Module block names it.
    collectd.info('guestmem: configured for %s' % GUEST)


def parse():
    fields = {}
    with open(MEMINFO) as f:
        for line in f:
            name, _, rest = line.partition(':')
            fields[name.strip()] = int(rest.split()[0])
    return fields


def read():
    mem = parse()
    collectd.Values(plugin='guestmem', type='guest_mem_size',
                    type_instance='memory_0',
                    values=[mem['MemTotal']]).dispatch()
    used = mem['MemTotal'] - mem['MemFree'] - mem['Cached']
    collectd.Values('guest_mem_usage', [used, mem['MemFree'], mem['Cached']],
                    '', 'memory_0', 'guestmem').dispatch()


collectd.register_config(configure)
collectd.register_read(read)
