"""Who may do what (can/require) and whose records they see (data scope), SEC-1."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from kehu.access.models import User
from kehu.access.perms import DEFAULT_ROLES, DataScope, Perm
from kehu.access.scope import (
    can,
    department_subtree_ids,
    forget,
    owner_ids_in_scope,
    owner_scope_q,
    perms_of,
    require,
    scopes_of,
    subordinate_ids,
)
from kehu.access.services import role_create, user_create, user_update
from kehu.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def give_roles(user: Any, codes: list[str], *, by: Any) -> Any:
    user.refresh_from_db()
    return user_update(user=user, version=user.version, role_codes=codes, by=by)


# --- can / require ---------------------------------------------------------------------------------------


def test_a_rep_can_view_and_create_customers_but_not_delete_them(cast: SimpleNamespace) -> None:
    assert can(cast.rep_east, Perm.CUSTOMER_VIEW)
    assert can(cast.rep_east, Perm.CUSTOMER_CREATE)
    assert not can(cast.rep_east, Perm.CUSTOMER_DELETE)
    assert not can(cast.rep_east, Perm.AUDIT_VIEW)


@pytest.mark.parametrize("code", list(DEFAULT_ROLES))
def test_each_default_role_grants_exactly_its_permissions_and_scope(cast: SimpleNamespace, code: str) -> None:
    user = user_create(username=f"u_{code}", password=cast.password, role_codes=[code], by=None)
    _name, _en, perms, scope = DEFAULT_ROLES[code]
    assert perms_of(user) == frozenset(str(p) for p in perms)
    assert scopes_of(user) == {str(scope)}


def test_only_the_admin_and_the_auditor_may_read_the_audit_log(cast: SimpleNamespace) -> None:
    readers = {u.username for u in User.objects.all() if can(u, Perm.AUDIT_VIEW)}
    assert readers == {"admin", "auditor"}


def test_require_passes_silently_or_refuses_naming_the_permission(cast: SimpleNamespace) -> None:
    require(cast.manager_east, Perm.CUSTOMER_DELETE)

    with pytest.raises(PermissionDenied) as refused:
        require(cast.rep_east, Perm.CUSTOMER_DELETE)

    assert refused.value.code == "permission_denied"
    assert refused.value.status == 403
    assert "删除客户" in refused.value.text()


def test_an_anonymous_visitor_may_do_nothing_and_sees_nothing(cast: SimpleNamespace) -> None:
    anonymous: Any = AnonymousUser()
    assert not can(anonymous, Perm.CUSTOMER_VIEW)
    assert perms_of(anonymous) == frozenset()
    with pytest.raises(PermissionDenied):
        require(anonymous, Perm.CUSTOMER_VIEW)
    assert not User.objects.filter(owner_scope_q(anonymous, owner_field="supervisor")).exists()


def test_a_deactivated_user_loses_every_permission(cast: SimpleNamespace) -> None:
    cast.rep_east.is_active = False
    forget(cast.rep_east)
    assert perms_of(cast.rep_east) == frozenset()
    assert owner_ids_in_scope(cast.rep_east) == set()


def test_a_superuser_may_do_everything_and_sees_everything(cast: SimpleNamespace) -> None:
    root = user_create(username="root", password=cast.password, is_superuser=True, by=None)
    assert all(can(root, p) for p in Perm)
    assert owner_ids_in_scope(root) is None


def test_permissions_are_cached_until_forgotten(cast: SimpleNamespace) -> None:
    assert not can(cast.rep_east, Perm.CUSTOMER_DELETE)
    cast.rep_east.roles.add(*cast.manager_east.roles.all())  # behind the service's back
    assert not can(cast.rep_east, Perm.CUSTOMER_DELETE)

    forget(cast.rep_east)

    assert can(cast.rep_east, Perm.CUSTOMER_DELETE)


def test_changing_roles_through_the_service_takes_effect_at_once(cast: SimpleNamespace) -> None:
    assert not can(cast.rep_east, Perm.CUSTOMER_DELETE)
    give_roles(cast.rep_east, ["sales_manager"], by=cast.admin)
    assert can(cast.rep_east, Perm.CUSTOMER_DELETE)


# --- data scopes ------------------------------------------------------------------------------------------


def names(ids: set[int] | None) -> set[str] | None:
    return None if ids is None else set(User.objects.filter(pk__in=ids).values_list("username", flat=True))


@pytest.mark.parametrize(
    ("who", "owners"),
    [
        ("rep_east", {"rep_east"}),  # 本人
        ("rep_west", {"rep_west"}),
        ("rm", {"rm", "rm_junior"}),  # 本人及下属
        ("manager_east", {"manager_east", "rep_east", "rep_east2"}),  # 本部门及下属
        ("admin", None),  # 全部
        ("agent", None),
        ("auditor", None),
        ("marketing", None),
    ],
)
def test_each_scope_names_the_owners_whose_records_one_sees(
    cast: SimpleNamespace, who: str, owners: set[str] | None
) -> None:
    assert names(owner_ids_in_scope(getattr(cast, who))) == owners


def test_subordinates_are_found_down_the_whole_supervisor_chain(cast: SimpleNamespace) -> None:
    intern = user_create(
        username="intern",
        password=cast.password,
        supervisor=cast.rm_junior,
        role_codes=["sales_rep"],
        by=None,
    )
    assert subordinate_ids(cast.rm) == {cast.rm_junior.pk, intern.pk}
    assert subordinate_ids(cast.rm_junior) == {intern.pk}
    assert subordinate_ids(intern) == set()


def test_a_supervisor_loop_does_not_hang_the_scope(cast: SimpleNamespace) -> None:
    User.objects.filter(pk=cast.rm.pk).update(supervisor=cast.rm_junior)  # bad data: rm ↔ rm_junior
    assert subordinate_ids(cast.rm) == {cast.rm_junior.pk}
    assert subordinate_ids(cast.rm_junior) == {cast.rm.pk}


def test_a_department_scope_covers_the_department_only(cast: SimpleNamespace) -> None:
    role_create(
        code="dept",
        name="本部门",
        permissions=[Perm.CUSTOMER_VIEW],
        data_scope=DataScope.DEPARTMENT,
        by=cast.admin,
    )
    give_roles(cast.rm, ["dept"], by=cast.admin)
    assert names(owner_ids_in_scope(cast.rm)) == {"rm", "rm_junior"}  # both in 销售部, nobody below


def test_a_department_and_sub_scope_covers_the_subtree(cast: SimpleNamespace) -> None:
    give_roles(cast.rm, ["sales_manager"], by=cast.admin)
    assert names(owner_ids_in_scope(cast.rm)) == {
        "rm",
        "rm_junior",
        "manager_east",
        "rep_east",
        "rep_east2",
        "rep_west",
    }


def test_a_department_scope_without_a_department_covers_only_oneself(cast: SimpleNamespace) -> None:
    loner = user_create(username="loner", password=cast.password, role_codes=["sales_manager"], by=None)
    assert owner_ids_in_scope(loner) == {loner.pk}


def test_several_roles_see_the_union_of_their_scopes(cast: SimpleNamespace) -> None:
    role_create(
        code="dept",
        name="本部门",
        permissions=[Perm.CUSTOMER_VIEW],
        data_scope=DataScope.DEPARTMENT,
        by=cast.admin,
    )
    give_roles(cast.rep_west, ["sales_rep", "relationship_manager"], by=cast.admin)
    give_roles(cast.rep_east, ["sales_rep", "dept"], by=cast.admin)
    User.objects.filter(pk=cast.rep_east2.pk).update(supervisor=cast.rep_west)

    assert scopes_of(cast.rep_east) == {"own", "dept"}
    assert names(owner_ids_in_scope(cast.rep_east)) == {"rep_east", "rep_east2", "manager_east"}
    assert names(owner_ids_in_scope(cast.rep_west)) == {"rep_west", "rep_east2"}

    give_roles(cast.rep_east, ["sales_rep", "auditor"], by=cast.admin)
    assert owner_ids_in_scope(cast.rep_east) is None  # 全部 wins
    assert can(cast.rep_east, Perm.AUDIT_VIEW) and can(
        cast.rep_east, Perm.CUSTOMER_CREATE
    )  # permissions add up


def test_a_user_without_roles_sees_nothing(cast: SimpleNamespace) -> None:
    nobody = user_create(username="nobody", password=cast.password, department=cast.east, by=None)
    assert owner_ids_in_scope(nobody) == set()
    assert not User.objects.filter(owner_scope_q(nobody, owner_field="supervisor")).exists()


def test_a_department_subtree_is_the_department_and_everything_below(cast: SimpleNamespace) -> None:
    def dept_names(dept: Any) -> set[str]:
        from kehu.access.models import Department

        return set(
            Department.objects.filter(pk__in=department_subtree_ids(dept)).values_list("name", flat=True)
        )

    assert dept_names(cast.sales) == {"销售部", "华东销售部", "华南销售部"}
    assert dept_names(cast.east) == {"华东销售部"}
    assert dept_names(cast.hq) == {"总部", "销售部", "华东销售部", "华南销售部", "客服中心", "审计部"}
