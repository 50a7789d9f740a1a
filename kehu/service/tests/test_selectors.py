"""Reads of customer service (SVC-1, SVC-2, SVC-5): the queues, filters and sorts of the ticket list, the
queue and home-page counts, the SLA report, the product-improvement list, and who sees what."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from kehu.core.errors import PermissionDenied, ValidationError
from kehu.service import selectors, services
from kehu.service.distribution import ticket_assign
from kehu.service.models import Ticket

from .conftest import new_ticket

SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hh: int, mm: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hh, mm, tzinfo=SH)


def numbers(page_or_rows: Any) -> set[str]:
    rows = page_or_rows.items if hasattr(page_or_rows, "items") else page_or_rows
    return {t.title for t in rows}


@pytest.fixture
def desk(service: SimpleNamespace) -> SimpleNamespace:
    """Tickets of the service team as they stand on Tue 2026-12-01 13:30 (titles name them):

    - A: 赵客服's, 标准服务, created 10:00 — first response due 15:00 (soon at 13:30)
    - B: 孙客服's, answered at 10:30 — only the resolution clock runs (Fri 10:00)
    - C: urgent (紧急工单, 30 minutes), put back unassigned — first response due 10:30, breached
    - D: 赵客服's, resolved at 11:00 — done
    - G: a complaint of 孙客服's from Mon 09:00, never acknowledged — 24 h ran out Tue 09:00
    - E: an unknown caller's (no customer), 孙客服's
    """
    s = service
    with freeze_time(at(30, 9, month=11)):
        g = new_ticket(s.lead, s.customer, kind="complaint", category="product_quality", title="G",
                       assignee_id=s.agent2.pk)  # fmt: skip
    with freeze_time(at(1, 10)):
        a = new_ticket(s.lead, s.customer, title="A", assignee_id=s.agent.pk)
        b = new_ticket(s.lead, s.customer, title="B", assignee_id=s.agent2.pk)
        c = new_ticket(s.lead, s.customer, title="C", priority="urgent", category="usage")
        ticket_assign(ticket_id=c.pk, version=None, assignee_id=None, by=s.lead, reason="等待分派")
        d = new_ticket(s.lead, s.customer, title="D", assignee_id=s.agent.pk)
        e = services.ticket_create(
            data={"kind": "presale", "category": "price", "title": "E", "caller_name": "王先生",
                  "caller_phone": "021-55556666", "assignee_id": s.agent2.pk},
            by=s.lead,
        )  # fmt: skip
    with freeze_time(at(1, 10, 30)):
        services.ticket_reply(ticket_id=b.pk, body="已安排师傅", by=s.agent2)
    with freeze_time(at(1, 11)):
        services.ticket_resolve(
            ticket_id=d.pk, version=None, data={"resolution": "电话指导已解决"}, by=s.agent
        )
    for t in (a, b, c, d, e, g):
        t.refresh_from_db()
    assert c.sla_policy.name == "紧急工单" and c.assignee_id is None and c.team_id == s.team.pk
    assert e.customer_id is None and e.team_id == s.team.pk
    return SimpleNamespace(a=a, b=b, c=c, d=d, e=e, g=g, **vars(s))


QUEUES_AT_1330 = {
    "mine": {"A"},
    "team": {"A", "B", "C", "E", "G"},
    "unassigned": {"C"},
    "soon": {"A", "E"},
    "breached": {"C", "G"},
    "open": {"A", "B", "C", "E", "G"},
    "all": {"A", "B", "C", "D", "E", "G"},
}


@pytest.mark.parametrize(("queue", "expected"), QUEUES_AT_1330.items())
def test_each_queue_holds_what_it_says(desk: SimpleNamespace, queue: str, expected: set[str]) -> None:
    with freeze_time(at(1, 13, 30)):
        page = selectors.ticket_list(actor=desk.agent, filters={"queue": queue})
    assert numbers(page) == expected and page.count == len(expected)


def test_the_default_queue_is_mine_and_a_waiting_ticket_is_never_breached(desk: SimpleNamespace) -> None:
    with freeze_time(at(1, 13, 30)):
        assert numbers(selectors.ticket_list(actor=desk.agent2)) == {"B", "E", "G"}
        services.ticket_start(ticket_id=desk.a.pk, version=None, by=desk.agent)
        services.ticket_wait(ticket_id=desk.a.pk, version=None, by=desk.agent)
    with freeze_time(at(1, 16)):  # A's first response (15:00) would be late, but its clocks are stopped
        assert numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "breached"})) == {
            "C",
            "E",
            "G",
        }
        assert numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "soon"})) == set()


def test_the_queues_move_with_the_clock(desk: SimpleNamespace) -> None:
    # A and E must be answered by 15:00: 121 minutes before, they are not breaching soon yet
    with freeze_time(at(1, 12, 59)):
        assert numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "soon"})) == set()
    with freeze_time(at(1, 15, 1)):
        assert numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "soon"})) == set()
        assert numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "breached"})) == {
            "A",
            "C",
            "E",
            "G",
        }
    with freeze_time(at(1, 15, 1)):  # answering stops the first-response clock: A leaves the breached queue
        services.ticket_reply(ticket_id=desk.a.pk, body="明天上门", by=desk.agent)
        assert numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "breached"})) == {
            "C",
            "E",
            "G",
        }


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"kind": "complaint"}, {"G"}),
        ({"kind": "presale"}, {"E"}),
        ({"category": "usage"}, {"C"}),
        ({"status": "resolved"}, {"D"}),
        ({"status": "open"}, {"B"}),
        ({"priority": "urgent"}, {"C"}),
        ({"q": "5555"}, {"E"}),
        ({"q": "鲁氏家电"}, {"A", "B", "C", "D", "G"}),
        ({"date_from": "2026-12-01"}, {"A", "B", "C", "D", "E"}),
        ({"date_to": "2026-11-30"}, {"G"}),
        ({"kind": "", "q": ""}, {"A", "B", "C", "D", "E", "G"}),  # blank filters are no filters
    ],
)
def test_filters(desk: SimpleNamespace, filters: dict[str, Any], expected: set[str]) -> None:
    with freeze_time(at(1, 13, 30)):
        page = selectors.ticket_list(actor=desk.agent, filters={"queue": "all", **filters})
    assert numbers(page) == expected


def test_filters_by_id(desk: SimpleNamespace) -> None:
    def listed(**filters: Any) -> set[str]:
        return numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "all", **filters}))

    assert listed(assignee=desk.agent2.pk) == {"B", "E", "G"}
    assert listed(assignee=str(desk.agent.pk)) == {"A", "D"}
    assert listed(customer=desk.customer.pk) == {"A", "B", "C", "D", "G"}
    assert listed(team=desk.team.pk) == {"A", "B", "C", "D", "E", "G"}
    assert listed(team=desk.team.pk + 1000) == set()
    assert listed(q=desk.a.number) == {"A"}


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"queue": "everything"}, "queue"),
        ({"kind": "repair"}, "kind"),
        ({"category": "nonsense"}, "category"),
        ({"status": "done"}, "status"),
        ({"priority": "p0"}, "priority"),
        ({"assignee": "赵客服"}, "assignee"),
        ({"team": "1.5"}, "team"),
        ({"customer": "abc"}, "customer"),
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_to": "yesterday"}, "date_to"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_bad_filter_is_refused_naming_it(
    desk: SimpleNamespace, filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        selectors.ticket_list(actor=desk.agent, filters=filters)
    assert err.value.field == field


def test_sorts(desk: SimpleNamespace) -> None:
    def order(sort: str) -> list[str]:
        return [
            t.title
            for t in selectors.ticket_list(actor=desk.agent, filters={"queue": "all"}, sort=sort).items
        ]

    by_due = order("due")
    assert by_due[:2] == ["C", "G"]  # C: Tue 14:00, G: Thu 09:00, the rest Fri 10:00
    assert order("-due")[-2:] == ["G", "C"]
    assert order("created")[0] == "G" and order("-created")[-1] == "G"
    assert order("priority")[0] == "C"  # the only urgent one
    with pytest.raises(ValidationError) as err:
        order("title")
    assert err.value.field == "sort"


def test_the_list_pages(desk: SimpleNamespace) -> None:
    first = selectors.ticket_list(actor=desk.agent, filters={"queue": "all"}, limit=4)
    rest = selectors.ticket_list(actor=desk.agent, filters={"queue": "all"}, limit=4, offset=4)
    assert first.count == rest.count == 6 and first.has_next and not rest.has_next
    assert numbers(first) | numbers(rest) == QUEUES_AT_1330["all"]


def test_queue_counts_and_service_counts(desk: SimpleNamespace) -> None:
    with freeze_time(at(1, 13, 30)):
        assert selectors.queue_counts(actor=desk.agent) == {
            "mine": 1,
            "team": 5,
            "unassigned": 1,
            "soon": 2,
            "breached": 2,
        }
        counts = selectors.service_counts(actor=desk.agent2)
    assert counts == selectors.ServiceCounts(
        open=5, mine=3, unassigned=1, soon=2, breached=2, complaints_open=1, complaints_response_overdue=1
    )
    assert selectors.service_counts(actor=desk.cast.marketing) is None  # no ticket.view


def test_queue_counts_stop_past_the_cap_and_the_tab_says_so(desk: SimpleNamespace) -> None:
    from django.test import Client

    with freeze_time(at(1, 13, 30)):
        assert selectors.queue_counts(actor=desk.agent, cap=3) == {
            "mine": 1, "team": 4, "unassigned": 1, "soon": 2, "breached": 2,
        }  # fmt: skip  # team holds 5: "more than 3"
        client = Client()
        client.force_login(desk.agent)
        html = client.get("/service/").content.decode()
    assert 'data-testid="count-team">5</span>' in html  # the page's cap is 999
    original = selectors.QUEUE_COUNT_CAP
    try:
        selectors.QUEUE_COUNT_CAP = 3
        with freeze_time(at(1, 13, 30)):
            html = Client()
            html.force_login(desk.agent)
            page = html.get("/service/", {"queue": "mine"}).content.decode()
    finally:
        selectors.QUEUE_COUNT_CAP = original
    assert 'data-testid="count-team">3+</span>' in page and 'data-testid="count-mine">1</span>' in page


def test_counts_follow_what_the_actor_sees(desk: SimpleNamespace) -> None:
    with freeze_time(at(1, 13, 30)):
        west = selectors.service_counts(actor=desk.cast.rep_west)
        assert selectors.queue_counts(actor=desk.cast.rep_west) == {
            "mine": 0,
            "team": 0,
            "unassigned": 0,
            "soon": 1,
            "breached": 0,
        }
    # only the unknown caller's E
    assert west == selectors.ServiceCounts(
        open=1, mine=0, unassigned=0, soon=1, breached=0, complaints_open=0, complaints_response_overdue=0
    )


# ---- Who sees what -----------------------------------------------------------------------------------


def test_a_seller_sees_only_tickets_of_customers_they_see_and_the_unknown_callers(
    desk: SimpleNamespace,
) -> None:
    west = selectors.ticket_list(actor=desk.cast.rep_west, filters={"queue": "all"})
    assert numbers(west) == {"E"}
    east = selectors.ticket_list(actor=desk.cast.rep_east, filters={"queue": "all"})
    assert numbers(east) == QUEUES_AT_1330["all"]
    assert selectors.customer_tickets(actor=desk.cast.rep_west, customer=desk.customer) == []
    assert selectors.customer_ticket_count(desk.cast.rep_west, desk.customer) == 0
    assert selectors.customer_ticket_count(desk.cast.rep_east, desk.customer) == 5


def test_someone_without_ticket_view_sees_nothing(desk: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied):
        selectors.ticket_list(actor=desk.cast.marketing, filters={"queue": "all"})
    assert not Ticket.objects.visible_to(desk.cast.marketing).exists()
    assert selectors.customer_tickets(actor=desk.cast.marketing, customer=desk.customer) == []


def test_the_auditor_sees_every_ticket_but_cannot_work_them(desk: SimpleNamespace) -> None:
    auditor = desk.cast.auditor
    assert numbers(selectors.ticket_list(actor=auditor, filters={"queue": "all"})) == QUEUES_AT_1330["all"]
    detail = selectors.ticket_detail(actor=auditor, ticket_id=desk.a.pk)
    assert detail.may_work is False and detail.verbs == []
    with pytest.raises(PermissionDenied):
        services.ticket_reply(ticket_id=desk.a.pk, body="审计员回复", by=auditor)
    with pytest.raises(PermissionDenied):
        services.ticket_note(ticket_id=desk.a.pk, body="审计备注", by=auditor)
    desk.a.refresh_from_db()
    assert desk.a.first_responded_at is None and not desk.a.messages.exists()


def test_an_unknown_callers_ticket_is_visible_to_every_agent(desk: SimpleNamespace) -> None:
    for who in (desk.agent, desk.agent2, desk.lead):
        assert "E" in numbers(selectors.ticket_list(actor=who, filters={"queue": "all"}))
    detail = selectors.ticket_detail(actor=desk.agent, ticket_id=desk.e.pk)
    assert detail.may_work is True  # same team as its handler
    assert detail.verbs == ["start", "resolve", "cancel"]


# ---- SLA report (SVC-5) ------------------------------------------------------------------------------


@pytest.fixture
def measured(service: SimpleNamespace) -> SimpleNamespace:
    """Tickets of Tue 2026-12-01 10:00, looked at on Tue 2026-12-08 12:00 (titles name them):

    - S1 赵客服: answered 10:30, resolved 11:00 — both in time
    - S2 孙客服: answered 16:00 (due 15:00), resolved Mon 12-07 (due Fri 10:00) — both late
    - S3 赵客服: never answered — both deadlines long past
    - X 赵客服: cancelled at 10:05 as a duplicate — counted against neither target
    - U1 孙客服 (紧急工单): answered 10:20 (due 10:30); resolution due 14:00 still open — late
    - K1 孙客服 (投诉): acknowledged 11:00, resolved Wed — both in time
    - OLD: created in November — outside the period
    """
    s = service
    with freeze_time(at(30, 10, month=11)):
        new_ticket(s.lead, s.customer, title="OLD", assignee_id=s.agent.pk)
    with freeze_time(at(1, 10)):
        t = {
            "S1": new_ticket(s.lead, s.customer, title="S1", assignee_id=s.agent.pk),
            "S2": new_ticket(s.lead, s.customer, title="S2", assignee_id=s.agent2.pk),
            "S3": new_ticket(s.lead, s.customer, title="S3", assignee_id=s.agent.pk),
            "X": new_ticket(s.lead, s.customer, title="X", assignee_id=s.agent.pk),
            "U1": new_ticket(s.lead, s.customer, title="U1", priority="urgent", assignee_id=s.agent2.pk),
            "K1": new_ticket(s.lead, s.customer, title="K1", kind="complaint", category="delivery",
                             assignee_id=s.agent2.pk),
        }  # fmt: skip
    with freeze_time(at(1, 10, 5)):
        services.ticket_cancel(ticket_id=t["X"].pk, version=None, reason="重复登记", by=s.agent)
    with freeze_time(at(1, 10, 20)):
        services.ticket_reply(ticket_id=t["U1"].pk, body="马上处理", by=s.agent2)
    with freeze_time(at(1, 10, 30)):
        services.ticket_reply(ticket_id=t["S1"].pk, body="请重启试试", by=s.agent)
    with freeze_time(at(1, 11)):
        services.ticket_resolve(ticket_id=t["S1"].pk, version=None, data={"resolution": "已恢复"}, by=s.agent)
        services.ticket_acknowledge(ticket_id=t["K1"].pk, version=None, by=s.agent2)
        services.ticket_investigate(ticket_id=t["K1"].pk, version=None, by=s.agent2)
    with freeze_time(at(1, 16)):
        services.ticket_reply(ticket_id=t["S2"].pk, body="抱歉久等", by=s.agent2)
    with freeze_time(at(2, 9)):
        services.ticket_resolve(
            ticket_id=t["K1"].pk, version=None, by=s.agent2,
            data={"resolution": "补发", "root_cause": "transport", "root_cause_detail": "物流延误",
                  "corrective_measures": "更换承运商"},
        )  # fmt: skip
    with freeze_time(at(7, 10)):
        services.ticket_resolve(
            ticket_id=t["S2"].pk, version=None, data={"resolution": "已修好"}, by=s.agent2
        )
    return s


def report(measured: SimpleNamespace, group: str, actor: Any = None) -> dict[str, tuple[int, ...]]:
    with freeze_time(at(8, 12)):
        rows = selectors.sla_report(
            actor=actor or measured.lead, group=group, date_from=date(2026, 12, 1), date_to=date(2026, 12, 8)
        )
    return {
        row.label: (
            row.tickets,
            row.response_met,
            row.response_breached,
            row.response_pending,
            row.resolution_met,
            row.resolution_breached,
            row.resolution_pending,
        )
        for row in rows
    }


def test_sla_report_by_policy(measured: SimpleNamespace) -> None:
    assert report(measured, "policy") == {
        #             tickets, response met/breached/pending, resolution met/breached/pending
        "标准服务": (4, 1, 2, 1, 1, 2, 1),  # S1 S2 S3 X (X cancelled: neither met nor breached)
        "紧急工单": (1, 1, 0, 0, 0, 1, 0),
        "投诉：24 小时内响应": (1, 1, 0, 0, 1, 0, 0),
    }


def test_sla_report_by_agent_team_and_kind(measured: SimpleNamespace) -> None:
    assert report(measured, "agent") == {
        "赵客服": (3, 1, 1, 1, 1, 1, 1),  # S1 S3 X
        "孙客服": (3, 2, 1, 0, 1, 2, 0),  # S2 U1 K1
    }
    assert report(measured, "team") == {"客服一组": (6, 3, 2, 1, 2, 3, 1)}
    assert report(measured, "kind") == {
        "售后服务": (5, 2, 2, 1, 1, 3, 1),
        "投诉": (1, 1, 0, 0, 1, 0, 0),
    }


def test_sla_report_rates_and_period(measured: SimpleNamespace) -> None:
    with freeze_time(at(8, 12)):
        (row,) = [
            r
            for r in selectors.sla_report(actor=measured.lead, group="agent", date_from=date(2026, 12, 1))
            if r.label == "赵客服"
        ]
        assert (row.response_rate, row.resolution_rate) == (50.0, 50.0)
        # the default period is this month so far: the November ticket is not in it
        assert sum(r.tickets for r in selectors.sla_report(actor=measured.lead)) == 6
        november = selectors.sla_report(
            actor=measured.lead, date_from=date(2026, 11, 1), date_to=date(2026, 11, 30)
        )
    assert [(r.label, r.tickets) for r in november] == [("标准服务", 1)]
    with pytest.raises(ValidationError) as err:
        selectors.sla_report(actor=measured.lead, group="customer")
    assert err.value.field == "group"
    with pytest.raises(ValidationError) as err:
        selectors.sla_report(actor=measured.lead, date_from=date(2026, 12, 8), date_to=date(2026, 12, 1))
    assert err.value.field == "date_to"


def test_sla_report_counts_only_what_the_actor_sees(measured: SimpleNamespace) -> None:
    assert report(measured, "policy", actor=measured.cast.rep_west) == {}
    assert report(measured, "policy", actor=measured.cast.rep_east) == report(measured, "policy")


# ---- Product-improvement list (SVC-2) ----------------------------------------------------------------


def resolved_complaint(
    s: SimpleNamespace, when: datetime, *, product: Any, root_cause: str, measures: str, title: str = "投诉"
) -> Ticket:
    with freeze_time(when):
        t = new_ticket(s.agent, s.customer, kind="complaint", category="product_quality", title=title,
                       product_id=product.pk if product else None, assignee_id=s.agent.pk)  # fmt: skip
        services.ticket_acknowledge(ticket_id=t.pk, version=None, by=s.agent)
        services.ticket_investigate(ticket_id=t.pk, version=None, by=s.agent)
        services.ticket_resolve(
            ticket_id=t.pk, version=None, by=s.agent,
            data={"resolution": "已处理", "root_cause": root_cause, "root_cause_detail": "调查结论",
                  "corrective_measures": measures},
        )  # fmt: skip
    return t


def test_the_improvement_list_counts_complaints_per_product_and_cause(service: SimpleNamespace) -> None:
    from kehu.catalog.tests.factories import make_product

    s = service
    aircon = make_product(s.cast.admin, name="变频空调 KFR-35")
    heater = make_product(s.cast.admin, name="热水器 JSQ-20")
    first = resolved_complaint(s, at(1, 10), product=aircon, root_cause="material", measures="压缩机来料抽检")
    resolved_complaint(s, at(3, 10), product=aircon, root_cause="material", measures="更换压缩机供应商")
    resolved_complaint(s, at(2, 10), product=aircon, root_cause="design", measures="改进散热设计")
    resolved_complaint(s, at(2, 11), product=None, root_cause="staff", measures="服务礼仪培训")
    with freeze_time(at(4, 10)):  # still being investigated
        new_ticket(s.agent, s.customer, kind="complaint", category="product_quality", product_id=heater.pk)
        # the first one comes back: reopened, its old measures are not the latest
        services.ticket_reopen(ticket_id=first.pk, version=None, reason="压缩机又坏了", by=s.agent)
        new_ticket(s.agent, s.customer, title="不是投诉", product_id=aircon.pk)  # a repair: not counted
    with freeze_time(at(8, 12)):
        rows = selectors.improvement_list(actor=s.lead)
        west = selectors.improvement_list(actor=s.cast.rep_west)
    assert (rows[0].product, rows[0].root_cause, rows[0].complaints, rows[0].open) == (
        "变频空调 KFR-35",
        "material",
        2,
        1,
    )
    assert rows[0].root_cause_label == "原材料/零部件"
    assert rows[0].latest_measures == "更换压缩机供应商"
    assert {(r.product, r.root_cause_label, r.complaints, r.open, r.latest_measures) for r in rows[1:]} == {
        ("变频空调 KFR-35", "设计缺陷", 1, 0, "改进散热设计"),
        ("热水器 JSQ-20", "（调查中）", 1, 1, ""),
        ("（未关联产品）", "人员服务", 1, 0, "服务礼仪培训"),
    }
    assert west == []


def test_a_ticket_without_deadlines_sorts_after_those_with_on_every_database(desk: SimpleNamespace) -> None:
    from kehu.service.models import SlaPolicy

    SlaPolicy.objects.filter(name="标准服务").update(is_active=False)
    with freeze_time(at(1, 12)):
        bare = new_ticket(desk.lead, desk.customer, title="N", assignee_id=desk.agent.pk)
    assert bare.resolution_due_at is None

    def order(sort: str) -> list[str]:
        return [
            t.title
            for t in selectors.ticket_list(actor=desk.agent, filters={"queue": "all"}, sort=sort).items
        ]

    assert order("due")[0] == "C" and order("due")[-1] == "N"  # what breaches first is on top
    assert order("-due")[-2:] == ["C", "N"]
    assert order("priority")[0] == "C" and order("priority")[-1] == "N"  # all normal but C


def test_resolving_straight_from_waiting_keeps_the_waiting_time_off_the_clock(
    service: SimpleNamespace,
) -> None:
    """Waiting for the customer stops the clocks (SVC-5); resolving without resuming first (the customer
    called back and it was settled) ends the wait just as resuming does."""
    s = service
    with freeze_time(at(1, 10)):
        ticket = new_ticket(s.agent, s.customer, title="W", assignee_id=s.agent.pk)
        services.ticket_start(ticket_id=ticket.pk, version=None, by=s.agent)
    with freeze_time(at(1, 10, 15)):
        services.ticket_wait(ticket_id=ticket.pk, version=None, by=s.agent)  # waiting for a spare part
    with freeze_time(at(7, 10)):  # Monday: the part came, the customer fitted it, all fine
        services.ticket_resolve(
            ticket_id=ticket.pk, version=None, data={"resolution": "客户自行更换"}, by=s.agent
        )
    ticket.refresh_from_db()
    assert ticket.paused_at is None and ticket.resolved_at == at(7, 10)
    # waited Tue 10:15 → Mon 10:00: 6 h 45 + 3 × 8 h + 1 h = 31 h 45 of working time
    assert ticket.first_response_due_at == at(7, 14, 45)  # Tue 15:00 + 31 h 45
    assert ticket.resolution_due_at == at(10, 9, 45)  # Fri 10:00 + 31 h 45
    state = selectors.ticket_clocks(ticket)
    assert (state.first_response.state, state.resolution.state) == ("met", "met")
    with freeze_time(at(8, 12)):
        (row,) = selectors.sla_report(actor=s.lead, date_from=date(2026, 12, 1))
    assert (row.response_met, row.response_breached, row.resolution_met, row.resolution_breached) == (
        1,
        0,
        1,
        0,
    )


def test_the_team_queue_of_a_supervisor_holds_the_tickets_of_the_teams_they_lead(
    desk: SimpleNamespace,
) -> None:
    """钱主管 leads 客服一组 without being one of its agents: 本组工单 is still that team's work."""
    assert not desk.team.members.filter(user=desk.lead).exists()
    with freeze_time(at(1, 13, 30)):
        assert (
            numbers(selectors.ticket_list(actor=desk.lead, filters={"queue": "team"}))
            == QUEUES_AT_1330["team"]
        )
        assert selectors.queue_counts(actor=desk.lead)["team"] == 5
        # an agent of no team has an empty team queue
        assert numbers(selectors.ticket_list(actor=desk.cast.rep_east, filters={"queue": "team"})) == set()


