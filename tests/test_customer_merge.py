"""Merging two customers takes every record of the merged one along (CUS-5: "merged without losing any
history"): orders and the rest of the sales chain, opportunities, quotes, converted leads, interactions,
tasks and tickets now belong to the keeper — on its 360° page, in its figures and in the reports — and
customers merged before merges did this have their records moved by the data migrations."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse
from django.utils import timezone

from kehu.analytics.funnel import funnel
from kehu.analytics.relationship import relationship
from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict
from kehu.customers import services as customer_services
from kehu.customers.merging import final_keepers, move_merged_rows
from kehu.customers.models import Customer
from kehu.engagement import services as engagement_services
from kehu.engagement.models import Interaction, Task
from kehu.engagement.tests.factories import make_interaction
from kehu.orders import services as order_services
from kehu.orders.models import Contract, Order
from kehu.orders.tests.factories import contract, order
from kehu.sales.leads import services as lead_services
from kehu.sales.leads.models import Lead
from kehu.sales.models import Opportunity
from kehu.sales.quotes.models import Quote
from kehu.sales.tests.factories import make_customer, make_opportunity, make_quote
from kehu.sales.tests.lead_factories import make_lead
from kehu.service.models import Ticket
from kehu.service.services import ticket_create

# Foreign keys to the customer that stay with the merged customer on purpose.
STAYS = {
    ("customers.Customer", "merged_into"),  # the merge itself
    ("customers.PoolClaim", "customer"),  # who claimed *that* record from the pool, and when (CUS-7 rules)
    ("customers.CustomerCollaborator", "customer"),  # copied to the keeper, not moved (see the merge service)
    ("analytics.CustomerScore", "customer"),  # the refresh scores live customers only and drops the rest
}


def _references_to(customer: Customer) -> dict[tuple[str, str], int]:
    """Every row of every model whose foreign key names ``customer``, by (model, field)."""
    found = {}
    for model in apps.get_models():
        for f in model._meta.get_fields():
            if isinstance(f, models.ForeignKey) and f.remote_field.model is Customer:
                n = model._base_manager.filter(**{f.name: customer}).count()
                if n:
                    found[(model._meta.label, f.name)] = n
    return found


@pytest.fixture
def history(cast: SimpleNamespace) -> SimpleNamespace:
    """Two customers of rep_east, the second (``drop``) with a record in every domain."""
    keep = make_customer(cast.rep_east, name="杭州保留机械有限公司")
    drop = make_customer(cast.rep_east, name="杭州并入机械有限公司")
    make_interaction(keep, cast.rep_east, days_ago=10)
    make_interaction(
        drop, cast.rep_east, days_ago=1, next_step="寄样品", next_follow_up_on=timezone.localdate()
    )
    engagement_services.task_create(
        data={"title": "回访", "customer": drop.pk, "due_on": timezone.localdate() + timedelta(days=3)},
        by=cast.rep_east,
    )
    lead = make_lead(cast.rep_east)
    lead_services.lead_convert(lead_id=lead.pk, by=cast.rep_east, customer_id=drop.pk)
    opp = make_opportunity(cast.rep_east, customer=drop)
    make_quote(cast.rep_east, drop)
    deal = contract(cast.rep_east, drop)
    first = order(
        cast.rep_east,
        drop,
        ("数控机床", "1200.00", "2"),
        order_date=timezone.localdate() - timedelta(days=40),
    )
    second = order(cast.rep_east, drop, ("刀具", "300.00", "1"), contract=deal.pk)
    ticket = ticket_create(
        data={"kind": "aftersale", "category": "repair", "title": "主轴异响", "customer_id": drop.pk},
        by=cast.rep_east,
    )
    return SimpleNamespace(keep=keep, drop=drop, lead=lead, opp=opp, orders=[first, second], ticket=ticket)


def test_a_merge_moves_every_record_of_the_merged_customer_to_the_keeper(
    cast: SimpleNamespace, history: SimpleNamespace
) -> None:
    before = _references_to(history.drop)
    assert {("orders.Order", "customer"), ("sales.Opportunity", "customer"), ("service.Ticket", "customer"),
            ("engagement.Interaction", "customer"), ("sales.Lead", "converted_customer")} <= set(before)  # fmt: skip

    customer_services.customer_merge(keep_id=history.keep.pk, drop_id=history.drop.pk, by=cast.manager_east)

    left = {key: n for key, n in _references_to(history.drop).items() if key not in STAYS}
    assert left == {}, f"records left with the merged customer (give their domain a MergeMove): {left}"
    assert Order.objects.filter(customer=history.keep).count() == 2
    assert Contract.objects.filter(customer=history.keep).count() == 1
    assert Opportunity.objects.filter(customer=history.keep).count() == 2  # the conversion opened one
    assert Quote.objects.filter(customer=history.keep).count() == 1
    assert Interaction.objects.filter(customer=history.keep).count() == 2
    assert Task.objects.filter(customer=history.keep).count() == 1
    assert Ticket.objects.filter(customer=history.keep).count() == 1
    assert Lead.objects.get(pk=history.lead.pk).converted_customer_id == history.keep.pk


def test_the_keepers_figures_follow_and_the_merge_records_what_moved(
    cast: SimpleNamespace, history: SimpleNamespace
) -> None:
    keep = Customer.objects.get(pk=history.keep.pk)
    assert (keep.order_count, keep.has_open_opportunity) == (0, False)

    customer_services.customer_merge(keep_id=history.keep.pk, drop_id=history.drop.pk, by=cast.manager_east)

    keep = Customer.objects.get(pk=history.keep.pk)
    assert keep.order_count == 2
    assert keep.first_order_date == timezone.localdate() - timedelta(days=40)
    assert keep.last_order_date == timezone.localdate()
    assert keep.has_open_opportunity is True
    drop = Customer.objects.get(pk=history.drop.pk)
    assert keep.last_contact_at == drop.last_contact_at  # the merged customer's contact was the later one
    assert (keep.next_follow_up_action, keep.next_follow_up_on) == ("寄样品", timezone.localdate())
    merge = AuditEvent.objects.get(verb="merge", customer_id=keep.pk)
    assert merge.changes["orders_moved"] == [None, 2]
    assert merge.changes["opportunities_moved"] == [None, 2]
    assert merge.changes["interactions_moved"] == [None, 1]
    assert merge.changes["tickets_moved"] == [None, 1]
    assert merge.changes["leads_moved"] == [None, 1]


def test_a_later_contact_of_the_keeper_is_kept(cast: SimpleNamespace) -> None:
    keep = make_customer(cast.rep_east)
    drop = make_customer(cast.rep_east)
    make_interaction(drop, cast.rep_east, days_ago=5, next_step="旧的下一步")
    make_interaction(keep, cast.rep_east, days_ago=1, next_step="新的下一步")
    latest = Customer.objects.get(pk=keep.pk).last_contact_at

    customer_services.customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.manager_east)

    keep = Customer.objects.get(pk=keep.pk)
    assert (keep.last_contact_at, keep.next_follow_up_action) == (latest, "新的下一步")


def test_an_order_form_opened_before_the_merge_is_refused_as_stale(
    cast: SimpleNamespace, history: SimpleNamespace
) -> None:
    opened = Order.objects.get(pk=history.orders[0].pk)

    customer_services.customer_merge(keep_id=history.keep.pk, drop_id=history.drop.pk, by=cast.manager_east)

    with pytest.raises(Conflict):
        order_services.order_update(
            order_id=opened.pk, version=opened.version, data={"notes": "改备注"}, by=cast.rep_east
        )
    assert Order.objects.get(pk=opened.pk).customer_id == history.keep.pk


def test_the_reports_count_the_merged_customers_orders_and_lead_for_the_keeper(
    cast: SimpleNamespace, history: SimpleNamespace
) -> None:
    customer_services.customer_merge(keep_id=history.keep.pk, drop_id=history.drop.pk, by=cast.manager_east)

    span = {"period": "custom", "from": (timezone.localdate() - timedelta(days=60)).isoformat(),
            "to": timezone.localdate().isoformat(), "scope": "dept"}  # fmt: skip
    report = relationship(actor=cast.manager_east, filters=span)
    assert report.total.revenue == Decimal("2700.00")  # the merged customer's orders
    assert report.total.repeat_revenue == Decimal("300.00")  # the second order is the keeper's repeat
    assert report.total.gained == 1  # one new customer, not two

    steps = funnel(actor=cast.manager_east, filters=span).total
    assert (steps.leads, steps.customers, steps.with_opportunity) == (1, 1, 1)


def test_the_migration_moves_the_records_of_customers_merged_before(cast: SimpleNamespace) -> None:
    """A merge of a merge as merges used to leave it: the orders stayed with the first merged customer."""
    first, middle, last = (make_customer(cast.rep_east) for _ in range(3))
    placed = order(cast.rep_east, first, ("数控机床", "1000.00", "1"))
    Customer.objects.filter(pk=first.pk).update(merged_into=middle)
    Customer.objects.filter(pk=middle.pk).update(merged_into=last)
    version = Order.objects.get(pk=placed.pk).version

    assert final_keepers(Customer) == {first.pk: last.pk, middle.pk: last.pk}
    moved = move_merged_rows(apps, [("orders.Order", "customer"), ("sales.Opportunity", "customer")])

    assert moved == 1
    row = Order.objects.get(pk=placed.pk)
    assert (row.customer_id, row.version) == (last.pk, version + 1)


def test_merged_through_the_page_the_keepers_page_lists_the_merged_customers_records(
    cast: SimpleNamespace, history: SimpleNamespace, signed_in: Any
) -> None:

    client = signed_in(cast.manager_east)
    before = client.get(reverse("customers:detail", args=[history.keep.pk])).content.decode()
    assert history.orders[0].number not in before

    client.post(reverse("customers:merge", args=[history.keep.pk]), {"other_code": history.drop.code})

    page = client.get(reverse("customers:detail", args=[history.keep.pk])).content.decode()
    for record in (*history.orders, history.ticket):
        assert record.number in page
    assert history.opp.name in page
    # The timeline names what moved in words, not by the audit's keys.
    assert "转入的订单: — → 2" in page and "转入的工单: — → 1" in page and "orders_moved" not in page


def test_the_audit_log_names_each_changed_field(cast: SimpleNamespace, signed_in: Any) -> None:
    from kehu.audit.changes import change_label
    from kehu.customers.tests.factories import make_customer

    customer = make_customer(cast.rep_east)
    customer_services.customer_update(customer_id=customer.pk, data={"name": "改名后的客户有限公司"},
                                      version=customer.version, by=cast.admin)  # fmt: skip
    page = signed_in(cast.admin).get(reverse("audit:list"), {"subject_type": "customer"}).content.decode()
    assert "客户名称: " in page and "<li>name:" not in page
    # A field by its column name, a key that is no field, a subject type no model has.
    assert change_label("owner_id", "customer") == change_label("owner", "customer") != "owner"
    assert change_label("orders_moved", "customer") == "转入的订单"
    assert change_label("colour", "customer") == "colour" and change_label("name", "spaceship") == "name"
