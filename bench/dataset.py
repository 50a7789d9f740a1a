"""The benchmark datasets: ``kehu migrate`` + ``kehu demo`` into var/bench/ (SQLite) and ``kehu_bench`` (PostgreSQL).

A dataset is reused when its customer and contact counts are what was asked for and its
``*.meta.json`` (written after a successful generation) says so; then the report shows the
generation figures recorded when it was made, marked as reused.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
PG_ADMIN_URL = os.environ.get("KEHU_BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DATABASE = os.environ.get("KEHU_BENCH_PG_DATABASE", "kehu_bench")
DEFAULT_CUSTOMERS = 1_000_000


def pg_database(customers: int) -> str:
    """``kehu_bench`` for the million; other sizes get their own database, so a --quick run keeps it."""
    return PG_DATABASE if customers == DEFAULT_CUSTOMERS else f"{PG_DATABASE}_{customers}"


SEED = 42
CONTACTS_PER_CUSTOMER = 2
# Demo users are created with this password (the demo users of the bench databases only).
PASSWORD = "Bench-kehu-2025!"
RATE_LINE = re.compile(r"inserted ([\d,]+) rows in ([\d.]+) s \(([\d,]+) rows/s\)")


@dataclass
class Dataset:
    database: str  # "sqlite" | "postgres"
    url: str
    customers: int
    contacts: int
    reused: bool = False
    generated_at: str = ""
    seconds: float = 0.0  # kehu demo's own insert time (customers + contacts)
    rows_per_s: float = 0.0
    wall_seconds: float = 0.0  # the whole `kehu demo` process, users and start-up included
    migrate_seconds: float = 0.0
    demo_output_tail: list[str] = field(default_factory=list)
    demo_cpu_seconds: float = 0.0  # CPU used by the kehu demo process (not the database server)
    machine_busy: float = 0.0  # share of all CPUs in use (by anyone) while kehu demo ran
    size_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cpu_ticks() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)


def kehu_argv(*args: str) -> list[str]:
    beside = Path(sys.executable).with_name("kehu")
    head = [str(beside)] if beside.exists() else [sys.executable, "-m", "kehu.cli"]
    return [*head, *args]


def database_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "KEHU_DATABASE_URL": url,
            "DJANGO_SETTINGS_MODULE": "config.settings.base",
            "KEHU_DEBUG": "0",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("KEHU_DEMO_PASSWORD", None)
    return env


def sqlite_path(customers: int) -> Path:
    # One file per size, so a --quick run does not throw away the million-row dataset.
    return BENCH_VAR / f"kehu-{customers}.sqlite3"


def dataset_url(database: str, customers: int) -> str:
    if database == "sqlite":
        return f"sqlite:///{sqlite_path(customers)}"
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return f"{base}/{pg_database(customers)}"


def _meta_path(database: str, customers: int) -> Path:
    if database == "sqlite":
        return sqlite_path(customers).with_suffix(".meta.json")
    return BENCH_VAR / f"{pg_database(customers)}.meta.json"


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(PG_ADMIN_URL, autocommit=True)


def _pg_exists(name: str) -> bool:
    with _pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def _pg_recreate(name: str) -> None:
    from psycopg import sql

    with _pg_admin() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        # template0 keeps the cluster's UTF-8 ctype, which pg_trgm needs to index Chinese characters.
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(sql.Identifier(name))
        )


def row_counts(database: str, url: str, customers: int) -> tuple[int, int] | None:
    """(customers, contacts) in the dataset, or None when it does not exist or is not migrated."""
    try:
        if database == "sqlite":
            import sqlite3

            path = sqlite_path(customers)
            if not path.exists():
                return None
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                c = conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
                k = conn.execute("SELECT count(*) FROM customers_contact").fetchone()[0]
            finally:
                conn.close()
            return c, k
        if not _pg_exists(pg_database(customers)):
            return None
        import psycopg

        with psycopg.connect(url) as conn:
            c = conn.execute("SELECT count(*) FROM customers_customer").fetchone()[0]
            k = conn.execute("SELECT count(*) FROM customers_contact").fetchone()[0]
        return c, k
    except Exception:
        return None


def size_bytes(database: str, url: str, customers: int) -> int:
    if database == "sqlite":
        path = sqlite_path(customers)
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.exists())
    import psycopg

    with psycopg.connect(url) as conn:
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])


def migrate(url: str, log: Any) -> float:
    started = time.perf_counter()
    proc = subprocess.run(
        kehu_argv("migrate", "--no-input"),
        env=database_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        log(proc.stdout[-4000:] + proc.stderr[-4000:])
        raise SystemExit(f"kehu migrate failed on {url}")
    return time.perf_counter() - started


def _analyze(database: str, url: str) -> None:
    """PostgreSQL: fresh statistics, as autovacuum would gather a minute after a bulk load."""
    if database != "postgres":
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) customers_customer")
        conn.execute("VACUUM (ANALYZE) customers_contact")
        conn.execute("ANALYZE")


def ensure(database: str, customers: int, *, log: Any, force: bool = False) -> Dataset:
    """Reuse the dataset when its row counts match, else (re)create it with ``kehu demo``."""
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    url = dataset_url(database, customers)
    contacts = customers * CONTACTS_PER_CUSTOMER
    meta_path = _meta_path(database, customers)
    counts = None if force else row_counts(database, url, customers)
    if counts == (customers, contacts) and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("customers") == customers and meta.get("contacts") == contacts:
            log(
                f"[{database}] reusing the dataset ({customers:,} customers, {contacts:,} contacts, "
                f"generated {meta.get('generated_at')})"
            )
            mig = migrate(url, log)  # applies any migration added since (e.g. new indexes)
            ds = Dataset(**{**meta, "reused": True, "migrate_seconds": mig})
            _analyze(database, url)
            ds.size_bytes = size_bytes(database, url, customers)
            return ds

    log(f"[{database}] generating {customers:,} customers + {contacts:,} contacts (seed {SEED}) …")
    if database == "sqlite":
        path = sqlite_path(customers)
        for p in path.parent.glob(path.name + "*"):
            p.unlink()
        meta_path.unlink(missing_ok=True)
    else:
        meta_path.unlink(missing_ok=True)
        _pg_recreate(pg_database(customers))
    mig = migrate(url, log)
    import resource

    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stat0 = _cpu_ticks()
    started = time.perf_counter()
    argv = kehu_argv(
        "demo",
        "--customers",
        str(customers),
        "--contacts-per-customer",
        str(CONTACTS_PER_CUSTOMER),
        "--seed",
        str(SEED),
        "--password",
        PASSWORD,
    )
    proc = subprocess.Popen(
        argv, env=database_env(url), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip("\n")
        lines.append(line)
        if "rows" in line or "inserted" in line:
            log(f"[{database}] demo: {line.strip()}")
    rc = proc.wait()
    wall = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    stat1 = _cpu_ticks()
    demo_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    machine_busy = 1 - (stat1[1] - stat0[1]) / max(1, stat1[0] - stat0[0])
    if rc != 0:
        log("\n".join(lines[-40:]))
        raise SystemExit(f"kehu demo failed on {database} (exit {rc})")
    seconds = rate = 0.0
    for line in lines:
        m = RATE_LINE.search(line)
        if m:
            seconds, rate = float(m.group(2)), float(m.group(3).replace(",", ""))
    got = row_counts(database, url, customers)
    if got != (customers, contacts):
        raise SystemExit(f"[{database}] expected {customers} customers / {contacts} contacts, found {got}")
    if not rate:  # no summary line: rows over the whole process's wall time
        seconds, rate = wall, (customers + contacts) / wall if wall else 0.0
    ds = Dataset(
        database=database,
        url=url,
        customers=customers,
        contacts=contacts,
        generated_at=datetime.now().astimezone().isoformat(timespec="seconds"),
        seconds=seconds,
        rows_per_s=rate,
        wall_seconds=wall,
        migrate_seconds=mig,
        demo_cpu_seconds=round(demo_cpu, 1),
        machine_busy=round(machine_busy, 3),
        demo_output_tail=[ln for ln in lines if "rows" in ln][-3:],
    )
    meta = ds.as_dict()
    meta.pop("reused")
    meta.pop("size_bytes")
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2))
    _analyze(database, url)
    ds.size_bytes = size_bytes(database, url, customers)
    log(f"[{database}] generated in {wall:.1f} s wall; kehu demo reports {rate:,.0f} rows/s")
    return ds
