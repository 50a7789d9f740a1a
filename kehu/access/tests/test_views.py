"""The access pages: sign-in/out, idle timeout, users, departments, roles and API tokens (SEC-1).

Each refused action also asserts that nothing changed (architecture.md, house style 5).
"""

from __future__ import annotations

import re
import time

import pytest
from django.test import Client
from django.urls import reverse

from kehu.access import services
from kehu.access.models import ApiToken, Department, Role, User

PASSWORD = "Kehu-test-2024!"
NEW_PASSWORD = "Another-pass-99"


@pytest.fixture
def east(db) -> Department:
    return services.department_create(name="华东销售部", by=None)


@pytest.fixture
def admin(db) -> User:
    return services.user_create(
        username="admin", password=PASSWORD, display_name="系统管理员", role_codes=["admin"], by=None
    )


@pytest.fixture
def rep_east(db, east: Department) -> User:
    return services.user_create(
        username="rep_east",
        password=PASSWORD,
        display_name="王小明",
        department=east,
        role_codes=["sales_rep"],
        by=None,
    )


@pytest.fixture
def admin_client(client: Client, admin: User) -> Client:
    client.force_login(admin)
    return client


@pytest.fixture
def rep_client(client: Client, rep_east: User) -> Client:
    client.force_login(rep_east)
    return client


def signed_in_user_id(client: Client) -> str | None:
    return client.session.get("_auth_user_id")


def login(client: Client, username: str, password: str, **extra: str):
    return client.post(reverse("access:login"), {"username": username, "password": password, **extra})


# ------------------------------------------------------------------ sign in / out --


