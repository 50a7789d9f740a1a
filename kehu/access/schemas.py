from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from kehu.core.schemas import StrictIn

from .models import User
from .scope import perms_of, scopes_of


class TokenRequestIn(StrictIn):
    username: str
    password: str
    name: str = "api"


class TokenCreatedOut(Schema):
    token: str
    id: int
    name: str
    expires_at: datetime | None


class TokenCreateIn(StrictIn):
    name: str
    days: int | None = None


class TokenOut(Schema):
    id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class MeOut(Schema):
    id: int
    username: str
    name: str
    department: str | None
    permissions: list[str]
    data_scopes: list[str]


def me_out(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.label,
        "department": user.department.name if user.department else None,
        "permissions": sorted(perms_of(user)),
        "data_scopes": sorted(scopes_of(user)),
    }


class UserOut(Schema):
    id: int
    username: str
    display_name: str
    email: str
    mobile: str
    department_id: int | None
    supervisor_id: int | None
    roles: list[str]
    is_active: bool
    version: int


def user_out(u: User) -> dict[str, Any]:
    return {
        "id": u.pk,
        "username": u.username,
        "display_name": u.display_name,
        "email": u.email,
        "mobile": u.mobile,
        "department_id": u.department_id,
        "supervisor_id": u.supervisor_id,
        "roles": [r.code for r in u.roles.all()],
        "is_active": u.is_active,
        "version": u.version,
    }


class UserCreateIn(StrictIn):
    username: str
    password: str
    display_name: str = ""
    email: str = ""
    mobile: str = ""
    department_id: int | None = None
    supervisor_id: int | None = None
    roles: list[str] = []


class UserPatchIn(StrictIn):
    version: int
    display_name: str | None = None
    email: str | None = None
    mobile: str | None = None
    department_id: int | None = None
    supervisor_id: int | None = None
    roles: list[str] | None = None
    is_active: bool | None = None


class UserListOut(Schema):
    items: list[UserOut]
    count: int


class DepartmentOut(Schema):
    id: int
    name: str
    parent_id: int | None
    path: str
    manager_id: int | None
    version: int


class DepartmentIn(StrictIn):
    name: str
    parent_id: int | None = None
    manager_id: int | None = None


class DepartmentPatchIn(StrictIn):
    version: int
    name: str | None = None
    parent_id: int | None = None
    manager_id: int | None = None


class RoleOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    permissions: list[str]
    data_scope: str
    is_system: bool
    version: int


class RoleIn(StrictIn):
    code: str
    name: str
    name_en: str = ""
    permissions: list[str]
    data_scope: str


class RolePatchIn(StrictIn):
    version: int
    name: str
    permissions: list[str]
    data_scope: str
