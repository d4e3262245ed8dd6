"""Threads dispatch at the same time: from init and from two reads."""

import threading

import collectd

PER_THREAD = 500


def burst(tag):
    vl = collectd.Values(type='derive', plugin='threads')
    for i in range(PER_THREAD):
        vl.dispatch(type_instance=tag, values=[i])


def init():
    for n in range(4):
        threading.Thread(target=burst, args=('init%d' % n,)).start()


def read(tag):
    if not DONE.get(tag):
        DONE[tag] = True
        burst(tag)


DONE = {}
collectd.register_init(init)
collectd.register_read(read, 0.2, 'read0', 'r0')
collectd.register_read(read, 0.2, 'read1', 'r1')
