"""Who may do what (``can``/``require``) and whose records they see (``owner_scope_q``), SEC-1.

This module is the one place data scope is turned into a filter. Each model's
``QuerySet.visible_to(actor)`` builds on ``owner_scope_q``; selectors always
start from ``visible_to``, so pages, API, search, exports and counts agree.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import PermissionDenied

from .models import Department, User
from .perms import DataScope, Perm

_PERMS_ATTR = "_kehu_perms"
_SCOPES_ATTR = "_kehu_scopes"


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
    for attr in (_PERMS_ATTR, _SCOPES_ATTR):
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
    """The owners whose records ``actor`` sees; ``None`` means everyone (全部)."""
    scopes = scopes_of(actor)
    if DataScope.ALL.value in scopes:
        return None
    ids: set[int] = set()
    if not scopes or not actor.pk:
        return ids
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
    return ids


def sees_all(actor: User) -> bool:
    """True for the 全部 scope."""
    return DataScope.ALL.value in scopes_of(actor)


def owner_scope_q(actor: User, *, owner_field: str = "owner") -> Q:
    """A ``Q`` keeping rows whose ``owner_field`` is in ``actor``'s data scope."""
    if not getattr(actor, "is_authenticated", False):
        return Q(pk__in=[])
    ids = owner_ids_in_scope(actor)
    if ids is None:
        # Every owned record; records without an owner (the public pool) are the caller's decision.
        return Q(**{f"{owner_field}__isnull": False})
    if not ids:
        return Q(pk__in=[])
    return Q(**{f"{owner_field}_id__in": sorted(ids)})


def any_of(*qs: Q) -> Q:
    return reduce(or_, qs)
