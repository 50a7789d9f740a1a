"""``kehu createuser``: create a user from the command line (``user_create(by=None)``)."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from kehu.access.models import Department, User
from kehu.access.services import user_create
from kehu.core.errors import KehuError
from kehu.core.management import KehuCommand, command_error, fail


def find_department(name: str) -> Department:
    """A department by name, or by path ``总部/销售部/华东销售部`` when the name alone is ambiguous."""
    parts = [p.strip() for p in name.strip().strip("/").split("/") if p.strip()]
    if not parts:
        raise fail("department", "部门名称不能为空", "the department name is empty")
    if len(parts) == 1:
        found = list(Department.objects.filter(name=parts[0])[:2])
        if len(found) > 1:
            raise fail(
                "department",
                f"有多个名为“{parts[0]}”的部门，请写完整路径，如 总部/销售部/{parts[0]}",
                f"several departments are named {parts[0]}; give the path, e.g. 总部/销售部/{parts[0]}",
            )
        if found:
            return found[0]
    else:
        parent = None
        for part in parts:
            parent = Department.objects.filter(name=part, parent=parent).first()
            if parent is None:
                break
        if parent is not None:
            return parent
    raise fail("department", f"部门“{name}”不存在", f"department {name} does not exist")


def read_password(given: str | None) -> str:
    """``--password``, else ``KEHU_PASSWORD``, else a prompt (twice) when a person is at the terminal."""
    if given:
        return given
    if os.environ.get("KEHU_PASSWORD"):
        return os.environ["KEHU_PASSWORD"]
    if not sys.stdin.isatty():
        raise fail(
            "password",
            "请用 --password 或环境变量 KEHU_PASSWORD 提供密码",
            "give the password with --password or the KEHU_PASSWORD variable",
        )
    first = getpass.getpass("密码 / Password: ")
    if getpass.getpass("再输一次 / Password (again): ") != first:
        raise fail("password", "两次输入的密码不一致", "the passwords do not match")
    return first


class Command(KehuCommand):
    help = "创建用户 / create a user. The password comes from --password, KEHU_PASSWORD or a prompt."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username", help="用户名 / user name")
        parser.add_argument("--password", help="密码 / password (else KEHU_PASSWORD, else prompt)")
        parser.add_argument("--name", default="", help="姓名 / display name")
        parser.add_argument("--email", default="", help="邮箱 / e-mail")
        parser.add_argument("--mobile", default="", help="手机号 / mobile")
        parser.add_argument(
            "--role",
            dest="roles",
            action="extend",
            nargs="+",
            default=[],
            metavar="CODE",
            help="角色代码，可多个 / role codes, e.g. admin sales_manager sales_rep",
        )
        parser.add_argument("--department", help="部门名称或路径 / department name or path 总部/销售部")
        parser.add_argument("--supervisor", help="直属上级的用户名 / username of the supervisor")
        parser.add_argument("--superuser", action="store_true", help="超级用户 / superuser (all permissions)")

    def handle(self, *args: Any, **options: Any) -> None:
        department = find_department(options["department"]) if options["department"] else None
        supervisor = None
        if options["supervisor"]:
            supervisor = User.objects.filter(username__iexact=options["supervisor"]).first()
            if supervisor is None:
                raise fail(
                    "supervisor",
                    f"用户“{options['supervisor']}”不存在",
                    f"user {options['supervisor']} does not exist",
                )
        password = read_password(options["password"])
        try:
            user = user_create(
                username=options["username"], password=password, display_name=options["name"],
                email=options["email"], mobile=options["mobile"], department=department, supervisor=supervisor,
                role_codes=options["roles"], is_superuser=options["superuser"], by=None,
            )  # fmt: skip
        except KehuError as exc:
            raise command_error(exc) from exc
        roles = ", ".join(options["roles"]) or "-"
        self.stdout.write(f"已创建用户 / created user: {user.username} (id {user.pk}, 角色 / roles: {roles})")
