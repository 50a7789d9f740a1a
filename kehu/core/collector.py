"""Pausing Python's cycle collector around work that makes many objects which all live until it ends.

A quote's PDF layout (~200,000 objects) and the analytics refresh's score rows (a million tuples of 32
values) trigger collections that walk those objects — and the whole heap — for nothing: none of them is
garbage until the work is done. ``collector_paused()`` disables the collector for the duration and
restores it after. It is counted, so overlapping users in threads restart it only when the last one
ends; garbage made meanwhile is collected as usual afterwards. (:class:`SharedSetting` does the counting,
here and for :mod:`kehu.core.heap`.)
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterator


class SharedSetting:
    """A process-wide setting switched on by the first of overlapping users (threads) and back off by the
    last: ``with setting.held(): …``."""

    def __init__(self, on: Callable[[], None], off: Callable[[], None]) -> None:
        self._on, self._off = on, off
        self._lock = threading.Lock()
        self.users = 0

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            if self.users == 0:
                self._on()
            self.users += 1
        try:
            yield
        finally:
            with self._lock:
                self.users -= 1
                if self.users == 0:
                    self._off()


_was_enabled = [False]


def _pause() -> None:
    _was_enabled[0] = gc.isenabled()
    gc.disable()


def _resume() -> None:
    if _was_enabled[0]:
        gc.enable()


_paused = SharedSetting(_pause, _resume)


def collector_paused() -> contextlib.AbstractContextManager[None]:
    return _paused.held()
