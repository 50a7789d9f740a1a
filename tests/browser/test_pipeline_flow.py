"""The pipeline as a sales rep works it in the browser (SAL-3): open an opportunity for a customer
picked by search, drag its card across the kanban board, and see a stale drag refused and put back."""

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

from .test_customer_flow import create_customer, type_into

pytestmark = pytest.mark.browser


def _column_of(page: Page, card_id: str) -> str:
    return page.locator(f"#card-{card_id}").evaluate("el => el.parentElement.dataset.stage")


def test_a_rep_drags_a_new_opportunity_across_the_board(page: Page, live_kehu: LiveKehu) -> None:
    login(page, live_kehu, "rep_east")
    word = unique_word()
    customer = f"无锡拖拽{word}机械有限公司"
    create_customer(page, live_kehu, name=customer, mobile=unique_mobile())

    page.goto("/sales/opportunities/new/")
    type_into(page, "[data-testid=customer-search]", f"拖拽{word}")
    page.get_by_test_id("customer-option").filter(has_text=customer).click()
    expect(page.get_by_test_id("chosen-customer")).to_contain_text(customer)
    page.fill("#id_name", f"看板演示{word}")
    page.fill("#id_amount", "200000")
    page.get_by_test_id("save-opportunity").click()
    expect(page).to_have_url(re.compile(r"/sales/opportunities/(\d+)/$"))
    opp_id = re.search(r"/opportunities/(\d+)/", page.url).group(1)  # type: ignore[union-attr]

    page.goto("/sales/board/")
    card = page.locator(f"#card-{opp_id}")
    expect(card).to_be_visible()
    columns = page.locator(".kanban-cards")
    first_stage = _column_of(page, opp_id)
    target = columns.nth(2)
    target_stage = target.get_attribute("data-stage")
    assert target_stage != first_stage
    card.drag_to(target)
    # The server answered with the card at its new version: the drop is saved.
    expect(page.locator(f"#card-{opp_id}[data-version='2']")).to_be_visible()
    assert _column_of(page, opp_id) == target_stage
    page.reload()
    assert _column_of(page, opp_id) == target_stage

    # Someone else moved it meanwhile (the page holds an old version): refused, message, card back.
    page.locator(f"#card-{opp_id}").evaluate("el => { el.dataset.version = '1' }")
    page.locator(f"#card-{opp_id}").drag_to(columns.nth(0))
    expect(page.get_by_test_id("board-message")).to_contain_text("已被他人修改")
    assert _column_of(page, opp_id) == target_stage

    page.goto(f"/sales/opportunities/{opp_id}/")
    expect(page.get_by_test_id("stage-history")).to_contain_text("→")
