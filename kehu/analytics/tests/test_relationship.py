"""Relationship length, depth and breadth (ANA-6): a hand-built ledger of the first quarter of 2026 (with
the history before it) whose every figure is worked out by hand in the comments; the view scopes and
visibility; the filters refused by name; the page, its export and the API.

The ledger (order lines are unit price × quantity; categories 机床 and 刀具; 配件 has no category):

* C1 (张华东, created 2024-06-01): 2025-12-10 机床 100 × 2 = 200. 2026-01-05 two orders: #1 机床 120 +
  刀具 50 × 2 + 配件 30 = 250; #2 机床 150 = 150. 2026-02-20 机床 110.
* C2 (张华东, created 2026-01-20): 2026-01-25 two orders: 机床 100, 刀具 60. 2026-03-03 刀具 70.
* C3 (陈华南, created 2023-01-10): 2024-11-01 机床 100. 2026-02-10 刀具 80 + 机床 90 = 170.
* C4 (陈华南, created 2026-02-15, source 客户推荐): no orders.
* C5 (张华东): 2026-01-15 an order of 999, cancelled.
* C6 (李华东, created 2026-03-01): 2026-03-10 an order of 500 without lines.
* C7 (张华东, created 2025-12-01): 2025-12-20 机床 200 sold by 陈华南; 2026-01-10 机床 300 by 张华东.
* C1 also has an order dated 2026-04-05, after "today" (2026-03-31).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import openpyxl
import pytest
from django.conf import settings
from django.urls import reverse
from freezegun import freeze_time

from kehu.analytics import selectors
from kehu.analytics.relationship import Bucket, LineFact, OrderFact, Prior, compute
from kehu.catalog.tests.factories import make_product
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers.models import Customer
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order, OrderLine
from kehu.sales.tests.factories import make_customer

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
Q1 = {"period": "custom", "from": "2026-01-01", "to": "2026-03-31"}
NOW = "2026-03-31 10:00"
D = Decimal


@pytest.fixture(autouse=True)
def _urls_loaded() -> None:
    """Load the URLconf (and the API schemas) before time is frozen (as in test_funnel.py)."""
    import config.urls  # noqa: F401


def _customer(owner: Any, created: str, **data: Any) -> Customer:
    customer = make_customer(owner, **data)
    Customer.objects.filter(pk=customer.pk).update(
        created_at=dt.datetime.fromisoformat(f"{created} 10:00").replace(tzinfo=SH)
    )
    return customer


_numbers = iter(range(1, 10_000))


def _order(customer: Customer, owner: Any, day: str, lines: list[tuple[Any, str, int]], *, admin: Any,
           amount: str | None = None, status: str = OrderStatus.DELIVERED) -> Order:  # fmt: skip
    total = sum((D(price) * qty for _p, price, qty in lines), D("0")) if amount is None else D(amount)
    order = Order.objects.create(
        number=f"RL{next(_numbers):06d}", customer=customer, order_date=dt.date.fromisoformat(day), status=status,
        total_amount=total, owner=owner, department=owner.department, created_by=admin,
    )  # fmt: skip
    OrderLine.objects.bulk_create(
        OrderLine(order=order, position=i, product=product, product_name=product.name, unit_price=D(price),
                  quantity=D(qty), total=D(price) * qty)
        for i, (product, price, qty) in enumerate(lines, start=1)
    )  # fmt: skip
    return order


@pytest.fixture
def ledger(cast: SimpleNamespace) -> SimpleNamespace:
    admin, east, east2, west = cast.admin, cast.rep_east, cast.rep_east2, cast.rep_west
    lathe = make_product(admin, category="机床")
    lathe2 = make_product(admin, category="机床")
    cutter = make_product(admin, category="刀具")
    part = make_product(admin, category="")
    c1 = _customer(east, "2024-06-01")
    _order(c1, east, "2025-12-10", [(lathe, "100", 2)], admin=admin)
    _order(c1, east, "2026-01-05", [(lathe, "120", 1), (cutter, "50", 2), (part, "30", 1)], admin=admin)
    _order(c1, east, "2026-01-05", [(lathe, "150", 1)], admin=admin)
    _order(c1, east, "2026-02-20", [(lathe2, "110", 1)], admin=admin)
    c2 = _customer(east, "2026-01-20")
    _order(c2, east, "2026-01-25", [(lathe, "100", 1)], admin=admin)
    _order(c2, east, "2026-01-25", [(cutter, "60", 1)], admin=admin)
    _order(c2, east, "2026-03-03", [(cutter, "70", 1)], admin=admin)
    c3 = _customer(west, "2023-01-10")
    _order(c3, west, "2024-11-01", [(lathe, "100", 1)], admin=admin)
    _order(c3, west, "2026-02-10", [(cutter, "80", 1), (lathe, "90", 1)], admin=admin)
    c4 = _customer(west, "2026-02-15", source="referral")
    c5 = _customer(east, "2026-01-02")
    _order(c5, east, "2026-01-15", [(lathe, "999", 1)], admin=admin, status=OrderStatus.CANCELLED)
    c6 = _customer(east2, "2026-03-01")
    _order(c6, east2, "2026-03-10", [], admin=admin, amount="500")
    c7 = _customer(east, "2025-12-01")
    _order(c7, west, "2025-12-20", [(lathe, "200", 1)], admin=admin)
    _order(c7, east, "2026-01-10", [(lathe, "300", 1)], admin=admin)
    _order(c1, east, "2026-04-05", [(lathe, "400", 1)], admin=admin)  # after today (2026-03-31)
    return SimpleNamespace(c1=c1, c2=c2, c3=c3, c4=c4, c5=c5, c6=c6, c7=c7)


def _report(actor: Any, **filters: Any) -> Any:
    with freeze_time(dt.datetime.fromisoformat(NOW).replace(tzinfo=SH)):
        return selectors.relationship_report(actor=actor, filters={**Q1, **filters})


def _depth(f: Any) -> tuple[Any, ...]:
    return (f.revenue, f.first_revenue, f.repeat_revenue, f.cross_sell, f.up_sell)


def _breadth(f: Any) -> tuple[int, ...]:
    return (f.gained, f.retained, f.won_back, f.returning, f.referrals)


def _cells(r: Any) -> dict[tuple[str, str], Any]:
    return {(p.label, c.label): c for p, c in r.cells}


def test_every_figure_by_hand_for_the_whole_company(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    r = _report(cast.admin)
    assert (r.scope, r.bucket, r.group, r.lost_days) == ("all", "month", "owner", 365)
    assert [p.label for p in r.periods] == ["2026-01", "2026-02", "2026-03"]
    cells = _cells(r)
    jan = cells[("2026-01", "张华东")]
    # C1 #1 250 and #2 150 repeat (C1 bought on 2025-12-10): 刀具 is new (cross-sell 100); 机床 120 and
    # 150 both beat December's 100 (the same day's 120 does not raise the bar: up-sell 270); 配件 has no
    # category. C2's two orders of its first day, 100 + 60, are first purchases. C7's 300 is repeat
    # (陈华南's December order, visible to the admin) and beats its 200: up-sell.
    assert _depth(jan) == (D("860.00"), D("160.00"), D("700.00"), D("100.00"), D("570.00"))
    assert jan.other_repeat_revenue == D("30.00")  # the 配件 line
    # C2 gained; C1 and C7 bought in December as well: retained. C5's order was cancelled.
    assert _breadth(jan) == (1, 2, 0, 0, 0)
    # Lengths to 2026-01-31: C1 from its record (2024-06-01) 609 days, C2 from 2026-01-20 11 days, C7
    # from its record (2025-12-01) 61 days.
    assert sorted(jan.lengths) == [11, 61, 609]
    assert (jan.mean_days, jan.median_days) == (227.0, 61.0)
    assert jan.bands == {"lt1": 2, "y1": 1, "y2": 0, "y3": 0, "y5": 0}

    feb_east, feb_west = cells[("2026-02", "张华东")], cells[("2026-02", "陈华南")]
    # C1's 110 is repeat; 机床 110 is below its best 150 (January): neither cross- nor up-sell; retained.
    assert _depth(feb_east) == (D("110.00"), D("0.00"), D("110.00"), D("0.00"), D("0.00"))
    assert _breadth(feb_east) == (0, 1, 0, 0, 0) and feb_east.lengths == [637]
    # C3 last bought 2024-11-01, 466 days before 2026-02-10 (> 365): won back; 刀具 80 is new (cross-sell),
    # 机床 90 is below its 100. C4 came by referral in February.
    assert _depth(feb_west) == (D("170.00"), D("0.00"), D("170.00"), D("80.00"), D("0.00"))
    assert _breadth(feb_west) == (0, 0, 1, 0, 1) and feb_west.lengths == [1145]

    mar_east, mar_east2 = cells[("2026-03", "张华东")], cells[("2026-03", "李华东")]
    # C2's 刀具 70 beats its 60: up-sell; it did not buy in February, 37 days since: other returning.
    assert _depth(mar_east) == (D("70.00"), D("0.00"), D("70.00"), D("0.00"), D("70.00"))
    assert _breadth(mar_east) == (0, 0, 0, 1, 0) and mar_east.lengths == [70]  # to today, 03-31
    # C6's first order, without lines: first-purchase revenue only.
    assert _depth(mar_east2) == (D("500.00"), D("500.00"), D("0.00"), D("0.00"), D("0.00"))
    assert _breadth(mar_east2) == (1, 0, 0, 0, 0) and mar_east2.lengths == [30]

    assert _depth(r.total) == (D("1710.00"), D("660.00"), D("1050.00"), D("180.00"), D("640.00"))
    assert _breadth(r.total) == (2, 3, 1, 1, 1) and r.total.active == 7
    assert [(g.label, g.revenue, g.active) for g in r.groups] == [
        ("张华东", D("1040.00"), 5), ("李华东", D("500.00"), 1), ("陈华南", D("170.00"), 1)]  # fmt: skip
    assert [(p.label, p.revenue, p.active, p.referrals) for p in r.periods] == [
        ("2026-01", D("860.00"), 3, 0), ("2026-02", D("280.00"), 2, 1), ("2026-03", D("570.00"), 2, 0)]  # fmt: skip


def test_by_department_and_by_quarter(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    r = _report(cast.admin, group="department")
    assert [(g.label, g.revenue, _breadth(g)) for g in r.groups] == [
        ("华东销售部", D("1540.00"), (2, 3, 0, 1, 0)), ("华南销售部", D("170.00"), (0, 0, 1, 0, 1))]  # fmt: skip
    q = _report(cast.admin, bucket="quarter")
    assert [p.label for p in q.periods] == ["2026Q1"]
    # Once per quarter: C2 and C6 gained; C1 and C7 bought in 2025Q4: retained; C3 won back.
    assert _breadth(q.total) == (2, 2, 1, 0, 1)
    assert q.total.revenue == D("1710.00") and q.total.up_sell == D("640.00")


def test_lost_days_and_a_range_that_starts_inside_a_month(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    # With 500 days C3's gap of 466 is not a loss, and it did not buy in January: other returning.
    longer = _cells(_report(cast.admin, lost_days="500"))[("2026-02", "陈华南")]
    assert _breadth(longer) == (0, 0, 0, 1, 1)
    # From 01-06 C1's orders of 01-05 are history: it is not active in January, but in February it
    # bought in the previous month (the whole January): retained.
    late = _report(cast.admin, **{"from": "2026-01-06"})
    cells = _cells(late)
    assert _depth(cells[("2026-01", "张华东")])[:3] == (D("460.00"), D("160.00"), D("300.00"))
    assert _breadth(cells[("2026-01", "张华东")]) == (1, 1, 0, 0, 0)
    assert _breadth(cells[("2026-02", "张华东")]) == (0, 1, 0, 0, 0)
    assert late.periods[0].label == "2026-01"


def test_orders_dated_after_today_do_not_count(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    r = _report(cast.admin, to="2026-04-30")
    assert [p.label for p in r.periods] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert r.periods[-1].empty and r.total.revenue == D("1710.00")


def test_each_reader_sees_only_the_orders_they_may_see(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    west = _report(cast.rep_west)
    assert west.scope == "mine"
    # Only C3 and the referral: C7's December order is 陈华南's, but C7 is 张华东's customer.
    assert _depth(west.total) == (D("170.00"), D("0.00"), D("170.00"), D("80.00"), D("0.00"))
    assert _breadth(west.total) == (0, 0, 1, 0, 1)
    assert [g.label for g in west.groups] == ["陈华南"]
    east = _report(cast.rep_east)
    jan = _cells(east)[("2026-01", "张华东")]
    # 张华东 does not see 陈华南's December order of C7: for him C7's 300 is a first purchase (gained).
    assert _depth(jan) == (D("860.00"), D("460.00"), D("400.00"), D("100.00"), D("270.00"))
    assert _breadth(jan) == (2, 1, 0, 0, 0)
    assert {g.label for g in east.groups} == {"张华东"}
    manager = _report(cast.manager_east)
    assert {g.label for g in manager.groups} == {"张华东", "李华东"}
    assert manager.total.referrals == 0 and manager.total.won_back == 0
    mine = _report(cast.manager_east, scope="mine")
    assert mine.empty and mine.total.revenue == 0


def test_the_scope_only_chooses_the_rows_counted(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    # The admin's 本人 scope counts nothing of the reps; 全部 per person equals each person's share.
    assert _report(cast.admin, scope="mine").empty
    team = _report(cast.manager_east, scope="team")
    assert {g.label: g.revenue for g in team.groups} == {"张华东": D("1040.00"), "李华东": D("500.00")}
    with pytest.raises(PermissionDenied) as err:
        _report(cast.rep_west, scope="all")
    assert err.value.field == "scope"


@pytest.mark.parametrize(
    ("filters", "field"),
    [({"group": "region"}, "group"), ({"bucket": "week"}, "bucket"), ({"period": "decade"}, "period"),
     ({"from": "2026-13-01"}, "from"), ({"to": "2025-01-01"}, "to"), ({"lost_days": "abc"}, "lost_days"),
     ({"lost_days": "10"}, "lost_days"), ({"scope": "galaxy"}, "scope"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_bad_filters_name_their_field(cast: SimpleNamespace, filters: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        _report(cast.admin, **filters)
    assert err.value.field == field


def test_the_rules_alone_on_plain_facts() -> None:
    """``compute`` without a database: prior history, same-day orders, an order outside the scope."""
    jan = Bucket("2026-01-01", "2026-01", dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 1, 31))
    orders = [
        OrderFact(1, 7, dt.date(2026, 1, 3), D("50.00"), 2, None),  # another owner's, first in January
        OrderFact(2, 7, dt.date(2026, 1, 9), D("80.00"), 1, None),
    ]
    lines = {1: [LineFact("A", D("50.00"), D("50.00"))], 2: [LineFact("A", D("40.00"), D("40.00")),
                                                              LineFact("A", D("40.00"), D("40.00"))]}  # fmt: skip
    prior = {7: Prior(dt.date(2025, 6, 1), dt.date(2025, 6, 1), {"A": D("45.00")})}
    cells = compute(
        buckets=[jan], bucket="month", orders=orders, lines=lines, prior=prior, created={},
        referrals=[], group=lambda owner, dept: owner, counted=lambda owner: owner == 1, lost_days=180,
        today=dt.date(2026, 3, 1),
    )  # fmt: skip
    # Order 1 (owner 2) is not counted but is history: owner 1's 40s are below its 50, not up-sell. The
    # customer's class in January belongs to order 1's owner (won back: 216 days), so owner 1 has none.
    assert set(cells) == {("2026-01-01", 1)}
    c = cells[("2026-01-01", 1)]
    assert (c.revenue, c.repeat_revenue, c.cross_sell, c.up_sell, c.active) == (
        D("80.00"),
        D("80.00"),
        0,
        0,
        0,
    )


def test_the_api_returns_the_figures_and_refuses_bad_filters(
    ledger: SimpleNamespace, cast: SimpleNamespace, api_as: Any
) -> None:
    with freeze_time(dt.datetime.fromisoformat(NOW).replace(tzinfo=SH)):
        body = api_as(cast.admin).get("/api/v1/analytics/relationship", Q1).json()
        west = api_as(cast.rep_west).get("/api/v1/analytics/relationship", Q1).json()
        bad = api_as(cast.admin, language="en").get("/api/v1/analytics/relationship", {"group": "region"})
        bad_period = api_as(cast.admin).get("/api/v1/analytics/relationship", {"period": "decade"})
        denied = api_as(cast.rep_west).get("/api/v1/analytics/relationship", {"scope": "all"})
        first = api_as(cast.admin).get("/api/v1/analytics/relationship", {**Q1, "limit": 2}).json()
        rest = (
            api_as(cast.admin).get("/api/v1/analytics/relationship", {**Q1, "limit": 2, "offset": 2}).json()
        )
        bad_limit = api_as(cast.admin).get("/api/v1/analytics/relationship", {**Q1, "limit": 0})
        bad_offset = api_as(cast.admin).get("/api/v1/analytics/relationship", {**Q1, "offset": "x"})
    # The cells a page at a time, in the report's order; the totals whole on every page.
    assert first["cells_count"] == body["cells_count"] == len(body["cells"]) > 2
    assert first["cells"] + rest["cells"] == body["cells"][:4] and rest["cells_count"] == body["cells_count"]
    assert len(first["cells"]) == 2 and first["total"] == rest["total"] == body["total"]
    assert bad_limit.status_code == 422 and bad_limit.json()["field"] == "limit"
    assert bad_offset.status_code == 422 and bad_offset.json()["field"] == "offset"
    total = body["total"]
    assert (total["revenue"], total["repeat_revenue"], total["cross_sell"], total["up_sell"]) == (
        "1710.00", "1050.00", "180.00", "640.00")  # fmt: skip
    assert (total["gained"], total["retained"], total["won_back"], total["referrals"]) == (2, 3, 1, 1)
    assert body["date_from"] == "2026-01-01" and body["group"] == "owner" and len(body["periods"]) == 3
    assert {c["period"] for c in body["cells"]} == {"2026-01", "2026-02", "2026-03"}
    assert west["scope"] == "mine" and west["total"]["revenue"] == "170.00" and "张华东" not in str(west)
    assert (
        bad.status_code == 422
        and bad.json()["field"] == "group"
        and "owner, department" in bad.json()["message"]
    )
    assert bad_period.status_code == 422 and bad_period.json()["field"] == "period"
    assert denied.status_code == 403 and denied.json()["field"] == "scope"


def test_the_page_its_empty_state_and_a_bad_filter(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    admin, west = signed_in(cast.admin), None
    with freeze_time(dt.datetime.fromisoformat(NOW).replace(tzinfo=SH)):
        page = admin.get(reverse("analytics:relationship"), Q1)
        west = signed_in(cast.rep_west)
        mine = west.get(reverse("analytics:relationship"), Q1)
        empty = west.get(
            reverse("analytics:relationship"), {"period": "custom", "from": "2025-01-01", "to": "2025-01-31"}
        )
        bad = west.get(reverse("analytics:relationship"), {"group": "region"})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="nav-relationship"' in html
    assert 'data-testid="chart-depth"' in html and 'data-testid="chart-breadth"' in html
    assert 'data-testid="stat-breadth">2 / 3 / 1<' in html
    assert html.count('data-testid="by-group-row"') == 3 and html.count('data-testid="cells-row"') == 5
    assert mine.status_code == 200 and "张华东" not in mine.content.decode()
    assert empty.status_code == 200 and 'data-testid="empty"' in empty.content.decode()
    assert bad.status_code == 200 and 'data-testid="relationship-error"' in bad.content.decode()
    assert "owner, department" in bad.content.decode()


def test_the_export_is_a_workbook_with_the_same_figures(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    with freeze_time(dt.datetime.fromisoformat(NOW).replace(tzinfo=SH)):
        response = client.get(reverse("analytics:relationship_export"), {**Q1, "group": "department"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["按期间", "按部门", "明细"]
    periods = [r[:6] for r in book["按期间"].iter_rows(min_row=2, values_only=True)]
    assert periods[-1] == ("合计", 1710, 660, 1050, 180, 640)
    groups = [
        (r[0], r[1], r[8], r[9], r[10], r[11]) for r in book["按部门"].iter_rows(min_row=2, values_only=True)
    ]
    assert groups[:2] == [("华东销售部", 1540, 6, 2, 3, 0), ("华南销售部", 170, 1, 0, 0, 1)]
    detail = [r[:3] for r in book["明细"].iter_rows(min_row=2, values_only=True)]
    assert detail == [("2026-01", "华东销售部", 860), ("2026-02", "华东销售部", 110), ("2026-02", "华南销售部", 170),
                      ("2026-03", "华东销售部", 570)]  # fmt: skip


def _every_figure(r: Any) -> list[Any]:
    rows = [r.total, *r.periods, *r.groups] + [c for _p, c in r.cells]
    return [
        (f.key, f.label, _depth(f), _breadth(f), f.active, sorted(np.asarray(f.lengths).tolist()))
        for f in rows
    ]


def _readers(cast: SimpleNamespace) -> list[tuple[Any, dict[str, str]]]:
    return [(cast.admin, {}), (cast.admin, {"group": "department", "bucket": "quarter"}),
            (cast.rep_east, {}), (cast.manager_east, {"scope": "team", "lost_days": "90"})]  # fmt: skip


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="SQLite files are read through ADBC"
)
def test_the_ledger_read_side_by_side_from_an_sqlite_file_gives_the_same_report(
    ledger: SimpleNamespace, cast: SimpleNamespace, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import connection, connections

    from kehu.analytics import facts

    own = [_every_figure(_report(actor, **f)) for actor, f in _readers(cast)]
    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    path.write_bytes(connection.connection.serialize())  # the ledger as this connection sees it
    monkeypatch.setattr(facts, "_sqlite_file", lambda: str(path))
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)  # as a request outside one
    from kehu.analytics import sqlite_adbc

    children: list[str] = []
    real_start = sqlite_adbc.start_query
    monkeypatch.setattr(sqlite_adbc, "start_query", lambda *a: children.append("read") or real_start(*a))
    through_arrow, reads = [], []
    for actor, f in _readers(cast):
        children.clear()
        through_arrow.append(_every_figure(_report(actor, **f)))
        reads.append(len(children))
    assert through_arrow == own
    # The admin's and the manager's ledgers are read by child processes; the rep's (one owner's) on the
    # request's connection, where starting the processes would cost more than its rows.
    assert reads[0] > 0 and reads[3] > 0 and reads[2] == 0
    assert own[0][0][2][0] == D("1710.00")  # the whole company's revenue, as worked out by hand above


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="other connections read PostgreSQL"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_ledger_read_on_other_connections_gives_the_report_read_on_the_request_connection(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    from django.db import transaction

    outside = [_every_figure(_report(actor, **f)) for actor, f in _readers(cast)]  # ADBC, side by side
    with transaction.atomic():  # inside one: the request's own connection reads everything
        inside = [_every_figure(_report(actor, **f)) for actor, f in _readers(cast)]
    assert outside == inside
    assert inside[0][0][2][0] == D("1710.00")


# --- the stored periods (ADR 0019) ------------------------------------------------------------------------


def _store(day: str = "2026-03-31") -> dict[str, Any]:
    from kehu.analytics.relationship import store_periods

    with freeze_time(dt.datetime.fromisoformat(f"{day} 03:30").replace(tzinfo=SH)):
        return store_periods(today=dt.date.fromisoformat(day))


def _at(when: str, actor: Any, **filters: Any) -> Any:
    with freeze_time(dt.datetime.fromisoformat(when).replace(tzinfo=SH)):
        return selectors.relationship_report(actor=actor, filters=filters)


def test_company_orders_are_the_orders_a_reader_of_everything_sees(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    from kehu.analytics.relationship import company_orders, reads_everything, visible_orders

    assert reads_everything(cast.admin) and not reads_everything(cast.manager_east)
    assert str(visible_orders(cast.admin).query) == str(company_orders().query)
    assert set(company_orders().values_list("pk", flat=True)) == set(
        visible_orders(cast.admin).values_list("pk", flat=True)
    )


@pytest.mark.parametrize(
    "filters",
    [{**Q1}, {**Q1, "group": "department"}, {**Q1, "bucket": "quarter"}, {**Q1, "scope": "mine"},
     {"period": "custom", "from": "2025-10-01", "to": "2025-12-31", "bucket": "quarter"},
     {"period": "custom", "from": "2025-12-01", "to": "2026-02-28", "group": "department"},
     {"period": "year"}, {"period": "quarter"}, {"period": "month"}],
)  # fmt: skip
def test_the_stored_periods_give_the_live_figures(
    ledger: SimpleNamespace, cast: SimpleNamespace, filters: dict[str, str]
) -> None:
    stored = _store()
    # 2025 and 2026 to 03-31: 12 + 3 months, 4 + 1 quarters; a cell per period and (owner, department).
    # Three ledgers: the company's, 王经理's (华东) and 吴理财's (with 郑助理) — the readers of more than one
    # owner's orders.
    assert (stored["as_of"], stored["ledgers"], stored["periods"]) == ("2026-03-31", 3, 60)
    assert set(stored["seconds_by_ledger"]) == {"all", "manager_east", "rm"}
    assert stored["cells"] > 0
    kept = _at(NOW, cast.admin, **filters)
    live = _at(NOW, cast.admin, **filters, live="1")
    assert kept.stored and kept.as_of == dt.date(2026, 3, 31) and not live.stored and live.as_of is None
    assert _every_figure(kept) == _every_figure(live)
    assert [p.label for p in kept.periods] == [p.label for p in live.periods]


def test_the_stored_periods_hold_the_hand_worked_figures(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    _store()
    r = _at(NOW, cast.admin, **Q1)
    assert r.stored
    assert _depth(r.total) == (D("1710.00"), D("660.00"), D("1050.00"), D("180.00"), D("640.00"))
    assert _breadth(r.total) == (2, 3, 1, 1, 1)
    jan = _cells(r)[("2026-01", "张华东")]
    assert sorted(jan.lengths) == [11, 61, 609] and (jan.mean_days, jan.median_days) == (227.0, 61.0)


def test_when_the_report_is_computed_live_instead(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    _store()
    # Another lost-customer gap; a range starting inside a month; a reader who does not see every order.
    assert not _at(NOW, cast.admin, **Q1, lost_days="500").stored
    assert not _at(NOW, cast.admin, **{**Q1, "from": "2026-01-06"}).stored
    assert not _at(NOW, cast.admin, **{**Q1, "to": "2026-02-15"}).stored  # the last month cut short
    assert not _at(NOW, cast.rep_east, **Q1).stored  # one owner's orders: not stored
    assert not _at(NOW, cast.admin, period="custom", **{"from": "2024-01-01", "to": "2024-12-31"}).stored
    # A day later the periods of 03-31 still answer (as of that day); a month begun since they were
    # stored, or two days later, is computed live.
    assert _at("2026-04-01 09:00", cast.admin, **Q1).as_of == dt.date(2026, 3, 31)
    assert not _at(
        "2026-04-01 09:00", cast.admin, period="custom", **{"from": "2026-03-01", "to": "2026-04-30"}
    ).stored
    assert not _at("2026-04-02 09:00", cast.admin, **Q1).stored
    # Periods stored as of a later day than the reader's today are not used either.
    assert not _at("2026-03-30 09:00", cast.admin, **{**Q1, "to": "2026-02-28"}).stored
    # Storing again replaces every period.
    again = _store("2026-04-01")
    assert again["periods"] == 3 * 22 and _at("2026-04-01 09:00", cast.admin, **Q1).as_of == dt.date(
        2026, 4, 1
    )


@pytest.mark.parametrize(
    ("reader", "filters"),
    [("manager_east", {**Q1}), ("manager_east", {**Q1, "scope": "team"}),
     ("manager_east", {**Q1, "scope": "mine"}), ("manager_east", {"period": "year", "group": "department"}),
     ("manager_east", {"period": "custom", "from": "2025-10-01", "to": "2025-12-31", "bucket": "quarter"}),
     ("rm", {**Q1}), ("rm", {"period": "year", "bucket": "quarter"})],
)  # fmt: skip
def test_a_managers_stored_periods_give_their_own_live_figures(
    ledger: SimpleNamespace, cast: SimpleNamespace, reader: str, filters: dict[str, str]
) -> None:
    # 王经理 does not see 陈华南's orders: for him C7's January order is a first purchase, not a repeat —
    # his stored periods are read from his orders, not cut from the company's.
    _store()
    actor = getattr(cast, reader)
    kept = _at(NOW, actor, **filters)
    live = _at(NOW, actor, **filters, live="1")
    assert kept.stored and kept.as_of == dt.date(2026, 3, 31) and not live.stored
    assert _every_figure(kept) == _every_figure(live)


def test_a_managers_report_is_live_when_their_rules_changed_since_the_store(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    from kehu.access.models import User
    from kehu.analytics.relationship import COMPANY_LEDGER, ledger_of
    from kehu.customers.models import CustomerCollaborator

    _store()
    manager = User.objects.get(pk=cast.manager_east.pk)
    kept = _at(NOW, manager, **Q1)
    assert kept.stored and ledger_of(manager) not in (None, COMPANY_LEDGER)
    assert ledger_of(cast.rep_east) is None and ledger_of(cast.admin) == COMPANY_LEDGER
    # 陈华南 joins 华东: 王经理 now reads his orders too — a digest no store wrote, so the report is live.
    User.objects.filter(pk=cast.rep_west.pk).update(department=cast.east)
    manager = User.objects.get(pk=cast.manager_east.pk)
    moved = _at(NOW, manager, **Q1)
    assert not moved.stored and "陈华南" in {g.label for g in moved.groups}
    assert moved.total.revenue > kept.total.revenue
    _store()
    again = _at(NOW, manager, **Q1)
    assert again.stored and _every_figure(again) == _every_figure(_at(NOW, manager, **Q1, live="1"))
    # A collaboration is data, like an order: the digest stays, and the stored periods answer until the
    # next store (or live=1).
    digest = ledger_of(manager)
    CustomerCollaborator.objects.create(customer=ledger.c3, user=manager)
    fresh = User.objects.get(pk=manager.pk)
    assert ledger_of(fresh) == digest and _at(NOW, fresh, **Q1).stored


def test_the_stored_report_is_as_of_its_day_and_live_on_request(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any, api_as: Any
) -> None:
    _store()
    # An order entered the next morning, dated 03-31: not in the stored figures until the next store.
    _order(ledger.c6, cast.rep_east2, "2026-03-31", [], admin=cast.admin, amount="100")
    kept = _at("2026-04-01 09:00", cast.admin, **Q1)
    live = _at("2026-04-01 09:00", cast.admin, **Q1, live="1")
    assert (kept.total.revenue, live.total.revenue) == (D("1710.00"), D("1810.00"))
    with freeze_time(dt.datetime.fromisoformat("2026-04-01 09:00").replace(tzinfo=SH)):
        page = signed_in(cast.admin).get(reverse("analytics:relationship"), Q1).content.decode()
        live_page = (
            signed_in(cast.admin).get(reverse("analytics:relationship"), {**Q1, "live": "1"}).content.decode()
        )
        body = api_as(cast.admin).get("/api/v1/analytics/relationship", Q1).json()
        live_body = api_as(cast.admin).get("/api/v1/analytics/relationship", {**Q1, "live": "1"}).json()
        bad = api_as(cast.admin, language="en").get("/api/v1/analytics/relationship", {**Q1, "live": "maybe"})
    assert (
        'data-testid="stored-as-of"' in page and "2026-03-31" in page and 'data-testid="compute-live"' in page
    )
    assert 'data-testid="stored-as-of"' not in live_page and 'data-testid="computed-live"' in live_page
    assert (body["stored"], body["as_of"], body["total"]["revenue"]) == (True, "2026-03-31", "1710.00")
    assert (live_body["stored"], live_body["as_of"], live_body["total"]["revenue"]) == (
        False,
        None,
        "1810.00",
    )
    assert bad.status_code == 422 and bad.json()["field"] == "live"


def test_the_refresh_stores_the_periods(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    from kehu.analytics.models import RelationshipPeriod
    from kehu.analytics.refresh import refresh_all

    steps: list[int] = []
    with freeze_time(dt.datetime.fromisoformat("2026-03-31 03:30").replace(tzinfo=SH)):
        run = refresh_all(as_of=dt.date(2026, 3, 31), progress=lambda pct, _msg: steps.append(pct))
    assert run.summary["relationship"]["periods"] == 3 * 20 == RelationshipPeriod.objects.count()
    assert steps == sorted(steps) and steps[-1] == 100
    assert _at(NOW, cast.admin, **Q1).stored


def test_the_page_shows_the_detail_a_page_at_a_time(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    admin = signed_in(cast.admin)
    with freeze_time(dt.datetime.fromisoformat(NOW).replace(tzinfo=SH)):
        first = admin.get(reverse("analytics:relationship"), {**Q1, "limit": "2"}).content.decode()
        last = admin.get(
            reverse("analytics:relationship"), {**Q1, "limit": "2", "offset": "4"}
        ).content.decode()
        bad = admin.get(reverse("analytics:relationship"), {**Q1, "limit": "0"}).content.decode()
    assert first.count('data-testid="cells-row"') == 2 and "第 1–2 条，共 5 条" in first
    assert 'data-testid="next"' in first and "offset=2" in first
    assert last.count('data-testid="cells-row"') == 1 and "第 5–5 条，共 5 条" in last
    # The tables above the detail are whole: three people, three months.
    assert first.count('data-testid="by-group-row"') == 3 and first.count('data-testid="by-period-row"') == 3
    assert 'data-testid="relationship-error"' in bad and bad.count('data-testid="cells-row"') == 5
