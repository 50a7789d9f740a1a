"""Reading the operational records the analytics need as NumPy arrays (one element per row).

The refresh reads every live customer, every order that counts as a purchase (not cancelled), the
interaction counts of its windows and the customers already at risk. Dates come out as day numbers (days
since 1970-01-01) and money as integer cents, so no per-value Python conversion (``Decimal``, ``date``)
runs for ten million rows. Outside a transaction, from PostgreSQL or an SQLite file, another connection
reads them through ADBC into Arrow (ADR 0014: ``bulk_ints``, ``read_orders``); inside one, or from an
in-memory database, the refresh's own connection does, with plain SQL of the same shape. Money is summed
in floats for the statistics only; the stored per-customer figures are rounded to cents.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
from django.db import connection

from kehu.customers.merging import final_keepers
from kehu.customers.models import Customer
from kehu.engagement.models import Interaction
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order

from . import sqlite_adbc

FETCH = 200_000  # rows per fetchmany
EPOCH = dt.date(1970, 1, 1)

IntArray = npt.NDArray[np.int64]
Array = npt.NDArray[np.float64]
T = TypeVar("T")
Later = Callable[[], T]  # a read under way: call it for its result (it waits for the read)


def _started(pool: Executor | None, work: Callable[[], T]) -> Later[T]:
    """``work`` run in one of ``pool``'s threads, or at once without a pool."""
    if pool is None:
        value = work()
        return lambda: value
    return pool.submit(work).result


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


def cents_sql(column: str) -> str:
    """A money column (two decimal places) as an exact integer number of cents."""
    kind = "BIGINT" if connection.vendor == "postgresql" else "INTEGER"
    return f"CAST(ROUND({column} * 100) AS {kind})"


def int_sql(expression: str) -> str:
    """An integer expression as a 64-bit integer column (what :func:`read_ints` reads on PostgreSQL)."""
    return (
        f"CAST({expression} AS BIGINT)"
        if connection.vendor == "postgresql"
        else f"CAST({expression} AS INTEGER)"
    )


def day_sql(column: str) -> str:
    """A date column as its day number (days since 1970-01-01), a 64-bit integer."""
    return int_sql(_day_sql(column))


