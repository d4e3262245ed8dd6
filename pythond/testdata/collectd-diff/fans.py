"""Fan speeds through one Values object made at import and reused by every
read: plugin_instance is set on it, type_instance and values are passed to
dispatch for one call only. Each read also checks what the module refuses,
dispatching a gauge "check_<case>_<exception class>" per case.
"""

import collectd

VL = collectd.Values(plugin='fans', type='fanspeed')
READS = 0


def _log_exception_object():
    collectd.error(OSError(2, 'No such file'))


def _none_positional():
    collectd.Values('gauge', [1], None)


def _unknown_type():
    collectd.Values(type='no_such_type')


def _value_count():
    VL.dispatch(type='load', values=[1])


def _type_unset():
    collectd.Values(plugin='fans').dispatch(values=[1])


def _bad_keyword():
    collectd.Values(colour='red')


def _values_not_list():
    VL.dispatch(type='gauge', values=5)


CHECKS = [
    ('log_exception_object', _log_exception_object),
    ('none_positional', _none_positional),
    ('unknown_type', _unknown_type),
    ('value_count', _value_count),
    ('type_unset', _type_unset),
    ('bad_keyword', _bad_keyword),
    ('values_not_list', _values_not_list),
]


def read():
    global READS
    READS += 1
    VL.plugin_instance = 'hwmon%d' % (READS % 2)
    for fan in range(3):
        VL.dispatch(type_instance='fan%d' % fan,
                    values=[1000 + 100 * fan + READS])
    # What dispatch changed on the object: nothing.
    kept = 1 if VL.type_instance == '' and VL.type == 'fanspeed' else 0
    VL.dispatch(type='gauge', type_instance='kept', values=[kept])
    # derive takes int(), so 7.9 is 7; a numeric string is converted too.
    VL.dispatch(type='derive', type_instance='converted',
                values=[7.9 + READS])
    VL.dispatch(type='gauge', type_instance='from_str', values=['12.5'])
    # counter and absolute are unsigned.
    VL.dispatch(type='counter', type_instance='rotations',
                values=[2 ** 63 + READS])
    VL.dispatch(type='absolute', type_instance='starts', values=[READS])
    for name, check in CHECKS:
        try:
            check()
            raised = 'none'
        except Exception as err:
            raised = type(err).__name__
        VL.dispatch(type='gauge', type_instance='check_%s_%s' % (name, raised),
                    values=[READS])


collectd.register_read(read)
