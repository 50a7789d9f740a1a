"""ANA-6 relationship report timing: ``relationship()`` for one year as the admin on a generated ledger.

    python -m bench.relationship --database sqlite|postgres [--customers 20000] [--orders 200000] [--runs 3]
                                 [--generate] [--drop] [--url DATABASE_URL]

``--generate`` makes a fresh database (SQLite var/bench/relationship.sqlite3, PostgreSQL
``kehu_ana6_bench``): ``kehu migrate``, ``kehu demo`` customers (with the demo's own orders: about
34,000 at 20,000 customers), a few products in five categories (and one without), then ``--orders`` more
orders of two lines each over three years up to today
(same-day repeats, orders sold by another rep, one in fifty cancelled, a line in twenty without a
product). Without it the existing database is reused. The timings are of the selector the page and the
API call, in-process, after one warm-up run; each case's digest (every figure of every row) lets two
versions be compared on the same data (``--compare path/to/an/older/relationship.py`` runs both).
``--drop`` drops the PostgreSQL database at the end. ``--url`` times an existing database instead, e.g. the
issue-5 benchmark's (1,000,000 customers, 10,000,000 orders: ``bench.analytics generate``).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SQLITE = ROOT / "var" / "bench" / "relationship.sqlite3"
PG_ADMIN = os.environ.get("KEHU_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_NAME = "kehu_ana6_bench"
PG_URL = PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_NAME


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def _kehu(url: str, *args: str) -> None:
    env = {**os.environ, "KEHU_DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    subprocess.run([sys.executable, "-m", "django", *args], check=True, env=env, cwd=ROOT)


def _pg_admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(statement)


def fresh(database: str, customers: int) -> str:
    if database == "sqlite":
        SQLITE.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE}"
    else:
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME}")
        _pg_admin(f"CREATE DATABASE {PG_NAME}")
        url = PG_URL
    log(f"{database}: migrate + demo ({customers:,} customers)")
    _kehu(url, "migrate", "-v", "0")
    _kehu(url, "demo", "--customers", str(customers), "--contacts-per-customer", "0", "--workers", "1",
          "--password", "Bench-kehu-2025!")  # fmt: skip
    return url


def generate_orders(orders: int) -> None:
    import datetime as dt
    from decimal import Decimal

    import numpy as np
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.access.models import User
    from kehu.catalog.models import Product
    from kehu.customers.models import Customer
    from kehu.orders.models import Order, OrderLine

    rng = np.random.default_rng(6)
    categories = ["机床", "刀具", "量具", "夹具", " 耗材", ""]
    products = [
        Product.objects.create(code=f"RB-{i:03d}", name=f"产品{i}", category=categories[i % len(categories)])
        for i in range(24)
    ]
    customers = np.array(
        Customer.objects.filter(owner__isnull=False).order_by("pk").values_list("pk", "owner_id"),
        dtype=np.int64,
    )
    users = {u.pk: u.department_id for u in User.objects.all()}
    owners = np.array(sorted({int(o) for o in customers[:, 1]}), dtype=np.int64)
    admin = User.objects.get(username="admin")
    today = timezone.localdate()
    first = today - dt.timedelta(days=3 * 365)
    # Customers buy at their own rate: a few buy often, most a few times.
    weights = rng.gamma(0.6, 1.0, customers.shape[0])
    who = rng.choice(customers.shape[0], size=orders, p=weights / weights.sum())
    start = rng.integers(0, 3 * 365, customers.shape[0])
    days = np.minimum(start[who] + rng.integers(0, 3 * 365, orders) // 2, 3 * 365)
    same_day = rng.random(orders) < 0.05  # the customer's previous order's day
    order_ = np.lexsort((days, who))
    who, days, same_day = who[order_], days[order_], same_day[order_]
    days[1:][same_day[1:] & (who[1:] == who[:-1])] = days[:-1][same_day[1:] & (who[1:] == who[:-1])]
    other_rep = rng.random(orders) < 0.1
    rep = np.where(other_rep, owners[rng.integers(0, owners.shape[0], orders)], customers[who, 1])
    cancelled = rng.random(orders) < 0.02
    prod = rng.integers(0, len(products), (orders, 2))
    no_product = rng.random((orders, 2)) < 0.05
    price = rng.integers(50, 5000, (orders, 2)) * 100 + rng.integers(0, 100, (orders, 2))
    qty = rng.integers(1, 4, (orders, 2))
    log(f"orders: {orders:,} for {np.unique(who).shape[0]:,} customers")
    t0 = time.perf_counter()
    step = 20_000
    with transaction.atomic():
        for lo in range(0, orders, step):
            hi = min(orders, lo + step)
            batch = []
            for j in range(lo, hi):
                owner = int(rep[j])
                total = int(price[j, 0] * qty[j, 0] + price[j, 1] * qty[j, 1])
                batch.append(Order(
                    number=f"RB{j:08d}", customer_id=int(customers[who[j], 0]),
                    order_date=first + dt.timedelta(days=int(days[j])),
                    status="cancelled" if cancelled[j] else "delivered",
                    total_amount=Decimal(total).scaleb(-2), owner_id=owner, department_id=users.get(owner),
                    created_by=admin,
                ))  # fmt: skip
            made = Order.objects.bulk_create(batch)
            lines = []
            for j, order in zip(range(lo, hi), made, strict=True):
                for k in (0, 1):
                    product = None if no_product[j, k] else products[int(prod[j, k])]
                    unit = Decimal(int(price[j, k])).scaleb(-2)
                    lines.append(OrderLine(
                        order_id=order.pk, position=k + 1, product=product, product_name="x", unit_price=unit,
                        quantity=Decimal(int(qty[j, k])), total=unit * int(qty[j, k]),
                    ))  # fmt: skip
            OrderLine.objects.bulk_create(lines)
            log(f"orders: {hi:,} / {orders:,}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("VACUUM ANALYZE")
    log(f"orders: written in {time.perf_counter() - t0:.0f} s")


def digest(r: Any) -> str:
    """Every figure of every row, as text: equal digests, equal reports."""
    parts = []
    for f in [r.total, *r.periods, *r.groups, *(c for _p, c in r.cells)]:
        d = f.as_dict()
        parts.append(repr(sorted((k, str(v)) for k, v in d.items())))
        parts.append(repr(sorted(int(x) for x in f.lengths)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


CASES: list[tuple[str, dict[str, str]]] = [
    ("admin", {}),
    ("admin", {"group": "department", "bucket": "quarter"}),
    ("admin", {"period": "custom", "from": "2025-03-15", "to": "2026-02-10", "lost_days": "90"}),
    ("manager_east", {"scope": "team"}),
    ("rep_east", {}),
]


def measure(runs: int, compare: str | None) -> None:
    from django.db import connection

    from kehu.access.models import User
    from kehu.analytics.selectors import relationship_report

    admin = User.objects.get(username="admin")
    load = os.getloadavg()[0]
    relationship_report(actor=admin, filters={"period": "year"})  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        r = relationship_report(actor=admin, filters={"period": "year"})
        times.append(time.perf_counter() - t0)
    log(f"{connection.vendor}: one year as admin: {', '.join(f'{t:.2f}' for t in times)} s "
        f"(median {statistics.median(times):.2f} s; load before {load:.2f}, after {os.getloadavg()[0]:.2f}); "
        f"active {r.total.active:,}, revenue {r.total.revenue}")  # fmt: skip
    for username, filters in CASES:
        actor = User.objects.get(username=username)
        t0 = time.perf_counter()
        r = relationship_report(actor=actor, filters={"period": "year", **filters})
        took = time.perf_counter() - t0
        line = f"{username} {filters}: {digest(r)} ({took:.2f} s)"
        if compare:
            import importlib.util

            from kehu.analytics.selectors import default_scope

            spec = importlib.util.spec_from_file_location("kehu.analytics._old_relationship", compare)
            assert spec and spec.loader
            old = importlib.util.module_from_spec(spec)
            sys.modules["kehu.analytics._old_relationship"] = old
            spec.loader.exec_module(old)
            t0 = time.perf_counter()
            o = old.relationship(
                actor=actor, filters={"period": "year", **filters}, default_scope=default_scope(actor)
            )
            took = time.perf_counter() - t0
            line += f" old {digest(o)} ({took:.2f} s) {'SAME' if digest(o) == digest(r) else 'DIFFERENT'}"
        log(line)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], required=True)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--generate", action="store_true")
    parser.add_argument("--drop", action="store_true")
    parser.add_argument("--compare", help="a copy of an older relationship.py to compare digests with")
    parser.add_argument("--url", help="time this existing database (no --generate, no --drop)")
    args = parser.parse_args(argv)
    if args.url and (args.generate or args.drop):
        parser.error("--url times an existing database: not with --generate or --drop")
    url = args.url or (f"sqlite:///{SQLITE}" if args.database == "sqlite" else PG_URL)
    if args.generate:
        url = fresh(args.database, args.customers)
    os.environ["KEHU_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    if args.generate:
        generate_orders(args.orders)
    measure(args.runs, args.compare)
    if args.drop and args.database == "postgres":
        from django.db import connections

        connections.close_all()
        _pg_admin(f"DROP DATABASE IF EXISTS {PG_NAME}")
        log(f"dropped {PG_NAME}")


if __name__ == "__main__":
    main()
