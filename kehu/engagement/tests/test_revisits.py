"""Regular revisits (定期回访, ENG-4): plans per customer class create tasks for the owners of customers
nobody has contacted for a while — once, until the task is done."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_customer
from kehu.engagement import revisits, services
from kehu.engagement.models import RevisitPlan, Task

pytestmark = pytest.mark.django_db


def quiet_for(customer: Customer, days: int | None) -> None:
    """Owned for a year; last contacted ``days`` ago (None = never)."""
    now = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(
        owner_since=now - timedelta(days=365),
        created_at=now - timedelta(days=365),
        last_contact_at=None if days is None else now - timedelta(days=days),
    )


@pytest.fixture
def plan(cast: SimpleNamespace) -> RevisitPlan:
    return revisits.revisit_plan_create(
        data={"name": "潜在客户月度回访", "status": "potential", "every_days": 30, "due_in_days": 3,
              "task_title": "月度回访"},
        by=cast.manager_east,
    )  # fmt: skip


def test_quiet_customers_of_the_class_get_one_revisit_task_for_their_owner(
    cast: SimpleNamespace, plan: RevisitPlan
) -> None:
    quiet = make_customer(cast.rep_east, name="北辰机电设备有限公司")
    recent = make_customer(cast.rep_east, name="西岭文化传媒有限公司")
    other_class = make_customer(cast.rep_east2, name="东港冷链物流有限公司")
    never = make_customer(cast.rep_east2, name="南湖生态农业有限公司")
    for c, days in ((quiet, 45), (recent, 5), (other_class, 90), (never, None)):
        quiet_for(c, days)
    Customer.objects.filter(pk__in=[quiet.pk, recent.pk, never.pk]).update(status="potential")
    Customer.objects.filter(pk=other_class.pk).update(status="target")

    assert revisits.revisit_generate().created == 2
    tasks = {t.customer.name: t for t in Task.objects.select_related("customer")}
    assert set(tasks) == {"北辰机电设备有限公司", "南湖生态农业有限公司"}
    task = tasks["北辰机电设备有限公司"]
    assert (task.owner, task.title, task.revisit_plan, task.due_on) == (
        cast.rep_east,
        "月度回访",
        plan,
        timezone.localdate() + timedelta(days=3),
    )
    assert tasks["南湖生态农业有限公司"].owner == cast.rep_east2

    assert revisits.revisit_generate().created == 0  # while the task is open, no second one
    services.task_complete(task_id=task.pk, version=task.version, result="已回访", by=cast.rep_east)
    assert revisits.revisit_generate().created == 1  # still quiet, task done: the next revisit


def test_plans_are_for_managers_and_bad_input_names_the_field(
    cast: SimpleNamespace, plan: RevisitPlan
) -> None:
    with pytest.raises(PermissionDenied):
        revisits.revisit_plan_create(data={"name": "x", "every_days": 7, "task_title": "x"}, by=cast.rep_east)
    for data, field in (
        ({"name": "", "every_days": 7, "task_title": "x"}, "name"),
        ({"name": "x", "every_days": 0, "task_title": "x"}, "every_days"),
        ({"name": "x", "every_days": "weekly", "task_title": "x"}, "every_days"),
        ({"name": "x", "every_days": 7, "task_title": "x", "status": "vip"}, "status"),
        ({"name": "潜在客户月度回访", "every_days": 7, "task_title": "x"}, "name"),
        ({"name": "x", "every_days": 7, "task_title": "x", "colour": "red"}, "colour"),
    ):
        with pytest.raises(ValidationError) as refused:
            revisits.revisit_plan_create(data=data, by=cast.manager_east)
        assert refused.value.field == field, data
    assert RevisitPlan.objects.count() == 1


def test_the_command_page_and_api(
    cast: SimpleNamespace, plan: RevisitPlan, signed_in: Any, api_as: Any
) -> None:
    c = make_customer(cast.rep_east, name="命令回访有限公司")
    quiet_for(c, 60)
    Customer.objects.filter(pk=c.pk).update(status="potential")
    out = io.StringIO()
    call_command("revisits", stdout=out)
    assert "created 1 revisit task" in out.getvalue()

    client = signed_in(cast.manager_east)
    page = client.get(reverse("engagement:revisits")).content.decode()
    assert "潜在客户月度回访" in page and "潜在客户" in page
    saved = client.post(
        reverse("engagement:revisits"),
        {"name": "贵宾季度回访", "value_tier": "vip", "every_days": "90", "due_in_days": "5", "task_title": "季度回访",
         "is_active": "on"},
    )  # fmt: skip
    assert (
        saved.status_code == 302
        and RevisitPlan.objects.filter(name="贵宾季度回访", value_tier="vip").exists()
    )
    bad = client.post(reverse("engagement:revisits"), {"name": "", "every_days": "0", "task_title": ""})
    assert 'data-error-for="name"' in bad.content.decode()
    assert signed_in(cast.rep_east).get(reverse("engagement:revisits")).status_code == 403

    api = api_as(cast.manager_east)
    listed = api.get("/api/v1/revisit-plans").json()
    assert {p["name"] for p in listed} == {"潜在客户月度回访", "贵宾季度回访"}
    patched = api.patch(f"/api/v1/revisit-plans/{plan.pk}", {"version": plan.version, "every_days": 14})
    assert patched.status_code == 200 and patched.json()["every_days"] == 14
    assert api.post("/api/v1/revisit-plans/run").json() == {"created": 0}
    assert api_as(cast.rep_east).get("/api/v1/revisit-plans").status_code == 403


# --- revisits after an order or a resolved complaint (the sales and service domains report the event) -----


@pytest.fixture
def after_order(cast: SimpleNamespace) -> RevisitPlan:
    return revisits.revisit_plan_create(
        data={"name": "成交客户下单回访", "trigger": "after_order", "deal_status": "closed", "due_in_days": 7,
              "task_title": "下单后回访"},
        by=cast.manager_east,
    )  # fmt: skip


def test_an_order_gives_the_owner_one_revisit_task_due_after_the_plans_days(
    cast: SimpleNamespace, after_order: RevisitPlan, plan: RevisitPlan
) -> None:
    buyer = make_customer(cast.rep_east, name="已成交有限公司")
    Customer.objects.filter(pk=buyer.pk).update(deal_status="closed")
    prospect = make_customer(cast.rep_east, name="潜在有限公司")  # not of the plan's class
    on = timezone.localdate()
    assert after_order.every_days is None and after_order.trigger == "after_order"

    result = revisits.revisit_after_event(
        trigger="after_order", customer_id=buyer.pk, on=on, about="订单 SO-1"
    )
    assert result.created == 1
    task = Task.objects.get(revisit_plan=after_order)
    assert (task.customer, task.owner, task.due_on) == (buyer, cast.rep_east, on + timedelta(days=7))
    assert "SO-1" in task.description
    # A second order while the task is open adds nothing; a complaint event starts no order plan.
    assert revisits.revisit_after_event(trigger="after_order", customer_id=buyer.pk).created == 0
    assert revisits.revisit_after_event(trigger="after_complaint", customer_id=buyer.pk).created == 0
    assert revisits.revisit_after_event(trigger="after_order", customer_id=prospect.pk).created == 0
    # The daily quiet-customer run never starts event plans.
    quiet_for(buyer, 400)
    revisits.revisit_generate()
    assert Task.objects.filter(revisit_plan=after_order).count() == 1


def test_event_plans_need_no_days_and_quiet_plans_do(cast: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as refused:
        revisits.revisit_plan_create(
            data={"name": "x", "trigger": "after_lunch", "task_title": "x"}, by=cast.manager_east
        )
    assert refused.value.field == "trigger"
    with pytest.raises(ValidationError) as refused:
        revisits.revisit_plan_create(
            data={"name": "x", "trigger": "quiet", "task_title": "x"}, by=cast.manager_east
        )
    assert refused.value.field == "every_days"
    complaint = revisits.revisit_plan_create(
        data={"name": "投诉回访", "trigger": "after_complaint", "every_days": 9, "task_title": "回访"},
        by=cast.manager_east,
    )
    assert complaint.every_days is None  # ignored: the event starts it
    with pytest.raises(ValidationError) as refused:
        revisits.revisit_plan_update(
            plan_id=complaint.pk, version=complaint.version, data={"trigger": "quiet"}, by=cast.manager_east
        )
    assert refused.value.field == "every_days"
    with pytest.raises(ValidationError):
        revisits.revisit_after_event(trigger="quiet", customer_id=1)


def test_the_plan_page_and_api_speak_of_triggers(
    cast: SimpleNamespace, after_order: RevisitPlan, signed_in: Any, api_as: Any
) -> None:
    page = signed_in(cast.manager_east).get(reverse("engagement:revisits")).content.decode()
    assert "每次下单后 → 任务，7 天内完成" in page and 'name="trigger"' in page
    listed = api_as(cast.manager_east).get("/api/v1/revisit-plans").json()
    row = next(p for p in listed if p["name"] == "成交客户下单回访")
    assert row["trigger"] == "after_order" and row["every_days"] is None
    created = api_as(cast.manager_east).post(
        "/api/v1/revisit-plans", {"name": "投诉后回访", "trigger": "after_complaint", "task_title": "回访"}
    )
    assert created.status_code == 201 and created.json()["trigger"] == "after_complaint"
