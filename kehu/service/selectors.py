"""Reads of customer service: the agents' queues (SVC-1), a ticket with its conversation and clocks, the
SLA report (SVC-5), the product-improvement list (SVC-2), the service counts of the home page and the
customer's 360° page. Every read starts from ``Ticket.objects.visible_to(actor)``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Case, Count, F, IntegerField, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import ValidationError
from kehu.core.pagination import Page, clean_filters, filter_date, filter_id, paginate_parts
from kehu.customers.extensions import TimelineEntry
from kehu.customers.models import Customer

from . import clocks
from .choices import (
    OPEN_STATUSES,
    Category,
    Priority,
    RootCause,
    TicketKind,
    TicketStatus,
    allowed_verbs,
)
from .models import (
    EscalationRule,
    ServiceTeam,
    SlaPolicy,
    TeamMember,
    Ticket,
    TicketAttachment,
    TicketEscalation,
    TicketMessage,
)
from .rules import ClockState, clock_state

QUEUES = ("mine", "team", "unassigned", "soon", "breached", "open", "all")
QUEUE_LABELS = {
    "mine": _("我的工单"),
    "team": _("本组工单"),
    "unassigned": _("待分派"),
    "soon": _("即将超时"),
    "breached": _("已超时"),
    "open": _("全部未结"),
    "all": _("全部工单"),
}
TICKET_FILTERS = frozenset(
    {
        "queue",
        "kind",
        "category",
        "status",
        "priority",
        "team",
        "assignee",
        "customer",
        "q",
        "date_from",
        "date_to",
    }
)
# A ticket without a deadline (no SLA policy) sorts after those with one either way, on SQLite as on
# PostgreSQL (which would put NULLs first when descending, SQLite first when ascending).
_DUE = F("resolution_due_at").asc(nulls_last=True)
TICKET_SORTS: dict[str, tuple[Any, ...]] = {
    "due": (_DUE, "id"),
    "-due": (F("resolution_due_at").desc(nulls_last=True), "-id"),
    "created": ("created_at", "id"),
    "-created": ("-created_at", "-id"),
    "priority": ("priority_rank", _DUE, "id"),
}


def _running_due(now: datetime, before: datetime) -> Q:
    """A clock still running (not done, not paused) whose deadline is before ``before``."""
    first = Q(first_responded_at__isnull=True, first_response_due_at__lt=before)
    resolution = Q(resolved_at__isnull=True, resolution_due_at__lt=before)
    return Q(paused_at__isnull=True) & (first | resolution)


def team_ids_of(actor: User) -> set[int]:
    """The teams whose queue is the actor's 我的团队: those they work in, and those they lead (a supervisor
    need not be one of the agents). Read first, so the queue is ``team_id IN (…)`` on the team index —
    an OR with the supervisor's join made the database walk every ticket of every team."""
    members = TeamMember.objects.filter(user=actor).values_list("team_id", flat=True)
    return set(members) | set(ServiceTeam.objects.filter(supervisor=actor).values_list("pk", flat=True))


def queue_filter(queue: str, *, actor: User, now: datetime, soon_minutes: int) -> Q:
    """What each queue holds (SVC-1): mine, my teams', the unassigned, those breaching within
    ``soon_minutes``, those past a deadline, every open ticket, everything."""
    open_q = Q(status__in=OPEN_STATUSES)
    if queue == "mine":
        return open_q & Q(assignee=actor)
    if queue == "team":
        return open_q & Q(team_id__in=sorted(team_ids_of(actor)))
    if queue == "unassigned":
        return open_q & Q(assignee__isnull=True)
    if queue == "soon":
        return open_q & _running_due(now, now + timedelta(minutes=soon_minutes)) & ~_running_due(now, now)
    if queue == "breached":
        return open_q & _running_due(now, now)
    if queue == "open":
        return open_q
    return Q()


