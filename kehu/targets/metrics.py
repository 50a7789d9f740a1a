"""What each target metric has reached (SAL-8), per owner, in one aggregate query per metric.

A person's progress counts the records they own; a department's counts those of the people currently in
it and its sub-departments, so moving a rep moves their numbers with them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.utils import timezone

from kehu.customers.models import Customer
from kehu.sales.choices import OpportunityStatus
from kehu.sales.models import Opportunity

from .choices import Metric

ByOwner = dict[int, Decimal]


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tzinfo=tz), datetime.combine(
        end + timedelta(days=1), time.min, tzinfo=tz
    )


def _counted(rows: Iterable[Any]) -> ByOwner:
    return {row["owner_id"]: Decimal(row["n"]) for row in rows}


def deals_by_owner(owner_ids: list[int], start: date, end: date) -> ByOwner:
    """Opportunities won in the period (closed as 赢单), by their owner."""
    since, until = _bounds(start, end)
    rows = (
        Opportunity.objects.filter(
            owner_id__in=owner_ids,
            status=OpportunityStatus.WON,
            deleted_at__isnull=True,
            closed_at__gte=since,
            closed_at__lt=until,
        )
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    return _counted(rows)


def new_customers_by_owner(owner_ids: list[int], start: date, end: date) -> ByOwner:
    """Customers whose first order falls in the period (new customers won, CUS-2), by their owner."""
    rows = (
        Customer.objects.filter(
            owner_id__in=owner_ids,
            deleted_at__isnull=True,
            merged_into__isnull=True,
            first_order_date__gte=start,
            first_order_date__lte=end,
        )
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
    )
    return _counted(rows)


ACTUALS: dict[str, Callable[[list[int], date, date], ByOwner]] = {
    Metric.DEALS: deals_by_owner,
    Metric.NEW_CUSTOMERS: new_customers_by_owner,
}


def actual_by_owner(metric: str, owner_ids: Iterable[int], start: date, end: date) -> ByOwner:
    ids = sorted(set(owner_ids))
    if not ids:
        return {}
    return ACTUALS[metric](ids, start, end)
