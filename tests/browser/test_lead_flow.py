"""Leads in the browser (SAL-1): rep_east enters an inquiry from a company that is already a customer,
converts it, is shown the 查重 match, attaches the lead to that customer, and lands on the converted
lead with its customer, contact and opportunity."""

from __future__ import annotations

import re

import pytest

from .conftest import LiveKehu, browser_required, login, unique_mobile, unique_word

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - requirements/test.txt installs it
    if browser_required():
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser


def test_rep_converts_a_lead_attaching_it_to_the_duplicate_customer(page: Page, live_kehu: LiveKehu) -> None:
    word = unique_word()
    company = f"远景{word}精工有限公司"
    login(page, live_kehu, "rep_east")

    # The company is already a customer of rep_east.
    page.goto("/customers/new/")
    page.fill("input[name=name]", company)
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/"))

    page.goto("/sales/leads/")
    page.get_by_test_id("new-lead").click()
    page.fill("input[name=company_name]", f"远景{word}精工股份有限公司")
    page.fill("input[name=contact_name]", "周工")
    page.fill("input[name=mobile]", unique_mobile())
    page.fill("textarea[name=content]", "询价：精密轴承 200 套")
    page.get_by_test_id("save-lead").click()
    expect(page.get_by_test_id("lead-title")).to_contain_text(f"远景{word}精工股份有限公司")
    expect(page.get_by_test_id("lead-status")).to_have_text("待筛选")

    page.get_by_test_id("convert").click()
    expect(page.get_by_test_id("duplicates")).to_be_visible()
    match = page.get_by_test_id("match-table").locator("tr", has_text=company)
    match.locator("input[type=radio]").check()
    page.get_by_test_id("do-convert").click()

    expect(page.get_by_test_id("lead-status")).to_have_text("已转化")
    converted = page.get_by_test_id("converted")
    expect(converted).to_contain_text(company)
    expect(converted).to_contain_text("周工")
    expect(converted).to_contain_text("的询盘")
