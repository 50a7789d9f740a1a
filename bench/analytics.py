"""Issue 5's benchmark: a full analytics refresh on 1,000,000 customers and 10,000,000 orders.

    python -m bench.analytics [--databases sqlite,postgres] [--no-generate] [--runs 2] [--no-doc]

On the million-customer datasets of ``make bench`` (bench/dataset.py) after issue 4's sales chain
(bench/sales_chain.py: 5,000,000 orders), it adds purchase histories until the ledger holds 10,000,000
orders: every owned customer follows the BG/NBD story (a gamma-distributed weekly rate, a beta-distributed
chance to drop out after each purchase, a spend level of its own), over three years; two orders in three
know their cost. Then it runs ``kehu analytics refresh`` in a fresh process and reads its wall time, its
own per-step timings and its peak memory (the process's maximum resident set, from ``wait4``):

- once **from scratch** ("build"): every customer marked stale first, as after an installation or a
  bulk load, so the refresh builds every customer's purchase days from the ten million orders;
- then ``--runs`` times **nightly**: each a day later than the run before (the build is as of ``--runs``
  days ago, the last nightly run as of today: ``--as-of``), after that day's changes to the ledger
  (:data:`DAY_NEW` new orders of the day for random customers and :data:`DAY_CHANGED` orders' amounts
  changed), so the refresh brings only those customers' purchase days and summaries up to date — and
  those whose summaries the passing day changes — before it scores everyone.

The timed runs are ``--part scores``. Then the relationship report's stored periods (ANA-6, which the
nightly job adds after the scores) are stored once in a fresh process of their own (``--part
relationship``: the company's ledger and each manager's), and the admin's and ``manager_east``'s 本年
report are read from them and computed live (:func:`reports`).
Results go to bench/results/analytics-*.json and the "Issue 5" section of docs/benchmarks.md.
Targets (issue 5): ≤ 10 s end to end, ≤ 2 GB peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

TARGET_ORDERS = int(os.environ.get("KEHU_BENCH_ANALYTICS_ORDERS", "10000000"))  # smaller to try the harness
SEED = 5
TARGET_SECONDS = 10.0
TARGET_MB = 2048.0
HEADING = "## Issue 5 — the analytics refresh"
DAY_NEW = 10_000  # orders a day brings to a company of a million customers (bench: new orders of today)
DAY_CHANGED = 2_000  # … and orders whose amount is corrected
REPORT_RUNS = 3  # reads of the stored relationship report per kind


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


# --- generation (inside Django, in a child process) -----------------------------------------------


def generate() -> dict[str, Any]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    import numpy as np
    from django.db import connection, transaction

    from .sales_chain import PRODUCTS, Writer, _next_id, _owners, _reserve, _reset_identity

    w = Writer(connection)
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM orders_order")
        have = int(cur.fetchone()[0])
        if have >= TARGET_ORDERS:
            log(f"orders: {have:,} already — nothing to add")
            return {"orders": have, "added": 0, "seconds": 0.0}
        need = TARGET_ORDERS - have
        t0 = time.perf_counter()
        cur.execute(
            "SELECT id, owner_id FROM customers_customer WHERE owner_id IS NOT NULL AND deleted_at IS NULL ORDER BY id"
        )
        pairs = np.array(cur.fetchall(), dtype=np.int64).reshape(-1, 2)
        owner_dept = _owners()
        rng = np.random.default_rng(SEED)
        n = pairs.shape[0]
        weeks = 156.0
        # Purchase counts: Poisson(λ·T) cut off by a geometric dropout; scaled to add exactly `need` orders.
        rate = rng.gamma(0.55, 1.0, n)
        dropout = rng.beta(0.9, 2.6, n)
        wanted = rng.poisson(rate * weeks * need / (0.55 * weeks * n))
        alive = rng.geometric(np.clip(dropout, 1e-3, 1.0))
        k = np.minimum(wanted, alive)
        total = int(k.sum())
        if total > need:  # trim the largest buyers' tails until the count is exact
            over = total - need
            order = np.argsort(-k)
            cut = np.minimum(k[order], np.ceil(over / max(1, (k > 1).sum())).astype(np.int64))
            k[order] -= cut
            k = np.maximum(k, 0)
        while int(k.sum()) < need:  # top up a few one-off buyers
            short = need - int(k.sum())
            k[rng.integers(0, n, short)] += 1
        excess = int(k.sum()) - need
        if excess > 0:
            k[np.flatnonzero(k > 1)[:excess]] -= 1
        spend = rng.gamma(2.0, 400.0, n)
        today = date.today()
        first_day = (today - timedelta(days=int(weeks * 7))).toordinal()
        start = first_day + rng.integers(0, int(weeks * 7 * 0.6), n)
        span = np.maximum(1, today.toordinal() - start)
        active = np.where(k < wanted, np.minimum(span, np.ceil(k / np.maximum(rate, 1e-3) * 7)), span)
        owner_of = pairs[:, 1]
        customer_of = pairs[:, 0]
        cust_idx = np.repeat(np.arange(n), k)
        days = start[cust_idx] + (rng.random(cust_idx.shape[0]) * active[cust_idx]).astype(np.int64)
        days = np.minimum(days, today.toordinal() - 1)
        amount = np.maximum(1, np.round(spend[cust_idx] * rng.gamma(4.0, 0.25, cust_idx.shape[0]))).astype(
            np.int64
        )
        log(f"history: {n:,} owned customers, {int(k.sum()):,} orders to add ({(k > 0).sum():,} buyers)")
        first_number = _reserve("order", need)
        stamp = w.ts(datetime.now(UTC))
        with transaction.atomic():
            order_id = _next_id(cur, "orders_order")
            line_id = _next_id(cur, "orders_orderline")
            step = 500_000
            written = 0
            for lo in range(0, need, step):
                hi = min(need, lo + step)
                orders, lines = [], []
                for j in range(lo, hi):
                    i = int(cust_idx[j])
                    d = date.fromordinal(int(days[j]))
                    owner = int(owner_of[i])
                    amt = int(amount[j])
                    name, model, unit = PRODUCTS[j % len(PRODUCTS)]
                    unit_cost = f"{amt * 62 // 100}.00" if j % 3 else None
                    orders.append((
                        order_id, stamp, stamp, 1, f"DD{d:%Y}{first_number + j:07d}", d.isoformat(),
                        (d + timedelta(days=10)).isoformat(), "delivered", f"{amt}.00", unit_cost, "CNY", "历史订单", "",
                        None, owner, owner_dept.get(owner), int(customer_of[i]), owner,
                    ))  # fmt: skip
                    lines.append((line_id, order_id, 1, None, name, model, unit, f"{amt}.00", "1.00", f"{amt}.00",
                                  unit_cost, "1.00", ""))  # fmt: skip
                    order_id += 1
                    line_id += 1
                written += w.write(
                    "orders_order",
                    ["id", "created_at", "updated_at", "version", "number", "order_date", "promised_ship_on", "status",
                     "total_amount", "cost_amount", "currency", "notes", "cancel_reason", "contract_id",
                     "created_by_id", "department_id", "customer_id", "owner_id"],
                    orders,
                )  # fmt: skip
                w.write(
                    "orders_orderline",
                    ["id", "order_id", "position", "product_id", "product_name", "model", "unit", "unit_price",
                     "quantity", "total", "unit_cost", "shipped_quantity", "notes"],
                    lines,
                )  # fmt: skip
                log(f"history: {written:,} / {need:,} orders")
            _reset_identity(cur, w.pg, ["orders_order", "orders_orderline"])
        if w.pg:
            cur.execute("VACUUM ANALYZE orders_order")
        secs = time.perf_counter() - t0
        log(f"history: {written:,} orders (+ lines) in {secs:.0f} s")
        return {"orders": have + written, "added": written, "seconds": round(secs, 1)}


def counts() -> dict[str, int]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.db import connection

    out = {}
    with connection.cursor() as cur:
        for key, sql in {
            "customers": "SELECT COUNT(*) FROM customers_customer WHERE deleted_at IS NULL",
            "orders": "SELECT COUNT(*) FROM orders_order",
            "interactions": "SELECT COUNT(*) FROM engagement_interaction",
        }.items():
            cur.execute(sql)
            out[key] = int(cur.fetchone()[0])
    return out


def everyone_stale() -> dict[str, Any]:
    """Mark every customer's purchase days stale, as the migration does for a new installation."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from kehu.analytics.models import PurchaseDaysStale

    PurchaseDaysStale.objects.create(customer_id=None)
    return {"stale": PurchaseDaysStale.objects.count()}


