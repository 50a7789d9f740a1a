"""Pausing Python's cycle collector around work that makes many objects which all live until it ends.

A quote's PDF layout (~200,000 objects) and the analytics refresh's score rows (a million tuples of 32
values) trigger collections that walk those objects — and the whole heap — for nothing: none of them is
garbage until the work is done. ``collector_paused()`` disables the collector for the duration and
restores it after. It is counted, so overlapping users in threads restart it only when the last one
ends; garbage made meanwhile is collected as usual afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_state = {"users": 0, "was_enabled": False}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    with _lock:
        if _state["users"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["users"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["users"] -= 1
            if _state["users"] == 0 and _state["was_enabled"]:
                gc.enable()
