"""The sales chain reports order and pipeline facts; the derived CUS-2 dimensions follow (CUS-2)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.customers import services
from kehu.customers.choices import DealStatus, Loyalty, Status, ValueTier
from kehu.customers.models import Customer

from .factories import make_customer

pytestmark = pytest.mark.django_db


def test_a_first_order_makes_a_potential_customer_a_new_current_closed_one(cast: SimpleNamespace) -> None:
    c = make_customer(cast.rep_east)
    today = timezone.localdate()
    changed = services.customer_record_facts(
        customer_id=c.pk,
        facts={
            "first_order_date": today,
            "last_order_date": today,
            "order_count": 1,
            "revenue_12m": Decimal("250000"),
        },
    )
    assert changed
    c.refresh_from_db()
    assert (c.loyalty, c.status, c.deal_status, c.value_tier) == (
        Loyalty.NEW,
        Status.CURRENT,
        DealStatus.CLOSED,
        ValueTier.IMPORTANT,
    )
    event = AuditEvent.objects.filter(verb="reclassify", subject_id=c.pk).get()
    assert event.changes["value_tier"] == [ValueTier.SMALL, ValueTier.IMPORTANT]


def test_an_open_opportunity_makes_a_customer_without_orders_an_intent_customer(
    cast: SimpleNamespace,
) -> None:
    c = make_customer(cast.rep_east)
    services.customer_record_facts(customer_id=c.pk, facts={"has_open_opportunity": True})
    c.refresh_from_db()
    assert c.deal_status == DealStatus.INTENT
    services.customer_record_facts(customer_id=c.pk, facts={"has_open_opportunity": False})
    c.refresh_from_db()
    assert c.deal_status == DealStatus.POTENTIAL


def test_a_users_override_still_wins_over_the_derivation(cast: SimpleNamespace) -> None:
    c = make_customer(cast.manager_east)
    services.customer_classify(
        customer_id=c.pk,
        version=None,
        dimension="value_tier",
        value=ValueTier.VIP,
        reason="战略客户",
        by=cast.manager_east,
    )
    version = Customer.objects.get(pk=c.pk).version
    services.customer_record_facts(
        customer_id=c.pk, facts={"order_count": 1, "last_order_date": timezone.localdate()}
    )
    c.refresh_from_db()
    assert c.value_tier == ValueTier.VIP and c.status == Status.CURRENT
    assert c.version == version  # derived columns do not invalidate an edit form opened before


def test_facts_older_than_a_year_make_the_customer_lost(cast: SimpleNamespace) -> None:
    c = make_customer(cast.rep_east)
    long_ago = timezone.localdate() - timedelta(days=400)
    services.customer_record_facts(
        customer_id=c.pk,
        facts={"first_order_date": long_ago, "last_order_date": long_ago, "order_count": 2},
    )
    c.refresh_from_db()
    assert (c.status, c.loyalty) == (Status.LOST, Loyalty.OLD)


def test_reporting_the_same_facts_twice_changes_nothing_and_records_nothing(cast: SimpleNamespace) -> None:
    c = make_customer(cast.rep_east)
    facts = {
        "order_count": 1,
        "last_order_date": timezone.localdate(),
        "first_order_date": timezone.localdate(),
    }
    assert services.customer_record_facts(customer_id=c.pk, facts=facts)
    count = AuditEvent.objects.filter(verb="reclassify").count()
    assert not services.customer_record_facts(customer_id=c.pk, facts=facts)
    assert AuditEvent.objects.filter(verb="reclassify").count() == count


def test_an_unknown_fact_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        services.customer_record_facts(customer_id=1, facts={"owner_id": 3})
