"""Quoting (SAL-5) as a sales rep does it in the browser: from the customer's 报价 tab, a quote with a
meaningful title, two catalogue lines added with htmx, the totals in figures and in 大写, the PDF."""

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

from .test_customer_flow import create_customer

pytestmark = pytest.mark.browser


def _add_line(page: Page, code: str, quantity: str) -> None:
    form = page.get_by_test_id("line-form")
    value = form.locator("[data-testid=line-product] option", has_text=code).first.get_attribute("value")
    assert value, code
    form.get_by_test_id("line-product").select_option(value)
    form.get_by_test_id("line-quantity").fill(quantity)
    form.get_by_test_id("add-line").click()


def test_a_sales_rep_quotes_two_products_and_downloads_the_pdf(page: Page, live_kehu: LiveKehu) -> None:
    login(page, live_kehu, "rep_east")
    name = f"昆山精工{unique_word()}机械有限公司"
    customer_id = create_customer(page, live_kehu, name=name, mobile=unique_mobile())

    page.goto(f"/customers/{customer_id}/?tab=quotes")
    page.get_by_test_id("add-quote").click()
    page.fill("#id_title", "报价单")
    page.get_by_test_id("save-quote").click()
    expect(page.get_by_test_id("quote-form")).to_contain_text("不能只写“报价单”")

    page.fill("#id_title", "二期装配线伺服系统报价")
    page.get_by_test_id("save-quote").click()
    expect(page).to_have_url(re.compile(r"/quotes/\d+/$"))
    expect(page.get_by_test_id("no-lines")).to_be_visible()

    _add_line(page, "SM-100", "2")  # 2 × 1,680.00
    expect(page.get_by_test_id("line-row")).to_have_count(1)
    _add_line(page, "HMI-7", "1")  # 1 × 1,450.00
    expect(page.get_by_test_id("line-row")).to_have_count(2)
    expect(page.get_by_test_id("quote-total")).to_have_text("4810.00 CNY")
    expect(page.get_by_test_id("total-in-words")).to_have_text("人民币肆仟捌佰壹拾元整")

    with page.expect_download() as download:
        page.get_by_test_id("download-pdf").click()
    assert download.value.suggested_filename.endswith("二期装配线伺服系统报价.pdf")

    page.get_by_test_id("send-quote").click()
    expect(page.get_by_test_id("quote-status")).to_have_text("已发送")
