"""Each customer's purchases summed up to a day — the one record per customer the refresh needs of the
purchase days — kept between refreshes (ADR 0014, addendum "purchase summaries").

From a customer's purchase days the refresh takes a few sums: its orders and amounts, those of known cost,
the last year's amount, the first day's amount, its first and last day, the median gap between its
purchases, its purchases in the lifecycle windows, the amounts of its early and late purchases. Read from
the purchase days and summed, that is ten million records a night (the purchase days' read took 2.3–7.6 s,
the history 1.8–2.3 s, at a million customers). Nearly all of those sums are what they were the night
before, and the day on which each will change is known in advance: a purchase day leaves the recent
window ``window`` days after it, the previous window ``2 × window`` days after it, the last year's amount
365 days after it, and a day in the future starts to count on that day. Each record therefore keeps
``valid_until``, the first day its sums change on their own.

:func:`update` runs inside the purchase days' sync (``purchases.sync(keep=…)``), in its transaction: it
reads the stored summaries, sums again the customers whose purchase days the sync wrote and those whose
``valid_until`` has come, and stores them all as of the refresh's day. When there is nothing stored, the
window has changed, the day is earlier than the stored one, the sync built every row again, or more than
:data:`REDO_AT` customers are to be summed again, the summaries are deleted in that transaction and the
refresh sums every purchase day (:func:`summarize`), then stores the result with the scores.

The records are stored as a few binary rows of :data:`PART` customers each (:class:`~.models.PurchaseSummary`):
a hundred megabytes at a million customers, read whole. Written whole, that took 0.6–0.7 s a night on
PostgreSQL for the 5 % of records that had changed; so a night's update writes only a *patch*, one more
row (:data:`PATCH_PART`) holding every record changed since the parts were written, each night's changes
added to the last. The parts are written again, and the patch dropped, once it holds more than
:data:`PATCH_AT` of the customers. A record whose customer has no purchase day left is kept in the
patch as :data:`GONE`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from . import facts as F
from . import purchases
from .history import HistoryParts, parts_of_history
from .models import PurchaseSummary

IntArray = npt.NDArray[np.int64]

# One customer's sums, packed little-endian (100 bytes). Days are day numbers; money in cents. Only days
# up to the summary's day count; a customer with purchase days after it only is kept with nought purchases,
# so that the day its first purchase comes is known (``valid_until``).
SUMMARY = np.dtype(
    [
        ("customer_id", "<i8"),
        ("purchases", "<i4"),  # purchase days
        ("first_day", "<i4"),  # 0 without purchases
        ("last_day", "<i4"),
        ("median_gap2", "<i4"),  # twice the median gap in days; −1 with fewer than two purchases
        ("recent", "<i4"),  # purchases in the lifecycle window ending on the summary's day
        ("previous", "<i4"),  # … in the window before it
        ("orders", "<i4"),  # orders not cancelled
        ("costed", "<i4"),  # … of them with a known cost
        ("valid_until", "<i4"),  # the first day on which these sums change with no new order
        ("amount", "<i8"),
        ("costed_amount", "<i8"),  # the amount of the orders of known cost
        ("cost", "<i8"),  # … and their cost
        ("amount_12m", "<i8"),  # the amount of the last 365 days
        ("first_amount", "<i8"),  # the first purchase day's amount
        ("early_amount", "<i8"),  # the amounts of the first ⌈purchases/2⌉ purchase days
        ("late_amount", "<i8"),  # … of the last ⌊purchases/2⌋
    ]
)
_OPAQUE = np.dtype((np.void, SUMMARY.itemsize))  # a summary as bytes, for copies
NEVER = np.iinfo(np.int32).max
PART = 131_072  # customers per stored row (≈ 13 MB)
PATCH_PART = 2**31 - 1  # the stored row of the records changed since the parts were written
PATCH_AT = 0.25  # a patch of more records than this share of the parts': every part written again
GONE = -1  # ``valid_until`` of a patch record whose customer has no purchase day left
# More customers to sum again than this: every purchase day summed instead. On PostgreSQL at a million
# customers the update took 2.2 s for 94,000–98,000 customers, and the full path's read and sum 7.4 s.
REDO_AT = 250_000


@dataclass(frozen=True)
class Summaries:
    """Every customer's summary as of day number ``end`` (sorted by customer) and how it was had:
    ``"stored"`` as it was, ``"updated"`` with ``redone`` customers summed again, or ``"built"`` from
    every purchase day."""

    records: npt.NDArray[Any]  # of SUMMARY
    end: int
    window: int
    source: str
    redone: int
    seconds: float = 0.0  # what bringing them up to date took in the sync (loaded, summed again, stored)
    # As loaded: the stored parts' records, and the patch's (changed since, GONE included); None when the
    # records were not loaded so.
    parts: npt.NDArray[Any] | None = None
    patch: npt.NDArray[Any] | None = None

    def counts(self) -> dict[str, Any]:
        return {"source": self.source, "customers": int(self.records.shape[0]), "redone": self.redone,
                "seconds": round(self.seconds, 3)}  # fmt: skip


def summarize(days: purchases.Days, end: int, window: int) -> npt.NDArray[Any]:
    """The summary of each customer of ``days`` (sorted by customer and day) as of day number ``end``,
    with the lifecycle windows of ``window`` days."""
    return summarize_taking([days], end, window)


def summarize_taking(box: list[purchases.Days], end: int, window: int) -> npt.NDArray[Any]:
    """:func:`summarize` of the purchase days in ``box``, taken out of it, so that they are let go as soon
    as their fields are: at a million customers they are ten million records (≈ 340 MB), and the history's
    arrays (≈ 0.5 GB more) are made only after. The records are not copied; each field is taken out as it
    is needed, and the days after ``end`` left out field by field."""
    days = box.pop()
    customer, r = days.customer_id, days.records
    if not len(days):
        return np.zeros(0, SUMMARY)
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])
    m = starts.shape[0]
    out = np.zeros(m, SUMMARY)
    out["customer_id"] = customer[starts]
    day = r["day"].astype(np.int64)
    # The first day after ``end`` on which each purchase day changes a sum: it starts to count, it leaves
    # the recent window (and enters the previous one), it leaves the previous window, it leaves the year.
    changes = np.full(day.shape[0], np.int64(NEVER))
    for offset in (0, window, 2 * window, 365):
        when = day + offset
        when[when <= end] = NEVER
        np.minimum(changes, when, out=changes)
        del when
    out["valid_until"] = np.minimum.reduceat(changes, starts)
    del changes

    code = np.repeat(np.arange(m, dtype=np.int64), np.diff(np.r_[starts, len(days)]))
    counted = day <= end
    pick = None if counted.all() else np.flatnonzero(counted)
    del counted
    if pick is not None:
        code, day = code[pick], day[pick]
    # Each customer's run of counted records (a customer whose days are all after ``end`` has none).
    runs = np.flatnonzero(np.r_[True, code[1:] != code[:-1]]) if code.shape[0] else np.zeros(0, np.int64)
    at = code[runs]

    def summed(values: npt.NDArray[Any]) -> IntArray:
        # Integer sums over each run (bincount would go through float64).
        total = np.zeros(m, np.int64)
        if runs.shape[0]:
            total[at] = np.add.reduceat(values, runs, dtype=np.int64)
        return total

    for name in ("orders", "costed", "costed_amount", "cost"):
        out[name] = summed(r[name] if pick is None else r[name][pick])
    cents = (r["amount"] if pick is None else r["amount"][pick]).astype(np.int64)
    del days, customer, r, pick
    out["amount"] = summed(cents)
    out["amount_12m"] = summed(np.where(day > end - 365, cents, 0))
    parts = parts_of_history(code, day, cents, n=m, end=end, window_days=window)
    out["first_amount"] = summed(np.where(day == parts.first_day[code], cents, 0))
    for name, values in (
        ("purchases", parts.purchases),
        ("first_day", parts.first_day),
        ("last_day", parts.last_day),
        ("median_gap2", parts.median_gap2),
        ("recent", parts.recent_purchases),
        ("previous", parts.previous_purchases),
        ("early_amount", parts.early_sum),
        ("late_amount", parts.late_sum),
    ):
        out[name] = values
    return out


@dataclass(frozen=True)
class PerCustomer:
    """The summaries spread over the refresh's customer codes 0 … n−1 (nought for a customer without
    one): its history as of the summaries' day and its totals."""

    history: Any  # history.PurchaseHistory
    orders: IntArray
    costed: IntArray
    amount: IntArray  # cents
    costed_amount: IntArray
    cost: IntArray
    amount_12m: IntArray
    first_amount: IntArray


