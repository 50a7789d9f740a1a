"""API schemas of customer service (SVC-1 … SVC-5). Times are ISO 8601 with offset (Asia/Shanghai)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from kehu.core.schemas import StrictIn

from .models import (
    CalendarDay,
    EscalationRule,
    ServiceSettings,
    ServiceTeam,
    SlaPolicy,
    Ticket,
    TicketEscalation,
)
from .rules import ClockState
from .selectors import ImprovementRow, SlaRow, TicketClocks, TicketDetail


class TicketIn(StrictIn):
    kind: str
    category: str | None = None
    title: str
    description: str = ""
    customer_id: int | None = None
    contact_id: int | None = None
    order_id: int | None = None
    product_id: int | None = None
    caller_name: str = ""
    caller_phone: str = ""
    channel: str | None = None
    priority: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None


class TicketPatch(StrictIn):
    version: int
    category: str | None = None
    title: str | None = None
    description: str | None = None
    contact_id: int | None = None
    order_id: int | None = None
    product_id: int | None = None
    priority: str | None = None


class VersionIn(StrictIn):
    version: int | None = None


class NoteIn(VersionIn):
    note: str = ""


class ReasonIn(VersionIn):
    reason: str = ""


class ResolveIn(VersionIn):
    resolution: str = ""
    root_cause: str | None = None
    root_cause_detail: str | None = None
    corrective_measures: str | None = None
    handling_strategy: str | None = None


class ConfirmIn(VersionIn):
    satisfaction: int | None = None
    note: str = ""


class RevisitIn(VersionIn):
    satisfaction: int | None = None
    note: str = ""


class MessageIn(StrictIn):
    body: str


class AssignIn(VersionIn):
    assignee_id: int | None = None
    reason: str = ""


class EscalateIn(VersionIn):
    action: str
    reason: str = ""
    to_user_id: int | None = None
    strategy: str = ""


class BulkIn(StrictIn):
    ids: list[int] = Field(max_length=200)
    action: str  # assign / redistribute / close
    assignee_id: int | None = None


class BulkResultOut(BaseModel):
    id: int
    ok: bool
    code: str = ""
    message: str = ""


class PresenceIn(StrictIn):
    away: bool


class ClockOut(BaseModel):
    due_at: datetime | None
    done_at: datetime | None
    state: str
    minutes_left: int | None
    paused: bool


def clock_out(state: ClockState) -> dict[str, Any]:
    return {
        "due_at": state.due_at, "done_at": state.done_at, "state": state.state, "minutes_left": state.minutes_left,
        "paused": state.paused,
    }  # fmt: skip


class TicketOut(BaseModel):
    id: int
    version: int
    number: str
    kind: str
    kind_label: str
    category: str
    category_label: str
    title: str
    description: str
    customer_id: int | None
    customer_name: str | None
    contact_id: int | None
    order_id: int | None
    product_id: int | None
    caller_name: str
    caller_phone: str
    channel: str
    priority: str
    status: str
    status_label: str
    team_id: int | None
    team: str | None
    assignee_id: int | None
    assignee: str | None
    sla_policy: str | None
    basis: str
    first_response: ClockOut
    resolution: ClockOut
    resolution_text: str
    root_cause: str
    root_cause_detail: str
    corrective_measures: str
    handling_strategy: str
    satisfaction: int | None
    revisit_note: str
    reopened_count: int
    escalation_level: int
    created_at: datetime
    closed_at: datetime | None


def ticket_out(ticket: Ticket, clocks: TicketClocks | None = None) -> dict[str, Any]:
    from .selectors import ticket_clocks

    clocks = clocks or ticket_clocks(ticket)
    return {
        "id": ticket.pk, "version": ticket.version, "number": ticket.number, "kind": ticket.kind,
        "kind_label": ticket.get_kind_display(), "category": ticket.category,
        "category_label": ticket.get_category_display(), "title": ticket.title, "description": ticket.description,
        "customer_id": ticket.customer_id, "customer_name": ticket.customer.name if ticket.customer else None,
        "contact_id": ticket.contact_id, "order_id": ticket.order_id, "product_id": ticket.product_id,
        "caller_name": ticket.caller_name, "caller_phone": ticket.caller_phone, "channel": ticket.channel,
        "priority": ticket.priority, "status": ticket.status, "status_label": ticket.get_status_display(),
        "team_id": ticket.team_id, "team": ticket.team.name if ticket.team else None,
        "assignee_id": ticket.assignee_id, "assignee": ticket.assignee.display_name if ticket.assignee else None,
        "sla_policy": ticket.sla_policy.name if ticket.sla_policy else None, "basis": ticket.basis,
        "first_response": clock_out(clocks.first_response), "resolution": clock_out(clocks.resolution),
        "resolution_text": ticket.resolution, "root_cause": ticket.root_cause,
        "root_cause_detail": ticket.root_cause_detail, "corrective_measures": ticket.corrective_measures,
        "handling_strategy": ticket.handling_strategy, "satisfaction": ticket.satisfaction,
        "revisit_note": ticket.revisit_note, "reopened_count": ticket.reopened_count,
        "escalation_level": ticket.escalation_level, "created_at": ticket.created_at, "closed_at": ticket.closed_at,
    }  # fmt: skip


class TicketListOut(BaseModel):
    items: list[TicketOut]
    count: int


class MessageOut(BaseModel):
    id: int
    kind: str
    body: str
    author: str | None
    at: datetime
    attachments: list[dict[str, Any]]


def message_out(message: Any) -> dict[str, Any]:
    return {
        "id": message.pk, "kind": message.kind, "body": message.body,
        "author": message.author.display_name if message.author else None, "at": message.at,
        "attachments": [{"id": a.pk, "name": a.name, "size": a.size} for a in message.attachments.all()],
    }  # fmt: skip


class EscalationOut(BaseModel):
    id: int
    rule: str | None
    clock: str
    action: str
    from_user: str | None
    to_user: str | None
    reason: str
    by: str | None
    at: datetime


def escalation_out(e: TicketEscalation) -> dict[str, Any]:
    return {
        "id": e.pk, "rule": e.rule.name if e.rule else None, "clock": e.clock, "action": e.action,
        "from_user": e.from_user.display_name if e.from_user else None,
        "to_user": e.to_user.display_name if e.to_user else None, "reason": e.reason,
        "by": e.by.display_name if e.by else None, "at": e.at,
    }  # fmt: skip


class TicketDetailOut(TicketOut):
    messages: list[MessageOut]
    escalations: list[EscalationOut]
    verbs: list[str]


def ticket_detail_out(detail: TicketDetail) -> dict[str, Any]:
    return {
        **ticket_out(detail.ticket, detail.clocks),
        "messages": [message_out(m) for m in detail.messages],
        "escalations": [escalation_out(e) for e in detail.escalations],
        "verbs": detail.verbs,
    }


class QueueCountsOut(BaseModel):
    """Tickets per queue, exact up to ``cap``; ``cap + 1`` means more than ``cap``."""

    mine: int
    team: int
    unassigned: int
    soon: int
    breached: int
    cap: int
    away: bool


class SlaRowOut(BaseModel):
    key: str
    label: str
    tickets: int
    response_met: int
    response_breached: int
    response_pending: int
    response_rate: float | None
    resolution_met: int
    resolution_breached: int
    resolution_pending: int
    resolution_rate: float | None


def sla_row_out(row: SlaRow) -> dict[str, Any]:
    return {**row.__dict__, "response_rate": row.response_rate, "resolution_rate": row.resolution_rate}


class ImprovementOut(BaseModel):
    product_id: int | None
    product: str
    root_cause: str
    root_cause_label: str
    complaints: int
    open: int
    latest_measures: str


def improvement_out(row: ImprovementRow) -> dict[str, Any]:
    return dict(row.__dict__)


# ---- Settings ---------------------------------------------------------------------------------------


class TeamIn(StrictIn):
    name: str
    supervisor_id: int | None = None
    distribution: str | None = None
    kinds: list[str] = []
    position: int | None = None
    is_active: bool | None = None


class TeamPatch(StrictIn):
    version: int
    name: str | None = None
    supervisor_id: int | None = None
    distribution: str | None = None
    kinds: list[str] | None = None
    position: int | None = None
    is_active: bool | None = None


class MemberIn(StrictIn):
    skills: list[str] = []


class TeamOut(BaseModel):
    id: int
    version: int
    name: str
    supervisor_id: int | None
    supervisor: str | None
    distribution: str
    kinds: list[str]
    position: int
    is_active: bool
    members: list[dict[str, Any]]


def team_out(team: ServiceTeam) -> dict[str, Any]:
    return {
        "id": team.pk, "version": team.version, "name": team.name, "supervisor_id": team.supervisor_id,
        "supervisor": team.supervisor.display_name if team.supervisor else None, "distribution": team.distribution,
        "kinds": list(team.kinds or []), "position": team.position, "is_active": team.is_active,
        "members": [
            {"user_id": m.user_id, "name": m.user.display_name, "skills": list(m.skills or [])}
            for m in team.members.all()
        ],
    }  # fmt: skip


class PolicyIn(StrictIn):
    name: str
    kind: str = ""
    category: str = ""
    value_tier: str = ""
    priority: str = ""
    first_response_minutes: int
    resolution_minutes: int
    basis: str | None = None
    position: int | None = None
    is_active: bool | None = None


class PolicyPatch(StrictIn):
    version: int
    name: str | None = None
    kind: str | None = None
    category: str | None = None
    value_tier: str | None = None
    priority: str | None = None
    first_response_minutes: int | None = None
    resolution_minutes: int | None = None
    basis: str | None = None
    position: int | None = None
    is_active: bool | None = None


class PolicyOut(BaseModel):
    id: int
    version: int
    name: str
    kind: str
    category: str
    value_tier: str
    priority: str
    first_response_minutes: int
    resolution_minutes: int
    basis: str
    position: int
    is_active: bool


def policy_out(p: SlaPolicy) -> dict[str, Any]:
    return {k: getattr(p, k) for k in PolicyOut.model_fields if k != "id"} | {"id": p.pk}


class RuleIn(StrictIn):
    name: str
    kind: str = ""
    clock: str
    when: str
    minutes: int
    action: str
    is_active: bool | None = None


class RulePatch(StrictIn):
    version: int
    name: str | None = None
    kind: str | None = None
    clock: str | None = None
    when: str | None = None
    minutes: int | None = None
    action: str | None = None
    is_active: bool | None = None


class RuleOut(BaseModel):
    id: int
    version: int
    name: str
    kind: str
    clock: str
    when: str
    minutes: int
    action: str
    is_active: bool


def rule_out(r: EscalationRule) -> dict[str, Any]:
    return {k: getattr(r, k) for k in RuleOut.model_fields if k != "id"} | {"id": r.pk}


class CalendarDayIn(StrictIn):
    is_workday: bool
    name: str = ""


class CalendarDayOut(BaseModel):
    day: date
    is_workday: bool
    name: str
    source: str


def calendar_day_out(row: CalendarDay) -> dict[str, Any]:
    return {"day": row.day, "is_workday": row.is_workday, "name": row.name, "source": "override"}


class SettingsPatch(StrictIn):
    version: int
    work_windows: list[list[str]] | None = None
    reopen_days: int | None = None
    soon_minutes: int | None = None
    local_area_code: str | None = None
    follow_up_resolved_calls: bool | None = None
    default_team_id: int | None = None


class SettingsOut(BaseModel):
    version: int
    work_windows: list[list[str]]
    reopen_days: int
    soon_minutes: int
    local_area_code: str
    follow_up_resolved_calls: bool
    default_team_id: int | None


def settings_out(row: ServiceSettings) -> dict[str, Any]:
    return {k: getattr(row, k) for k in SettingsOut.model_fields}


# ---- The call centre (SVC-3) -------------------------------------------------------------------------


class CallTicketIn(StrictIn):
    kind: str
    category: str | None = None
    title: str
    description: str = ""
    priority: str | None = None


class CallIn(StrictIn):
    number: str = ""
    customer_id: int | None = None
    contact_id: int | None = None
    summary: str = ""
    resolved: bool = False
    ticket: CallTicketIn | None = None


class CallOut(BaseModel):
    interaction_id: int
    ticket_id: int | None
    ticket_number: str | None
    follow_up_task_id: int | None
    follow_up_on: date | None


class RingIn(StrictIn):
    number: str
    agent_id: int | None = None


class RingOut(BaseModel):
    id: int
    agent_id: int
    number: str
    rang_at: datetime
    pop_url: str


class ScreenPopOut(BaseModel):
    number: str
    key: str
    known: bool
    visible: bool
    customer: dict[str, Any] | None
    contact: dict[str, Any] | None
    other_matches: list[dict[str, Any]]
    hidden_matches: int
    purchases: list[dict[str, Any]]
    open_tickets: list[dict[str, Any]]
    interactions: list[dict[str, Any]]
    greeting: str


def screen_pop_out(pop: Any) -> dict[str, Any]:
    c, contact = pop.customer, pop.contact
    visible = [m for m in pop.matches if m.visible and m.customer is not None]
    return {
        "number": pop.number, "key": pop.key, "known": pop.known, "visible": c is not None,
        "customer": None if c is None else {
            "id": c.pk, "name": c.name, "code": c.code, "kind": c.kind, "value_tier": c.value_tier,
            "owner": c.owner.label if c.owner_id and c.owner else None,
        },
        "contact": None if contact is None else {
            "id": contact.pk, "name": contact.name, "position": contact.position, "gender": contact.gender,
        },
        "other_matches": [
            {"customer_id": m.customer.pk, "customer_name": m.customer.name,
             "contact_id": m.contact.pk if m.contact else None, "contact_name": m.contact.name if m.contact else None}
            for m in visible if c is None or m.customer.pk != c.pk or (m.contact or None) != contact
        ],
        "hidden_matches": sum(1 for m in pop.matches if not m.visible),
        "purchases": [
            {"product": p.product, "quantity": str(p.quantity.normalize()), "unit": p.unit, "last_on": p.last_on}
            for p in pop.purchases
        ],
        "open_tickets": [
            {"id": t.pk, "number": t.number, "title": t.title, "kind": t.kind, "status": t.status,
             "assignee": t.assignee.display_name if t.assignee else None}
            for t in pop.open_tickets
        ],
        "interactions": [
            {"id": i.pk, "occurred_at": i.occurred_at, "summary": i.summary, "channel": str(i.channel),
             "by": i.created_by.label if i.created_by else None}
            for i in pop.interactions
        ],
        "greeting": pop.greeting,
    }  # fmt: skip
