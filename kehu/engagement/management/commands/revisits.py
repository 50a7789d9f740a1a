"""``kehu revisits``: create the regular-revisit tasks that are due (ENG-4). Run it once a day."""

from __future__ import annotations

from datetime import date
from typing import Any

from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail
from kehu.engagement.revisits import revisit_generate


class Command(KehuCommand):
    help = (
        "按回访计划为久未联系的客户生成回访任务 / create revisit tasks for customers their plans say are due"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--date", default=None, help="按哪一天计算 / the day to judge by, YYYY-MM-DD")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["date"]:
            try:
                today = date.fromisoformat(options["date"])
            except ValueError as exc:
                raise fail("date", "日期格式应为 YYYY-MM-DD", "the date must be YYYY-MM-DD") from exc
        try:
            result = revisit_generate(today=today)
        except KehuError as exc:
            raise command_error(exc) from exc
        self.stdout.write(f"已生成 {result.created} 个回访任务 / created {result.created} revisit task(s)")