def _chunks(sql: str, params: list[Any]) -> Iterator[list[tuple[Any, ...]]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(FETCH):
            yield rows


@dataclass(frozen=True)
class Customers:
    """Every live customer: ids ascending (a customer's *code* is its position here) and its owner (0: none).

    ``merged``: customers merged into another (查重, ``merged_into``), as rows of (merged id, the live
    customer it ended in, following merges of merges), sorted by merged id. Their records count for the
    customer they were merged into, as the customer page shows them."""

    ids: IntArray
    owner: IntArray
    merged: IntArray = field(default_factory=lambda: np.zeros((0, 2), dtype=np.int64))

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def roots(self, customer_ids: IntArray) -> IntArray:
        """``customer_ids`` with each merged customer replaced by the customer it was merged into."""
        if not self.merged.shape[0] or not customer_ids.shape[0]:
            return customer_ids
        alias, root = self.merged[:, 0], self.merged[:, 1]
        pos = np.minimum(np.searchsorted(alias, customer_ids), alias.shape[0] - 1)
        return np.where(alias[pos] == customer_ids, root[pos], customer_ids)

    def codes(
        self, customer_ids: IntArray, *, follow_merges: bool = True
    ) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        """The codes of ``customer_ids`` and which of them are live customers at all (code 0 where not); a
        merged customer's id gives the code of the customer it was merged into (unless ``follow_merges``
        is off: ids already resolved, as the purchase days are).

        Ids are looked up in a table indexed by id when the ids are dense enough for one (as database
        ids are): ten million lookups are one gather from a few megabytes, where a binary search of
        each in the sorted ids took ≈ 2 s of cache misses."""
        if not len(self):
            return np.zeros(customer_ids.shape, dtype=np.int64), np.zeros(customer_ids.shape, dtype=bool)
        top = int(self.ids[-1])
        if int(self.ids[0]) >= 0 and top <= 16 * len(self) + 1_000_000:
            # The last slot (-1 indexes it too) answers every id beyond the top, and below zero.
            table = np.full(top + 2, -1, dtype=np.int64)
            table[self.ids] = np.arange(len(self), dtype=np.int64)
            if follow_merges and self.merged.shape[0]:
                inside = self.merged[(self.merged[:, 0] <= top) & (self.merged[:, 0] >= 0)]
                table[inside[:, 0]] = table[np.clip(inside[:, 1], -1, top + 1)]
                beyond = self.merged[self.merged[:, 0] > top]
                if beyond.shape[0]:  # merged customers newer than every live one: resolve them first
                    customer_ids = Customers(self.ids, self.owner, beyond).roots(customer_ids)
            found = table[np.clip(customer_ids, -1, top + 1)]
            known = found >= 0
            return np.where(known, found, 0), known
        if follow_merges:
            customer_ids = self.roots(customer_ids)
        pos = np.minimum(np.searchsorted(self.ids, customer_ids), len(self) - 1)
        return pos.astype(np.int64), self.ids[pos] == customer_ids


def merged_customers() -> IntArray:
    """Every merged customer and the customer its merges end in (``customers.merging.final_keepers``), as
    (merged id, final id) rows sorted by merged id."""
    rows = sorted(final_keepers(Customer).items())
    return np.array(rows, dtype=np.int64).reshape(-1, 2)


def start_customers(pool: Executor | None = None) -> Later[Customers]:
    """Every live customer (neither deleted nor merged into another), read in ``pool`` (see
    :func:`start_bulk_ints`), with the merged ones and where they ended."""
    table = Customer._meta.db_table
    # Read from the live customers' (owner, updated_at, id) index alone, not the customer table (738 MB
    # at a million customers), and sorted here: PostgreSQL's index-only scan took 0.23 s against 1.48 s
    # through the primary key in id order. SQLite is told the index (its planner took a date index that
    # does not hold the owner: 3.6 s; the table in id order 1.0 s; this index 0.5 s, in sqlite3).
    hint = " INDEXED BY customer_live_owner" if connection.vendor == "sqlite" else ""
    rows = start_bulk_ints(
        f"SELECT {int_sql('id')} AS i, {int_sql('COALESCE(owner_id, 0)')} AS o FROM {table}{hint}"
        " WHERE deleted_at IS NULL AND merged_into_id IS NULL",
        [],
        2,
        pool,
    )
    merged = merged_customers()

    def customers() -> Customers:
        block = rows()
        block = block[ascending_order(block[:, 0])]
        return Customers(ids=block[:, 0].copy(), owner=block[:, 1].copy(), merged=merged)

    return customers


def ascending_order(ids: IntArray) -> npt.NDArray[np.intp]:
    """The positions of ``ids`` taken in ascending order of the ids. Primary keys are distinct and, for
    the most part, dense: each then goes straight to its slot in an array over the ids' range — 0.013 s
    for a million, where sorting them took 0.1 s on an idle machine and up to 0.58 s beside the refresh's
    other threads. Ids spread over a range much wider than their number, or not distinct, are sorted."""
    if not ids.shape[0]:
        return np.zeros(0, dtype=np.intp)
    low = int(ids.min())
    span = int(ids.max()) - low + 1
    if span <= 4 * ids.shape[0] + 1024:
        slot = np.full(span, -1, dtype=np.intp)
        slot[ids - low] = np.arange(ids.shape[0])
        order = slot[slot >= 0]
        if order.shape[0] == ids.shape[0]:  # else some id came twice and took another's slot
            return order
    return np.argsort(ids, kind="stable")


def read_customers() -> Customers:
    return start_customers()()


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
    recorded (orders carry their currency; the ledger's amounts are summed as they stand). Money comes
    out as integer cents (exact), turned into floats here; an unknown cost is NaN.

    On PostgreSQL, outside a transaction, the table is read by :data:`READERS` ADBC connections side by
    side, each scanning its own range of the table's pages in one shared snapshot (:func:`_pg_arrow`):
    the server's reading and converting ten million rows then runs on as many cores. An SQLite file is
    read through ADBC into Arrow in a child process (:func:`_sqlite_orders_arrow`). Inside a transaction
    (tests, a caller's atomic block) other connections would not see its uncommitted rows, and an
    in-memory database is the connection's own, so then the refresh's own connection reads."""
    return start_orders(as_of=as_of)()


def start_orders(*, as_of: dt.date, pool: Executor | None = None) -> Later[Orders]:
    """:func:`read_orders` started in ``pool`` (see :func:`start_bulk_ints`)."""
    later = start_order_cents(as_of=as_of, pool=pool)
    return lambda: _orders(later())


def start_order_cents(*, as_of: dt.date, where: str = "", pool: Executor | None = None) -> Later[Columns]:
    """The orders of :func:`read_orders` as four integer columns — customer id, day number, amount in cents,
    cost in cents (−1 when unknown) — optionally only those matching the SQL condition ``where``."""
    table = Order._meta.db_table
    also = f" AND {where}" if where else ""
    sql = (
        f"SELECT CAST(customer_id AS BIGINT) AS c, CAST({_day_sql('order_date')} AS INTEGER) AS d,"
        f" {cents_sql('total_amount')} AS t, COALESCE({cents_sql('cost_amount')}, -1) AS k"
        f" FROM {table} WHERE status <> %s AND order_date <= %s{also}"
    )
    params = [OrderStatus.CANCELLED.value, as_of]
    fetch: Callable[[], Columns]
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Every order: by READERS connections, each over its range of pages. Some (``where``): by one,
        # so that the planner may use an index rather than a scan of every page.
        fetch = _pg_job(sql, params, None if where else table)
    elif connection.vendor != "postgresql" and (path := _sqlite_file()) is not None:
        fetch = _sqlite_orders_job(path, table, as_of, where)
    else:  # the refresh's own connection, here and now
        if connection.vendor == "postgresql":
            columns = _copy_binary(sql, params, _PG_ROW)
        else:
            block = _fetch_ints(sql, params)
            columns = [block[:, i].copy() for i in range(4)]
            del block
        return _started(None, lambda: columns)
    return _started(pool, fetch)


def _orders(columns: Columns) -> Orders:
    customer, day, total, cost_cents = columns
    cost = cost_cents.astype(np.float64) / 100.0
    cost[cost_cents < 0] = np.nan
    return Orders(customer_id=customer, day=day, amount=total.astype(np.float64) / 100.0, cost=cost)


def _sqlite_file() -> str | None:
    """The SQLite database's file, when another connection may read it instead of the refresh's own: it
    is a file (not an in-memory database, as in the tests) and the refresh's connection holds no
    transaction whose rows another connection would not see."""
    name = str(connection.settings_dict["NAME"])
    if connection.in_atomic_block or name == ":memory:" or "mode=memory" in name:
        return None
    return name


def _sqlite_orders_arrow(path: str, table: str, as_of: dt.date) -> Columns:
    return _sqlite_orders_job(path, table, as_of)()


def _sqlite_orders_job(path: str, table: str, as_of: dt.date, where: str = "") -> Callable[[], Columns]:
    """The orders of an SQLite file read into Arrow columns by the ADBC SQLite driver and converted by
    Polars (ADR 0014): Python's ``sqlite3`` makes an object per value — ≈ 20 s for ten million orders —
    where this makes none. The columns are read as stored, cast only to fixed types so that the driver,
    which infers a column's type from the first rows, sees one type throughout (an amount is stored as
    an integer when it is whole); SQLite's ``julianday``/``ROUND`` cost more than converting in Polars.
    Money stored as REAL becomes exact cents by rounding ×100, as the SQL path's ``ROUND`` does."""
    import polars as pl

    sql = (
        "SELECT CAST(customer_id AS INTEGER) AS c, CAST(order_date AS TEXT) AS d, total_amount * 1.0 AS t,"
        f" COALESCE(cost_amount * 1.0, -1.0) AS k FROM {table} WHERE status <> %s AND order_date <= %s"
        + (f" AND {where}" if where else "")
    )
    read = _sqlite_job(path, sql, [OrderStatus.CANCELLED.value, as_of.isoformat()])

    def columns() -> Columns:
        frame = read()
        if frame.height == 0:
            return [
                np.zeros(0, np.int64),
                np.zeros(0, np.int32),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            ]
        frame = frame.select(
            pl.col("c").cast(pl.Int64),
            pl.col("d").str.to_date("%Y-%m-%d").cast(pl.Int32),  # days since 1970-01-01
            (pl.col("t").cast(pl.Float64) * 100).round(0).cast(pl.Int64),
            (pl.col("k").cast(pl.Float64) * 100).round(0).cast(pl.Int64),
        )
        return [frame.get_column(name).to_numpy() for name in ("c", "d", "t", "k")]

    return columns


def _sqlite_arrow(path: str, sql: str, params: list[Any]) -> Any:
    return _sqlite_job(path, sql, params)()


def _sqlite_job(path: str, sql: str, params: list[Any]) -> Callable[[], Any]:
    """A SELECT with Django's ``%s`` placeholders to run on the SQLite file by ADBC, in a process of its
    own (:mod:`.sqlite_adbc`), giving a Polars frame. Parameters are adapted here, as Django's SQLite
    backend stores them (datetimes as UTC text); the returned function touches no Django connection, so
    any thread may run it. Inside :class:`.sqlite_adbc.SharedReads` the read is handed to that block's
    child at once (the refresh's reads beside its sync)."""
    adapted = [
        connection.ops.adapt_datetimefield_value(v)
        if isinstance(v, dt.datetime)
        else v.isoformat()
        if isinstance(v, dt.date)
        else v
        for v in params
    ]
    query = sql.replace("%s", "?")
    return sqlite_adbc.start_query(path, query, adapted)


def bulk_ints(sql: str, params: list[Any], columns: int) -> npt.NDArray[np.int64]:
    """:func:`read_ints` for the refresh's large reads: when another connection may read (see
    :func:`read_orders`), through ADBC into Arrow — no Python object per value, and on PostgreSQL no
    Python call per row as psycopg's COPY makes. The columns must have names (``AS …``)."""
    return start_bulk_ints(sql, params, columns)()


def start_bulk_ints(
    sql: str, params: list[Any], columns: int, pool: Executor | None = None
) -> Later[npt.NDArray[np.int64]]:
    """:func:`bulk_ints` started: with a ``pool``, an ADBC read runs in one of its threads while the
    caller goes on (the driver, or the SQLite child process, works without the GIL), and the returned
    function waits for it. A read on the refresh's own connection runs at once, in the caller's thread
    (Django's connections belong to their thread)."""
    fetch: Callable[[], Any]
    if not connection.in_atomic_block and connection.vendor == "postgresql":
        fetch = _pg_job(sql, params)
    elif not connection.in_atomic_block and (path := _sqlite_file()) is not None:
        read = _sqlite_job(path, sql, params)

        def fetch() -> Columns:
            frame = read()
            return frame_columns(frame) if frame.height else []

    else:
        block = read_ints(sql, params, columns)
        return _started(None, lambda: block)

    def stacked() -> npt.NDArray[np.int64]:
        parts = fetch()
        if not parts or not parts[0].size:
            return np.zeros((0, columns), dtype=np.int64)
        return np.column_stack([np.asarray(c, dtype=np.int64) for c in parts])

    return _started(pool, stacked)


def start_columns(
    sql: str, params: list[Any], *, table: str, pool: Executor | None = None
) -> Later[list[Any]]:
    """A SELECT of named integer and binary columns on ``table`` (ending in a WHERE on it), started in
    ``pool`` as :func:`start_bulk_ints` starts its reads: integer columns come as NumPy arrays, binary
    ones as :class:`Blobs`. On PostgreSQL the table is read by :data:`READERS` connections at once."""
    fetch: Callable[[], list[Any]]
    if not connection.in_atomic_block and connection.vendor == "postgresql":
        fetch = _pg_job(sql, params, table)
    elif not connection.in_atomic_block and (path := _sqlite_file()) is not None:
        read = _sqlite_job(path, sql, params)

        def fetch() -> list[Any]:
            return frame_columns(read())

    else:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            width = len(cursor.description)
        # No rows: every column an empty array (the caller knows which are binary).
        columns: list[Any] = [
            np.array([r[i] for r in rows], dtype=np.int64) if not rows or isinstance(rows[0][i], int)
            else Blobs.of_values([bytes(r[i]) for r in rows])
            for i in range(width)
        ]  # fmt: skip
        return _started(None, lambda: columns)
    return _started(pool, fetch)


def read_ints(sql: str, params: list[Any], columns: int) -> npt.NDArray[np.int64]:
    """A SELECT of ``columns`` non-NULL integer columns as an (n, columns) array: on PostgreSQL through
    binary COPY (every column a ``bigint``: wrap them in :func:`int_sql`), elsewhere streamed from the
    cursor."""
    if connection.vendor == "postgresql":
        parts = _copy_binary(sql, params, _pg_row(*([">i8"] * columns)))
        return np.column_stack(parts) if parts[0].size else np.zeros((0, columns), dtype=np.int64)
    return _fetch_ints(sql, params, columns)


def pg_bigint_array(values: npt.NDArray[np.int64]) -> str:
    """Integers as a PostgreSQL array literal, for a parameter cast ``%s::bigint[]``: psycopg's list
    dumper took 0.45 s for the ~60,000 ids a nightly sync reads, the text a few milliseconds."""
    return "{" + ",".join(map(str, np.asarray(values, dtype=np.int64).tolist())) + "}"


def fetch_binary(cursor: Any, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    """Every row of a SELECT on PostgreSQL (``cursor``: a Django cursor), received in binary: ``bytea``
    as its bytes (as text it is hex, twice the size, decoded in Python). Through a plain psycopg cursor,
    which binds on the server: Django's are client-side, and those cannot receive binary results."""
    import psycopg

    with psycopg.Cursor(cursor.cursor.connection) as raw:
        raw.execute(sql, params, binary=True)
        return raw.fetchall()


def _fetch_ints(sql: str, params: list[Any], columns: int = 4) -> npt.NDArray[np.int64]:
    """Integer columns of a SELECT as an (n, ``columns``) array, without a Python list of rows: the values
    stream from the cursor straight into NumPy (``fromiter`` over the chained rows)."""
    import itertools

    parts = []
    for rows in _chunks(sql, params):
        flat = np.fromiter(itertools.chain.from_iterable(rows), dtype=np.int64, count=columns * len(rows))
        parts.append(flat.reshape(-1, columns))
    return np.concatenate(parts) if parts else np.zeros((0, columns), dtype=np.int64)


# PostgreSQL's binary COPY: a row is a 16-bit field count, then per field a 32-bit length and the value
# (big-endian). With every column a non-NULL bigint/int the rows are fixed-width and NumPy reads them
# as one structured array.
def _pg_row(*kinds: str) -> np.dtype:
    """The COPY row of non-NULL integer fields of the given kinds (``">i8"`` bigint, ``">i4"`` integer)."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for i, kind in enumerate(kinds):
        fields += [(f"l{i}", ">i4"), (f"v{i}", kind)]
    return np.dtype(fields)


_PG_ROW = _pg_row(">i8", ">i4", ">i8", ">i8")  # the orders: customer, day, amount, cost
_PG_HEADER = 19  # signature (11) + flags (4) + header extension length (4, zero)
READERS = 2  # connections reading the orders side by side on PostgreSQL

Columns = list[npt.NDArray[Any]]


def _copy_binary(sql: str, params: list[Any], row: np.dtype) -> Columns:
    """A query through ``COPY (…) TO STDOUT (FORMAT BINARY)`` on the refresh's own connection, as one
    array per field (native integers of the field's width)."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # psycopg's own cursor (a client-side-binding one: it can mogrify)
        return _copy_rows(raw, raw.mogrify(sql, params), row)


def _copy_rows(raw: Any, query: str, row: np.dtype) -> Columns:
    """Run ``COPY (query) TO STDOUT (FORMAT BINARY)`` on a psycopg cursor and parse the fixed-width rows
    in slices: the server sends packed integers and no Python object is made per value. (psycopg still
    hands over each row as a message of its own, so the refresh's large reads go through ADBC.)"""
    parts: list[Columns] = []
    pending = bytearray()
    first = True
    with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT BINARY)") as copy:
        for data in copy:
            pending += data
            if first and len(pending) >= _PG_HEADER:
                del pending[:_PG_HEADER]
                first = False
            whole = (len(pending) // row.itemsize) * row.itemsize
            if whole >= 8_000_000:
                parts.append(_pg_rows(pending[:whole], row))
                del pending[:whole]
    if pending:
        pending = pending[:-2] if len(pending) % row.itemsize == 2 else pending  # the -1 trailer
        if pending:
            parts.append(_pg_rows(pending, row))
    return _joined(parts, row)


def _joined(parts: list[Columns], row: np.dtype) -> Columns:
    width = (len(row.names or ()) - 1) // 2
    if not parts:
        return [np.zeros(0, dtype=row[f"v{i}"].newbyteorder("=")) for i in range(width)]
    return [np.concatenate([p[i] for p in parts]) for i in range(width)]


def _pg_rows(data: bytes | bytearray, row: np.dtype) -> Columns:
    rows = np.frombuffer(bytes(data), dtype=row)
    width = (len(row.names or ()) - 1) // 2  # the count, then a length and a value per field
    if rows.size and (rows["n"] != width).any():
        raise ValueError("unexpected COPY row layout")
    return [rows[f"v{i}"].astype(row[f"v{i}"].newbyteorder("=")) for i in range(width)]


def _pg_arrow(sql: str, params: list[Any], table: str | None = None, parts: int | None = None) -> Columns:
    return _pg_job(sql, params, table, parts)()


def _pg_job(
    sql: str, params: list[Any], table: str | None = None, parts: int | None = None
) -> Callable[[], Columns]:
    """``sql`` (a SELECT of non-NULL integer columns, each with its own name) read through ADBC. With a
    ``table`` (the SELECT then ends in a WHERE on it), by ``parts`` connections at once, each over its
    own range of the table's pages (a TID range scan, PostgreSQL ≥ 14), all in the snapshot the first
    one exports — so together they see exactly what one reader would have seen. ADBC's driver turns the rows into Arrow columns in C; psycopg hands each row of a
    COPY to Python as its own message (≈ 8 s of client CPU for ten million orders, against ≈ 4 s for
    the server's side: bench/analytics_analysis.md). The query is quoted and the connection's parameters
    taken here; the returned function, which reads, touches no Django connection."""
    from .pg_staged import conninfo

    count = 1 if table is None else parts or READERS
    with connection.cursor() as cursor:
        query = cursor.cursor.mogrify(sql, params)  # quoted by psycopg, as for the refresh's own reads
    uri = conninfo()
    return lambda: _pg_fetch(uri, query, table, count)


def _pg_fetch(uri: str, query: str, table: str | None, parts: int) -> Columns:
    from concurrent.futures import ThreadPoolExecutor

    import adbc_driver_postgresql.dbapi as adbc
    import polars as pl

    # Every connection and cursor is closed on the way out, whatever fails (a leaked reader holds one
    # of the server's connections until the process ends).
    with contextlib.ExitStack() as closing:
        opened = [closing.enter_context(adbc.connect(uri)) for _ in range(parts)]
        cursors = [closing.enter_context(con.cursor()) for con in opened]
        for cur in cursors:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursors[0].execute("SELECT pg_export_snapshot()")
        snapshot = str(cursors[0].fetch_polars().item())
        for cur in cursors[1:]:
            cur.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        pages = 0
        if parts > 1:
            cursors[0].execute(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
            pages = int(cursors[0].fetch_polars().item())
        bounds: list[int | None] = [pages * i // parts for i in range(parts)]
        bounds.append(None)

        def read(i: int) -> Any:
            lo, hi = bounds[i], bounds[i + 1]
            where = f" AND ctid >= '({lo},0)'::tid" + (
                f" AND ctid < '({hi},0)'::tid" if hi is not None else ""
            )
            cursors[i].execute(query + (where if parts > 1 else ""))
            return cursors[i].fetch_polars()

        # The driver releases the GIL while it reads, so threads are enough.
        with ThreadPoolExecutor(parts) as pool:
            frames = list(pool.map(read, range(parts)))
    # Not rechunked: a copy of every column at once (hundreds of megabytes of purchase days) for nothing,
    # as the columns are converted next anyway.
    frame = pl.concat(frames, rechunk=False)
    del frames
    return frame_columns(frame)


@dataclass(frozen=True)
class Blobs:
    """A binary column as read: its values' bytes joined in row order and each value's length — no
    Python object per value (a million ``bytes`` took 0.5 s to make and as long again to join)."""

    data: npt.NDArray[np.uint8]
    lengths: IntArray

    @classmethod
    def of_series(cls, series: Any) -> Blobs:
        """From a Polars binary column: its bytes as one list of bytes, exploded in Polars' own code."""
        import polars as pl

        lengths = series.bin.size().to_numpy().astype(np.int64)
        data = series.cast(pl.List(pl.UInt8)).explode(empty_as_null=False).to_numpy()
        return cls(np.ascontiguousarray(data, dtype=np.uint8), lengths)

    @classmethod
    def of_values(cls, values: list[bytes]) -> Blobs:
        data = np.frombuffer(b"".join(values), dtype=np.uint8)
        return cls(data, np.fromiter(map(len, values), dtype=np.int64, count=len(values)))


def frame_columns(frame: Any) -> list[Any]:
    """A Polars frame's columns: NumPy arrays, or :class:`Blobs` for a binary column."""
    import polars as pl

    return [
        Blobs.of_series(series) if series.dtype == pl.Binary else series.to_numpy()
        for series in frame.get_columns()
    ]


def interaction_counts(
    customers: Customers, *, as_of: dt.date, windows: tuple[int, ...]
) -> dict[int, tuple[IntArray, IntArray]]:
    """Per window of ``w`` days and per customer code: the contacts in the last ``w`` days up to ``as_of``
    and in the ``w`` days before that — interactions (ENG-1 跟进记录) plus the service tickets and
    complaints the customer raised (SVC-1, SVC-2) — the engagement the churn and lifecycle rules
    compare. One pass per source counts every window at once."""
    return start_interaction_counts(as_of=as_of, windows=windows)(customers)


def start_interaction_counts(
    *, as_of: dt.date, windows: tuple[int, ...], pool: Executor | None = None
) -> Callable[[Customers], dict[int, tuple[IntArray, IntArray]]]:
    """:func:`interaction_counts` with its reads started in ``pool``; the returned function waits for them
    and counts per code of the customers given."""
    from django.utils import timezone

    from kehu.service.models import Ticket

    tz = timezone.get_current_timezone()
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    spans = sorted(set(windows))
    sources = (
        (Interaction._meta.db_table, "occurred_at", "deleted_at IS NULL"),
        (Ticket._meta.db_table, "created_at", "customer_id IS NOT NULL"),
    )
    # Every contact in the longest span gets the number of the band of days it falls in, between the
    # windows' bounds (end − w and end − 2w for each w, newest first); each window's recent and previous
    # counts are then sums of whole bands. The database only labels rows: grouping by customer there
    # took 1.9 s (SQLite, 1.6M interactions) against 0.6 s for reading the rows.
    bounds = sorted({end - dt.timedelta(days=k * w) for w in spans for k in (1, 2)}, reverse=True)
    reads = []
    for table, moment, live in sources if spans else ():
        band = "CASE " + " ".join(f"WHEN {moment} >= %s THEN {k}" for k in range(len(bounds))) + " END"
        sql = (
            f"SELECT {int_sql('customer_id')} AS c, {int_sql(band)} AS b"
            f" FROM {table} WHERE {moment} >= %s AND {moment} < %s AND {live}"
        )
        reads.append(start_bulk_ints(sql, [*bounds, bounds[-1], end], 2, pool))

    def counted(customers: Customers) -> dict[int, tuple[IntArray, IntArray]]:
        n, bands = len(customers), len(bounds)
        per_band = np.zeros(n * bands, dtype=np.int64)  # customer code × band, row-major
        for read in reads:
            block = read()
            codes, known = customers.codes(block[:, 0])  # a merged customer's contacts count for its keeper
            per_band += np.bincount(codes[known] * bands + block[known, 1], minlength=n * bands)
        table = per_band.reshape(n, bands)
        out = {}
        for w in spans:
            recent = [k for k, b in enumerate(bounds) if b >= end - dt.timedelta(days=w)]
            previous = [
                k
                for k, b in enumerate(bounds)
                if end - dt.timedelta(days=2 * w) <= b < end - dt.timedelta(days=w)
            ]
            out[w] = (table[:, recent].sum(axis=1), table[:, previous].sum(axis=1))
        return out

    return counted
