"""Escalation (SVC-2, SVC-5): the default rules of migration 0002 run by ``escalations_run`` and by the
periodic job, a reassigning rule, escalation by hand.

The default rules: warn the handler 120 minutes before a complaint's first response is due; a missed
complaint first response goes to the team's supervisor; a missed resolution goes to the supervisor, and
24 hours later to the department manager. A complaint created Tue 2026-12-01 10:00 has its first
response due Wed 10:00 and its resolution Fri 2026-12-04 10:00 (24 h / 72 h of calendar time).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from kehu.core.errors import Conflict, PermissionDenied, ValidationError
from kehu.notifications.models import Notification
from kehu.service import configuration, services
from kehu.service.escalation import escalations_run, ticket_escalate
from kehu.service.models import EscalationRule, Ticket, TicketEscalation

from .conftest import new_ticket

SH = ZoneInfo("Asia/Shanghai")
CREATED = datetime(2026, 12, 1, 10, 0, tzinfo=SH)  # a Tuesday
RESPONSE_DUE = datetime(2026, 12, 2, 10, 0, tzinfo=SH)
RESOLUTION_DUE = datetime(2026, 12, 4, 10, 0, tzinfo=SH)

WARN = "投诉响应即将超时提醒"
RESPONSE_LATE = "投诉响应超时升级主管"
RESOLUTION_LATE = "解决超时升级主管"
RESOLUTION_LATE_24H = "解决超时 24 小时升级经理"


def complaint(service: SimpleNamespace, **data: Any) -> Ticket:
    with freeze_time(CREATED):
        ticket = new_ticket(
            service.agent, service.customer, kind="complaint", category="product_quality",
            assignee_id=service.agent.pk, **data,
        )  # fmt: skip
    ticket.refresh_from_db()
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (RESPONSE_DUE, RESOLUTION_DUE)
    return ticket


def fired(ticket: Ticket, rule_name: str) -> list[TicketEscalation]:
    return list(TicketEscalation.objects.filter(ticket=ticket, rule__name=rule_name).order_by("id"))


def told(user: Any) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind="ticket_escalation").order_by("id"))


def test_the_default_rules_are_loaded(db: Any) -> None:
    rules = {
        r.name: (r.kind, r.clock, r.when, r.minutes, r.action)
        for r in EscalationRule.objects.filter(is_active=True)
    }
    assert rules == {
        WARN: ("complaint", "first_response", "before", 120, "notify"),
        RESPONSE_LATE: ("complaint", "first_response", "after", 0, "supervisor"),
        RESOLUTION_LATE: ("", "resolution", "after", 0, "supervisor"),
        RESOLUTION_LATE_24H: ("", "resolution", "after", 24 * 60, "manager"),
    }


def test_the_handler_is_warned_once_two_hours_before_a_complaints_first_response_is_due(service):
    ticket = complaint(service)
    assert escalations_run(now=RESPONSE_DUE - timedelta(minutes=121)).fired == 0
    result = escalations_run(now=RESPONSE_DUE - timedelta(minutes=120))
    assert (result.fired, result.by_action) == (1, {"notify": 1})
    (record,) = fired(ticket, WARN)
    assert record.deadline == RESPONSE_DUE and record.clock == "first_response" and record.action == "notify"
    assert record.from_user == service.agent and record.by is None
    (note,) = told(service.agent)
    assert ticket.number in note.title and "2026-12-02 10:00" in note.body
    # running again, even later, fires nothing new
    assert escalations_run(now=RESPONSE_DUE - timedelta(minutes=60)).fired == 0
    assert len(fired(ticket, WARN)) == 1 and len(told(service.agent)) == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 0  # a warning is not an escalation


def test_no_warning_or_escalation_once_the_complaint_is_acknowledged(service):
    ticket = complaint(service)
    with freeze_time(RESPONSE_DUE - timedelta(hours=3)):
        services.ticket_acknowledge(ticket_id=ticket.pk, version=None, note="已受理", by=service.agent)
    assert escalations_run(now=RESPONSE_DUE - timedelta(minutes=120)).fired == 0
    assert escalations_run(now=RESPONSE_DUE + timedelta(hours=1)).fired == 0
    assert not TicketEscalation.objects.exists() and not told(service.agent) and not told(service.lead)


def test_a_missed_first_response_goes_to_the_team_supervisor(service):
    ticket = complaint(service)
    result = escalations_run(now=RESPONSE_DUE)
    # the warning was never sent (the job did not run in time): it still goes out, with the escalation
    assert result.by_action == {"notify": 1, "supervisor": 1}
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    (record,) = fired(ticket, RESPONSE_LATE)
    assert (record.from_user, record.to_user, record.deadline) == (service.agent, service.lead, RESPONSE_DUE)
    (note,) = told(service.lead)
    assert note.url == f"/service/tickets/{ticket.pk}/" and RESPONSE_LATE in note.body
    assert escalations_run(now=RESPONSE_DUE + timedelta(hours=2)).fired == 0


def test_a_paused_ticket_does_not_escalate_and_resuming_moves_the_deadline(service):
    configuration.escalation_rule_create(
        data={"name": "响应即将超时提醒", "clock": "first_response", "when": "before", "minutes": 60,
              "action": "notify"},
        by=service.lead,
    )  # fmt: skip
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)  # 标准服务
        services.ticket_start(ticket_id=ticket.pk, version=None, by=service.agent)
        services.ticket_wait(ticket_id=ticket.pk, version=None, by=service.agent)
    ticket.refresh_from_db()
    due = ticket.resolution_due_at
    assert due == RESOLUTION_DUE  # 24 working hours: Tue 10:00 → Fri 10:00
    # started but not answered: the first-response clock (due 15:00) is stopped too, so no warning
    assert ticket.first_responded_at is None and ticket.first_response_due_at == datetime(
        2026, 12, 1, 15, 0, tzinfo=SH
    )
    assert escalations_run(now=due + timedelta(days=2)).fired == 0
    assert not TicketEscalation.objects.exists()
    with freeze_time(datetime(2026, 12, 2, 10, 0, tzinfo=SH)):  # waited one working day
        services.ticket_resume(ticket_id=ticket.pk, version=None, by=service.agent)
    ticket.refresh_from_db()
    assert ticket.resolution_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=SH)
    assert ticket.first_response_due_at == datetime(2026, 12, 2, 15, 0, tzinfo=SH)
    assert escalations_run(now=datetime(2026, 12, 2, 13, 59, tzinfo=SH)).fired == 0
    assert escalations_run(now=datetime(2026, 12, 2, 14, 0, tzinfo=SH)).by_action == {"notify": 1}
    assert escalations_run(now=datetime(2026, 12, 7, 9, 59, tzinfo=SH)).fired == 0
    assert escalations_run(now=datetime(2026, 12, 7, 10, 0, tzinfo=SH)).by_action == {"supervisor": 1}


def test_a_missed_resolution_goes_to_the_supervisor_then_the_department_manager(service):
    from kehu.access.services import department_update

    director = service.cast.admin
    department_update(department=service.cast.service, version=None, manager=director, by=director)
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    assert escalations_run(now=RESOLUTION_DUE).by_action == {"supervisor": 1}
    assert escalations_run(now=RESOLUTION_DUE + timedelta(hours=23, minutes=59)).fired == 0
    assert escalations_run(now=RESOLUTION_DUE + timedelta(hours=24)).by_action == {"manager": 1}
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    (record,) = fired(ticket, RESOLUTION_LATE_24H)
    assert record.to_user == director and record.clock == "resolution"
    assert len(told(director)) == 1 and len(told(service.lead)) == 1


def test_the_manager_is_found_up_the_department_tree(service):
    from kehu.access.services import department_update

    # 客服中心 has no manager; 总部 above it has one
    department_update(
        department=service.cast.hq, version=None, manager=service.cast.admin, by=service.cast.admin
    )
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    escalations_run(now=RESOLUTION_DUE + timedelta(days=1))
    (record,) = fired(ticket, RESOLUTION_LATE_24H)
    assert record.to_user == service.cast.admin


def test_without_a_department_manager_the_handler_is_told(service):
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    escalations_run(now=RESOLUTION_DUE + timedelta(days=1))
    (record,) = fired(ticket, RESOLUTION_LATE_24H)
    assert record.to_user is None
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    assert [n.body for n in told(service.agent)] == [record.reason]


def test_a_reassigning_rule_hands_the_ticket_to_the_other_agent(service):
    configuration.escalation_rule_create(
        data={"name": "响应超时 30 分钟改派", "clock": "first_response", "when": "after", "minutes": 30,
              "action": "reassign"},
        by=service.lead,
    )  # fmt: skip
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    ticket.refresh_from_db()
    due = ticket.first_response_due_at
    assert due == datetime(2026, 12, 1, 15, 0, tzinfo=SH)  # 4 working hours
    assert escalations_run(now=due + timedelta(minutes=29)).fired == 0
    assert escalations_run(now=due + timedelta(minutes=30)).by_action == {"reassign": 1}
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent2.pk
    (record,) = fired(ticket, "响应超时 30 分钟改派")
    assert (record.from_user, record.to_user) == (service.agent, service.agent2)
    assert Notification.objects.filter(recipient=service.agent2, kind="ticket").count() == 1
    assert escalations_run(now=due + timedelta(hours=1)).fired == 0  # once per deadline: not back again


def test_a_reassigning_rule_with_nobody_to_take_it_tells_the_supervisor(service):
    from kehu.service.distribution import presence_set

    configuration.escalation_rule_create(
        data={
            "name": "响应超时改派",
            "clock": "first_response",
            "when": "after",
            "minutes": 0,
            "action": "reassign",
        },
        by=service.lead,
    )
    presence_set(away=True, by=service.agent2)
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    assert escalations_run(now=datetime(2026, 12, 1, 15, 0, tzinfo=SH)).by_action == {"reassign": 1}
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent.pk
    (note,) = told(service.lead)
    assert note.body.startswith("无人可改派")


def test_a_rule_fires_again_for_the_new_deadline_after_a_reopen(service):
    with freeze_time(CREATED):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    assert escalations_run(now=RESOLUTION_DUE).by_action == {"supervisor": 1}
    with freeze_time(RESOLUTION_DUE + timedelta(hours=1)):
        services.ticket_resolve(
            ticket_id=ticket.pk, version=None, data={"resolution": "已修好"}, by=service.agent
        )
    with freeze_time(RESOLUTION_DUE + timedelta(hours=2)):  # Fri 12:00
        services.ticket_reopen(ticket_id=ticket.pk, version=None, reason="又不制冷了", by=service.agent)
    ticket.refresh_from_db()
    new_due = ticket.resolution_due_at
    assert new_due > RESOLUTION_DUE + timedelta(days=3)
    # the first deadline's 24-hour rule no longer applies: the clock runs to the new deadline
    assert escalations_run(now=new_due - timedelta(minutes=1)).fired == 0
    assert escalations_run(now=new_due).by_action == {"supervisor": 1}
    assert [r.deadline for r in fired(ticket, RESOLUTION_LATE)] == [RESOLUTION_DUE, new_due]
    assert fired(ticket, RESOLUTION_LATE_24H) == []


def test_an_inactive_rule_never_fires(service):
    rule = EscalationRule.objects.get(name=RESOLUTION_LATE)
    configuration.escalation_rule_update(
        rule_id=rule.pk, version=None, data={"is_active": False}, by=service.lead
    )
    with freeze_time(CREATED):
        new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    assert escalations_run(now=RESOLUTION_DUE + timedelta(hours=1)).fired == 0


def test_the_periodic_job_runs_the_rules_and_is_idempotent(service):
    import kehu.service.tasks  # noqa: F401  (registers "service.escalate"; apps.py does not import it yet)
    from kehu.jobs.models import Job
    from kehu.jobs.registry import periodic_jobs
    from kehu.jobs.services import job_start

    assert "service.escalate" in {p.kind for p in periodic_jobs()}
    ticket = complaint(service)
    with freeze_time(RESPONSE_DUE + timedelta(minutes=5)):
        job = job_start(kind="service.escalate", by=None)
        again = job_start(kind="service.escalate", by=None)
    job.refresh_from_db(), again.refresh_from_db()
    assert job.status == "succeeded" and job.result == {"fired": 2, "notify": 1, "supervisor": 1}
    assert again.status == "succeeded" and again.result == {"fired": 0}
    assert Job.objects.filter(kind="service.escalate").count() == 2
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1


# ---- Escalation by hand ------------------------------------------------------------------------------


def test_escalating_by_hand_needs_a_reason(service):
    ticket = complaint(service)
    with pytest.raises(ValidationError) as err:
        ticket_escalate(ticket_id=ticket.pk, version=None, action="supervisor", reason="  ", by=service.agent)
    assert err.value.field == "reason"
    with pytest.raises(ValidationError) as err:
        ticket_escalate(ticket_id=ticket.pk, version=None, action="notify", reason="x", by=service.agent)
    assert err.value.field == "action"
    with pytest.raises(ValidationError) as err:
        ticket_escalate(
            ticket_id=ticket.pk,
            version=None,
            action="supervisor",
            reason="x",
            strategy="shout",
            by=service.agent,
        )
    assert err.value.field == "strategy"
    assert not TicketEscalation.objects.exists()


def test_an_agent_escalates_to_the_supervisor_by_hand(service):
    ticket = complaint(service)
    record = ticket_escalate(
        ticket_id=ticket.pk, version=ticket.version, action="supervisor", reason="客户情绪激动，要求主管处理",
        strategy="change_handler", by=service.agent,
    )  # fmt: skip
    assert (record.rule, record.by, record.from_user, record.to_user) == (
        None,
        service.agent,
        service.agent,
        service.lead,
    )
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1 and ticket.handling_strategy == "change_handler"
    assert [n.body for n in told(service.lead)] == ["客户情绪激动，要求主管处理"]


def test_escalating_again_for_the_same_reason_notifies_again(service):
    ticket = complaint(service)
    for _ in range(2):
        ticket_escalate(ticket_id=ticket.pk, version=None, action="supervisor", reason="客户再次来电催促",
                        by=service.agent)  # fmt: skip
    assert [n.body for n in told(service.lead)] == ["客户再次来电催促", "客户再次来电催促"]
    assert TicketEscalation.objects.filter(ticket=ticket).count() == 2


def test_reassigning_by_hand_to_a_named_person_is_a_supervisors(service):
    ticket = complaint(service)
    with pytest.raises(PermissionDenied):
        ticket_escalate(
            ticket_id=ticket.pk, version=None, action="reassign", reason="换人处理", to_user_id=service.agent2.pk,
            by=service.agent,
        )  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent.pk and not TicketEscalation.objects.exists()
    record = ticket_escalate(
        ticket_id=ticket.pk, version=None, action="reassign", reason="换人处理", to_user_id=service.agent2.pk,
        strategy="change_handler", by=service.lead,
    )  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent2.pk
    assert (record.from_user, record.to_user, record.action) == (service.agent, service.agent2, "reassign")


def test_an_agent_may_hand_over_by_the_teams_rule(service):
    ticket = complaint(service)
    record = ticket_escalate(
        ticket_id=ticket.pk, version=None, action="reassign", reason="我明天休假", by=service.agent
    )
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent2.pk and record.to_user == service.agent2


def test_reassigning_with_nobody_available_is_refused(service):
    from kehu.service.distribution import presence_set

    ticket = complaint(service)
    presence_set(away=True, by=service.agent2)
    with pytest.raises(Conflict) as err:
        ticket_escalate(ticket_id=ticket.pk, version=None, action="reassign", reason="换人", by=service.agent)
    assert err.value.code == "nobody_available" and err.value.field == "to_user_id"
    assert not TicketEscalation.objects.exists()


def test_escalating_to_a_supervisor_the_team_lacks_is_refused(service):
    configuration.team_update(
        team_id=service.team.pk, version=None, data={"supervisor_id": None}, by=service.lead
    )
    ticket = complaint(service)
    with pytest.raises(Conflict) as err:
        ticket_escalate(
            ticket_id=ticket.pk, version=None, action="supervisor", reason="要求主管", by=service.agent
        )
    assert err.value.code == "no_escalation_target"
    with pytest.raises(Conflict):  # nor a department manager
        ticket_escalate(
            ticket_id=ticket.pk, version=None, action="manager", reason="要求经理", by=service.agent
        )
    ticket.refresh_from_db()
    assert ticket.escalation_level == 0 and not TicketEscalation.objects.exists()
    assert not told(service.lead)


def test_a_finished_ticket_cannot_be_escalated_and_an_outsider_cannot_escalate(service):
    ticket = complaint(service)
    with pytest.raises(PermissionDenied):
        ticket_escalate(
            ticket_id=ticket.pk, version=None, action="supervisor", reason="x", by=service.cast.auditor
        )
    with pytest.raises(PermissionDenied):  # sees the customer's ticket, but is not its handler or team
        ticket_escalate(
            ticket_id=ticket.pk, version=None, action="supervisor", reason="x", by=service.cast.rep_east
        )
    services.ticket_cancel(ticket_id=ticket.pk, version=None, reason="重复登记", by=service.agent)
    with pytest.raises(Conflict) as err:
        ticket_escalate(ticket_id=ticket.pk, version=None, action="supervisor", reason="x", by=service.agent)
    assert err.value.code == "ticket_done"
    assert not TicketEscalation.objects.exists()


def test_handing_over_by_the_rule_of_a_team_that_distributes_by_hand_is_refused(service):
    """A manual team has no rule to pick the next handler: the agent is told to name one, instead of a
    "reassignment" to themselves being recorded."""
    configuration.team_update(
        team_id=service.team.pk, version=None, data={"distribution": "manual"}, by=service.lead
    )
    ticket = complaint(service)
    with pytest.raises(Conflict) as err:
        ticket_escalate(ticket_id=ticket.pk, version=None, action="reassign", reason="换人", by=service.agent)
    assert err.value.code == "nobody_available"
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent.pk and not TicketEscalation.objects.exists()