def day_changes() -> dict[str, Any]:
    """A day's changes to the ledger: :data:`DAY_NEW` orders of today (copies of random orders, for their
    customers) and :data:`DAY_CHANGED` random orders' amounts raised by a yuan — through the ORM, so the
    orders table's triggers mark those customers as any page would."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    import numpy as np
    from django.db import transaction
    from django.db.models import F, Max, Min
    from django.utils import timezone

    from kehu.analytics.models import PurchaseDaysStale
    from kehu.orders.models import Order

    t0 = time.perf_counter()
    bounds = Order.objects.aggregate(lo=Min("id"), hi=Max("id"))
    rng = np.random.default_rng(time.time_ns() % 2**32)
    picked = rng.integers(bounds["lo"], bounds["hi"] + 1, DAY_NEW + DAY_CHANGED).tolist()
    today = (
        date.fromisoformat(os.environ["KEHU_BENCH_DAY"])
        if "KEHU_BENCH_DAY" in os.environ
        else timezone.localdate()
    )
    stamp = time.strftime("%y%m%d%H%M%S")
    new = []
    for i, order in enumerate(Order.objects.filter(pk__in=picked[:DAY_NEW])):
        order.pk, order.number, order.order_date, order.version = None, f"D{stamp}{i:06d}", today, 1
        new.append(order)
    with transaction.atomic():
        Order.objects.bulk_create(new, batch_size=2_000)
        changed = Order.objects.filter(pk__in=picked[DAY_NEW:]).update(total_amount=F("total_amount") + 1)
    return {"new": len(new), "changed": changed, "stale": PurchaseDaysStale.objects.count(),
            "seconds": round(time.perf_counter() - t0, 2)}  # fmt: skip


def reports() -> dict[str, Any]:
    """The relationship report (ANA-6) as the admin for 本年 by month and owner, in-process: read from the
    stored periods (:data:`REPORT_RUNS` times, after one warm-up) and computed live once (``live=1``), with
    each one's headline figures, which must agree — the periods were stored after the last change."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from kehu.access.models import User
    from kehu.analytics.selectors import relationship_report

    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="manager_east")

    def timed(filters: dict[str, str], actor: Any = admin) -> tuple[float, Any]:
        t0 = time.perf_counter()
        r = relationship_report(actor=actor, filters=filters)
        return time.perf_counter() - t0, r

    def figures(r: Any) -> list[Any]:
        t = r.total
        return [str(t.revenue), str(t.repeat_revenue), str(t.cross_sell), str(t.up_sell), t.active, t.referrals,
                t.median_days, len(r.cells)]  # fmt: skip

    out: dict[str, Any] = {}
    # The manager's own ledger (their department's orders, ADR 0019): stored since 2026-12-03 (evening).
    for name, actor, filters in (("year_month_owner", admin, {"period": "year"}),
                                 ("year_quarter_department", admin, {"period": "year", "bucket": "quarter", "group": "department"}),
                                 ("manager_year_month_owner", manager, {"period": "year"})):  # fmt: skip
        timed(filters, actor)  # warm-up
        stored = [timed(filters, actor) for _ in range(REPORT_RUNS)]
        live_s, live = timed({**filters, "live": "1"}, actor)
        out[name] = {"stored_s": [round(s, 3) for s, _r in stored], "stored": stored[-1][1].stored,
                     "as_of": str(stored[-1][1].as_of), "live_s": round(live_s, 2),
                     "figures_stored": figures(stored[-1][1]), "figures_live": figures(live),
                     "same": figures(stored[-1][1]) == figures(live)}  # fmt: skip
    # The value of a period (ANA-1 by period): 本年 for the admin's 全部 and a rep's 本人, from the purchase days.
    from kehu.analytics.selectors import period_value

    for name, username, scope in (("value_year_all", "admin", "all"), ("value_year_rep", "rep_east", "mine")):
        actor = User.objects.get(username=username)
        period_value(actor=actor, scope=scope, filters={"period": "year"})  # warm-up
        runs = []
        for _ in range(REPORT_RUNS):
            t0 = time.perf_counter()
            v = period_value(actor=actor, scope=scope, filters={"period": "year"})
            runs.append(round(time.perf_counter() - t0, 3))
        out[name] = {"seconds": runs, "buyers": v.buyers, "revenue": str(v.revenue),
                     "top_value_share": (v.pareto or {}).get("top_value_share")}  # fmt: skip
    return out


