"""``kehu demo``: the demo company, its users and realistic customers (``make run`` on an empty database)."""

from __future__ import annotations

import os
import unicodedata
from typing import Any

from django.conf import settings

from kehu.access.models import User
from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail
from kehu.customers.demo import MAX_CONTACTS, DemoResult, demo_password, demo_role_names, load_demo


def _pad(text: str, width: int) -> str:
    """Left-align in a terminal column: Chinese characters take two cells."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - cells)


class Command(KehuCommand):
    help = (
        "创建演示公司、演示用户和客户数据 / create the demo company, demo users (one per role) and realistic "
        "customers with contacts. Deterministic for a given --seed. Password: --password, else "
        "KEHU_DEMO_PASSWORD, else random (printed)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--customers", type=int, default=200, help="客户数量 / customers to create (default 200)"
        )
        parser.add_argument(
            "--contacts-per-customer",
            type=int,
            default=2,
            help=f"每个客户的联系人数 / contacts per customer (default 2, at most {MAX_CONTACTS})",
        )
        parser.add_argument("--seed", type=int, default=1, help="随机种子 / random seed (default 1)")
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="已有用户时什么也不做 / do nothing when any user exists (used by make run)",
        )
        parser.add_argument("--password", help="演示用户的密码 / password of the demo users")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="生成数据的进程数 / processes generating rows (default: the CPUs, for big loads)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["if_empty"] and User.objects.exists():
            self.stdout.write(
                "数据库中已有用户，跳过演示数据 / the database already has users: demo data skipped"
            )
            return
        customers, contacts = options["customers"], options["contacts_per_customer"]
        if customers < 0:
            raise fail("customers", "客户数量不能为负数", "--customers cannot be negative")
        if not 0 <= contacts <= MAX_CONTACTS:
            raise fail(
                "contacts-per-customer",
                f"联系人数应在 0 到 {MAX_CONTACTS} 之间",
                f"--contacts-per-customer must be between 0 and {MAX_CONTACTS}",
            )
        password = demo_password(options["password"], dict(os.environ))
        self.stdout.write(
            f"正在创建演示数据 / creating demo data: {customers:,} 个客户 / customers, "
            f"{customers * contacts:,} 个联系人 / contacts (seed {options['seed']}) …"
        )
        try:
            result = load_demo(
                customers=customers,
                contacts_per_customer=contacts,
                seed=options["seed"],
                password=password,
                workers=options["workers"],
                progress=self._progress,
            )
        except KehuError as exc:
            raise command_error(exc) from exc
        parts = [f"{result.customers:,} customers", f"{result.contacts:,} contacts"]
        parts += [f"{rows:,} {kind}" for kind, rows in result.extra.items()]
        self.stdout.write(
            f"inserted {result.rows:,} rows in {result.seconds:.1f} s ({result.rate:,.0f} rows/s) — "
            + " + ".join(parts)
        )
        self._print_login(result)

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    def _print_login(self, result: DemoResult) -> None:
        roles = demo_role_names()
        line = "=" * 72
        out = [
            line,
            "Kehu 演示公司已就绪 / the demo company is ready",
            f"登录地址 / log in at:  http://127.0.0.1:{settings.KEHU_PORT}/",
            f"密码 / password:       {result.password}   （新建的演示用户 / every new demo user）",
            "",
            f"  {_pad('用户名 / username', 20)}{_pad('姓名 / name', 14)}角色 / role",
        ]
        for user in result.company.listing:
            role = ", ".join(roles.get(code, code) for code in user.roles)
            note = "" if user.created else "  （已存在，密码未改 / existed: password unchanged）"
            out.append(f"  {_pad(user.username, 20)}{_pad(user.display_name, 14)}{role}{note}")
        extra = result.company.extra_reps
        if extra:
            out.append(
                f"  另有 {len(extra)} 名销售代表 / plus {len(extra)} more sales reps: "
                f"{extra[0]} … {extra[-1]}"
            )
        out.append(line)
        self.stdout.write("\n".join(out))
