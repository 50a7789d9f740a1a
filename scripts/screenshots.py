"""Screenshots for the README, taken from a real server with the demo company.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts Kehu exactly as the browser tests do (fresh database, ``kehu demo``, ``kehu serve``; on
PostgreSQL when ``KEHU_TEST_DATABASE_URL`` is set), signs in as ``admin`` in Chromium and saves:

* ``customer-list.png``      — the customer list (1280×800)
* ``customer-detail.png``    — a demo customer's detail page
* ``duplicate-warning.png``  — the new-customer form warning about a duplicate while typing
* ``phone.png``              — the customer list on a phone (390×844)
* ``interactions.png``       — a customer's 跟进记录 tab after rep_east recorded two contacts
* ``home.png``               — rep_east's 工作台 with the 待办 work list
* ``analytics.png``          — 客户分析: RFM class map, Pareto curve, CLV bands and lifecycle (全部)
* ``service-queue.png``      — 服务工单: the service team's queue with its SLA clocks (as 客服主管)
* ``screen-pop.png``         — 来电弹屏: a caller greeted by name with what he bought (as the agent)
"""

from __future__ import annotations

import argparse
import re
import sys
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.browser.conftest import TIMEOUT_MS, launch_chromium, login, running_kehu  # noqa: E402

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with running_kehu(customers=200) as live, sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            context = browser.new_context(
                locale="zh-CN", viewport=DESKTOP, base_url=live.url, device_scale_factor=1
            )
            context.set_default_timeout(TIMEOUT_MS)
            page = context.new_page()
            login(page, live, "admin")

            page.goto("/customers/")
            rows = page.get_by_test_id("customer-table").locator("tbody tr")
            expect(rows.first).to_be_visible()
            page.screenshot(path=str(out / "customer-list.png"))

            first = rows.first.locator("a.row-link")
            name = first.inner_text().strip()
            first.click()
            page.wait_for_url(re.compile(r"/customers/\d+/$"))
            expect(page.get_by_test_id("customer-name")).to_be_visible()
            page.screenshot(path=str(out / "customer-detail.png"))

            page.goto("/customers/new/")
            variant = name.replace("有限公司", "股份有限公司") if "有限公司" in name else name + "有限公司"
            box = page.locator("#id_name")
            box.click()
            box.press_sequentially(variant, delay=30)
            expect(page.get_by_test_id("dup-warning")).to_be_visible()
            page.screenshot(path=str(out / "duplicate-warning.png"))

            page.goto("/analytics/?scope=all")
            expect(page.get_by_test_id("chart-classes").locator("canvas")).to_be_visible()
            page.wait_for_timeout(1500)  # let ECharts finish its opening animation
            page.screenshot(path=str(out / "analytics.png"), full_page=True)
            mobile = caller_with_purchases(page)
            context.close()

            service = browser.new_context(
                locale="zh-CN", viewport=DESKTOP, base_url=live.url, device_scale_factor=1
            )
            service.set_default_timeout(TIMEOUT_MS)
            page = service.new_page()
            login(page, live, "service_lead")
            page.goto("/service/?queue=open")
            expect(page.get_by_test_id("ticket-table")).to_be_visible()
            page.screenshot(path=str(out / "service-queue.png"))
            page.goto(f"/service/calls/pop/?number=%2B86%20{mobile[:3]}%20{mobile[3:7]}%20{mobile[7:]}")
            expect(page.get_by_test_id("pop-greeting")).to_be_visible()
            page.screenshot(path=str(out / "screen-pop.png"), full_page=True)
            service.close()

            phone = browser.new_context(
                locale="zh-CN",
                viewport=PHONE,
                base_url=live.url,
                device_scale_factor=2,
                is_mobile=True,
                has_touch=True,
            )
            phone.set_default_timeout(TIMEOUT_MS)
            page = phone.new_page()
            login(page, live, "admin")
            page.goto("/customers/")
            expect(page.get_by_test_id("customer-table")).to_be_visible()
            page.screenshot(path=str(out / "phone.png"))
            phone.close()

            rep = browser.new_context(
                locale="zh-CN", viewport=DESKTOP, base_url=live.url, device_scale_factor=1
            )
            rep.set_default_timeout(TIMEOUT_MS)
            page = rep.new_page()
            login(page, live, "rep_east")
            record_follow_ups(page)
            page.screenshot(path=str(out / "interactions.png"))
            page.goto("/")
            expect(page.get_by_test_id("worklist")).to_be_visible()
            page.screenshot(path=str(out / "home.png"), full_page=True)
            rep.close()
        finally:
            browser.close()
    for name in (
        "customer-list",
        "customer-detail",
        "duplicate-warning",
        "phone",
        "interactions",
        "home",
        "analytics",
        "service-queue",
        "screen-pop",
    ):
        print(out / f"{name}.png")
    return 0


def caller_with_purchases(page: object) -> str:
    """As the admin, through the API with the page's session: 鲁建国, who bought three air conditioners
    and rings about one of them — the screen pop's example (SVC-3). Returns his mobile."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    headers = {"X-CSRFToken": csrf, "Content-Type": "application/json"}
    mobile = "13916628800"
    created = page.request.post(
        "/api/v1/customers", headers=headers,
        data={"name": "鲁建国", "kind": "individual", "gender": "male", "mobile": mobile, "confirm_duplicates": True},
    )  # fmt: skip
    assert created.ok, created.text()
    customer = created.json()["id"]
    order = page.request.post(
        "/api/v1/orders", headers=headers,
        data={"customer": customer, "lines": [
            {"product_name": "变频空调 KFR-35GW", "unit_price": "3299", "quantity": "3", "unit": "台"}]},
    )  # fmt: skip
    assert order.ok, order.text()
    return mobile


def record_follow_ups(page: object) -> None:
    """As rep_east: a visit ten days ago whose follow-up is now overdue, and today's call planning a
    visit in two days, on two of his customers — through the same form a rep uses."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from playwright.sync_api import Page

    assert isinstance(page, Page)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))  # the form takes Asia/Shanghai times
    page.goto("/customers/?scene=mine")
    links = page.get_by_test_id("customer-table").locator("tbody tr a.row-link")
    hrefs = [links.nth(i).get_attribute("href") for i in range(2)]
    plans = [
        (hrefs[1], "visit", now - timedelta(days=10), "上门拜访，客户在比较三家供应商的方案", now.date() - timedelta(days=3),
         "寄送样品并电话确认"),
        (hrefs[0], "phone", now, "致电王总确认二期预算，对方希望下周看演示", now.date() + timedelta(days=2), "带技术同事上门演示"),
    ]  # fmt: skip
    for href, channel, when, summary, next_on, next_step in plans:
        customer_id = re.search(r"/customers/(\d+)/", href or "")
        assert customer_id, href
        page.goto(f"/interactions/new/{customer_id.group(1)}/")
        page.select_option("#id_channel", channel)
        page.fill("#id_occurred_at", when.strftime("%Y-%m-%dT%H:%M"))
        page.fill("#id_summary", summary)
        page.fill("#id_next_step", next_step)
        page.fill("#id_next_follow_up_on", next_on.isoformat())
        page.get_by_test_id("save-interaction").click()
        page.wait_for_url(re.compile(r"tab=interactions$"))


if __name__ == "__main__":
    sys.exit(main())
