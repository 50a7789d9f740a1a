"""kehu.core.heap: inside ``freed_memory_kept()`` a large array comes from (and goes back to) the heap;
after it, glibc's defaults are back and such an array is mapped of its own again."""

from __future__ import annotations

import ctypes

import numpy as np
import pytest

from kehu.core import heap

VALUES = 2_000_000  # 16 MB: above glibc's default mmap threshold, below the kept one


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
                     "fordblks", "keepcost")
    ]  # fmt: skip


def _mapped_bytes() -> int:
    """Bytes glibc holds in blocks mapped of their own (``mallinfo2().hblkhd``)."""
    libc = heap._glibc()
    assert libc is not None
    libc.mallinfo2.restype = _MallInfo2
    return int(libc.mallinfo2().hblkhd)


def _mapped_for_an_array() -> int:
    before = _mapped_bytes()
    array = np.ones(VALUES)
    mapped = _mapped_bytes() - before
    del array
    return mapped


@pytest.fixture
def glibc_defaults() -> None:
    if heap._glibc() is None or not hasattr(heap._glibc(), "mallinfo2"):
        pytest.skip("glibc ≥ 2.33 only")
    heap._set(heap.DEFAULT_MMAP_THRESHOLD, heap.DEFAULT_TRIM_THRESHOLD)  # pinned: no dynamic threshold


@pytest.mark.usefixtures("glibc_defaults")
def test_a_large_array_is_not_mapped_of_its_own_inside_the_block_and_is_again_after() -> None:
    assert _mapped_for_an_array() >= VALUES * 8
    with heap.freed_memory_kept():
        assert _mapped_for_an_array() == 0
    assert _mapped_for_an_array() >= VALUES * 8


@pytest.mark.usefixtures("glibc_defaults")
def test_the_defaults_come_back_only_when_the_last_overlapping_user_ends() -> None:
    with heap.freed_memory_kept():
        with heap.freed_memory_kept():
            assert _mapped_for_an_array() == 0
        assert _mapped_for_an_array() == 0
    assert _mapped_for_an_array() >= VALUES * 8
    assert heap._kept.users == 0


def _resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.usefixtures("glibc_defaults")
def test_trim_gives_the_kept_memory_back_inside_the_block() -> None:
    with heap.freed_memory_kept():
        array = np.ones(VALUES)
        del array
        kept = _resident_bytes()
        heap.trim()
        assert kept - _resident_bytes() >= VALUES * 8 * 0.9
