"""third_party.monotonic: a monotonic clock in seconds."""

import time

__all__ = ('monotonic',)


def monotonic():
    """Return the value of a clock that never goes back, in seconds."""
    return time.monotonic()
