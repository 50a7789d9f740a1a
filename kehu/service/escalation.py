"""Escalation (SVC-2): the rules that fire when a clock nears or passes its deadline, and escalation by
hand. Every escalation is recorded (``TicketEscalation``) and audited.

``escalations_run`` is the periodic job's work (every five minutes): for each active rule, the open,
running tickets whose trigger moment (deadline ± minutes) has come and for which the rule has not fired
at that deadline yet. A rule fires once per ticket and deadline — a deadline moved by a pause or a
reopen may fire it again, which is what a supervisor expects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import Conflict, ValidationError
from kehu.core.events import emit
from kehu.notifications.services import notify

from .choices import OPEN_STATUSES, Clock, EscalationAction, EscalationWhen, HandlingStrategy
from .distribution import distribute
from .models import EscalationRule, Ticket, TicketEscalation
from .services import _event, _workable

BATCH = 500
MAX_ROUNDS = 40


@dataclass(frozen=True)
class EscalationRunResult:
    fired: int
    by_action: dict[str, int]


def _due_field(clock: str) -> tuple[str, str]:
    if clock == Clock.FIRST_RESPONSE:
        return "first_response_due_at", "first_responded_at"
    return "resolution_due_at", "resolved_at"


def escalations_run(*, now: datetime | None = None) -> EscalationRunResult:
    """Apply every active rule to the tickets it is due for (the job ``service.escalate``)."""
    now = now or timezone.now()
    by_action: dict[str, int] = {}
    for rule in EscalationRule.objects.filter(is_active=True):
        due, _done = _due_field(rule.clock)
        for ticket in _due_for(rule, now=now):
            deadline = getattr(ticket, due)
            try:
                with transaction.atomic():
                    TicketEscalation.objects.create(
                        ticket=ticket, rule=rule, clock=rule.clock, action=rule.action, deadline=deadline,
                        from_user=ticket.assignee, reason=_rule_reason(rule, deadline),
                    )  # fmt: skip
                    _apply(ticket, rule=rule, deadline=deadline)
            except IntegrityError:
                continue  # another worker fired it first
            by_action[rule.action] = by_action.get(rule.action, 0) + 1
    return EscalationRunResult(fired=sum(by_action.values()), by_action=by_action)


def _candidates(rule: EscalationRule, *, now: datetime) -> list[Ticket]:
    """Open, running (not waiting) tickets of the rule's kind whose trigger moment has come — before:
    ``due - minutes <= now``; after: ``due + minutes <= now`` — and that the rule has not fired for at
    their current deadline (NOT EXISTS, so fired tickets never crowd out new ones)."""
    due, done = _due_field(rule.clock)
    shift = timedelta(minutes=rule.minutes)
    limit = now + shift if rule.when == EscalationWhen.BEFORE else now - shift
    fired = TicketEscalation.objects.filter(ticket=OuterRef("pk"), rule=rule, deadline=OuterRef(due))
    qs = Ticket.objects.filter(
        status__in=OPEN_STATUSES, paused_at__isnull=True, **{f"{done}__isnull": True, f"{due}__lte": limit}
    ).exclude(Exists(fired))
    if rule.kind:
        qs = qs.filter(kind=rule.kind)
    return list(qs.select_related("team", "assignee", "customer").order_by(due, "id")[:BATCH])


def _due_for(rule: EscalationRule, *, now: datetime) -> Any:
    """Every ticket the rule is due for, batch by batch (a batch fired drops out of the next query);
    bounded, so one run after a long outage still ends."""
    for _round in range(MAX_ROUNDS):
        batch = _candidates(rule, now=now)
        yield from batch
        if len(batch) < BATCH:
            return


def _rule_reason(rule: EscalationRule, deadline: datetime) -> str:
    local = timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M")
    return str(
        _("规则“%(r)s”：%(c)s期限 %(d)s %(w)s") % {
            "r": rule.name, "c": Clock(rule.clock).label, "d": local, "w": EscalationWhen(rule.when).label,
        }
    )[:300]  # fmt: skip


def _supervisor(ticket: Ticket) -> User | None:
    return ticket.team.supervisor if ticket.team_id and ticket.team and ticket.team.supervisor_id else None


def _manager(ticket: Ticket) -> User | None:
    """The manager of the handler's department (or of the supervisor's, for an unassigned ticket)."""
    person = ticket.assignee or _supervisor(ticket)
    department = getattr(person, "department", None)
    while department is not None:
        if department.manager_id and department.manager_id != getattr(person, "pk", None):
            return department.manager
        department = department.parent
    return None


def _apply(ticket: Ticket, *, rule: EscalationRule, deadline: datetime) -> None:
    reason = _rule_reason(rule, deadline)
    if rule.action == EscalationAction.NOTIFY:
        target = ticket.assignee or _supervisor(ticket)
        _tell(target, ticket, reason)
    elif rule.action == EscalationAction.REASSIGN:
        before = ticket.assignee_id
        if distribute(ticket, by=None, exclude=(before,) if before else ()) is None:
            _tell(_supervisor(ticket) or ticket.assignee, ticket, str(_("无人可改派：%(r)s") % {"r": reason}))
        else:
            TicketEscalation.objects.filter(ticket=ticket, rule=rule, deadline=deadline).update(
                to_user_id=ticket.assignee_id
            )
    else:
        target = _supervisor(ticket) if rule.action == EscalationAction.SUPERVISOR else _manager(ticket)
        level = 1 if rule.action == EscalationAction.SUPERVISOR else 2
        _raise_level(ticket, level=level, by=None, reason=reason)
        if target is not None:
            TicketEscalation.objects.filter(ticket=ticket, rule=rule, deadline=deadline).update(
                to_user=target
            )
        _tell(target or ticket.assignee, ticket, reason)


def _raise_level(ticket: Ticket, *, level: int, by: User | None, reason: str) -> None:
    if ticket.escalation_level >= level:
        return
    before = ticket.escalation_level
    ticket.escalation_level = level
    ticket.save_versioned(expected_version=None, fields=["escalation_level"])
    emit(_event(by, "escalate", ticket, {"escalation_level": [before, level], "reason": [None, reason]}))


def _tell(user: User | None, ticket: Ticket, reason: str, *, occasion: str = "") -> None:
    """Notify ``user``. The key makes a rule's notice once per ticket and reason (the job runs every few
    minutes); a manual escalation passes its own record as ``occasion``, so escalating again for the same
    reason is a new notice."""
    if user is None:
        return
    notify(
        recipient=user, kind="ticket_escalation",
        key=f"ticket-escalation:{ticket.pk}:{occasion}:{reason}"[:120],
        title=_("工单 %(n)s 需要关注：%(t)s") % {"n": ticket.number, "t": ticket.title}, body=reason,
        url=f"/service/tickets/{ticket.pk}/",
    )  # fmt: skip


@transaction.atomic
def ticket_escalate(
    *,
    ticket_id: int,
    version: int | None,
    action: str,
    reason: str,
    by: User,
    to_user_id: int | None = None,
    strategy: str = "",
) -> TicketEscalation:
    """Escalate by hand (SVC-2): hand the ticket to another handler (``reassign``, to ``to_user_id`` or by
    the team's rule), or raise it to the team's supervisor or the department manager. The reason is
    required and recorded; ``strategy`` records the handling strategy chosen (e.g. 更换处理人)."""
    require(by, Perm.TICKET_EDIT)
    from .distribution import assign_to

    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    if action not in (EscalationAction.REASSIGN, EscalationAction.SUPERVISOR, EscalationAction.MANAGER):
        raise ValidationError(_("升级动作“%(v)s”无效"), field="action", params={"v": action})
    if not reason.strip():
        raise ValidationError(_("请填写升级原因"), field="reason")
    if strategy and strategy not in HandlingStrategy.values:
        raise ValidationError(_("处理策略“%(v)s”无效"), field="strategy", params={"v": strategy})
    if not ticket.is_open:
        raise Conflict(_("工单已结束，不能升级"), field="status", code="ticket_done")
    before = ticket.assignee
    target: User | None
    if action == EscalationAction.REASSIGN:
        if to_user_id is not None:
            assign_to(ticket, assignee_id=to_user_id, by=by, reason=reason.strip())
        elif (
            ticket.team is None
            or distribute(ticket, by=by, exclude=(ticket.assignee_id,) if ticket.assignee_id else ()) is None
        ):
            # Nobody available, or a team that distributes by hand: someone must be named.
            raise Conflict(
                _("客服组内暂无可改派的客服，请指定处理人"), field="to_user_id", code="nobody_available"
            )
        ticket.refresh_from_db()
        target = ticket.assignee
    else:
        target = _supervisor(ticket) if action == EscalationAction.SUPERVISOR else _manager(ticket)
        if target is None:
            raise Conflict(
                _("找不到可升级的对象（客服组未设主管，或部门未设经理）"),
                field="action",
                code="no_escalation_target",
            )
        _raise_level(
            ticket, level=1 if action == EscalationAction.SUPERVISOR else 2, by=by, reason=reason.strip()
        )
    if strategy:
        ticket.handling_strategy = strategy
        ticket.save_versioned(expected_version=None, fields=["handling_strategy"])
    record = TicketEscalation.objects.create(
        ticket=ticket, action=action, from_user=before, to_user=target, reason=reason.strip()[:300], by=by,
    )  # fmt: skip
    if action != EscalationAction.REASSIGN:
        _tell(target, ticket, reason.strip(), occasion=f"manual-{record.pk}")
    emit(
        _event(
            by,
            "escalate",
            ticket,
            {"action": [None, action], "to": [None, getattr(target, "display_name", None)]},
        )
    )
    return record
