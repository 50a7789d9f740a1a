"""Reading the ledger for the refresh (kehu.analytics.facts): the orders read by several PostgreSQL
connections side by side are exactly the orders the refresh's own connection reads alone."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from django.conf import settings
from django.db import connection, transaction

from kehu.analytics import facts as F
from kehu.orders.models import Order

from . import world as W


def _rows(orders: F.Orders) -> list[tuple[int, int, float, float]]:
    cost = np.nan_to_num(orders.cost, nan=-1.0)
    columns = (orders.customer_id.tolist(), orders.day.tolist(), orders.amount.tolist(), cost.tolist())
    return sorted(zip(*columns, strict=True))


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="side-by-side readers are PostgreSQL's (SQLite's file is read by the refresh alone)",
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_orders_read_side_by_side_are_the_orders_read_alone(cast: SimpleNamespace) -> None:
    w = W.build(cast)
    table = Order._meta.db_table
    # Spread the ledger over several pages, so each reader's page range holds some of it.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")
        pages = cursor.fetchone()[0]
    assert pages >= 1
    alone = F.read_orders(as_of=w.as_of)  # outside a transaction: READERS connections at once
    with transaction.atomic():
        inside = F.read_orders(as_of=w.as_of)  # inside one: the refresh's own connection alone
    counted = sum(len(b.counted(w.as_of)) for b in w.buyers)
    assert len(alone) == len(inside) == counted > 0
    assert _rows(alone) == _rows(inside)
    assert alone.day.dtype == np.int32 and alone.customer_id.dtype == np.int64
    # Any number of readers, more than the table has pages included, gives the same rows.
    sql = f"SELECT CAST(customer_id AS BIGINT), CAST(id AS BIGINT) FROM {table} WHERE id > %s"
    row = F._pg_row(">i8", ">i8")
    single = F._copy_binary(sql, [0], row)
    for parts in (1, 2, 3, pages + 2):
        together = F._copy_beside(sql, [0], table, row, parts=parts)
        assert sorted(together[1].tolist()) == sorted(single[1].tolist())
        assert len(together[0]) == len(single[0]) == Order.objects.count()
