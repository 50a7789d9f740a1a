"""``kehu birthdays``: move every birthday that has passed on to its next celebration (MKT-3).

Run it once a day (cron, a systemd timer, or the scheduler); ``--full`` recomputes every birthday,
e.g. after rows were written without the services. Running it twice changes nothing the second time.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from kehu.core.management import KehuCommand, fail
from kehu.customers.birthdays import birthday_refresh


class Command(KehuCommand):
    help = (
        "更新客户和联系人的下次生日日期（含农历生日）/ move the next-birthday dates of customers and "
        "contacts (solar and lunar birthdays) that have passed on to the next celebration."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--date", default=None, help="按哪一天计算 / the day to judge by, YYYY-MM-DD (default today)"
        )
        parser.add_argument("--full", action="store_true", help="重新计算全部生日 / recompute every birthday")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise fail("date", "日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD") from exc
        changed = birthday_refresh(today=today, full=options["full"])
        self.stdout.write(f"已更新 {changed} 个生日 / moved {changed} birthday(s) on to their next date")
