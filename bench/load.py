"""Load steps against 127.0.0.1: wrk when installed (``--latency`` + a Lua script), else bench.pyload.

Every step is bounded twice: by its duration and by a request cap. A warm-up run at the same
concurrency comes first and is discarded.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
from dataclasses import asdict, dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from .server import HOST

LUA = Path(__file__).with_name("wrk.lua")
MAX_REQUESTS_PER_SECOND = 10_000  # the request cap of a step: duration × this


@dataclass
class Step:
    name: str
    path: str
    concurrency: int
    headers: dict[str, str] = field(default_factory=dict)
    group: str = ""


@dataclass
class StepResult:
    name: str
    path: str
    concurrency: int
    group: str
    tool: str
    requests: int
    seconds: float
    rps: float
    p50_ms: float | None
    p90_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    mean_ms: float | None
    errors: dict[str, int]
    non_200: int
    capped: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tool() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def _wrk(port: int, step: Step, seconds: float, cap: int) -> dict[str, Any]:
    threads = min(step.concurrency, 2)
    argv = [
        "wrk",
        "-t",
        str(threads),
        "-c",
        str(step.concurrency),
        "-d",
        f"{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "--latency",
        "-s",
        str(LUA),
    ]
    for k, v in step.headers.items():
        argv += ["-H", f"{k}: {v}"]
    argv += [f"http://{HOST}:{port}{step.path}", "--", str(max(1, cap // threads))]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    m = re.search(r"^BENCH_JSON (.*)$", proc.stdout, re.M)
    if proc.returncode != 0 or not m:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {proc.stdout[-2000:]} {proc.stderr[-2000:]}")
    data = json.loads(m.group(1))
    lat = data["latency_us"]
    return {
        "requests": data["requests"],
        "seconds": data["duration_us"] / 1e6,
        "p50": lat["p50"] / 1000,
        "p90": lat["p90"] / 1000,
        "p95": lat["p95"] / 1000,
        "p99": lat["p99"] / 1000,
        "max": lat["max"] / 1000,
        "mean": lat["mean"] / 1000,
        "errors": data["errors"],
        "non_200": data.get("non_200", 0),
    }


def _python(port: int, step: Step, seconds: float, cap: int) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "bench.pyload",
        "--port",
        str(port),
        "--path",
        step.path,
        "--concurrency",
        str(step.concurrency),
        "--duration",
        str(seconds),
        "--max-requests",
        str(cap),
    ]
    for k, v in step.headers.items():
        argv += ["--header", f"{k}: {v}"]
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=False,
        cwd=Path(__file__).resolve().parent.parent,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"bench.pyload failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def run_step(port: int, step: Step, *, seconds: float, warmup: float) -> StepResult:
    runner = _wrk if tool() == "wrk" else _python
    if warmup > 0:
        runner(port, step, warmup, int(warmup * MAX_REQUESTS_PER_SECOND))
    cap = int(seconds * MAX_REQUESTS_PER_SECOND)
    r = runner(port, step, seconds, cap)
    secs = r["seconds"] or seconds
    none = r["requests"] == 0  # nothing finished within the step: no latency figure (not "0 ms")

    def ms(key: str) -> float | None:
        return None if none else round(r[key], 2)

    return StepResult(
        name=step.name,
        path=step.path,
        concurrency=step.concurrency,
        group=step.group,
        tool=tool(),
        requests=r["requests"],
        seconds=round(secs, 2),
        rps=round(r["requests"] / secs, 1),
        p50_ms=ms("p50"),
        p90_ms=ms("p90"),
        p95_ms=ms("p95"),
        p99_ms=ms("p99"),
        max_ms=ms("max"),
        mean_ms=ms("mean"),
        errors=r["errors"],
        non_200=r["non_200"],
        capped=r["requests"] >= cap,
    )


# --- single requests: checking an endpoint, logging in ----------------------------------------


def get(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=120)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def _cookies(conn_headers: list[tuple[str, str]]) -> dict[str, str]:
    jar: dict[str, str] = {}
    for k, v in conn_headers:
        if k.lower() == "set-cookie":
            c: SimpleCookie = SimpleCookie()
            c.load(v)
            jar.update({name: morsel.value for name, morsel in c.items()})
    return jar


def login(port: int, username: str, password: str) -> str:
    """Log in through /accounts/login/ like a browser (CSRF cookie + form token); returns the session cookie."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        conn.request("GET", "/accounts/login/")
        resp = conn.getresponse()
        body = resp.read().decode("utf-8", "replace")
        jar = _cookies(resp.getheaders())
        m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        if not m or "csrftoken" not in jar:
            raise SystemExit("login page without a CSRF token")
        form = urllib.parse.urlencode(
            {
                "csrfmiddlewaretoken": m.group(1),
                "username": username,
                "password": password,
                "next": "/customers/",
            }
        )
        conn.request(
            "POST",
            "/accounts/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={jar['csrftoken']}",
                "Referer": f"http://{HOST}:{port}/accounts/login/",
                "Origin": f"http://{HOST}:{port}",
            },
        )
        resp = conn.getresponse()
        resp.read()
        jar.update(_cookies(resp.getheaders()))
        if resp.status != 302 or "sessionid" not in jar:
            raise SystemExit(f"login as {username} failed: HTTP {resp.status}")
        return f"sessionid={jar['sessionid']}; csrftoken={jar['csrftoken']}"
    finally:
        conn.close()
