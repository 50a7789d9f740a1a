"""The customer archive as a sales rep meets it in the browser (issue: end-to-end customer flow).

Each xdist worker has its own server and demo company (``live_kehu``), so a test never relies on
another test having run first: what several tests need — a customer of rep_east's — comes from the
worker-wide ``east_customer`` fixture, created through the same form a user fills in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from .conftest import TIMEOUT_MS, LiveKehu, browser_required, login, unique_mobile, unique_word

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - requirements/test.txt installs it
    if browser_required():
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser

DETAIL_URL = re.compile(r"/customers/(\d+)/$")


@dataclass(frozen=True)
class CreatedCustomer:
    id: int
    name: str
    mobile: str
    owner_label: str


def create_customer(page: Page, live: LiveKehu, *, name: str, mobile: str) -> int:
    """Fill the new-customer form as a company and save; returns the id from the detail page URL."""
    page.goto("/customers/new/")
    page.select_option("#id_kind", "company")
    page.fill("#id_name", name)
    page.fill("#id_mobile", mobile)
    page.get_by_test_id("save").click()
    page.wait_for_url(DETAIL_URL)
    match = DETAIL_URL.search(page.url)
    assert match, page.url
    return int(match.group(1))


def type_into(page: Page, selector: str, text: str) -> None:
    """Type like a person: key by key, so keyup/input handlers (htmx triggers) fire as they would."""
    box = page.locator(selector)
    box.click()
    box.press_sequentially(text, delay=40)


def masked(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:]


@pytest.fixture(scope="session")
def east_customer(browser: Any, live_kehu: LiveKehu) -> Iterator[CreatedCustomer]:
    """A company customer owned by rep_east (华东销售部), created through the form."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 800}, base_url=live_kehu.url
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        login(page, live_kehu, "rep_east")
        owner_label = page.locator(".user-name").inner_text().strip()
        name = f"杭州星辰数字{unique_word()}科技有限公司"
        mobile = unique_mobile()
        customer_id = create_customer(page, live_kehu, name=name, mobile=mobile)
        yield CreatedCustomer(id=customer_id, name=name, mobile=mobile, owner_label=owner_label)
    finally:
        context.close()


def test_a_sales_rep_logs_in_through_the_login_page_and_lands_on_the_home_page(
    page: Page, live_kehu: LiveKehu
) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", "rep_east")
    page.fill("input[name=password]", live_kehu.password)
    page.locator("[data-testid=login-form] button[type=submit]").click()

    expect(page).to_have_url(live_kehu.url + "/")
    expect(page.get_by_test_id("stat-mine")).to_be_visible()
    expect(page.locator(".user-name")).not_to_be_empty()


def test_a_sales_rep_creates_a_customer_and_sees_its_detail_page_with_the_mobile_masked(
    page: Page, live_kehu: LiveKehu
) -> None:
    login(page, live_kehu, "rep_east")
    name = f"宁波海岳精密{unique_word()}机械有限公司"
    mobile = unique_mobile()

    customer_id = create_customer(page, live_kehu, name=name, mobile=mobile)

    assert customer_id > 0
    expect(page.get_by_test_id("customer-name")).to_contain_text(name)
    expect(page.get_by_test_id("detail-mobile")).to_have_text(masked(mobile))
    expect(page.get_by_test_id("detail-mobile")).to_have_text(re.compile(r"^1\d{2}\*{4}\d{4}$"))
    assert mobile not in page.content()


def test_a_sales_rep_sees_the_duplicate_warning_as_they_type_a_name_that_normalises_the_same(
    page: Page, live_kehu: LiveKehu, east_customer: CreatedCustomer
) -> None:
    login(page, live_kehu, "rep_east")
    page.goto("/customers/new/")
    warning = page.get_by_test_id("dup-warning")
    expect(warning).to_have_count(0)

    # Same company, written with the other legal form: 股份有限公司 instead of 有限公司.
    type_into(page, "#id_name", east_customer.name.replace("有限公司", "股份有限公司"))

    expect(warning).to_be_visible()
    expect(warning).to_contain_text(east_customer.name)
    expect(warning).to_contain_text(f"负责人：{east_customer.owner_label}")
    expect(page).to_have_url(re.compile(r"/customers/new/$"))  # nothing was submitted


