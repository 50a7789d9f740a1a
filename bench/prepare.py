"""Inside Django, against one benchmark database (run as a subprocess with KEHU_DATABASE_URL set).

``python -m bench.prepare setup``     API tokens of the bench users, search terms taken from the data, counts.
``python -m bench.prepare diagnose``  per endpoint (JSON list on stdin): SQL queries per request, in-process
                                      time, and the plans of the slowest queries (EXPLAIN QUERY PLAN on
                                      SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from typing import Any

REP = os.environ.get("KEHU_BENCH_REP", "rep_east")
ADMIN = os.environ.get("KEHU_BENCH_ADMIN", "admin")
# A rep who, unlike rep_east, is nobody's collaborator: the usual case (the demo's extra reps).
REP2 = os.environ.get("KEHU_BENCH_REP2", "rep_east3")


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def _terms(rep: Any) -> dict[str, str]:
    """Four searches a rep would type, taken from one of the rep's own company customers (so each hits)."""
    from kehu.core.pinyin import pinyin_keys
    from kehu.customers.demo import BRANDS, REGIONS
    from kehu.customers.models import Contact, Customer

    sample = None
    for c in Customer.objects.filter(owner=rep, kind="company", deleted_at__isnull=True).order_by("id")[:200]:
        region = next((r[0] for r in REGIONS if c.name.startswith(r[0])), None)
        if (
            region
            and any(c.name[len(region) :].startswith(b) for b in BRANDS)
            and len(c.name) >= len(region) + 4
        ):
            sample = (c, region)
            break
    if sample is None:
        raise SystemExit(
            f"no company customer of {rep.username} with a composed name to take search terms from"
        )
    customer, region = sample
    rest = customer.name[len(region) :]
    four = rest[:4]
    initials = pinyin_keys(four)[1]
    mobile = (
        Contact.objects.filter(customer__owner=rep, deleted_at__isnull=True)
        .exclude(mobile="")
        .order_by("id")
        .values_list("mobile", flat=True)
        .first()
        or customer.mobile
    )
    return {
        "cjk2": rest[:2],
        "cjk4": four,
        "initials": initials,
        "phone4": (mobile or "1380")[-4:],
        "_sample": customer.name,
    }


def setup() -> dict[str, Any]:
    _django()
    from django.db import connection

    from kehu.access.models import User
    from kehu.access.scope import owner_ids_in_scope
    from kehu.access.services import token_create
    from kehu.customers.models import Contact, Customer

    out: dict[str, Any] = {"vendor": connection.vendor, "tokens": {}, "scope": {}}
    users = {u.username: u for u in User.objects.filter(username__in=[REP, ADMIN, REP2])}
    if REP2 in users:
        out["rep2"] = REP2
    for name in (REP, ADMIN, REP2):
        if name not in users:
            continue
        user = users[name]
        _token, secret = token_create(user=user, name="bench", by=user, days=1)
        out["tokens"][name] = secret
        ids = owner_ids_in_scope(user)
        visible = Customer.objects.visible_to(user)
        out["scope"][name] = {
            "owners_in_scope": None if ids is None else len(ids),
            "visible_customers": visible.count(),
            "owned_customers": Customer.objects.filter(owner=user).count(),
            "collaborations": user.collaborations.count(),
        }
    out["terms"] = _terms(users[REP])
    out["counts"] = {
        "customers": Customer.objects.count(),
        "contacts": Contact.objects.count(),
        "users": User.objects.count(),
        "pool": Customer.objects.filter(owner__isnull=True, deleted_at__isnull=True).count(),
    }
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            out["db_version"] = "PostgreSQL " + cursor.fetchone()[0]
            settings = {}
            for name in ("shared_buffers", "work_mem", "effective_cache_size", "jit", "lc_ctype"):
                cursor.execute(f"SHOW {name}")
                settings[name] = cursor.fetchone()[0]
            out["db_settings"] = settings
        else:
            cursor.execute("SELECT sqlite_version()")
            out["db_version"] = "SQLite " + cursor.fetchone()[0]
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
            out["db_settings"] = {"analyzed (sqlite_stat1)": bool(cursor.fetchone()[0])}
    return out


def _explain(sql: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(r[0] for r in cursor.fetchall())
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(f"{'  ' * 0}{r[-1]}" for r in cursor.fetchall())


def diagnose(endpoints: list[dict[str, Any]], *, runs: int = 3, explain_top: int = 2) -> list[dict[str, Any]]:
    """For each endpoint {name, path, user, auth: bearer|session, token}: queries, time, plans."""
    _django()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from kehu.access.models import User

    results = []
    clients: dict[tuple[str, str], Client] = {}
    for ep in endpoints:
        key = (ep["user"], ep["auth"])
        if key not in clients:
            client = Client()
            if ep["auth"] == "session":
                client.force_login(User.objects.get(username=ep["user"]))
            clients[key] = client
        client = clients[key]
        headers = {"HTTP_AUTHORIZATION": f"Bearer {ep['token']}"} if ep["auth"] == "bearer" else {}
        t0 = time.perf_counter()
        client.get(ep["path"], **headers)  # warm
        first = (time.perf_counter() - t0) * 1000
        times = []
        captured: Any = None
        status = 0
        # A slow endpoint (seconds) is measured once: the figure is clear and the run stays bounded.
        for _ in range(1 if first > 1000 else runs):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                response = client.get(ep["path"], **headers)
                times.append((time.perf_counter() - t0) * 1000)
            status = response.status_code
            captured = ctx.captured_queries
        queries = [{"ms": float(q.get("time") or 0) * 1000, "sql": q["sql"]} for q in captured]
        slow = sorted(queries, key=lambda q: q["ms"], reverse=True)[:explain_top]
        plans = []
        for q in slow:
            if not q["sql"].lstrip().upper().startswith("SELECT"):
                continue
            try:
                plans.append({"ms": round(q["ms"], 2), "sql": q["sql"], "plan": _explain(q["sql"])})
            except Exception as exc:
                plans.append({"ms": round(q["ms"], 2), "sql": q["sql"], "plan": f"(EXPLAIN failed: {exc})"})
        results.append(
            {
                "name": ep["name"],
                "path": ep["path"],
                "user": ep["user"],
                "status": status,
                "queries": len(queries),
                "in_process_ms": round(statistics.median(times), 2),
                "query_ms": [round(q["ms"], 2) for q in queries],
                "plans": plans,
            }
        )
    return results


def main() -> None:
    command = sys.argv[1] if len(sys.argv) > 1 else "setup"
    if command == "setup":
        print(json.dumps(setup(), ensure_ascii=False))
    elif command == "diagnose":
        endpoints = json.loads(sys.stdin.read())
        print(json.dumps(diagnose(endpoints), ensure_ascii=False))
    else:
        raise SystemExit(f"unknown command {command!r}")


if __name__ == "__main__":
    main()
