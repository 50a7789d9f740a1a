"""The per-customer purchase days (kehu.analytics.purchases): the orders table's triggers record each
change to a customer's purchases as a delta, merges mark customers stale, ``sync`` writes their rows
again, and the rows are the orders merged by day — checked against the orders summed in Python, on
SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.analytics import facts as F
from kehu.analytics import purchases as P
from kehu.analytics import sqlite_adbc
from kehu.analytics.models import PurchaseDays, PurchaseDaysStale, PurchaseDelta
from kehu.customers.models import Customer
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order

from . import world as W

Record = tuple[int, int, int, int, int, int]


def _cents(value: Decimal | None) -> int:
    return -1 if value is None else int(value * 100)


def _expected() -> dict[int, list[Record]]:
    """Every customer's purchase days summed here, in Python, from the orders as stored (a merged
    customer's under the customer it was merged into)."""
    into = dict(Customer.objects.filter(merged_into__isnull=False).values_list("id", "merged_into_id"))
    days: dict[int, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, 0]))
    for customer, day, status, amount, cost in Order.objects.values_list(
        "customer_id", "order_date", "status", "total_amount", "cost_amount"
    ):
        if status == OrderStatus.CANCELLED:
            continue
        while customer in into:
            customer = into[customer]
        d = days[customer][F.day_number(day)]
        d[0] += 1
        d[2] += _cents(amount)
        if cost is not None:
            d[1] += 1
            d[3] += _cents(amount)
            d[4] += _cents(cost)
    return {c: [(day, *v) for day, v in sorted(per.items())] for c, per in days.items()}  # type: ignore[misc]


def _stored() -> dict[int, list[Record]]:
    out = {}
    for row in PurchaseDays.objects.all():
        records = np.frombuffer(bytes(row.records), dtype=P.RECORD)
        assert records.shape[0] == row.days > 0
        out[row.customer_id] = [tuple(int(v) for v in r) for r in records.tolist()]
    return out


def _read() -> dict[int, list[Record]]:
    """The rows as the refresh reads them (sorted by customer and day)."""
    days = P.start_read()()
    assert np.all(np.diff(days.customer_id) >= 0)
    out: dict[int, list[Record]] = defaultdict(list)
    for cid, record in zip(days.customer_id.tolist(), days.records.tolist(), strict=True):
        out[cid].append(tuple(int(v) for v in record))  # type: ignore[arg-type]
    return dict(out)


def _stale() -> list[int | None]:
    return list(PurchaseDaysStale.objects.order_by("id").values_list("customer_id", flat=True))


def _delta_customers() -> set[int]:
    """The customers of the deltas waiting, whose changes do not cancel out (PostgreSQL sums a statement's
    changes per customer and day; SQLite keeps a row per order)."""
    sums: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for row in PurchaseDelta.objects.values_list(
        "customer_id", "day", "orders", "costed", "amount", "costed_amount", "cost"
    ):
        for i, v in enumerate(row[2:]):
            sums[(row[0], row[1])][i] += v
    return {c for (c, _), v in sums.items() if any(v)}