def test_a_sales_rep_finds_the_customer_from_the_list_search_by_pinyin_initials(
    page: Page, live_kehu: LiveKehu, east_customer: CreatedCustomer
) -> None:
    login(page, live_kehu, "rep_east")
    page.goto("/customers/")
    rows = page.get_by_test_id("customer-table").locator("tbody tr")
    expect(rows.first).to_be_visible()

    type_into(page, "[data-testid=search]", "xcsz")  # 星辰数字

    expect(page).to_have_url(re.compile(r"[?&]q=xcsz"))  # htmx pushed the search into the URL
    expect(rows.filter(has_text=east_customer.name)).to_have_count(1)
    for text in rows.all_inner_texts():
        assert "星辰数字" in text, f"{text!r} does not match the initials xcsz"


def test_a_sales_rep_finds_the_customer_from_the_list_search_by_a_two_character_chinese_substring(
    page: Page, live_kehu: LiveKehu, east_customer: CreatedCustomer
) -> None:
    login(page, live_kehu, "rep_east")
    page.goto("/customers/")
    rows = page.get_by_test_id("customer-table").locator("tbody tr")
    expect(rows.first).to_be_visible()

    type_into(page, "[data-testid=search]", "星辰")

    expect(page).to_have_url(re.compile(r"[?&]q=%E6%98%9F%E8%BE%B0"))
    expect(rows.filter(has_text=east_customer.name)).to_have_count(1)
    for text in rows.all_inner_texts():
        assert "星辰" in text


def test_a_rep_of_another_department_cannot_open_the_customer(
    page: Page, live_kehu: LiveKehu, east_customer: CreatedCustomer
) -> None:
    login(page, live_kehu, "rep_south")

    response = page.goto(f"/customers/{east_customer.id}/")

    assert response is not None and response.status == 404
    expect(page.get_by_test_id("error-message")).to_be_visible()
    assert east_customer.name not in page.content()


def test_a_rep_of_another_department_finds_nothing_when_searching_for_the_customer(
    page: Page, live_kehu: LiveKehu, east_customer: CreatedCustomer
) -> None:
    login(page, live_kehu, "rep_south")
    page.goto("/customers/")

    type_into(page, "[data-testid=search]", east_customer.name)

    expect(page).to_have_url(re.compile(r"[?&]q="))
    expect(page.get_by_test_id("empty")).to_be_visible()
    expect(page.get_by_test_id("customer-table")).to_have_count(0)
    assert east_customer.name not in page.locator("#customer-table").inner_text()


def test_the_duplicate_warning_tells_a_rep_of_another_department_only_the_owner_of_a_same_mobile(
    page: Page, live_kehu: LiveKehu, east_customer: CreatedCustomer
) -> None:
    login(page, live_kehu, "rep_south")
    page.goto("/customers/new/")

    type_into(page, "#id_mobile", east_customer.mobile)

    warning = page.get_by_test_id("dup-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text(f"负责人：{east_customer.owner_label}")
    expect(warning).not_to_contain_text(east_customer.name)
    expect(warning).not_to_contain_text(masked(east_customer.mobile))
    html = page.content()
    assert east_customer.name not in html
    assert east_customer.mobile not in html  # typed into the input's value only, never rendered
    assert f"/customers/{east_customer.id}/" not in html


def test_the_login_page_switches_to_english_with_the_language_button_and_back(
    page: Page, live_kehu: LiveKehu
) -> None:
    page.goto("/accounts/login/")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "zh-hans")

    page.get_by_test_id("lang-en").click()

    submit = page.locator("[data-testid=login-form] button[type=submit]")
    expect(html).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(submit).to_have_text(re.compile(r"^[A-Za-z ]+$"))  # "Log in", no Chinese left
    expect(page.get_by_test_id("lang-en")).to_have_count(0)

    page.get_by_test_id("lang-zh").click()

    expect(html).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_test_id("lang-en")).to_be_visible()
    expect(submit).to_have_text("登录")
