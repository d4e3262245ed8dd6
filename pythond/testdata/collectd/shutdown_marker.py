"""Writes "shutdown" to the file its config names when it is stopped."""

import collectd

PATH = []


def configure(conf):
    for node in conf.children:
        if node.key.lower() == 'file':
            PATH.append(node.values[0])


def shutdown():
    with open(PATH[0], 'w') as f:
        f.write('shutdown\n')


collectd.register_config(configure)
collectd.register_shutdown(shutdown)
