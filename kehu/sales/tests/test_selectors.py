"""The pipeline's reads (SAL-3): the board's columns and totals, the weighted forecast per view scope —
checked against numbers computed by hand."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kehu.core.errors import PermissionDenied, ValidationError
from kehu.sales import selectors, services
from kehu.sales.models import StageGroup

from .factories import make_contact, make_customer, make_opportunity, move

pytestmark = pytest.mark.django_db


@pytest.fixture
def pipeline(rep_east: Any, rep_east2: Any, rep_west: Any, manager_east: Any) -> dict[str, Any]:
    """Hand-made pipeline (default stages: 初步接触 10%, 需求确认 25%, 方案/报价 50%, 谈判 75%):

    rep_east:  100 000 初步接触 (2027-01) · 200 000 方案/报价 (2027-01) · 40 000 won
    rep_east2:  80 000 谈判 (2027-02)
    rep_west:   60 000 需求确认 (no date)
    manager_east: 10 000 初步接触 (2027-02)
    """
    jan, feb = date(2027, 1, 15), date(2027, 2, 10)
    a = make_opportunity(rep_east, amount="100000", expected_close=jan)
    b = make_opportunity(rep_east, amount="200000", expected_close=jan)
    move(b, "方案/报价", rep_east)
    won = make_opportunity(rep_east, amount="40000", expected_close=jan)
    services.opportunity_win(opportunity_id=won.pk, version=won.version, by=rep_east)
    c = make_opportunity(rep_east2, amount="80000", expected_close=feb)
    move(c, "谈判", rep_east2)
    d = make_opportunity(rep_west, amount="60000")
    move(d, "需求确认", rep_west)
    e = make_opportunity(manager_east, amount="10000", expected_close=feb)
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _rows(rows: list[Any]) -> list[tuple[str, int, Decimal, Decimal]]:
    return [(r.label, r.count, r.amount, r.weighted) for r in rows]


def test_the_forecast_by_month_for_everything(admin: Any, pipeline: dict[str, Any]) -> None:
    rows = selectors.forecast(actor=admin, scope="all", by="month")
    # Jan: 100000×10% + 200000×50% = 110000; Feb: 80000×75% + 10000×10% = 61000; none: 60000×25%.
    assert _rows(rows) == [
        ("2027-01", 2, Decimal("300000.00"), Decimal("110000.00")),
        ("2027-02", 2, Decimal("90000.00"), Decimal("61000.00")),
        ("未定", 1, Decimal("60000.00"), Decimal("15000.00")),
    ] or _rows(rows) == [
        ("未定", 1, Decimal("60000.00"), Decimal("15000.00")),
        ("2027-01", 2, Decimal("300000.00"), Decimal("110000.00")),
        ("2027-02", 2, Decimal("90000.00"), Decimal("61000.00")),
    ]  # NULL sorts last on PostgreSQL, first on SQLite


def test_the_forecast_per_scope(
    manager_east: Any, rep_east: Any, rep_west: Any, pipeline: dict[str, Any]
) -> None:
    mine = selectors.forecast(actor=manager_east, scope="mine", by="owner")
    assert _rows(mine) == [("王经理", 1, Decimal("10000.00"), Decimal("1000.00"))]
    team = selectors.forecast(actor=manager_east, scope="team", by="owner")
    assert _rows(team) == [
        ("张华东", 2, Decimal("300000.00"), Decimal("110000.00")),
        ("李华东", 1, Decimal("80000.00"), Decimal("60000.00")),
        ("王经理", 1, Decimal("10000.00"), Decimal("1000.00")),
    ]
    dept = selectors.forecast(actor=manager_east, scope="dept", by="department")
    assert _rows(dept) == [("华东销售部", 4, Decimal("390000.00"), Decimal("171000.00"))]
    assert _rows(selectors.forecast(actor=rep_east, scope="mine", by="department")) == [
        ("华东销售部", 2, Decimal("300000.00"), Decimal("110000.00"))
    ]
    assert _rows(selectors.forecast(actor=rep_west, scope="mine")) == [
        ("未定", 1, Decimal("60000.00"), Decimal("15000.00"))
    ]


def test_a_scope_the_roles_do_not_allow_is_refused(rep_east: Any, auditor: Any) -> None:
    with pytest.raises(PermissionDenied) as exc:
        selectors.forecast(actor=rep_east, scope="all")
    assert exc.value.field == "scope"
    with pytest.raises(ValidationError):
        selectors.forecast(actor=rep_east, scope="mine", by="colour")


def test_the_forecast_is_one_aggregate_query(admin: Any, pipeline: dict[str, Any]) -> None:
    selectors.forecast(actor=admin, scope="all", by="month")  # warm the permission cache
    with CaptureQueriesContext(connection) as ctx:
        selectors.forecast(actor=admin, scope="all", by="month")
    reads = [q["sql"] for q in ctx.captured_queries]
    # One aggregate over the opportunities (no join, no per-row function), then the stages' win rates.
    assert len(reads) == 2
    assert "GROUP BY" in reads[0] and "sales_stage" not in reads[0] and "TRUNC" not in reads[0].upper()
    assert "sales_opportunity" not in reads[1]


def test_the_forecast_can_be_bounded_by_month(admin: Any, pipeline: dict[str, Any]) -> None:
    rows = selectors.forecast(actor=admin, scope="all", start="2027-02", end="2027-02")
    assert _rows(rows) == [("2027-02", 2, Decimal("90000.00"), Decimal("61000.00"))]


def test_the_board_columns_and_totals(manager_east: Any, rep_east: Any, pipeline: dict[str, Any]) -> None:
    group = StageGroup.objects.get(is_default=True)
    board = selectors.board(actor=manager_east, group=group)
    summary = [
        (c.stage.name, c.count, [(t.amount, t.weighted) for t in c.totals], [o.pk for o in c.cards])
        for c in board.columns
    ]
    p = pipeline
    # rep_west is outside the manager's department; the won one is off the board.
    assert summary == [
        ("初步接触", 2, [(Decimal("110000.00"), Decimal("11000.00"))], [p["e"].pk, p["a"].pk]),
        ("需求确认", 0, [], []),
        ("方案/报价", 1, [(Decimal("200000.00"), Decimal("100000.00"))], [p["b"].pk]),
        ("谈判", 1, [(Decimal("80000.00"), Decimal("60000.00"))], [p["c"].pk]),
    ]
    mine = selectors.board(actor=manager_east, group=group, filters={"owner": rep_east.pk})
    assert [c.count for c in mine.columns] == [1, 0, 1, 0]


def test_the_board_queries_do_not_grow_with_the_cards(manager_east: Any, rep_east: Any) -> None:
    group = StageGroup.objects.get(is_default=True)
    for n in range(5):
        make_opportunity(rep_east, name=f"批量{n}")
    selectors.board(actor=manager_east, group=group)
    with CaptureQueriesContext(connection) as few:
        selectors.board(actor=manager_east, group=group)
    for n in range(10):
        make_opportunity(rep_east, name=f"再来{n}")
    with CaptureQueriesContext(connection) as many:
        board = selectors.board(actor=manager_east, group=group, per_column=3)
    assert len(many.captured_queries) == len(few.captured_queries)
    assert len(board.columns[0].cards) == 3 and board.columns[0].count == 15 and board.columns[0].has_more


def test_cards_carry_the_buying_centre_warnings(rep_east: Any) -> None:
    customer = make_customer(rep_east)
    contact = make_contact(customer, rep_east)
    opp = make_opportunity(rep_east, customer=customer)
    move(opp, "谈判", rep_east)
    services.opportunity_contact_add(
        opportunity_id=opp.pk,
        data={"contact": contact.pk, "roles": ["decider"], "stance": "supporter"},
        by=rep_east,
    )
    board = selectors.board(actor=rep_east, group=StageGroup.objects.get(is_default=True))
    card = board.columns[3].cards[0]
    assert [w.code for w in card.warnings] == ["single_supporter"]


def test_the_list_filters(rep_east: Any, pipeline: dict[str, Any]) -> None:
    p = pipeline

    def ids(**f: Any) -> list[int]:
        return [o.pk for o in selectors.opportunity_list(actor=rep_east, filters=f, sort="amount").items]

    assert ids(status="open") == [p["a"].pk, p["b"].pk]
    assert ids(close_month="2027-01", status="open") == [p["a"].pk, p["b"].pk]
    p["b"].refresh_from_db()
    assert ids(stage=p["b"].stage_id) == [p["b"].pk]
    assert len(ids()) == 3  # only their own: 2 open + 1 won
    with pytest.raises(ValidationError) as exc:
        selectors.opportunity_list(actor=rep_east, filters={"colour": "red"})
    assert exc.value.field == "colour"


def test_the_timeline_shows_only_visible_opportunities(rep_east: Any, rep_west: Any) -> None:
    customer = make_customer(rep_east)
    opp = make_opportunity(rep_east, customer=customer)
    move(opp, "谈判", rep_east)
    entries = selectors.timeline_entries(rep_east, [customer.pk], 10)
    assert [e.data["summary"] for e in entries] == ["初步接触 → 谈判", "— → 初步接触"]
    assert selectors.timeline_entries(rep_west, [customer.pk], 10) == []


def test_a_department_sells_by_the_nearest_groups_in_one_query(cast: Any) -> None:
    """SAL-3: its own group, else the nearest ancestor's, else the company default — the lowest id
    wins at the same level; inactive groups never."""
    default = StageGroup.objects.get(is_default=True)
    for_sales = StageGroup.objects.create(name="销售部流程")
    for_sales.departments.set([cast.sales])
    for_east_b = StageGroup.objects.create(name="华东流程B")
    for_east_a = StageGroup.objects.create(name="华东流程A")
    for_east_a.departments.set([cast.east])
    for_east_b.departments.set([cast.east, cast.audit])
    inactive = StageGroup.objects.create(name="停用流程", is_active=False)
    inactive.departments.set([cast.west])
    with CaptureQueriesContext(connection) as ctx:
        assert selectors.stage_group_for(cast.east) == for_east_b  # created first: lower id
    assert len(ctx.captured_queries) == 1
    assert selectors.stage_group_for(cast.west) == for_sales  # its own is inactive: the parent's
    assert selectors.stage_group_for(cast.audit) == for_east_b
    assert selectors.stage_group_for(cast.service) == default  # nothing on its chain
    assert selectors.stage_group_for(None) == default
    for_east_b.is_active = False
    for_east_b.save()
    assert selectors.stage_group_for(cast.east) == for_east_a


def test_the_board_reads_its_first_cards_in_one_statement_where_the_database_can(
    manager_east: Any, pipeline: dict[str, Any]
) -> None:
    """Three columns hold cards: one UNION ALL of index-ordered top-Ns on PostgreSQL, a query per
    column on SQLite (which cannot LIMIT inside a compound statement)."""
    group = StageGroup.objects.get(is_default=True)
    with CaptureQueriesContext(connection) as ctx:
        selectors.board(actor=manager_east, group=group)
    card_reads = [q["sql"] for q in ctx.captured_queries if '"sales_opportunity"."code"' in q["sql"]]
    if connection.features.supports_slicing_ordering_in_compound:
        assert len(card_reads) == 1 and card_reads[0].count("UNION ALL") == 2
    else:
        assert len(card_reads) == 3
