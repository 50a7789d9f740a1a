"""Automatic distribution of tickets (ACD, SVC-4) and assignment by hand.

Fairness under concurrency: every distribution first *writes* its team's row
(``last_distributed_at``), so two tickets arriving at once for the same team take turns — PostgreSQL
holds the row lock until commit, SQLite's IMMEDIATE transactions hold the database's write lock — and
the second sees the first one's assignment when it counts and picks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, KehuError, ValidationError
from kehu.core.events import emit

from .choices import OPEN_STATUSES, Distribution
from .events import ServiceSettingsChanged
from .models import AgentPresence, ServiceSettings, ServiceTeam, TeamMember, Ticket
from .rules import Candidate, pick_agent


def team_get(team_id: int) -> ServiceTeam:
    team = ServiceTeam.objects.filter(pk=team_id, is_active=True).first()
    if team is None:
        raise ValidationError(_("客服组不存在或已停用"), field="team_id")
    return team


def route_team(kind: str, service_settings: ServiceSettings) -> ServiceTeam | None:
    """The team a new ticket of ``kind`` goes to: the first active team (by position) that takes the
    kind, else the default team of the settings, else none (a supervisor assigns it)."""
    for team in ServiceTeam.objects.filter(is_active=True):
        if not team.kinds or kind in team.kinds:
            return team
    if service_settings.default_team_id:
        return ServiceTeam.objects.filter(pk=service_settings.default_team_id, is_active=True).first()
    return None


def candidates(team: ServiceTeam, *, exclude: tuple[int, ...] = ()) -> list[Candidate]:
    """The team's members who may take a ticket now: active users with ``ticket.edit``, not away."""
    members = list(
        TeamMember.objects.filter(team=team, user__is_active=True)
        .exclude(user_id__in=exclude)
        .exclude(user__service_presence__is_away=True)
        .select_related("user")
    )
    members = [m for m in members if can(m.user, Perm.TICKET_EDIT)]
    if not members:
        return []
    open_counts = dict(
        Ticket.objects.filter(assignee_id__in=[m.user_id for m in members], status__in=OPEN_STATUSES)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    return [
        Candidate(
            user_id=m.user_id, open_count=open_counts.get(m.user_id, 0), last_assigned_at=m.last_assigned_at,
            skills=tuple(m.skills or ()),
        )
        for m in members
    ]  # fmt: skip


def distribute(ticket: Ticket, *, by: User | None, exclude: tuple[int, ...] = ()) -> int | None:
    """Give an unassigned ticket to an agent of its team by the team's rule (SVC-4); returns the agent's
    id, or ``None`` when the team distributes by hand or nobody is available. Call inside the ticket's
    transaction."""
    team = ticket.team
    if team is None or team.distribution == Distribution.MANUAL:
        return None
    now = timezone.now()
    # The turn-taking write (see the module docstring) comes before any read that decides.
    ServiceTeam.objects.filter(pk=team.pk).update(last_distributed_at=now)
    picked = pick_agent(candidates(team, exclude=exclude), mode=team.distribution, category=ticket.category)
    if picked is None:
        return None
    _set_assignee(ticket, picked, by=by, verb="distribute", reason=str(Distribution(team.distribution).label))
    return picked


def _set_assignee(ticket: Ticket, user_id: int | None, *, by: User | None, verb: str, reason: str) -> None:
    from .services import _event, tell_assignee

    before = ticket.assignee.display_name if ticket.assignee_id and ticket.assignee else None
    now = timezone.now()
    ticket.assignee_id = user_id
    ticket.assigned_at = now if user_id else None
    ticket.save_versioned(expected_version=None, fields=["assignee", "assigned_at"])
    if user_id is not None and ticket.team_id is not None:
        TeamMember.objects.filter(team_id=ticket.team_id, user_id=user_id).update(last_assigned_at=now)
    ticket.refresh_from_db(fields=["assignee"])
    after = ticket.assignee.display_name if ticket.assignee else None
    changes: dict[str, Any] = {"assignee": [before, after]}
    if reason:
        changes["reason"] = [None, reason]
    emit(_event(by, verb, ticket, changes))
    tell_assignee(
        ticket, by=by, title=_("工单 %(n)s 分派给您：%(t)s") % {"n": ticket.number, "t": ticket.title}
    )


def _assignable(user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not can(user, Perm.TICKET_EDIT):
        raise ValidationError(_("处理人不存在、已停用或没有处理工单的权限"), field="assignee_id")
    return user


def assign_to(ticket: Ticket, *, assignee_id: int, by: User, reason: str) -> None:
    """Hand a ticket to a named person: anyone may take an unassigned ticket themselves; giving it to
    someone else, or taking it from someone, is a supervisor's (``ticket.manage``)."""
    user = _assignable(assignee_id)
    taking_free = user.pk == by.pk and ticket.assignee_id in (None, by.pk)
    if not taking_free:
        require(by, Perm.TICKET_MANAGE)
    if ticket.assignee_id == user.pk:
        return
    _set_assignee(ticket, user.pk, by=by, verb="assign", reason=reason)


@transaction.atomic
def ticket_assign(
    *, ticket_id: int, version: int | None, assignee_id: int | None, by: User, reason: str = ""
) -> Ticket:
    """Assign (or, with ``assignee_id=None``, put back into the team's queue) a ticket (SVC-4)."""
    from .services import ticket_visible

    require(by, Perm.TICKET_EDIT)
    ticket = ticket_visible(ticket_id=ticket_id, actor=by)
    if version is not None and version != ticket.version:
        raise Conflict(
            _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version", code="stale_version", params={"version": version},
        )  # fmt: skip
    if not ticket.is_open:
        raise Conflict(_("工单已结束，不能再分派"), field="status", code="ticket_done")
    if assignee_id is None:
        if ticket.assignee_id != by.pk:
            require(by, Perm.TICKET_MANAGE)
        _set_assignee(ticket, None, by=by, verb="unassign", reason=reason.strip())
    else:
        assign_to(ticket, assignee_id=assignee_id, by=by, reason=reason.strip())
    return ticket


@transaction.atomic
def ticket_redistribute(*, ticket_id: int, by: User) -> Ticket:
    """Let the team's rule pick again (a supervisor's bulk action for an absent agent's tickets)."""
    from .services import ticket_visible

    require(by, Perm.TICKET_MANAGE)
    ticket = ticket_visible(ticket_id=ticket_id, actor=by)
    if not ticket.is_open:
        raise Conflict(_("工单已结束，不能再分派"), field="status", code="ticket_done")
    exclude = (ticket.assignee_id,) if ticket.assignee_id else ()
    if distribute(ticket, by=by, exclude=exclude) is None:
        raise Conflict(
            _("客服组内暂无可分派的客服（都已离开或组为手动分派）"), field="team", code="nobody_available"
        )
    return ticket


@transaction.atomic
def presence_set(*, away: bool, by: User) -> AgentPresence:
    """An agent marks themselves away (离开) or back: away agents get no new tickets (SVC-4)."""
    require(by, Perm.TICKET_EDIT)
    presence, _created = AgentPresence.objects.get_or_create(user=by)
    if presence.is_away != away:
        presence.is_away, presence.since = away, timezone.now()
        presence.save(update_fields=["is_away", "since"])
        emit(
            ServiceSettingsChanged(
                actor_id=by.pk, verb="away" if away else "back", subject_type="agent_presence", subject_id=by.pk,
                subject_label=by.display_name, changes={"is_away": [not away, away]},
            )
        )  # fmt: skip
    return presence


def is_away(user: User) -> bool:
    return AgentPresence.objects.filter(user=user, is_away=True).exists()


@dataclass(frozen=True)
class BulkResult:
    id: int
    ok: bool
    code: str = ""
    message: str = ""


BULK_ACTIONS = ("assign", "redistribute", "close")


def tickets_bulk(
    *, ids: list[int], action: str, by: User, assignee_id: int | None = None
) -> list[BulkResult]:
    """A queue's bulk action (SVC-1) on up to 200 tickets: assign to one person, let the team's rule
    redistribute, or close resolved tickets. Each ticket goes through the same service as one by one,
    in its own transaction, so one refusal (a ticket done, someone else's) does not undo the others;
    the result says for each what happened."""
    from .services import ticket_close

    require(by, Perm.TICKET_EDIT)
    if action not in BULK_ACTIONS:
        raise ValidationError(_("批量操作“%(v)s”无效"), field="action", params={"v": action})
    if not ids:
        raise ValidationError(_("请选择工单"), field="ids")
    if len(ids) > 200:
        raise ValidationError(_("一次最多处理 200 张工单"), field="ids")
    if action == "assign" and assignee_id is None:
        raise ValidationError(_("请选择处理人"), field="assignee_id")
    results: list[BulkResult] = []
    for ticket_id in dict.fromkeys(ids):
        try:
            if action == "assign":
                ticket_assign(
                    ticket_id=ticket_id,
                    version=None,
                    assignee_id=assignee_id,
                    by=by,
                    reason=str(_("批量分派")),
                )
            elif action == "redistribute":
                ticket_redistribute(ticket_id=ticket_id, by=by)
            else:
                ticket_close(ticket_id=ticket_id, version=None, by=by)
            results.append(BulkResult(id=ticket_id, ok=True))
        except KehuError as exc:
            results.append(BulkResult(id=ticket_id, ok=False, code=exc.code, message=exc.text()))
    return results
