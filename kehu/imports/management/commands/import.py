"""``kehu import <kind> <file.xlsx|csv> [--dry-run]``: import customers, contacts, interactions, products or leads (CUS-8, SAL-9, SAL-1).

The same services as the import page and the API: the rows are checked (errors name the row and the
field), duplicates found, and — without ``--dry-run`` — written in all-or-nothing chunks. The exit
status is non-zero when the file is refused or any row has an error.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from kehu.access.models import User
from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail
from kehu.imports.choices import ImportKind, OnDuplicate
from kehu.imports.selectors import problem_list
from kehu.imports.services import import_run_file

SHOWN_PROBLEMS = 200


class Command(KehuCommand):
    help = (
        "从 .xlsx 或 .csv 导入客户、联系人或跟进记录 / import customers, contacts or interactions from .xlsx "
        "or .csv: every row is checked first (errors name the row and field); --dry-run only checks."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "kind", choices=ImportKind.values, help="customers | contacts | interactions | products | leads"
        )
        parser.add_argument("file", help="要导入的文件 / the .xlsx or .csv file")
        parser.add_argument("--dry-run", action="store_true", help="只检查不写入 / check only, write nothing")
        parser.add_argument(
            "--user",
            default=None,
            help="以哪个用户的身份和权限导入（默认：KEHU_IMPORT_USER，否则最早的系统管理员）/ the username whose "
            "permissions and data scope apply (default: KEHU_IMPORT_USER, else the first active administrator)",
        )
        parser.add_argument(
            "--on-duplicate",
            choices=OnDuplicate.values,
            default=OnDuplicate.SKIP,
            help="重复行跳过或更新 / skip or update duplicates (default skip)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise fail("file", f"文件“{path}”不存在", f"file {path} does not exist")
        username = options["user"] or os.environ.get("KEHU_IMPORT_USER", "")
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None:
                raise fail("user", f"用户“{username}”不存在或已停用", f"user {username} does not exist")
        else:
            # interfaces.md: `kehu import <kind> <file> [--dry-run]` — an operator's command; it acts as
            # the first administrator (audited as them) unless told whom.
            user = User.objects.filter(is_active=True, roles__code="admin").order_by("pk").first()
            if user is None:
                raise fail(
                    "user", "没有可用的系统管理员，请用 --user 指定导入人",
                    "no active administrator: name the importing user with --user",
                )  # fmt: skip

        def progress(done: int, total: int, message: str) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(f"{message} {done}/{total or '?'}")

        try:
            batch = import_run_file(
                kind=options["kind"], name=path.name, data=path.read_bytes(), by=user,
                dry_run=options["dry_run"], on_duplicate=options["on_duplicate"], progress=progress,
            )  # fmt: skip
        except KehuError as exc:
            raise command_error(exc) from exc
        errors = problem_list(actor=user, batch_id=batch.pk, kind="error", limit=SHOWN_PROBLEMS)
        for p in errors.items:
            field = f"{p.column}({p.field})" if p.column else p.field
            sys.stderr.write(
                f"错误 / error: 第 {p.row} 行 / row {p.row}: {field}: {p.message} / {p.message_en}\n"
            )
        if errors.count > SHOWN_PROBLEMS:
            sys.stderr.write(f"… 共 {errors.count} 个错误 / {errors.count} errors in all\n")
        self.stdout.write(
            f"批次 / batch #{batch.pk}: {batch.total_rows} 行 / rows, 新 / new {batch.new_rows}, "
            f"重复 / duplicates {batch.duplicate_rows}, 有错误 / with errors {batch.error_rows}"
        )
        if not options["dry_run"]:
            self.stdout.write(
                f"已写入 / written: 新建 / created {batch.created}, 更新 / updated {batch.updated}, "
                f"无变化 / unchanged {batch.unchanged}, 跳过 / skipped {batch.skipped}, "
                f"未写入（所在批次有错误）/ not written (chunk had errors) {batch.blocked_rows}"
            )
            for chunk in batch.chunks:
                if chunk["status"] == "blocked":
                    self.stdout.write(
                        f"  第 {chunk['first']}–{chunk['last']} 行未写入 / rows {chunk['first']}–{chunk['last']} "
                        "not written"
                    )
        if batch.error_rows:
            raise fail(
                None,
                f"{batch.error_rows} 行有错误" + ("" if options["dry_run"] else "，其所在批次未写入"),
                f"{batch.error_rows} row(s) have errors"
                + ("" if options["dry_run"] else "; their chunks were not written"),
            )
