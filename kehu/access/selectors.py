"""Reads of users, departments, roles and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, paginate

from .models import ApiToken, Department, Role, User
from .perms import Perm
from .scope import require


def user_get_active(*, user_id: Any, field: str = "user_id", include_inactive: bool = False) -> User:
    """A user to act upon (new owner, collaborator); the error names ``field``."""
    try:
        pk = int(user_id)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("用户ID无效"), field=field) from exc
    qs = User.objects.filter(pk=pk)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    user = qs.first()
    if user is None:
        raise ValidationError(_("用户不存在或已停用"), field=field)
    return user


def user_choices() -> QuerySet[User]:
    """Active users for owner/collaborator pickers (names only — visible to every signed-in user)."""
    return User.objects.filter(is_active=True).select_related("department").order_by("department__path", "id")


@dataclass(frozen=True, slots=True)
class UserChoice:
    """A user as a select's option: what a filter draws, without a model instance (a board's owner
    filter lists a department's ~170 users on every request)."""

    pk: int
    label: str


def user_choice_values(users: QuerySet[User]) -> list[UserChoice]:
    """``users`` (e.g. ``user_choices()`` narrowed) as options, in their order: one read of three columns."""
    rows = users.values_list("pk", "display_name", "username")
    return [UserChoice(pk=pk, label=display_name or username) for pk, display_name, username in rows]


def user_list(
    *,
    actor: User,
    q: str = "",
    department_id: Any = None,
    active: Any = None,
    limit: Any = None,
    offset: Any = None,
) -> Page:
    require(actor, Perm.USER_MANAGE)
    qs = User.objects.select_related("department", "supervisor").prefetch_related("roles")
    if q:
        needle = q.strip().lower()
        qs = qs.filter(
            Q(username__icontains=needle)
            | Q(display_name__icontains=needle)
            | Q(name_search__contains=needle)
        )
    if department_id not in (None, ""):
        qs = qs.filter(department_id=department_id)
    if active not in (None, ""):
        qs = qs.filter(is_active=str(active).lower() in ("1", "true", "yes"))
    return paginate(qs.order_by("id"), limit=limit, offset=offset)


def user_get(*, actor: User, user_id: int) -> User:
    require(actor, Perm.USER_MANAGE)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("用户不存在"), field="id")
    return user


def department_tree() -> list[Department]:
    """All departments in tree order (path order), each with ``depth``."""
    return list(Department.objects.select_related("manager").order_by("path"))


def department_get(*, department_id: Any, field: str = "department") -> Department:
    try:
        dept = Department.objects.filter(pk=int(department_id)).first()
    except (TypeError, ValueError):
        dept = None
    if dept is None:
        raise ValidationError(_("部门不存在"), field=field)
    return dept


def role_list() -> list[Role]:
    return list(Role.objects.order_by("id"))


def role_get(*, role_id: int) -> Role:
    role = Role.objects.filter(pk=role_id).first()
    if role is None:
        raise NotFound(_("角色不存在"), field="id")
    return role


def token_list(*, actor: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=actor).order_by("-created_at"))


def token_get(*, actor: User, token_id: int) -> ApiToken:
    token = ApiToken.objects.filter(pk=token_id, user=actor).first()
    if token is None:
        raise NotFound(_("令牌不存在"), field="id")
    return token


# --- reads for the management pages: each checks the permission first (the rule lives here, not in views) ---


@dataclass(frozen=True)
class UserFormChoices:
    """What the user create/edit forms offer: departments (tree order), active users, roles."""

    departments: list[Department]
    supervisors: list[User]
    roles: list[Role]


def user_form_choices(*, actor: User) -> UserFormChoices:
    """Choices for the user forms; only for user managers (SEC-1)."""
    require(actor, Perm.USER_MANAGE)
    return UserFormChoices(departments=department_tree(), supervisors=list(user_choices()), roles=role_list())


def department_tree_for(*, actor: User) -> list[Department]:
    """The 部门 page: path-ordered departments, each with ``member_count`` (active members)."""
    require(actor, Perm.DEPARTMENT_MANAGE)
    return list(
        Department.objects.select_related("manager", "parent")
        .annotate(member_count=Count("members", filter=Q(members__is_active=True)))
        .order_by("path")
    )


def department_get_for(*, actor: User, department_id: int) -> Department:
    """A department to edit; only for department managers."""
    require(actor, Perm.DEPARTMENT_MANAGE)
    dept = Department.objects.select_related("manager", "parent").filter(pk=department_id).first()
    if dept is None:
        raise NotFound(_("部门不存在"), field="id")
    return dept


def role_list_for(*, actor: User) -> list[Role]:
    """The 角色 page: roles with ``user_count``; only for role managers."""
    require(actor, Perm.ROLE_MANAGE)
    return list(Role.objects.annotate(user_count=Count("users")).order_by("id"))


def role_get_for(*, actor: User, role_id: int) -> Role:
    """A role to edit; only for role managers."""
    require(actor, Perm.ROLE_MANAGE)
    return role_get(role_id=role_id)
