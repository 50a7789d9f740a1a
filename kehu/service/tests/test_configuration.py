"""Service settings (SVC-4, SVC-5, SVC-2): teams and members, SLA policies and which one a ticket gets,
escalation rules, the working calendar's days and the service-wide settings; who may change them, and
that a refused change writes nothing."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.service import clocks, configuration
from kehu.service.models import (
    CalendarDay,
    EscalationRule,
    ServiceSettings,
    ServiceTeam,
    SlaPolicy,
    TeamMember,
    Ticket,
)

from .conftest import new_ticket

SH = ZoneInfo("Asia/Shanghai")
SERVICE_TABLES = (
    ServiceTeam,
    TeamMember,
    SlaPolicy,
    EscalationRule,
    CalendarDay,
    ServiceSettings,
    AuditEvent,
)


def at(month: int, day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


# ---- Teams and members (SVC-4) -----------------------------------------------------------------------


def test_a_team_is_created_and_audited(service: SimpleNamespace) -> None:
    team = configuration.team_create(
        data={"name": "投诉专线", "supervisor_id": service.lead.pk, "distribution": "least_open",
              "kinds": ["complaint", "complaint"], "position": 10},
        by=service.cast.admin,
    )  # fmt: skip
    team.refresh_from_db()
    assert (team.name, team.supervisor_id, team.distribution, team.kinds, team.position) == (
        "投诉专线",
        service.lead.pk,
        "least_open",
        ["complaint"],
        10,
    )
    event = AuditEvent.objects.get(subject_type="service_team", subject_id=team.pk, verb="create")
    assert event.actor_id == service.cast.admin.pk and event.changes["name"] == [None, "投诉专线"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": " "}, "name"),
        ({"name": "客服一组"}, "name"),  # taken
        ({"name": "x" * 61}, "name"),
        ({"name": "二组", "supervisor_id": "agent"}, "supervisor_id"),
        ({"name": "二组", "supervisor_id": 999999}, "supervisor_id"),
        ({"name": "二组", "distribution": "lottery"}, "distribution"),
        ({"name": "二组", "kinds": ["complaint", "gossip"]}, "kinds"),
        ({"name": "二组", "kinds": "complaint"}, "kinds"),
        ({"name": "二组", "position": 1000}, "position"),
        ({"name": "二组", "colour": "red"}, "colour"),
    ],
)
def test_bad_team_input_names_the_field_and_writes_nothing(
    service: SimpleNamespace, nothing_changes: Any, data: dict[str, Any], field: str
) -> None:
    with nothing_changes(*SERVICE_TABLES), pytest.raises(ValidationError) as err:
        configuration.team_create(data=data, by=service.lead)
    assert err.value.field == field


def test_a_supervisor_must_be_able_to_manage_tickets(service: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(*SERVICE_TABLES), pytest.raises(ValidationError) as err:
        configuration.team_update(
            team_id=service.team.pk, version=None, data={"supervisor_id": service.agent.pk}, by=service.lead
        )
    assert err.value.field == "supervisor_id"


def test_a_stale_team_version_is_refused(service: SimpleNamespace, nothing_changes: Any) -> None:
    seen = service.team.version
    configuration.team_update(team_id=service.team.pk, version=seen, data={"position": 5}, by=service.lead)
    with nothing_changes(*SERVICE_TABLES), pytest.raises(Conflict) as err:
        configuration.team_update(
            team_id=service.team.pk, version=seen, data={"position": 6}, by=service.lead
        )
    assert err.value.code == "stale_version"


def test_new_tickets_go_to_the_first_team_that_takes_their_kind(service: SimpleNamespace) -> None:
    complaints = configuration.team_create(
        data={"name": "投诉专线", "kinds": ["complaint"], "position": 10}, by=service.lead
    )
    configuration.team_member_set(team_id=complaints.pk, user_id=service.lead.pk, skills=[], by=service.lead)
    complaint = new_ticket(service.agent, service.customer, kind="complaint", category="delivery")
    repair = new_ticket(service.agent, service.customer)
    assert (complaint.team_id, complaint.assignee_id) == (complaints.pk, service.lead.pk)
    assert repair.team_id == service.team.pk
    # an inactive team takes nothing; a kind no team takes goes to the default team, else to none
    configuration.team_update(team_id=complaints.pk, version=None, data={"is_active": False}, by=service.lead)
    assert new_ticket(service.agent, service.customer, kind="complaint", category="delivery").team_id == (
        service.team.pk
    )
    configuration.team_update(
        team_id=service.team.pk, version=None, data={"kinds": ["presale"]}, by=service.lead
    )
    orphan = new_ticket(service.agent, service.customer)
    assert (orphan.team_id, orphan.assignee_id) == (None, None)
    configuration.team_update(team_id=complaints.pk, version=None, data={"is_active": True}, by=service.lead)
    configuration.service_settings_update(
        version=None, data={"default_team_id": complaints.pk}, by=service.lead
    )
    assert new_ticket(service.agent, service.customer).team_id == complaints.pk


def test_members_must_be_able_to_work_tickets(service: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(*SERVICE_TABLES):
        with pytest.raises(ValidationError) as err:  # 市场专员: no ticket.edit
            configuration.team_member_set(
                team_id=service.team.pk, user_id=service.cast.marketing.pk, skills=[], by=service.lead
            )
        assert err.value.field == "user_id"
        with pytest.raises(ValidationError) as err:  # 审计员: may read tickets, not work them
            configuration.team_member_set(
                team_id=service.team.pk, user_id=service.cast.auditor.pk, skills=[], by=service.lead
            )
        assert err.value.field == "user_id"
        with pytest.raises(ValidationError) as err:
            configuration.team_member_set(
                team_id=service.team.pk, user_id=service.agent.pk, skills=["cooking"], by=service.lead
            )
        assert err.value.field == "skills"
        with pytest.raises(NotFound):
            configuration.team_member_set(
                team_id=999999, user_id=service.agent.pk, skills=[], by=service.lead
            )
        with pytest.raises(NotFound):
            configuration.team_member_remove(
                team_id=service.team.pk, user_id=service.cast.rep_east.pk, by=service.lead
            )


def test_member_skills_change_and_a_member_leaves(service: SimpleNamespace) -> None:
    member = configuration.team_member_set(
        team_id=service.team.pk,
        user_id=service.agent.pk,
        skills=["usage", "repair", "usage"],
        by=service.lead,
    )
    assert member.skills == ["repair", "usage"]
    assert TeamMember.objects.filter(team=service.team).count() == 2
    configuration.team_member_remove(team_id=service.team.pk, user_id=service.agent2.pk, by=service.lead)
    assert list(TeamMember.objects.filter(team=service.team).values_list("user_id", flat=True)) == [
        service.agent.pk
    ]
    for _ in range(2):  # the one left gets every new ticket
        assert new_ticket(service.agent, service.customer).assignee_id == service.agent.pk
    verbs = list(AuditEvent.objects.filter(subject_type="service_team").values_list("verb", flat=True))
    assert verbs.count("member_set") == 3 and verbs.count("member_remove") == 1


# ---- SLA policies (SVC-5) ----------------------------------------------------------------------------


def make_vip(service: SimpleNamespace) -> Any:
    from kehu.customers.services import customer_classify
    from kehu.customers.tests.factories import make_customer

    vip = make_customer(service.cast.rep_east, name="华东重点客户有限公司")
    return customer_classify(
        customer_id=vip.pk, version=None, dimension="value_tier", value="vip", reason="战略客户",
        by=service.cast.admin,
    )  # fmt: skip


def test_the_most_specific_policy_applies(service: SimpleNamespace) -> None:
    vip = make_vip(service)
    assert vip.value_tier == "vip"

    def policy(customer: Any, **data: Any) -> str:
        return new_ticket(service.agent, customer, **data).sla_policy.name

    assert policy(service.customer) == "标准服务"
    assert policy(vip) == "贵宾客户"
    assert policy(service.customer, priority="urgent") == "紧急工单"
    assert policy(service.customer, kind="complaint", category="delivery") == "投诉：24 小时内响应"
    # a VIP's complaint: two policies set one condition each; the lower position (投诉, 10) wins
    assert policy(vip, kind="complaint", category="delivery") == "投诉：24 小时内响应"
    assert policy(vip, priority="urgent") == "贵宾客户"  # 贵宾客户 is at position 20, 紧急工单 at 30
    configuration.policy_create(
        data={"name": "贵宾投诉", "kind": "complaint", "value_tier": "vip", "first_response_minutes": 30,
              "resolution_minutes": 480},
        by=service.lead,
    )  # fmt: skip
    assert policy(vip, kind="complaint", category="delivery") == "贵宾投诉"  # two conditions beat one
    assert policy(service.customer, kind="complaint", category="delivery") == "投诉：24 小时内响应"


def test_a_policy_for_a_category_and_a_deactivated_policy(service: SimpleNamespace) -> None:
    configuration.policy_create(
        data={"name": "退换货", "kind": "aftersale", "category": "return_exchange", "first_response_minutes": 60,
              "resolution_minutes": 60 * 48, "basis": "calendar"},
        by=service.lead,
    )  # fmt: skip
    with freeze_time(at(12, 1, 10)):
        ticket = new_ticket(service.agent, service.customer, category="return_exchange")
    assert ticket.sla_policy.name == "退换货" and ticket.basis == "calendar"
    assert (ticket.first_response_due_at, ticket.resolution_due_at) == (at(12, 1, 11), at(12, 3, 10))
    standard = SlaPolicy.objects.get(name="标准服务")
    configuration.policy_update(
        policy_id=standard.pk, version=None, data={"is_active": False}, by=service.lead
    )
    bare = new_ticket(service.agent, service.customer)
    assert (bare.sla_policy, bare.first_response_due_at, bare.resolution_due_at) == (None, None, None)


def test_changing_a_policy_leaves_open_tickets_their_deadlines(service: SimpleNamespace) -> None:
    with freeze_time(at(12, 1, 10)):
        before = new_ticket(service.agent, service.customer)
        standard = SlaPolicy.objects.get(name="标准服务")
        configuration.policy_update(
            policy_id=standard.pk,
            version=standard.version,
            data={"first_response_minutes": 60},
            by=service.lead,
        )
        after = new_ticket(service.agent, service.customer)
    before.refresh_from_db()
    assert before.first_response_due_at == at(12, 1, 15)
    assert after.first_response_due_at == at(12, 1, 11)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_response_minutes": 600, "resolution_minutes": 60}, "first_response_minutes"),
        ({"kind": "presale", "category": "repair"}, "category"),
        ({"kind": "complaint", "category": "training"}, "category"),
        ({"kind": "gossip"}, "kind"),
        ({"value_tier": "diamond"}, "value_tier"),
        ({"priority": "p0"}, "priority"),
        ({"basis": "lunar"}, "basis"),
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": "一天"}, "resolution_minutes"),
        ({"name": "标准服务"}, "name"),
    ],
)
def test_bad_policy_input_names_the_field_and_writes_nothing(
    service: SimpleNamespace, nothing_changes: Any, data: dict[str, Any], field: str
) -> None:
    base = {"name": "新策略", "first_response_minutes": 60, "resolution_minutes": 480}
    with nothing_changes(*SERVICE_TABLES), pytest.raises(ValidationError) as err:
        configuration.policy_create(data={**base, **data}, by=service.lead)
    assert err.value.field == field


def test_an_update_is_checked_against_what_the_policy_already_says(
    service: SimpleNamespace, nothing_changes: Any
) -> None:
    urgent = SlaPolicy.objects.get(name="紧急工单")  # 30 minutes / 4 hours
    complaint = SlaPolicy.objects.get(name="投诉：24 小时内响应")
    with nothing_changes(*SERVICE_TABLES):
        with pytest.raises(ValidationError) as err:
            configuration.policy_update(
                policy_id=urgent.pk, version=None, data={"first_response_minutes": 300}, by=service.lead
            )
        assert err.value.field == "first_response_minutes"
        with pytest.raises(ValidationError) as err:
            configuration.policy_update(
                policy_id=complaint.pk, version=None, data={"category": "repair"}, by=service.lead
            )
        assert err.value.field == "category"


# ---- Escalation rules (SVC-2) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"clock": ""}, "clock"),
        ({"clock": "lunch"}, "clock"),
        ({"when": "during"}, "when"),
        ({"action": "fire"}, "action"),
        ({"action": ""}, "action"),
        ({"minutes": -5}, "minutes"),
        ({"kind": "gossip"}, "kind"),
        ({"name": "解决超时升级主管"}, "name"),
    ],
)
def test_bad_rule_input_names_the_field_and_writes_nothing(
    service: SimpleNamespace, nothing_changes: Any, data: dict[str, Any], field: str
) -> None:
    base = {"name": "新规则", "clock": "resolution", "when": "before", "minutes": 60, "action": "notify"}
    with nothing_changes(*SERVICE_TABLES), pytest.raises(ValidationError) as err:
        configuration.escalation_rule_create(data={**base, **data}, by=service.lead)
    assert err.value.field == field


def test_a_rule_is_created_and_changed(service: SimpleNamespace) -> None:
    rule = configuration.escalation_rule_create(
        data={"name": "售前响应提醒", "kind": "presale", "clock": "first_response", "when": "before",
              "minutes": 30, "action": "notify"},
        by=service.lead,
    )  # fmt: skip
    configuration.escalation_rule_update(
        rule_id=rule.pk, version=rule.version, data={"minutes": 45, "action": "reassign"}, by=service.lead
    )
    rule.refresh_from_db()
    assert (rule.kind, rule.clock, rule.when, rule.minutes, rule.action) == (
        "presale",
        "first_response",
        "before",
        45,
        "reassign",
    )
    event = AuditEvent.objects.get(subject_type="escalation_rule", subject_id=rule.pk, verb="update")
    assert event.changes["minutes"] == [30, 45]


# ---- The working calendar and the settings (SVC-5) -------------------------------------------------


def test_a_saturday_made_a_working_day_moves_the_next_tickets_deadline(service: SimpleNamespace) -> None:
    # Fri 2026-12-04 16:00, 4 working hours to answer: Fri 16–18, then the next working day's 09–11
    with freeze_time(at(12, 4, 16)):
        before = new_ticket(service.agent, service.customer)
        assert before.first_response_due_at == at(12, 7, 11)  # Monday
        day = configuration.calendar_day_set(
            day=date(2026, 12, 5), is_workday=True, name="调休上班", by=service.lead
        )
        after = new_ticket(service.agent, service.customer)
        assert after.first_response_due_at == at(12, 5, 11)  # Saturday
        before.refresh_from_db()
        assert before.first_response_due_at == at(12, 7, 11)  # open tickets keep theirs
        # and Monday off: Saturday, then Tuesday
        configuration.calendar_day_set(
            day=date(2026, 12, 7), is_workday=False, name="公司活动", by=service.lead
        )
        assert new_ticket(service.agent, service.customer).resolution_due_at == at(12, 9, 16)
        configuration.calendar_day_remove(day=date(2026, 12, 5), by=service.lead)
        configuration.calendar_day_remove(day=date(2026, 12, 7), by=service.lead)
        assert new_ticket(service.agent, service.customer).first_response_due_at == at(12, 7, 11)
    assert (day.day, day.is_workday, day.name, day.created_by) == (
        date(2026, 12, 5),
        True,
        "调休上班",
        service.lead,
    )
    assert not CalendarDay.objects.exists()
    with pytest.raises(NotFound):
        configuration.calendar_day_remove(day=date(2026, 12, 5), by=service.lead)


def test_setting_a_day_again_replaces_it(service: SimpleNamespace) -> None:
    configuration.calendar_day_set(day=date(2027, 2, 20), is_workday=True, name="调休", by=service.lead)
    configuration.calendar_day_set(day=date(2027, 2, 20), is_workday=False, name="补休", by=service.lead)
    assert list(CalendarDay.objects.values_list("day", "is_workday", "name")) == [
        (date(2027, 2, 20), False, "补休")
    ]
    with pytest.raises(ValidationError) as err:
        configuration.calendar_day_set(day="2027-02-21", is_workday=True, name="", by=service.lead)  # type: ignore[arg-type]
    assert err.value.field == "day"


def test_the_working_hours_set_the_business_deadlines(service: SimpleNamespace) -> None:
    row = configuration.service_settings_update(
        version=None, data={"work_windows": [["13:00", "17:00"], ["8:00", "12:00"]]}, by=service.lead
    )
    assert row.work_windows == [["08:00", "12:00"], ["13:00", "17:00"]]  # normalised and sorted
    with freeze_time(at(12, 1, 16)):
        ticket = new_ticket(service.agent, service.customer)
    assert ticket.first_response_due_at == at(12, 2, 11)  # 16–17, then 08–11


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"work_windows": [["18:00", "09:00"]]}, "work_windows"),
        ({"work_windows": [["09:00", "12:00"], ["11:00", "18:00"]]}, "work_windows"),
        ({"work_windows": [["9点", "12点"]]}, "work_windows"),
        ({"work_windows": [["24:00", "25:00"]]}, "work_windows"),
        ({"work_windows": []}, "work_windows"),
        ({"work_windows": "09:00-18:00"}, "work_windows"),
        ({"local_area_code": "21"}, "local_area_code"),
        ({"local_area_code": "0a1"}, "local_area_code"),
        ({"local_area_code": "02112"}, "local_area_code"),
        ({"local_area_code": "571"}, "local_area_code"),
        ({"reopen_days": 400}, "reopen_days"),
        ({"soon_minutes": 0}, "soon_minutes"),
        ({"default_team_id": 999999}, "default_team_id"),
        ({"default_team_id": "一组"}, "default_team_id"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_settings_name_the_field_and_write_nothing(
    service: SimpleNamespace, nothing_changes: Any, data: dict[str, Any], field: str
) -> None:
    clocks.settings_get()
    with nothing_changes(*SERVICE_TABLES), pytest.raises(ValidationError) as err:
        configuration.service_settings_update(version=None, data=data, by=service.lead)
    assert err.value.field == field


def test_good_settings_are_kept_and_audited(service: SimpleNamespace) -> None:
    row = configuration.service_settings_update(
        version=None, data={"local_area_code": "0571", "reopen_days": 14, "soon_minutes": 60,
                            "follow_up_resolved_calls": False}, by=service.lead,
    )  # fmt: skip
    row = ServiceSettings.objects.get(pk=1)
    assert (row.local_area_code, row.reopen_days, row.soon_minutes, row.follow_up_resolved_calls) == (
        "0571",
        14,
        60,
        False,
    )
    event = AuditEvent.objects.get(subject_type="service_settings", verb="update")
    assert event.changes["local_area_code"] == ["", "0571"]


def test_a_team_supervisor_given_as_text_is_refused_naming_the_field(service: SimpleNamespace) -> None:
    with pytest.raises(ValidationError) as err:
        configuration.team_update(
            team_id=service.team.pk, version=None, data={"supervisor_id": "钱主管"}, by=service.lead
        )
    assert err.value.field == "supervisor_id"


# ---- Who may change the settings ---------------------------------------------------------------------


def test_only_service_settings_holders_change_anything_and_a_refusal_writes_nothing(
    service: SimpleNamespace, nothing_changes: Any
) -> None:
    rule = EscalationRule.objects.first()
    policy = SlaPolicy.objects.first()
    configuration.calendar_day_set(day=date(2027, 1, 4), is_workday=False, name="补休", by=service.lead)
    clocks.settings_get()
    assert rule is not None and policy is not None
    attempts = [
        lambda by: configuration.team_create(data={"name": "私设小组"}, by=by),
        lambda by: configuration.team_update(
            team_id=service.team.pk, version=None, data={"name": "改名"}, by=by
        ),
        lambda by: configuration.team_member_set(team_id=service.team.pk, user_id=by.pk, skills=[], by=by),
        lambda by: configuration.team_member_remove(
            team_id=service.team.pk, user_id=service.agent2.pk, by=by
        ),
        lambda by: configuration.policy_create(
            data={"name": "快", "first_response_minutes": 1, "resolution_minutes": 2}, by=by
        ),
        lambda by: configuration.policy_update(
            policy_id=policy.pk, version=None, data={"is_active": False}, by=by
        ),
        lambda by: configuration.escalation_rule_create(
            data={"name": "x", "clock": "resolution", "when": "after", "minutes": 0, "action": "notify"},
            by=by,
        ),
        lambda by: configuration.escalation_rule_update(
            rule_id=rule.pk, version=None, data={"is_active": False}, by=by
        ),
        lambda by: configuration.calendar_day_set(day=date(2027, 1, 9), is_workday=True, name="", by=by),
        lambda by: configuration.calendar_day_remove(day=date(2027, 1, 4), by=by),
        lambda by: configuration.service_settings_update(version=None, data={"reopen_days": 1}, by=by),
    ]
    with nothing_changes(*SERVICE_TABLES):
        for who in (service.agent, service.cast.rep_east, service.cast.auditor, service.cast.manager_east):
            for attempt in attempts:
                with pytest.raises(PermissionDenied):
                    attempt(who)
    assert Ticket.objects.count() == 0
