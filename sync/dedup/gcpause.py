"""Pausing Python's cyclic garbage collector while a million small objects are made.

Reading a roster and a bulk run allocate millions of small acyclic objects
(strings, tuples, records, features): the cyclic collector would rescan the
growing heap again and again for nothing (a third of a 1M-record run, half of
reading the file). Reference counting still frees everything.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
