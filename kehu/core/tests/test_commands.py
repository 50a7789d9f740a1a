"""The ``kehu`` administration commands: serve, createuser, purge (interfaces.md: --help, non-zero exit,
errors naming the field)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from django.utils import timezone

from kehu.access.models import Department, User
from kehu.access.services import department_create
from kehu.core.errors import ValidationError
from kehu.core.management import error_text
from kehu.customers.models import Contact, Customer

PASSWORD = "kehu-Cli-Pass-2026"


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- kehu serve --------------------------------------------------------------------------------------


@override_settings(KEHU_PORT=8123)
def test_serve_runs_gunicorn_on_kehu_port_with_two_workers():
    output = run("serve", "--dry-run")
    assert "Kehu 正在运行 / serving at http://127.0.0.1:8123" in output
    command = output.splitlines()[-1]
    assert "config.wsgi:application" in command
    assert "--bind 127.0.0.1:8123" in command
    assert "--workers 2" in command and "--worker-class gthread" in command
    assert "--access-logfile" not in command


def test_serve_options():
    command = run(
        "serve", "--dry-run", "--port", "9001", "--workers", "3", "--host", "0.0.0.0", "--access-log"
    )
    assert "serving at http://127.0.0.1:9001" in command
    assert "--bind 0.0.0.0:9001" in command and "--workers 3" in command and "--access-logfile -" in command


@pytest.mark.parametrize(("args", "field"), [(["--port", "70000"], "port"), (["--workers", "0"], "workers")])
def test_serve_refuses_bad_options(args, field):
    with pytest.raises(CommandError, match=f"error: {field}"):
        run("serve", "--dry-run", *args)


def test_serve_replaces_itself_with_gunicorn(monkeypatch):
    calls = []
    monkeypatch.setattr("os.execvp", lambda file, argv: calls.append((file, argv)))
    run("serve", "--port", "8555", "--no-worker", "--no-scheduler")
    ((file, argv),) = calls
    assert file == argv[0] and "gunicorn" in " ".join(argv[:3])
    assert "127.0.0.1:8555" in argv


# --- kehu createuser ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_createuser_with_roles_and_department():
    sales = department_create(name="销售部", parent=None, by=None)
    department_create(name="华东销售部", parent=sales, by=None)
    output = run(
        "createuser",
        "wang",
        "--password",
        PASSWORD,
        "--name",
        "王磊",
        "--role",
        "sales_rep",
        "sales_manager",
        "--department",
        "销售部/华东销售部",
    )
    assert "wang" in output
    user = User.objects.get(username="wang")
    assert user.display_name == "王磊" and user.check_password(PASSWORD)
    assert sorted(user.roles.values_list("code", flat=True)) == ["sales_manager", "sales_rep"]
    assert user.department.name == "华东销售部"
    assert "wangl" in user.name_search


@pytest.mark.django_db
def test_createuser_reads_kehu_password(monkeypatch):
    monkeypatch.setenv("KEHU_PASSWORD", PASSWORD)
    run("createuser", "boss", "--superuser")
    user = User.objects.get(username="boss")
    assert user.is_superuser and user.check_password(PASSWORD)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["   ", "--password", PASSWORD], "username"),
        (["admin2", "--password", "123"], "password"),
        (["admin2", "--password", PASSWORD, "--role", "nope"], "roles"),
        (["admin2", "--password", PASSWORD, "--department", "不存在的部门"], "department"),
        (["admin2", "--password", PASSWORD, "--supervisor", "ghost"], "supervisor"),
    ],
)
def test_createuser_errors_name_the_field_and_create_nothing(args, field):
    with pytest.raises(CommandError, match=f"错误 / error: {field}: "):
        run("createuser", *args)
    assert not User.objects.exists()


@pytest.mark.django_db
def test_createuser_refuses_a_duplicate_username():
    run("createuser", "li", "--password", PASSWORD)
    with pytest.raises(CommandError, match=r"username: .*LI"):
        run("createuser", "LI", "--password", PASSWORD)
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_createuser_without_a_password_and_without_a_terminal(monkeypatch):
    monkeypatch.delenv("KEHU_PASSWORD", raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="password"):
        run("createuser", "zhao")


@pytest.mark.django_db
def test_a_failed_command_exits_1_and_prints_the_error_without_a_prefix(monkeypatch, capsys):
    from kehu.access.management.commands.createuser import Command

    monkeypatch.setattr("kehu.core.management.connections.close_all", lambda: None)
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["kehu", "createuser", "   ", "--password", PASSWORD, "--skip-checks"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.startswith("错误 / error: username: ")


def test_error_text_gives_both_languages_and_the_field():
    error = ValidationError("用户名不能为空", field="username")
    assert error_text(error) == "错误 / error: username: 用户名不能为空"


def test_every_command_has_help():
    for name in ("serve", "createuser", "demo", "purge"):
        with pytest.raises(SystemExit) as exit_info:
            call_command(name, "--help", stdout=io.StringIO())
        assert exit_info.value.code == 0


# --- kehu purge --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_removes_only_customers_recycled_long_enough():
    now = timezone.now()
    old = Customer.objects.create(
        code="KH90000001", name="上海旧客户有限公司", deleted_at=now - timedelta(days=40)
    )
    Contact.objects.create(customer=old, name="张三")
    recent = Customer.objects.create(
        code="KH90000002", name="上海新删除有限公司", deleted_at=now - timedelta(days=5)
    )
    live = Customer.objects.create(code="KH90000003", name="上海在用客户有限公司")
    output = run("purge", "--days", "30")
    assert "1" in output and "purged 1" in output
    assert set(Customer.objects.values_list("pk", flat=True)) == {recent.pk, live.pk}
    assert not Contact.objects.exists()


@pytest.mark.django_db
@override_settings(KEHU_RECYCLE_BIN_DAYS=3)
def test_purge_defaults_to_the_configured_recycle_bin_days():
    Customer.objects.create(
        code="KH90000004", name="深圳四天前删除有限公司", deleted_at=timezone.now() - timedelta(days=4)
    )
    assert "purged 1" in run("purge")


def test_purge_refuses_negative_days():
    with pytest.raises(CommandError, match="days"):
        run("purge", "--days", "-1")


@pytest.mark.django_db
def test_departments_are_found_by_unique_name_or_by_path():
    from kehu.access.management.commands.createuser import find_department

    hq = department_create(name="总部", parent=None, by=None)
    one = department_create(name="华东销售部", parent=hq, by=None)
    other = department_create(name="华东销售部", parent=None, by=None)
    assert find_department("总部/华东销售部") == one
    with pytest.raises(CommandError, match="department"):
        find_department("华东销售部")
    assert isinstance(other, Department)
