"""Value per customer over a period and its Pareto concentration (ANA-1 by period): the overview's 期间价值
card, its export and ``GET /api/v1/analytics/value``, on a ledger worked out by hand.

The ledger (today 2026-03-31; orders of 张华东 unless said):

* A: 2025-12-20 300; 2026-01-10 1,000 (cost 600); 2026-02-01 500 (cost unknown).
* B: 2026-03-05 200 (cost 150).
* C (陈华南's customer and order): 2026-01-15 800.
* D: 2026-01-20 999, cancelled.
* E: 2026-02-10 700, then the customer was deleted.

First quarter of 2026: A 1,500, C 800, B 200 — revenue 2,500 from three buyers; profit of the orders of known
cost 400 + 50 = 450.
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
from django.urls import reverse
from freezegun import freeze_time

from kehu.analytics import selectors
from kehu.analytics.refresh import refresh
from kehu.analytics.rfm import concentration
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers.models import Customer
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order
from kehu.sales.tests.factories import make_customer

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 31, 10, 0, tzinfo=SH)
Q1 = {"period": "custom", "from": "2026-01-01", "to": "2026-03-31"}
D = Decimal
_numbers = iter(range(1, 10_000))


@pytest.fixture(autouse=True)
def _urls_loaded() -> None:
    import config.urls  # noqa: F401  (the URLconf and API schemas, before time is frozen)


def _order(customer: Customer, owner: Any, day: str, amount: str, *, admin: Any, cost: str | None = None,
           status: str = OrderStatus.DELIVERED) -> Order:  # fmt: skip
    return Order.objects.create(
        number=f"PV{next(_numbers):06d}", customer=customer, order_date=dt.date.fromisoformat(day), status=status,
        total_amount=D(amount), cost_amount=None if cost is None else D(cost), owner=owner,
        department=owner.department, created_by=admin,
    )  # fmt: skip


@pytest.fixture
def ledger(cast: SimpleNamespace) -> SimpleNamespace:
    east, west, admin = cast.rep_east, cast.rep_west, cast.admin
    a, b, c, d = make_customer(east), make_customer(east), make_customer(west), make_customer(east)
    _order(a, east, "2025-12-20", "300", admin=admin)
    _order(a, east, "2026-01-10", "1000", admin=admin, cost="600")
    _order(a, east, "2026-02-01", "500", admin=admin)
    _order(b, east, "2026-03-05", "200", admin=admin, cost="150")
    _order(c, west, "2026-01-15", "800", admin=admin)
    _order(d, east, "2026-01-20", "999", admin=admin, status=OrderStatus.CANCELLED)
    gone = make_customer(east)  # deleted after its order: in no scope's figures
    _order(gone, east, "2026-02-10", "700", admin=admin)
    Customer.objects.filter(pk=gone.pk).update(deleted_at=NOW)
    with freeze_time(NOW):
        refresh(as_of=NOW.date())
    return SimpleNamespace(a=a, b=b, c=c, d=d)


def _value(actor: Any, **filters: Any) -> Any:
    scope = filters.pop("scope", None)
    with freeze_time(NOW):
        return selectors.period_value(actor=actor, scope=scope, filters=filters)


def test_the_first_quarter_by_hand(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    v = _value(cast.admin, **Q1)
    assert (v.scope, v.range.start, v.range.end, v.as_of) == (
        "all",
        dt.date(2026, 1, 1),
        NOW.date(),
        NOW.date(),
    )
    assert (v.revenue, v.buyers, v.profit) == (D("2500.00"), 3, D("450.00"))
    expected = concentration(np.array([1500.0, 800.0, 200.0]))
    assert v.pareto is not None and v.pareto["n"] == 3 and v.pareto["total"] == pytest.approx(2500.0)
    assert v.pareto["top_value_share"] == pytest.approx(expected.top_value_share)
    assert v.pareto["curve"] == expected.curve
    # Profit over the two buyers whose orders of the quarter have a known cost: A 400, B 50.
    assert v.pareto_profit is not None and v.pareto_profit["n"] == 2
    assert v.pareto_profit["total"] == pytest.approx(450.0)


def test_the_whole_company_is_every_live_customer(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    """The 全部 scope reads all purchase days less the deleted or merged customers' (selectors.period_value):
    that is the rule of ``visible_to`` for a reader who sees everything."""
    from kehu.customers.models import LIVE, sees_every_customer

    assert sees_every_customer(cast.admin) and not sees_every_customer(cast.manager_east)
    assert set(Customer.objects.visible_to(cast.admin).values_list("pk", flat=True)) == set(
        Customer.objects.filter(LIVE).values_list("pk", flat=True)
    )


def test_the_period_and_the_scope_choose_the_orders(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    # 本月 (March): B only. 本年 (default): the quarter's orders (none later). December 2025: A's 300.
    assert (_value(cast.admin, period="month").revenue, _value(cast.admin, period="month").buyers) == (
        D("200.00"),
        1,
    )
    assert _value(cast.admin).revenue == D("2500.00") and _value(cast.admin).range.period == "year"
    december = _value(cast.admin, period="custom", **{"from": "2025-12-01", "to": "2025-12-31"})
    assert (december.revenue, december.buyers, december.profit) == (D("300.00"), 1, None)
    assert december.pareto_profit is None
    # A rep sees their own customers: 陈华南 has C alone; 张华东 A and B.
    assert (_value(cast.rep_west, **Q1).revenue, _value(cast.rep_west, **Q1).buyers) == (D("800.00"), 1)
    assert _value(cast.rep_east, **Q1).revenue == D("1700.00")
    assert _value(cast.manager_east, **Q1, scope="mine").buyers == 0
    empty = _value(cast.admin, period="custom", **{"from": "2024-01-01", "to": "2024-12-31"})
    assert (empty.revenue, empty.buyers, empty.pareto, empty.pareto_profit) == (D("0.00"), 0, None, None)


def test_orders_after_the_refresh_count_from_the_next_one(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    _order(ledger.b, cast.rep_east, "2026-03-30", "100", admin=cast.admin)
    assert _value(cast.admin, **Q1).revenue == D("2500.00")
    with freeze_time(NOW):
        refresh(as_of=NOW.date())
    assert _value(cast.admin, **Q1).revenue == D("2600.00")


@pytest.mark.parametrize(
    ("filters", "field"),
    [({"period": "decade"}, "period"), ({"period": "custom", "from": "2026-02-30", "to": "2026-03-01"}, "from"),
     ({"period": "custom", "from": "2026-01-01"}, "to"), ({"colour": "red"}, "colour")],
)  # fmt: skip
def test_bad_filters_name_their_field(
    ledger: SimpleNamespace, cast: SimpleNamespace, filters: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationError) as err:
        _value(cast.admin, **filters)
    assert err.value.field == field


def test_a_scope_beyond_the_roles_is_refused(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    with pytest.raises(PermissionDenied) as err:
        _value(cast.rep_west, scope="all")
    assert err.value.field == "scope"


def test_the_overview_card_the_export_and_the_api(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any, api_as: Any
) -> None:
    client = signed_in(cast.admin)
    with freeze_time(NOW):
        plain = client.get(reverse("analytics:overview"), {"scope": "all"}).content.decode()
        page = client.get(reverse("analytics:overview"), {"scope": "all", **Q1}).content.decode()
        bad = client.get(reverse("analytics:overview"), {"scope": "all", "period": "decade"}).content.decode()
        book = client.get(reverse("analytics:overview_export"), {"scope": "all", **Q1})
        body = api_as(cast.admin).get("/api/v1/analytics/value", {"scope": "all", **Q1}).json()
        west = api_as(cast.rep_west).get("/api/v1/analytics/value", Q1).json()
        refused = api_as(cast.admin, language="en").get("/api/v1/analytics/value", {"period": "decade"})
    # Without a period the card only offers one: its figures read the purchase days, the page the run.
    assert 'data-testid="value-hint"' in plain and 'data-testid="value-revenue"' not in plain
    assert 'data-testid="value-buyers">3<' in page and 'data-testid="chart-period-pareto"' in page
    assert 'data-testid="value-top20"' in page and "2026-01-01 — 2026-03-31" in page
    assert 'data-testid="value-error"' in bad and 'data-testid="stat-customers"' in bad
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert "期间帕累托" in sheets.sheetnames
    rows = list(sheets["期间帕累托"].iter_rows(min_row=2, values_only=True))
    assert rows[0] == (0, 0) and rows[-1][0] == 1 and rows[-1][1] == pytest.approx(1.0)
    assert (body["revenue"], body["buyers"], body["profit"], body["as_of"]) == (
        "2500.00",
        3,
        "450.00",
        "2026-03-31",
    )
    assert body["pareto"]["n"] == 3 and body["date_from"] == "2026-01-01"
    assert (west["scope"], west["revenue"], west["buyers"]) == ("mine", "800.00", 1)
    assert refused.status_code == 422 and refused.json()["field"] == "period"


def test_the_trend_of_the_refreshes_in_a_period(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any, api_as: Any
) -> None:
    from kehu.analytics.models import AnalyticsRun

    with freeze_time(NOW - dt.timedelta(days=1)):
        refresh(as_of=NOW.date() - dt.timedelta(days=1))
    # A second refresh on 03-31, after an order: the day's last refresh is the day's point.
    _order(ledger.b, cast.rep_east, "2026-03-31", "100", admin=cast.admin)
    with freeze_time(NOW + dt.timedelta(hours=1)):
        last = refresh(as_of=NOW.date())
    last.refresh_from_db()
    with freeze_time(NOW):
        trend = selectors.refresh_trend(actor=cast.admin, filters=Q1)
        assert [p.as_of for p in trend.points] == [dt.date(2026, 3, 30), dt.date(2026, 3, 31)]
        point = trend.points[-1]
        assert point.buyers == last.summary["buyers"] == 3 and point.customers == last.summary["customers"]
        assert sum(point.classes.values()) == 3 and sum(point.lifecycle.values()) == point.customers
        assert point.churn == last.summary["churn"]["flagged"]
        assert selectors.refresh_trend(actor=cast.admin, filters={"period": "month"}).points[
            0
        ].as_of == dt.date(2026, 3, 30)
        assert not selectors.refresh_trend(actor=cast.admin, filters={"period": "custom", "from": "2025-01-01",
                                                                       "to": "2025-12-31"}).points  # fmt: skip
        with pytest.raises(PermissionDenied) as err:
            selectors.refresh_trend(actor=cast.manager_east, scope="all", filters=Q1)
        assert err.value.field == "scope"
        page = (
            signed_in(cast.admin).get(reverse("analytics:overview"), {"scope": "all", **Q1}).content.decode()
        )
        body = api_as(cast.admin).get("/api/v1/analytics/trend", Q1).json()
        denied = api_as(cast.rep_east).get("/api/v1/analytics/trend", {"scope": "all", **Q1})
    assert 'data-testid="chart-trend"' in page and "2 次刷新" in page and "（全公司）" in page
    assert [i["as_of"] for i in body["items"]] == ["2026-03-30", "2026-03-31"] and body["items"][-1][
        "buyers"
    ] == 3
    assert body["scope"] == "all" and body["items"][-1]["top_value_share"] is not None
    assert denied.status_code == 403 and denied.json()["field"] == "scope"
    assert AnalyticsRun.objects.count() == 3


def _scope_figures(actor: Any, scope: str) -> dict[str, Any]:
    """The overview's figures of a scope today (read from the score rows of the customers it owns now)."""
    f = selectors.overview(actor=actor, scope=scope).figures
    return {
        "customers": f["customers"], "buyers": f["buyers"], "churn": f["churn"]["flagged"],
        "classes": {c["class"]: c["count"] for c in f["classes"] if c["count"]},
        "lifecycle": {k: v for k, v in f["lifecycle"].items() if v},
    }  # fmt: skip


