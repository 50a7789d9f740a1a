"""A real Kehu server in a subprocess, for the tests that need one (tests/browser, tests/live).

The server is what a deployer runs: ``kehu migrate``, ``kehu demo`` and ``kehu serve`` in a
subprocess, against a fresh database of its own (a temp SQLite file, or a new PostgreSQL database
on the server of ``KEHU_TEST_DATABASE_URL``). These servers never touch the Django test database.

``scripts/screenshots.py`` reuses :func:`running_kehu` (through ``tests/browser/conftest.py``).
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
from urllib.parse import urlsplit, urlunsplit

DEMO_PASSWORD = "Kehu-e2e-Passw0rd!"
DEMO_CUSTOMERS = 30
DEMO_SEED = 3
STARTUP_TIMEOUT = 60.0

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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
def _fresh_database(tmp: Path, label: str) -> Iterator[str]:
    base = os.environ.get("KEHU_TEST_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        # The label keeps two servers of one pytest process (browser + live) on separate databases.
        with _postgres_database(base, f"kehu_{label}_{os.getpid()}") as url:
            yield url
    else:
        yield f"sqlite:///{tmp / 'kehu.sqlite3'}"


def _server_env(database_url: str, tmp: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
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
    env.update(extra or {})
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
    *,
    customers: int = DEMO_CUSTOMERS,
    seed: int = DEMO_SEED,
    password: str = DEMO_PASSWORD,
    workers: int = 1,
    threads: int = 4,
    label: str = "e2e",
    env: dict[str, str] | None = None,
) -> Iterator[LiveKehu]:
    """Migrate a fresh database, load the demo company and serve it; yields where it listens.

    ``workers`` gunicorn processes with ``threads`` threads each; ``label`` names the temp directory
    and the PostgreSQL database, so different servers of one test process never share them; ``env``
    adds variables to the server's environment (e.g. the SMTP server the mail tests listen on).
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"kehu-{label}-{worker_id()}-"))
    try:
        with _fresh_database(tmp, label) as database_url:
            server_env = _server_env(database_url, tmp, env)
            log = tmp / "server.log"
            kehu = str(BIN / "kehu")
            _run([kehu, "migrate", "--no-input"], server_env, log)
            _run(
                [kehu, "demo", "--customers", str(customers), "--seed", str(seed), "--password", password],
                server_env,
                log,
            )
            port = _free_port()
            if _kehu_has_serve():
                cmd = [
                    kehu,
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    # The worker runs (imports and exports are jobs); the scheduler would start tonight's
                    # pool return at once (its slot is due) and change the demo data under the test.
                    "--no-scheduler",
                ]
            else:  # before `kehu serve` existed
                cmd = [
                    str(BIN / "gunicorn"),
                    "config.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ]
            live = LiveKehu(
                url=f"http://127.0.0.1:{port}", database_url=database_url, password=password, log=log
            )
            with log.open("a") as out:
                out.write(f"\n$ {' '.join(cmd)}\n")
                out.flush()
                proc = subprocess.Popen(
                    cmd,
                    env=server_env,
                    cwd=REPO,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
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
