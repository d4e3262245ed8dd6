"""third_party.ordereddict: the standard library's OrderedDict."""

from collections import OrderedDict

__all__ = ('OrderedDict',)
