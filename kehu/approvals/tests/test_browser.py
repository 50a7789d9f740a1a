"""Approving from the page in a real browser: the supervisor finds the request under 待办 on the home
page, opens it, tries to reject without a comment (the error names the field), then approves.

Unlike tests/browser (a separate ``kehu serve`` on the demo company), this runs against Django's
``live_server`` inside the test process, because the only approvable document type on this branch is
the test-only one registered by this package's conftest."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from kehu.approvals import services

from .conftest import TEST_TYPE, doc_status, make_deal, make_flow, supervisor

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # pragma: no cover - requirements/test.txt installs it
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

from tests.browser.conftest import CHROMIUM, TIMEOUT_MS, browser_required, launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.fixture
def page(live_server: Any) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if browser_required():
            pytest.fail(f"browser tests are required but {CHROMIUM} is missing", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing")
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        context = browser.new_context(
            locale="zh-CN", viewport={"width": 1280, "height": 800}, base_url=live_server.url
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def audit_emptied_on_sqlite(transactional_db: None) -> Iterator[None]:
    """The live server needs a transactional test, whose clean-up deletes every row — which SQLite's
    append-only trigger on the audit log refuses (PostgreSQL truncates, firing no row trigger). Empty
    the audit log behind the trigger's back first, and put the trigger back for the next tests."""
    yield
    if connection.vendor == "sqlite":
        append_only = importlib.import_module("kehu.audit.migrations.0002_append_only")
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            cursor.execute("DELETE FROM audit_auditevent")
            cursor.execute(append_only.SQLITE[1])


@pytest.fixture
def scene(audit_emptied_on_sqlite: None, org: SimpleNamespace) -> SimpleNamespace:
    """Written before the browser starts: Playwright's sync API runs an event loop in this thread,
    where Django refuses database calls."""
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east, name="浏览器里的大单", amount="66000")
    req = services.approval_submit(document_type=TEST_TYPE, object_id=deal.pk, by=org.rep_east)
    return SimpleNamespace(deal=deal, req=req, password=org.password)


def test_a_manager_approves_a_request_from_the_work_list(scene: SimpleNamespace, page: Any) -> None:
    deal, req = scene.deal, scene.req
    page.goto("/accounts/login/")
    page.fill("input[name=username]", "manager_east")
    page.fill("input[name=password]", scene.password)
    page.locator("[data-testid=login-form] button[type=submit]").click()
    expect(page.get_by_test_id("nav-approvals-count")).to_have_text("1")
    section = page.get_by_test_id("worklist-approval_pending")
    section.get_by_role("link", name="测试单据 浏览器里的大单").click()
    expect(page).to_have_url(f"{page.url.split('/approvals/')[0]}/approvals/{req.pk}/")
    expect(page.get_by_test_id("amount")).to_have_text("66000.00 CNY")

    page.get_by_test_id("reject").click()
    expect(page.locator('[data-error-for="comment"]')).to_contain_text("驳回时请填写审批意见")
    assert doc_status(deal) == "pending"

    page.fill("#id_comment", "同意，按合同价执行")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("done")).to_have_text("已同意")
    expect(page.get_by_test_id("approval-request").get_by_test_id("approval-status").first).to_have_text(
        "通过"
    )
    expect(page.get_by_test_id("step-1")).to_contain_text("同意，按合同价执行")
    assert doc_status(deal) == "approved"
