"""Each customer's purchase days, kept from the orders and read by the refresh (ADR 0014, "purchase days").

The refresh needs, per customer, its purchases merged by day with their amounts, order counts and costs.
Read from the orders that is ten million rows every night, and most of them have not changed since the
night before. :class:`~.models.PurchaseDays` holds the merged days instead: one row per customer, its
days packed into a blob of :data:`RECORD` s, so the refresh reads a million rows and no per-row merge.

Keeping it current: the orders table's triggers insert every customer whose orders change into
:class:`~.models.PurchaseDaysStale` (migration 0005). :func:`sync`, which the refresh runs first:

1. reads the stale rows (their ids and customers);
2. reads those customers' orders — or every order, when the stale rows name more than
   :data:`REBUILD_AT` customers or include the "everyone" row — and merges them by day;
3. writes those customers' rows again (or every row) and deletes exactly the stale rows it read.

The stale rows are read *before* the orders. A stale row is inserted by the same transaction as its
order's change, so a stale row that step 1 sees belongs to a committed change that step 2 sees too.
A change committed after step 1 leaves a stale row step 3 does not delete (it deletes by the ids read,
never "up to an id": PostgreSQL hands out ids in one order and commits in another), and the next
refresh takes it up. A run that fails part-way leaves its stale rows; the next one does the work again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction

from kehu.customers.models import Customer

from . import facts as F
from . import sqlite_adbc
from .models import PurchaseDays, PurchaseDaysStale

# One purchase day of a customer: little-endian, packed (36 bytes). Money in cents.
RECORD = np.dtype(
    [
        ("day", "<i4"),  # days since 1970-01-01
        ("orders", "<i4"),  # the day's orders that are not cancelled
        ("costed", "<i4"),  # … of them with a known cost
        ("amount", "<i8"),  # the day's order amounts
        ("costed_amount", "<i8"),  # … of the orders with a known cost
        ("cost", "<i8"),  # … and their costs
    ]
)
REBUILD_AT = 100_000  # more stale customers than this: every row is built again from every order
CHUNK = 500  # ids per IN (…) list (SQLite's default limit on parameters is far above, but lists stay short)

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Synced:
    """What :func:`sync` did: ``"none"``, ``"some"`` customers' rows or ``"all"`` rows; how many
    customers' rows it wrote (or removed) and how many stale rows it cleared."""

    mode: str
    customers: int
    stale_rows: int


@dataclass(frozen=True)
class Days:
    """Purchase days of many customers, sorted by customer and day: one element per (customer, day)."""

    customer_id: IntArray
    records: npt.NDArray[Any]  # of RECORD

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])


# --- from orders to records --------------------------------------------------------------------------