@pytest.mark.django_db
class TestLogin:
    def test_the_login_page_is_a_standalone_form_with_csrf(self, client: Client) -> None:
        response = client.get(reverse("access:login"))
        assert response.status_code == 200
        body = response.content.decode()
        assert 'class="login"' in body
        assert "csrfmiddlewaretoken" in body
        assert 'class="sidebar"' not in body

    def test_a_user_signs_in_with_the_right_password(self, client: Client, rep_east: User) -> None:
        response = login(client, "rep_east", PASSWORD)
        assert response.status_code == 302
        assert response["Location"] == reverse("home")
        assert signed_in_user_id(client) == str(rep_east.pk)

    def test_a_wrong_password_is_shown_at_the_password_field(self, client: Client, rep_east: User) -> None:
        response = login(client, "rep_east", "not-the-password")
        assert response.status_code == 200
        assert response.context["form"].errors["password"] == ["用户名或密码错误"]
        assert 'data-error-for="password"' in response.content.decode()
        assert signed_in_user_id(client) is None

    def test_a_missing_username_is_shown_at_the_username_field(self, client: Client) -> None:
        response = login(client, "", PASSWORD)
        assert response.context["form"].errors["username"] == ["请输入用户名"]
        assert signed_in_user_id(client) is None

    def test_after_five_failures_even_the_right_password_is_refused(
        self, client: Client, rep_east: User
    ) -> None:
        for _ in range(5):
            assert login(client, "rep_east", "wrong-guess").status_code == 200
        response = login(client, "rep_east", PASSWORD)
        assert response.status_code == 429
        assert "登录失败次数过多" in response.content.decode()
        assert "username" in response.context["form"].errors
        assert signed_in_user_id(client) is None

    def test_a_safe_next_is_followed(self, client: Client, rep_east: User) -> None:
        page = client.get(reverse("access:login"), {"next": "/accounts/tokens/"})
        assert 'value="/accounts/tokens/"' in page.content.decode()
        response = login(client, "rep_east", PASSWORD, next="/accounts/tokens/")
        assert response["Location"] == "/accounts/tokens/"

    @pytest.mark.parametrize(
        "evil", ["https://evil.example.com/", "//evil.example.com/x", "javascript:alert(1)"]
    )
    def test_an_external_next_is_ignored(self, client: Client, rep_east: User, evil: str) -> None:
        page = client.get(reverse("access:login"), {"next": evil})
        assert page.context["form"]["next"].value() == ""
        assert "evil.example.com" not in page.content.decode()
        response = login(client, "rep_east", PASSWORD, next=evil)
        assert response["Location"] == reverse("home")
        assert signed_in_user_id(client) == str(rep_east.pk)

    def test_the_users_language_is_activated_on_sign_in(self, client: Client, rep_east: User) -> None:
        User.objects.filter(pk=rep_east.pk).update(language="en")
        response = login(client, "rep_east", PASSWORD)
        assert response.cookies["django_language"].value == "en"

    def test_anonymous_visitors_are_sent_to_the_login_page(self, client: Client) -> None:
        response = client.get(reverse("access:users"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("access:login") + "?next=")


@pytest.mark.django_db
class TestLogout:
    def test_logout_by_get_is_refused_and_keeps_the_session(self, rep_client: Client, rep_east: User) -> None:
        response = rep_client.get(reverse("access:logout"))
        assert response.status_code == 405
        assert signed_in_user_id(rep_client) == str(rep_east.pk)

    def test_logout_by_post_signs_out_and_returns_to_login(self, rep_client: Client) -> None:
        response = rep_client.post(reverse("access:logout"))
        assert response.status_code == 302
        assert response["Location"] == reverse("access:login")
        assert signed_in_user_id(rep_client) is None


@pytest.mark.django_db
class TestIdleTimeout:
    def test_an_idle_session_is_signed_out_with_a_notice(self, admin_client: Client, settings) -> None:
        settings.KEHU_IDLE_TIMEOUT_SECONDS = 60
        session = admin_client.session
        session["kehu_last_seen"] = int(time.time()) - 3600
        session.save()

        response = admin_client.get(reverse("access:users"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("access:login"))
        assert signed_in_user_id(admin_client) is None

        notice = admin_client.get(response["Location"])
        assert "由于长时间未操作，您已自动退出" in notice.content.decode()
        # Shown once.
        again = admin_client.get(reverse("access:login"))
        assert "由于长时间未操作" not in again.content.decode()

    def test_a_recently_used_session_stays_signed_in(self, admin_client: Client, settings) -> None:
        settings.KEHU_IDLE_TIMEOUT_SECONDS = 60
        session = admin_client.session
        session["kehu_last_seen"] = int(time.time()) - 10
        session.save()
        assert admin_client.get(reverse("access:users")).status_code == 200


# ------------------------------------------------------------------------ users --


@pytest.mark.django_db
class TestUsersPage:
    def test_admin_sees_the_user_table(self, admin_client: Client, rep_east: User) -> None:
        response = admin_client.get(reverse("access:users"))
        assert response.status_code == 200
        body = response.content.decode()
        for text in ("rep_east", "王小明", "华东销售部", "销售代表", "启用", "第 1–2 条，共 2 条"):
            assert text in body

    def test_search_and_department_filter(
        self, admin_client: Client, rep_east: User, east: Department
    ) -> None:
        found = admin_client.get(reverse("access:users"), {"q": "小明"})
        assert [u.username for u in found.context["page"].items] == ["rep_east"]
        by_dept = admin_client.get(reverse("access:users"), {"department": east.pk})
        assert [u.username for u in by_dept.context["page"].items] == ["rep_east"]
        # A nonsense filter value is ignored rather than breaking the page.
        assert admin_client.get(reverse("access:users"), {"department": "abc"}).status_code == 200

    def test_pagination_shows_the_window_and_links(self, admin_client: Client, rep_east: User) -> None:
        services.user_create(username="rep_west", password=PASSWORD, role_codes=["sales_rep"], by=None)
        first = admin_client.get(reverse("access:users"), {"limit": 2})
        body = first.content.decode()
        assert "第 1–2 条，共 3 条" in body
        assert 'href="?limit=2&amp;offset=2"' in body
        second = admin_client.get(reverse("access:users"), {"limit": 2, "offset": 2})
        assert "第 3–3 条，共 3 条" in second.content.decode()
        assert [u.username for u in second.context["page"].items] == ["rep_west"]

    def test_no_match_shows_the_empty_state(self, admin_client: Client) -> None:
        response = admin_client.get(reverse("access:users"), {"q": "没有这个人"})
        assert 'data-testid="empty"' in response.content.decode()
        assert "没有符合条件的用户" in response.content.decode()


@pytest.mark.django_db
class TestUserCreateAndEdit:
    def test_admin_creates_a_user_with_department_supervisor_and_roles(
        self, admin_client: Client, east: Department, rep_east: User
    ) -> None:
        assert admin_client.get(reverse("access:user_create")).status_code == 200
        response = admin_client.post(
            reverse("access:user_create"),
            {
                "username": "rep_new",
                "display_name": "李娜",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
                "email": "lina@example.com",
                "mobile": "13800000000",
                "department": east.pk,
                "supervisor": rep_east.pk,
                "roles": ["sales_rep", "marketing"],
            },
        )
        assert response.status_code == 302
        user = User.objects.get(username="rep_new")
        assert (user.display_name, user.department, user.supervisor) == ("李娜", east, rep_east)
        assert sorted(user.roles.values_list("code", flat=True)) == ["marketing", "sales_rep"]
        assert user.check_password(PASSWORD)

    def test_a_duplicate_username_is_shown_at_the_username_field(
        self, admin_client: Client, rep_east: User
    ) -> None:
        count = User.objects.count()
        response = admin_client.post(
            reverse("access:user_create"),
            {
                "username": "REP_EAST",
                "password": PASSWORD,
                "password_confirm": PASSWORD,
            },
        )
        assert response.status_code == 200
        assert response.context["form"].errors["username"] == ["用户名“REP_EAST”已存在"]
        assert User.objects.count() == count

    def test_a_weak_password_is_shown_at_the_password_field(self, admin_client: Client) -> None:
        count = User.objects.count()
        response = admin_client.post(
            reverse("access:user_create"),
            {
                "username": "weak",
                "password": "12345678",
                "password_confirm": "12345678",
            },
        )
        assert "password" in response.context["form"].errors
        assert User.objects.count() == count

    def test_admin_edits_and_deactivates_a_user(self, admin_client: Client, rep_east: User) -> None:
        url = reverse("access:user_edit", args=[rep_east.pk])
        page = admin_client.get(url)
        assert f'name="version" value="{rep_east.version}"' in page.content.decode()
        response = admin_client.post(
            url,
            {
                "display_name": "王大明",
                "email": "",
                "mobile": "",
                "department": rep_east.department_id,
                "supervisor": "",
                "roles": ["sales_manager"],
                "language": "",
                "version": rep_east.version,
                # is_active unchecked -> deactivated
            },
        )
        assert response.status_code == 302
        rep_east.refresh_from_db()
        assert rep_east.display_name == "王大明"
        assert rep_east.is_active is False
        assert list(rep_east.roles.values_list("code", flat=True)) == ["sales_manager"]
        assert rep_east.version == 2

    def test_a_stale_version_shows_a_conflict_and_changes_nothing(
        self, admin_client: Client, rep_east: User
    ) -> None:
        services.user_update(
            user=rep_east, version=rep_east.version, display_name="别人改的", by=another_admin()
        )
        rep_east.refresh_from_db()
        assert rep_east.version == 2
        response = admin_client.post(
            reverse("access:user_edit", args=[rep_east.pk]),
            {
                "display_name": "我改的",
                "department": rep_east.department_id,
                "roles": ["sales_rep"],
                "is_active": "on",
                "version": 1,
            },
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert 'data-testid="conflict"' in body
        assert "该记录已被他人修改" in body
        assert "别人改的" in body  # the current value is shown
        assert f'name="version" value="{rep_east.version}"' in body
        fresh = User.objects.get(pk=rep_east.pk)
        assert (fresh.display_name, fresh.version) == ("别人改的", 2)

    def test_admin_resets_a_password(self, admin_client: Client, rep_east: User) -> None:
        response = admin_client.post(
            reverse("access:user_password", args=[rep_east.pk]),
            {
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        rep_east.refresh_from_db()
        assert rep_east.check_password(NEW_PASSWORD)

    def test_mismatched_passwords_change_nothing(self, admin_client: Client, rep_east: User) -> None:
        response = admin_client.post(
            reverse("access:user_password", args=[rep_east.pk]),
            {
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD + "x",
            },
        )
        assert response.context["form"].errors["password_confirm"] == ["两次输入的密码不一致"]
        rep_east.refresh_from_db()
        assert rep_east.check_password(PASSWORD)


def another_admin() -> User:
    """Another administrator who edits the same record in the meantime."""
    return services.user_create(username="admin2", password=PASSWORD, role_codes=["admin"], by=None)


# ----------------------------------------------------------- departments, roles --


@pytest.mark.django_db
class TestDepartmentsPage:
    def test_the_tree_is_indented_with_member_counts(
        self, admin_client: Client, east: Department, rep_east: User
    ) -> None:
        shanghai = services.department_create(name="上海组", parent=east, manager=rep_east, by=None)
        response = admin_client.get(reverse("access:departments"))
        assert response.status_code == 200
        body = response.content.decode()
        assert f'data-testid="department-row-{shanghai.pk}" data-depth="1"' in body
        assert f'data-testid="department-row-{east.pk}" data-depth="0"' in body
        rows = {d.pk: d for d in response.context["departments"]}
        assert rows[east.pk].member_count == 1
        assert body.index("华东销售部") < body.index("上海组")

    def test_admin_creates_and_renames_a_department(
        self, admin_client: Client, east: Department, rep_east: User
    ) -> None:
        response = admin_client.post(
            reverse("access:department_create"), {"name": "杭州组", "parent": east.pk, "manager": rep_east.pk}
        )
        assert response.status_code == 302
        hangzhou = Department.objects.get(name="杭州组")
        assert (hangzhou.parent, hangzhou.manager, hangzhou.depth) == (east, rep_east, 1)

        response = admin_client.post(
            reverse("access:department_edit", args=[hangzhou.pk]),
            {
                "name": "杭州一组",
                "parent": east.pk,
                "manager": rep_east.pk,
                "version": hangzhou.version,
            },
        )
        assert response.status_code == 302
        hangzhou.refresh_from_db()
        assert hangzhou.name == "杭州一组"

    def test_a_blank_name_is_refused(self, admin_client: Client) -> None:
        count = Department.objects.count()
        response = admin_client.post(reverse("access:department_create"), {"name": "  "})
        assert "name" in response.context["form"].errors
        assert Department.objects.count() == count

    def test_a_stale_department_edit_shows_a_conflict(self, admin_client: Client, east: Department) -> None:
        response = admin_client.post(
            reverse("access:department_edit", args=[east.pk]), {"name": "改名", "version": east.version + 5}
        )
        assert 'data-testid="conflict"' in response.content.decode()
        east.refresh_from_db()
        assert east.name == "华东销售部"


@pytest.mark.django_db
class TestRolesPage:
    def test_roles_are_listed_with_scope_and_permission_count(self, admin_client: Client) -> None:
        response = admin_client.get(reverse("access:roles"))
        assert response.status_code == 200
        body = response.content.decode()
        rep_role = Role.objects.get(code="sales_rep")
        assert "销售代表" in body and "本人" in body
        row = body[body.index(f'data-testid="role-row-{rep_role.pk}"') :]
        assert f'<td class="num">{len(rep_role.permissions)}</td>' in row[: row.index("</tr>")]

    def test_the_edit_page_groups_permissions(self, admin_client: Client) -> None:
        role = Role.objects.get(code="sales_rep")
        body = admin_client.get(reverse("access:role_edit", args=[role.pk])).content.decode()
        for heading in ("客户", "公海", "系统设置", "用户", "角色", "部门", "审计"):
            assert f"<h3>{heading}</h3>" in body
        assert "查看客户" in body

    def test_admin_edits_a_roles_permissions_and_scope(self, admin_client: Client) -> None:
        role = Role.objects.get(code="sales_rep")
        response = admin_client.post(
            reverse("access:role_edit", args=[role.pk]),
            {
                "name": "销售代表",
                "data_scope": "own_sub",
                "permissions": [*role.permissions, "customer.export"],
                "version": role.version,
            },
        )
        assert response.status_code == 302
        role.refresh_from_db()
        assert "customer.export" in role.permissions
        assert role.data_scope == "own_sub"

    def test_admin_creates_a_role(self, admin_client: Client) -> None:
        response = admin_client.post(
            reverse("access:role_create"),
            {
                "code": "intern",
                "name": "实习生",
                "data_scope": "own",
                "permissions": ["customer.view"],
            },
        )
        assert response.status_code == 302
        assert Role.objects.get(code="intern").permissions == ["customer.view"]

    def test_a_duplicate_role_code_is_shown_at_the_code_field(self, admin_client: Client) -> None:
        count = Role.objects.count()
        response = admin_client.post(
            reverse("access:role_create"),
            {
                "code": "admin",
                "name": "又一个管理员",
                "data_scope": "all",
            },
        )
        assert "code" in response.context["form"].errors
        assert Role.objects.count() == count


# ----------------------------------------------------------- refused for a sales rep --


@pytest.mark.django_db
class TestSalesRepIsRefused:
    @pytest.mark.parametrize(
        "name", ["users", "user_create", "departments", "department_create", "roles", "role_create"]
    )
    def test_management_pages_are_403(self, rep_client: Client, name: str) -> None:
        response = rep_client.get(reverse(f"access:{name}"))
        assert response.status_code == 403
        assert "没有权限" in response.content.decode()

    def test_edit_pages_are_403(self, rep_client: Client, admin: User, east: Department) -> None:
        role = Role.objects.get(code="admin")
        for url in (
            reverse("access:user_edit", args=[admin.pk]),
            reverse("access:user_password", args=[admin.pk]),
            reverse("access:department_edit", args=[east.pk]),
            reverse("access:role_edit", args=[role.pk]),
        ):
            assert rep_client.get(url).status_code == 403, url

    def test_posts_change_nothing(
        self, rep_client: Client, rep_east: User, admin: User, east: Department
    ) -> None:
        users, depts, roles = User.objects.count(), Department.objects.count(), Role.objects.count()
        admin_role = Role.objects.get(code="admin")
        posts = [
            (
                reverse("access:user_create"),
                {
                    "username": "sneaky",
                    "password": PASSWORD,
                    "password_confirm": PASSWORD,
                    "roles": ["admin"],
                },
            ),
            (
                reverse("access:user_edit", args=[rep_east.pk]),
                {"display_name": "x", "roles": ["admin"], "is_active": "on", "version": rep_east.version},
            ),
            (
                reverse("access:user_password", args=[admin.pk]),
                {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD},
            ),
            (reverse("access:department_create"), {"name": "影子部门"}),
            (reverse("access:department_edit", args=[east.pk]), {"name": "改名", "version": east.version}),
            (
                reverse("access:role_create"),
                {"code": "x", "name": "x", "data_scope": "all", "permissions": ["user.manage"]},
            ),
            (
                reverse("access:role_edit", args=[admin_role.pk]),
                {"name": "x", "data_scope": "own", "version": admin_role.version},
            ),
        ]
        for url, data in posts:
            assert rep_client.post(url, data).status_code == 403, url

        assert (User.objects.count(), Department.objects.count(), Role.objects.count()) == (
            users,
            depts,
            roles,
        )
        rep_east.refresh_from_db()
        assert rep_east.display_name == "王小明"
        assert list(rep_east.roles.values_list("code", flat=True)) == ["sales_rep"]
        admin.refresh_from_db()
        assert admin.check_password(PASSWORD)
        east.refresh_from_db()
        assert east.name == "华东销售部"
        admin_role.refresh_from_db()
        assert admin_role.data_scope == "all" and "user.manage" in admin_role.permissions


# ----------------------------------------------------------------------- tokens --


SECRET_RE = re.compile(r'data-testid="token-secret"[^>]*>([^<]+)<')


@pytest.mark.django_db
class TestTokens:
    def test_a_token_is_shown_once_works_and_stops_working_when_revoked(
        self, rep_client: Client, rep_east: User
    ) -> None:
        assert rep_client.get(reverse("access:tokens")).status_code == 200
        response = rep_client.post(reverse("access:token_create"), {"name": "同步脚本", "days": "30"})
        assert response.status_code == 200
        body = response.content.decode()
        assert "请立即复制，此令牌只显示一次" in body
        secret = SECRET_RE.search(body).group(1).strip()
        assert secret.startswith("kehu_")
        assert "no-store" in response["Cache-Control"]

        listing = rep_client.get(reverse("access:tokens")).content.decode()
        assert secret not in listing
        token = ApiToken.objects.get(user=rep_east)
        assert f"{token.prefix}…" in listing and "有效" in listing

        api = Client()  # no session: only the bearer token authenticates
        me = api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
        assert me.status_code == 200
        assert me.json()["username"] == "rep_east"

        revoke = rep_client.post(reverse("access:token_revoke", args=[token.pk]))
        assert revoke.status_code == 302
        assert api.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401
        assert "已撤销" in rep_client.get(reverse("access:tokens")).content.decode()

    def test_a_nameless_token_is_refused(self, rep_client: Client, rep_east: User) -> None:
        response = rep_client.post(reverse("access:token_create"), {"name": ""})
        assert "name" in response.context["form"].errors
        assert not ApiToken.objects.filter(user=rep_east).exists()

    def test_create_and_revoke_need_post(self, rep_client: Client, rep_east: User) -> None:
        token, _ = services.token_create(user=rep_east, name="t", by=rep_east)
        assert rep_client.get(reverse("access:token_create")).status_code == 405
        assert rep_client.get(reverse("access:token_revoke", args=[token.pk])).status_code == 405
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_nobody_revokes_another_users_token(self, rep_client: Client, admin: User) -> None:
        token, _ = services.token_create(user=admin, name="admin token", by=admin)
        response = rep_client.post(reverse("access:token_revoke", args=[token.pk]))
        assert response.status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_the_page_lists_only_ones_own_tokens(self, rep_client: Client, admin: User) -> None:
        services.token_create(user=admin, name="管理员的令牌", by=admin)
        assert "管理员的令牌" not in rep_client.get(reverse("access:tokens")).content.decode()
