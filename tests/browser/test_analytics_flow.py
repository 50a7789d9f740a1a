"""The analytics overview in the browser (ANA-1 … ANA-5): after ``kehu demo`` (whose last step is an
analytics refresh) the administrator's 全部 view draws its ECharts charts, lists the eight RFM classes,
and the churn watch list shows each flagged customer with its reasons."""

from __future__ import annotations

import re

import pytest

from .conftest import LiveKehu, browser_required, login

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - requirements/test.txt installs it
    if browser_required():
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser


def test_the_overview_draws_its_charts_and_the_churn_list_gives_reasons(
    page: Page, live_kehu: LiveKehu
) -> None:
    login(page, live_kehu, "admin")
    page.goto("/analytics/?scope=all")
    expect(page.get_by_test_id("run-info")).to_contain_text("数据截至")
    expect(page.get_by_test_id("stat-customers")).not_to_have_text("0")
    # ECharts draws into a <canvas> inside each chart's box.
    for chart in ("chart-classes", "chart-pareto", "chart-lifecycle"):
        expect(page.locator(f"[data-testid={chart}] canvas").first).to_be_visible()
    expect(page.get_by_test_id("class-table").locator("tbody tr")).to_have_count(8)
    # The lifetime-value box: the chart, or (with too few buyers to fit the models) the reason why not.
    expect(
        page.locator("[data-testid=chart-clv] canvas, .card:has-text('终身价值分布') .empty").first
    ).to_be_visible()

    # Switching the Pareto basis redraws the curve (a page of its own, same scope).
    page.get_by_test_id("basis-revenue_12m").click()
    expect(page).to_have_url(live_kehu.url + "/analytics/?scope=all&basis=revenue_12m")
    expect(
        page.locator("[data-testid=chart-pareto] canvas, .card:has-text('帕累托') .empty").first
    ).to_be_visible()

    flagged = int(page.get_by_test_id("stat-churn").inner_text().replace(",", ""))
    page.get_by_test_id("stat-churn").locator("xpath=..").click()
    expect(page).to_have_url(live_kehu.url + "/analytics/churn/?scope=all")
    if flagged == 0:
        expect(page.get_by_test_id("empty")).to_contain_text("没有流失预警")
        return
    rows = page.get_by_test_id("score-row")
    expect(rows).to_have_count(min(flagged, 25))  # the first page
    for i in range(rows.count()):
        expect(rows.nth(i).get_by_test_id("churn-reasons").locator("li").first).to_be_visible()


def test_the_relationship_report_reads_the_stored_periods_and_computes_live_on_request(
    page: Page, live_kehu: LiveKehu
) -> None:
    """ANA-6 for the administrator: this year's report comes from the periods the demo's refresh stored
    (ADR 0019) and says as of when; 实时计算 computes it now, with the same figures (nothing changed)."""
    login(page, live_kehu, "admin")
    page.goto("/analytics/relationship/?scope=all&period=year")
    expect(page.get_by_test_id("stored-as-of")).to_contain_text("夜间汇总：数据截至")
    for chart in ("chart-depth", "chart-breadth", "chart-length"):
        expect(page.locator(f"[data-testid={chart}] canvas").first).to_be_visible()
    revenue = page.get_by_test_id("stat-revenue").inner_text()
    breadth = page.get_by_test_id("stat-breadth").inner_text()
    page.get_by_test_id("compute-live").click()
    expect(page).to_have_url(re.compile(r"/analytics/relationship/\?.*live=1"))
    expect(page.get_by_test_id("computed-live")).to_be_visible()
    expect(page.get_by_test_id("stat-revenue")).to_have_text(revenue)
    expect(page.get_by_test_id("stat-breadth")).to_have_text(breadth)
    page.get_by_test_id("show-stored").click()
    expect(page.get_by_test_id("stored-as-of")).to_be_visible()


def test_the_value_of_a_period_draws_its_pareto_curve(page: Page, live_kehu: LiveKehu) -> None:
    """ANA-1 by period: on the overview the administrator picks 本年 and gets this year's revenue of the
    customers, its buyers and the concentration curve (from the demo's purchase histories)."""
    login(page, live_kehu, "admin")
    page.goto("/analytics/?scope=all")
    expect(page.get_by_test_id("value-hint")).to_be_visible()
    page.get_by_test_id("value-period").select_option("year")
    page.get_by_test_id("value-submit").click()
    expect(page).to_have_url(re.compile(r"/analytics/\?.*period=year"))
    expect(page.get_by_test_id("value-range")).to_be_visible()
    # The demo's refresh of today is this year's one point of the 全部 trend.
    expect(page.locator("[data-testid=chart-trend] canvas").first).to_be_visible()
    expect(page.get_by_test_id("trend-text")).to_contain_text("1 次刷新")
    buyers = int(page.get_by_test_id("value-buyers").inner_text().replace(",", ""))
    if buyers == 0:
        expect(page.get_by_test_id("value-empty")).to_be_visible()
        return
    expect(page.locator("[data-testid=chart-period-pareto] canvas").first).to_be_visible()
    expect(page.get_by_test_id("value-pareto-text")).to_contain_text("前 20% 的客户")


def test_a_department_manager_sees_the_trend_of_the_department(page: Page, live_kehu: LiveKehu) -> None:
    """The trend of a narrower scope: the demo's refresh stored its figures per owner, so 华东区's manager
    gets today's point for the department's people's customers, labelled as by owner."""
    login(page, live_kehu, "manager_east")
    page.goto("/analytics/?scope=dept&period=year")
    expect(page.get_by_test_id("value-range")).to_be_visible()
    expect(page.locator("[data-testid=chart-trend] canvas").first).to_be_visible()
    expect(page.get_by_role("heading", name="期间内各次刷新（部门，按负责人）")).to_be_visible()
    expect(page.get_by_test_id("trend-text")).to_contain_text("每次刷新时范围内的人名下的客户")
