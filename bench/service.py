"""Issue 6's benchmark: customer service on top of the 1,000,000-customer datasets.

    python -m bench.service [--databases sqlite,postgres] [--duration S] [--no-doc] [--no-generate]
    python -m bench.service generate|setup|explain   (inside Django, KEHU_DATABASE_URL set: one database)

``generate`` (idempotent: each part is skipped when its count is reached) adds 200 service agents
(role 客服专员, made with ``access.services.user_create``) in 10 teams of 20 (``configuration.team_create``
/ ``team_member_set``, round robin), puts the demo's 客服主管 ``service_lead`` in the first team, and tops
the tickets up to 2,000,000 over the million customers with the demo's own generator
(``service.demo.ticket_rows`` / ``insert_tickets``: real SLA policies and working calendar, so the
deadlines, the share still open and the breached ones are what the generator makes of two years):
created over the last 730 days, each team a tenth of them, spread over its members by the generator.
Rows go through the demo's bulk writer (``customers.demo.bulk_insert``: COPY / executemany) in one
transaction, foreign-key checks off (the ids come from the database); VACUUM (ANALYZE) on PostgreSQL.

``setup`` makes API tokens, picks the numbers to look up — customers' mobiles, customers' landlines
written three ways (+86 21 …, 021-…, the 8 local digits with the service settings' area code),
contacts' mobiles, unknown numbers, and customers the sales rep ``rep_east`` may not see (agents see
every customer) — and times ``phone_matches`` and the whole ``screen_pop`` in-process (warm, distinct
numbers). The parent then serves the database with ``kehu serve --workers 2`` and loads the screen-pop
API per kind of number, the agent's queue page and API (``queue=mine``) and the team / breached queues
as ``service_lead`` (bench.load, concurrency 1). ``explain`` prints the plans of the lookup and queue
queries. Target (issue 6): p95 of the lookup ≤ 20 ms at 1,000,000 customers.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

TICKETS = int(os.environ.get("KEHU_BENCH_SERVICE_TICKETS", "2000000"))  # smaller only for trying it out
AGENTS = 200
TEAM_SIZE = 20
TEAM_PREFIX = "基准客服组"
AGENT_PREFIX = "svc_agent_"
AGENT = "svc_agent_001"  # the measured agent
LEAD = "service_lead"
REP = "rep_east"  # a sales rep: sees only their own customers, so others' numbers are hidden to them
ADMIN = "admin"
SPAN_DAYS = 730
SEED = 6
LOOKUPS = int(os.environ.get("KEHU_BENCH_SERVICE_LOOKUPS", "1000"))  # per kind (distinct numbers)
POPS = int(os.environ.get("KEHU_BENCH_SERVICE_POPS", "300"))  # whole screen pops per kind
LOOKUP_TARGET_MS = 20.0
KINDS = {
    "customer_mobile": "客户手机（13812345678）",
    "landline_plus86": "客户座机（+86 21 5555 1234）",
    "landline_dashed": "客户座机（021-55551234）",
    "landline_local": "客户座机，本地 8 位（55551234，设置的区号 021）",
    "contact_mobile": "联系人手机",
    "unknown": "未登记的号码",
    "hidden": "销售代表看不到的客户的号码（rep_east）",
}


def log(msg: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {msg}", file=sys.stderr, flush=True)


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    import django

    django.setup()


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[max(0, int(len(s) * q + 0.5) - 1)]


def _summary(ms: list[float]) -> dict[str, Any]:
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 2),
        "p95_ms": round(_pct(ms, 0.95), 2),
        "p99_ms": round(_pct(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
        "mean_ms": round(statistics.fmean(ms), 2),
    }


# --- generation (inside Django) --------------------------------------------------------------------


def counts() -> dict[str, Any]:
    from django.db import connection

    from kehu.access.models import User
    from kehu.service.choices import OPEN_STATUSES
    from kehu.service.models import ServiceTeam, TeamMember, Ticket

    out: dict[str, Any] = {}
    with connection.cursor() as cur:
        for key, sql in {
            "customers": "SELECT COUNT(*) FROM customers_customer",
            "contacts": "SELECT COUNT(*) FROM customers_contact",
            "customers_with_mobile": "SELECT COUNT(*) FROM customers_customer WHERE mobile <> ''",
            "customers_with_landline": "SELECT COUNT(*) FROM customers_customer WHERE phone_key <> ''",
            "customers_landline_without_key": "SELECT COUNT(*) FROM customers_customer "
            "WHERE phone <> '' AND phone_key = ''",
            "contacts_with_mobile": "SELECT COUNT(*) FROM customers_contact WHERE mobile <> ''",
            "contacts_with_landline": "SELECT COUNT(*) FROM customers_contact WHERE phone_key <> ''",
            "tickets": "SELECT COUNT(*) FROM service_ticket",
            "ticket_messages": "SELECT COUNT(*) FROM service_ticketmessage",
        }.items():
            cur.execute(sql)
            out[key] = int(cur.fetchone()[0])
    open_q = Ticket.objects.filter(status__in=OPEN_STATUSES)
    out["open_tickets"] = open_q.count()
    out["teams"] = ServiceTeam.objects.count()
    out["bench_agents"] = User.objects.filter(username__startswith=AGENT_PREFIX).count()
    out["team_members"] = TeamMember.objects.count()
    users = dict(User.objects.filter(username__in=[AGENT, "agent", LEAD]).values_list("username", "pk"))
    out["agent_open"] = open_q.filter(assignee_id=users.get(AGENT)).count() if AGENT in users else 0
    out["agent_tickets"] = (
        Ticket.objects.filter(assignee_id=users.get(AGENT)).count() if AGENT in users else 0
    )
    out["demo_agent_open"] = open_q.filter(assignee_id=users.get("agent")).count() if "agent" in users else 0
    if LEAD in users:
        teams = TeamMember.objects.filter(user_id=users[LEAD]).values("team_id")
        out["lead_team_open"] = open_q.filter(team_id__in=teams).count()
    return out


def _agents_and_teams() -> dict[int, list[int]]:
    """The bench's agents in teams of 20 (created when missing): team id → member ids."""
    from unittest import mock

    from django.contrib.auth.hashers import make_password

    from kehu.access.models import Department, User
    from kehu.access.services import user_create
    from kehu.service import configuration
    from kehu.service.models import ServiceTeam, TeamMember

    from .dataset import PASSWORD

    admin = User.objects.get(username=ADMIN)
    lead = User.objects.get(username=LEAD)
    dept = lead.department or Department.objects.get(name="客服中心")
    have = set(User.objects.filter(username__startswith=AGENT_PREFIX).values_list("username", flat=True))
    hashed = make_password(PASSWORD)
    made = 0
    # One password hash for all (as `kehu demo` does): 200 PBKDF2 runs would be most of this step.
    with mock.patch.object(User, "set_password", lambda self, raw: setattr(self, "password", hashed)):
        for n in range(1, AGENTS + 1):
            username = f"{AGENT_PREFIX}{n:03d}"
            if username in have:
                continue
            user_create(
                username=username,
                password=PASSWORD,
                display_name=f"坐席{n:03d}",
                department=dept,
                supervisor=lead,
                role_codes=["service_agent"],
                by=None,
            )
            made += 1
    if made:
        log(f"agents: {made} created")
    agents = dict(User.objects.filter(username__startswith=AGENT_PREFIX).values_list("username", "pk"))
    teams: dict[int, list[int]] = {}
    for k in range(AGENTS // TEAM_SIZE):
        name = f"{TEAM_PREFIX}{k + 1:02d}"
        team = ServiceTeam.objects.filter(name=name).first() or configuration.team_create(
            data={"name": name, "supervisor_id": lead.pk, "distribution": "round_robin"}, by=admin
        )
        members = [agents[f"{AGENT_PREFIX}{k * TEAM_SIZE + i + 1:03d}"] for i in range(TEAM_SIZE)]
        present = set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
        for uid in members:
            if uid not in present:
                configuration.team_member_set(team_id=team.pk, user_id=uid, skills=[], by=admin)
        if k == 0 and lead.pk not in present:
            # The supervisor works in the first team, so their 本组工单 queue is that team's.
            configuration.team_member_set(team_id=team.pk, user_id=lead.pk, skills=[], by=admin)
        teams[team.pk] = members
    return teams


def generate() -> dict[str, Any]:
    _django()
    from django.db import connection, transaction
    from django.utils import timezone

    from kehu.catalog.models import Product
    from kehu.customers.demo import bulk_insert
    from kehu.service import clocks
    from kehu.service.demo import TicketSource, insert_tickets
    from kehu.service.models import SlaPolicy

    t_all = time.perf_counter()
    made: dict[str, Any] = {}
    t0 = time.perf_counter()
    teams = _agents_and_teams()
    made["agents"] = {"seconds": round(time.perf_counter() - t0, 1)}
    have = counts()
    need = TICKETS - have["tickets"]
    if need <= 0:
        log(f"tickets: {have['tickets']:,} already — skipped")
    else:
        pg = connection.vendor == "postgresql"
        with connection.cursor() as cur:
            if pg:
                cur.execute("SET session_replication_role = replica")  # FK triggers off: ids come from the db
            else:
                cur.execute("PRAGMA foreign_keys = OFF")
                cur.execute("PRAGMA synchronous = OFF")
                cur.execute("PRAGMA cache_size = -400000")
            cur.execute(
                "SELECT c.id, c.value_tier, (SELECT MIN(k.id) FROM customers_contact k WHERE k.customer_id = c.id "
                "AND k.is_primary AND k.deleted_at IS NULL) FROM customers_customer c "
                "WHERE c.deleted_at IS NULL AND c.merged_into_id IS NULL ORDER BY c.id"
            )
            customers = [(int(a), str(b), c) for a, b, c in cur.fetchall()]
        log(f"tickets: {have['tickets']:,} there, adding {need:,} over {len(customers):,} customers …")
        rng = random.Random(SEED)
        now = timezone.now()
        products = list(Product.objects.order_by("pk").values_list("pk", flat=True)[:50])
        policies = list(SlaPolicy.objects.filter(is_active=True))
        calendar = clocks.work_calendar()
        start = now - timedelta(days=SPAN_DAYS)
        written = {"tickets": 0, "ticket_messages": 0}
        t0 = time.perf_counter()
        team_ids = sorted(teams)
        with transaction.atomic():
            for i, team_id in enumerate(team_ids):
                n = need // len(team_ids) + (1 if i < need % len(team_ids) else 0)
                picked = [customers[rng.randrange(len(customers))] for _ in range(n)]
                source = TicketSource(
                    customers=picked,
                    agents=teams[team_id],
                    team_id=team_id,
                    products=products,
                    policies=policies,
                    calendar=calendar,
                    start=start,
                    end=now,
                    now=now,
                    rng=rng,
                )
                got = insert_tickets(source, bulk_insert, n)
                for k, v in got.items():
                    written[k] += v
                secs = time.perf_counter() - t0
                log(
                    f"tickets: team {i + 1}/{len(team_ids)} done, {written['tickets']:,} tickets + "
                    f"{written['ticket_messages']:,} messages in {secs:.0f} s"
                )
        secs = time.perf_counter() - t0
        rows = written["tickets"] + written["ticket_messages"]
        made["tickets"] = {**written, "seconds": round(secs, 1), "rows_per_s": round(rows / secs)}
        with connection.cursor() as cur:
            if pg:
                cur.execute("SET session_replication_role = DEFAULT")
                t1 = time.perf_counter()
                cur.execute("VACUUM (ANALYZE) service_ticket")
                cur.execute("VACUUM (ANALYZE) service_ticketmessage")
                made["vacuum"] = {"seconds": round(time.perf_counter() - t1, 1)}
            else:
                cur.execute("PRAGMA foreign_keys = ON")
    out = {**made, "seconds": round(time.perf_counter() - t_all, 1), "counts": counts()}
    log(f"service data: {out['counts']}")
    return out


# --- numbers, tokens and in-process timing (inside Django) ---------------------------------------


def _landline_forms(key: str) -> dict[str, str]:
    """ "02155551234" as the exchange or a person may write it (area codes 010 and 02x have 3 digits)."""
    area = key[:3] if key[1] in "12" else key[:4]
    local = key[len(area) :]
    return {
        "landline_plus86": f"+86 {area[1:]} {local[:4]} {local[4:]}",
        "landline_dashed": f"{area}-{local}",
        "landline_local": local,
    }


def numbers(area_code: str, rep_id: int, per_kind: int) -> dict[str, list[str]]:
    """Distinct numbers of each kind, from random rows (seeded)."""
    from django.db import connection

    rng = random.Random(SEED + 1)
    out: dict[str, list[str]] = {k: [] for k in KINDS}

    def sample(sql: str, params: list[Any], n: int) -> list[Any]:
        with connection.cursor() as cur:
            cur.execute("SELECT MAX(id) FROM customers_customer")
            top = int(cur.fetchone()[0])
            got: dict[Any, Any] = {}
            tries = 0
            while len(got) < n and tries < 50:
                tries += 1
                ids = [rng.randrange(1, top + 1) for _ in range(n * 2)]
                marks = ", ".join(["%s"] * len(ids))
                cur.execute(sql.replace("{ids}", marks), [*params, *ids])
                for row in cur.fetchall():
                    got.setdefault(row[0], row)
            return list(got.values())[:n]

    live = "deleted_at IS NULL AND merged_into_id IS NULL"
    for (m,) in [
        (r[1],)
        for r in sample(
            f"SELECT id, mobile FROM customers_customer WHERE {live} AND mobile <> '' AND id IN ({{ids}})",
            [],
            per_kind,
        )
    ]:
        out["customer_mobile"].append(m)
    for _id, key in sample(
        f"SELECT id, phone_key FROM customers_customer WHERE {live} AND phone_key <> '' AND id IN ({{ids}})",
        [],
        per_kind,
    ):
        forms = _landline_forms(key)
        out["landline_plus86"].append(forms["landline_plus86"])
        out["landline_dashed"].append(forms["landline_dashed"])
    local = sample(
        f"SELECT id, phone_key FROM customers_customer WHERE {live} AND phone_key LIKE %s "
        "AND id IN ({ids})",
        [area_code + "%"],
        per_kind,
    )
    out["landline_local"] = [_landline_forms(k)["landline_local"] for _i, k in local]
    out["contact_mobile"] = [
        r[1]
        for r in sample(
            "SELECT customer_id, mobile FROM customers_contact WHERE deleted_at IS NULL AND mobile <> '' "
            "AND customer_id IN ({ids})",
            [],
            per_kind,
        )
    ]
    out["hidden"] = [
        r[1]
        for r in sample(
            f"SELECT id, mobile FROM customers_customer WHERE {live} AND mobile <> '' "
            "AND owner_id IS NOT NULL AND owner_id <> %s AND id IN ({ids})",
            [rep_id],
            per_kind,
        )
    ]
    # Unknown: mobiles of a 199 block, dropped when on file.
    cand = [f"199{rng.randrange(10**8):08d}" for _ in range(per_kind * 2)]
    with connection.cursor() as cur:
        known: set[str] = set()
        for lo in range(0, len(cand), 500):
            part = cand[lo : lo + 500]
            marks = ", ".join(["%s"] * len(part))
            cur.execute(
                f"SELECT mobile FROM customers_customer WHERE mobile IN ({marks}) UNION "
                f"SELECT mobile FROM customers_contact WHERE mobile IN ({marks})",
                [*part, *part],
            )
            known |= {r[0] for r in cur.fetchall()}
    out["unknown"] = [c for c in dict.fromkeys(cand) if c not in known][:per_kind]
    return out


def _time(fn: Any, items: list[str]) -> tuple[list[float], list[Any]]:
    ms, results = [], []
    for x in items:
        t = time.perf_counter()
        results.append(fn(x))
        ms.append((time.perf_counter() - t) * 1000)
    return ms, results


def setup() -> dict[str, Any]:
    _django()
    from kehu.access.models import User
    from kehu.access.services import token_create
    from kehu.customers.selectors import phone_matches
    from kehu.service import clocks
    from kehu.service.screenpop import screen_pop

    users = {u.username: u for u in User.objects.filter(username__in=[AGENT, LEAD, REP, ADMIN])}
    missing = {AGENT, LEAD, REP, ADMIN} - set(users)
    if missing:
        raise SystemExit(f"users missing (run generate): {sorted(missing)}")
    area = clocks.settings_get().local_area_code
    out: dict[str, Any] = {"tokens": {}, "counts": counts(), "local_area_code": area}
    for name in (AGENT, LEAD, REP, ADMIN):
        out["tokens"][name] = token_create(user=users[name], name="bench", by=users[name], days=1)[1]
    nums = numbers(area, users[REP].pk, LOOKUPS)
    out["numbers"] = {k: v[:5] for k, v in nums.items()}
    out["number_counts"] = {k: len(v) for k, v in nums.items()}
    lookups: dict[str, Any] = {}
    pops: dict[str, Any] = {}
    for kind, items in nums.items():
        actor = users[REP] if kind == "hidden" else users[AGENT]
        # Warm-up: a few lookups not counted (connection, caches, the page cache's first touch).
        for x in items[:20]:
            phone_matches(number=x, actor=actor, local_area_code=area)
        ms, res = _time(lambda x, a=actor: phone_matches(number=x, actor=a, local_area_code=area), items)
        visible = sum(1 for r in res if r.visible)
        known = sum(1 for r in res if r.known)
        lookups[kind] = {
            **_summary(ms),
            "known": known,
            "with_visible_match": visible,
            "matches_max": max(len(r.matches) for r in res),
        }
        ms, res = _time(lambda x, a=actor: screen_pop(number=x, actor=a), items[:POPS])
        pops[kind] = {
            **_summary(ms),
            "with_customer": sum(1 for r in res if r.customer is not None),
            "open_tickets": sum(len(r.open_tickets) for r in res),
        }
        log(
            f"{kind:<16} phone_matches p50 {lookups[kind]['p50_ms']:.2f} p95 {lookups[kind]['p95_ms']:.2f} "
            f"max {lookups[kind]['max_ms']:.1f} ms (n={len(items)}, known {known}, visible {visible}); "
            f"screen_pop p50 {pops[kind]['p50_ms']:.2f} p95 {pops[kind]['p95_ms']:.2f} ms"
        )
    out["phone_matches"] = lookups
    out["screen_pop"] = pops
    return out


# --- plans (inside Django) ---------------------------------------------------------------------------


def explain() -> dict[str, str]:
    """EXPLAIN ANALYZE (PostgreSQL) / EXPLAIN QUERY PLAN (SQLite) of every query of the lookup, the
    screen pop and the queues (slowest first)."""
    _django()
    from django.db import connection

    from kehu.access.models import User
    from kehu.customers.selectors import phone_matches
    from kehu.service import clocks, selectors
    from kehu.service.screenpop import screen_pop

    agent = User.objects.get(username=AGENT)
    lead = User.objects.get(username=LEAD)
    area = clocks.settings_get().local_area_code
    nums = numbers(area, User.objects.get(username=REP).pk, 3)
    calls = {
        "phone_matches_landline": lambda: phone_matches(
            number=nums["landline_dashed"][0], actor=agent, local_area_code=area
        ),
        "phone_matches_local": lambda: phone_matches(
            number=nums["landline_local"][0], actor=agent, local_area_code=area
        ),
        "screen_pop_mobile": lambda: screen_pop(number=nums["customer_mobile"][0], actor=agent),
        "ticket_list_mine": lambda: selectors.ticket_list(actor=agent, filters={"queue": "mine"}).items,
        "queue_counts_agent": lambda: selectors.queue_counts(actor=agent),
        "ticket_list_team_lead": lambda: selectors.ticket_list(actor=lead, filters={"queue": "team"}).items,
        "ticket_list_breached_lead": lambda: (
            selectors.ticket_list(actor=lead, filters={"queue": "breached"}).items
        ),
    }
    seen: list[tuple[str, Any, float]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((sql, params, time.perf_counter() - t0))

    out = {}
    for name, call in calls.items():
        call()  # warm
        seen.clear()
        # The statements as sent, parameters bound: SQLite plans a partial index or a LIKE differently
        # when the values are in the text (what CaptureQueriesContext shows).
        with connection.execute_wrapper(capture):
            t = time.perf_counter()
            r = call()
            if hasattr(r, "__iter__") and not isinstance(r, dict):
                list(r)
            total = (time.perf_counter() - t) * 1000
        slow = sorted(seen, key=lambda q: -q[2])[:3]
        plans = [f"-- {total:.1f} ms in-process, {len(seen)} queries"]
        for sql, params, secs in slow:
            with connection.cursor() as cur:
                if connection.vendor == "postgresql":
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                else:
                    cur.execute("EXPLAIN QUERY PLAN " + sql, params)
                plan = "\n".join(" | ".join(str(c) for c in r) for r in cur.fetchall())
            plans.append(f"-- {secs * 1000:.1f} ms\n{sql[:2000]}\n{plan}")
        out[name] = "\n\n".join(plans)
    return out


# --- the measured run (parent process) -------------------------------------------------------------


def _sub(url: str, command: str, *, nice: bool = False, timeout: float = 7200) -> dict[str, Any]:
    from .dataset import ROOT, database_env

    argv = [sys.executable, "-m", "bench.service", command]
    if nice:
        argv = ["nice", "-n", "10", *argv]
    proc = subprocess.run(
        argv, env=database_env(url), cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench.service {command} failed on {url} (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _pop(number: str) -> str:
    return "/api/v1/calls/screen-pop?" + urllib.parse.urlencode({"number": number})


def steps(setup: dict[str, Any], cookies: dict[str, str]) -> list[Any]:
    from . import load

    api = {u: {"Authorization": f"Bearer {setup['tokens'][u]}"} for u in (AGENT, LEAD, REP)}
    page = {u: {"Cookie": cookies[u]} for u in (AGENT, LEAD)}
    # The harness's floor: an empty view through the same server and load generator.
    out = [load.Step("ping", "/ping", 1, group="floor")]
    for kind in KINDS:
        who = REP if kind == "hidden" else AGENT
        out.append(load.Step(f"pop_{kind}", _pop(setup["numbers"][kind][0]), 1, api[who], group="screen_pop"))
    out += [
        load.Step("queue_mine_page", "/service/?queue=mine", 1, page[AGENT], group="queue"),
        load.Step("queue_mine_api", "/api/v1/tickets?queue=mine", 1, api[AGENT], group="queue"),
        load.Step("queue_team_page", "/service/?queue=team", 1, page[LEAD], group="queue"),
        load.Step("queue_team_api", "/api/v1/tickets?queue=team", 1, api[LEAD], group="queue"),
        load.Step("queue_breached_page", "/service/?queue=breached", 1, page[LEAD], group="queue"),
        load.Step("queue_breached_api", "/api/v1/tickets?queue=breached", 1, api[LEAD], group="queue"),
    ]
    return out


def measure(
    name: str, url: str, *, duration: float, warmup: float, generate: bool = True, log: Any = log
) -> dict[str, Any]:
    """Generate (or reuse) the service rows of one database, then measure it."""
    from . import load
    from .dataset import BENCH_VAR, PASSWORD, ROOT
    from .server import Server, others_share, process_ticks

    result: dict[str, Any] = {"database": name}
    if generate:
        log(f"[{name}] service: generating what is missing (nice -n 10) …")
        t0 = time.perf_counter()
        result["generate"] = _sub(url, "generate", nice=True)
        meta = BENCH_VAR / f"service-{name}.meta.json"
        if "tickets" in result["generate"]:
            meta.write_text(json.dumps(result["generate"], ensure_ascii=False, indent=2))
        elif meta.exists():  # reused: report the figures of the run that generated it
            result["generate"]["generated_by_earlier_run"] = json.loads(meta.read_text())
        log(
            f"[{name}] service data ready in {time.perf_counter() - t0:.0f} s: {result['generate']['counts']}"
        )
    log(f"[{name}] service: tokens, numbers, in-process lookups …")
    setup = _sub(url, "setup")
    if not generate:
        result["generate"] = {"seconds": 0.0, "counts": setup["counts"], "not_run": True}
        meta = BENCH_VAR / f"service-{name}.meta.json"
        if meta.exists():
            result["generate"]["generated_by_earlier_run"] = json.loads(meta.read_text())
    result["setup"] = {k: v for k, v in setup.items() if k != "tokens"}
    log_path = ROOT / "bench" / "results" / f"server-service-{name}.log"
    log_path.unlink(missing_ok=True)
    done = []
    with Server(url, workers=2, log=log, log_path=log_path) as server:
        cookies = {u: load.login(server.port, u, PASSWORD) for u in (AGENT, LEAD)}
        for step in steps(setup, cookies):
            t = time.perf_counter()
            status, _h, body = load.get(server.port, step.path, step.headers)
            first = (time.perf_counter() - t) * 1000
            if status != 200:
                raise SystemExit(f"{step.name}: GET {step.path} answered {status}: {body[:300]!r}")
            info: dict[str, Any] = {"first_ms": round(first, 1), "bytes": len(body)}
            if step.path.startswith("/api/v1/tickets"):
                info["count"] = json.loads(body)["count"]
            elif step.path.startswith("/api/v1/calls"):
                data = json.loads(body)
                info["known"] = data.get("known")
                info["customer"] = bool(data.get("customer"))
            before, t1 = process_ticks(), time.monotonic()
            r = load.run_step(server.port, step, seconds=duration, warmup=warmup).as_dict()
            r["others_cpu"] = others_share(
                before,
                process_ticks(),
                ours={server.proc.pid, *server.worker_pids()},
                seconds=time.monotonic() - t1,
            )
            r.update(info)
            r["drain_s"] = round(server.drain(), 1)
            done.append(r)
            log(
                f"[{name}] {step.name:<22} p50 {r['p50_ms'] or 0:>8.1f}  p95 {r['p95_ms'] or 0:>8.1f} ms  "
                f"n={r['requests']:,}  others {r['others_cpu']:.0%}"
                + (f"  count={info['count']:,}" if "count" in info else "")
            )
    result["steps"] = done
    try:
        result["plans"] = _sub(url, "explain", timeout=1800)
    except SystemExit as exc:
        log(f"[{name}] plans failed (not fatal): {exc}")
    return result


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["generate"], ["setup"], ["explain"]):
        fn = {"generate": generate, "setup": setup, "explain": explain}[args[0]]
        print(json.dumps(fn(), ensure_ascii=False, default=str))
        return
    ap = argparse.ArgumentParser(prog="python -m bench.service", description=__doc__.split("\n\n")[0])
    ap.add_argument("--databases", default="sqlite,postgres")
    ap.add_argument("--duration", type=float, default=10.0, help="seconds per load step")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--no-doc", action="store_true", help="do not rewrite docs/benchmarks.md")
    ap.add_argument("--no-generate", action="store_true", help="measure what is there; generate nothing")
    ap.add_argument(
        "--render", metavar="RESULTS_JSON", help="only rewrite the docs section from saved results"
    )
    a = ap.parse_args(args)
    from . import report
    from .dataset import DEFAULT_CUSTOMERS, ROOT, dataset_url

    doc = ROOT / "docs" / "benchmarks.md"
    if a.render:
        report.write_service(doc, json.loads(Path(a.render).read_text()))
        return
    results: dict[str, Any] = {
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": "python -m bench.service " + " ".join(args),
        "duration": a.duration,
        "warmup": a.warmup,
        "databases": [],
    }
    out_dir = ROOT / "bench" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for name in [n.strip() for n in a.databases.split(",") if n.strip()]:
        results["databases"].append(
            measure(
                name,
                dataset_url(name, DEFAULT_CUSTOMERS),
                duration=a.duration,
                warmup=a.warmup,
                generate=not a.no_generate,
            )
        )
        # Saved after each database: a later failure keeps what was measured.
        for path in (out_dir / f"service-{stamp}.json", out_dir / "service-latest.json"):
            path.write_text(json.dumps(results, ensure_ascii=False, indent=2))
    log(f"raw results: bench/results/service-{stamp}.json")
    if not a.no_doc:
        report.write_service(doc, results)
    for row in report.service_rows(results):
        print("  " + " | ".join(row))


if __name__ == "__main__":
    main()
