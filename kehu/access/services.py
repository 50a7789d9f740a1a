"""Writes for users, departments, roles and API tokens; log-in throttling (SEC-1, issue 2 §2)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import NotFound, RateLimited, ValidationError
from kehu.core.events import diff, emit
from kehu.core.pinyin import search_keys

from .events import AccessChanged
from .models import ApiToken, Department, LoginAttempt, Role, User
from .perms import DataScope, Perm
from .scope import forget, require

TOKEN_PREFIX = "kehu_"
UNCHANGED: Any = object()  # "not given" for optional foreign keys, so None can mean "clear it"


def _event(by: User | None, verb: str, subject: Any, changes: dict | None = None) -> AccessChanged:
    return AccessChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type=type(subject).__name__.lower(),
        subject_id=subject.pk,
        subject_label=str(subject),
        changes=changes or {},
    )


def _password_problems(password: str, user: User | None) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def _validate_password(password: str, user: User | None = None) -> None:
    if not password:
        raise ValidationError(_("请输入密码"), field="password")
    if _password_problems(password, user):
        # Lazy, so the message is rendered by Django's validators in whichever language is asked for.
        message = lazy(lambda: " ".join(_password_problems(password, user)), str)()
        raise ValidationError(message, field="password")


_username_validator = UnicodeUsernameValidator()


def _validate_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise ValidationError(_("用户名不能为空"), field="username")
    if len(username) > 150:
        raise ValidationError(_("用户名不能超过 150 个字符"), field="username")
    try:
        _username_validator(username)
    except DjangoValidationError as exc:
        raise ValidationError(_("用户名只能包含字母、数字和 @ . + - _ 字符"), field="username") from exc
    return username


def _roles_from_codes(codes: list[str]) -> list[Role]:
    roles = list(Role.objects.filter(code__in=codes))
    missing = set(codes) - {r.code for r in roles}
    if missing:
        raise ValidationError(
            _("角色不存在：%(codes)s"), field="roles", params={"codes": ", ".join(sorted(missing))}
        )
    return roles


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    display_name: str = "",
    email: str = "",
    mobile: str = "",
    department: Department | None = None,
    supervisor: User | None = None,
    role_codes: list[str] | None = None,
    is_superuser: bool = False,
    by: User | None,
) -> User:
    """Create a user. ``by=None`` only from the command line (``kehu createuser``) and data loading."""
    if by is not None:
        require(by, Perm.USER_MANAGE)
    username = _validate_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError(
            _("用户名“%(username)s”已存在"), field="username", params={"username": username}
        )
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email.strip(),
        mobile=mobile.strip(),
        department=department,
        supervisor=supervisor,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    _validate_password(password, user)
    user.set_password(password)
    user.name_search = search_keys(user.display_name or username, person_name=True)
    user.save()
    roles = _roles_from_codes(role_codes or [])
    user.roles.set(roles)
    emit(_event(by, "create", user, {"roles": [None, [r.code for r in roles]]}))
    return user


@transaction.atomic
def user_update(
    *, user: User, version: int | None, by: User, role_codes: list[str] | None = None, **fields: Any
) -> User:
    require(by, Perm.USER_MANAGE)
    allowed = {"display_name", "email", "mobile", "department", "supervisor", "is_active", "language"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError(
            _("未知字段：%(f)s"), field=sorted(unknown)[0], params={"f": ", ".join(sorted(unknown))}
        )
    if fields.get("supervisor") is not None and fields["supervisor"].pk == user.pk:
        raise ValidationError(_("不能把自己设为自己的上级"), field="supervisor")
    if user.pk == by.pk and fields.get("is_active") is False:
        raise ValidationError(_("不能停用自己的账号"), field="is_active")
    if user.pk == by.pk and role_codes is not None and not user.is_superuser:
        kept = {
            p
            for perms in Role.objects.filter(code__in=role_codes).values_list("permissions", flat=True)
            for p in perms
        }
        if Perm.USER_MANAGE.value not in kept:
            raise ValidationError(_("不能移除自己的用户管理权限，否则将无法再管理用户"), field="roles")
    before = {f: getattr(user, f) for f in fields}
    for name, value in fields.items():
        setattr(user, name, value)
    user.name_search = search_keys(user.display_name or user.username, person_name=True)
    user.save_versioned(expected_version=version, fields=[*fields, "name_search"])
    changes = diff(
        {k: str(v) if v is not None else None for k, v in before.items()},
        {k: str(v) if v is not None else None for k, v in fields.items()},
    )
    if role_codes is not None:
        old = sorted(user.roles.values_list("code", flat=True))
        user.roles.set(_roles_from_codes(role_codes))
        forget(user)
        if old != sorted(role_codes):
            changes["roles"] = [old, sorted(role_codes)]
    emit(_event(by, "update", user, changes))
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str, by: User) -> None:
    if by.pk != user.pk:
        require(by, Perm.USER_MANAGE)
    _validate_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    emit(_event(by, "set_password", user))


@transaction.atomic
def department_create(
    *, name: str, parent: Department | None = None, manager: User | None = None, by: User | None
) -> Department:
    if by is not None:
        require(by, Perm.DEPARTMENT_MANAGE)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("部门名称不能为空"), field="name")
    dept = Department.objects.create(name=name, parent=parent, manager=manager)
    dept.path = f"{parent.path if parent else '/'}{dept.pk}/"
    dept.save(update_fields=["path"])
    emit(_event(by, "create", dept))
    return dept


@transaction.atomic
def department_update(
    *,
    department: Department,
    version: int | None,
    by: User,
    name: str | None = None,
    parent: Any = UNCHANGED,
    manager: Any = UNCHANGED,
) -> Department:
    """Rename or move a department; moving rewrites the paths of its whole subtree.

    ``parent=None`` moves it to the top level and ``manager=None`` clears the manager;
    leaving them out keeps them as they are.
    """
    require(by, Perm.DEPARTMENT_MANAGE)
    before = {"name": department.name, "parent": str(department.parent or "")}
    if name is not None:
        if not name.strip():
            raise ValidationError(_("部门名称不能为空"), field="name")
        department.name = name.strip()
    old_path = department.path
    if parent is not UNCHANGED and (parent.pk if parent else None) != department.parent_id:
        if parent is not None and parent.path.startswith(department.path):
            raise ValidationError(_("不能把部门移动到它自己的下级部门之下"), field="parent")
        department.parent = parent
        department.path = f"{parent.path if parent else '/'}{department.pk}/"
    if manager is not UNCHANGED:
        department.manager = manager
    department.save_versioned(expected_version=version, fields=["name", "parent", "path", "manager"])
    if department.path != old_path:
        for sub in Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk):
            sub.path = department.path + sub.path[len(old_path) :]
            sub.save(update_fields=["path"])
    emit(
        _event(
            by,
            "update",
            department,
            diff(before, {"name": department.name, "parent": str(department.parent or "")}),
        )
    )
    return department


def _validate_role_fields(name: str, permissions: list[str], data_scope: str) -> None:
    if not (name or "").strip():
        raise ValidationError(_("角色名称不能为空"), field="name")
    valid = {p.value for p in Perm}
    bad = [p for p in permissions if p not in valid]
    if bad:
        raise ValidationError(_("未知权限：%(p)s"), field="permissions", params={"p": ", ".join(bad)})
    if data_scope not in DataScope.values:
        raise ValidationError(_("数据范围无效：%(s)s"), field="data_scope", params={"s": data_scope})


@transaction.atomic
def role_create(
    *, code: str, name: str, permissions: list[str], data_scope: str, name_en: str = "", by: User
) -> Role:
    require(by, Perm.ROLE_MANAGE)
    _validate_role_fields(name, permissions, data_scope)
    if not code or Role.objects.filter(code=code).exists():
        raise ValidationError(_("角色代码为空或已存在"), field="code")
    role = Role.objects.create(
        code=code,
        name=name.strip(),
        name_en=name_en,
        permissions=sorted(set(permissions)),
        data_scope=data_scope,
    )
    emit(
        _event(
            by, "create", role, {"permissions": [None, role.permissions], "data_scope": [None, data_scope]}
        )
    )
    return role


@transaction.atomic
def role_update(
    *, role: Role, version: int | None, name: str, permissions: list[str], data_scope: str, by: User
) -> Role:
    require(by, Perm.ROLE_MANAGE)
    _validate_role_fields(name, permissions, data_scope)
    before = {"name": role.name, "permissions": role.permissions, "data_scope": role.data_scope}
    role.name, role.permissions, role.data_scope = name.strip(), sorted(set(permissions)), data_scope
    role.save_versioned(expected_version=version, fields=["name", "permissions", "data_scope"])
    emit(
        _event(
            by,
            "update",
            role,
            diff(before, {"name": role.name, "permissions": role.permissions, "data_scope": role.data_scope}),
        )
    )
    return role


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str, by: User, days: int | None = None) -> tuple[ApiToken, str]:
    """Create an API token for ``user``; returns the record and the secret, which is shown only once."""
    if by.pk != user.pk:
        require(by, Perm.USER_MANAGE)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("令牌名称不能为空"), field="name")
    if days is not None and not 1 <= days <= 3650:
        raise ValidationError(_("有效天数必须在 1 到 3650 之间"), field="days")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name[:60],
        prefix=secret[: len(TOKEN_PREFIX) + 6],
        key_hash=_hash(secret),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    emit(_event(by, "create", token))
    return token, secret


@transaction.atomic
def token_revoke(*, token: ApiToken, by: User) -> None:
    if by.pk != token.user_id:
        require(by, Perm.USER_MANAGE)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        emit(_event(by, "revoke", token))


def token_authenticate(secret: str) -> User | None:
    """The active user owning the bearer token ``secret``, or ``None``."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(secret), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires_at and token.expires_at < now:
        return None
    # Touch at most once a minute: no write on every API call.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


