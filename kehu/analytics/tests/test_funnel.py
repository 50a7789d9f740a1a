"""The funnel (ANA-7): a March of leads converted, opportunities moved, won and lost through the real
services at frozen times; exact counts, rates, days to convert, time in stage and reasons lost per reader;
filters refused by name in both languages; the page, its export and the API."""

from __future__ import annotations

import io
from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from django.urls import reverse
from freezegun import freeze_time

from kehu.analytics import selectors
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.sales import services as sales
from kehu.sales.leads import services as leads
from kehu.sales.models import Opportunity, Stage
from kehu.sales.tests.factories import make_customer, make_opportunity
from kehu.sales.tests.lead_factories import lead_data

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
MARCH = {"period": "custom", "from": "2026-03-01", "to": "2026-03-31"}
NOW = "2026-03-31 10:00"


@pytest.fixture(autouse=True)
def _urls_loaded() -> None:
    """Load the URLconf (and the API schemas) before time is frozen: pydantic cannot build a schema for
    freezegun's fake datetime class (as in kehu/service/tests/conftest.py)."""
    import config.urls  # noqa: F401


def at(day: str) -> datetime:
    """A moment in Asia/Shanghai ("2026-03-05 10:00")."""
    return datetime.fromisoformat(day).replace(tzinfo=SH)


def _lead(by: Any, when: str, **data: Any) -> Any:
    with freeze_time(at(when)):
        return leads.lead_create(data=lead_data(**data), by=by)


def _convert(lead: Any, by: Any, when: str, amount: str = "0") -> Opportunity:
    with freeze_time(at(when)):
        done = leads.lead_convert(lead_id=lead.pk, by=by, confirm_new=True, amount=amount)
    assert done.converted_opportunity is not None
    return done.converted_opportunity


def _move(opp: Opportunity, stage: str, by: Any, when: str) -> None:
    opp.refresh_from_db()
    with freeze_time(at(when)):
        sales.opportunity_move_stage(
            opportunity_id=opp.pk, version=opp.version, by=by,
            stage_id=Stage.objects.get(group_id=opp.stage_group_id, name=stage).pk,
        )  # fmt: skip


def _win(opp: Opportunity, by: Any, when: str) -> None:
    opp.refresh_from_db()
    with freeze_time(at(when)):
        sales.opportunity_win(opportunity_id=opp.pk, version=opp.version, by=by)


def _lose(opp: Opportunity, by: Any, when: str, reason: str, competitor: str) -> None:
    opp.refresh_from_db()
    with freeze_time(at(when)):
        sales.opportunity_lose(
            opportunity_id=opp.pk, version=opp.version, reason=reason, competitor=competitor, by=by
        )


@pytest.fixture
def march(cast: SimpleNamespace) -> SimpleNamespace:
    """rep_east: L1 (主动咨询) converted after 3 days and won; L2 (展会) converted after 10 days and lost on
    price to 友商A; L3 (主动咨询) never converted; L4 from February, converted in March, still open.
    rep_west: W1 (主动咨询) converted after 1 day, lost on price to 友商B. rep_east also enters a customer
    directly (客户推荐) with an open opportunity."""
    east, west = cast.rep_east, cast.rep_west
    l1 = _lead(east, "2026-03-02 10:00", source="inbound")
    l2 = _lead(east, "2026-03-03 10:00", source="trade_show")
    l3 = _lead(east, "2026-03-04 10:00", source="inbound")
    l4 = _lead(east, "2026-02-20 10:00", source="inbound")
    w1 = _lead(west, "2026-03-05 10:00", source="inbound")
    o4 = _convert(l4, east, "2026-03-02 10:00")
    o1 = _convert(l1, east, "2026-03-05 10:00", amount="120000")
    _move(o1, "需求确认", east, "2026-03-07 10:00")
    _move(o1, "方案/报价", east, "2026-03-11 10:00")
    _win(o1, east, "2026-03-12 10:00")
    o2 = _convert(l2, east, "2026-03-13 10:00", amount="50000")
    _lose(o2, east, "2026-03-17 10:00", "价格太高", "友商A")
    ow = _convert(w1, west, "2026-03-06 10:00", amount="30000")
    _lose(ow, west, "2026-03-20 10:00", "价格太高", "友商B")
    with freeze_time(at("2026-03-08 10:00")):
        direct = make_customer(east, source="referral")
    with freeze_time(at("2026-03-09 10:00")):
        do1 = make_opportunity(east, customer=direct, amount="8000")
    return SimpleNamespace(
        l1=l1, l2=l2, l3=l3, l4=l4, w1=w1, o1=o1, o2=o2, o4=o4, ow=ow, direct=direct, do1=do1
    )


