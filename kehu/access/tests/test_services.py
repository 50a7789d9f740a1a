"""Writes of the access domain: users, the department tree, roles, API tokens and sign-in throttling."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.contrib.auth.hashers import Argon2PasswordHasher, check_password
from django.test import Client, RequestFactory
from django.utils import timezone

from kehu.access.models import ApiToken, Department, LoginAttempt, Role, User
from kehu.access.perms import DataScope, Perm
from kehu.access.scope import can, owner_ids_in_scope
from kehu.access.services import (
    department_create,
    department_update,
    login_authenticate,
    role_create,
    role_update,
    token_authenticate,
    token_create,
    token_revoke,
    user_create,
    user_set_password,
    user_update,
)
from kehu.core.errors import Conflict, PermissionDenied, RateLimited, ValidationError

pytestmark = pytest.mark.django_db


# --- users ------------------------------------------------------------------------------------------------


def test_an_admin_creates_a_user_with_a_hashed_password_and_roles(cast: SimpleNamespace) -> None:
    user = user_create(
        username="new_rep",
        password=cast.password,
        display_name="单田芳",
        department=cast.east,
        supervisor=cast.manager_east,
        role_codes=["sales_rep"],
        by=cast.admin,
    )

    user = User.objects.get(pk=user.pk)
    assert user.password != cast.password
    assert check_password(cast.password, user.password)
    assert list(user.roles.values_list("code", flat=True)) == ["sales_rep"]
    assert "shantianfang" in user.name_search  # searchable by pinyin with the surname reading


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "REP_EAST"}, "username"),  # taken, whatever the case
        ({"password": "short"}, "password"),
        ({"password": "12345678901"}, "password"),  # all digits
        ({"password": "password123"}, "password"),  # too common
        ({"role_codes": ["sales_rep", "wizard"]}, "roles"),
    ],
)
def test_creating_a_user_validates_and_names_the_field_and_writes_nothing(
    cast: SimpleNamespace, nothing_changes: Any, kwargs: dict[str, Any], field: str
) -> None:
    data = {"username": "someone", "password": cast.password, "role_codes": ["sales_rep"], **kwargs}
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        user_create(**data, by=cast.admin)
    assert refused.value.field == field


def test_only_a_user_manager_may_create_or_change_users(cast: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes():
        with pytest.raises(PermissionDenied):
            user_create(username="sneaky", password=cast.password, role_codes=["admin"], by=cast.manager_east)
        with pytest.raises(PermissionDenied):
            user_update(
                user=cast.rep_east, version=cast.rep_east.version, role_codes=["admin"], by=cast.rep_east
            )
        with pytest.raises(PermissionDenied):
            user_set_password(user=cast.rep_west, password="An0ther-passw0rd", by=cast.rep_east)


def test_a_user_may_change_their_own_password(cast: SimpleNamespace) -> None:
    user_set_password(user=cast.rep_east, password="An0ther-passw0rd!", by=cast.rep_east)
    assert User.objects.get(pk=cast.rep_east.pk).check_password("An0ther-passw0rd!")


def test_a_user_update_refuses_unknown_fields_self_supervision_and_stale_versions(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    rep = User.objects.get(pk=cast.rep_east.pk)
    with nothing_changes():
        with pytest.raises(ValidationError) as refused:
            user_update(user=rep, version=rep.version, by=cast.admin, is_superuser=True)
        assert refused.value.field == "is_superuser"
        with pytest.raises(ValidationError) as refused:
            user_update(user=rep, version=rep.version, by=cast.admin, supervisor=rep)
        assert refused.value.field == "supervisor"
        with pytest.raises(Conflict):
            user_update(user=rep, version=rep.version + 5, by=cast.admin, display_name="改名")


def test_a_deactivated_user_can_no_longer_sign_in_or_use_tokens(cast: SimpleNamespace) -> None:
    _token, secret = token_create(user=cast.rep_east, name="脚本", by=cast.rep_east)
    rep = User.objects.get(pk=cast.rep_east.pk)

    user_update(user=rep, version=rep.version, by=cast.admin, is_active=False)

    assert token_authenticate(secret) is None
    with pytest.raises(ValidationError):
        login_authenticate(request=RequestFactory().post("/"), username="rep_east", password=cast.password)


# --- departments ------------------------------------------------------------------------------------------


def test_departments_form_a_tree_by_path(cast: SimpleNamespace) -> None:
    assert cast.hq.path == f"/{cast.hq.pk}/"
    assert cast.east.path == f"/{cast.hq.pk}/{cast.sales.pk}/{cast.east.pk}/"
    assert cast.east.depth == 2


def test_moving_a_department_rewrites_the_paths_of_its_whole_subtree(cast: SimpleNamespace) -> None:
    shanghai = department_create(name="上海组", parent=cast.east, by=cast.admin)
    pudong = department_create(name="浦东小组", parent=shanghai, by=cast.admin)
    rep_pudong = user_create(
        username="rep_pudong", password=cast.password, department=pudong, role_codes=["sales_rep"], by=None
    )
    east = Department.objects.get(pk=cast.east.pk)

    department_update(department=east, version=east.version, parent=cast.service, by=cast.admin)

    paths = dict(Department.objects.values_list("name", "path"))
    svc = cast.service.path
    assert paths["华东销售部"] == f"{svc}{cast.east.pk}/"
    assert paths["上海组"] == f"{svc}{cast.east.pk}/{shanghai.pk}/"
    assert paths["浦东小组"] == f"{svc}{cast.east.pk}/{shanghai.pk}/{pudong.pk}/"
    assert paths["华南销售部"] == cast.west.path  # untouched
    # The manager's 本部门及下属 scope follows the move.
    assert rep_pudong.pk in (owner_ids_in_scope(User.objects.get(pk=cast.manager_east.pk)) or set())
    # …and 销售部 no longer contains the east department.
    sales_head = user_create(
        username="sales_head",
        password=cast.password,
        department=cast.sales,
        role_codes=["sales_manager"],
        by=None,
    )
    assert cast.rep_east.pk not in (owner_ids_in_scope(sales_head) or set())


def test_a_department_cannot_move_below_itself(cast: SimpleNamespace, nothing_changes: Any) -> None:
    shanghai = department_create(name="上海组", parent=cast.east, by=cast.admin)
    sales = Department.objects.get(pk=cast.sales.pk)
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        department_update(department=sales, version=sales.version, parent=shanghai, by=cast.admin)
    assert refused.value.field == "parent"


def test_department_changes_need_the_permission_and_a_name(
    cast: SimpleNamespace, nothing_changes: Any
) -> None:
    with nothing_changes():
        with pytest.raises(PermissionDenied):
            department_create(name="影子部门", parent=cast.hq, by=cast.manager_east)
        with pytest.raises(ValidationError) as refused:
            department_create(name="  ", parent=cast.hq, by=cast.admin)
        assert refused.value.field == "name"


# --- roles ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"permissions": ["customer.view", "customer.fly"]}, "permissions"),
        ({"data_scope": "galaxy"}, "data_scope"),
        ({"name": ""}, "name"),
        ({"code": ""}, "code"),
        ({"code": "sales_rep"}, "code"),  # already exists
    ],
)
def test_creating_a_role_validates_permissions_and_scope_naming_the_field(
    cast: SimpleNamespace, nothing_changes: Any, kwargs: dict[str, Any], field: str
) -> None:
    data = {
        "code": "custom",
        "name": "自定义",
        "permissions": ["customer.view"],
        "data_scope": "own",
        **kwargs,
    }
    with nothing_changes(), pytest.raises(ValidationError) as refused:
        role_create(**data, by=cast.admin)
    assert refused.value.field == field


def test_only_a_role_manager_may_create_roles(cast: SimpleNamespace, nothing_changes: Any) -> None:
    with nothing_changes(), pytest.raises(PermissionDenied):
        role_create(
            code="boss",
            name="老板",
            permissions=[p.value for p in Perm],
            data_scope="all",
            by=cast.manager_east,
        )


def test_changing_a_role_changes_what_its_holders_may_do(cast: SimpleNamespace) -> None:
    role = Role.objects.get(code="sales_rep")
    role_update(
        role=role,
        version=role.version,
        name=role.name,
        permissions=[*role.permissions, Perm.CUSTOMER_DELETE.value],
        data_scope=DataScope.DEPARTMENT,
        by=cast.admin,
    )

    rep = User.objects.get(pk=cast.rep_east.pk)
    assert can(rep, Perm.CUSTOMER_DELETE)
    assert owner_ids_in_scope(rep) == {cast.manager_east.pk, cast.rep_east.pk, cast.rep_east2.pk}


# --- API tokens -------------------------------------------------------------------------------------------


def test_a_token_is_shown_once_and_stored_only_as_a_hash(cast: SimpleNamespace) -> None:
    token, secret = token_create(user=cast.rep_east, name="脚本", by=cast.rep_east)

    assert secret.startswith("kehu_") and len(secret) > 30
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in (stored.key_hash, stored.prefix, stored.name)
    assert secret.startswith(stored.prefix)
    assert token_authenticate(secret) == cast.rep_east


def test_a_revoked_token_is_refused(cast: SimpleNamespace) -> None:
    token, secret = token_create(user=cast.rep_east, name="脚本", by=cast.rep_east)

    token_revoke(token=token, by=cast.rep_east)

    assert token_authenticate(secret) is None
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401


def test_an_expired_token_is_refused(cast: SimpleNamespace) -> None:
    token, secret = token_create(user=cast.rep_east, name="临时", by=cast.rep_east, days=1)
    assert token_authenticate(secret) == cast.rep_east

    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert token_authenticate(secret) is None
    assert Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.mark.parametrize("secret", ["", "kehu_", "kehu_guess", "not-even-prefixed"])
def test_made_up_tokens_are_refused(cast: SimpleNamespace, secret: str) -> None:
    assert token_authenticate(secret) is None


def test_nobody_else_may_create_or_revoke_a_users_tokens(cast: SimpleNamespace, nothing_changes: Any) -> None:
    token, secret = token_create(user=cast.rep_east, name="脚本", by=cast.rep_east)
    with nothing_changes():
        with pytest.raises(PermissionDenied):
            token_create(user=cast.rep_east, name="冒名", by=cast.rep_west)
        with pytest.raises(PermissionDenied):
            token_revoke(token=token, by=cast.rep_west)
    assert token_authenticate(secret) == cast.rep_east


def test_tokens_are_managed_over_the_api(cast: SimpleNamespace, api_as: Any) -> None:
    api = api_as(cast.rep_east)
    created = api.post("/api/v1/auth/tokens", {"name": "报表脚本", "days": 30})
    assert created.status_code == 201
    new_secret, new_id = created.json()["token"], created.json()["id"]
    assert token_authenticate(new_secret) == cast.rep_east

    assert api.delete(f"/api/v1/auth/tokens/{new_id}").status_code == 204
    assert token_authenticate(new_secret) is None
    # Another user's token is not there for rep_west.
    other = api_as(cast.rep_west)
    assert other.delete(f"/api/v1/auth/tokens/{new_id}").status_code == 404


# --- sign-in and throttling -----------------------------------------------------------------------------------


def _request(ip: str = "10.0.0.1") -> Any:
    return RequestFactory().post("/accounts/login/", REMOTE_ADDR=ip)


def test_sign_in_checks_the_password(cast: SimpleNamespace) -> None:
    assert (
        login_authenticate(request=_request(), username="rep_east", password=cast.password) == cast.rep_east
    )
    with pytest.raises(ValidationError) as refused:
        login_authenticate(request=_request(), username="rep_east", password="wrong")
    assert refused.value.code == "invalid_credentials"
    assert refused.value.field == "password"
    with pytest.raises(ValidationError) as refused:
        login_authenticate(request=_request(), username="", password="x")
    assert refused.value.field == "username"


def test_too_many_failures_lock_the_username_even_for_the_right_password(
    cast: SimpleNamespace, settings: Any
) -> None:
    limit = settings.KEHU_LOGIN_MAX_FAILURES
    for _ in range(limit):
        with pytest.raises(ValidationError):
            login_authenticate(request=_request(), username="rep_east", password="wrong")

    with pytest.raises(RateLimited) as throttled:
        login_authenticate(request=_request("10.9.9.9"), username="rep_east", password=cast.password)

    assert throttled.value.code == "rate_limited"
    assert throttled.value.status == 429
    # Other users are not affected.
    assert login_authenticate(request=_request("10.9.9.9"), username="rep_west", password=cast.password)


def test_failures_outside_the_window_do_not_count(cast: SimpleNamespace, settings: Any) -> None:
    for _ in range(settings.KEHU_LOGIN_MAX_FAILURES):
        with pytest.raises(ValidationError):
            login_authenticate(request=_request(), username="rep_east", password="wrong")
    LoginAttempt.objects.update(
        at=timezone.now() - timedelta(seconds=settings.KEHU_LOGIN_WINDOW_SECONDS + 60)
    )

    assert (
        login_authenticate(request=_request(), username="rep_east", password=cast.password) == cast.rep_east
    )


def test_a_successful_sign_in_clears_earlier_failures(cast: SimpleNamespace, settings: Any) -> None:
    settings.KEHU_LOGIN_MAX_FAILURES = 3
    for _ in range(2):
        with pytest.raises(ValidationError):
            login_authenticate(request=_request(), username="rep_east", password="wrong")
    login_authenticate(request=_request(), username="rep_east", password=cast.password)
    for _ in range(2):
        with pytest.raises(ValidationError):
            login_authenticate(request=_request(), username="rep_east", password="wrong")

    assert (
        login_authenticate(request=_request(), username="rep_east", password=cast.password) == cast.rep_east
    )


def test_the_token_endpoint_is_throttled_with_a_429(cast: SimpleNamespace, settings: Any) -> None:
    settings.KEHU_LOGIN_MAX_FAILURES = 2
    client = Client()
    for _ in range(2):
        response = client.post(
            "/api/v1/auth/token",
            {"username": "rep_east", "password": "wrong"},
            content_type="application/json",
        )
        assert response.status_code == 422
    response = client.post(
        "/api/v1/auth/token",
        {"username": "rep_east", "password": cast.password},
        content_type="application/json",
    )
    assert response.status_code == 429
    assert response.json()["code"] == "rate_limited"
    assert "token" not in response.json()


# --- password storage ---------------------------------------------------------------------------------------


def test_production_hashes_passwords_with_argon2id_at_rfc_9106_parameters() -> None:
    from config.settings import base
    from kehu.access.hashers import KehuArgon2PasswordHasher

    assert base.PASSWORD_HASHERS[0] == "kehu.access.hashers.KehuArgon2PasswordHasher"
    hasher = KehuArgon2PasswordHasher()
    encoded = hasher.encode("Kehu-cast-passw0rd!", hasher.salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=65536,t=3,p=4$")
    assert hasher.verify("Kehu-cast-passw0rd!", encoded)
    assert not hasher.verify("kehu-cast-passw0rd!", encoded)
    # A hash made with Django's default parameters still verifies, and is marked for re-hashing.
    old = Argon2PasswordHasher().encode("Kehu-cast-passw0rd!", hasher.salt())
    assert hasher.verify("Kehu-cast-passw0rd!", old)
    assert hasher.must_update(old) and not hasher.must_update(encoded)


def test_a_username_with_spaces_or_symbols_is_refused_naming_the_field(db: Any) -> None:
    from kehu.access.models import User
    from kehu.access.services import user_create
    from kehu.core.errors import ValidationError

    before = User.objects.count()
    for bad in ("bad name!", "x" * 151):
        with pytest.raises(ValidationError) as exc:
            user_create(username=bad, password="Long-enough-2026", by=None)
        assert exc.value.field == "username"
    assert User.objects.count() == before


def test_a_weak_password_is_explained_in_chinese_and_in_english(db: Any) -> None:
    from kehu.access.services import user_create
    from kehu.core.errors import ValidationError

    with pytest.raises(ValidationError) as exc:
        user_create(username="weakling", password="12345678", by=None)
    assert exc.value.field == "password"
    assert "common" in exc.value.text("en") or "numeric" in exc.value.text("en")
    assert "密码" in exc.value.text("zh-hans")


def test_a_short_password_is_refused_in_chinese_and_in_english(db: Any) -> None:
    from django.contrib.auth import password_validation
    from django.core.exceptions import ValidationError as DjangoValidationError
    from django.utils import translation

    for language, expected in (("zh-hans", "密码太短，至少需要 8 个字符"), ("en", "at least 8 characters")):
        with translation.override(language), pytest.raises(DjangoValidationError) as refused:
            password_validation.validate_password("abc1")
        assert any(expected in m for m in refused.value.messages), (language, refused.value.messages)
