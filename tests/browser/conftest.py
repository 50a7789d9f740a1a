"""End-to-end fixtures: a real Kehu server per pytest-xdist worker, driven by Debian's Chromium.

The server (``kehu migrate``, ``kehu demo``, ``kehu serve`` on a fresh database of its own) comes
from ``tests/live_server.py``, shared with the live tests in ``tests/live``. These tests never touch
the Django test database.

Chromium: ``/usr/bin/chromium`` (``make test`` installs it when it can). When it is missing the
browser tests are skipped — unless ``KEHU_REQUIRE_BROWSER=1`` (CI), which turns that into a failure.

``scripts/screenshots.py`` reuses :func:`running_kehu` and :func:`launch_chromium` from here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import (  # noqa: F401 - re-exported for the browser tests and scripts/screenshots.py
    DEMO_CUSTOMERS,
    DEMO_PASSWORD,
    DEMO_SEED,
    LiveKehu,
    running_kehu,
    worker_id,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Every expect()/wait in the browser tests gives up after this many milliseconds.
TIMEOUT_MS = 10_000

HERE = Path(__file__).resolve().parent


def browser_required() -> bool:
    return os.environ.get("KEHU_REQUIRE_BROWSER") == "1"


def launch_chromium(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


# ----------------------------------------------------------------------------- fixtures --


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/browser carries the ``browser`` marker (``-m "not browser"`` skips it)."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_available() -> None:
    """Skip (or, with KEHU_REQUIRE_BROWSER=1, fail) when Chromium or Playwright is missing."""
    problem = None
    if not Path(CHROMIUM).exists():
        problem = f"{CHROMIUM} is missing (install Debian's chromium, e.g. via `make browser-deps`)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = "the playwright Python package is not installed (requirements/test.txt)"
    if problem is None:
        return
    if browser_required():
        pytest.fail(f"browser tests are required (KEHU_REQUIRE_BROWSER=1) but {problem}", pytrace=False)
    pytest.skip(f"browser tests skipped: {problem}; set KEHU_REQUIRE_BROWSER=1 to make this an error")


@pytest.fixture(scope="session")
def live_kehu(chromium_available: None) -> Iterator[LiveKehu]:
    """A real Kehu server (migrate + demo + serve) for this xdist worker, on its own database."""
    with running_kehu() as live:
        yield live


@pytest.fixture(scope="session")
def browser(chromium_available: None) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as p:
        b = launch_chromium(p)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any, live_kehu: LiveKehu) -> Iterator[Any]:
    """A fresh browser context (no cookies) per test, Chinese locale, desktop viewport."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 800}, base_url=live_kehu.url
    )
    context.set_default_timeout(TIMEOUT_MS)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def login(page: Any, live: LiveKehu, username: str) -> None:
    """Sign in through the log-in page and wait for the home page."""
    from playwright.sync_api import expect

    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", live.password)
    page.locator("[data-testid=login-form] button[type=submit]").click()
    page.wait_for_url(live.url + "/")
    expect(page.get_by_test_id("login-form")).to_have_count(0)


_counter = iter(range(1, 10_000))


def unique_mobile() -> str:
    """A valid mainland mobile no demo record and no other worker uses: 139 + 8 digits."""
    worker = worker_id().removeprefix("gw")
    w = int(worker) % 10 if worker.isdigit() else 9
    return f"139{w}{(int(time.time() * 10) + next(_counter) * 7919) % 10_000_000:07d}"


_CN_DIGITS = "零一二三四五六七八九"


def unique_word() -> str:
    """Two Chinese numerals, different for every call in a session, for unique customer names."""
    n = (os.getpid() + next(_counter)) % 100
    return _CN_DIGITS[n // 10] + _CN_DIGITS[n % 10]
