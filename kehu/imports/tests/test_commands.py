"""``kehu import`` (interfaces.md): exit codes and messages naming the row and field."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from kehu.customers.models import Customer

from .files import csv_bytes, xlsx

pytestmark = pytest.mark.django_db


def test_dry_run_prints_row_and_field_and_fails_on_errors(
    manager_east: Any, tmp_path: Path, capsys: Any
) -> None:
    path = tmp_path / "c.xlsx"
    path.write_bytes(xlsx(["客户名称", "手机号"], [["命令公司", "13800138040"], ["", "1"]]))
    with pytest.raises(CommandError) as failed:
        call_command("import", "customers", str(path), "--dry-run", "--user", "manager_east")
    err = capsys.readouterr().err
    assert "第 3 行 / row 3: 客户名称(name)" in err and "手机号(mobile)" in err
    assert "1 行有错误" in str(failed.value) and Customer.objects.count() == 0


def test_import_writes_and_reports_counts(manager_east: Any, tmp_path: Path, capsys: Any) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(
        csv_bytes(["客户名称", "城市"], [["命令一", "上海"], ["命令二", "北京"]], encoding="gb18030")
    )
    call_command("import", "customers", str(path), "--user", "manager_east")
    assert "created 2" in capsys.readouterr().out
    call_command("import", "customers", str(path), "--user", "manager_east", "--on-duplicate", "update")
    assert "created 0, 更新 / updated 0, 无变化 / unchanged 2" in capsys.readouterr().out
    assert Customer.objects.count() == 2


def test_missing_file_unknown_user_and_refused_permission(rep_east: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="file"):
        call_command("import", "customers", str(tmp_path / "none.xlsx"), "--user", "rep_east")
    path = tmp_path / "c.xlsx"
    path.write_bytes(xlsx(["客户名称"], [["甲"]]))
    with pytest.raises(CommandError, match="user"):
        call_command("import", "customers", str(path), "--user", "nobody")
    with translation.override("zh-hans"), pytest.raises(CommandError, match="导入数据"):
        call_command("import", "customers", str(path), "--user", "rep_east")
    assert Customer.objects.count() == 0


def test_the_kehu_command_exits_non_zero(tmp_path: Path) -> None:
    """A real process: bad arguments exit non-zero with the error on stderr."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    kehu = Path(sys.executable).with_name("kehu")
    done = subprocess.run([str(kehu), "import", "customers", str(tmp_path / "none.csv"), "--user", "x"],
                          env=env, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode != 0 and "错误 / error: file" in done.stderr


def test_the_command_line_checks_large_files_in_the_foreground(
    manager_east: Any, tmp_path: Path, capsys: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehu.imports import services

    monkeypatch.setattr(services, "BACKGROUND_BYTES", 1)
    path = tmp_path / "c.xlsx"
    path.write_bytes(xlsx(["客户名称"], [["前台一"], ["前台二"]]))
    call_command("import", "customers", str(path), "--dry-run", "--user", "manager_east")
    assert "2 行 / rows, 新 / new 2" in capsys.readouterr().out


def test_without_user_the_command_imports_as_the_first_administrator(
    cast: Any, tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    """interfaces.md names `kehu import <kind> <file> [--dry-run]`: it works without --user."""
    monkeypatch.delenv("KEHU_IMPORT_USER", raising=False)
    path = tmp_path / "c.csv"
    path.write_bytes(csv_bytes(["客户名称"], [["管理员导入有限公司"]]))
    call_command("import", "customers", str(path))
    assert "created 1" in capsys.readouterr().out
    assert Customer.objects.get(name="管理员导入有限公司").owner == cast.admin
    monkeypatch.setenv("KEHU_IMPORT_USER", "manager_east")
    path.write_bytes(csv_bytes(["客户名称"], [["经理导入有限公司"]]))
    call_command("import", "customers", str(path))
    assert Customer.objects.get(name="经理导入有限公司").owner == cast.manager_east
