"""``kehu fetchmail [--mailbox NAME]``: fetch new mail of every active IMAP mailbox (ENG-5).

Run it every few minutes (cron, or the periodic job that calls ``mailbox_fetch_all``). Fetching again
never stores a message twice. Exits non-zero when a mailbox could not be read.
"""

from __future__ import annotations

from typing import Any

from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail
from kehu.engagement.mail.mailboxes import mailbox_fetch_all


class Command(KehuCommand):
    help = "从 IMAP 邮箱收取新邮件 / fetch new mail from the IMAP mailboxes"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--mailbox", default=None, help="只收这个邮箱（名称） / only this mailbox (its name)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = mailbox_fetch_all(name=options["mailbox"])
        except KehuError as exc:
            raise command_error(exc) from exc
        for item in result.results:
            if item.error:
                self.stderr.write(f"{item.mailbox}: 错误 / error: {item.error}")
            else:
                self.stdout.write(
                    f"{item.mailbox}: 新邮件 {item.stored} 封（读取 {item.fetched}） / "
                    f"{item.stored} new message(s) of {item.fetched} read"
                )
        if not result.results:
            self.stdout.write("没有启用 IMAP 的邮箱 / no active IMAP mailbox")
        if result.failed:
            names = ", ".join(r.mailbox for r in result.failed)
            raise fail("mailbox", f"以下邮箱收信失败：{names}", f"could not fetch: {names}")