# --- the measured run (parent process) -------------------------------------------------------------


def _child(url: str, command: str, day: date | None = None) -> dict[str, Any]:
    from .dataset import ROOT, database_env

    env = database_env(url) | ({"KEHU_BENCH_DAY": day.isoformat()} if day else {})
    proc = subprocess.run(
        [sys.executable, "-m", "bench.analytics", command], env=env, cwd=ROOT,
        stdout=subprocess.PIPE, text=True, timeout=7200, check=False,
    )  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"bench.analytics {command} failed on {url} (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _compiled(root: Path) -> None:
    """Kehu's modules compiled to bytecode, as an installed package has them (pip compiles on install):
    with ``PYTHONDONTWRITEBYTECODE`` set, as on this machine, each timed process would otherwise compile
    every module it imports again (`django.setup()` took 1.63–1.90 s of CPU so, 1.25–1.38 s compiled)."""
    import compileall

    for package in ("kehu", "config"):
        compileall.compile_dir(root / package, quiet=1, workers=1)


def _process_tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo += children.get(pid, [])
    return tree


def tree_memory_parts(pid: int) -> tuple[int, int, int]:
    """Bytes held now by the process ``pid`` (its resident set), by its descendants (their own memory:
    anonymous and shared-memory pages; the files they map — Python, the libraries — are mostly those the
    process maps too), and by Kehu's scratch files in shared memory (``/dev/shm/kehu-adbc-*``: Arrow files,
    scratch databases), which are memory too."""
    own = descendants = scratch_files = 0
    for member in _process_tree(pid):
        fields = ("VmRSS:",) if member == pid else ("RssAnon:", "RssShmem:")
        try:
            status = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        size = sum(int(line.split()[1]) * 1024 for line in status if line.startswith(fields))
        if member == pid:
            own += size
        else:
            descendants += size
    for scratch in Path("/dev/shm").glob("kehu-adbc-*"):
        for f in scratch.glob("*"):
            try:
                scratch_files += f.stat().st_blocks * 512
            except OSError:
                continue
    return own, descendants, scratch_files