@pytest.mark.django_db
def test_every_change_to_an_order_that_counts_marks_its_customer_and_sync_writes_the_rows_again(
    cast: SimpleNamespace,
) -> None:
    w = W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)  # as after the migration: every row to build
    synced = P.sync()
    assert synced.mode == "all" and synced.customers == len(_expected()) > 0
    assert _stale() == []
    assert _stored() == _expected() == _read()
    # Costs unknown on some days, partly known on others: both are in the world's orders.
    assert any(r[2] == 0 for rows in _stored().values() for r in rows)
    assert any(0 < r[2] == r[1] for rows in _stored().values() for r in rows)

    with_orders = [x.customer for x in w.buyers if Order.objects.filter(customer=x.customer).exists()]
    live = Order.objects.exclude(status=OrderStatus.CANCELLED)
    a = next(c for c in with_orders if live.filter(customer=c).count() >= 3)
    b, c = [x for x in with_orders if x != a][:2]
    orders = list(live.filter(customer=a).order_by("pk"))
    moved = Order.objects.filter(customer=b).order_by("pk").first()
    assert len(orders) >= 3 and moved is not None
    # Changes that cannot change a purchase day record nothing.
    Order.objects.filter(pk=orders[0].pk).update(notes="备注改了", promised_ship_on=w.as_of)
    Order.objects.filter(pk=orders[0].pk).update(status=OrderStatus.IN_PRODUCTION)
    assert not PurchaseDelta.objects.exists() and _stale() == []
    # Each change that can: an amount, a cost, a cancellation, a date, another customer, a deletion, a new order.
    Order.objects.filter(pk=orders[0].pk).update(total_amount=Decimal("1234.56"))
    Order.objects.filter(pk=orders[1].pk).update(
        cost_amount=None if orders[1].cost_amount is not None else Decimal("1.23")
    )
    Order.objects.filter(pk=orders[2].pk).update(status=OrderStatus.CANCELLED)
    assert _delta_customers() == {a.pk}
    Order.objects.filter(pk=moved.pk).update(customer=c, order_date=w.as_of - dt.timedelta(days=1))
    assert _delta_customers() == {a.pk, b.pk, c.pk}
    Order.objects.filter(pk=orders[0].pk).delete()
    template = Order.objects.filter(customer=c).first()
    assert template is not None
    template.pk, template.number, template.version = None, "NEW-1", 1
    template.order_date = w.as_of
    template.save()
    assert _stale() == []

    synced = P.sync()
    assert (
        synced.mode == "some" and synced.customers == 3 and synced.stale_rows == 0 and synced.delta_rows > 0
    )
    assert _stale() == [] and not PurchaseDelta.objects.exists()
    assert _stored() == _expected() == _read()
    # A customer whose every order is cancelled loses its row.
    Order.objects.filter(customer=b).update(status=OrderStatus.CANCELLED)
    assert P.sync().mode == "some"
    assert b.pk not in _stored() and _stored() == _expected()
    # … and gets it back when they are no longer cancelled.
    Order.objects.filter(customer=b).update(status=OrderStatus.CONFIRMED)
    assert P.sync().mode == "some"
    assert b.pk in _stored() and _stored() == _expected()
    assert P.sync() == P.Synced("none", 0, 0)


@pytest.mark.django_db
def test_a_merged_customers_purchase_days_count_for_the_customer_it_was_merged_into(
    cast: SimpleNamespace,
) -> None:
    from kehu.customers.services import customer_merge

    w = W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    P.sync()
    with_orders = [b.customer for b in w.buyers if b.customer.pk in _stored()]
    keep, drop, third = with_orders[:3]
    before = _stored()
    customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.admin)
    # The merge marks both: the merged customer's orders move to the keeper (on SQLite a row per order).
    assert sorted(set(_stale())) == sorted([drop.pk, keep.pk])
    synced = P.sync()
    assert synced.mode == "some" and synced.customers == 2  # the merged customer's row gone, the keeper's
    assert not PurchaseDelta.objects.exists()
    stored = _stored()
    assert drop.pk not in stored and stored == _expected() == _read()
    assert sum(r[1] for r in stored[keep.pk]) == sum(r[1] for r in before[keep.pk] + before[drop.pk])
    # A merge of the keeper into a third customer: all three customers' orders are the third's.
    customer_merge(keep_id=third.pk, drop_id=keep.pk, by=cast.admin)
    # A new order still filed under the first merged customer (an import, say) marks it: its keeper's
    # row is written again, its own orders included.
    template = Order.objects.filter(customer=third).first()
    assert template is not None
    template.pk, template.number, template.version, template.customer = None, "NEW-2", 1, drop
    template.save()
    assert P.sync().mode == "some"
    stored = _stored()
    assert keep.pk not in stored and drop.pk not in stored and stored == _expected()
    assert (
        sum(r[1] for r in stored[third.pk])
        == sum(r[1] for r in before[keep.pk] + before[drop.pk] + before[third.pk]) + 1
    )
    # Only a merged customer marked (its keeper not): the keeper is marked too, its own orders read with
    # the merged ones, and every row the sync added is cleared.
    PurchaseDaysStale.objects.create(customer_id=drop.pk)
    assert P.sync() == P.Synced("some", 2, 2)
    assert _stale() == [] and _stored() == stored


@pytest.mark.django_db
def test_sync_deletes_exactly_the_stale_rows_it_read() -> None:
    PurchaseDaysStale.objects.all().delete()  # the migration's "everyone" row, where it is still there
    rows = [PurchaseDaysStale.objects.create(customer_id=i) for i in range(1, 8)]
    ids = np.array([r.pk for r in rows], dtype=np.int64)
    # Read: all but the third and the last (committed later, say, or by a transaction still open).
    P._clear(ids[[0, 1, 3, 4, 5]])
    assert _stale() == [3, 7]
    P._clear(ids[[6]])
    assert _stale() == [3]


