"""The customer's derived classes follow its orders and pipeline (CUS-2), as the cast records them."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.customers.choices import DealStatus, Loyalty, Status, ValueTier
from kehu.customers.models import Customer
from kehu.orders import classification, services
from kehu.sales.services import opportunity_create, opportunity_lose

from .factories import customer, order

pytestmark = pytest.mark.django_db


def test_a_first_order_makes_the_customer_new_current_and_closed(cast: SimpleNamespace) -> None:
    c = customer(cast.rep_east)
    order(cast.rep_east, c, ("伺服电机", "25000", "10"), order_date=timezone.localdate())
    c.refresh_from_db()
    assert (c.order_count, c.loyalty, c.status, c.deal_status, c.value_tier) == (
        1, Loyalty.NEW, Status.CURRENT, DealStatus.CLOSED, ValueTier.IMPORTANT,
    )  # fmt: skip
    assert AuditEvent.objects.filter(verb="reclassify", subject_id=c.pk).exists()


def test_a_cancelled_order_no_longer_counts(cast: SimpleNamespace) -> None:
    c = customer(cast.rep_east)
    o = order(cast.rep_east, c, ("伺服电机", "1000", "1"), order_date=timezone.localdate())
    services.order_cancel(order_id=o.pk, version=o.version, reason="客户取消", by=cast.rep_east)
    c.refresh_from_db()
    assert (c.order_count, c.deal_status, c.first_order_date) == (0, DealStatus.POTENTIAL, None)


def test_an_open_opportunity_makes_an_intent_customer_until_it_is_lost(cast: SimpleNamespace) -> None:
    c = customer(cast.rep_east)
    opp = opportunity_create(customer_id=c.pk, name="二期产线", by=cast.rep_east)
    assert Customer.objects.get(pk=c.pk).deal_status == DealStatus.INTENT
    opportunity_lose(
        opportunity_id=opp.pk, version=opp.version, reason="价格", competitor="某公司", by=cast.rep_east
    )
    assert Customer.objects.get(pk=c.pk).deal_status == DealStatus.POTENTIAL


def test_the_nightly_refresh_finds_customers_whose_last_order_left_the_year(cast: SimpleNamespace) -> None:
    c = customer(cast.rep_east)
    today = timezone.localdate()
    order(cast.rep_east, c, ("伺服电机", "1000", "1"), order_date=today - timedelta(days=366))
    # As the customer stood yesterday, when the order was still within the year.
    Customer.objects.filter(pk=c.pk).update(status=Status.CURRENT, revenue_12m=1000)
    assert c.pk in classification.customers_due_for_refresh(today=today)
    assert classification.customer_facts_refresh_due(today=today) >= 1
    c.refresh_from_db()
    assert (c.status, c.revenue_12m) == (Status.LOST, 0)


def test_customers_with_nothing_changing_today_are_not_due(cast: SimpleNamespace) -> None:
    c = customer(cast.rep_east)
    order(cast.rep_east, c, ("伺服电机", "1000", "1"), order_date=date.today() - timedelta(days=100))
    assert c.pk not in classification.customers_due_for_refresh(today=timezone.localdate())
