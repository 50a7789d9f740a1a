"""Setting goals and measuring progress (SAL-8) with the cast: managers set goals for their people,
reps see their own, progress counts won deals and new customers as they are recorded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers import services as customer_services
from kehu.customers.tests.factories import make_customer
from kehu.sales.choices import OpportunityStatus
from kehu.sales.models import Opportunity
from kehu.sales.services import opportunity_create
from kehu.targets import selectors, services
from kehu.targets.models import SalesTarget
from kehu.targets.rules import TargetPeriod

pytestmark = pytest.mark.django_db

DEC = TargetPeriod("month", 2026, 12)


def _goal(by: Any, **kw: Any) -> SalesTarget:
    values = {"metric": "deals", "period_kind": "month", "year": 2026, "number": 12, "value": 4, **kw}
    return services.target_create(**values, by=by)


def _won(owner: Any, on: datetime) -> Opportunity:
    customer = make_customer(owner)
    opp = opportunity_create(customer_id=customer.pk, name="赢下的商机", amount=1000, by=owner)
    # Closing is the pipeline's transition; the target only reads its outcome.
    Opportunity.objects.filter(pk=opp.pk).update(status=OpportunityStatus.WON, closed_at=on)
    return opp


def _at(day: date) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, 10, 0))


def test_a_manager_sets_a_goal_for_a_rep_and_it_is_audited(cast: SimpleNamespace) -> None:
    target = _goal(cast.manager_east, user_id=cast.rep_east.pk)
    assert (target.user, target.value, target.period) == (cast.rep_east, Decimal("4"), DEC)
    event = AuditEvent.objects.get(subject_type="sales_target", subject_id=target.pk)
    assert event.verb == "create" and event.actor_id == cast.manager_east.pk


def test_a_rep_may_not_set_goals(cast: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(SalesTarget, AuditEvent), pytest.raises(PermissionDenied):
        _goal(cast.rep_east, user_id=cast.rep_east.pk)


def test_a_manager_may_not_set_goals_outside_their_scope(cast: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(SalesTarget, AuditEvent), pytest.raises(PermissionDenied) as caught:
        _goal(cast.manager_east, user_id=cast.rep_west.pk)
    assert caught.value.field == "user_id"


def test_a_goal_needs_exactly_one_subject(cast: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(SalesTarget), pytest.raises(ValidationError) as caught:
        _goal(cast.admin)
    assert caught.value.field == "user_id"
    with nothing_changes(SalesTarget), pytest.raises(ValidationError):
        _goal(cast.admin, user_id=cast.rep_east.pk, department_id=cast.east.pk)


def test_the_same_goal_twice_is_refused_naming_the_period(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    _goal(cast.manager_east, user_id=cast.rep_east.pk)
    with nothing_changes(SalesTarget), pytest.raises(Conflict) as caught:
        _goal(cast.manager_east, user_id=cast.rep_east.pk, value=9)
    assert caught.value.field == "number" and "2026" in caught.value.text("zh-hans")


def test_a_change_based_on_a_stale_version_is_refused(cast: SimpleNamespace) -> None:
    target = _goal(cast.manager_east, user_id=cast.rep_east.pk)
    services.target_update(target_id=target.pk, version=target.version, value=6, by=cast.manager_east)
    with pytest.raises(Conflict):
        services.target_update(target_id=target.pk, version=target.version, value=8, by=cast.manager_east)
    assert SalesTarget.objects.get(pk=target.pk).value == Decimal("6")


def test_progress_counts_deals_won_in_the_period_only(cast: SimpleNamespace) -> None:
    _goal(cast.manager_east, user_id=cast.rep_east.pk)
    _won(cast.rep_east, _at(date(2026, 12, 3)))
    _won(cast.rep_east, _at(date(2026, 12, 31)))
    _won(cast.rep_east, _at(date(2027, 1, 1)))  # next period
    _won(cast.rep_east2, _at(date(2026, 12, 5)))  # someone else
    [row] = selectors.target_progress(actor=cast.manager_east, period=DEC).items
    assert (row.actual, row.percent) == (Decimal(2), Decimal("50.0"))


def test_a_department_goal_counts_everyone_in_it_and_below(cast: SimpleNamespace) -> None:
    _goal(cast.admin, department_id=cast.sales.pk, value=10)
    _won(cast.rep_east, _at(date(2026, 12, 3)))
    _won(cast.rep_west, _at(date(2026, 12, 4)))
    [row] = selectors.target_progress(actor=cast.admin, period=DEC, subject="department").items
    assert row.actual == Decimal(2)


def test_new_customers_are_those_whose_first_order_falls_in_the_period(cast: SimpleNamespace) -> None:
    _goal(cast.manager_east, user_id=cast.rep_east.pk, metric="new_customers", value=2)
    for first in (date(2026, 12, 1), date(2026, 11, 30)):
        c = make_customer(cast.rep_east)
        customer_services.customer_record_facts(
            customer_id=c.pk, facts={"first_order_date": first, "last_order_date": first, "order_count": 1}
        )
    [row] = selectors.target_progress(actor=cast.rep_east, period=DEC).items
    assert (row.actual, row.percent) == (Decimal(1), Decimal("50.0"))


def test_a_rep_sees_their_own_goals_and_their_departments_not_a_colleagues(cast: SimpleNamespace) -> None:
    _goal(cast.manager_east, user_id=cast.rep_east.pk)
    _goal(cast.manager_east, user_id=cast.rep_east2.pk)
    _goal(cast.admin, department_id=cast.east.pk, value=20)
    _goal(cast.admin, department_id=cast.west.pk, value=20)
    seen = {row.name for row in selectors.target_progress(actor=cast.rep_east, period=DEC).items}
    assert seen == {str(cast.rep_east), cast.east.name}
    with pytest.raises(NotFound):
        selectors.target_get(actor=cast.rep_east, target_id=SalesTarget.objects.get(user=cast.rep_east2).pk)


def test_the_ranking_orders_people_by_completion(cast: SimpleNamespace) -> None:
    _goal(cast.manager_east, user_id=cast.rep_east.pk, value=2)
    _goal(cast.manager_east, user_id=cast.rep_east2.pk, value=1)
    _won(cast.rep_east, _at(date(2026, 12, 3)))
    _won(cast.rep_east2, _at(date(2026, 12, 3)))
    rows = selectors.target_ranking(actor=cast.manager_east, period=DEC, metric="deals")
    assert [(r.name, r.rank, r.percent) for r in rows] == [
        (str(cast.rep_east2), 1, Decimal("100.0")),
        (str(cast.rep_east), 2, Decimal("50.0")),
    ]


def test_deleting_a_goal_is_audited(cast: SimpleNamespace) -> None:
    target = _goal(cast.manager_east, user_id=cast.rep_east.pk)
    services.target_delete(target_id=target.pk, by=cast.manager_east)
    assert not SalesTarget.objects.exists()
    assert AuditEvent.objects.filter(subject_type="sales_target", verb="delete").count() == 1


def test_the_home_card_shows_my_goals_of_this_month(cast: SimpleNamespace) -> None:
    today = timezone.localdate()
    _goal(cast.manager_east, user_id=cast.rep_east.pk, year=today.year, number=today.month)
    data = selectors.my_targets(actor=cast.rep_east, today=today)
    assert [r.target.user for r in data["rows"]] == [cast.rep_east]
    assert selectors.my_targets(actor=cast.agent, today=today)["rows"] == []


def test_contract_and_payment_goals_count_signed_contracts_and_approved_payments(
    cast: SimpleNamespace,
) -> None:
    from kehu.orders.models import Contract, PaymentRecord

    customer = make_customer(cast.rep_east)
    common = {"customer": customer, "owner": cast.rep_east, "created_by": cast.rep_east, "currency": "CNY"}
    contracts = [
        Contract.objects.create(number=f"HT-T{n}", title="合同", amount=Decimal(amount), signed_on=signed,
                                status=status, **common)
        for n, (amount, signed, status) in enumerate([
            ("100000", date(2026, 12, 2), "in_force"),
            ("50000", date(2026, 12, 20), "completed"),
            ("70000", date(2026, 12, 21), "draft"),  # not yet a contract
            ("90000", date(2026, 11, 30), "in_force"),  # another month
        ])
    ]  # fmt: skip
    for n, (amount, status) in enumerate([("30000", "approved"), ("20000", "pending")]):
        PaymentRecord.objects.create(number=f"HK-T{n}", contract=contracts[0], customer=customer,
                                     received_on=date(2026, 12, 5), amount=Decimal(amount),
                                     approval_status=status, owner=cast.rep_east, created_by=cast.rep_east)  # fmt: skip
    _goal(cast.manager_east, user_id=cast.rep_east.pk, metric="contract_amount", value=300000)
    _goal(cast.manager_east, user_id=cast.rep_east.pk, metric="payment_amount", value=60000)
    rows = {r.target.metric: r for r in selectors.target_progress(actor=cast.manager_east, period=DEC).items}
    assert (rows["contract_amount"].actual, rows["contract_amount"].percent) == (
        Decimal("150000"),
        Decimal("50.0"),
    )
    assert (rows["payment_amount"].actual, rows["payment_amount"].percent) == (
        Decimal("30000"),
        Decimal("50.0"),
    )


def test_foreign_currency_counts_at_its_months_rate_or_the_latest_earlier_one(cast: SimpleNamespace) -> None:
    from kehu.orders.models import Contract

    customer = make_customer(cast.rep_east)
    common = {"customer": customer, "owner": cast.rep_east, "created_by": cast.rep_east, "status": "in_force"}
    for n, (amount, currency, signed) in enumerate([
        ("100000", "CNY", date(2026, 12, 2)),
        ("10000", "USD", date(2026, 12, 3)),  # December's rate
        ("1000", "EUR", date(2026, 12, 9)),  # only October's rate: the latest earlier one
        ("500", "JPY", date(2026, 12, 9)),  # no rate at all: not counted, and named
    ]):  # fmt: skip
        Contract.objects.create(number=f"HT-FX{n}", title="合同", amount=Decimal(amount), currency=currency,
                                signed_on=signed, **common)  # fmt: skip
    _goal(cast.manager_east, user_id=cast.rep_east.pk, metric="contract_amount", value=200000)
    assert selectors.currencies_without_rate(actor=cast.rep_east, period=DEC) == ["EUR", "JPY", "USD"]
    services.exchange_rate_set(currency="usd", month="2026-11", rate="7.0", by=cast.manager_east)
    services.exchange_rate_set(currency="USD", month="2026-12", rate="7.1234", by=cast.manager_east)
    services.exchange_rate_set(currency="EUR", month="2026-10", rate="7.8", by=cast.manager_east)
    services.exchange_rate_set(
        currency="EUR", month="2027-01", rate="9", by=cast.manager_east
    )  # later: unused
    (row,) = selectors.target_progress(actor=cast.manager_east, period=DEC).items
    assert row.actual == Decimal("100000") + Decimal("71234.00") + Decimal("7800.00")
    assert selectors.currencies_without_rate(actor=cast.rep_east, period=DEC) == ["JPY"]
    # Correcting a rate is an update of the same month, audited with before and after.
    again = services.exchange_rate_set(currency="USD", month="2026-12", rate="7.2", by=cast.manager_east)
    assert again.version == 2
    event = AuditEvent.objects.filter(subject_type="exchange_rate", verb="update").get()
    assert event.changes == {"rate": ["7.123400", "7.2"]}
    (row,) = selectors.target_progress(actor=cast.manager_east, period=DEC).items
    assert row.actual == Decimal("100000") + Decimal("72000.00") + Decimal("7800.00")


@pytest.mark.parametrize(
    ("currency", "month", "rate", "field"),
    [
        ("US", "2026-12", "7", "currency"),
        ("CNY", "2026-12", "7", "currency"),
        ("美元币", "2026-12", "7", "currency"),
        ("USD", "2026/12", "7", "month"),
        ("USD", "2026-13", "7", "month"),
        ("USD", "1999-12", "7", "month"),
        ("USD", "2026-12", "abc", "rate"),
        ("USD", "2026-12", "0", "rate"),
        ("USD", "2026-12", "-1", "rate"),
        ("USD", "2026-12", "NaN", "rate"),
        ("USD", "2026-12", "7.1234567", "rate"),
        ("USD", "2026-12", "100001", "rate"),
    ],
)
def test_a_bad_rate_names_its_field_and_writes_nothing(
    cast: SimpleNamespace, currency: str, month: str, rate: str, field: str
) -> None:
    from kehu.targets.models import ExchangeRate

    with pytest.raises(ValidationError) as err:
        services.exchange_rate_set(currency=currency, month=month, rate=rate, by=cast.manager_east)
    assert err.value.field == field and not ExchangeRate.objects.exists()


def test_only_target_managers_enter_rates(cast: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        services.exchange_rate_set(currency="USD", month="2026-12", rate="7", by=cast.rep_east)
    row = services.exchange_rate_set(currency="USD", month="2026-12", rate="7", by=cast.manager_east)
    with pytest.raises(PermissionDenied):
        services.exchange_rate_delete(rate_id=row.pk, by=cast.rep_east)
    services.exchange_rate_delete(rate_id=row.pk, by=cast.manager_east)
    with pytest.raises(NotFound):
        services.exchange_rate_delete(rate_id=row.pk, by=cast.manager_east)