def _merged_in_python(orders: list[tuple[int, int, int, int]]) -> list[tuple[int, Record]]:
    days: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    for customer, day, amount, cost in orders:
        d = days[(customer, day)]
        d[0] += 1
        d[2] += amount
        if cost >= 0:
            d[1] += 1
            d[3] += amount
            d[4] += cost
    return [(c, (day, *v)) for (c, day), v in sorted(days.items())]  # type: ignore[misc]


@hsettings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 40), st.integers(9_000, 9_060), st.integers(0, 10**9), st.integers(-1, 10**8)
        ),
        max_size=120,
    )
)
def test_merging_orders_by_day_sums_each_customers_day(orders: list[tuple[int, int, int, int]]) -> None:
    columns = [np.array([o[i] for o in orders], dtype=np.int64) for i in range(4)]
    days = P.merge_orders(*columns)
    got = [
        (c, tuple(int(v) for v in r))
        for c, r in zip(days.customer_id.tolist(), days.records.tolist(), strict=True)
    ]
    assert got == _merged_in_python(orders)
    # Rows in any order decode to the same sorted records.
    rows = list(P._rows(days))
    # A slice of the customers' runs gives those customers' rows (the Arrow files are written a slice
    # at a time: purchases._arrow_slices).
    starts, ends = P._customer_runs(days)
    cut = len(rows) // 3
    assert [*P._rows(days, (starts[:cut], ends[:cut])), *P._rows(days, (starts[cut:], ends[cut:]))] == rows
    rng = np.random.default_rng(len(rows))
    shuffled = [rows[i] for i in rng.permutation(len(rows))]
    decoded = P._decode(
        np.array([r[0] for r in shuffled], dtype=np.int64),
        np.array([r[1] for r in shuffled], dtype=np.int64),
        F.Blobs.of_values([r[2] for r in shuffled]),
    )
    assert decoded.customer_id.tolist() == days.customer_id.tolist()
    assert decoded.records.tobytes() == days.records.tobytes()


@hsettings(max_examples=60, deadline=None)
@given(values=st.lists(st.binary(max_size=80), max_size=40), cut=st.integers(min_value=0, max_value=40))
def test_a_binary_column_from_polars_is_its_values_joined(values: list[bytes], cut: int) -> None:
    import polars as pl

    # Two chunks, as the parts of a read are concatenated, and empty values among them.
    head, tail = values[:cut], values[cut:]
    series = pl.concat(
        [pl.Series("r", head, dtype=pl.Binary), pl.Series("r", tail, dtype=pl.Binary)], rechunk=False
    )
    got, want = F.Blobs.of_series(series), F.Blobs.of_values(values)
    assert got.data.tobytes() == want.data.tobytes() == b"".join(values)
    assert got.lengths.tolist() == want.lengths.tolist() == [len(v) for v in values]


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="the child process is SQLite's"
)
@pytest.mark.django_db
def test_an_sqlite_file_is_built_and_read_through_arrow_as_through_the_connection(
    cast: SimpleNamespace, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    P.sync()
    expected = _read()
    # The same database as a file, emptied of purchase days and marked for a build: built there by the
    # ADBC child process, read back by it.
    PurchaseDays.objects.all().delete()
    PurchaseDaysStale.objects.create(customer_id=None)
    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    path.write_bytes(connection.connection.serialize())
    import sqlite3

    with monkeypatch.context() as m:  # as the refresh runs: outside a transaction, on that file
        m.setattr(F, "_sqlite_file", lambda: str(path))
        m.setattr(connections["default"], "in_atomic_block", False)
        m.setattr(P, "_clear", lambda ids, table=None: None)  # the rows to clear are in the copy
        m.setattr(sqlite_adbc, "CHUNK_ROWS", 3)  # each writer's customers in several Arrow files
        assert P.sync().mode == "all"
        assert _read() == expected
    with sqlite3.connect(path) as copy:
        assert copy.execute("SELECT count(*) FROM analytics_purchasedays").fetchone()[0] == len(expected)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="other connections read PostgreSQL outside a transaction (SQLite's file: the test above)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_purchase_days_built_and_read_outside_a_transaction_are_those_built_inside_one(
    cast: SimpleNamespace,
) -> None:
    W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    with transaction.atomic():
        assert P.sync().mode == "all"  # the orders read on this connection
        inside = _read()
        transaction.set_rollback(True)
    assert P.sync().mode == "all"  # the orders read by ADBC connections side by side
    assert _stale() == []
    assert _read() == inside == _stored() == _expected()


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_changes_to_orders_summed_as_deltas_give_the_rows_built_from_the_orders(
    cast: SimpleNamespace, seed: int
) -> None:
    """Two hundred random changes to a few customers' orders — new orders, deletions, amounts, costs,
    cancellations and their undoing, other days, other customers, several orders in one statement —
    with a sync now and then: every sync's rows equal the rows built from the orders as they stand."""
    w = W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    assert P.sync().mode == "all"
    rng = np.random.default_rng(seed)
    customers = [b.customer for b in w.buyers if Order.objects.filter(customer=b.customer).exists()][:6]
    for step in range(200):
        W.random_order_change(
            rng, customers, tag=f"R{seed}",
            day=lambda: w.as_of - dt.timedelta(days=int(rng.integers(0, 400))),
            near=lambda: w.as_of - dt.timedelta(days=int(rng.integers(0, 3))),
        )  # fmt: skip
        if step % 40 == 39:
            assert P.sync().mode in ("some", "none")
            assert not PurchaseDelta.objects.exists() and _stale() == []
            assert _stored() == _expected()
    P.sync()
    assert _stored() == _expected() == _read()


