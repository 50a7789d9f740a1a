"""End-to-end fixtures: a real Kehu server per pytest-xdist worker, driven by Debian's Chromium.

The server is what a deployer runs: ``kehu migrate``, ``kehu demo`` and ``kehu serve`` in a
subprocess, against a fresh database of its own (a temp SQLite file, or a new PostgreSQL database
on the server of ``KEHU_TEST_DATABASE_URL``). These tests never touch the Django test database.

Chromium: ``/usr/bin/chromium`` (``make test`` installs it when it can). When it is missing the
browser tests are skipped — unless ``KEHU_REQUIRE_BROWSER=1`` (CI), which turns that into a failure.

``scripts/screenshots.py`` reuses :func:`running_kehu` and :func:`launch_chromium`.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "Kehu-e2e-Passw0rd!"
DEMO_CUSTOMERS = 30
DEMO_SEED = 3
STARTUP_TIMEOUT = 60.0
# Every expect()/wait in the browser tests gives up after this many milliseconds.
TIMEOUT_MS = 10_000

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class LiveKehu:
    url: str
    database_url: str
    password: str
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        return ""


def worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def browser_required() -> bool:
    return os.environ.get("KEHU_REQUIRE_BROWSER") == "1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _with_db_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


@contextlib.contextmanager
def _postgres_database(base_url: str, name: str) -> Iterator[str]:
    """A brand-new database ``name`` on the server of ``base_url``, dropped afterwards."""
    import psycopg

    admin_url = _with_db_name(base_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
    try:
        yield _with_db_name(base_url, name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def _fresh_database(tmp: Path) -> Iterator[str]:
    base = os.environ.get("KEHU_TEST_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        with _postgres_database(base, f"kehu_e2e_{os.getpid()}") as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'kehu.sqlite3'}"


def _server_env(database_url: str, tmp: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KEHU_DATABASE_URL=database_url,
        KEHU_SECRET_KEY="kehu-e2e-not-secret-" + "x" * 40,
        DJANGO_SETTINGS_MODULE="config.settings.base",
        PYTHONUNBUFFERED="1",
    )
    # The server under test must not inherit switches meant for the test process.
    for key in ("KEHU_REDIS_URL", "KEHU_DEBUG"):
        env.pop(key, None)
    return env


def _kehu_has_serve() -> bool:
    """Whether ``kehu serve`` exists (found without starting Django)."""
    import importlib.util

    try:
        return importlib.util.find_spec("kehu.core.management.commands.serve") is not None
    except ModuleNotFoundError:
        return False


def _run(args: list[str], env: dict[str, str], log: Path) -> None:
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        result = subprocess.run(args, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, timeout=600)
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
        raise RuntimeError(f"{' '.join(args)} exited with {result.returncode}:\n{tail}")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], live: LiveKehu) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"kehu server exited with {proc.returncode}:\n{live.log_tail()}")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.25)
    raise RuntimeError(
        f"kehu server did not answer /healthz within {STARTUP_TIMEOUT:.0f} s:\n{live.log_tail()}"
    )


@contextlib.contextmanager
def running_kehu(
    *, customers: int = DEMO_CUSTOMERS, seed: int = DEMO_SEED, password: str = DEMO_PASSWORD
) -> Iterator[LiveKehu]:
    """Migrate a fresh database, load the demo company and serve it; yields where it listens."""
    tmp = Path(tempfile.mkdtemp(prefix=f"kehu-e2e-{worker_id()}-"))
    try:
        with _fresh_database(tmp) as database_url:
            env = _server_env(database_url, tmp)
            log = tmp / "server.log"
            kehu = str(BIN / "kehu")
            _run([kehu, "migrate", "--no-input"], env, log)
            _run(
                [kehu, "demo", "--customers", str(customers), "--seed", str(seed), "--password", password],
                env,
                log,
            )
            port = _free_port()
            if _kehu_has_serve():
                cmd = [kehu, "serve", "--port", str(port), "--workers", "1"]
            else:  # before `kehu serve` existed
                cmd = [
                    str(BIN / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "1",
                    "--threads",
                    "4",
                ]
            live = LiveKehu(
                url=f"http://127.0.0.1:{port}", database_url=database_url, password=password, log=log
            )
            with log.open("a") as out:
                out.write(f"\n$ {' '.join(cmd)}\n")
                out.flush()
                proc = subprocess.Popen(
                    cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
                )
            try:
                _wait_healthy(live.url, proc, live)
                yield live
            finally:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


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
