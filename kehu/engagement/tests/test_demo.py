"""``kehu demo`` with engagement plugged in (ADR 0009): each contacted customer's follow-up history ends
exactly at its last contact, the reps have open and overdue tasks, revisit plans and pool rules are set
up, birthdays (solar and lunar) carry their next date — and the demo rep's 工作台 is lively."""

from __future__ import annotations

from collections import Counter

import pytest
from django.db.models import Max
from django.utils import timezone

from kehu.access.models import User
from kehu.customers import demo
from kehu.customers.models import Contact, Customer, Pool
from kehu.customers.pool import default_pool
from kehu.customers.rules import next_birthday
from kehu.engagement.dashboard import dashboard
from kehu.engagement.models import Interaction, RevisitPlan, Task
from kehu.engagement.worklist import work_list

pytestmark = pytest.mark.django_db
PASSWORD = "kehu-Demo-Pass-2026"


@pytest.fixture
def loaded() -> demo.DemoResult:
    return demo.load_demo(customers=300, seed=11, password=PASSWORD)


def test_each_contacted_customers_history_ends_at_its_last_contact(loaded: demo.DemoResult) -> None:
    assert loaded.extra["interactions"] == Interaction.objects.count() > 300
    # Other domains (leads, …) add their own demo rows too: every contributor counts in the total.
    assert loaded.rows == 300 + 600 + sum(loaded.extra.values())
    assert loaded.extra["tasks"] > 0
    latest = dict(Interaction.objects.values("customer_id").annotate(at=Max("occurred_at")).values_list(
        "customer_id", "at"))  # fmt: skip
    contacted = Customer.objects.filter(last_contact_at__isnull=False)
    assert contacted.count() == len(latest)
    for c in contacted:
        assert latest[c.pk] == c.last_contact_at
        last = Interaction.objects.filter(customer=c).order_by("-occurred_at").first()
        assert last.next_follow_up_on == c.next_follow_up_on and last.created_by_id == (
            c.owner_id or c.created_by_id
        )
        assert Interaction.objects.filter(customer=c, occurred_at__lt=c.created_at).count() <= 1
    channels = Counter(Interaction.objects.values_list("channel__code", flat=True))
    assert {"phone", "wechat", "visit", "email"} <= set(channels)
    contacts = set(Contact.objects.values_list("pk", flat=True))
    assert all(
        i in contacts for i in Interaction.objects.exclude(contact=None).values_list("contact_id", flat=True)
    )


def test_reps_have_open_overdue_and_done_tasks_and_the_plans_and_pools_are_set_up(
    loaded: demo.DemoResult,
) -> None:
    today = timezone.localdate()
    open_tasks = Task.objects.filter(status="open")
    assert open_tasks.filter(due_on__lt=today).exists() and open_tasks.filter(due_on__gte=today).exists()
    assert Task.objects.filter(status="done").exclude(result="").exists()
    assert all(t.owner_id == t.customer.owner_id for t in Task.objects.select_related("customer"))
    assert RevisitPlan.objects.count() == 3
    pool = default_pool()
    assert pool.no_follow_up_days == 90 and pool.warn_days == 7 and pool.level_rules.count() == 3
    south = Pool.objects.get(name=demo.SOUTH_POOL)
    assert list(south.member_departments.values_list("name", flat=True)) == ["华南销售部"]
    again = demo.load_demo(customers=20, seed=12, password=PASSWORD)  # a second run adds, never duplicates
    assert again.extra["interactions"] > 0 and RevisitPlan.objects.count() == 3 and Pool.objects.count() == 2


def test_birthdays_carry_their_next_date_and_some_are_lunar(loaded: demo.DemoResult) -> None:
    today = timezone.localdate()
    people = [*Contact.objects.exclude(birthday_next=None), *Customer.objects.exclude(birthday_next=None)]
    assert len(people) > 50
    for p in people:
        assert p.birthday_next == next_birthday(p.birthday_value, on=today)
    assert Contact.objects.filter(birthday_calendar="lunar").exists()
    assert Customer.objects.filter(kind="individual", birthday_calendar="lunar").exists()
    assert not Contact.objects.filter(birthday_next=None).exclude(birthday=None).exists()


def test_the_demo_reps_workbench_is_lively(loaded: demo.DemoResult) -> None:
    rep = User.objects.get(username="rep_east")
    counts = {s.kind: s.count for s in work_list(actor=rep)}
    assert sum(counts.values()) > 0 and counts["overdue_follow_up"] > 0
    today = timezone.localdate()
    d = dashboard(actor=rep, period="custom", date_from=today.replace(year=today.year - 1), date_to=today)
    assert d.counts["interactions"] > 0 and d.chart["series"]
    assert sum(b["count"] for b in d.urgency if b["code"] != "none") > 0