@pytest.mark.django_db
def test_impossible_sums_are_built_from_the_customers_orders_instead(
    cast: SimpleNamespace, caplog: pytest.LogCaptureFixture
) -> None:
    """A delta that no change of an order could have made (written by hand, say): the sync notices the
    day that would have fewer than no orders and builds that customer's row from its orders."""
    W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    P.sync()
    expected = _expected()
    victim, other = sorted(expected)[:2]
    day = expected[victim][0][0]
    PurchaseDelta.objects.create(
        customer_id=victim, day=day, orders=-50, costed=0, amount=-1, costed_amount=0, cost=0
    )
    Order.objects.filter(customer_id=other).update(total_amount=Decimal("7.00"))
    synced = P.sync()
    assert synced.mode == "some" and synced.customers == 2
    assert "impossible" in caplog.text
    assert _stored() == _expected() and not PurchaseDelta.objects.exists() and _stale() == []


@pytest.mark.django_db
def test_a_change_made_while_every_row_is_built_is_taken_up_by_the_next_sync(
    cast: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build reads every order on connections of its own, so whether a change committed meanwhile is
    in its read is not known: the change's delta becomes a stale row, and the next sync builds that
    customer's row from its orders — right either way."""
    w = W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    buyer = next(b.customer for b in w.buyers if Order.objects.filter(customer=b.customer).exists())
    read = F.start_order_cents

    def read_then_change(**kwargs: Any) -> Any:
        later = read(**kwargs)

        def columns() -> Any:
            got = later()
            # Made after the orders were read.
            Order.objects.filter(customer=buyer).update(total_amount=Decimal("99.99"))
            return got

        return columns

    with monkeypatch.context() as m:
        m.setattr(F, "start_order_cents", read_then_change)
        assert P.sync().mode == "all"
    assert not PurchaseDelta.objects.exists() and _stale() == [buyer.pk]
    assert P.sync() == P.Synced("some", 1, 1)
    assert _stored() == _expected() == _read()


@hsettings(max_examples=80, deadline=None)
@given(
    counts=st.lists(st.integers(1, 6), min_size=1, max_size=200),
    moved=st.integers(0, 4),
    shuffled=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_rows_read_out_of_order_are_put_in_order_record_for_record(
    counts: list[int], moved: int, shuffled: bool, seed: int
) -> None:
    """Rows read in table order — sorted but for a few written again at the end, or in no order at all —
    come out with each row's records in the sorted place: by blocks of rows that lie together, or by a
    gather of every record (which way depends on how many blocks there are; both are drawn here)."""
    rng = np.random.default_rng(seed)
    n = len(counts)
    if shuffled:
        read = rng.permutation(n)
    else:
        at_end = rng.choice(n, size=min(moved, n), replace=False)
        read = np.r_[np.setdiff1d(np.arange(n), at_end), rng.permutation(at_end)]
    count = np.array(counts, dtype=np.int64)[read]
    # Record j of row r holds (r, j) so that every record is told apart.
    blocks = []
    for r, c in zip(read.tolist(), count.tolist(), strict=True):
        block = np.zeros(c, P.RECORD)
        block["day"], block["orders"] = r, np.arange(c)
        blocks.append(block)
    records = np.concatenate(blocks)
    order = np.argsort(read, kind="stable")
    got = P._in_customer_order(records, count, order)
    want = np.concatenate([blocks[i] for i in order.tolist()])
    assert got.tobytes() == want.tobytes()
