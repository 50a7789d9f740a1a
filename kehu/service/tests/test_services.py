"""Tickets and complaints through their services (SVC-1, SVC-2, SVC-4, SVC-5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.engagement.models import Task
from kehu.service import services
from kehu.service.choices import TicketStatus
from kehu.service.models import Ticket, TicketMessage

from .conftest import new_ticket

SH = ZoneInfo("Asia/Shanghai")


def test_a_ticket_gets_its_policy_deadlines_and_an_agent(service):
    with freeze_time(datetime(2026, 12, 1, 10, 0, tzinfo=SH)):
        ticket = new_ticket(service.agent, service.customer)
    ticket.refresh_from_db()
    assert ticket.number.startswith("GD")
    assert ticket.sla_policy.name == "标准服务"  # 4 business hours to respond, 24 to resolve
    assert ticket.first_response_due_at == datetime(2026, 12, 1, 15, 0, tzinfo=SH)  # 10–12, 13–15
    # 24 working hours = 3 working days of 8 hours: Tue 10:00 → Fri 10:00
    assert ticket.resolution_due_at == datetime(2026, 12, 4, 10, 0, tzinfo=SH)
    assert ticket.team == service.team
    assert ticket.assignee_id in (service.agent.pk, service.agent2.pk)


def test_a_complaint_must_be_answered_within_24_hours_of_calendar_time(service):
    with freeze_time(datetime(2026, 12, 4, 17, 30, tzinfo=SH)):  # a Friday evening
        ticket = new_ticket(service.agent, service.customer, kind="complaint", category="product_quality")
    ticket.refresh_from_db()
    assert ticket.sla_policy.name == "投诉：24 小时内响应"
    assert ticket.first_response_due_at == datetime(2026, 12, 5, 17, 30, tzinfo=SH)  # Saturday counts


def test_round_robin_takes_turns_and_skips_the_away(service):
    from kehu.service.distribution import presence_set

    first = new_ticket(service.agent, service.customer)
    second = new_ticket(service.agent, service.customer)
    first.refresh_from_db(), second.refresh_from_db()
    assert {first.assignee_id, second.assignee_id} == {service.agent.pk, service.agent2.pk}
    presence_set(away=True, by=service.agent2)
    for _ in range(3):
        t = new_ticket(service.agent, service.customer)
        t.refresh_from_db()
        assert t.assignee_id == service.agent.pk


def test_least_open_work_and_skill(service):
    from kehu.service import configuration

    configuration.team_update(
        team_id=service.team.pk, version=None, data={"distribution": "least_open"}, by=service.lead
    )
    a = new_ticket(service.agent, service.customer)
    a.refresh_from_db()
    b = new_ticket(service.agent, service.customer)
    b.refresh_from_db()
    assert a.assignee_id != b.assignee_id  # each has one now
    configuration.team_update(
        team_id=service.team.pk, version=None, data={"distribution": "skill"}, by=service.lead
    )
    for _ in range(2):
        c = new_ticket(service.agent, service.customer, kind="complaint", category="product_quality")
        c.refresh_from_db()
        assert c.assignee_id == service.agent2.pk  # the one skilled in product quality
    d = new_ticket(service.agent, service.customer, category="repair")
    d.refresh_from_db()
    assert d.assignee_id == service.agent.pk


def test_reply_stamps_the_first_response_and_starts_work(service):
    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    services.ticket_note(ticket_id=ticket.pk, body="客户三台空调，两台在保", by=service.agent)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is None  # an internal note is not a response
    services.ticket_reply(ticket_id=ticket.pk, body="师傅明天上午上门", by=service.agent)
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.status == TicketStatus.OPEN
    kinds = list(TicketMessage.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == ["note", "reply"]


def test_only_the_handler_team_or_supervisor_works_a_ticket(service):
    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket_id=ticket.pk, body="我来", by=service.cast.rep_east)
    # a seller may still add what they know as an internal note
    services.ticket_note(ticket_id=ticket.pk, body="这是老客户", by=service.cast.rep_east)
    services.ticket_reply(ticket_id=ticket.pk, body="同组同事代答", by=service.agent2)  # same team
    with pytest.raises(NotFound):  # another rep's customer: the ticket does not exist for them
        services.ticket_reply(ticket_id=ticket.pk, body="看不到", by=service.cast.rep_west)


def test_waiting_for_the_customer_stops_the_clock(service):
    with freeze_time(datetime(2026, 12, 1, 10, 0, tzinfo=SH)):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
        services.ticket_reply(ticket_id=ticket.pk, body="请提供发票照片", by=service.agent)
        services.ticket_wait(ticket_id=ticket.pk, version=None, by=service.agent)
    with freeze_time(datetime(2026, 12, 2, 10, 0, tzinfo=SH)):  # one working day (8 h) later
        services.ticket_customer_message(ticket_id=ticket.pk, body="照片已发", by=service.agent)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.paused_at is None
    assert ticket.resolution_due_at == datetime(2026, 12, 7, 10, 0, tzinfo=SH)  # Fri 10:00 + 8 h → Mon 10:00


def test_the_complaint_process_end_to_end(service):
    from kehu.catalog.tests.factories import make_product

    product = make_product(service.cast.admin, name="变频空调 KFR-35")
    ticket = new_ticket(
        service.agent,
        service.customer,
        kind="complaint",
        category="product_quality",
        product_id=product.pk,
        assignee_id=service.agent.pk,
    )
    with pytest.raises(Conflict):
        services.ticket_resolve(ticket_id=ticket.pk, version=None, data={"resolution": "x"}, by=service.agent)
    services.ticket_acknowledge(
        ticket_id=ticket.pk, version=None, note="已收到，24 小时内上门", by=service.agent
    )
    services.ticket_investigate(ticket_id=ticket.pk, version=None, by=service.agent)
    with pytest.raises(ValidationError) as missing:
        services.ticket_resolve(
            ticket_id=ticket.pk,
            version=None,
            data={"resolution": "更换压缩机", "root_cause": "material"},
            by=service.agent,
        )
    assert missing.value.field == "root_cause_detail"
    services.ticket_resolve(
        ticket_id=ticket.pk, version=None, by=service.agent,
        data={"resolution": "更换压缩机", "root_cause": "material", "root_cause_detail": "压缩机批次缺陷",
              "corrective_measures": "该批次全部召回检测；来料检验加严", "handling_strategy": "direct"},
    )  # fmt: skip
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.RESOLVED and ticket.first_responded_at is not None
    task = ticket.revisit_task
    assert task is not None and task.owner_id == service.agent.pk and task.source == "complaint"
    with pytest.raises(ValidationError):
        services.ticket_revisit(
            ticket_id=ticket.pk, version=None, satisfaction=6, note="满意", by=service.agent
        )
    services.ticket_revisit(
        ticket_id=ticket.pk, version=None, satisfaction=5, note="客户很满意", by=service.agent
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED and ticket.satisfaction == 5
    assert Task.objects.get(pk=task.pk).status == "done"


def test_a_complaint_needs_a_customer(service):
    with pytest.raises(ValidationError) as err:
        services.ticket_create(
            data={
                "kind": "complaint",
                "category": "delivery",
                "title": "送货太慢",
                "caller_phone": "13900000000",
            },
            by=service.agent,
        )
    assert err.value.field == "customer_id"
    assert not Ticket.objects.exists()


def test_bad_input_names_the_field_and_writes_nothing(service):
    for data, field in (
        (
            {
                "kind": "aftersale",
                "category": "product_quality",
                "title": "x",
                "customer_id": service.customer.pk,
            },
            "category",
        ),
        ({"kind": "nonsense", "title": "x", "customer_id": service.customer.pk}, "kind"),
        ({"kind": "aftersale", "title": "", "customer_id": service.customer.pk}, "title"),
        (
            {"kind": "aftersale", "title": "x", "customer_id": service.customer.pk, "priority": "p0"},
            "priority",
        ),
        ({"kind": "aftersale", "title": "x", "customer_id": service.customer.pk, "colour": "red"}, "colour"),
    ):
        with pytest.raises(ValidationError) as err:
            services.ticket_create(data=data, by=service.agent)
        assert err.value.field == field
    assert not Ticket.objects.exists()


def test_reopen_within_the_window_only(service):
    with freeze_time(datetime(2026, 12, 1, 10, 0, tzinfo=SH)):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
        services.ticket_resolve(
            ticket_id=ticket.pk, version=None, data={"resolution": "已修好"}, by=service.agent
        )
        services.ticket_confirm(ticket_id=ticket.pk, version=None, satisfaction=4, by=service.agent)
    with freeze_time(datetime(2026, 12, 3, 10, 0, tzinfo=SH)):
        services.ticket_reopen(ticket_id=ticket.pk, version=None, reason="又不制冷了", by=service.agent)
        ticket.refresh_from_db()
        assert ticket.status == TicketStatus.OPEN and ticket.reopened_count == 1
        assert ticket.resolved_at is None and ticket.resolution_due_at > datetime(
            2026, 12, 3, 10, 0, tzinfo=SH
        )
        services.ticket_resolve(
            ticket_id=ticket.pk, version=None, data={"resolution": "换了风扇"}, by=service.agent
        )
    with freeze_time(datetime(2026, 12, 3, 10, 0, tzinfo=SH) + timedelta(days=8)), pytest.raises(Conflict):
        services.ticket_reopen(ticket_id=ticket.pk, version=None, reason="又坏了", by=service.agent)


def test_a_stale_version_is_refused(service):
    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    old = ticket.version
    services.ticket_start(ticket_id=ticket.pk, version=old, by=service.agent)
    with pytest.raises(Conflict):
        services.ticket_wait(ticket_id=ticket.pk, version=old, by=service.agent)


def test_assigning_to_someone_else_is_a_supervisors(service):
    from kehu.service.distribution import ticket_assign

    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    with pytest.raises(PermissionDenied):
        ticket_assign(ticket_id=ticket.pk, version=None, assignee_id=service.agent2.pk, by=service.agent)
    ticket_assign(
        ticket_id=ticket.pk, version=None, assignee_id=service.agent2.pk, by=service.lead, reason="轮休"
    )
    ticket.refresh_from_db()
    assert ticket.assignee_id == service.agent2.pk


def test_answering_while_waiting_does_not_count_the_wait_against_the_first_response(service):
    from kehu.service.models import Ticket as T

    with freeze_time(datetime(2026, 12, 1, 10, 0, tzinfo=SH)):
        ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
        services.ticket_start(
            ticket_id=ticket.pk, version=None, by=service.agent
        )  # work begins, no reply yet
        services.ticket_wait(ticket_id=ticket.pk, version=None, by=service.agent)
    with freeze_time(datetime(2026, 12, 2, 10, 0, tzinfo=SH)):  # one working day later, still waiting
        services.ticket_reply(ticket_id=ticket.pk, body="收到您的资料了", by=service.agent)
    ticket = T.objects.get(pk=ticket.pk)
    assert ticket.first_response_due_at == datetime(2026, 12, 2, 15, 0, tzinfo=SH)  # 15:00 + 8 working hours
    assert ticket.first_responded_at <= ticket.first_response_due_at and ticket.status == "waiting"


def test_two_agents_with_one_name_stay_two_rows_in_the_sla_report(service):
    from kehu.access.services import user_create
    from kehu.service import selectors

    twin = user_create(
        username="agent_twin", password=service.cast.password, display_name=service.agent.display_name,
        department=service.cast.service, role_codes=["service_agent"], by=None,
    )  # fmt: skip
    new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    new_ticket(service.lead, service.customer, assignee_id=twin.pk)
    named = [
        r for r in selectors.sla_report(actor=service.lead, group="agent") if r.label == twin.display_name
    ]
    assert sorted(r.key for r in named) == sorted([str(service.agent.pk), str(twin.pk)])
