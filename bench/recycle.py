"""The nightly public-pool return (issue 3: ≤ 30 s over 1,000,000 customers), on a throw-away copy.

The benchmark dataset stays as it is: the run copies it (the SQLite file, or ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL), gives the default pool return rules on the copy, runs ``kehu recycle``
there as a user would (cron), and drops the copy.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from . import dataset

# The rule the measurement sets: back after 90 days without a follow-up or 365 without a deal.
RULE = {"no_follow_up_days": 90, "no_deal_days": 365}
SET_RULE = "UPDATE customers_pool SET no_follow_up_days = {no_follow_up_days}, no_deal_days = {no_deal_days} WHERE is_default"
COUNT_OWNED = "SELECT COUNT(*) FROM customers_customer WHERE owner_id IS NOT NULL AND deleted_at IS NULL"


def _run(url: str, log: Any) -> dict[str, Any]:
    t0 = time.monotonic()
    done = subprocess.run(
        dataset.kehu_argv("recycle"),
        env=dataset.database_env(url),
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - t0
    if done.returncode != 0:
        raise SystemExit(f"kehu recycle failed: {done.stderr[-2000:]}")
    match = re.search(r"returned (\d+) customer", done.stdout)
    returned = int(match.group(1)) if match else 0
    log(f"  kehu recycle: {returned:,} returned in {wall:.1f} s (process wall time)")
    return {"returned": returned, "seconds": round(wall, 1), "rule": RULE, "output": done.stdout.strip()}


def measure(database: str, customers: int, url: str, *, log: Any) -> dict[str, Any]:
    if database == "sqlite":
        source = dataset.sqlite_path(customers)
        copy = source.with_name(source.stem + "-recycle.sqlite3")
        for suffix in ("", "-wal", "-shm"):
            Path(str(copy) + suffix).unlink(missing_ok=True)
        with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
            src.backup(dst)
        try:
            with sqlite3.connect(copy) as db:
                db.execute(SET_RULE.format(**RULE))
                owned = db.execute(COUNT_OWNED).fetchone()[0]
            result = _run(f"sqlite:///{copy}", log)
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(str(copy) + suffix).unlink(missing_ok=True)
    else:
        name = dataset.pg_database(customers) + "_recycle"
        admin = dataset._pg_admin()
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            # Copies the files: no session may be connected to the template (the server has stopped).
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{dataset.pg_database(customers)}"')
        copy_url = url.rsplit("/", 1)[0] + "/" + name
        try:
            import psycopg

            with psycopg.connect(copy_url.replace("postgres://", "postgresql://"), autocommit=True) as db:
                db.execute(SET_RULE.format(**RULE))
                owned = db.execute(COUNT_OWNED).fetchone()[0]
            result = _run(copy_url, log)
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.close()
    result["owned_before"] = owned
    return result
