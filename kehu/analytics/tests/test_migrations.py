"""The purchase-delta and purchase-summary migrations (analytics 0010, 0011) undone and done again: going
back restores the triggers that mark a changed order's customer stale, going forward the ones that record
the change itself — checked by changing an order each time, not only by reading the catalogue."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kehu.orders.models import Order

from . import world as W

BEFORE = ("analytics", "0009_relationship_periods_per_ledger")
LATEST = ("analytics", "0011_purchase_summary")


def _triggers() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'analytics%%' AND NOT tgisinternal")
        return {name for (name,) in cursor.fetchall()}


def _tables() -> set[str]:
    return set(connection.introspection.table_names())


def _count(table: str, customer_id: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE customer_id = %s", [customer_id])
        return int(cursor.fetchone()[0])


def _migrate(target: tuple[str, str]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate([target])


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="PostgreSQL runs migrations inside the test's transaction; SQLite's schema editor cannot",
)
@pytest.mark.django_db
def test_the_delta_and_summary_migrations_go_back_and_forth(cast: SimpleNamespace) -> None:
    W.build(cast)
    order = Order.objects.exclude(status="cancelled").order_by("id").first()
    assert order is not None
    customer = order.customer_id
    on_orders = {
        "analytics_%s_on_order_insert",
        "analytics_%s_on_order_update",
        "analytics_%s_on_order_delete",
    }
    assert {t % "delta" for t in on_orders} <= _triggers()

    _migrate(BEFORE)
    assert {t % "stale" for t in on_orders} <= _triggers()
    assert not {t % "delta" for t in on_orders} & _triggers()
    assert not {"analytics_purchasedelta", "analytics_purchasesummary"} & _tables()
    stale = _count("analytics_purchasedaysstale", customer)
    Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount + 1)
    assert _count("analytics_purchasedaysstale", customer) == stale + 1  # the customer marked stale

    _migrate(LATEST)
    assert {t % "delta" for t in on_orders} <= _triggers()
    assert not {t % "stale" for t in on_orders} & _triggers()
    assert {"analytics_purchasedelta", "analytics_purchasesummary"} <= _tables()
    Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount + 2)
    assert _count("analytics_purchasedelta", customer) == 1  # the change itself recorded, summed
    assert _count("analytics_purchasedaysstale", customer) == stale + 1  # and no more stale marks
