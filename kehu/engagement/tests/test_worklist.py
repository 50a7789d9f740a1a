"""The home page (工作台): the 待办 work list and the follow-up summary (ENG-2, issue 3) as rep_east
and his manager see them."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.core.errors import ValidationError
from kehu.customers import selectors as customer_selectors
from kehu.customers import services as customer_services
from kehu.customers.birthdays import birthday_refresh
from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement import services
from kehu.engagement.models import Task, WorkItemHandled
from kehu.engagement.worklist import work_list

from .factories import make_interaction

pytestmark = pytest.mark.django_db


def sections(user: Any, today: date | None = None) -> dict[str, list[str]]:
    return {s.kind: [i.title for i in s.items] for s in work_list(actor=user, today=today)}


def counts(user: Any) -> dict[str, int]:
    return {s.kind: s.count for s in work_list(actor=user)}


@pytest.fixture
def day(cast: SimpleNamespace) -> SimpleNamespace:
    """rep_east's day: one customer to call today, one overdue, one planned next month, a task due
    today and one overdue, a colleague's customer just transferred to him, and a contact's birthday."""
    today = timezone.localdate()
    call_today = make_customer(cast.rep_east, name="今天联系有限公司")
    make_interaction(call_today, cast.rep_east, days_ago=3, next_follow_up_on=today, next_step="确认交期")
    late = make_customer(cast.rep_east, name="逾期跟进有限公司")
    make_interaction(late, cast.rep_east, days_ago=9, next_follow_up_on=today - timedelta(days=2))
    later = make_customer(cast.rep_east, name="下月跟进有限公司")
    make_interaction(later, cast.rep_east, next_follow_up_on=today + timedelta(days=30))
    services.task_create(data={"title": "今天寄合同", "due_on": today}, by=cast.rep_east)
    old_task = services.task_create(data={"title": "补发发票", "due_on": today}, by=cast.rep_east)
    Task.objects.filter(pk=old_task.pk).update(due_on=today - timedelta(days=1))
    handed = make_customer(cast.manager_east, name="经理转来有限公司")
    customer_services.customer_transfer(
        customer_id=handed.pk, to_user=cast.rep_east.pk, reason="区域调整", by=cast.manager_east
    )
    in_two_days = today + timedelta(days=2)
    birthday = date(1980, in_two_days.month, in_two_days.day)  # 1980 has a 29 February too
    contact = make_contact(call_today, cast.rep_east, name="过生日的王总", birthday=birthday.isoformat())
    return SimpleNamespace(today=today, call_today=call_today, late=late, contact=contact)


def test_rep_easts_work_list_holds_what_is_due_today(cast: SimpleNamespace, day: SimpleNamespace) -> None:
    mine = sections(cast.rep_east)
    assert mine["contact_today"] == ["今天联系有限公司"]
    assert mine["overdue_follow_up"] == ["逾期跟进有限公司"]
    assert mine["task_today"] == ["今天寄合同"] and mine["task_overdue"] == ["补发发票"]
    assert mine["assigned"] == ["经理转来有限公司"]
    assert mine["birthday"] == ["过生日的王总"]
    # Nothing of rep_east's reaches rep_west.
    assert sum(counts(cast.rep_west).values()) == 0


def test_an_item_marked_handled_leaves_todays_list_only(cast: SimpleNamespace, day: SimpleNamespace) -> None:
    services.work_item_handle(kind="contact_today", object_id=day.call_today.pk, by=cast.rep_east)
    services.work_item_handle(kind="contact_today", object_id=day.call_today.pk, by=cast.rep_east)  # again
    assert sections(cast.rep_east)["contact_today"] == []
    assert WorkItemHandled.objects.count() == 1
    tomorrow = day.today + timedelta(days=1)
    Customer.objects.filter(pk=day.call_today.pk).update(next_follow_up_on=tomorrow)
    assert sections(cast.rep_east, today=tomorrow)["contact_today"] == ["今天联系有限公司"]


def test_a_bad_item_is_refused_naming_the_field(cast: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(WorkItemHandled), pytest.raises(ValidationError) as refused:
        services.work_item_handle(kind="everything", object_id=1, by=cast.rep_east)
    assert refused.value.field == "kind"


def test_birthdays_on_29_february_are_remembered_on_the_28th_in_common_years(cast: SimpleNamespace) -> None:
    from kehu.customers.models import Contact

    person = make_customer(cast.rep_east, kind="individual", name="闰日生")
    Customer.objects.filter(pk=person.pk).update(birthday=date(1988, 2, 29))
    customer = make_customer(cast.rep_east, name="闰年客户有限公司")
    contact = make_contact(customer, cast.rep_east, name="闰年联系人")
    Contact.objects.filter(pk=contact.pk).update(birthday=date(1992, 2, 29))
    birthday_refresh(full=True)  # rows written behind the services' back get their next birthday here
    assert sorted(sections(cast.rep_east, today=date(2027, 2, 25))["birthday"]) == ["闰年联系人", "闰日生"]
    assert sections(cast.rep_east, today=date(2027, 3, 1))["birthday"] == []


def test_the_follow_up_summary_counts_urgency_and_forgotten_customers(
    cast: SimpleNamespace, day: SimpleNamespace
) -> None:
    make_customer(cast.rep_east, name="从未联系有限公司")
    summary = customer_selectors.follow_up_summary(actor=cast.rep_east)
    urgency = {b["code"]: b["count"] for b in summary["urgency"]}
    assert urgency["overdue"] == 1 and urgency["urgent"] == 1 and urgency["soon"] == 1
    idle = {i["days"]: i["count"] for i in summary["idle"]}
    # Never contacted: 从未联系 and 经理转来; the overdue one was contacted 9 days ago.
    assert idle[7] == 3 and idle[15] == 2 and idle[180] == 2
    listed = customer_selectors.customer_list(
        actor=cast.rep_east, scene="mine", filters={"idle": 7}, limit=50
    )
    assert {c.name for c in listed.items} == {"从未联系有限公司", "经理转来有限公司", "逾期跟进有限公司"}
    with pytest.raises(ValidationError) as refused:
        customer_selectors.customer_list(actor=cast.rep_east, filters={"idle": "soon"})
    assert refused.value.field == "idle"


def test_the_home_page_shows_the_work_list_and_the_summary(
    cast: SimpleNamespace, day: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.rep_east)
    page = client.get(reverse("home")).content.decode()
    for marker in ('data-testid="worklist"', 'data-testid="worklist-contact_today"', 'data-testid="urgency-overdue"',
                   'data-testid="idle-30"', "今天联系有限公司", "补发发票"):  # fmt: skip
        assert marker in page, marker
    handled = client.post(
        reverse("engagement:work_item_handle"), {"kind": "contact_today", "object_id": day.call_today.pk}
    )
    assert handled.status_code == 302
    assert 'data-testid="worklist-contact_today"' not in client.get(reverse("home")).content.decode()
    empty = signed_in(cast.rep_west).get(reverse("home")).content.decode()
    assert "今天没有待办" in empty


def test_the_work_list_api(cast: SimpleNamespace, day: SimpleNamespace, api_as: Any) -> None:
    api = api_as(cast.rep_east)
    body = {s["kind"]: s for s in api.get("/api/v1/worklist").json()}
    assert (
        body["contact_today"]["count"] == 1
        and body["contact_today"]["items"][0]["title"] == "今天联系有限公司"
    )
    done = api.post(
        "/api/v1/worklist/handled",
        {"kind": "task_overdue", "object_id": body["task_overdue"]["items"][0]["object_id"]},
    )
    assert done.status_code == 204
    assert {s["kind"]: s["count"] for s in api.get("/api/v1/worklist").json()}["task_overdue"] == 0
    bad = api.post("/api/v1/worklist/handled", {"kind": "x", "object_id": 1})
    assert bad.status_code == 422 and bad.json()["field"] == "kind"


def test_customers_about_to_return_to_the_pool_are_on_the_owners_list(cast: SimpleNamespace) -> None:
    from kehu.customers.models import Pool

    Pool.objects.filter(is_default=True).update(no_follow_up_days=30, warn_days=5)
    now = timezone.now()
    soon = make_customer(cast.rep_east, name="快回公海有限公司")
    Customer.objects.filter(pk=soon.pk).update(
        owner_since=now - timedelta(days=60), last_contact_at=now - timedelta(days=27)
    )
    safe = make_customer(cast.rep_east, name="刚联系的有限公司")
    Customer.objects.filter(pk=safe.pk).update(owner_since=now - timedelta(days=60), last_contact_at=now)
    warned = next(s for s in work_list(actor=cast.rep_east) if s.kind == "pool_warning")
    assert [i.title for i in warned.items] == ["快回公海有限公司"]
    assert warned.items[0].when == timezone.localdate() + timedelta(days=3)


def test_lunar_birthdays_this_week_show_with_their_solar_date(cast: SimpleNamespace) -> None:
    from kehu.core import lunar

    today = timezone.localdate()
    soon = today + timedelta(days=2)
    _year, day = lunar.from_solar(soon)
    customer = make_customer(cast.rep_east, name="农历生日客户有限公司")
    make_contact(
        customer,
        cast.rep_east,
        name="过农历生日的刘总",
        birthday_calendar="lunar",
        lunar_birth_month=day.month,
        lunar_birth_day=day.day,
        lunar_birth_leap=day.leap,
    )
    section = next(s for s in work_list(actor=cast.rep_east) if s.kind == "birthday")
    assert [(i.title, i.when, i.note) for i in section.items] == [
        ("过农历生日的刘总", soon, f"{day.label} ({soon.month}月{soon.day}日)")
    ]
    assert sections(cast.rep_east2)["birthday"] == []  # not his customer


def test_the_badges_take_two_counts_over_customers_and_one_over_tasks(cast: SimpleNamespace) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kehu.customers.pool import default_pool, pool_update

    pool = default_pool()
    assert pool is not None
    pool_update(pool_id=pool.pk, version=pool.version, data={"no_follow_up_days": 30}, by=cast.admin)
    make_customer(cast.rep_east)
    with CaptureQueriesContext(connection) as queries:
        work_list(actor=cast.rep_east)
    import re

    counting = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]

    def first_table(sql: str) -> str:
        found = re.search(r'FROM "(\w+)"', sql)
        return found.group(1) if found else ""

    on_customers = [sql for sql in counting if first_table(sql) == "customers_customer"]
    on_tasks = [sql for sql in counting if first_table(sql) == "engagement_task"]
    on_mail = [sql for sql in counting if first_table(sql) == "engagement_mailmessage"]
    # One aggregate for the follow-up badges plus the pool warning's own count (see work_list).
    assert len(on_customers) == 2 and len(on_tasks) == 1 and len(on_mail) == 1, counting