def merge_orders(customer: IntArray, day: IntArray, amount: IntArray, cost: IntArray) -> Days:
    """Orders (customer id, day number, amount in cents, cost in cents or −1 when unknown) merged into one
    record per customer and day, sorted by customer and day."""
    if customer.shape[0] == 0:
        return Days(np.zeros(0, np.int64), np.zeros(0, RECORD))
    from .history import sorted_with_order

    dmin = int(day.min())
    span = int(day.max()) - dmin + 1
    cmin = int(customer.min())
    key = (customer.astype(np.int64) - cmin) * span + (day.astype(np.int64) - dmin)
    if not bool(np.all(key[1:] >= key[:-1])):
        key, order = sorted_with_order(key)
        amount, cost = amount[order], cost[order]
    new = np.ones(key.shape[0], dtype=bool)
    np.not_equal(key[1:], key[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    costed = cost >= 0
    out = np.zeros(starts.shape[0], RECORD)
    out["day"] = key[starts] % span + dmin
    out["orders"] = np.diff(np.append(starts, key.shape[0]))
    out["costed"] = np.add.reduceat(costed.astype(np.int64), starts)
    out["amount"] = np.add.reduceat(amount.astype(np.int64), starts)
    out["costed_amount"] = np.add.reduceat(np.where(costed, amount, 0).astype(np.int64), starts)
    out["cost"] = np.add.reduceat(np.where(costed, cost, 0).astype(np.int64), starts)
    return Days(key[starts] // span + cmin, out)


def _rows(days: Days) -> Iterator[tuple[int, int, bytes]]:
    """``(customer id, number of days, packed records)`` per customer of ``days``."""
    if not len(days):
        return
    new = np.ones(len(days), dtype=bool)
    np.not_equal(days.customer_id[1:], days.customer_id[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    ends = np.append(starts[1:], len(days))
    raw = days.records.tobytes()
    size = RECORD.itemsize
    for cid, lo, hi in zip(days.customer_id[starts].tolist(), starts.tolist(), ends.tolist(), strict=True):
        yield cid, hi - lo, raw[lo * size : hi * size]


# --- sync ------------------------------------------------------------------------------------------------


def sync() -> Synced:
    """Bring the purchase days of every customer marked stale up to date (see the module's text).

    Rows are kept per customer that is not merged into another: a merged customer's orders count for
    the customer its merges end in (``facts.merged_customers``), as on the customer page. A merge marks
    both customers (the customers table's trigger), and the keeper's row is written again with them."""
    stale = PurchaseDaysStale._meta.db_table
    # Through ADBC where another connection may read: after a bulk load there are millions of rows.
    marked = F.start_bulk_ints(
        f"SELECT {F.int_sql('id')} AS i, {F.int_sql('COALESCE(customer_id, -1)')} AS c FROM {stale}", [], 2
    )()
    if not marked.shape[0]:
        return Synced("none", 0, 0)
    ids, customers = marked[:, 0], np.unique(marked[:, 1])
    merges = F.Customers(np.zeros(0, np.int64), np.zeros(0, np.int64), F.merged_customers())
    if customers.shape[0] > REBUILD_AT or bool((customers < 0).any()):
        customer, day, amount, cost = F.start_order_cents(as_of=dt.date.max)()
        days = merge_orders(merges.roots(customer), day, amount, cost)
        del customer, day, amount, cost
        _replace_all(days)
        written = int(np.unique(days.customer_id).shape[0])
        with transaction.atomic():
            _clear(ids)
        return Synced("all", written, int(ids.shape[0]))
    roots = np.unique(merges.roots(customers))
    # The keeper of a marked merged customer is marked too, so that the read below takes its own orders;
    # those rows are cleared with the rest.
    keepers = [PurchaseDaysStale(customer_id=int(c)) for c in np.setdiff1d(roots, customers).tolist()]
    if keepers:
        PurchaseDaysStale.objects.bulk_create(keepers)
        ids = np.append(ids, np.array([k.pk for k in keepers], dtype=np.int64))
    where = f"customer_id IN (SELECT customer_id FROM {stale})"
    if merges.merged.shape[0]:  # and every merged customer's (few): kept below if it ends in one of them
        where = f"({where} OR customer_id IN (SELECT id FROM {Customer._meta.db_table} WHERE merged_into_id IS NOT NULL))"
    customer, day, amount, cost = F.start_order_cents(as_of=dt.date.max, where=where)()
    customer = merges.roots(customer)
    # The stale customers read in step 1 only (a customer marked since is read again next time).
    keep = np.isin(customer, roots)
    days = merge_orders(customer[keep], day[keep], amount[keep], cost[keep])
    with transaction.atomic():
        _replace_some(np.union1d(customers, roots), days)  # a marked merged customer loses its own row
        _clear(ids)
    return Synced("some", int(roots.shape[0]), int(ids.shape[0]))


def _clear(ids: IntArray) -> None:
    """Delete exactly the stale rows ``ids``: as ranges of consecutive ids (an id between two read ones
    that was not read itself belongs to a change not yet committed when they were read)."""
    table = PurchaseDaysStale._meta.db_table
    ids = np.sort(ids)
    breaks = np.flatnonzero(np.diff(ids) != 1)
    lows = np.append(ids[:1], ids[breaks + 1])
    highs = np.append(ids[breaks], ids[-1:])
    with connection.cursor() as cursor:
        for lo in range(0, lows.shape[0], CHUNK):
            pairs = list(zip(lows[lo : lo + CHUNK].tolist(), highs[lo : lo + CHUNK].tolist(), strict=True))
            where = " OR ".join(["id BETWEEN %s AND %s"] * len(pairs))
            cursor.execute(f"DELETE FROM {table} WHERE {where}", [v for pair in pairs for v in pair])


def _replace_some(customers: IntArray, days: Days) -> None:
    table = PurchaseDays._meta.db_table
    with connection.cursor() as cursor:
        for lo in range(0, customers.shape[0], CHUNK):
            part = customers[lo : lo + CHUNK].tolist()
            cursor.execute(
                f"DELETE FROM {table} WHERE customer_id IN ({', '.join(['%s'] * len(part))})", part
            )
        cursor.executemany(
            f"INSERT INTO {table} (customer_id, days, records) VALUES (%s, %s, %s)", list(_rows(days))
        )


def _replace_all(days: Days) -> None:
    """Every row of the table replaced in one transaction: on an SQLite file by ADBC's bulk ingest in a
    child process (:mod:`.sqlite_adbc`), on PostgreSQL by a binary COPY."""
    table = PurchaseDays._meta.db_table
    if connection.vendor == "sqlite" and (path := F._sqlite_file()) is not None:
        import polars as pl

        rows = list(_rows(days))
        frame = pl.DataFrame(
            {
                "customer_id": pl.Series([r[0] for r in rows], dtype=pl.Int64),
                "days": pl.Series([r[1] for r in rows], dtype=pl.Int64),
                "records": pl.Series([r[2] for r in rows], dtype=pl.Binary),
            }
        )
        del rows
        sqlite_adbc.replace_rows(path, table, frame, before=[], after=[])
        return
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {table}")
            with cursor.cursor.copy(
                f"COPY {table} (customer_id, days, records) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.set_types(["bigint", "integer", "bytea"])
                for row in _rows(days):
                    copy.write_row(row)
        else:
            cursor.execute(f"DELETE FROM {table}")
            cursor.executemany(
                f"INSERT INTO {table} (customer_id, days, records) VALUES (%s, %s, %s)", list(_rows(days))
            )


# --- read ------------------------------------------------------------------------------------------------


def start_read(pool: Executor | None = None, *, customers: Any = None) -> F.Later[Days]:
    """Every customer's purchase days — or those of ``customers``, a queryset of customers (``IN`` it, in
    the database) — sorted by customer and day, read in ``pool`` (as :func:`facts.start_bulk_ints`:
    through ADBC when another connection may read)."""
    table = PurchaseDays._meta.db_table
    sql = f"SELECT {F.int_sql('customer_id')} AS c, {F.int_sql('days')} AS n, records AS r FROM {table} WHERE days > 0"
    params: list[Any] = []
    if customers is not None:
        sub, sub_params = customers.order_by().values("pk").query.sql_with_params()
        sql, params = f"{sql} AND customer_id IN ({sub})", list(sub_params)
    read = F.start_columns(sql, params, table=table, pool=pool)

    def decoded() -> Days:
        customer, count, blobs = read()
        if not len(customer):
            return Days(np.zeros(0, np.int64), np.zeros(0, RECORD))
        return _decode(np.asarray(customer, dtype=np.int64), np.asarray(count, dtype=np.int64), blobs)

    return decoded


@dataclass(frozen=True)
class PeriodTotals:
    """Per customer with a purchase in a span of days (ascending ids): the amounts of its orders then, in
    cents; its orders of known cost then, and their amounts less their costs (the profit)."""

    customer_id: IntArray
    amount: IntArray
    costed: IntArray
    profit: IntArray


def period_totals(days: Days, first: int, last: int) -> PeriodTotals:
    """Sum each customer's purchase days from day number ``first`` to ``last`` (both included)."""
    r = days.records
    inside = np.flatnonzero((r["day"] >= first) & (r["day"] <= last))
    customer = days.customer_id[inside]
    if not inside.shape[0]:
        empty = np.zeros(0, dtype=np.int64)
        return PeriodTotals(empty, empty, empty, empty)
    starts = np.flatnonzero(np.r_[True, customer[1:] != customer[:-1]])  # sorted by customer already

    def summed(name: str) -> IntArray:
        return np.add.reduceat(r[name][inside].astype(np.int64), starts)

    return PeriodTotals(customer[starts], summed("amount"), summed("costed"),
                        summed("costed_amount") - summed("cost"))  # fmt: skip


def _decode(customer: IntArray, count: IntArray, blobs: F.Blobs) -> Days:
    """Rows as read (in any order) into records sorted by customer. The rows' bytes are joined in the
    order read; rows out of customer order (those the sync wrote again, on PostgreSQL) are put in order
    by one gather of the records."""
    if blobs.data.shape[0] != int(count.sum()) * RECORD.itemsize or not bool(
        np.array_equal(blobs.lengths, count * RECORD.itemsize)
    ):
        raise ValueError("purchase days: the records do not match the rows' day counts")
    records = blobs.data.view(RECORD)
    if customer.shape[0] and not bool(np.all(customer[1:] > customer[:-1])):  # not read in customer order
        order = np.argsort(customer, kind="stable")
        customer, first, count = customer[order], (np.cumsum(count) - count)[order], count[order]
        # Record i of the sorted run of row k comes from first[k] + i.
        at = np.repeat(first - (np.cumsum(count) - count), count) + np.arange(
            int(count.sum()), dtype=np.int64
        )
        records = records[at]
    return Days(np.repeat(customer, count), records)