def login_check_throttle(*, username: str, ip: str | None) -> None:
    """Refuse a sign-in attempt after too many recent failures for this username or this IP."""
    since = timezone.now() - timedelta(seconds=settings.KEHU_LOGIN_WINDOW_SECONDS)
    limit = settings.KEHU_LOGIN_MAX_FAILURES
    recent = LoginAttempt.objects.filter(at__gte=since, succeeded=False)
    if recent.filter(username__iexact=username).count() >= limit or (
        ip and recent.filter(ip=ip).count() >= limit * 4
    ):
        raise RateLimited(
            _("登录失败次数过多，请 %(minutes)s 分钟后再试"),
            field="username",
            params={"minutes": settings.KEHU_LOGIN_WINDOW_SECONDS // 60},
        )


def login_record(*, username: str, ip: str | None, succeeded: bool) -> None:
    LoginAttempt.objects.create(username=username[:150], ip=ip, succeeded=succeeded)
    if succeeded:
        # A success clears this user's failures so a typo an hour ago does not count.
        LoginAttempt.objects.filter(username__iexact=username, succeeded=False).delete()


def login_authenticate(*, request: Any, username: str, password: str) -> User:
    """Check credentials with throttling; used by the log-in page and ``POST /api/v1/auth/token``."""
    from django.contrib.auth import authenticate

    ip = client_ip(request)
    username = (username or "").strip()
    if not username:
        raise ValidationError(_("请输入用户名"), field="username")
    if not password:
        raise ValidationError(_("请输入密码"), field="password")
    login_check_throttle(username=username, ip=ip)
    user = authenticate(request, username=username, password=password)
    if user is None:
        login_record(username=username, ip=ip, succeeded=False)
        raise ValidationError(_("用户名或密码错误"), field="password", code="invalid_credentials")
    login_record(username=username, ip=ip, succeeded=True)
    emit(
        AccessChanged(
            actor_id=user.pk,
            verb="login",
            subject_type="user",
            subject_id=user.pk,
            subject_label=str(user),
            ip=ip,
        )
    )
    return user  # type: ignore[return-value]


def client_ip(request: Any) -> str | None:
    return request.META.get("REMOTE_ADDR") if request is not None else None


def get_user(pk: int) -> User:
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise NotFound(_("用户不存在"), field="id")
    return user
