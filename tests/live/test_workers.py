"""Real `kehu worker` processes (issue 3, "Background jobs"): the database queue on this run's database
(SQLite file or PostgreSQL), and RQ on the local Redis. A worker killed with SIGKILL in the middle of a
job does not lose it: another worker notices the silent heartbeat, queues the job again and finishes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import BIN, REPO, _fresh_database, _run, _server_env, worker_id

pytestmark = pytest.mark.live
KEHU = str(BIN / "kehu")


def _redis_url() -> str:
    index = {"gw0": 11, "gw1": 12, "gw2": 13, "gw3": 14}.get(worker_id(), 10)
    return f"redis://127.0.0.1:6379/{index}"


class Site:
    """A migrated database of its own, and the environment every `kehu` process here runs with."""

    def __init__(self, database_url: str, env: dict[str, str], log: Path) -> None:
        self.database_url, self.env, self.log = database_url, env, log
        self.procs: list[subprocess.Popen[bytes]] = []

    def row(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        if self.database_url.startswith("sqlite:///"):
            with sqlite3.connect(self.database_url.removeprefix("sqlite:///"), timeout=10) as conn:
                return conn.execute(sql.replace("%s", "?"), args).fetchone()
        import psycopg

        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, args).fetchone()

    def job(self, job_id: int) -> tuple[Any, ...]:
        row = self.row(
            "SELECT status, attempts, progress_done, worker_id FROM jobs_job WHERE id = %s", job_id
        )
        assert row is not None
        return row

    def start_selftest(self, *, steps: int, step_seconds: float) -> int:
        code = (
            "from kehu.jobs.services import job_start; "
            f"print(job_start(kind='jobs.selftest', params={{'steps': {steps}, 'step_seconds': {step_seconds}}}, "
            "by=None).pk)"
        )
        out = subprocess.run(
            [KEHU, "shell", "-c", code], env=self.env, cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr
        return int(out.stdout.split()[-1])

    def worker(self) -> subprocess.Popen[bytes]:
        with self.log.open("a") as log:
            proc = subprocess.Popen(
                [KEHU, "worker", "--interval", "0.2"], env=self.env, cwd=REPO, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.procs.append(proc)
        return proc

    def wait_for(self, what: str, check: Any, timeout: float = 90.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(
            f"timed out waiting for {what}:\n" + self.log.read_text(errors="replace")[-3000:]
        )


@pytest.fixture(params=["database", "rq"])
def site(request: Any, tmp_path: Path) -> Iterator[Site]:
    with _fresh_database(tmp_path, f"jobs_{request.param}") as url:
        env = _server_env(url, tmp_path)
        env["KEHU_WORKER_HEARTBEAT_SECONDS"] = "1"
        if request.param == "rq":
            import redis

            env["KEHU_REDIS_URL"] = _redis_url()
            redis.Redis.from_url(env["KEHU_REDIS_URL"]).flushdb()
        log = tmp_path / "workers.log"
        _run([KEHU, "migrate", "--no-input"], env, log)
        s = Site(url, env, log)
        try:
            yield s
        finally:
            for proc in s.procs:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)


def test_a_worker_killed_mid_job_does_not_lose_it(site: Site) -> None:
    job_id = site.start_selftest(steps=30, step_seconds=0.2)
    assert site.job(job_id)[0] == "queued"
    first = site.worker()
    site.wait_for("the first worker to make progress", lambda: site.job(job_id)[2] >= 3)
    status, attempts, done, dead_worker = site.job(job_id)
    assert (status, attempts) == ("running", 1) and done < 30
    os.killpg(first.pid, signal.SIGKILL)  # no goodbye: the heartbeat just stops
    first.wait(timeout=10)
    assert site.job(job_id)[0] == "running"  # nobody noticed yet

    second = site.worker()
    site.wait_for("the job to finish on the second worker", lambda: site.job(job_id)[0] == "succeeded")
    status, attempts, done, finisher = site.job(job_id)
    assert (attempts, done) == (2, 30) and finisher != dead_worker
    assert site.row("SELECT COUNT(*) FROM jobs_workerprocess WHERE worker_id = %s", dead_worker) == (0,)

    # A polite stop (SIGTERM) takes the worker off the list of live workers.
    os.killpg(second.pid, signal.SIGTERM)
    assert second.wait(timeout=30) == 0
    assert site.row("SELECT COUNT(*) FROM jobs_workerprocess") == (0,)


def test_two_workers_share_the_queue_and_run_each_job_once(site: Site) -> None:
    jobs = [site.start_selftest(steps=2, step_seconds=0.05) for _ in range(6)]
    site.worker()
    site.worker()
    site.wait_for("all jobs to finish", lambda: all(site.job(j)[0] == "succeeded" for j in jobs))
    assert all(site.job(j)[1] == 1 for j in jobs)  # nobody ran a job twice
