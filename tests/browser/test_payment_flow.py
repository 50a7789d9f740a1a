"""Recording a payment against a contract's plan (SAL-7) as finance does it in the browser: from the
receivables aging to the contract, over-matching refused with the field named, then the payment
recorded and matched (counted as received once approved)."""

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


def test_finance_records_a_payment_against_an_overdue_instalment(page: Page, live_kehu: LiveKehu) -> None:
    login(page, live_kehu, "finance")
    page.get_by_test_id("nav-receivables").click()
    expect(page).to_have_url(re.compile(r"/receivables/"))
    expect(page.get_by_test_id("aging-table")).to_be_visible()
    oldest = page.get_by_test_id("receivable-table").locator("tbody tr").first
    seq = oldest.locator("td").nth(2).inner_text().strip()
    oldest.locator("td").nth(1).locator("a").click()
    expect(page).to_have_url(re.compile(r"/contracts/\d+/$"))

    page.get_by_test_id("new-payment").click()
    expect(page.get_by_test_id("payment-form")).to_be_visible()
    page.fill("#id_amount", "100.00")
    page.fill("#id_reference", "BANK-2026-0001")
    page.get_by_test_id(f"match-{seq}").fill("150.00")
    page.get_by_test_id("save").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("核销合计")

    page.get_by_test_id(f"match-{seq}").fill("100.00")
    page.get_by_test_id("save").click()
    expect(page).to_have_url(re.compile(r"/payments/\d+/$"))
    expect(page.get_by_test_id("payment-amount")).to_contain_text("100.00")
    expect(page.get_by_test_id("matches")).to_contain_text("100.00")
    panel = page.get_by_test_id("approval-panel")
    expect(panel.get_by_test_id("approval-status")).to_have_text("未提交")
    # No approval flow is configured for payments in the demo company: submitting approves at once, and
    # only then does the payment count as received.
    panel.get_by_test_id("submit-approval").click()
    expect(page.get_by_test_id("approval-panel").get_by_test_id("approval-status").first).to_have_text("通过")
    page.reload()
    expect(page.locator("h1").get_by_test_id("approval-status")).to_have_text("通过")
