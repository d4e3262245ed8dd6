"""Third-party helpers python.d modules import (third_party.*).

Only monotonic and ordereddict are provided; importing another name
(mcrcon, lm_sensors, boinc_client, filelock) raises an ImportError that
names it.
"""

_NOT_SHIPPED = ('mcrcon', 'lm_sensors', 'boinc_client', 'filelock')


def __getattr__(name):
    if name in _NOT_SHIPPED:
        raise ImportError("third_party.{0} is not provided by this runtime "
                          "(only third_party.monotonic and "
                          "third_party.ordereddict are)".format(name),
                          name='third_party.' + name)
    raise AttributeError("module 'third_party' has no attribute "
                         "'{0}'".format(name))
