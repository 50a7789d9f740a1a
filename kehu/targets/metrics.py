"""What each target metric has reached (SAL-8), per owner, in one aggregate query per metric.

A person's progress counts the records they own; a department's counts those of the people currently in
it and its sub-departments, so moving a rep moves their numbers with them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.utils import timezone

from kehu.approvals.choices import ApprovalStatus
from kehu.customers.models import Customer
from kehu.orders.choices import ContractStatus
from kehu.orders.models import Contract, PaymentRecord
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


def _summed(rows: Iterable[Any]) -> ByOwner:
    return {row["owner_id"]: Decimal(row["total"] or 0) for row in rows}


# Targets are set in CNY; documents in another currency are not converted (no exchange-rate table yet)
# and do not count — the targets page says so.
TARGET_CURRENCY = "CNY"


def contract_amount_by_owner(owner_ids: list[int], start: date, end: date) -> ByOwner:
    """The amount of contracts signed in the period that are in force or completed (a draft is not yet a
    contract, a terminated one did not hold), by their owner."""
    rows = (
        Contract.objects.filter(
            owner_id__in=owner_ids,
            signed_on__gte=start,
            signed_on__lte=end,
            status__in=[ContractStatus.IN_FORCE, ContractStatus.COMPLETED],
            currency=TARGET_CURRENCY,
        )
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("amount"))
    )
    return _summed(rows)


def payment_amount_by_owner(owner_ids: list[int], start: date, end: date) -> ByOwner:
    """Payments received (回款) in the period, approved ones only — an unapproved record is not yet money
    in the bank (SAL-7) — by the owner of the contract's record."""
    rows = (
        PaymentRecord.objects.filter(
            owner_id__in=owner_ids,
            received_on__gte=start,
            received_on__lte=end,
            approval_status=ApprovalStatus.APPROVED,
            currency=TARGET_CURRENCY,
        )
        .order_by()
        .values("owner_id")
        .annotate(total=Sum("amount"))
    )
    return _summed(rows)


ACTUALS: dict[str, Callable[[list[int], date, date], ByOwner]] = {
    Metric.CONTRACT_AMOUNT: contract_amount_by_owner,
    Metric.PAYMENT_AMOUNT: payment_amount_by_owner,
    Metric.DEALS: deals_by_owner,
    Metric.NEW_CUSTOMERS: new_customers_by_owner,
}


def actual_by_owner(metric: str, owner_ids: Iterable[int], start: date, end: date) -> ByOwner:
    ids = sorted(set(owner_ids))
    if not ids:
        return {}
    return ACTUALS[metric](ids, start, end)
