"""``kehu purge``: remove customers that have sat in the recycle bin too long (SEC-6)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail
from kehu.customers.services import customers_purge_expired


class Command(KehuCommand):
    help = (
        "彻底删除回收站中超过保留天数的客户 / purge customers that have been in the recycle bin longer than "
        "--days (default KEHU_RECYCLE_BIN_DAYS, 30). Their audit history stays."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help="保留天数 / days in the recycle bin before purging (default KEHU_RECYCLE_BIN_DAYS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        days = settings.KEHU_RECYCLE_BIN_DAYS if options["days"] is None else options["days"]
        if days < 0:
            raise fail("days", "天数不能为负数", "days cannot be negative")
        try:
            count = customers_purge_expired(days=days, by=None)
        except KehuError as exc:
            raise command_error(exc) from exc
        self.stdout.write(
            f"已彻底删除 {count} 个在回收站中超过 {days} 天的客户 / "
            f"purged {count} customer(s) that were in the recycle bin for more than {days} days"
        )
