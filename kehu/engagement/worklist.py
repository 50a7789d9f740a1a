"""The 待办 work list (ENG-2, issue 3): what a user must handle today, from their own customers,
contacts and tasks. Reads only — marking an item handled is ``services.work_item_handle``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.customers.models import Contact, Customer
from kehu.customers.pool import pool_warnings, pools_by_id, return_on

from .choices import TaskStatus
from .models import Task, WorkItemHandled

SHOWN = 10  # items listed per section; the count covers them all
ASSIGNED_DAYS = 7  # "assigned to me" looks back this far
BIRTHDAY_DAYS = 7  # birthdays from today through the next six days

# kind -> label; the order is the order on the page.
KINDS: dict[str, Any] = {
    "overdue_follow_up": _("逾期未跟进"),
    "contact_today": _("今日需联系"),
    "task_overdue": _("逾期任务"),
    "task_today": _("今日到期任务"),
    "assigned": _("新分配给我的客户"),
    "pool_warning": _("即将退回公海"),
    "birthday": _("本周生日"),
    "mail_pending": _("邮件待回复"),
}


@dataclass(frozen=True)
class WorkItem:
    kind: str
    object_id: int
    title: str
    detail: str
    url: str
    when: date | None = None


@dataclass
class WorkSection:
    kind: str
    label: str
    count: int = 0
    items: list[WorkItem] = field(default_factory=list)


def _month_days(today: date, days: int) -> Q:
    """Birthdays (any year) falling from ``today`` through ``days - 1`` days later, as at most two
    (month, day range) tests — a window spans two months at most. A 29 February birthday is
    remembered on 28 February in a year without one."""
    spans: dict[int, list[int]] = {}
    for offset in range(days):
        d = today + timedelta(days=offset)
        spans.setdefault(d.month, []).append(d.day)
        if d.month == 2 and d.day == 28 and (d + timedelta(days=1)).month == 3:
            spans[2].append(29)
    q = Q()
    for month, day_list in spans.items():
        q |= Q(birthday__month=month, birthday__day__gte=min(day_list), birthday__day__lte=max(day_list))
    return Q(birthday__isnull=False) & q


def _next_birthday(born: date, today: date) -> date:
    for year in (today.year, today.year + 1):
        try:
            candidate = born.replace(year=year)
        except ValueError:  # 29 February in a common year
            candidate = date(year, 2, 28)
        if candidate >= today:
            return candidate
    return today


def work_list(*, actor: User, today: date | None = None) -> list[WorkSection]:
    """The actor's 待办 for ``today`` (Asia/Shanghai): overdue and due follow-ups of their customers,
    overdue and due P&A tasks, customers assigned to them in the last week, customers about to return
    to the public pool (within the pool's warning days), and birthdays this week
    of their individual customers and their customers' contacts. Items marked handled today are left
    out; every count is within ``visible_to``."""
    today = today or timezone.localdate()
    handled: dict[str, set[int]] = {}
    for kind, object_id in WorkItemHandled.objects.filter(user=actor, on=today).values_list(
        "kind", "object_id"
    ):
        handled.setdefault(kind, set()).add(object_id)
    mine = Customer.objects.visible_to(actor, part="owned").filter(owner=actor)
    sections = {kind: WorkSection(kind=kind, label=str(label)) for kind, label in KINDS.items()}

    def fill(kind: str, rows: Any, make: Any) -> None:
        rows = rows.exclude(pk__in=sorted(handled.get(kind, set())))
        section = sections[kind]
        section.count = rows.count()
        section.items = [make(row) for row in rows[:SHOWN]] if section.count else []

    def customer_item(kind: str) -> Any:
        def make(c: Customer) -> WorkItem:
            return WorkItem(
                kind=kind,
                object_id=c.pk,
                title=c.name,
                detail=c.next_follow_up_action,
                url=reverse("customers:detail", args=[c.pk]) + "?tab=interactions",
                when=c.next_follow_up_on,
            )

        return make

    columns = ("id", "name", "next_follow_up_on", "next_follow_up_action")
    fill(
        "overdue_follow_up",
        mine.filter(next_follow_up_on__lt=today).only(*columns).order_by("next_follow_up_on", "id"),
        customer_item("overdue_follow_up"),
    )
    fill(
        "contact_today",
        mine.filter(next_follow_up_on=today).only(*columns).order_by("id"),
        customer_item("contact_today"),
    )

    my_tasks = (
        Task.objects.visible_to(actor).filter(owner=actor, status=TaskStatus.OPEN).select_related("customer")
    )

    def task_item(kind: str) -> Any:
        def make(t: Task) -> WorkItem:
            return WorkItem(
                kind=kind,
                object_id=t.pk,
                title=t.title,
                detail=t.customer.name if t.customer_id and t.customer else "",
                url=reverse("engagement:tasks") + f"?scene=mine&q={t.title[:20]}",
                when=t.due_on,
            )

        return make

    fill(
        "task_overdue", my_tasks.filter(due_on__lt=today).order_by("due_on", "id"), task_item("task_overdue")
    )
    fill("task_today", my_tasks.filter(due_on=today).order_by("id"), task_item("task_today"))

    since = timezone.now() - timedelta(days=ASSIGNED_DAYS)
    assigned = (
        mine.filter(owner_since__gte=since)
        .exclude(created_by=actor)
        .only("id", "name", "owner_since")
        .order_by("-owner_since", "-id")
    )
    fill(
        "assigned",
        assigned,
        lambda c: WorkItem(
            kind="assigned",
            object_id=c.pk,
            title=c.name,
            detail="",
            url=reverse("customers:detail", args=[c.pk]),
            when=timezone.localtime(c.owner_since).date() if c.owner_since else None,
        ),
    )

    pools = pools_by_id()

    def warning_item(c: Customer) -> WorkItem:
        return WorkItem(
            kind="pool_warning",
            object_id=c.pk,
            title=c.name,
            detail=c.next_follow_up_action,
            url=reverse("customers:detail", args=[c.pk]) + "?tab=interactions",
            when=return_on(c, pools),
        )

    fill(
        "pool_warning",
        pool_warnings(actor=actor, today=today).order_by("last_contact_at", "id"),
        warning_item,
    )

    from .mail.selectors import my_pending_rows, response_deadline

    fill(
        "mail_pending",
        my_pending_rows(actor=actor),
        lambda m: WorkItem(
            kind="mail_pending",
            object_id=m.pk,
            title=m.subject or m.from_address,
            detail=m.thread.customer.name if m.thread.customer_id and m.thread.customer else m.from_address,
            url=reverse("engagement:mail_thread", args=[m.thread_id]),
            when=timezone.localtime(response_deadline(m)).date(),
        ),
    )

    window = _month_days(today, BIRTHDAY_DAYS)
    # The owner's customer ids first (from the owner index), then their contacts by customer: the
    # birthday test then runs on a few thousand rows, not on every contact in the archive.
    my_ids = list(mine.order_by().values_list("id", flat=True))
    people = [
        p
        for p in Contact.objects.filter(window, customer_id__in=my_ids, deleted_at__isnull=True)
        .select_related("customer")
        .only("id", "name", "birthday", "customer_id", "customer__name")
        if p.pk not in handled.get("birthday", set())
    ]
    persons = [
        c
        for c in mine.filter(window, kind="individual").only("id", "name", "birthday")
        if c.pk not in handled.get("birthday_customer", set())
    ]
    birthdays = [
        WorkItem(
            kind="birthday",
            object_id=p.pk,
            title=p.name,
            detail=p.customer.name,
            url=reverse("customers:detail", args=[p.customer_id]) + "?tab=contacts",
            when=_next_birthday(p.birthday, today) if p.birthday else None,
        )
        for p in people
    ] + [
        WorkItem(
            kind="birthday_customer",
            object_id=c.pk,
            title=c.name,
            detail="",
            url=reverse("customers:detail", args=[c.pk]),
            when=_next_birthday(c.birthday, today) if c.birthday else None,
        )
        for c in persons
    ]
    section = sections["birthday"]
    section.count = len(birthdays)
    section.items = sorted(birthdays, key=lambda item: (item.when or today, item.title))[:SHOWN]
    return list(sections.values())


HANDLEABLE = {*KINDS, "birthday_customer"}