def test_a_cancelled_complaint_is_not_on_the_improvement_list(service: SimpleNamespace) -> None:
    from kehu.catalog.tests.factories import make_product

    aircon = make_product(service.cast.admin, name="变频空调 KFR-35")
    with freeze_time(at(1, 10)):
        twice = new_ticket(
            service.agent,
            service.customer,
            kind="complaint",
            category="product_quality",
            product_id=aircon.pk,
        )
        services.ticket_cancel(ticket_id=twice.pk, version=None, reason="重复登记", by=service.agent)
    resolved_complaint(service, at(2, 10), product=aircon, root_cause="material", measures="来料抽检")
    with freeze_time(at(8, 12)):
        rows = selectors.improvement_list(actor=service.lead)
    assert [(r.product, r.root_cause, r.complaints, r.open) for r in rows] == [
        ("变频空调 KFR-35", "material", 1, 0)
    ]


def test_the_soon_badge_and_the_soon_queue_agree_at_the_boundary(desk: SimpleNamespace) -> None:
    a = Ticket.objects.get(title="A")  # first response due 15:00; 即将超时 = within 120 minutes
    with freeze_time(at(1, 13, 0)):  # exactly 120 minutes before: neither
        assert "A" not in numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "soon"}))
        assert selectors.ticket_clocks(a).first_response.state == "running"
    with freeze_time(datetime(2026, 12, 1, 13, 0, 1, tzinfo=SH)):  # a second later: both
        assert "A" in numbers(selectors.ticket_list(actor=desk.agent, filters={"queue": "soon"}))
        assert selectors.ticket_clocks(a).first_response.state == "soon"
