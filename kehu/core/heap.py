"""glibc's allocator told to keep freed memory for the next large array, around work made of them.

The analytics refresh makes and drops hundreds of NumPy arrays of a million values (8 MB each). glibc
maps many of them afresh and gives them back when freed (its ``mmap`` threshold starts at 128 KiB and
rises only as far as the largest block freed so far; its trim threshold hands back the top of the heap),
so the kernel faults in and zeroes their pages again and again. In a PostgreSQL refresh of a million customers that was 1.7–2.3 s of system
time; with the memory kept for reuse, 1.3–1.7 s, and the wall time 0.4–0.7 s shorter on average
(``bench/results/analytics-ab-20261204c-malloc*-postgres.txt``; ADR 0014, addendum "2026-12-04, third
session").

``freed_memory_kept()`` raises the ``mmap`` threshold to glibc's ceiling (32 MiB on 64-bit: larger arrays
are still mapped) and the trim threshold out of reach for the block; after it the defaults come back and
``malloc_trim`` returns what is free to the system, so a worker that ran a refresh does not stay at its
peak. It is counted, so overlapping users in threads restore the defaults only when the last one ends.
Memory kept so raised a PostgreSQL build's peak (every purchase day read and summed) from 1.69 GB to
1.85–1.95 GB; :func:`trim` after those steps brought it back to 1.70–1.72 GB. On a C library other than glibc
both do nothing.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
from functools import cache
from typing import Any

from .collector import SharedSetting

M_TRIM_THRESHOLD = -1  # mallopt's parameter numbers (malloc.h)
M_MMAP_THRESHOLD = -3
KEPT_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's largest (DEFAULT_MMAP_THRESHOLD_MAX on 64-bit)
KEPT_TRIM_THRESHOLD = 2**31 - 1  # an int's largest: freed memory at the top of the heap is kept
DEFAULT_MMAP_THRESHOLD = 128 * 1024  # glibc's defaults (M_MMAP_THRESHOLD, M_TRIM_THRESHOLD)
DEFAULT_TRIM_THRESHOLD = 128 * 1024


@cache
def _glibc() -> Any | None:
    """The process's C library when it is glibc (it has ``mallopt`` and ``malloc_trim``), else None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version  # noqa: B018 — glibc only
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def _set(mmap_threshold: int, trim_threshold: int) -> None:
    libc = _glibc()
    if libc is not None:
        libc.mallopt(M_MMAP_THRESHOLD, mmap_threshold)
        libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)


def _keep() -> None:
    _set(KEPT_MMAP_THRESHOLD, KEPT_TRIM_THRESHOLD)


def _give_back() -> None:
    _set(DEFAULT_MMAP_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
    trim()


_kept = SharedSetting(_keep, _give_back)


def freed_memory_kept() -> contextlib.AbstractContextManager[None]:
    return _kept.held()


def trim() -> None:
    """What is free given back to the system now (``malloc_trim``), inside :func:`freed_memory_kept` too:
    after a step that made and dropped more than the steps after it will use."""
    if (libc := _glibc()) is not None:
        libc.malloc_trim(0)