class _TreeMemory:
    """The most memory a process and its descendants (the refresh's ADBC children) held at once, sampled
    every 50 ms until :meth:`stop` (:func:`tree_memory_parts`, summed). ``wait4``'s peak is the largest
    single process's. PostgreSQL's server processes are not the refresh's and not counted."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="tree-memory", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._done.wait(0.05):
            self.peak = max(self.peak, sum(tree_memory_parts(self.pid)))

    def stop(self) -> float:
        """The peak, in MB."""
        self._done.set()
        self._thread.join()
        return round(self.peak / 2**20, 1)


def _refresh(url: str, part: str = "scores", as_of: date | None = None) -> dict[str, Any]:
    """One ``kehu analytics refresh --part PART`` in a fresh process: wall seconds, peak RSS, its own JSON
    line. The timed runs are the scores (the target's "full refresh": RFM … lifecycle); the relationship
    report's stored periods, which the nightly job adds after them, are measured apart."""
    from .dataset import ROOT, database_env
    from .server import cpu_busy

    kehu = str(Path(sys.executable).with_name("kehu"))
    busy = cpu_busy()
    t0 = time.perf_counter()
    day = ["--as-of", as_of.isoformat()] if as_of else []
    proc = subprocess.Popen([kehu, "analytics", "refresh", "--part", part, *day], env=database_env(url), cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    memory = _TreeMemory(proc.pid)
    out = proc.stdout.read() if proc.stdout else ""
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    tree_mb = memory.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"kehu analytics refresh failed on {url} (exit {proc.returncode})")
    result = json.loads(out.strip().splitlines()[-1])
    return {"wall_s": round(wall, 2), "peak_mb": round(usage.ru_maxrss / 1024, 1), "tree_peak_mb": tree_mb,
            "others_cpu_before": busy, "refresh": result}  # fmt: skip


def measure(name: str, url: str, *, runs: int, generate_data: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"database": name}
    if generate_data:
        log(f"[{name}] topping up the ledger to {TARGET_ORDERS:,} orders (nice) …")
        out["generate"] = _child(url, "generate")
    out["counts"] = _child(url, "counts")
    log(f"[{name}] {out['counts']}")
    out["runs"] = []
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    for i in range(runs + 1):
        kind = "build" if i == 0 else "nightly"
        day = today - timedelta(days=runs - i)
        before = _child(url, "everyone-stale" if kind == "build" else "day-changes", day)
        r = _refresh(url, as_of=day)
        r.update(kind=kind, before=before, as_of=day.isoformat())
        log(
            f"[{name}] refresh {i + 1} ({kind}, {before}): {r['wall_s']} s wall, peak {r['peak_mb']} MB"
            f" (with its children and scratch files {r['tree_peak_mb']} MB),"
            f" steps {r['refresh']['timings']}"
        )
        out["runs"].append(r)
    r = _refresh(url, "relationship")
    log(f"[{name}] relationship periods: {r['wall_s']} s wall, peak {r['peak_mb']} MB, {r['refresh']}")
    out["relationship_store"] = r
    out["relationship_reports"] = _child(url, "reports")
    log(f"[{name}] relationship reports: {out['relationship_reports']}")
    return out


def section(results: dict[str, Any]) -> str:
    lines = [
        HEADING, "",
        "Written by `python -m bench.analytics` (also run by `make bench`); raw results in `bench/results/analytics-*.json`.",
        "",
        f"- **Date:** {results['started_at']}; **command:** `{results['command']}`",
        "- **How:** `kehu analytics refresh --part scores` in a fresh process (reads the ledger, fits BG/NBD + Gamma-Gamma, scores "
        "every customer, churn and lifecycle rules, replaces every score row, win-back tasks); wall time from the "
        "parent. Peak memory: the process's maximum resident set (`wait4`: its largest, or its largest "
        "child's), and *with children* the most that the process, its ADBC child processes and their scratch "
        "files in `/dev/shm` held at once (sampled every 50 ms; "
        + (
            "the process's resident set, each child's anonymous and shared memory, the files' size"
            if results.get("tree_measure") == "own-memory"
            # The first version of the measure (2026-12-04, fifth session), kept for the runs it made.
            else "every process's resident set summed — the pages they share, Python and the libraries, "
            "counted in each: an upper bound — and the files' size"
        )
        + "). Targets: ≤ 10 s, ≤ 2 GB (checked on the larger; MB here are MiB, so 2 GB is 2,048).",
        "",
        "- **Runs:** *build* marks every customer stale first (an installation, a bulk load): the refresh builds "
        "every customer's purchase days from the orders, and sums every customer's purchase summary from them "
        "(*summarize*). Each *nightly* run is one day later (`--as-of`; the last is today) and follows that day's "
        f"changes ({DAY_NEW:,} new orders of the day, {DAY_CHANGED:,} amounts corrected): only those customers' "
        "purchase days are written again, and their summaries with those the passing day changes (the *sync* "
        "step); every score is computed and written as before.",
        "",
        "- **The steps' columns** are the run's own laps, one after the other. Some work runs beside a step and is "
        "counted in it: the RFM scores and the Gamma-Gamma fit run in threads during *fit* (*rfm* is only what was "
        "left to wait for), the scoring runs in two halves at once, and the run's figures are worked out during "
        "*write* (*summary* is then only their storing). On SQLite the write's child checkpoints the log while the "
        "tasks and the summary are stored and the run is committed; *checkpoint* is what was left to wait for after that. Kehu's modules are compiled to bytecode first, as an "
        "installed package has them.",
        "",
        "| Database | Customers | Orders | Run | Wall (s) | Peak (MB) | with children (MB) | sync | read | summarize | history | rfm | fit | score | rules | prepare | write | tasks | summary | checkpoint | Met? |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for db in results["databases"]:
        c = db["counts"]
        for i, r in enumerate(db["runs"], 1):
            t = r["refresh"]["timings"]
            tree = r.get("tree_peak_mb")  # not measured before 2026-12-04 (fifth session)
            met = r["wall_s"] <= TARGET_SECONDS and max(r["peak_mb"], tree or 0) <= TARGET_MB
            steps = " | ".join(
                f"{t.get(k, 0):.2f}"
                for k in (
                    "sync",
                    "read",
                    "summarize",
                    "history",
                    "rfm",
                    "fit",
                    "score",
                    "rules",
                    "prepare",
                    "write",
                    "tasks",
                    "summary",
                    "checkpoint",
                )
            )
            lines.append(
                f"| {db['database']} | {c['customers']:,} | {c['orders']:,} | {i} {r.get('kind', '')} | {r['wall_s']:.1f} | {r['peak_mb']:,.0f} "
                f"| {'—' if tree is None else f'{tree:,.0f}'} | {steps} | {'yes' if met else '**no**'} |"
            )  # fmt: skip
    lines += [
        "",
        "**The relationship report's stored periods (ANA-6, ADR 0019).** After the scores, the nightly job stores "
        "this year's and last year's months and quarters (`kehu analytics refresh --part relationship`, a fresh "
        "process, measured apart from the target above) — the company's ledger and each team or department manager's "
        "own. Then, in-process, the admin's and `manager_east`'s 本年 report read from them "
        f"({REPORT_RUNS} reads after a warm-up) and computed live once (`live=1`); *same* compares revenue, repeat, "
        "cross-sell, up-sell, active customers, referrals, the median length and the cell count.",
        "",
        "| Database | Store wall (s) | Store peak (MB) | Ledgers / periods / cells | Report | Stored read (s) | Live (s) | Same? |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for db in results["databases"]:
        store, reads = db.get("relationship_store"), db.get("relationship_reports") or {}
        if not store:
            continue
        stored = store["refresh"]["relationship"]
        for name, r in reads.items():
            if "stored_s" not in r:
                continue
            lines.append(
                f"| {db['database']} | {store['wall_s']:.1f} | {store['peak_mb']:,.0f} | {stored.get('ledgers', 1)} / {stored['periods']} / "
                f"{stored['cells']:,} | {name} | {' / '.join(f'{s:.2f}' for s in r['stored_s'])} | {r['live_s']:.1f} "
                f"| {'yes' if r['same'] else '**no**'} |"
            )
    values = [(db["database"], name, r) for db in results["databases"]
              for name, r in (db.get("relationship_reports") or {}).items() if name.startswith("value_")]  # fmt: skip
    if values:
        lines += [
            "",
            "**The value of a period (ANA-1 by period: `selectors.period_value`, the overview's 期间价值 card and "
            f"`GET /api/v1/analytics/value`),** 本年, in-process, {REPORT_RUNS} runs after a warm-up: the admin's 全部 "
            "and `rep_east`'s 本人.",
            "",
            "| Database | Case | Seconds | Buyers | Top-20 % share |",
            "|---|---|---|---|---|",
        ]
        for database, name, r in values:
            share = r.get("top_value_share")
            lines.append(
                f"| {database} | {name} | {' / '.join(f'{x:.2f}' for x in r['seconds'])} | {r['buyers']:,} | "
                f"{'—' if share is None else f'{share:.1%}'} |"
            )
    notes = Path(__file__).with_name("analytics_analysis.md")
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"


def write_doc(doc: Path, results: dict[str, Any]) -> None:
    from .report import replace_section

    text = doc.read_text() if doc.exists() else "# Benchmarks\n\n"
    doc.write_text(replace_section(text, HEADING, section(results)))


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    commands = {
        "generate": generate,
        "counts": counts,
        "everyone-stale": everyone_stale,
        "day-changes": day_changes,
        "reports": reports,
    }
    if args[:1] and args[0] in commands:
        print(json.dumps(commands[args[0]](), default=str))
        return
    ap = argparse.ArgumentParser(prog="python -m bench.analytics", description=__doc__.split("\n\n")[0])
    ap.add_argument("--databases", default="sqlite,postgres")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--no-generate", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    a = ap.parse_args(args)
    from .dataset import DEFAULT_CUSTOMERS, ROOT, dataset_url

    _compiled(ROOT)
    results: dict[str, Any] = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.analytics " + " ".join(args),
        "tree_measure": "own-memory",  # how the peak with children is taken (_TreeMemory; section())
        "databases": [],
    }
    for name in [n.strip() for n in a.databases.split(",") if n.strip()]:
        results["databases"].append(
            measure(name, dataset_url(name, DEFAULT_CUSTOMERS), runs=a.runs, generate_data=not a.no_generate)
        )
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for path in (out_dir / f"analytics-{stamp}.json", out_dir / "analytics-latest.json"):
        path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    if not a.no_doc:
        write_doc(ROOT / "docs" / "benchmarks.md", results)
    print(section(results))


if __name__ == "__main__":
    main()
