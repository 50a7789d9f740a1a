"""Reading the operational records the analytics need as NumPy arrays (one element per row).

The refresh reads every live customer, every order that counts as a purchase (not cancelled) and the
interaction counts of two windows. Rows are read with plain SQL through Django's connection — the same
statement shape on SQLite and PostgreSQL, with dates turned into day numbers (days since 1970-01-01) and
money into floats inside the database, so no per-value Python conversion (``Decimal``, ``date``) runs for
ten million rows. Money is summed in floats for the statistics only; the stored per-customer figures are
rounded to cents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from kehu.customers.models import Customer
from kehu.engagement.models import Interaction
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order

FETCH = 200_000  # rows per fetchmany
EPOCH = dt.date(1970, 1, 1)

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]


def day_number(day: dt.date) -> int:
    return (day - EPOCH).days


def _day_sql(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def _float_sql(column: str) -> str:
    return (
        f"CAST({column} AS DOUBLE PRECISION)"
        if connection.vendor == "postgresql"
        else f"CAST({column} AS REAL)"
    )


def _chunks(sql: str, params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            yield rows


@dataclass(frozen=True)
class Customers:
    """Every live customer: ids ascending (a customer's *code* is its position here) and its owner (0: none)."""

    ids: IntArray
    owner: IntArray

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def codes(self, customer_ids: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """The codes of ``customer_ids`` and which of them are live customers at all."""
        pos = np.searchsorted(self.ids, customer_ids)
        pos = np.minimum(pos, max(len(self) - 1, 0))
        known = self.ids[pos] == customer_ids if len(self) else np.zeros(customer_ids.shape, dtype=bool)
        return pos.astype(np.int64), known


def read_customers() -> Customers:
    table = Customer._meta.db_table
    parts_id, parts_owner = [], []
    for rows in _chunks(
        f"SELECT id, COALESCE(owner_id, 0) FROM {table} WHERE deleted_at IS NULL ORDER BY id", []
    ):
        block = np.array(rows, dtype=np.int64).reshape(-1, 2)
        parts_id.append(block[:, 0])
        parts_owner.append(block[:, 1])
    if not parts_id:
        return Customers(ids=np.zeros(0, dtype=np.int64), owner=np.zeros(0, dtype=np.int64))
    return Customers(ids=np.concatenate(parts_id), owner=np.concatenate(parts_owner))


@dataclass(frozen=True)
class Orders:
    """Orders that are purchases, up to the refresh day: customer id, day number, amount, cost (NaN unknown)."""

    customer_id: IntArray
    day: IntArray
    amount: Array
    cost: Array

    def __len__(self) -> int:
        return int(self.customer_id.shape[0])


def read_orders(*, as_of: dt.date) -> Orders:
    """Every order of the ledger that is not cancelled, dated on or before ``as_of``, in CNY figures as
    recorded (orders carry their currency; the ledger's amounts are summed as they stand)."""
    table = Order._meta.db_table
    sql = (
        f"SELECT customer_id, {_day_sql('order_date')}, {_float_sql('total_amount')}, {_float_sql('cost_amount')} "
        f"FROM {table} WHERE status <> %s AND order_date <= %s"
    )
    cid, day, amount, cost = [], [], [], []
    for rows in _chunks(sql, [OrderStatus.CANCELLED.value, as_of]):
        block = np.array(rows, dtype=np.float64).reshape(-1, 4)  # NULL cost → NaN
        cid.append(block[:, 0].astype(np.int64))
        day.append(block[:, 1].astype(np.int64))
        amount.append(block[:, 2])
        cost.append(block[:, 3])
    if not cid:
        empty_i, empty_f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        return Orders(customer_id=empty_i, day=empty_i, amount=empty_f, cost=empty_f)
    return Orders(
        customer_id=np.concatenate(cid), day=np.concatenate(day), amount=np.concatenate(amount),
        cost=np.concatenate(cost),
    )  # fmt: skip


def interaction_counts(
    customers: Customers, *, as_of: dt.date, window_days: int
) -> tuple[IntArray, IntArray]:
    """Per customer code: interactions in the last ``window_days`` days up to ``as_of`` and in the window
    before that (ENG-1 跟进记录, the engagement the churn and lifecycle rules compare)."""
    from django.utils import timezone

    table = Interaction._meta.db_table
    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    middle = end - dt.timedelta(days=window_days)
    start = middle - dt.timedelta(days=window_days)
    sql = (
        f"SELECT customer_id, SUM(CASE WHEN occurred_at >= %s THEN 1 ELSE 0 END), "
        f"SUM(CASE WHEN occurred_at < %s THEN 1 ELSE 0 END) FROM {table} "
        f"WHERE occurred_at >= %s AND occurred_at < %s AND deleted_at IS NULL GROUP BY customer_id"
    )
    recent = np.zeros(len(customers), dtype=np.int64)
    previous = np.zeros(len(customers), dtype=np.int64)
    for rows in _chunks(sql, [middle, middle, start, end]):
        block = np.array(rows, dtype=np.int64).reshape(-1, 3)
        codes, known = customers.codes(block[:, 0])
        recent[codes[known]] = block[known, 1]
        previous[codes[known]] = block[known, 2]
    return recent, previous