def per_customer(summaries: Summaries, codes: IntArray, known: npt.NDArray[np.bool_], n: int) -> PerCustomer:
    """``codes``: each record's customer code (``facts.Customers.codes``), taken where ``known``."""
    records = summaries.records[known]
    codes = codes[known]

    def spread(name: str) -> IntArray:
        out = np.zeros(n, np.int64)
        out[codes] = records[name]
        return out

    median_gap2 = np.full(n, -1, np.int64)
    median_gap2[codes] = records["median_gap2"]
    parts = HistoryParts(
        purchases=spread("purchases"),
        first_day=spread("first_day"),
        last_day=spread("last_day"),
        median_gap2=median_gap2,
        recent_purchases=spread("recent"),
        previous_purchases=spread("previous"),
        early_sum=spread("early_amount").astype(np.float64) / 100.0,
        late_sum=spread("late_amount").astype(np.float64) / 100.0,
    )
    return PerCustomer(
        history=parts.history(summaries.end),
        orders=spread("orders"),
        costed=spread("costed"),
        amount=spread("amount"),
        costed_amount=spread("costed_amount"),
        cost=spread("cost"),
        amount_12m=spread("amount_12m"),
        first_amount=spread("first_amount"),
    )


# --- kept between refreshes ------------------------------------------------------------------------------


