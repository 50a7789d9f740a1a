"""Who may do what (``can``/``require``) and whose records they see (``owner_scope_q``), SEC-1.

This module is the one place data scope is turned into a filter. Each model's
``QuerySet.visible_to(actor)`` builds on ``owner_scope_q``; selectors always
start from ``visible_to``, so pages, API, search, exports and counts agree.
"""

from __future__ import annotations

from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import PermissionDenied, ValidationError

from .models import Department, User
from .perms import VIEW_SCOPES_OF, DataScope, Perm, ViewScope

_PERMS_ATTR = "_kehu_perms"
_SCOPES_ATTR = "_kehu_scopes"
# The owner ids of the actor's data scope and of its view scopes, remembered on this actor object (one
# request, one job): a page asks for them in its visible_to, its report and its filter choices. Keyed by
# what they depend on in the actor's own row; ``forget`` drops them.
_OWNER_IDS_ATTR = "_kehu_owner_ids"


def _load(actor: User) -> None:
    if actor.is_superuser:
        setattr(actor, _PERMS_ATTR, frozenset(p.value for p in Perm))
        setattr(actor, _SCOPES_ATTR, frozenset({DataScope.ALL.value}))
        return
    perms: set[str] = set()
    scopes: set[str] = set()
    if actor.is_active and actor.pk:
        for permissions, scope in actor.roles.values_list("permissions", "data_scope"):
            perms.update(permissions or [])
            scopes.add(scope)
    setattr(actor, _PERMS_ATTR, frozenset(perms))
    setattr(actor, _SCOPES_ATTR, frozenset(scopes))


def perms_of(actor: User) -> frozenset[str]:
    if not getattr(actor, "is_authenticated", False):
        return frozenset()
    if not hasattr(actor, _PERMS_ATTR):
        _load(actor)
    return getattr(actor, _PERMS_ATTR)


def scopes_of(actor: User) -> frozenset[str]:
    if not getattr(actor, "is_authenticated", False):
        return frozenset()
    if not hasattr(actor, _SCOPES_ATTR):
        _load(actor)
    return getattr(actor, _SCOPES_ATTR)


def forget(actor: User) -> None:
    """Drop cached permissions after roles change."""
    for attr in (_PERMS_ATTR, _SCOPES_ATTR, _OWNER_IDS_ATTR):
        if hasattr(actor, attr):
            delattr(actor, attr)


def can(actor: User, perm: Perm) -> bool:
    return perm.value in perms_of(actor)


def require(actor: User, perm: Perm) -> None:
    """First line of every service that needs ``perm``; raises ``PermissionDenied`` naming it."""
    if not can(actor, perm):
        raise PermissionDenied(
            _("您没有“%(perm)s”权限"), code="permission_denied", params={"perm": perm.label}
        )


def subordinate_ids(actor: User) -> set[int]:
    """Everyone below ``actor`` in the supervisor chain (not including ``actor``)."""
    edges = list(User.objects.filter(supervisor__isnull=False).values_list("id", "supervisor_id"))
    children: dict[int, list[int]] = {}
    for uid, sup in edges:
        children.setdefault(sup, []).append(uid)
    found: set[int] = set()
    stack = [actor.pk]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found and child != actor.pk:
                found.add(child)
                stack.append(child)
    return found


def department_subtree_ids(department: Department) -> list[int]:
    return list(Department.objects.filter(path__startswith=department.path).values_list("id", flat=True))


def owner_ids_in_scope(actor: User) -> set[int] | None:
    """The owners whose records ``actor`` sees; ``None`` means everyone (全部). Remembered on the actor
    object (a request's user) until its scopes, department or id change, or ``forget``."""
    return _remembered(actor, "visible", lambda: _owner_ids_in_scope(actor))


def _remembered(actor: User, name: str, compute: Any) -> set[int] | None:
    key = (actor.pk, getattr(actor, "department_id", None), scopes_of(actor))
    memo = getattr(actor, _OWNER_IDS_ATTR, None)
    if memo is None or memo[0] != key:
        found: dict[str, frozenset[int] | None] = {}
        memo = (key, found)
        setattr(actor, _OWNER_IDS_ATTR, memo)
    if name not in memo[1]:
        memo[1][name] = compute()
    ids = memo[1][name]
    return None if ids is None else set(ids)