def test_a_narrower_scope_has_a_trend_of_its_owners_customers(
    ledger: SimpleNamespace, cast: SimpleNamespace, signed_in: Any, api_as: Any
) -> None:
    from kehu.analytics.models import AnalyticsRun, CustomerScore, OwnerFigures

    first = AnalyticsRun.objects.get()  # the ledger's refresh of 03-31, 10:00
    with freeze_time(NOW - dt.timedelta(days=1)):
        refresh(as_of=NOW.date() - dt.timedelta(days=1))
    with freeze_time(NOW):
        # The day's point is the same as the scope's overview: two paths (owners' stored figures, score rows).
        for actor, scope in ((cast.rep_east, "mine"), (cast.rep_west, "mine"), (cast.manager_east, "dept")):
            point = selectors.refresh_trend(actor=actor, scope=scope, filters=Q1).points[-1]
            expected = _scope_figures(actor, scope)
            assert point.as_of == NOW.date() and point.top_value_share is None
            assert {k: getattr(point, k) for k in expected} == expected, (actor, scope)
        east = selectors.refresh_trend(actor=cast.rep_east, scope="mine", filters=Q1).points[-1]
        assert east.buyers == 2 and sum(east.classes.values()) == 2  # A and B (D's only order is cancelled)
        clv = CustomerScore.objects.filter(customer__owner=cast.rep_east, clv__isnull=False).values_list(
            "clv", flat=True
        )
        assert (
            east.clv_total is None and not clv
        )  # three buyers: no lifetime model (summaries' test has CLVs)
    # B moves to 陈华南 and is refreshed again the same day: the day's point follows the day's last refresh,
    # and the earlier day still counts B for 张华东 — a trend shows whom each customer belonged to then.
    Customer.objects.filter(pk=ledger.b.pk).update(owner=cast.rep_west)
    with freeze_time(NOW + dt.timedelta(hours=1)):
        last = refresh(as_of=NOW.date())
    with freeze_time(NOW):
        east_days = selectors.refresh_trend(actor=cast.rep_east, scope="mine", filters=Q1).points
        west_days = selectors.refresh_trend(actor=cast.rep_west, scope="mine", filters=Q1).points
    assert [(p.as_of.day, p.buyers) for p in east_days] == [(30, 2), (31, 1)]
    assert [(p.as_of.day, p.buyers) for p in west_days] == [(30, 1), (31, 2)]
    assert not OwnerFigures.objects.filter(run=first).exists()  # replaced by the day's last refresh
    last.refresh_from_db()
    assert OwnerFigures.objects.filter(run=last).count() == last.summary["owners"] > 0
    # A day whose refresh kept no owners' figures (before they were kept) has no point in a narrower scope.
    before = AnalyticsRun.objects.get(as_of=NOW.date() - dt.timedelta(days=1))
    before.summary = {k: v for k, v in before.summary.items() if k != "owners"}
    before.save(update_fields=["summary"])
    with freeze_time(NOW):
        assert [
            p.as_of.day for p in selectors.refresh_trend(actor=cast.rep_east, scope="mine", filters=Q1).points
        ] == [31]
        assert len(selectors.refresh_trend(actor=cast.admin, scope="all", filters=Q1).points) == 2
        with pytest.raises(ValidationError) as err:
            selectors.refresh_trend(actor=cast.rep_east, scope="everyone", filters=Q1)
        assert err.value.field == "scope"
        rep = signed_in(cast.rep_east)
        page = rep.get(reverse("analytics:overview"), Q1).content.decode()
        empty = rep.get(reverse("analytics:overview"), {"period": "custom", "from": "2025-01-01",
                                                       "to": "2025-12-31"}).content.decode()  # fmt: skip
        book = rep.get(reverse("analytics:overview_export"), Q1)
        body = api_as(cast.rep_east).get("/api/v1/analytics/trend", Q1).json()
        team = api_as(cast.manager_east).get("/api/v1/analytics/trend", {"scope": "dept", **Q1}).json()
    assert 'data-testid="chart-trend"' in page and "（本人，按负责人）" in page and "1 次刷新" in page
    assert 'data-testid="trend-empty"' in empty and "没有按负责人保存汇总的刷新" in empty
    rows = list(openpyxl.load_workbook(io.BytesIO(book.content))["期间刷新趋势"].iter_rows(values_only=True))
    assert rows[0][:3] == ("数据截至", "客户数", "有成交的客户") and len(rows) == 2
    assert rows[1][0].date() == NOW.date() and rows[1][2] == 1
    assert body["scope"] == "mine" and [
        (i["as_of"], i["buyers"], i["top_value_share"]) for i in body["items"]
    ] == [("2026-03-31", 1, None)]
    assert team["scope"] == "dept" and team["items"][-1]["buyers"] == 1
