"""``kehu recycle``: return to their public pools the customers whose time is up (CUS-7).

Run it once a day (cron, a systemd timer, or ``kehu scheduler`` when it arrives). Running it twice
is harmless: a returned customer has no owner any more.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail
from kehu.customers.pool import pool_recycle


class Command(KehuCommand):
    help = (
        "把超过公海规则天数未跟进或未成交的客户退回公海 / return customers nobody followed up (or who have "
        "not closed a deal) within their pool's rules to the pool; each return is audited."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--date", default=None, help="按哪一天计算 / the day to judge by, YYYY-MM-DD (default today)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise fail("date", "日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD") from exc
        try:
            result = pool_recycle(by=None, today=today)
        except KehuError as exc:
            raise command_error(exc) from exc
        self.stdout.write(
            f"已退回公海 {result.returned} 个客户，用时 {result.seconds} 秒 / "
            f"returned {result.returned} customer(s) to their pools in {result.seconds} s"
        )