def _owner_ids_in_scope(actor: User) -> frozenset[int] | None:
    scopes = scopes_of(actor)
    if DataScope.ALL.value in scopes:
        return None
    ids: set[int] = set()
    if not scopes or not actor.pk:
        return frozenset(ids)
    ids.add(actor.pk)
    if DataScope.OWN_AND_SUBORDINATES.value in scopes:
        ids |= subordinate_ids(actor)
    dept_ids: set[int] = set()
    if actor.department_id:
        if DataScope.DEPARTMENT_AND_SUB.value in scopes and actor.department is not None:
            dept_ids |= set(department_subtree_ids(actor.department))
        elif DataScope.DEPARTMENT.value in scopes:
            dept_ids.add(actor.department_id)
    if dept_ids:
        ids |= set(User.objects.filter(department_id__in=dept_ids).values_list("id", flat=True))
    return frozenset(ids)


def sees_all(actor: User) -> bool:
    """True for the 全部 scope."""
    return DataScope.ALL.value in scopes_of(actor)


def owner_scope_q(actor: User, *, owner_field: str = "owner") -> Q:
    """A ``Q`` keeping rows whose ``owner_field`` is in ``actor``'s data scope."""
    if not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    ids = owner_ids_in_scope(actor)
    if ids is None:
        return every_owner_q(owner_field=owner_field)
    if not ids:
        return Q(pk__in=[])
    return Q(**{f"{owner_field}_id__in": sorted(ids)})


def every_owner_q(*, owner_field: str = "owner") -> Q:
    """``owner_scope_q`` of the 全部 scope: every owned record; records without an owner (the public pool)
    are the caller's decision."""
    return Q(**{f"{owner_field}__isnull": False})


def any_of(*qs: Q) -> Q:
    return reduce(or_, qs)


def view_scopes(actor: User) -> list[str]:
    """The view scopes (本人 / 本人及下属 / 部门 / 全部) ``actor``'s roles allow, in that order; 部门 only
    for someone in a department. Empty for a user without a role."""
    allowed = {v for scope in scopes_of(actor) for v in VIEW_SCOPES_OF.get(scope, ())}
    if not getattr(actor, "department_id", None):
        allowed.discard(ViewScope.DEPARTMENT)
    return [v.value for v in ViewScope if v in allowed]


def view_scope_owner_ids(actor: User, scope: str) -> set[int] | None:
    """The owners whose records the view ``scope`` counts for ``actor`` (``None``: everyone, 全部).

    本人 is the actor; 本人及下属 adds everyone below them in the supervisor chain; 部门 is their
    department, and its sub-departments for a 本部门及下属 or 全部 role. The caller still reads through
    ``visible_to``, so a scope never shows more than the roles do. A scope the roles do not allow is
    refused, naming the field ``scope``."""
    if scope not in ViewScope.values:
        raise ValidationError(
            _("统计范围“%(value)s”无效（可选：mine, team, dept, all）"),
            field="scope",
            params={"value": scope},
        )
    if scope not in view_scopes(actor):
        raise PermissionDenied(
            _("您的角色不允许查看“%(scope)s”范围的数据"),
            code="scope_denied",
            field="scope",
            params={"scope": ViewScope(scope).label},
        )
    if scope == ViewScope.ALL:
        return None
    if scope == ViewScope.MINE:
        return {actor.pk}
    return _remembered(actor, f"view:{scope}", lambda: _view_scope_owner_ids(actor, scope))


def _view_scope_owner_ids(actor: User, scope: str) -> frozenset[int]:
    if scope == ViewScope.TEAM:
        return frozenset({actor.pk} | subordinate_ids(actor))
    department = actor.department
    scopes = scopes_of(actor)
    if department is not None and scopes & {DataScope.DEPARTMENT_AND_SUB.value, DataScope.ALL.value}:
        dept_ids = department_subtree_ids(department)
    else:
        dept_ids = [actor.department_id] if actor.department_id else []
    return frozenset(
        {actor.pk, *User.objects.filter(department_id__in=dept_ids).values_list("id", flat=True)}
    )
