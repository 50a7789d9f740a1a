"""The 待办 work list (ENG-2, issue 3): what a user must handle today, from their own customers,
contacts and tasks. Reads only — marking an item handled is ``services.work_item_handle``.

Higher domains add sections of their own (the approvals waiting for the user, …) through
``register_worklist_source`` from their ``AppConfig.ready``: engagement may not import them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.customers.birthdays import upcoming_birthdays
from kehu.customers.models import Customer
from kehu.customers.pool import pool_warning_q, pools_by_id, return_on

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
    note: str = ""  # e.g. a lunar birthday: 农历八月十五 (9月25日)
    # Items of a registered source are handled where they link to (an approval is decided, not ticked off).
    handleable: bool = True


@dataclass
class WorkSection:
    kind: str
    label: str
    count: int = 0
    items: list[WorkItem] = field(default_factory=list)


@dataclass(frozen=True)
class WorkListSource:
    """A section a higher domain adds to the 待办. ``section(actor, today, shown)`` returns how many
    items the actor has and the first ``shown`` of them, each a dict of ``WorkItem``'s fields but
    ``kind`` (object_id, title, detail, url, and optionally when, note). Sources come after the
    built-in sections, by ``order``; their items have no 已处理 button."""

    kind: str
    label: Any
    section: Callable[[User, date, int], tuple[int, list[dict[str, Any]]]]
    order: int = 100


_sources: dict[str, WorkListSource] = {}


def register_worklist_source(source: WorkListSource) -> None:
    _sources[source.kind] = source


def worklist_sources() -> list[WorkListSource]:
    return sorted(_sources.values(), key=lambda s: (s.order, s.kind))


def _registered_sections(actor: User, today: date) -> list[WorkSection]:
    out = []
    for source in worklist_sources():
        count, items = source.section(actor, today, SHOWN)
        out.append(
            WorkSection(
                kind=source.kind,
                label=str(source.label),
                count=count,
                items=[WorkItem(kind=source.kind, handleable=False, **item) for item in items],
            )
        )
    return out


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
    mine = Customer.objects.visible_to(actor, part="owned", owners={actor.pk})
    sections = {kind: WorkSection(kind=kind, label=str(label)) for kind, label in KINDS.items()}

    def not_handled(kind: str) -> Q:
        done = sorted(handled.get(kind, set()))
        return ~Q(pk__in=done) if done else Q()

    # The badges: one aggregate over the owner's customers, one over their open tasks.
    since = timezone.now() - timedelta(days=ASSIGNED_DAYS)
    customer_q = {
        "overdue_follow_up": Q(next_follow_up_on__lt=today),
        "contact_today": Q(next_follow_up_on=today),
        "assigned": Q(owner_since__gte=since) & ~Q(created_by=actor),
        "pool_warning": pool_warning_q(today=today),
    }
    my_tasks = (
        Task.objects.visible_to(actor).filter(owner=actor, status=TaskStatus.OPEN).select_related("customer")
    )
    task_q = {"task_overdue": Q(due_on__lt=today), "task_today": Q(due_on=today)}
    # The pool warning's condition is a large tree (one branch per pool and level); as a FILTER inside the
    # shared aggregate Django re-hashes it for every aggregate (~40 ms of CPU at 1M customers), as its own
    # COUNT it costs one short query.
    shared = {k: q for k, q in customer_q.items() if k != "pool_warning"}
    counts = {
        **mine.aggregate(**{k: Count("id", filter=q & not_handled(k)) for k, q in shared.items()}),
        "pool_warning": mine.filter(customer_q["pool_warning"] & not_handled("pool_warning")).count(),
        **my_tasks.aggregate(**{k: Count("id", filter=q & not_handled(k)) for k, q in task_q.items()}),
    }

    def fill(kind: str, rows: Any, make: Any) -> None:
        section = sections[kind]
        section.count = counts[kind]
        if section.count:
            rows = rows.filter(customer_q.get(kind) or task_q[kind]).filter(not_handled(kind))
            section.items = [make(row) for row in rows[:SHOWN]]

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
        mine.only(*columns).order_by("next_follow_up_on", "id"),
        customer_item("overdue_follow_up"),
    )
    fill("contact_today", mine.only(*columns).order_by("id"), customer_item("contact_today"))

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

    fill("task_overdue", my_tasks.order_by("due_on", "id"), task_item("task_overdue"))
    fill("task_today", my_tasks.order_by("id"), task_item("task_today"))
    fill(
        "assigned",
        mine.only("id", "name", "owner_since").order_by("-owner_since", "-id"),
        lambda c: WorkItem(
            kind="assigned",
            object_id=c.pk,
            title=c.name,
            detail="",
            url=reverse("customers:detail", args=[c.pk]),
            when=timezone.localtime(c.owner_since).date() if c.owner_since else None,
        ),
    )

    pools = pools_by_id() if counts["pool_warning"] else {}

    def warning_item(c: Customer) -> WorkItem:
        return WorkItem(
            kind="pool_warning",
            object_id=c.pk,
            title=c.name,
            detail=c.next_follow_up_action,
            url=reverse("customers:detail", args=[c.pk]) + "?tab=interactions",
            when=return_on(c, pools),
        )

    fill("pool_warning", mine.order_by("last_contact_at", "id"), warning_item)

    from .mail.selectors import my_pending_rows, response_deadline

    # Mail waiting for our answer (ENG-5): its own table, so its own count.
    pending = my_pending_rows(actor=actor).filter(not_handled("mail_pending"))
    mail = sections["mail_pending"]
    mail.count = pending.count()
    mail.items = [
        WorkItem(
            kind="mail_pending",
            object_id=m.pk,
            title=m.subject or m.from_address,
            detail=m.thread.customer.name if m.thread.customer_id and m.thread.customer else m.from_address,
            url=reverse("engagement:mail_thread", args=[m.thread_id]),
            when=timezone.localtime(response_deadline(m)).date(),
        )
        for m in (pending[:SHOWN] if mail.count else [])
    ]

    # Birthdays (solar and lunar) through the next six days: two index ranges (customers.birthdays).
    contacts, persons = upcoming_birthdays(actor=actor, today=today, days=BIRTHDAY_DAYS)
    birthdays = [
        WorkItem(
            kind="birthday",
            object_id=b.person.pk,
            title=b.person.name,
            detail=b.person.customer.name,
            url=reverse("customers:detail", args=[b.person.customer_id]) + "?tab=contacts",
            when=b.on,
            note=b.label,
        )
        for b in contacts
        if b.person.pk not in handled.get("birthday", set())
    ] + [
        WorkItem(
            kind="birthday_customer",
            object_id=b.person.pk,
            title=b.person.name,
            detail="",
            url=reverse("customers:detail", args=[b.person.pk]),
            when=b.on,
            note=b.label,
        )
        for b in persons
        if b.person.pk not in handled.get("birthday_customer", set())
    ]
    section = sections["birthday"]
    section.count = len(birthdays)
    section.items = sorted(birthdays, key=lambda item: (item.when or today, item.title))[:SHOWN]
    return [*sections.values(), *_registered_sections(actor, today)]


HANDLEABLE = {*KINDS, "birthday_customer"}