def update(
    written: IntArray | None, days: purchases.Days | None = None, *, end: int, window: int
) -> Summaries | None:
    """The stored summaries brought to day number ``end``, inside the sync's transaction: ``written`` are
    the customers whose purchase days it wrote (``None``: every row built again), ``days`` those rows
    (read again when not given). ``None`` when they cannot be (see the module's text): then nothing is
    stored, and the refresh sums every purchase day."""
    started = time.perf_counter()
    stored = None if written is None else load()
    if stored is None or stored.window != window or stored.end > end:
        forget()
        return None
    assert written is not None
    records = stored.records
    redo = np.union1d(written, records["customer_id"][records["valid_until"] <= end])
    if redo.shape[0] > REDO_AT:
        forget()
        return None
    if not redo.shape[0]:
        # Every record holds on this day as it is: stored as of an earlier day, each still names the day
        # it next changes.
        return Summaries(records, end, window, "stored", 0, time.perf_counter() - started)
    changes = _changes(redo, summarize(_days_of(redo, written, days), end, window))
    summaries = Summaries(_patched(records, changes), end, window, "updated", int(redo.shape[0]))
    # Every record changed since the parts were written: the stored patch's and tonight's.
    patch = changes if stored.patch is None else _patched(stored.patch, changes, keep_gone=True)
    assert stored.parts is not None
    if patch.shape[0] > PATCH_AT * max(stored.parts.shape[0], 1):
        store(summaries)
    else:
        _store_patch(patch, end, window)
    return replace(summaries, seconds=time.perf_counter() - started)


def _days_of(redo: IntArray, written: IntArray, days: purchases.Days | None) -> purchases.Days:
    """The purchase days of the customers ``redo``: those the sync wrote as it wrote them (``days``, when
    given: read from the table they came to 0.8–1.6 s of a sync on SQLite), the others read."""
    if days is None:
        return purchases.read_rows(redo)
    mine = np.isin(days.customer_id, redo)
    given = purchases.Days(days.customer_id[mine], days.records[mine])
    others = np.setdiff1d(redo, written)
    if not others.shape[0]:
        return given
    return purchases.concatenated(given, purchases.read_rows(others))


