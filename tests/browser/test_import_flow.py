"""Importing customers in the browser (CUS-8): a sales manager uploads a spreadsheet, reads the dry run
(one new customer, one row naming its bad mobile number), fixes nothing, commits, and finds the new
customer in the list."""

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


def test_a_manager_uploads_customers_reads_the_dry_run_and_commits(
    page: Page, live_kehu: LiveKehu, tmp_path: object
) -> None:
    from kehu.imports.tests.files import xlsx

    login(page, live_kehu, "manager_east")
    name = f"宁波导入{unique_word()}贸易有限公司"
    bad = f"宁波错号{unique_word()}贸易有限公司"
    sheet = tmp_path / "客户导入.xlsx"  # type: ignore[operator]
    sheet.write_bytes(
        xlsx(["客户名称", "手机号", "城市"], [[name, unique_mobile(), "宁波"], [bad, "12345", "宁波"]])
    )

    page.goto("/imports/")
    expect(page.get_by_test_id("template-customers")).to_be_visible()
    page.select_option("#id_kind", "customers")
    page.set_input_files("#id_file", str(sheet))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/imports/\d+/$"))
    expect(page.get_by_test_id("new-rows")).to_have_text("1")
    expect(page.get_by_test_id("error-rows")).to_have_text("1")
    problems = page.get_by_test_id("import-problems")
    expect(problems.locator("tr", has_text="手机号")).to_contain_text("3")

    page.get_by_test_id("import-commit").locator("button[type=submit]").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已导入")
    # Both rows sit in one 1,000-row chunk, which the bad row blocks: nothing was written.
    expect(page.get_by_test_id("import-chunks")).to_contain_text("有错误，整批未写入")

    good = tmp_path / "客户导入-改.xlsx"  # type: ignore[operator]
    good.write_bytes(xlsx(["客户名称", "城市"], [[name, "宁波"]]))
    page.goto("/imports/")
    page.set_input_files("#id_file", str(good))
    page.get_by_test_id("import-upload").locator("button[type=submit]").click()
    expect(page.get_by_test_id("error-rows")).to_have_text("0")
    page.locator("input[name=on_duplicate][value=skip]").check()
    page.get_by_test_id("import-commit").locator("button[type=submit]").click()
    expect(page.get_by_test_id("import-result")).to_contain_text("新建 1 条")

    page.goto("/customers/?q=" + name[:8])
    expect(page.get_by_test_id("customer-table")).to_contain_text(name)
