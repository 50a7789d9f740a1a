"""Reading the ledger for the refresh (kehu.analytics.facts): the orders read by several PostgreSQL
connections side by side are exactly the orders the refresh's own connection reads alone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from hypothesis import given
from hypothesis import strategies as st

from kehu.analytics import facts as F
from kehu.orders.models import Order

from . import world as W


def _rows(orders: F.Orders) -> list[tuple[int, int, float, float]]:
    cost = np.nan_to_num(orders.cost, nan=-1.0)
    columns = (orders.customer_id.tolist(), orders.day.tolist(), orders.amount.tolist(), cost.tolist())
    return sorted(zip(*columns, strict=True))


def _read_together(as_of: dt.date, windows: tuple[int, ...]) -> tuple[F.Customers, Any, F.Orders]:
    """The customers, the interaction counts and the orders read side by side, as the refresh starts them."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        later_orders = F.start_orders(as_of=as_of, pool=pool)
        later_customers = F.start_customers(pool)
        later_counts = F.start_interaction_counts(as_of=as_of, windows=windows, pool=pool)
        customers = later_customers()
        return customers, later_counts(customers), later_orders()


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="side-by-side readers are PostgreSQL's (SQLite's file is read by the refresh alone)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_orders_read_side_by_side_are_the_orders_read_alone(cast: SimpleNamespace) -> None:
    w = W.build(cast)
    table = Order._meta.db_table
    alone = F.read_orders(as_of=w.as_of)  # outside a transaction: READERS connections at once
    customers = F.read_customers()  # likewise through ADBC, one connection
    counts = F.interaction_counts(customers, as_of=w.as_of, windows=(90, 180))
    with transaction.atomic():
        inside = F.read_orders(as_of=w.as_of)  # inside one: the refresh's own connection alone
        customers_inside = F.read_customers()
        counts_inside = F.interaction_counts(customers_inside, as_of=w.as_of, windows=(90, 180))
    assert customers.ids.tolist() == customers_inside.ids.tolist() and len(customers) >= len(w.buyers)
    assert customers.owner.tolist() == customers_inside.owner.tolist()
    assert all(counts[k][i].tolist() == counts_inside[k][i].tolist() for k in (90, 180) for i in (0, 1))
    counted = sum(len(b.counted(w.as_of)) for b in w.buyers)
    assert len(alone) == len(inside) == counted > 0
    assert _rows(alone) == _rows(inside)
    assert alone.day.dtype == np.int32 and alone.customer_id.dtype == np.int64
    # Started side by side (threads, one ADBC connection each), the reads give the same again.
    customers_together, counts_together, orders_together = _read_together(w.as_of, (90, 180))
    assert customers_together.ids.tolist() == customers.ids.tolist()
    assert _rows(orders_together) == _rows(alone)
    assert all(counts_together[k][i].tolist() == counts[k][i].tolist() for k in (90, 180) for i in (0, 1))
    # Any number of readers gives the same rows (the table may have fewer pages than readers: the test
    # database is fresh; or many, left by earlier tests — so no more readers than a few connections).
    sql = f"SELECT CAST(customer_id AS BIGINT) AS c, CAST(id AS BIGINT) AS i FROM {table} WHERE id > %s"
    single = F._copy_binary(sql, [0], F._pg_row(">i8", ">i8"))
    for parts in (1, 2, 3, 5):
        together = F._pg_arrow(sql, [0], table, parts=parts)
        assert sorted(together[1].tolist()) == sorted(single[1].tolist())
        assert len(together[0]) == len(single[0]) == Order.objects.count()


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="the Arrow reader is SQLite's"
)
@pytest.mark.django_db
def test_an_sqlite_file_read_through_arrow_gives_the_orders_read_by_the_connection(
    cast: SimpleNamespace, tmp_path: Any
) -> None:
    w = W.build(cast)
    # Amounts stored whole (SQLite keeps them as integers) and with cents (as reals), a cost unknown.
    first = Order.objects.order_by("pk").first()
    assert first is not None
    Order.objects.filter(pk=first.pk).update(total_amount=Decimal("1200.00"), cost_amount=None)
    inside = F.read_orders(as_of=w.as_of)  # the test's in-memory database: its own connection reads
    # The same database as a file (serialised as this connection sees it, its open transaction
    # included), read through ADBC.
    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    path.write_bytes(connection.connection.serialize())
    columns = F._sqlite_orders_arrow(str(path), Order._meta.db_table, w.as_of)
    arrow = F.Orders(
        customer_id=columns[0], day=columns[1], amount=columns[2] / 100.0,
        cost=np.where(columns[3] < 0, np.nan, columns[3] / 100.0),
    )  # fmt: skip
    assert len(arrow) == len(inside) == sum(len(b.counted(w.as_of)) for b in w.buyers)
    assert _rows(arrow) == _rows(inside)
    assert np.isnan(arrow.cost).any() and (arrow.amount == 1200.0).any()
    assert F._sqlite_orders_arrow(str(path), Order._meta.db_table, dt.date(1990, 1, 1))[0].size == 0


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="the Arrow reader is SQLite's"
)
@pytest.mark.django_db
def test_every_read_of_the_refresh_gives_the_same_through_arrow(
    cast: SimpleNamespace, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.utils import timezone

    from kehu.engagement import services as engagement_services

    w = W.build(cast)
    now = timezone.now()
    customer = w.buyers[0].customer
    for days in (1, 20, 100, 170, 300):  # in and around both windows, compared as stored (UTC text)
        engagement_services.interaction_create(
            customer_id=customer.pk,
            data={"channel": "phone", "occurred_at": now - dt.timedelta(days=days), "summary": f"{days} 天前"},
            by=cast.admin,
        )  # fmt: skip

    def reads() -> tuple[Any, ...]:
        customers = F.read_customers()
        counts = F.interaction_counts(customers, as_of=w.as_of, windows=(30, 90, 180))
        return (
            customers.ids.tolist(),
            customers.owner.tolist(),
            {k: (a.tolist(), b.tolist()) for k, (a, b) in counts.items()},
        )

    alone = reads()
    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    path.write_bytes(connection.connection.serialize())
    with monkeypatch.context() as m:  # as if the refresh ran outside a transaction on that file
        m.setattr(F, "_sqlite_file", lambda: str(path))
        m.setattr(connections["default"], "in_atomic_block", False)
        through_arrow = reads()
        orders = F.read_orders(as_of=w.as_of)
        # The child processes side by side, as the refresh starts them.
        customers, counts, orders_side_by_side = _read_together(w.as_of, (30, 90, 180))
        side_by_side = (
            customers.ids.tolist(),
            customers.owner.tolist(),
            {k: (a.tolist(), b.tolist()) for k, (a, b) in counts.items()},
        )
    assert through_arrow == alone == side_by_side
    assert _rows(orders_side_by_side) == _rows(orders)
    assert sum(a[alone[0].index(customer.pk)] for a, _b in alone[2].values()) > 0
    assert _rows(orders) == _rows(F.read_orders(as_of=w.as_of))


@pytest.mark.parametrize(
    "ids", [[3, 5, 9, 10], [2, 7, 10**12, 10**12 + 5]]
)  # dense: a table; sparse: a search
def test_customer_codes_are_positions_among_the_live_customers(ids: list[int]) -> None:
    customers = F.Customers(ids=np.array(ids, dtype=np.int64), owner=np.zeros(4, dtype=np.int64))
    asked = np.array([ids[2], -1, ids[0], ids[3] + 1, ids[1] + 1, ids[3], 0], dtype=np.int64)
    codes, known = customers.codes(asked)
    assert known.tolist() == [True, False, True, False, False, True, False]
    assert codes[known].tolist() == [2, 0, 3]
    empty = F.Customers(ids=np.zeros(0, dtype=np.int64), owner=np.zeros(0, dtype=np.int64))
    assert not empty.codes(asked)[1].any()


@pytest.mark.parametrize(
    "ids", [[3, 5, 9, 10], [2, 7, 10**12, 10**12 + 5]]
)  # dense: a table; sparse: a search
def test_a_merged_customers_id_gives_the_code_of_the_customer_it_ended_in(ids: list[int]) -> None:
    # 4 merged into ids[1]; 6 merged into 4 (so ids[1] too); 8 into a customer no longer live; one merged
    # customer newer than every live one, into ids[0].
    top = ids[3] + 100
    merged = np.array([[4, ids[1]], [6, ids[1]], [8, 11], [top, ids[0]]], dtype=np.int64)
    customers = F.Customers(
        ids=np.array(ids, dtype=np.int64), owner=np.zeros(4, dtype=np.int64), merged=merged
    )
    asked = np.array([4, 6, 8, ids[2], top, 12], dtype=np.int64)
    codes, known = customers.codes(asked)
    assert known.tolist() == [True, True, False, True, True, False]
    assert codes[known].tolist() == [1, 1, 2, 0]
    assert customers.roots(asked).tolist() == [ids[1], ids[1], 11, ids[2], ids[0], 12]
    # Ids already resolved (the purchase days) are looked up as they are.
    plain, plain_known = customers.codes(asked, follow_merges=False)
    assert plain_known.tolist() == [False, False, False, True, False, False] and plain[3] == 2


@given(
    ids=st.lists(st.integers(min_value=-(2**40), max_value=2**40), max_size=300),
    dense_from=st.one_of(st.none(), st.integers(min_value=-5, max_value=10**6)),
)
def test_ascending_order_is_the_sorted_order_of_any_ids(ids: list[int], dense_from: int | None) -> None:
    # Dense ids (a permutation of a range: the slot path), or any, repeated ones included (sorted).
    if dense_from is not None:
        ids = list(np.random.default_rng(len(ids)).permutation(np.arange(dense_from, dense_from + len(ids))))
    values = np.array(ids, dtype=np.int64)
    order = F.ascending_order(values)
    assert order.dtype == np.intp
    assert np.array_equal(order, np.argsort(values, kind="stable"))


def test_ascending_order_of_repeated_dense_ids_keeps_every_row() -> None:
    values = np.array([3, 1, 2, 1, 3], dtype=np.int64)  # dense, but 1 and 3 twice: sorted, not slotted
    assert F.ascending_order(values).tolist() == [1, 3, 2, 0, 4]
