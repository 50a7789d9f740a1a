"""The receivables aging of one department (SAL-7: ≤ 200 ms at 5M orders), on PostgreSQL.

Usage, on a migrated database of its own (it writes synthetic rows into ``orders_instalment``)::

    KEHU_DATABASE_URL=postgres://…/kehu_aging_bench .venv/bin/python -m bench.orders_aging [--instalments 3000000]

The aging reads only instalments, so the synthetic data is instalments: three per contract, 2,000
owners in 50 departments, 85 % paid, 5 % on contracts not (or no longer) in force, due dates over
two and a half years. Foreign keys are not checked while loading (``session_replication_role``);
nothing else reads these rows. It prints the time of the page grouped by customer plus the totals
(what the 应收 page and ``GET /api/v1/receivables/aging?scope=dept`` run) and the query plan.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import date

FILL = """
SET session_replication_role = replica;
INSERT INTO orders_instalment (created_at, updated_at, version, contract_id, seq, due_on, amount, remind_days, notes,
                               received, outstanding, receivable, customer_id, owner_id, department_id)
SELECT now(), now(), 1, g / 3 + 1, g %% 3 + 1, %(today)s::date - ((g * 7919) %% 900 - 200)::int, 1000, 7, '',
       CASE WHEN (g * 31) %% 100 < 85 THEN 1000 ELSE (g %% 3) * 250 END,
       CASE WHEN (g * 31) %% 100 < 85 THEN 0 ELSE 1000 - (g %% 3) * 250 END,
       (g * 17) %% 100 < 95, (g / 3) %% 400000 + 1, (g / 3) %% 2000 + 1, ((g / 3) %% 2000) %% 50 + 1
FROM generate_series(0::bigint, %(n)s::bigint - 1) g;
SET session_replication_role = DEFAULT;
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instalments", type=int, default=3_000_000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count

    from kehu.orders.models import Instalment
    from kehu.orders.selectors import _bucket_sums

    if connection.vendor != "postgresql":
        raise SystemExit("run it on PostgreSQL (KEHU_DATABASE_URL=postgres://…)")
    today = date.today()
    if not Instalment.objects.exists():
        t0 = time.perf_counter()
        with connection.cursor() as c:
            c.execute(FILL, {"today": today, "n": args.instalments})
            c.execute("VACUUM ANALYZE orders_instalment")
        print(f"loaded {args.instalments:,} instalments in {time.perf_counter() - t0:.0f} s")
    owners = sorted(o for o in range(1, 2001) if (o - 1) % 50 == 6)  # one department's 40 owners
    qs = Instalment.objects.filter(receivable=True, outstanding__gt=0, owner_id__in=owners)
    sums = _bucket_sums(today)
    largest_first = "-total"  # the aging page's default order
    for group in ("customer_id", "owner_id"):
        best = float("inf")
        for _ in range(5):
            t = time.perf_counter()
            rows = list(qs.values(group).annotate(**sums).order_by(largest_first, group)[:25])
            totals = qs.aggregate(groups=Count(group, distinct=True), **sums)
            best = min(best, (time.perf_counter() - t) * 1000)
        print(
            f"department aging by {group}: {len(rows)} rows of {totals['groups']}, best of 5: {best:.0f} ms"
        )
    sql, params = (
        qs.values("customer_id")
        .annotate(**sums)
        .order_by(largest_first, "customer_id")[:25]
        .query.sql_with_params()
    )
    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        print("\n".join(r[0] for r in c.fetchall()))


if __name__ == "__main__":
    main()
