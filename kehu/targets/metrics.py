"""What each target metric has reached (SAL-8), per owner, in one aggregate query per metric.

A person's progress counts the records they own; a department's counts those of the people currently in
it and its sub-departments, so moving a rep moves their numbers with them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from kehu.approvals.choices import ApprovalStatus
from kehu.customers.models import Customer
from kehu.orders.choices import ContractStatus
from kehu.orders.models import Contract, PaymentRecord
from kehu.sales.choices import OpportunityStatus
from kehu.sales.models import Opportunity

from .choices import Metric
from .models import ExchangeRate
from .rules import rate_for

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


# Targets are set in CNY; a document in another currency counts at the rate of its month (ExchangeRate,
# ``rules.rate_for``) and not at all without one — the targets page names those currencies.
TARGET_CURRENCY = "CNY"
CENT = Decimal("0.01")


def exchange_rates() -> dict[str, list[tuple[date, Decimal]]]:
    """Every rate, per currency, months ascending (a few hundred rows at most: 12 a year per currency)."""
    out: dict[str, list[tuple[date, Decimal]]] = {}
    for currency, month, rate in ExchangeRate.objects.order_by("currency", "month").values_list(
        "currency", "month", "rate"
    ):
        out.setdefault(currency, []).append((month, rate))
    return out


def _in_cny(rows: Iterable[Any]) -> ByOwner:
    """Sums per (owner, currency, month) converted to CNY and added up per owner."""
    rates = exchange_rates()
    out: ByOwner = {}
    for row in rows:
        rate = rate_for(rates, row["currency"], row["month"])
        if rate is None:
            continue
        amount = (
            Decimal(row["total"] or 0) if rate == 1 else (Decimal(row["total"] or 0) * rate).quantize(CENT)
        )
        out[row["owner_id"]] = out.get(row["owner_id"], Decimal(0)) + amount
    return out


def _contracts(start: date, end: date) -> Any:
    return Contract.objects.filter(
        signed_on__gte=start,
        signed_on__lte=end,
        status__in=[ContractStatus.IN_FORCE, ContractStatus.COMPLETED],
    )


def _payments(start: date, end: date) -> Any:
    return PaymentRecord.objects.filter(
        received_on__gte=start, received_on__lte=end, approval_status=ApprovalStatus.APPROVED
    )


def contract_amount_by_owner(owner_ids: list[int], start: date, end: date) -> ByOwner:
    """The amount of contracts signed in the period that are in force or completed (a draft is not yet a
    contract, a terminated one did not hold), in CNY, by their owner."""
    rows = (
        _contracts(start, end)
        .filter(owner_id__in=owner_ids)
        .order_by()
        .values("owner_id", "currency", month=TruncMonth("signed_on"))
        .annotate(total=Sum("amount"))
    )
    return _in_cny(rows)


def payment_amount_by_owner(owner_ids: list[int], start: date, end: date) -> ByOwner:
    """Payments received (回款) in the period, approved ones only — an unapproved record is not yet money
    in the bank (SAL-7) — in CNY, by the owner of the contract's record."""
    rows = (
        _payments(start, end)
        .filter(owner_id__in=owner_ids)
        .order_by()
        .values("owner_id", "currency", month=TruncMonth("received_on"))
        .annotate(total=Sum("amount"))
    )
    return _in_cny(rows)


def currencies_without_rate(start: date, end: date) -> list[str]:
    """The currencies of the period's contracts and payments that have no rate for their month (nor an
    earlier one): their documents do not count towards the targets until someone enters one."""
    rates = exchange_rates()
    missing: set[str] = set()
    for qs, day in ((_contracts(start, end), "signed_on"), (_payments(start, end), "received_on")):
        rows = (
            qs.exclude(currency=TARGET_CURRENCY)
            .order_by()
            .values("currency", month=TruncMonth(day))
            .distinct()
        )
        missing |= {row["currency"] for row in rows if rate_for(rates, row["currency"], row["month"]) is None}
    return sorted(missing)


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
