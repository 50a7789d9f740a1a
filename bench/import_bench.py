"""Import of 100,000 customers + 200,000 contacts from .xlsx (issue 3, CUS-8: ≥ 10,000 rows/s end to end).

End to end means what a user waits for: ``kehu import customers FILE --user …`` and then
``kehu import contacts FILE --user …`` as processes, each reading its .xlsx, checking every row with
the form's rules, looking up duplicates (in the archive and within the file), writing in
1,000-row transactions with their audit events. The files are generated here (openpyxl write-only,
fixed seed) into ``var/bench``; the database is a fresh one (``var/bench/kehu-import.sqlite3``, or the
PostgreSQL database ``kehu_bench_import``), migrated, with one importing user.

Run it alone: ``python -m bench.import_bench --databases sqlite,postgres`` (``--customers N`` for a
smaller try). ``bench.run`` calls :func:`measure` for each database.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from . import dataset

CUSTOMERS = 100_000
CONTACTS_PER_CUSTOMER = 2
TARGET_ROWS_PER_S = 10_000
USER = "bench_importer"
PASSWORD = "Bench-import-2026!"
PG_DATABASE = "kehu_bench_import"
SQLITE = dataset.BENCH_VAR / "kehu-import.sqlite3"

CITIES = ["上海", "北京", "深圳", "广州", "杭州", "南京", "苏州", "成都", "武汉", "西安", "天津", "重庆"]
WORDS = ["华信", "远航", "博创", "恒通", "明德", "新源", "天宇", "中联", "金桥", "海纳", "瑞丰", "嘉禾", "鸿运", "宏达",
         "启明", "永安", "东方", "盛世", "德力", "隆基", "卓越", "腾飞", "长城", "凯旋", "光华", "正泰", "安信", "同创",
         "汇丰", "九州"]  # fmt: skip
WORDS2 = ["精工", "智能", "联合", "创新", "环球", "先锋", "实业", "兴业", "伟业", "百川", "万通", "众诚", "和信", "天成",
          "佳美", "润泽", "华美", "国泰", "新华", "宏图", "信达", "聚源", "通达", "永盛", "恒远", "鼎盛", "康达", "远东",
          "金达", "华强"]  # fmt: skip
TRADES = ["科技", "贸易", "机械", "电子", "物流", "建材", "食品", "医药", "化工", "服饰"]
INDUSTRIES = ["制造业", "服务业", "信息技术", "批发零售", "金融业", "能源化工"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "军", "强", "丽", "涛", "明"]
POSITIONS = ["采购经理", "总经理", "财务总监", "技术负责人", "行政主管", "销售总监"]
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code(i: int) -> str:
    body = f"91310000{i:09d}"
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(body, WEIGHTS, strict=True))
    return body + ALPHABET[(31 - total % 31) % 31]


def write_files(customers: int, directory: Path) -> tuple[Path, Path]:
    """The two workbooks (reused when they exist for this size)."""
    from openpyxl import Workbook

    directory.mkdir(parents=True, exist_ok=True)
    customer_file = directory / f"import-customers-v2-{customers}.xlsx"
    contact_file = directory / f"import-contacts-v2-{customers}.xlsx"
    if customer_file.exists() and contact_file.exists():
        return customer_file, contact_file
    rng = random.Random(7)
    # Real company names, no sequence numbers: every name is a different run of Chinese characters, as
    # in a real customer list (so nothing is read from a cache of earlier names' pinyin).
    combos = [(c, w, v, t) for c in CITIES for w in WORDS for v in WORDS2 for t in TRADES]
    if customers > len(combos):
        raise SystemExit(f"at most {len(combos):,} distinct company names")
    rng.shuffle(combos)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("客户")
    sheet.append(
        [
            "客户名称*",
            "统一社会信用代码",
            "手机号",
            "电话",
            "邮箱",
            "行业",
            "省份",
            "城市",
            "详细地址",
            "备注",
        ]
    )
    for i in range(customers):
        city, word, word2, trade = combos[i]
        sheet.append([
            f"{city}{word}{word2}{trade}有限公司", credit_code(i), f"13{i:09d}",
            f"021-6{i % 10_000_000:07d}", f"info{i}@example.com", rng.choice(INDUSTRIES), city, city,
            f"{city}市人民路{i % 999 + 1}号", "展会获得的名片",
        ])  # fmt: skip
    book.save(customer_file)
    book = Workbook(write_only=True)
    sheet = book.create_sheet("联系人")
    sheet.append(["客户统一社会信用代码", "姓名*", "职务", "手机号", "邮箱", "主要联系人"])
    n = 0
    for i in range(customers):
        for k in range(CONTACTS_PER_CUSTOMER):
            name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            sheet.append([credit_code(i), name, rng.choice(POSITIONS), f"15{n:09d}", f"c{n}@example.com",
                          "是" if k == 0 else "否"])  # fmt: skip
            n += 1
    book.save(contact_file)
    return customer_file, contact_file


def _database(database: str, log: Any) -> str:
    if database == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{SQLITE}"
    else:
        from psycopg import sql

        with dataset._pg_admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(PG_DATABASE))
            )
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(PG_DATABASE)))  # fmt: skip
        url = dataset.PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DATABASE
    dataset.migrate(url, log)
    env = {**dataset.database_env(url), "KEHU_PASSWORD": PASSWORD}
    done = subprocess.run(
        dataset.kehu_argv("createuser", USER, "--role", "admin"),
        env=env, capture_output=True, text=True, check=False, cwd=dataset.ROOT,
    )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"kehu createuser failed: {done.stdout}{done.stderr}")
    return url


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _import(kind: str, path: Path, url: str, log: Any) -> dict[str, Any]:
    started, cpu_before = time.monotonic(), _cpu_children()
    done = subprocess.run(
        dataset.kehu_argv("import", kind, str(path), "--user", USER),
        env=dataset.database_env(url), capture_output=True, text=True, check=False, cwd=dataset.ROOT,
    )  # fmt: skip
    seconds = time.monotonic() - started
    # CPU seconds of the kehu process itself: on a shared machine the wall time also counts other loads.
    cpu = _cpu_children() - cpu_before
    if done.returncode != 0:
        raise SystemExit(f"kehu import {kind} failed: {done.stdout[-2000:]}{done.stderr[-2000:]}")
    created = int(re.search(r"created (\d+)", done.stdout).group(1))  # type: ignore[union-attr]
    rows = int(re.search(r"#\d+: (\d+) ", done.stdout).group(1))  # type: ignore[union-attr]
    log(
        f"  kehu import {kind}: {rows:,} rows ({created:,} created) in {seconds:.1f} s = {rows / seconds:,.0f} rows/s"
        f" (process CPU {cpu:.1f} s)"
    )
    return {"rows": rows, "created": created, "seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2)}


def measure(database: str, *, customers: int = CUSTOMERS, log: Any = print) -> dict[str, Any]:
    """Import the two files into a fresh database; the figure is all rows over both processes' time."""
    t0 = time.monotonic()
    customer_file, contact_file = write_files(customers, dataset.BENCH_VAR)
    log(f"  files ready in {time.monotonic() - t0:.1f} s: {customer_file.name}, {contact_file.name}")
    url = _database(database, log)
    first = _import("customers", customer_file, url, log)
    second = _import("contacts", contact_file, url, log)
    again = _import("customers", customer_file, url, log)  # the same file again: nothing to write
    rows = first["rows"] + second["rows"]
    seconds = first["seconds"] + second["seconds"]
    cpu = first["cpu_seconds"] + second["cpu_seconds"]
    result = {
        "customers": first, "contacts": second, "rerun_customers": again, "rows": rows,
        "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds), "target_rows_per_s": TARGET_ROWS_PER_S,
        "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(rows / cpu) if cpu else None,
    }  # fmt: skip
    log(f"[{database}] import end to end: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s "
        f"(target ≥ {TARGET_ROWS_PER_S:,}); {rows / cpu:,.0f} rows per CPU second; "
        f"same file again: {again['created']} created")  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.import_bench", description=__doc__.split("\n\n")[0])
    ap.add_argument("--databases", default="sqlite,postgres", help="comma-separated: sqlite,postgres")
    ap.add_argument("--customers", type=int, default=CUSTOMERS, help="customers (contacts: twice as many)")
    args = ap.parse_args(argv)
    results = {}
    for database in args.databases.split(","):
        print(f"[{database}] import benchmark ({args.customers:,} customers)", flush=True)
        results[database] = measure(database, customers=args.customers)
    out = dataset.BENCH_VAR / "import-results.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"results: {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
