"""Recording a follow-up (ENG-1/ENG-2) as a sales rep does it in the browser: from the customer's
跟进记录 tab, with a scanned file, then seeing the plan on the customer list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from .conftest import LiveKehu, browser_required, login, unique_mobile, unique_word

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - requirements/test.txt installs it
    if browser_required():
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

from .test_customer_flow import create_customer

pytestmark = pytest.mark.browser


def test_a_sales_rep_records_a_visit_with_a_file_and_sees_the_plan_on_the_list(
    page: Page, live_kehu: LiveKehu, tmp_path: object
) -> None:
    login(page, live_kehu, "rep_east")
    name = f"苏州远航{unique_word()}电子有限公司"
    customer_id = create_customer(page, live_kehu, name=name, mobile=unique_mobile())

    page.goto(f"/customers/{customer_id}/?tab=interactions")
    expect(page.get_by_test_id("section-interactions")).to_contain_text("还没有跟进记录")
    page.get_by_test_id("add-interaction").click()
    expect(page).to_have_url(re.compile(rf"/interactions/new/{customer_id}/$"))

    page.select_option("#id_channel", "visit")
    page.fill("#id_summary", "上门拜访王总，参观了新车间，对二期设备有兴趣")
    page.fill("#id_next_step", "下周送报价单")
    in_three_days = (timezone.localdate() + timedelta(days=3)).isoformat()
    page.fill("#id_next_follow_up_on", in_three_days)
    scan = tmp_path / "拜访纪要.txt"  # type: ignore[operator]
    scan.write_text("拜访纪要：二期设备，预算约 80 万", encoding="utf-8")
    page.set_input_files("#id_files", str(scan))
    page.get_by_test_id("save-interaction").click()

    expect(page).to_have_url(re.compile(rf"/customers/{customer_id}/\?tab=interactions$"))
    section = page.get_by_test_id("section-interactions")
    expect(section.get_by_test_id("interaction")).to_contain_text("参观了新车间")
    expect(section.get_by_test_id("next-follow-up")).to_contain_text("紧急")
    expect(section.get_by_test_id("attachment")).to_have_text("拜访纪要.txt")

    page.goto("/customers/?urgency=urgent&q=" + name[:6])
    row = page.get_by_test_id("customer-table").locator("tr", has_text=name)
    expect(row.get_by_test_id("urgency")).to_have_text("紧急")