def _report(actor: Any, **filters: Any) -> Any:
    with freeze_time(at(NOW)):
        return selectors.funnel_report(actor=actor, filters={**MARCH, **filters})


def _row(rows: list[Any], label: str) -> Any:
    (row,) = [r for r in rows if r.label == label]
    return row


def _counts(row: Any) -> tuple[Any, ...]:
    return (row.leads, row.customers, row.with_opportunity, row.won)


def test_the_whole_company_sees_the_cohort_steps_rates_and_days(march: SimpleNamespace, admin: Any) -> None:
    f = _report(admin)
    assert f.scope == "all"
    # L1, L2, L3, W1 came in in March (L4 in February); three converted, all three have their
    # opportunity, one won.
    assert _counts(f.total) == (4, 3, 3, 1)
    assert [(s["key"], s["count"], s["rate"]) for s in f.steps] == [
        ("leads", 4, None), ("customers", 3, 0.75), ("with_opportunity", 3, 1.0), ("won", 1, 0.3333)]  # fmt: skip
    assert f.total.overall_rate == 0.25
    # Days to convert: 3 (L1), 10 (L2), 1 (W1).
    assert (f.total.median_days_to_convert, f.total.mean_days_to_convert) == (3.0, 4.7)
    assert [(r.label, *_counts(r)) for r in f.by_source] == [("主动咨询", 3, 2, 2, 1), ("展会", 1, 1, 1, 0)]
    assert _row(f.by_source, "主动咨询").median_days_to_convert == 2.0  # 3 and 1
    assert [(r.label, *_counts(r)) for r in f.by_owner] == [("张华东", 3, 2, 2, 1), ("陈华南", 1, 1, 1, 0)]
    assert [(r.label, *_counts(r)) for r in f.by_period] == [("2026-03", 4, 3, 3, 1)]


def test_direct_customers_are_their_own_rows(march: SimpleNamespace, admin: Any) -> None:
    f = _report(admin)
    # Only the customer entered by hand: the four customers made by conversions came from leads.
    assert (f.direct.leads, f.direct.customers, f.direct.with_opportunity, f.direct.won) == (None, 1, 1, 0)
    assert [(r.label, r.customers, r.with_opportunity, r.won) for r in f.direct_by_source] == [
        ("客户推荐", 1, 1, 0)
    ]
    assert f.direct.opportunity_rate == 1.0 and f.direct.overall_rate == 0.0


def test_time_in_each_stage_from_the_stage_changes(march: SimpleNamespace, admin: Any) -> None:
    f = _report(admin)
    stages = {s.name: s for s in f.stages}
    assert set(stages) == {"初步接触", "需求确认", "方案/报价"}  # end stages are not stays
    first = stages["初步接触"]
    # Left in March: O1 after 2 days, O2 after 4, W1's after 14. Still there now: O4 and the direct
    # customer's (not among the stays: they have not ended).
    assert (first.left, first.median_days, first.mean_days) == (3, 4.0, 6.7)
    assert first.open_now == 2
    assert (stages["需求确认"].left, stages["需求确认"].median_days, stages["需求确认"].open_now) == (
        1,
        4.0,
        0,
    )
    assert (stages["方案/报价"].left, stages["方案/报价"].median_days) == (1, 1.0)
    # A period that ends before O1 left 需求确认 does not count that stay.
    early = {s.name: s for s in _report(admin, to="2026-03-10").stages}
    assert "需求确认" not in early or early["需求确认"].left == 0
    assert early["初步接触"].left == 1 and early["初步接触"].median_days == 2.0


