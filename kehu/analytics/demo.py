"""The analytics' part of ``kehu demo`` (ADR 0009): after every other domain added its records, one
refresh scores the demo customers and stores the relationship periods, so the analytics pages and the 客户价值
tab show figures at once."""

from __future__ import annotations

from django.db import connection

from kehu.customers.extensions import DemoLoad

from .refresh import refresh_all


def contribute(load: DemoLoad) -> dict[str, int]:
    if connection.vendor == "postgresql":
        # The demo's rows are not committed yet, so autovacuum has not analysed them: without statistics
        # the planner chose nested loops for a department manager's ledger (the relationship periods),
        # and at a million customers one query ran for over fifteen minutes. ANALYZE in the transaction
        # sees them.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    run = refresh_all(as_of=load.today)
    run.refresh_from_db()
    tasks = int(run.summary.get("churn", {}).get("tasks", 0))
    load.progress(
        f"  analytics: {run.customers:,} customers scored, {run.buyers:,} buyers, {tasks:,} win-back tasks"
    )
    # The win-back tasks the refresh gave owners are demo rows too (the demo's task count includes them).
    return {"scored": run.customers, "tasks": tasks}
