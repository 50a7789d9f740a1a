"""The customers' derived classification follows their orders (CUS-2): first order → 新客户 / 现实客户 /
成交客户, revenue of the last 12 months → value tier, a year without orders → 流失客户.

The order services call ``customer_facts_refresh`` for the customer of each order they write; time
alone also moves customers (an order leaves the 12-month window, a first order turns a year or three
years old), so a nightly job recomputes those whose figures can have changed since yesterday."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

from django.db.models import Q
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.customers.rules import ACTIVE_DAYS, LOYAL_YEARS
from kehu.customers.services import customer_record_facts

from .choices import OrderStatus
from .models import Order
from .selectors import customer_order_stats

# The nightly refresh looks back this many days, so a night the scheduler missed is caught up.
CATCH_UP_DAYS = 7


def customer_facts_refresh(*, customer_ids: Iterable[int], today: date | None = None) -> int:
    """Recompute the order figures of these customers and hand them to the customers domain, which
    derives value tier, tenure, status and deal status (unless a user overrode them). Returns how many
    customers changed. Called by the order services after their own permission checks, and by the
    nightly job, hence no ``require``."""
    ids = sorted(set(customer_ids))
    changed = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for customer_id, stats in customer_order_stats(customer_ids=chunk, today=today).items():
            changed += customer_record_facts(
                customer_id=customer_id,
                facts={
                    "first_order_date": stats.first_order_on,
                    "last_order_date": stats.last_order_on,
                    "order_count": stats.orders,
                    "revenue_12m": stats.revenue_12m,
                },
            )
    return changed


def customers_due_for_refresh(*, today: date | None = None) -> list[int]:
    """Customers whose derived classes can change today by the calendar alone: an order leaving the
    12-month window (revenue, 现实 → 流失), a first order turning one (新 → 老) or LOYAL_YEARS old."""
    today = today or timezone.localdate()
    window = [today - timedelta(days=ACTIVE_DAYS + back) for back in range(CATCH_UP_DAYS + 1)]
    oldest, newest = min(window), max(window)
    aged_orders = (
        Order.objects.filter(order_date__gte=oldest, order_date__lte=newest)
        .exclude(status=OrderStatus.CANCELLED)
        .values_list("customer_id", flat=True)
        .distinct()
    )
    anniversaries = Q()
    for years in (1, LOYAL_YEARS):
        since = today - timedelta(days=365 * years + CATCH_UP_DAYS)
        until = today - timedelta(days=365 * years)
        anniversaries |= Q(first_order_date__gte=since, first_order_date__lte=until)
    turning = Customer.objects.filter(anniversaries, deleted_at__isnull=True).values_list("pk", flat=True)
    return sorted(set(aged_orders) | set(turning))


def customer_facts_refresh_due(*, today: date | None = None) -> int:
    """The nightly part: refresh the customers ``customers_due_for_refresh`` names."""
    return customer_facts_refresh(customer_ids=customers_due_for_refresh(today=today), today=today)