def test_outcomes_and_reasons_lost(march: SimpleNamespace, admin: Any) -> None:
    f = _report(admin)
    assert f.outcomes == {"won": 1, "lost": 2, "invalid": 0}
    assert f.win_rate == 0.3333
    assert [(r.label, r.count, {k: str(v) for k, v in r.amounts.items()}) for r in f.lost_reasons] == [
        ("价格太高", 2, {"CNY": "80000.00"})]  # fmt: skip
    assert [(r.label, r.count) for r in f.lost_competitors] == [("友商A", 1), ("友商B", 1)]
    april = _report(admin, **{"from": "2026-04-01", "to": "2026-04-30"})
    assert april.outcomes == {"won": 0, "lost": 0, "invalid": 0} and april.lost_reasons == []
    assert _counts(april.total) == (0, 0, 0, 0) and april.total.customer_rate is None


def test_each_reader_sees_only_their_records(march: SimpleNamespace, cast: SimpleNamespace) -> None:
    west = _report(cast.rep_west)
    assert west.scope == "mine"
    assert _counts(west.total) == (1, 1, 1, 0)
    assert [r.label for r in west.by_owner] == ["陈华南"]
    assert [r.label for r in west.lost_competitors] == ["友商B"]
    assert west.direct.customers == 0
    assert {s.name: (s.left, s.open_now) for s in west.stages} == {"初步接触": (1, 0)}
    east = _report(cast.manager_east)
    assert _counts(east.total) == (3, 2, 2, 1)
    assert [r.label for r in east.lost_competitors] == ["友商A"]
    assert east.direct.customers == 1
    mine = _report(cast.manager_east, scope="mine")  # the manager owns nothing himself
    assert _counts(mine.total) == (0, 0, 0, 0) and mine.outcomes["lost"] == 0 and mine.stages == []


def test_source_owner_and_bucket_filters(march: SimpleNamespace, admin: Any, cast: SimpleNamespace) -> None:
    inbound = _report(admin, source="inbound")
    assert _counts(inbound.total) == (3, 2, 2, 1)
    assert inbound.direct.customers == 0  # the direct customer came by referral
    assert inbound.lost_competitors[0].label == "友商B"  # W1's customer has the source 主动咨询
    west = _report(admin, owner=str(cast.rep_west.pk))
    assert _counts(west.total) == (1, 1, 1, 0)
    quarter = _report(admin, bucket="quarter", period="quarter", **{"from": "", "to": ""})
    assert quarter.range.start.isoformat() == "2026-01-01"
    # The quarter has L4 (February) as well: it converted and is still open.
    assert [(r.label, *_counts(r)) for r in quarter.by_period] == [("2026Q1", 5, 4, 4, 1)]


