"""Per-customer purchase history aggregates, vectorised: the inputs of the churn and lifecycle rules.

:func:`purchase_history` takes every order as ``(customer code, day, amount)`` — customer codes are
integers 0 … n−1, days are ``datetime64[D]``, dates or day numbers (days since 1970-01-01) — and an
``as_of`` day, and returns one row per customer. Orders after ``as_of`` are ignored; same-day orders of a
customer are one purchase (amounts added), as in the lifetime models.

For a full refresh, merge the orders once with :func:`daily_purchases` (or read them from the database
already ``ORDER BY customer, date``) and give the merged purchases to both :func:`purchase_history` and
:func:`kehu.analytics.lifetime.summarize_transactions`: sorted, already-merged input skips the sort, so
each then costs one linear pass (bench/analytics_models.py; on 10 M orders of 1 M customers, the merge
took 1.9–3.6 s CPU unsorted, then the summary 1.7 s and the history 2.4 s on a busy machine).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PurchaseHistory:
    """Arrays of one element per customer code. Days are counted back from ``as_of``; NaN where undefined."""

    purchases: IntArray  # purchase days (same-day orders merged)
    days_since_first: Array  # NaN without purchases
    days_since_last: Array  # NaN without purchases
    gap_count: IntArray  # purchases − 1 (0 without purchases)
    median_gap: Array  # median days between consecutive purchases; NaN with no gap
    recent_purchases: IntArray  # purchases in the last ``window_days`` days (as_of − window, as_of]
    previous_purchases: IntArray  # purchases in the window before that
    early_mean_amount: Array  # mean amount of the first ⌈purchases/2⌉ purchases; NaN without purchases
    late_mean_amount: Array  # mean amount of the last ⌊purchases/2⌋ purchases; NaN with < 2 purchases

    def __len__(self) -> int:
        return int(self.purchases.shape[0])


def _days(values: npt.ArrayLike) -> IntArray:
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":  # day numbers already (days since 1970-01-01)
        return arr.astype(np.int64, copy=False)
    if arr.dtype == object:
        arr = np.array(arr.tolist(), dtype="datetime64[D]")
    return arr.astype("datetime64[D]").astype(np.int64)


def daily_purchases(
    codes: IntArray, days: IntArray, amounts: npt.NDArray[np.float64]
) -> tuple[IntArray, IntArray, npt.NDArray[np.float64]]:
    """Merge orders into purchases, one per (customer code, day) with the amounts added, sorted by code and day.

    ``days`` are integer day numbers. Sorting uses one combined int64 key (a single sort, skipped when
    the orders already come sorted by customer and day, as from ``ORDER BY customer, date``).
    """
    if codes.shape[0] == 0:
        return codes[:0], days[:0], amounts[:0]
    dmin = int(days.min())
    span = int(days.max()) - dmin + 1
    key = codes.astype(np.int64) * span + (days - dmin)
    if not bool(np.all(key[1:] >= key[:-1])):
        key, order = sorted_with_order(key)
        amounts = amounts[order]
    new = np.ones(key.shape[0], dtype=bool)
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    p_key = key[starts]
    return p_key // span, p_key % span + dmin, np.add.reduceat(amounts, starts)


def sorted_with_order(key: IntArray) -> tuple[IntArray, IntArray]:
    """``key`` (non-negative) sorted, and the permutation that sorts it (ties in their original order).

    When key and row number fit in 63 bits together, the row number is packed into the key's low bits
    and the packed values are sorted as plain integers: NumPy's SIMD sort does 10 M of them in about
    half the time of an ``argsort`` (bench/analytics_analysis.md)."""
    n = key.shape[0]
    bits = max(1, (n - 1).bit_length())
    if n == 0 or int(key.max()).bit_length() + bits > 63:
        order = np.argsort(key, kind="stable")
        return key[order], order
    packed = (key.astype(np.int64) << bits) | np.arange(n, dtype=np.int64)
    packed.sort()
    return packed >> bits, packed & ((1 << bits) - 1)


def purchase_history(
    codes: npt.ArrayLike,
    days: npt.ArrayLike,
    amounts: npt.ArrayLike,
    *,
    n: int,
    as_of: dt.date,
    window_days: int = 180,
    merged: bool = False,
) -> PurchaseHistory:
    """Aggregate orders into a :class:`PurchaseHistory` for customer codes 0 … ``n``−1.

    ``merged``: the caller gives purchases already merged — one per customer and day, sorted by code and
    day, as the refresh reads them (``purchases.Days``) — so the merge's passes over every row are skipped."""
    code = np.asarray(codes, dtype=np.int64)
    day = _days(days)
    amount = np.asarray(amounts, dtype=np.float64)
    if not (code.shape == day.shape == amount.shape):
        raise ValueError("codes, days and amounts must have the same length")
    if code.size and (code.min() < 0 or code.max() >= n):
        raise ValueError("customer codes must be in 0 … n−1")
    end = np.datetime64(as_of, "D").astype(np.int64)
    keep = day <= end
    if not keep.all():  # copy only when some orders are after the end
        code, day, amount = code[keep], day[keep], amount[keep]
    p_code, p_day, p_amount = (code, day, amount) if merged else daily_purchases(code, day, amount)
    return parts_of_history(p_code, p_day, p_amount, n=n, end=int(end), window_days=window_days).history(
        int(end)
    )


