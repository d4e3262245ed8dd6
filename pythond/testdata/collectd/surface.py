"""Writes the module's names, constants and the outcome of calls that
collectd answers with an error as JSON at init, to the file that
SURFACE_OUT names (collectd cuts long log lines)."""

import json
import os
import sys

import collectd


def attempt(f):
    try:
        return 'ok %r' % (f(),)
    except Exception as exc:
        return '%s: %s' % (type(exc).__name__, exc)


def assign(obj, name, value):
    setattr(obj, name, value)
    return getattr(obj, name)


def nop(*args):
    pass


def checks():
    V = collectd.Values
    N = collectd.Notification
    return {
        'info int': lambda: collectd.info(1),
        'info two': lambda: collectd.info('a', 'b'),
        'info kw': lambda: collectd.info(msg='x'),
        'info bytes': lambda: collectd.info(b'bytes are fine'),
        'register not callable': lambda: collectd.register_init(1),
        'register name int': lambda: collectd.register_init(nop, name=5),
        'register read interval str':
            lambda: collectd.register_read(nop, 'x'),
        'register init': lambda: collectd.register_init(nop, name='x'),
        'register read': lambda: collectd.register_read(nop, 60, None, 'r'),
        'register read twice': lambda: collectd.register_read(nop, 60,
                                                              None, 'r'),
        'unregister read': lambda: collectd.unregister_read('python.r'),
        'unregister read again': lambda: collectd.unregister_read('python.r'),
        'unregister bare': lambda: collectd.unregister_read('r'),
        'unregister init': lambda: collectd.unregister_init('python.x'),
        'unregister int': lambda: collectd.unregister_write(5),
        'register write': lambda: collectd.register_write(nop),
        'unregister write callable': lambda: collectd.unregister_write(nop),
        'unregister write callable again':
            lambda: collectd.unregister_write(nop),
        'values bad keyword': lambda: V(foo=1),
        'values too many': lambda: V('gauge', [1], '', '', '', '', 0, 0,
                                     None, 5),
        'values unknown type': lambda: V(type='nope'),
        'values assign unknown type': lambda: assign(V(), 'type', 'nope'),
        'values host nul': lambda: V(host='a\0b'),
        'values assign host nul': lambda: assign(V(), 'host', 'a\0b'),
        'values host int': lambda: V(host=5),
        'values assign host int': lambda: assign(V(), 'host', 5),
        'values assign time str': lambda: assign(V(), 'time', 'x'),
        'values assign time int': lambda: assign(V(), 'time', 5),
        'values truncated': lambda: len(V(plugin='p' * 300).plugin),
        'values repr empty': lambda: V(),
        'values repr full': lambda: V('gauge', [1], 'pi', 'ti', 'p', 'h',
                                      1.5, 3, {'a': 1}),
        'values defaults': lambda: (lambda v: (
            v.type, v.values, v.plugin_instance, v.type_instance,
            v.plugin, v.host, v.time, v.interval, v.meta))(V()),
        'dispatch no type': lambda: V().dispatch(),
        'dispatch unknown type': lambda: V(values=[1]).dispatch(type='nope'),
        'dispatch values int': lambda: V(type='gauge').dispatch(values=5),
        'dispatch meta int': lambda: V(type='gauge', values=[1]).dispatch(
            meta=5),
        'dispatch count': lambda: V(type='if_octets', values=[1]).dispatch(),
        'dispatch not a number': lambda: V(type='gauge',
                                           values=['a']).dispatch(),
        'dispatch negative counter': lambda: V(type='counter',
                                               values=[-1]).dispatch(),
        'dispatch huge counter': lambda: V(type='counter',
                                           values=[2 ** 64]).dispatch(),
        'dispatch derive float str': lambda: V(type='derive',
                                               values=['1.5']).dispatch(),
        'dispatch bad keyword': lambda: V(type='gauge', values=[1]).dispatch(
            foo=1),
        'write needs destination': lambda: V(type='gauge',
                                             values=[1]).write(),
        'values none positional': lambda: V('gauge', [1], None),
        'values type none': lambda: V(type=None),
        'values values none': lambda: (lambda v: (v, v.values))(
            V(values=None)),
        'values meta none': lambda: V(meta=None).meta,
        'values meta none repr': lambda: V(meta=None),
        'values meta tuple repr': lambda: V(meta=(), values=()),
        'values time none': lambda: V(time=None),
        'values assign type empty': lambda: assign(V(), 'type', ''),
        'values assign plugin none': lambda: assign(V(), 'plugin', None),
        'dispatch values none': lambda: V(type='gauge', values=[1]).dispatch(
            values=None),
        'dispatch plugin_instance none': lambda: V(
            type='gauge', values=[1]).dispatch(plugin_instance=None),
        'dispatch meta none': lambda: V(type='gauge', values=[1],
                                        plugin='surface').dispatch(meta=None),
        'write destination none': lambda: V(type='gauge',
                                            values=[1]).write(None),
        'register name none': lambda: collectd.register_init(nop, name=None),
        'flush none': lambda: collectd.flush(None),
        'flush timeout none': lambda: collectd.flush('x', None),
        'get_dataset none': lambda: collectd.get_dataset(None),
        'notification severity none': lambda: N(severity=None),
        'notification message none': lambda: N(message=None),
        'notification bad keyword': lambda: N(interval=1),
        'notification repr': lambda: N(type='gauge', message='m',
                                       severity=2, plugin='x', host='h',
                                       time=2.5),
        'notification message truncated':
            lambda: len(N(message='m' * 400).message),
        'notification dispatch no type': lambda: N().dispatch(),
        'notification dispatch unknown type':
            lambda: N().dispatch(type='nope'),
        'notification severity str': lambda: assign(N(), 'severity', 'x'),
        'config': lambda: collectd.Config('Key'),
        'config child': lambda: collectd.Config('K', collectd.Config('R')),
        'config no key': lambda: collectd.Config(),
        'config int key': lambda: collectd.Config(5),
        'get_dataset if_octets': lambda: collectd.get_dataset('if_octets'),
        'get_dataset gauge': lambda: collectd.get_dataset('gauge'),
        'get_dataset unknown': lambda: collectd.get_dataset('nope'),
        'get_dataset int': lambda: collectd.get_dataset(5),
        'flush int': lambda: collectd.flush(5),
        'signed mro': lambda: [c.__name__ for c in collectd.Signed.__mro__],
        'unsigned mro': lambda: [c.__name__ for c in
                                 collectd.Unsigned.__mro__],
        'values mro': lambda: [c.__name__ for c in collectd.Values.__mro__],
        'error base': lambda: collectd.CollectdError.__mro__[1].__name__,
        'values attributes': lambda: sorted(
            a for a in dir(V()) if not a.startswith('_')),
        'notification attributes': lambda: sorted(
            a for a in dir(N()) if not a.startswith('_')),
        'config attributes': lambda: sorted(
            a for a in dir(collectd.Config('k')) if not a.startswith('_')),
    }


def init():
    results = {name: attempt(f) for name, f in checks().items()}
    names = sorted(n for n in dir(collectd) if not n.startswith('_'))
    constants = {n: getattr(collectd, n) for n in names
                 if n.isupper()}
    env = {
        'path0': sys.path[0],
        'runtime importable': attempt(
            lambda: __import__('_collectkit_channel') and True),
        'module file': os.path.basename(getattr(collectd, '__file__', '')),
    }
    with open(os.environ['SURFACE_OUT'], 'w') as f:
        json.dump({'names': names, 'constants': constants,
                   'results': results, 'env': env}, f)
    collectd.info('surface written')


collectd.register_init(init)
