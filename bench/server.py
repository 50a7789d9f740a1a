"""The server under test: ``kehu serve --workers 2`` (gunicorn) on 127.0.0.1, and its workers' memory."""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from .dataset import ROOT, database_env, kehu_argv

HOST = "127.0.0.1"  # load tests target this machine only


def cpu_busy(seconds: float = 1.0) -> float:
    """Share of all CPU time that was not idle during ``seconds`` (whoever used it)."""

    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
        return sum(fields), idle

    t1, i1 = sample()
    time.sleep(seconds)
    t2, i2 = sample()
    return 0.0 if t2 == t1 else round(1 - (i2 - i1) / (t2 - t1), 3)


def process_ticks() -> dict[int, tuple[str, int]]:
    """utime + stime (clock ticks) and name of every process now running."""
    out: dict[int, tuple[str, int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            text = stat.read_text()
            name = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            out[int(stat.parent.name)] = (name, int(fields[11]) + int(fields[12]))
    return out


def others_share(
    before: dict[int, tuple[str, int]], after: dict[int, tuple[str, int]], *, ours: set[int], seconds: float
) -> float:
    """Share of all CPUs used during ``seconds`` by processes that are not part of the benchmark.

    Ours: the server's workers, wrk and the database server's processes (``postgres``).
    """
    hz = os.sysconf("SC_CLK_TCK")
    cpus = os.cpu_count() or 1
    used = 0
    for pid, (name, ticks) in after.items():
        if pid in ours or name in ("wrk", "postgres") or pid == os.getpid():
            continue
        used += ticks - before.get(pid, (name, 0))[1]
    return round(max(0.0, used / hz / (seconds * cpus)), 3) if seconds > 0 else 0.0


def wait_quiet(*, limit: float, max_wait: float, log: Any) -> float:
    """Wait (at most ``max_wait`` s) until other processes use less than ``limit`` of the CPUs; the last share."""
    busy = cpu_busy()
    waited = 0.0
    while busy > limit and waited < max_wait:
        if waited == 0:
            log(f"machine busy ({busy:.0%} CPU used by other processes): waiting up to {max_wait:.0f} s")
        time.sleep(4)
        waited += 5
        busy = cpu_busy()
    return busy


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(x) for x in (task / "children").read_text().split()]
    return out


def _status(pid: int) -> dict[str, int]:
    """VmHWM / VmRSS of a process in kB (from /proc/<pid>/status)."""
    values = {}
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    for key in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
        m = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
        if m:
            values[key] = int(m.group(1))
    return values


class Server:
    def __init__(self, url: str, *, workers: int = 2, log: Any = print, log_path: Path | None = None) -> None:
        self.url, self.workers, self.log = url, workers, log
        self.port = free_port()
        self.base = f"http://{HOST}:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.argv = kehu_argv(
            "serve",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--no-worker",
            "--no-scheduler",
        )

    def __enter__(self) -> Server:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        # Own session: the gunicorn master (kehu serve execs it) and its workers form one group we stop at the end.
        self.proc = subprocess.Popen(
            self.argv,
            env=database_env(self.url),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"kehu serve exited with {self.proc.returncode} (log: {self.log_path})")
            try:
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/ping")
                if conn.getresponse().status == 200 and len(self.worker_pids()) >= self.workers:
                    conn.close()
                    return self
                conn.close()
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise SystemExit("kehu serve did not answer /ping within 60 s")

    def worker_pids(self) -> list[int]:
        if self.proc is None:
            return []
        return _children(self.proc.pid)

    def memory(self) -> dict[str, Any]:
        """Peak (VmHWM) and current RSS of each gunicorn worker and of the master, in MB."""
        assert self.proc is not None
        workers = {pid: _status(pid) for pid in self.worker_pids()}
        master = _status(self.proc.pid)
        return {
            "workers": [
                {
                    "pid": pid,
                    "hwm_mb": round(v.get("VmHWM", 0) / 1024, 1),
                    "rss_mb": round(v.get("VmRSS", 0) / 1024, 1),
                    "anon_mb": round(v.get("RssAnon", 0) / 1024, 1),
                    "file_mb": round(v.get("RssFile", 0) / 1024, 1),
                }
                for pid, v in workers.items()
            ],
            "master": {
                "pid": self.proc.pid,
                "hwm_mb": round(master.get("VmHWM", 0) / 1024, 1),
                "rss_mb": round(master.get("VmRSS", 0) / 1024, 1),
            },
        }

    def _cpu_ticks(self) -> int:
        total = 0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime + stime
        return total

    def drain(self, max_wait: float = 120.0) -> float:
        """Wait until the workers stop using CPU (requests the load generator gave up on have finished)."""
        started = time.monotonic()
        before = self._cpu_ticks()
        while time.monotonic() - started < max_wait:
            time.sleep(0.5)
            now = self._cpu_ticks()
            if now - before <= 1:  # at most one tick (10 ms) in half a second: idle
                break
            before = now
        return time.monotonic() - started

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the group of the process we started
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def __exit__(self, *exc: object) -> None:
        self.stop()