@dataclass(frozen=True)
class HistoryParts:
    """What :class:`PurchaseHistory` is made of, as integers and sums summed to an end day but not counted
    back from it: stored (``purchase_summary``), they give the history of a later day too, as long as no
    purchase has crossed a window's edge in between. Arrays of one element per customer code."""

    purchases: IntArray  # purchase days up to the end day
    first_day: IntArray  # day number of the first purchase; 0 without purchases
    last_day: IntArray  # … of the last; 0 without purchases
    median_gap2: IntArray  # twice the median gap in days (so an integer); −1 with no gap
    recent_purchases: IntArray
    previous_purchases: IntArray
    early_sum: Array  # the amounts of the first ⌈purchases/2⌉ purchases added up
    late_sum: Array  # … of the last ⌊purchases/2⌋

    def history(self, end: int) -> PurchaseHistory:
        """The history as of day number ``end`` (the day the parts were summed to)."""
        purchases = self.purchases
        has = purchases > 0
        nan = np.full(purchases.shape[0], np.nan)
        early_n = (purchases + 1) // 2
        late_n = purchases // 2
        with np.errstate(invalid="ignore", divide="ignore"):
            early_mean = np.where(early_n > 0, self.early_sum / np.maximum(early_n, 1), np.nan)
            late_mean = np.where(late_n > 0, self.late_sum / np.maximum(late_n, 1), np.nan)
        return PurchaseHistory(
            purchases=purchases,
            days_since_first=np.where(has, (end - self.first_day).astype(np.float64), nan),
            days_since_last=np.where(has, (end - self.last_day).astype(np.float64), nan),
            gap_count=np.maximum(purchases - 1, 0),
            median_gap=np.where(self.median_gap2 >= 0, self.median_gap2 / 2.0, nan),
            recent_purchases=self.recent_purchases,
            previous_purchases=self.previous_purchases,
            early_mean_amount=early_mean,
            late_mean_amount=late_mean,
        )


def parts_of_history(
    p_code: IntArray, p_day: IntArray, p_amount: npt.NDArray[Any], *, n: int, end: int, window_days: int
) -> HistoryParts:
    """The :class:`HistoryParts` of purchases merged by day, sorted by code and day, none after day
    number ``end``. Amounts may be integers (cents: their sums are exact in a float64 below 2**53)."""
    purchases = np.bincount(p_code, minlength=n).astype(np.int64)
    # Purchases are sorted by customer: each customer's run ends where the running count says.
    hi = np.cumsum(purchases)
    lo = hi - purchases
    has = purchases > 0
    first = np.where(has, p_day[np.minimum(lo, max(len(p_day) - 1, 0))] if p_day.size else 0, 0)
    last = np.where(has, p_day[np.maximum(hi - 1, 0)] if p_day.size else 0, 0)

    # Gaps between consecutive purchases of the same customer, then the median per customer.
    # (At ten million purchases each array here is 80 MB: the large ones are let go as soon as they are used.)
    same = p_code[1:] == p_code[:-1]
    g_code = p_code[1:][same]
    g_len = np.diff(p_day)[same].astype(np.int64, copy=False)
    del same
    if g_len.size:
        # Sort the gaps within each customer through one int64 key (customer, gap length).
        width = int(g_len.max()) + 1
        g_key = g_code * width
        g_key += g_len
        del g_code, g_len
        g_key.sort()
        g_code, g_len = g_key // width, g_key % width
        del g_key
    gap_count = np.bincount(g_code, minlength=n).astype(np.int64)
    del g_code
    g_lo = np.cumsum(gap_count) - gap_count
    median_gap2 = np.full(n, -1, dtype=np.int64)
    with_gap = gap_count > 0
    if g_len.size:
        k = gap_count[with_gap]
        base = g_lo[with_gap]
        median_gap2[with_gap] = g_len[base + (k - 1) // 2] + g_len[base + k // 2]
    del g_len

    age = end - p_day
    recent = np.bincount(p_code[age < window_days], minlength=n).astype(np.int64)
    previous = np.bincount(p_code[(age >= window_days) & (age < 2 * window_days)], minlength=n).astype(
        np.int64
    )
    del age

    # The early half of each customer's purchases (its first ⌈k/2⌉) and the late half (the rest).
    late = np.arange(p_code.shape[0]) >= (lo + (purchases + 1) // 2)[p_code]
    early_sum = np.bincount(p_code[~late], weights=p_amount[~late], minlength=n)
    late_sum = np.bincount(p_code[late], weights=p_amount[late], minlength=n)
    return HistoryParts(
        purchases=purchases,
        first_day=first.astype(np.int64),
        last_day=last.astype(np.int64),
        median_gap2=median_gap2,
        recent_purchases=recent,
        previous_purchases=previous,
        early_sum=early_sum.astype(np.float64),
        late_sum=late_sum.astype(np.float64),
    )
