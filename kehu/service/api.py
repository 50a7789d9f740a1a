"""Thin REST endpoints of customer service (SVC-1 … SVC-5): every one calls the service or selector the
page calls."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS
from kehu.core.web import download_response

from . import clocks, configuration, distribution, escalation, screenpop, selectors, services
from .schemas import (
    AssignIn,
    BulkIn,
    BulkResultOut,
    CalendarDayIn,
    CalendarDayOut,
    CallIn,
    CallOut,
    ConfirmIn,
    EscalateIn,
    EscalationOut,
    ImprovementOut,
    MemberIn,
    MessageIn,
    MessageOut,
    NoteIn,
    PolicyIn,
    PolicyOut,
    PolicyPatch,
    PresenceIn,
    QueueCountsOut,
    ReasonIn,
    ResolveIn,
    RevisitIn,
    RingIn,
    RingOut,
    RuleIn,
    RuleOut,
    RulePatch,
    ScreenPopOut,
    SettingsOut,
    SettingsPatch,
    SlaRowOut,
    TeamIn,
    TeamOut,
    TeamPatch,
    TicketDetailOut,
    TicketIn,
    TicketListOut,
    TicketPatch,
    VersionIn,
    calendar_day_out,
    escalation_out,
    improvement_out,
    message_out,
    policy_out,
    rule_out,
    screen_pop_out,
    settings_out,
    sla_row_out,
    team_out,
    ticket_detail_out,
)

router = Router(tags=["service"])


def _set(payload: Any, *, exclude: tuple[str, ...] = ("version",)) -> dict[str, Any]:
    """The fields a PATCH body actually carries (absent ≠ null)."""
    return {k: v for k, v in payload.dict(exclude_unset=True).items() if k not in exclude}


def _detail(request: AuthedRequest, ticket_id: int) -> dict[str, Any]:
    return ticket_detail_out(selectors.ticket_detail(actor=request.user, ticket_id=ticket_id))


class TicketFilters(Schema):
    queue: str = "mine"
    kind: str | None = None
    category: str | None = None
    status: str | None = None
    priority: str | None = None
    team: int | None = None
    assignee: int | None = None
    customer: int | None = None
    q: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    sort: str = "due"
    limit: int | None = None
    offset: int | None = None


@router.get("/tickets", response={200: TicketListOut, **ERRORS}, summary="A queue of tickets (mine, team, …)")
def list_tickets(request: AuthedRequest, filters: Query[TicketFilters]) -> Any:
    from .schemas import ticket_out

    raw = {
        k: v
        for k, v in filters.dict().items()
        if v not in (None, "") and k not in ("sort", "limit", "offset")
    }
    page = selectors.ticket_list(
        actor=request.user, filters=raw, sort=filters.sort, limit=filters.limit, offset=filters.offset
    )
    soon = clocks.settings_get().soon_minutes  # once, not a settings read per ticket
    now_clocks = {t.pk: selectors.ticket_clocks(t, soon_minutes=soon) for t in page.items}
    return {"items": [ticket_out(t, now_clocks[t.pk]) for t in page.items], "count": page.count}


@router.post("/tickets", response={201: TicketDetailOut, **ERRORS}, summary="Register a ticket or complaint")
def create_ticket(request: AuthedRequest, payload: TicketIn) -> Any:
    ticket = services.ticket_create(data=_set(payload, exclude=()), by=request.user)
    return Status(201, _detail(request, ticket.pk))


@router.post(
    "/tickets/bulk",
    response={200: list[BulkResultOut], **ERRORS},
    summary="Bulk assign / redistribute / close",
)
def bulk_tickets(request: AuthedRequest, payload: BulkIn) -> Any:
    results = distribution.tickets_bulk(
        ids=payload.ids, action=payload.action, assignee_id=payload.assignee_id, by=request.user
    )
    return [r.__dict__ for r in results]


@router.get("/tickets/{ticket_id}", response={200: TicketDetailOut, **ERRORS})
def get_ticket(request: AuthedRequest, ticket_id: int) -> Any:
    return _detail(request, ticket_id)


@router.patch("/tickets/{ticket_id}", response={200: TicketDetailOut, **ERRORS}, summary="Correct a ticket")
def update_ticket(request: AuthedRequest, ticket_id: int, payload: TicketPatch) -> Any:
    services.ticket_update(ticket_id=ticket_id, version=payload.version, data=_set(payload), by=request.user)
    return _detail(request, ticket_id)


@router.post(
    "/tickets/{ticket_id}/replies", response={201: MessageOut, **ERRORS}, summary="Reply to the customer"
)
def reply(request: AuthedRequest, ticket_id: int, payload: MessageIn) -> Any:
    return Status(
        201, message_out(services.ticket_reply(ticket_id=ticket_id, body=payload.body, by=request.user))
    )


@router.post(
    "/tickets/{ticket_id}/notes", response={201: MessageOut, **ERRORS}, summary="Add an internal note"
)
def note(request: AuthedRequest, ticket_id: int, payload: MessageIn) -> Any:
    return Status(
        201, message_out(services.ticket_note(ticket_id=ticket_id, body=payload.body, by=request.user))
    )


@router.post(
    "/tickets/{ticket_id}/customer-messages", response={201: MessageOut, **ERRORS},
    summary="Record what the customer wrote (resumes a waiting ticket)",
)  # fmt: skip
def customer_message(request: AuthedRequest, ticket_id: int, payload: MessageIn) -> Any:
    message = services.ticket_customer_message(ticket_id=ticket_id, body=payload.body, by=request.user)
    return Status(201, message_out(message))


@router.post(
    "/tickets/{ticket_id}/attachments", response={201: MessageOut, **ERRORS},
    summary="Attach a file as an internal note (multipart field `file`, optional `body`)",
)  # fmt: skip
def attach(
    request: AuthedRequest,
    ticket_id: int,
    file: UploadedFile | None = File(None),  # noqa: B008 (ninja)
) -> Any:
    files = [((file.name or ""), file.read())] if file else [("", b"")]
    body = str(request.POST.get("body") or "") or (file.name if file and file.name else "附件")
    message = services.ticket_note(ticket_id=ticket_id, body=body, files=files, by=request.user)
    return Status(201, message_out(message))


@router.get("/ticket-attachments/{attachment_id}", response={200: None, **ERRORS})
def download(request: AuthedRequest, attachment_id: int) -> Any:
    a = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    return download_response(a.file, name=a.name, content_type=a.content_type)


def _version(payload: VersionIn) -> int | None:
    return payload.version


@router.post("/tickets/{ticket_id}/start", response={200: TicketDetailOut, **ERRORS})
def start(request: AuthedRequest, ticket_id: int, payload: VersionIn) -> Any:
    services.ticket_start(ticket_id=ticket_id, version=_version(payload), by=request.user)
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/acknowledge", response={200: TicketDetailOut, **ERRORS},
             summary="Acknowledge a complaint (the first response)")  # fmt: skip
def acknowledge(request: AuthedRequest, ticket_id: int, payload: NoteIn) -> Any:
    services.ticket_acknowledge(
        ticket_id=ticket_id, version=payload.version, note=payload.note, by=request.user
    )
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/investigate", response={200: TicketDetailOut, **ERRORS})
def investigate(request: AuthedRequest, ticket_id: int, payload: VersionIn) -> Any:
    services.ticket_investigate(ticket_id=ticket_id, version=payload.version, by=request.user)
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/wait", response={200: TicketDetailOut, **ERRORS},
             summary="Wait for the customer (pauses the SLA clocks)")  # fmt: skip
def wait(request: AuthedRequest, ticket_id: int, payload: VersionIn) -> Any:
    services.ticket_wait(ticket_id=ticket_id, version=payload.version, by=request.user)
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/resume", response={200: TicketDetailOut, **ERRORS})
def resume(request: AuthedRequest, ticket_id: int, payload: VersionIn) -> Any:
    services.ticket_resume(ticket_id=ticket_id, version=payload.version, by=request.user)
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/resolve", response={200: TicketDetailOut, **ERRORS})
def resolve(request: AuthedRequest, ticket_id: int, payload: ResolveIn) -> Any:
    data = {k: v for k, v in payload.dict(exclude={"version"}).items() if v is not None}
    services.ticket_resolve(ticket_id=ticket_id, version=payload.version, data=data, by=request.user)
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/confirm", response={200: TicketDetailOut, **ERRORS},
             summary="The customer confirmed the solution")  # fmt: skip
def confirm(request: AuthedRequest, ticket_id: int, payload: ConfirmIn) -> Any:
    services.ticket_confirm(
        ticket_id=ticket_id, version=payload.version, satisfaction=payload.satisfaction, note=payload.note,
        by=request.user,
    )  # fmt: skip
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/close", response={200: TicketDetailOut, **ERRORS})
def close(request: AuthedRequest, ticket_id: int, payload: NoteIn) -> Any:
    services.ticket_close(ticket_id=ticket_id, version=payload.version, note=payload.note, by=request.user)
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/revisit", response={200: TicketDetailOut, **ERRORS},
             summary="Record a complaint's revisit and close it")  # fmt: skip
def revisit(request: AuthedRequest, ticket_id: int, payload: RevisitIn) -> Any:
    services.ticket_revisit(
        ticket_id=ticket_id, version=payload.version, satisfaction=payload.satisfaction, note=payload.note,
        by=request.user,
    )  # fmt: skip
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/reopen", response={200: TicketDetailOut, **ERRORS})
def reopen(request: AuthedRequest, ticket_id: int, payload: ReasonIn) -> Any:
    services.ticket_reopen(
        ticket_id=ticket_id, version=payload.version, reason=payload.reason, by=request.user
    )
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/cancel", response={200: TicketDetailOut, **ERRORS})
def cancel(request: AuthedRequest, ticket_id: int, payload: ReasonIn) -> Any:
    services.ticket_cancel(
        ticket_id=ticket_id, version=payload.version, reason=payload.reason, by=request.user
    )
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/assign", response={200: TicketDetailOut, **ERRORS},
             summary="Assign (or with assignee_id null, return to the team queue)")  # fmt: skip
def assign(request: AuthedRequest, ticket_id: int, payload: AssignIn) -> Any:
    distribution.ticket_assign(
        ticket_id=ticket_id, version=payload.version, assignee_id=payload.assignee_id, reason=payload.reason,
        by=request.user,
    )  # fmt: skip
    return _detail(request, ticket_id)


@router.post("/tickets/{ticket_id}/escalate", response={201: EscalationOut, **ERRORS},
             summary="Escalate by hand: reassign, to the supervisor or the manager")  # fmt: skip
def escalate(request: AuthedRequest, ticket_id: int, payload: EscalateIn) -> Any:
    record = escalation.ticket_escalate(
        ticket_id=ticket_id, version=payload.version, action=payload.action, reason=payload.reason,
        to_user_id=payload.to_user_id, strategy=payload.strategy, by=request.user,
    )  # fmt: skip
    return Status(201, escalation_out(record))


# ---- The agent -------------------------------------------------------------------------------------


@router.get("/service/queue-counts", response={200: QueueCountsOut, **ERRORS})
def queue_counts(request: AuthedRequest) -> Any:
    return {
        **selectors.queue_counts(actor=request.user), "cap": selectors.QUEUE_COUNT_CAP,
        "away": distribution.is_away(request.user),
    }  # fmt: skip


@router.put("/service/presence", response={200: QueueCountsOut, **ERRORS}, summary="Mark myself away or back")
def presence(request: AuthedRequest, payload: PresenceIn) -> Any:
    distribution.presence_set(away=payload.away, by=request.user)
    return queue_counts(request)


# ---- Reports ---------------------------------------------------------------------------------------


class PeriodFilters(Schema):
    group: str = "policy"
    date_from: date | None = None
    date_to: date | None = None


@router.get("/service/sla-report", response={200: list[SlaRowOut], **ERRORS}, summary="SLA met / breached")
def sla_report(request: AuthedRequest, filters: Query[PeriodFilters]) -> Any:
    rows = selectors.sla_report(
        actor=request.user, group=filters.group, date_from=filters.date_from, date_to=filters.date_to
    )
    return [sla_row_out(r) for r in rows]


@router.get("/service/improvements", response={200: list[ImprovementOut], **ERRORS},
            summary="Complaints per product and root cause")  # fmt: skip
def improvements(request: AuthedRequest, filters: Query[PeriodFilters]) -> Any:
    rows = selectors.improvement_list(
        actor=request.user, date_from=filters.date_from, date_to=filters.date_to
    )
    return [improvement_out(r) for r in rows]


# ---- Settings --------------------------------------------------------------------------------------


@router.get("/service/teams", response={200: list[TeamOut], **ERRORS})
def teams(request: AuthedRequest) -> Any:
    return [team_out(t) for t in selectors.team_list(actor=request.user)]


@router.post("/service/teams", response={201: TeamOut, **ERRORS})
def create_team(request: AuthedRequest, payload: TeamIn) -> Any:
    team = configuration.team_create(data=_set(payload, exclude=()), by=request.user)
    return Status(201, team_out(team))


@router.patch("/service/teams/{team_id}", response={200: TeamOut, **ERRORS})
def update_team(request: AuthedRequest, team_id: int, payload: TeamPatch) -> Any:
    team = configuration.team_update(
        team_id=team_id, version=payload.version, data=_set(payload), by=request.user
    )
    return team_out(team)


@router.put("/service/teams/{team_id}/members/{user_id}", response={200: TeamOut, **ERRORS},
            summary="Put an agent in a team, with skills")  # fmt: skip
def set_member(request: AuthedRequest, team_id: int, user_id: int, payload: MemberIn) -> Any:
    member = configuration.team_member_set(
        team_id=team_id, user_id=user_id, skills=payload.skills, by=request.user
    )
    return team_out(member.team)


@router.delete("/service/teams/{team_id}/members/{user_id}", response={204: None, **ERRORS})
def remove_member(request: AuthedRequest, team_id: int, user_id: int) -> Any:
    configuration.team_member_remove(team_id=team_id, user_id=user_id, by=request.user)
    return Status(204, None)


@router.get("/service/sla-policies", response={200: list[PolicyOut], **ERRORS})
def policies(request: AuthedRequest) -> Any:
    return [policy_out(p) for p in selectors.policy_list(actor=request.user)]


@router.post("/service/sla-policies", response={201: PolicyOut, **ERRORS})
def create_policy(request: AuthedRequest, payload: PolicyIn) -> Any:
    return Status(
        201, policy_out(configuration.policy_create(data=_set(payload, exclude=()), by=request.user))
    )


@router.patch("/service/sla-policies/{policy_id}", response={200: PolicyOut, **ERRORS})
def update_policy(request: AuthedRequest, policy_id: int, payload: PolicyPatch) -> Any:
    policy = configuration.policy_update(
        policy_id=policy_id, version=payload.version, data=_set(payload), by=request.user
    )
    return policy_out(policy)


@router.get("/service/escalation-rules", response={200: list[RuleOut], **ERRORS})
def rules(request: AuthedRequest) -> Any:
    return [rule_out(r) for r in selectors.escalation_rule_list(actor=request.user)]


@router.post("/service/escalation-rules", response={201: RuleOut, **ERRORS})
def create_rule(request: AuthedRequest, payload: RuleIn) -> Any:
    return Status(
        201, rule_out(configuration.escalation_rule_create(data=_set(payload, exclude=()), by=request.user))
    )


@router.patch("/service/escalation-rules/{rule_id}", response={200: RuleOut, **ERRORS})
def update_rule(request: AuthedRequest, rule_id: int, payload: RulePatch) -> Any:
    rule = configuration.escalation_rule_update(
        rule_id=rule_id, version=payload.version, data=_set(payload), by=request.user
    )
    return rule_out(rule)


class CalendarFilters(Schema):
    year: int | None = None


@router.get("/service/calendar", response={200: list[CalendarDayOut], **ERRORS},
            summary="Every day off and working weekend of a year, and where each comes from")  # fmt: skip
def calendar(request: AuthedRequest, filters: Query[CalendarFilters]) -> Any:
    return selectors.calendar_year(actor=request.user, year=filters.year)


@router.put("/service/calendar/{day}", response={200: CalendarDayOut, **ERRORS},
            summary="Enter a day off or a working day (调休)")  # fmt: skip
def set_day(request: AuthedRequest, day: date, payload: CalendarDayIn) -> Any:
    row = configuration.calendar_day_set(
        day=day, is_workday=payload.is_workday, name=payload.name, by=request.user
    )
    return calendar_day_out(row)


@router.delete("/service/calendar/{day}", response={204: None, **ERRORS})
def remove_day(request: AuthedRequest, day: date) -> Any:
    configuration.calendar_day_remove(day=day, by=request.user)
    return Status(204, None)


@router.get("/service/settings", response={200: SettingsOut, **ERRORS})
def get_settings(request: AuthedRequest) -> Any:
    return settings_out(selectors.service_settings(actor=request.user))


@router.patch("/service/settings", response={200: SettingsOut, **ERRORS})
def update_settings(request: AuthedRequest, payload: SettingsPatch) -> Any:
    row = configuration.service_settings_update(version=payload.version, data=_set(payload), by=request.user)
    return settings_out(row)


# ---- The call centre (SVC-3) -------------------------------------------------------------------------


class PopFilters(Schema):
    number: str
    customer: int | None = None


@router.get("/calls/screen-pop", response={200: ScreenPopOut, **ERRORS},
            summary="Who is calling: customer, purchases, open tickets, last contacts (CTI)")  # fmt: skip
def screen_pop(request: AuthedRequest, filters: Query[PopFilters]) -> Any:
    pop = screenpop.screen_pop(number=filters.number, actor=request.user, customer_id=filters.customer)
    return screen_pop_out(pop)


@router.post("/calls", response={201: CallOut, **ERRORS},
             summary="Log an inbound call; optionally open a ticket; follow up next day if resolved")  # fmt: skip
def handle_call(request: AuthedRequest, payload: CallIn) -> Any:
    data = payload.dict(exclude_unset=True)
    result = screenpop.call_handle(data=data, by=request.user)
    return Status(201, {
        "interaction_id": result.interaction.pk,
        "ticket_id": result.ticket.pk if result.ticket else None,
        "ticket_number": result.ticket.number if result.ticket else None,
        "follow_up_task_id": result.follow_up.pk if result.follow_up else None,
        "follow_up_on": result.follow_up.due_on if result.follow_up else None,
    })  # fmt: skip


@router.post("/calls/ring", response={201: RingOut, **ERRORS},
             summary="A call rings at an agent: their open service pages pop the caller's screen (CTI)")  # fmt: skip
def ring(request: AuthedRequest, payload: RingIn) -> Any:
    from urllib.parse import urlencode

    call = screenpop.call_ring(number=payload.number, agent_id=payload.agent_id, by=request.user)
    return Status(201, {
        "id": call.pk, "agent_id": call.agent_id, "number": call.number, "rang_at": call.rang_at,
        "pop_url": f"/service/calls/pop/?{urlencode({'number': call.number})}",
    })  # fmt: skip
