"""``make bench`` — Kehu's benchmark (issue 2 §6). Results: docs/benchmarks.md and bench/results/*.json.

    python -m bench.run [--customers N] [--databases sqlite,postgres] [--duration S] [--quick]

For each database: generate (or reuse) the ``kehu demo`` dataset, serve it with ``kehu serve --workers 2``
on 127.0.0.1, and load it with wrk (or bench.pyload) at concurrency 1 and 16 for a bounded time:
the bare ``/ping`` view (the floor), the API customer list and the HTML customer list as a sales rep,
and four searches as the rep and as the admin. Then the workers' peak memory is read from /proc.
Last, at a million customers, issue 4's sales chain (bench/sales_chain.py): board, forecast, aging, quote PDF;
issue 5's analytics refresh; and issue 6's customer service (bench/service.py): screen-pop lookup and queues.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime
from pathlib import Path
from typing import Any

from . import analytics, dataset, import_bench, load, recycle, report, sales_chain, service
from .dataset import ROOT
from .server import Server, cpu_busy, others_share, process_ticks, wait_quiet

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
SLOW_MS = 1000.0  # a step whose first request takes longer runs longer (a few requests) without warm-up
BUSY_LIMIT = 0.25  # CPU share used by other processes above which a step waits (and is flagged)
REP = "rep_east"
ADMIN = "admin"


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def machine(databases: list[dict[str, Any]]) -> dict[str, Any]:
    import sqlite3

    import django
    import gunicorn

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = int(
        next(
            ln.split()[1]
            for ln in Path("/proc/meminfo").read_text().splitlines()
            if ln.startswith("MemTotal")
        )
    )
    wrk = "python (bench.pyload)"
    if load.tool() == "wrk":
        out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk = (
            (out.stdout or out.stderr).splitlines()[0].split(" Copyright")[0]
            if (out.stdout or out.stderr)
            else "wrk"
        )
    pg = next(
        (d["setup"].get("db_version") for d in databases if d["database"] == "postgres" and d.get("setup")),
        None,
    )
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": mem_kb / 1024 / 1024,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "sqlite": sqlite3.sqlite_version,
        "postgres": pg,
        "load_tool": wrk,
    }


def _setup(url: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.prepare", "setup"],
        env=dataset.database_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench.prepare setup failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _diagnose(url: str, endpoints: list[dict[str, Any]]) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.prepare", "diagnose"],
        env=dataset.database_env(url),
        cwd=ROOT,
        input=json.dumps(endpoints),
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if proc.returncode != 0:
        log(f"diagnostics failed (not fatal): {proc.stderr[-2000:]}")
        return []
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _api(q: str | None = None) -> str:
    params = {"limit": "25"}
    if q is not None:
        params["q"] = q
    return "/api/v1/customers?" + urllib.parse.urlencode(params)


def plan_steps(setup: dict[str, Any], session_cookie: str | None) -> list[load.Step]:
    rep = {"Authorization": f"Bearer {setup['tokens'][REP]}"}
    admin = {"Authorization": f"Bearer {setup['tokens'][ADMIN]}"}
    terms = setup["terms"]
    steps: list[load.Step] = []
    for c in (1, 16):
        steps.append(load.Step("ping", "/ping", c, group="floor"))
        steps.append(load.Step("api_list_rep", _api(), c, rep, group="api"))
        if session_cookie:
            steps.append(
                load.Step("html_list_rep", "/customers/", c, {"Cookie": session_cookie}, group="html")
            )
    if session_cookie:
        # The home page (工作台) with the 待办 work list and the follow-up summary (issue 3).
        steps.append(load.Step("html_home_rep", "/", 1, {"Cookie": session_cookie}, group="html"))
    steps.append(load.Step("api_list_admin", _api(), 1, admin, group="api"))
    if setup.get("rep2"):
        rep2 = {"Authorization": f"Bearer {setup['tokens'][setup['rep2']]}"}
        steps.append(load.Step("api_list_rep2", _api(), 1, rep2, group="api"))
    for key in report.SEARCH_LABELS:
        steps.append(load.Step(f"search_{key}_rep", _api(terms[key]), 1, rep, group="search"))
        steps.append(load.Step(f"search_{key}_admin", _api(terms[key]), 1, admin, group="search"))
    # Concurrency 1 first (all endpoints), then 16: the c=1 figures are not disturbed by a prior overload.
    return sorted(steps, key=lambda s: s.concurrency)


def diagnostic_endpoints(setup: dict[str, Any]) -> list[dict[str, Any]]:
    eps = [
        {
            "name": "api_list_rep",
            "path": _api(),
            "user": REP,
            "auth": "bearer",
            "token": setup["tokens"][REP],
        },
        {
            "name": "api_list_admin",
            "path": _api(),
            "user": ADMIN,
            "auth": "bearer",
            "token": setup["tokens"][ADMIN],
        },
        {"name": "html_list_rep", "path": "/customers/", "user": REP, "auth": "session", "token": ""},
    ]
    for key in report.SEARCH_LABELS:
        q = setup["terms"][key]
        eps.append(
            {
                "name": f"search_{key}_rep",
                "path": _api(q),
                "user": REP,
                "auth": "bearer",
                "token": setup["tokens"][REP],
            }
        )
        eps.append(
            {
                "name": f"search_{key}_admin",
                "path": _api(q),
                "user": ADMIN,
                "auth": "bearer",
                "token": setup["tokens"][ADMIN],
            }
        )
    return eps


def _check(port: int, step: load.Step) -> dict[str, Any]:
    """One request before the load: it must answer 200 (a 302 to the log-in page would be fast and wrong)."""
    t0 = time.perf_counter()
    status, _headers, body = load.get(port, step.path, step.headers)
    ms = (time.perf_counter() - t0) * 1000
    if status != 200:
        raise SystemExit(f"{step.name}: GET {step.path} answered {status}: {body[:300]!r}")
    info: dict[str, Any] = {"first_ms": round(ms, 1), "bytes": len(body)}
    if step.path.startswith("/api/"):
        data = json.loads(body)
        info["matches"] = data["count"]
        info["items"] = len(data["items"])
    return info


def bench_database(name: str, customers: int, args: argparse.Namespace) -> dict[str, Any]:
    busy = cpu_busy()
    ds = dataset.ensure(name, customers, log=log, force=name in args.regenerate.split(","))
    result: dict[str, Any] = {"database": name, "dataset": ds.as_dict()}
    if not ds.reused:
        result["dataset"]["busy_before"] = busy
    log(f"[{name}] preparing tokens and search terms")
    setup = _setup(ds.url)
    result["setup"] = {k: v for k, v in setup.items() if k != "tokens"}
    log(f"[{name}] search terms: {setup['terms']}")
    if not args.no_diagnose:
        log(f"[{name}] diagnostics: queries per request and plans")
        result["diagnostics"] = _diagnose(ds.url, diagnostic_endpoints(setup))
        for d in result["diagnostics"]:
            log(f"[{name}]   {d['name']:<24} {d['queries']} queries, {d['in_process_ms']} ms in-process")
    log_path = RESULTS / f"server-{name}.log"
    log_path.unlink(missing_ok=True)
    with Server(ds.url, workers=2, log=log, log_path=log_path) as server:
        log(f"[{name}] kehu serve on {server.base} (workers {server.worker_pids()})")
        cookie = load.login(server.port, REP, dataset.PASSWORD)
        steps = plan_steps(setup, cookie)
        done = []
        for step in steps:
            info = _check(server.port, step)
            seconds, warmup = args.duration, args.warmup
            slow = info["first_ms"] > SLOW_MS
            if slow:
                # The check request was the warm-up; give the step time for a few requests at c=1.
                seconds, warmup = min(60.0, max(args.duration, 3 * info["first_ms"] / 1000)), 0.0
            info["busy_before"] = wait_quiet(limit=BUSY_LIMIT, max_wait=args.wait_idle, log=log)
            before, t0 = process_ticks(), time.monotonic()
            r = load.run_step(server.port, step, seconds=seconds, warmup=warmup).as_dict()
            r["others_cpu"] = others_share(
                before,
                process_ticks(),
                ours={server.proc.pid, *server.worker_pids()},
                seconds=time.monotonic() - t0,
            )
            r.update(info)
            done.append(r)
            # wrk drops requests still running when its time is up; let the server finish them before
            # the next step, so they do not eat into its CPU.
            r["drain_s"] = round(server.drain(), 1)
            log(
                f"[{name}] {step.name:<24} c={step.concurrency:<2} {r['rps']:>8,.1f} req/s  p50 {r['p50_ms'] or 0:>8.2f} "
                f"p95 {r['p95_ms'] or 0:>8.2f} p99 {r['p99_ms'] or 0:>8.2f} ms  n={r['requests']:,}"
                + (f"  non-200={r['non_200']}" if r["non_200"] else "")
                + (f"  hits={info['matches']:,}" if "matches" in info else "")
                + (
                    f"  (other processes used {r['others_cpu']:.0%} of the CPUs)"
                    if r["others_cpu"] > 0.1
                    else ""
                )
            )
        result["steps"] = done
        result["memory"] = server.memory()
        log(f"[{name}] worker peak RSS: {[w['hwm_mb'] for w in result['memory']['workers']]} MB")
    log(f"[{name}] nightly pool return on a copy of the dataset")
    result["recycle"] = recycle.measure(name, customers, ds.url, log=log)
    log(f"[{name}] import of 100,000 customers + 200,000 contacts from .xlsx into a fresh database")
    result["import"] = import_bench.measure(name, log=log)
    if not args.no_sales_chain and customers == dataset.DEFAULT_CUSTOMERS:
        # Issue 4: opportunities, orders and receivables on top of the million customers (bench/sales_chain.py).
        result["sales_chain"] = sales_chain.measure(
            name, ds.url, duration=args.duration, warmup=args.warmup, log=log
        )
        if not args.no_analytics:
            # Issue 5: the ledger topped up to 10,000,000 orders, then a full analytics refresh (bench/analytics.py).
            result["analytics"] = analytics.measure(name, ds.url, runs=2, generate_data=True)
    if not args.no_service and customers == dataset.DEFAULT_CUSTOMERS:
        # Issue 6: tickets topped up to 2,000,000, 200 agents; screen-pop lookup and queues (bench/service.py).
        result["service"] = service.measure(name, ds.url, duration=args.duration, warmup=args.warmup, log=log)
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--customers", type=int, default=None, help="customers to generate (default 1,000,000)")
    ap.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    ap.add_argument("--duration", type=float, default=None, help="seconds per load step (default 10)")
    ap.add_argument("--warmup", type=float, default=None, help="warm-up seconds before each step (default 2)")
    ap.add_argument("--quick", action="store_true", help="20,000 customers and 3 s steps, for trying it out")
    ap.add_argument(
        "--regenerate",
        nargs="?",
        const="sqlite,postgres",
        default="",
        help="regenerate the datasets even if they match (all, or the comma-separated databases named)",
    )
    ap.add_argument("--no-diagnose", action="store_true", help="skip the per-request SQL diagnostics")
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument(
        "--no-sales-chain",
        action="store_true",
        help="skip issue 4's sales-chain figures (they run only at the default 1,000,000 customers)",
    )
    ap.add_argument(
        "--no-analytics", action="store_true", help="skip issue 5's analytics refresh at 10,000,000 orders"
    )
    ap.add_argument(
        "--no-service",
        action="store_true",
        help="skip issue 6's customer-service figures (screen pop, queues)",
    )
    ap.add_argument(
        "--wait-idle",
        type=float,
        default=None,
        help="before each step, wait up to S seconds for other processes to leave the CPUs "
        "(default 120; 0 with --quick)",
    )
    ap.add_argument("--generate-only", action="store_true", help="only generate (or check) the datasets")
    ap.add_argument(
        "--render", metavar="RESULTS_JSON", help="only rewrite docs/benchmarks.md from saved results"
    )
    args = ap.parse_args(argv)
    if args.render:
        write_doc(json.loads(Path(args.render).read_text()))
        return
    raw = list(sys.argv[1:] if argv is None else argv)
    customers = args.customers if args.customers is not None else (20_000 if args.quick else 1_000_000)
    args.duration = args.duration if args.duration is not None else (3.0 if args.quick else 10.0)
    args.wait_idle = args.wait_idle if args.wait_idle is not None else (0.0 if args.quick else 120.0)
    args.warmup = args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0)
    if customers < 1000:
        raise SystemExit("--customers: at least 1,000 (the demo needs a few per rep)")
    if not 1 <= args.duration <= 120:
        raise SystemExit("--duration: between 1 and 120 seconds per step")
    names = [n.strip() for n in args.databases.split(",") if n.strip()]
    bad = set(names) - {"sqlite", "postgres"}
    if bad or not names:
        raise SystemExit(f"--databases: sqlite and/or postgres, not {', '.join(sorted(bad)) or 'nothing'}")

    RESULTS.mkdir(parents=True, exist_ok=True)
    started = datetime.now().astimezone()
    t0 = time.perf_counter()
    command = "python -m bench.run" + (" " + shlex.join(raw) if raw else "")
    log(f"{command}: {customers:,} customers, {args.duration:g} s per step, load tool {load.tool()}")
    if args.generate_only:
        for n in names:
            ds = dataset.ensure(n, customers, log=log, force=n in args.regenerate.split(","))
            log(
                f"[{n}] ready: {ds.customers:,} customers, {ds.contacts:,} contacts, {ds.rows_per_s:,.0f} rows/s"
                + (" (reused)" if ds.reused else "")
            )
        return
    databases = [bench_database(n, customers, args) for n in names]
    results = {
        "started_at": started.isoformat(timespec="seconds"),
        "seconds": time.perf_counter() - t0,
        "command": command,
        "customers": customers,
        "duration": args.duration,
        "warmup": args.warmup,
        "max_requests_per_step": int(args.duration * load.MAX_REQUESTS_PER_SECOND),
        "machine": machine(databases),
        "databases": databases,
        "notes": NOTES,
    }
    stamp = started.strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{stamp}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    (RESULTS / "latest.json").write_text(json.dumps(results, ensure_ascii=False, indent=2))
    log(f"raw results: {out.relative_to(ROOT)}")
    chain = [db["sales_chain"] for db in databases if db.get("sales_chain")]
    if chain:
        sales = {"started_at": results["started_at"], "command": command, "duration": args.duration,
                 "databases": chain}  # fmt: skip
        (RESULTS / f"sales-chain-{stamp}.json").write_text(json.dumps(sales, ensure_ascii=False, indent=2))
        (RESULTS / "sales-chain-latest.json").write_text(json.dumps(sales, ensure_ascii=False, indent=2))
        results["sales_chain"] = sales
    ana = [db["analytics"] for db in databases if db.get("analytics")]
    if ana:
        results["analytics"] = {"started_at": results["started_at"], "command": command, "databases": ana}
        (RESULTS / f"analytics-{stamp}.json").write_text(
            json.dumps(results["analytics"], ensure_ascii=False, indent=2)
        )
    svc = [db["service"] for db in databases if db.get("service")]
    if svc:
        results["service"] = {"started_at": results["started_at"], "command": command, "duration": args.duration,
                              "warmup": args.warmup,
                              "databases": svc}  # fmt: skip
        (RESULTS / f"service-{stamp}.json").write_text(
            json.dumps(results["service"], ensure_ascii=False, indent=2)
        )
        (RESULTS / "service-latest.json").write_text(
            json.dumps(results["service"], ensure_ascii=False, indent=2)
        )
    if not args.no_doc:
        write_doc(results)
    for db in databases:
        log(f"== {db['database']} ==")
        for label, target, measured, met in report.figure_rows(db):
            print(f"  {label:<90} {target:>16}  {measured:<40} {met}")


NOTES: list[str] = []


def write_doc(results: dict[str, Any]) -> None:
    history = report.read_history(DOC)
    line = report.history_line(results)
    stamp = line.split(" `", 1)[0]  # "- <date time>": one line per run, a --render replaces it
    history = [h for h in history if not h.startswith(stamp + " ")] + [line]
    text = report.render(results, history)
    if results.get("sales_chain"):
        text = report.with_sales_section(text, report.sales_chain_section(results["sales_chain"]))
    elif DOC.exists() and report.sales_section_of(DOC.read_text()):
        # Not measured this run: keep the issue-4 section of the previous run.
        text = report.with_sales_section(text, report.sales_section_of(DOC.read_text()))
    if results.get("analytics"):
        text = report.replace_section(text, analytics.HEADING, analytics.section(results["analytics"]))
    elif DOC.exists() and analytics.HEADING in DOC.read_text():
        old = DOC.read_text().split(analytics.HEADING, 1)[1]
        j = old.find("\n## ")
        text = report.replace_section(
            text, analytics.HEADING, analytics.HEADING + (old if j < 0 else old[: j + 1])
        )
    if results.get("service"):
        text = report.replace_section(
            text, report.SERVICE_HEADING, report.service_section(results["service"])
        )
    elif DOC.exists() and report.SERVICE_HEADING in DOC.read_text():
        old = DOC.read_text().split(report.SERVICE_HEADING, 1)[1]
        j = old.find("\n## ")
        text = report.replace_section(
            text, report.SERVICE_HEADING, report.SERVICE_HEADING + (old if j < 0 else old[: j + 1])
        )
    DOC.write_text(text)
    log(f"report: {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