def _changes(redo: IntArray, fresh: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The records of the customers ``redo`` summed again, ``fresh``, with a :data:`GONE` one for each
    customer of ``redo`` that has none (no purchase day left), sorted by customer."""
    gone = np.setdiff1d(redo, fresh["customer_id"])
    if not gone.shape[0]:
        return fresh
    marks = np.zeros(gone.shape[0], SUMMARY)
    marks["customer_id"] = gone
    marks["valid_until"] = GONE
    merged = np.concatenate([fresh, marks])
    return merged[np.argsort(merged["customer_id"], kind="stable")]


def _patched(
    records: npt.NDArray[Any], changes: npt.NDArray[Any], *, keep_gone: bool = False
) -> npt.NDArray[Any]:
    """``records`` (sorted by customer) with ``changes`` (sorted, from :func:`_changes`) in their place: a
    changed record replaces its customer's, a new customer's is added, a :data:`GONE` one removes it (or,
    ``keep_gone``, stays). Mostly every change replaces a record in place; a customer new or gone (rarely
    many) takes a merge."""
    ids = records["customer_id"]
    at = np.minimum(np.searchsorted(ids, changes["customer_id"]), max(ids.shape[0] - 1, 0))
    in_place = bool(ids.shape[0]) and bool(np.all(ids[at] == changes["customer_id"]))
    if in_place and (keep_gone or not bool(np.any(changes["valid_until"] == GONE))):
        # Copied as opaque records: NumPy copies a packed record type field by field (0.13 s here).
        out = records.view(_OPAQUE).copy()
        out[at] = changes.view(_OPAQUE)
        return out.view(SUMMARY)
    merged = np.concatenate([records[~np.isin(ids, changes["customer_id"])], changes])
    if not keep_gone:
        merged = merged[merged["valid_until"] != GONE]
    return merged[np.argsort(merged["customer_id"], kind="stable")]


def load() -> Summaries | None:
    """The stored summaries (the parts, with the patch applied), or ``None`` when there are none (or their
    rows do not add up)."""
    table = PurchaseSummary._meta.db_table
    sql = f"SELECT part, as_of_day, window_days, customers, records FROM {table} ORDER BY part"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            rows = F.fetch_binary(cursor, sql, [])
        else:
            cursor.execute(sql)
            rows = cursor.fetchall()
    patch_rows = [r for r in rows if r[0] == PATCH_PART]
    rows = [r for r in rows if r[0] != PATCH_PART]
    if not rows or [r[0] for r in rows] != list(range(len(rows))) or len({(r[1], r[2]) for r in rows}) != 1:
        return None
    parts = _records(rows)
    end, window = int(rows[0][1]), int(rows[0][2])
    if parts is None:
        return None
    if not patch_rows:
        return Summaries(parts, end, window, "stored", 0, parts=parts)
    patch = _records(patch_rows)
    if patch is None or int(patch_rows[0][2]) != window or int(patch_rows[0][1]) < end:
        return None
    return Summaries(
        _patched(parts, patch), int(patch_rows[0][1]), window, "stored", 0, parts=parts, patch=patch
    )


def _records(rows: list[tuple[Any, ...]]) -> npt.NDArray[Any] | None:
    """The records of stored rows (part, day, window, customers, records), or None if they do not add up."""
    blob = b"".join(bytes(r[4]) for r in rows)
    if len(blob) != sum(int(r[3]) for r in rows) * SUMMARY.itemsize:
        return None
    return np.frombuffer(blob, SUMMARY)


def _store_patch(patch: npt.NDArray[Any], end: int, window: int) -> None:
    """The patch row replaced by ``patch``, as of day number ``end`` (the caller holds the transaction)."""
    row = (PATCH_PART, end, window, int(patch.shape[0]), np.ascontiguousarray(patch).tobytes())
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PurchaseSummary._meta.db_table} WHERE part = %s", [PATCH_PART])
        _insert(cursor, [row])


def store(summaries: Summaries) -> None:
    """Replace the stored summaries (the caller holds the transaction)."""
    table = PurchaseSummary._meta.db_table
    records = np.ascontiguousarray(summaries.records)
    rows = [
        (
            i,
            summaries.end,
            summaries.window,
            int(min(PART, records.shape[0] - lo)),
            records[lo : lo + PART].tobytes(),
        )
        for i, lo in enumerate(range(0, max(records.shape[0], 1), PART))
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")  # the patch too
        _insert(cursor, rows)


def _insert(cursor: Any, rows: list[tuple[Any, ...]]) -> None:
    table = PurchaseSummary._meta.db_table
    columns = "part, as_of_day, window_days, customers, records"
    if connection.vendor == "postgresql":
        # A binary COPY: Django's client-side cursor would send each 13 MB value as hex text.
        with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["integer", "integer", "integer", "integer", "bytea"])
            for row in rows:
                copy.write_row(row)
    else:
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES (%s, %s, %s, %s, %s)", rows)


def forget() -> None:
    """Delete the stored summaries: the next refresh sums every purchase day."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {PurchaseSummary._meta.db_table}")