def ticket_list(
    *,
    actor: User,
    filters: dict[str, Any] | None = None,
    sort: str = "due",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """A queue or search of the tickets the actor may see, filtered and sorted (nearest deadline first by
    default, so what breaches first is on top)."""
    require(actor, Perm.TICKET_VIEW)
    filters = clean_filters(filters, TICKET_FILTERS)
    queue = str(filters.get("queue") or "mine")
    if queue not in QUEUES:
        raise ValidationError(_("队列“%(v)s”无效"), field="queue", params={"v": queue})
    now = timezone.now()
    soon = clocks.settings_get().soon_minutes
    qs = Ticket.objects.visible_to(actor).filter(queue_filter(queue, actor=actor, now=now, soon_minutes=soon))
    for key, values in (
        ("kind", TicketKind.values), ("category", Category.values), ("status", TicketStatus.values),
        ("priority", Priority.values),
    ):  # fmt: skip
        if key in filters:
            value = str(filters[key])
            if value not in values:
                raise ValidationError(_("筛选值“%(v)s”无效"), field=key, params={"v": value})
            qs = qs.filter(**{key: value})
    for key in ("team", "assignee", "customer"):
        if key in filters:
            qs = qs.filter(**{f"{key}_id": filter_id(filters, key)})
    if "date_from" in filters:
        qs = qs.filter(created_at__date__gte=filter_date(filters, "date_from"))
    if "date_to" in filters:
        qs = qs.filter(created_at__date__lte=filter_date(filters, "date_to"))
    if "q" in filters:
        text = str(filters["q"]).strip()
        if text:
            qs = qs.filter(
                Q(number__icontains=text) | Q(title__icontains=text) | Q(caller_phone__contains=text)
                | Q(customer__name__icontains=text)
            )  # fmt: skip
    if sort not in TICKET_SORTS:
        raise ValidationError(_("排序“%(v)s”无效"), field="sort", params={"v": sort})

    def ranked(rows: QuerySet[Ticket]) -> QuerySet[Ticket]:
        if sort != "priority":
            return rows
        rank = Case(
            *(When(priority=p, then=i) for i, p in enumerate(Priority.values)), output_field=IntegerField()
        )
        return rows.annotate(priority_rank=rank)

    # One part per status (ADR 0006): each is read in deadline order straight from an index that starts
    # with the status (the assignee's, the team's, ticket_queue_clocks), stopping at the page's end — one
    # query over every status makes the database sort each ticket of a long queue (a supervisor's two
    # hundred thousand) to keep 25. The rows' customer, assignee and team are joined for the page only.
    # An agent's own queue stays one part: a few hundred tickets read from the assignee's index — split by
    # status, SQLite (no statistics) walks the status-first covering index of every ticket instead.
    statuses = [str(filters["status"])] if "status" in filters else list(
        OPEN_STATUSES if queue != "all" else TicketStatus.values
    )  # fmt: skip
    parts = [qs] if queue == "mine" else [qs.filter(status=status) for status in statuses]
    return paginate_parts(
        [ranked(part) for part in parts], order=TICKET_SORTS[sort], limit=limit, offset=offset,
        shape=lambda rows: ranked(rows.select_related("customer", "assignee", "team", "sla_policy")),
    )  # fmt: skip


QUEUE_COUNT_CAP = 999  # a queue tab shows "999+" beyond this


def queue_counts(*, actor: User, cap: int = QUEUE_COUNT_CAP) -> dict[str, int]:
    """How many tickets each queue holds, for the queue tabs: exact up to ``cap``, ``cap + 1`` meaning
    more (the tab shows "999+"). Each queue is counted on its own index and stops after ``cap + 1`` rows:
    one exact pass over the open tickets read all of them — two hundred thousand in the benchmark — on
    every queue page, to print numbers nobody reads beyond the first three digits. The home page's
    service panel (``service_counts``) keeps the exact figures."""
    require(actor, Perm.TICKET_VIEW)
    now = timezone.now()
    soon = clocks.settings_get().soon_minutes
    visible = Ticket.objects.visible_to(actor)
    queues = ("mine", "team", "unassigned", "soon", "breached")
    return {
        queue: visible.filter(queue_filter(queue, actor=actor, now=now, soon_minutes=soon))
        .order_by()
        .values("pk")[: cap + 1]
        .count()
        for queue in queues
    }


@dataclass(frozen=True)
class TicketClocks:
    first_response: ClockState
    resolution: ClockState


def ticket_clocks(
    ticket: Ticket, *, now: datetime | None = None, soon_minutes: int | None = None
) -> TicketClocks:
    """Both SLA clocks of a ticket as the page, the queue and the API show them (SVC-2, SVC-5)."""
    now = now or timezone.now()
    soon = clocks.settings_get().soon_minutes if soon_minutes is None else soon_minutes
    return TicketClocks(
        first_response=clock_state(
            due_at=ticket.first_response_due_at, done_at=ticket.first_responded_at, paused_at=ticket.paused_at,
            now=now, soon_minutes=soon,
        ),
        resolution=clock_state(
            due_at=ticket.resolution_due_at, done_at=ticket.resolved_at, paused_at=ticket.paused_at, now=now,
            soon_minutes=soon,
        ),
    )  # fmt: skip


@dataclass(frozen=True)
class TicketDetail:
    ticket: Ticket
    messages: list[TicketMessage]
    attachments: list[TicketAttachment]
    escalations: list[TicketEscalation]
    clocks: TicketClocks
    verbs: list[str]
    may_work: bool


def ticket_get(*, actor: User, ticket_id: int) -> Ticket:
    from .services import ticket_visible

    require(actor, Perm.TICKET_VIEW)
    return ticket_visible(ticket_id=ticket_id, actor=actor)


def ticket_detail(*, actor: User, ticket_id: int) -> TicketDetail:
    """A ticket with its conversation (internal notes included: only staff read this), files,
    escalations, clocks and what the actor may do next."""
    from .services import may_work

    ticket = ticket_get(actor=actor, ticket_id=ticket_id)
    workable = may_work(ticket, actor)
    return TicketDetail(
        ticket=ticket,
        messages=list(ticket.messages.select_related("author").prefetch_related("attachments")),
        attachments=list(ticket.attachments.all()),
        escalations=list(ticket.escalations.select_related("from_user", "to_user", "by", "rule")),
        clocks=ticket_clocks(ticket),
        verbs=allowed_verbs(ticket.kind, ticket.status) if workable else [],
        may_work=workable,
    )


def attachment_get(*, actor: User, attachment_id: int) -> TicketAttachment:
    from kehu.core.errors import NotFound

    require(actor, Perm.TICKET_VIEW)
    found = (
        TicketAttachment.objects.filter(pk=attachment_id, ticket__in=Ticket.objects.visible_to(actor))
        .select_related("ticket")
        .first()
    )
    if found is None:
        raise NotFound(_("附件不存在或您无权查看"), field="id")
    return found


# ---- SLA report (SVC-5) ----------------------------------------------------------------------------

# group -> (the column grouped by, the column its label comes from): ids, so that two agents (or two
# teams renamed alike) with the same name are not merged.
REPORT_GROUPS = {
    "policy": ("sla_policy_id", "sla_policy__name"),
    "team": ("team_id", "team__name"),
    "agent": ("assignee_id", "assignee__display_name"),
    "kind": ("kind", "kind"),
}


@dataclass(frozen=True)
class SlaRow:
    key: str
    label: str
    tickets: int
    response_met: int
    response_breached: int
    response_pending: int
    resolution_met: int
    resolution_breached: int
    resolution_pending: int

    @property
    def response_rate(self) -> float | None:
        done = self.response_met + self.response_breached
        return round(100 * self.response_met / done, 1) if done else None

    @property
    def resolution_rate(self) -> float | None:
        done = self.resolution_met + self.resolution_breached
        return round(100 * self.resolution_met / done, 1) if done else None


def _period(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    today = timezone.localdate()
    start = date_from or today.replace(day=1)
    end = date_to or today
    if end < start:
        raise ValidationError(_("结束日期不能早于开始日期"), field="date_to")
    if (end - start).days > 366 * 3:
        raise ValidationError(_("统计区间不能超过三年"), field="date_from")
    return start, end


def sla_report(
    *, actor: User, group: str = "policy", date_from: date | None = None, date_to: date | None = None
) -> list[SlaRow]:
    """Met / breached / still running, for both clocks, per policy, team, agent or kind, of the tickets
    created in the period (SVC-5). A clock is breached when it was done late, or is past its deadline
    and not done; tickets without a policy are not counted against any target."""
    require(actor, Perm.TICKET_VIEW)
    if group not in REPORT_GROUPS:
        raise ValidationError(_("分组“%(v)s”无效"), field="group", params={"v": group})
    start, end = _period(date_from, date_to)
    now = timezone.now()
    field, label_field = REPORT_GROUPS[group]
    qs = Ticket.objects.visible_to(actor).filter(
        created_at__date__gte=start, created_at__date__lte=end, sla_policy__isnull=False
    )
    one = IntegerField()

    def counted(condition: Q) -> Any:
        return Count(Case(When(condition, then=1), output_field=one))

    rows = (
        qs.values(field, label_field)
        .annotate(
            tickets=Count("id"),
            r_met=counted(
                Q(first_responded_at__isnull=False, first_responded_at__lte=F("first_response_due_at"))
            ),
            # A ticket cancelled before anyone answered (opened twice, by mistake) owed no response: like
            # its resolution, it is neither met nor breached.
            r_late=counted(
                Q(first_responded_at__isnull=False, first_responded_at__gt=F("first_response_due_at"))
                | Q(first_responded_at__isnull=True, first_response_due_at__lt=now, paused_at__isnull=True)
                & ~Q(status=TicketStatus.CANCELLED)
            ),
            s_met=counted(Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due_at"))),
            s_late=counted(
                Q(resolved_at__isnull=False, resolved_at__gt=F("resolution_due_at"))
                | Q(resolved_at__isnull=True, resolution_due_at__lt=now, paused_at__isnull=True)
                & ~Q(status=TicketStatus.CANCELLED)
            ),
        )
        .order_by(label_field, field)
    )
    out: list[SlaRow] = []
    for row in rows:
        label = row[label_field]
        if group == "kind":
            label = str(TicketKind(label).label) if label in TicketKind.values else label
        out.append(
            SlaRow(
                key=str(row[field] or ""), label=str(label or _("（未分派）")), tickets=row["tickets"],
                response_met=row["r_met"], response_breached=row["r_late"],
                response_pending=row["tickets"] - row["r_met"] - row["r_late"],
                resolution_met=row["s_met"], resolution_breached=row["s_late"],
                resolution_pending=row["tickets"] - row["s_met"] - row["s_late"],
            )
        )  # fmt: skip
    return out


# ---- Product-improvement list (SVC-2) --------------------------------------------------------------


@dataclass(frozen=True)
class ImprovementRow:
    product_id: int | None
    product: str
    root_cause: str
    root_cause_label: str
    complaints: int
    open: int
    latest_measures: str


def improvement_list(
    *, actor: User, date_from: date | None = None, date_to: date | None = None, limit: int = 200
) -> list[ImprovementRow]:
    """Complaints and their root causes per product — what product management should fix first
    (SVC-2): counts per product and cause, most complaints first, with the latest corrective measures."""
    require(actor, Perm.TICKET_VIEW)
    start, end = _period(date_from, date_to)
    # A complaint cancelled (registered twice, by mistake) is no complaint about the product.
    qs = (
        Ticket.objects.visible_to(actor)
        .filter(kind=TicketKind.COMPLAINT, created_at__date__gte=start, created_at__date__lte=end)
        .exclude(status=TicketStatus.CANCELLED)
    )
    rows = list(
        qs.values("product_id", "product__name", "root_cause")
        .annotate(
            n=Count("id"),
            still_open=Count(Case(When(status__in=OPEN_STATUSES, then=1), output_field=IntegerField())),
        )
        .order_by("-n", "product__name", "root_cause")[:limit]
    )
    measures: dict[tuple[int | None, str], str] = {}
    # The latest resolution's measures; a reopened complaint (no resolved_at) keeps measures that did not
    # hold, so it comes last — on PostgreSQL too, where a descending sort puts NULLs first.
    latest_first = F("resolved_at").desc(nulls_last=True)
    for row in (
        qs.exclude(corrective_measures="").order_by("product_id", "root_cause", latest_first, "-id")
        .values("product_id", "root_cause", "corrective_measures")[:5000]
    ):  # fmt: skip
        measures.setdefault((row["product_id"], row["root_cause"]), row["corrective_measures"])
    return [
        ImprovementRow(
            product_id=row["product_id"], product=row["product__name"] or str(_("（未关联产品）")),
            root_cause=row["root_cause"],
            root_cause_label=str(RootCause(row["root_cause"]).label) if row["root_cause"] else str(_("（调查中）")),
            complaints=row["n"], open=row["still_open"],
            latest_measures=measures.get((row["product_id"], row["root_cause"]), ""),
        )
        for row in rows
    ]  # fmt: skip


# ---- Configuration lists ----------------------------------------------------------------------------


def team_list(*, actor: User) -> list[ServiceTeam]:
    require(actor, Perm.TICKET_VIEW)
    return list(ServiceTeam.objects.select_related("supervisor").prefetch_related("members__user"))


def policy_list(*, actor: User) -> list[SlaPolicy]:
    require(actor, Perm.TICKET_VIEW)
    return list(SlaPolicy.objects.all())


def escalation_rule_list(*, actor: User) -> list[EscalationRule]:
    require(actor, Perm.TICKET_VIEW)
    return list(EscalationRule.objects.all())


def assignee_choices(*, actor: User) -> list[User]:
    """People a ticket can be given to: active users whose roles let them work tickets (superusers may
    do everything) — ``can(user, ticket.edit)`` for each, answered by one query over the roles rather
    than one per user (the supervisor's queue page lists them; hundreds of users at a call centre)."""
    from kehu.access.models import Role

    roles = [
        pk
        for pk, perms in Role.objects.values_list("pk", "permissions")
        if Perm.TICKET_EDIT.value in (perms or [])
    ]
    users = User.objects.filter(Q(is_superuser=True) | Q(roles__in=roles), is_active=True).distinct()
    return list(users.order_by("display_name"))


# ---- The customer's 360° page and the home page --------------------------------------------------


def customer_tickets(*, actor: User, customer: Customer, limit: int = 50) -> list[Ticket]:
    if not can(actor, Perm.TICKET_VIEW):
        return []
    return list(
        Ticket.objects.visible_to(actor)
        .filter(customer=customer)
        .select_related("assignee")
        .order_by("-created_at", "-id")[:limit]
    )


def customer_ticket_count(actor: User, customer: Customer) -> int:
    if not can(actor, Perm.TICKET_VIEW):
        return 0
    return Ticket.objects.visible_to(actor).filter(customer=customer).count()


def timeline_entries(actor: User, customer_ids: list[int], limit: int) -> list[TimelineEntry]:
    """Tickets and complaints on the 360° timeline (registered in apps.py)."""
    if not can(actor, Perm.TICKET_VIEW):
        return []
    rows = (
        Ticket.objects.visible_to(actor)
        .filter(customer_id__in=customer_ids)
        .select_related("assignee")
        .order_by("-created_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=t.created_at, template="service/partials/_timeline_ticket.html", item=t, kind="ticket",
            data={
                "actor": t.assignee.label if t.assignee else "", "verb": "ticket", "subject_type": "ticket",
                "subject_id": t.pk, "subject_label": f"{t.number} {t.title}",
                "summary": f"{t.get_kind_display()} · {t.get_status_display()}", "changes": {},
            },
        )
        for t in rows
    ]  # fmt: skip


@dataclass(frozen=True)
class ServiceCounts:
    """The service figures of the home page: what is open and how the clocks stand."""

    open: int
    mine: int
    unassigned: int
    soon: int
    breached: int
    complaints_open: int
    complaints_response_overdue: int


def service_counts(*, actor: User) -> ServiceCounts | None:
    if not can(actor, Perm.TICKET_VIEW):
        return None
    now = timezone.now()
    soon = clocks.settings_get().soon_minutes
    base = Ticket.objects.visible_to(actor).filter(status__in=OPEN_STATUSES)
    figures = base.aggregate(
        open=Count("id"),
        mine=Count(Case(When(assignee=actor, then=1), output_field=IntegerField())),
        unassigned=Count(Case(When(assignee__isnull=True, then=1), output_field=IntegerField())),
        soon=Count(
            Case(
                When(_running_due(now, now + timedelta(minutes=soon)) & ~_running_due(now, now), then=1),
                output_field=IntegerField(),
            )
        ),
        breached=Count(Case(When(_running_due(now, now), then=1), output_field=IntegerField())),
        complaints_open=Count(Case(When(kind=TicketKind.COMPLAINT, then=1), output_field=IntegerField())),
        complaints_response_overdue=Count(
            Case(
                When(
                    Q(
                        kind=TicketKind.COMPLAINT,
                        first_responded_at__isnull=True,
                        first_response_due_at__lt=now,
                    ),
                    then=1,
                ),
                output_field=IntegerField(),
            )
        ),
    )
    return ServiceCounts(**{k: int(v or 0) for k, v in figures.items()})


# What the screen pop shows of an open ticket.
POP_TICKET_FIELDS = (
    "id", "number", "title", "kind", "status", "created_at", "customer", "assignee", "assignee__username",
    "assignee__display_name",
)  # fmt: skip


def open_tickets_of(*, actor: User, customer_ids: list[int], limit: int = 10) -> QuerySet[Ticket]:
    """The open tickets of some customers (the screen pop): what its list shows, not every column."""
    return (
        Ticket.objects.visible_to(actor)
        .filter(customer_id__in=customer_ids, status__in=OPEN_STATUSES)
        .select_related("assignee")
        .only(*POP_TICKET_FIELDS)
        .order_by("-created_at", "-id")[:limit]
    )


def service_settings(*, actor: User) -> Any:
    require(actor, Perm.TICKET_VIEW)
    return clocks.settings_get()


def calendar_year(*, actor: User, year: int | None = None) -> list[dict[str, Any]]:
    """The year's days that differ from a plain Monday-to-Friday week — holidays on weekdays, worked
    weekends (调休), every administrator's entry — with where each answer comes from ("override",
    "package" = the published arrangement, "statutory" = the rule-based estimate for a year not yet
    published). SVC-5."""
    require(actor, Perm.TICKET_VIEW)
    year = year or timezone.localdate().year
    if not 2004 <= year <= 2100:
        raise ValidationError(_("年份应在 2004–2100 之间"), field="year")
    calendar = clocks.work_calendar()
    out: list[dict[str, Any]] = []
    day = date(year, 1, 1)
    while day.year == year:
        kind = calendar.day_kind(day)
        weekend = day.weekday() >= 5
        if kind.source == "override" or kind.is_workday == weekend:
            out.append({"day": day, "is_workday": kind.is_workday, "name": kind.name, "source": kind.source})
        day += timedelta(days=1)
    return out
