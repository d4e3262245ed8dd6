"""Dispatches from a thread of its own, started by the init callback,
every half second, and never from a read callback. The shutdown callback
stops the thread and writes "stopped after N" to the Done file.

    <Module ticker>
      Done "/where/ticker.done"
    </Module>
"""

import threading

import collectd

DONE = None
STOP = threading.Event()
TICKS = [0]


def configure(conf):
    global DONE
    for node in conf.children:
        if node.key.lower() == 'done':
            DONE = node.values[0]


def tick():
    while not STOP.wait(0.5):
        TICKS[0] += 1
        collectd.Values(plugin='ticker', type='derive', type_instance='ticks',
                        values=[TICKS[0]],
                        meta={'thread': threading.current_thread().name}
                        ).dispatch()


def init():
    threading.Thread(target=tick, name='ticker', daemon=True).start()


def shutdown():
    STOP.set()
    if DONE is not None:
        with open(DONE, 'w') as f:
            f.write('stopped after %d\n' % TICKS[0])


collectd.register_config(configure)
collectd.register_init(init)
collectd.register_shutdown(shutdown)