@pytest.mark.parametrize(
    ("filters", "field"),
    [({"bucket": "week"}, "bucket"), ({"source": "nowhere"}, "source"), ({"owner": "abc"}, "owner"),
     ({"owner": "999999"}, "owner"), ({"period": "decade"}, "period"), ({"from": "2026-13-01"}, "from"),
     ({"to": "2026-02-01"}, "to"), ({"scope": "galaxy"}, "scope"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_bad_filters_name_their_field(cast: SimpleNamespace, filters: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        _report(cast.admin, **filters)
    assert err.value.field == field
    assert err.value.text("zh-hans") != err.value.text("en")  # both languages


def test_a_scope_the_roles_do_not_allow_is_refused(cast: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied) as err:
        _report(cast.rep_west, scope="all")
    assert err.value.field == "scope"


def test_the_api_returns_the_figures_and_refuses_bad_filters(
    march: SimpleNamespace, cast: SimpleNamespace, api_as: Any
) -> None:
    with freeze_time(at(NOW)):
        body = api_as(cast.admin).get("/api/v1/analytics/funnel", MARCH).json()
        west = api_as(cast.rep_west).get("/api/v1/analytics/funnel", MARCH).json()
        bad = api_as(cast.admin, language="en").get("/api/v1/analytics/funnel", {"bucket": "week"})
        bad_zh = api_as(cast.admin).get("/api/v1/analytics/funnel", {"source": "nowhere"})
        denied = api_as(cast.rep_west).get("/api/v1/analytics/funnel", {"scope": "all"})
    assert [s["count"] for s in body["steps"]] == [4, 3, 3, 1]
    assert body["total"]["overall_rate"] == 0.25 and body["date_from"] == "2026-03-01"
    assert body["direct"]["customers"] == 1 and body["direct"]["leads"] is None
    assert body["lost_reasons"] == [{"label": "价格太高", "count": 2, "amounts": {"CNY": "80000.00"}}]
    assert {s["name"]: s["left"] for s in body["stages"]} == {"初步接触": 3, "需求确认": 1, "方案/报价": 1}
    assert [s["count"] for s in west["steps"]] == [1, 1, 1, 0] and west["scope"] == "mine"
    assert "友商A" not in str(west)
    assert bad.status_code == 422 and bad.json()["field"] == "bucket"
    assert "quarter" in bad.json()["message"] and "分组" not in bad.json()["message"]
    assert (
        bad_zh.status_code == 422
        and bad_zh.json()["field"] == "source"
        and "来源" in bad_zh.json()["message"]
    )
    assert denied.status_code == 403 and denied.json()["field"] == "scope"


def test_the_page_shows_the_funnel_and_its_tables(
    march: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    with freeze_time(at(NOW)):
        page = client.get(reverse("analytics:funnel"), MARCH)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="chart-funnel"' in html and 'data-testid="nav-funnel"' in html
    assert 'data-testid="step-leads">4<' in html and 'data-testid="step-won">1<' in html
    assert 'data-testid="overall-rate">25.0%<' in html
    assert "价格太高" in html and "友商A" in html and "客户推荐" in html
    assert html.count('data-testid="by-source-row"') == 2


def test_the_page_as_rep_west_and_when_empty(
    march: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.rep_west)
    with freeze_time(at(NOW)):
        page = client.get(reverse("analytics:funnel"), MARCH)
        empty = client.get(
            reverse("analytics:funnel"), {"period": "custom", "from": "2025-01-01", "to": "2025-01-31"}
        )
        bad = client.get(reverse("analytics:funnel"), {"bucket": "week"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-testid="step-leads">1<' in html
    assert "友商A" not in html and "张华东" not in html
    assert empty.status_code == 200 and 'data-testid="empty"' in empty.content.decode()
    assert bad.status_code == 200 and 'data-testid="funnel-error"' in bad.content.decode()
    assert "month, quarter" in bad.content.decode()


def test_the_export_opens_with_the_same_figures(
    march: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    with freeze_time(at(NOW)):
        response = client.get(reverse("analytics:funnel_export"), MARCH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )
    assert book.sheetnames == [
        "漏斗",
        "按来源",
        "按负责人",
        "按期间",
        "直接录入的客户",
        "阶段停留",
        "输单原因",
        "输给的竞争对手",
    ]
    steps = [tuple(r) for r in book["漏斗"].iter_rows(min_row=2, values_only=True)]
    assert steps == [("线索", 4, None), ("转为客户", 3, 0.75), ("有商机", 3, 1.0), ("赢单", 1, 0.3333)]
    sources = [r[:5] for r in book["按来源"].iter_rows(min_row=2, values_only=True)]
    assert sources == [("全部线索", 4, 3, 3, 1), ("主动咨询", 3, 2, 2, 1), ("展会", 1, 1, 1, 0)]
    lost = [tuple(r) for r in book["输单原因"].iter_rows(min_row=2, values_only=True)]
    assert lost == [("价格太高", 2, "CNY 80000.00")]
    west = signed_in(cast.rep_west)
    with freeze_time(at(NOW)):
        book = openpyxl.load_workbook(io.BytesIO(west.get(reverse("analytics:funnel_export"), MARCH).content))
    assert [r[0] for r in book["输给的竞争对手"].iter_rows(min_row=2, values_only=True)] == ["友商B"]


def test_pool_leads_only_in_the_whole_company_and_deleted_opportunities_do_not_count(
    march: SimpleNamespace, cast: SimpleNamespace
) -> None:
    _lead(cast.admin, "2026-03-20 10:00", source="website", owner="")
    with freeze_time(at("2026-03-25 10:00")):
        sales.opportunity_delete(opportunity_id=march.o2.pk, by=cast.rep_east)
    f = _report(cast.admin)
    # Five leads now (the pool one too); L2's customer lost its only opportunity: 3 customers, 2 with one.
    assert _counts(f.total) == (5, 3, 2, 1)
    assert _row(f.by_owner, "线索池（无负责人）").leads == 1
    assert f.outcomes["lost"] == 1 and [r.label for r in f.lost_competitors] == ["友商B"]
    assert _counts(_report(cast.manager_east).total) == (3, 2, 1, 1)
