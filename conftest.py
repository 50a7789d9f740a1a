"""The shared cast of users every test talks about (architecture.md, house style 5).

The company behind the cast::

    总部 (hq)                      admin, marketing
    ├── 销售部 (sales)              rm, rm_junior (supervisor rm)
    │   ├── 华东销售部 (east)        manager_east, rep_east, rep_east2 (supervisor manager_east)
    │   └── 华南销售部 (west)        rep_west
    ├── 客服中心 (service)          agent
    └── 审计部 (audit)              auditor

Everything is built through the real services (``department_create`` / ``user_create`` with
``by=None``), so the cast is exactly what an administrator would have set up; roles come from the
default-roles data migration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from hypothesis import settings as hypothesis_settings

# No time limit per example in the property-based tests: a loaded machine (CI beside a benchmark, two
# workers on two cores) must not turn a slow example into a failure (house style: no timing assertions).
hypothesis_settings.register_profile("kehu", deadline=None)
hypothesis_settings.load_profile("kehu")

PASSWORD = "Kehu-cast-passw0rd!"


def _user(username: str, display_name: str, role: str, department: Any, supervisor: Any = None) -> Any:
    from kehu.access.services import user_create

    return user_create(
        username=username,
        password=PASSWORD,
        display_name=display_name,
        department=department,
        supervisor=supervisor,
        role_codes=[role],
        by=None,
    )


@pytest.fixture
def cast(db: Any) -> SimpleNamespace:
    """Departments and users of the cast, as one namespace (``cast.rep_east``, ``cast.east``…)."""
    from kehu.access.services import department_create

    hq = department_create(name="总部", by=None)
    sales = department_create(name="销售部", parent=hq, by=None)
    east = department_create(name="华东销售部", parent=sales, by=None)
    west = department_create(name="华南销售部", parent=sales, by=None)
    service = department_create(name="客服中心", parent=hq, by=None)
    audit = department_create(name="审计部", parent=hq, by=None)

    admin = _user("admin", "管理员", "admin", hq)
    manager_east = _user("manager_east", "王经理", "sales_manager", east)
    rep_east = _user("rep_east", "张华东", "sales_rep", east, manager_east)
    rep_east2 = _user("rep_east2", "李华东", "sales_rep", east, manager_east)
    rep_west = _user("rep_west", "陈华南", "sales_rep", west)
    agent = _user("agent", "赵客服", "service_agent", service)
    auditor = _user("auditor", "孙审计", "auditor", audit)
    marketing = _user("marketing", "周市场", "marketing", hq)
    rm = _user("rm", "吴理财", "relationship_manager", sales)
    rm_junior = _user("rm_junior", "郑助理", "sales_rep", sales, rm)
    return SimpleNamespace(
        hq=hq,
        sales=sales,
        east=east,
        west=west,
        service=service,
        audit=audit,
        admin=admin,
        manager_east=manager_east,
        rep_east=rep_east,
        rep_east2=rep_east2,
        rep_west=rep_west,
        agent=agent,
        auditor=auditor,
        marketing=marketing,
        rm=rm,
        rm_junior=rm_junior,
        password=PASSWORD,
    )


@pytest.fixture
def admin(cast: SimpleNamespace) -> Any:
    return cast.admin


@pytest.fixture
def manager_east(cast: SimpleNamespace) -> Any:
    return cast.manager_east


@pytest.fixture
def rep_east(cast: SimpleNamespace) -> Any:
    return cast.rep_east


@pytest.fixture
def rep_east2(cast: SimpleNamespace) -> Any:
    return cast.rep_east2


@pytest.fixture
def rep_west(cast: SimpleNamespace) -> Any:
    return cast.rep_west


@pytest.fixture
def agent(cast: SimpleNamespace) -> Any:
    return cast.agent


@pytest.fixture
def auditor(cast: SimpleNamespace) -> Any:
    return cast.auditor


@pytest.fixture
def marketing(cast: SimpleNamespace) -> Any:
    return cast.marketing


@pytest.fixture
def rm(cast: SimpleNamespace) -> Any:
    return cast.rm


@pytest.fixture
def rm_junior(cast: SimpleNamespace) -> Any:
    return cast.rm_junior


@pytest.fixture
def finance(cast: SimpleNamespace) -> Any:
    """钱会计, the finance role (财务, 全部 scope): invoices, payment plans, payments, receivables.
    Outside ``cast`` on purpose, so the company of every other test stays as it was."""
    return _user("finance", "钱会计", "finance", cast.hq)


@pytest.fixture(autouse=True)
def _fresh_pool_rules() -> Iterator[None]:
    """Each test starts without the pool rules another test left in this process's memory."""
    from kehu.customers.pool import forget_pools

    forget_pools()
    yield
    forget_pools()


@pytest.fixture
def signed_in(client: Client) -> Any:
    """``signed_in(cast.rep_east)`` → the test client, signed in as that cast member."""

    def sign_in(user: Any) -> Client:
        client.force_login(user)
        return client

    return sign_in


class ApiClient:
    """A JSON client for ``/api/v1`` that authenticates as one user with a bearer token."""

    def __init__(self, token: str | None, *, language: str | None = None) -> None:
        self.token = token
        self.client = Client()
        self.language = language

    def _headers(self, headers: dict[str, str] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        if self.language:
            out["Accept-Language"] = self.language
        out.update(headers or {})
        return out

    def get(
        self, path: str, params: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None
    ) -> Any:
        return self.client.get(path, params or {}, headers=self._headers(headers))

    def _send(self, method: str, path: str, data: Any, headers: dict[str, str] | None) -> Any:
        body = "" if data is None else json.dumps(data, ensure_ascii=False)
        return getattr(self.client, method)(
            path, body, content_type="application/json", headers=self._headers(headers)
        )

    def post(self, path: str, data: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self._send("post", path, data, headers)

    def patch(self, path: str, data: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self._send("patch", path, data, headers)

    def put(self, path: str, data: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self._send("put", path, data, headers)

    def delete(self, path: str, data: Any = None, *, headers: dict[str, str] | None = None) -> Any:
        return self._send("delete", path, data, headers)


@pytest.fixture
def api_as(db: Any) -> Any:
    """``api_as(user)`` → an ``ApiClient`` sending ``Authorization: Bearer <fresh token of user>``.

    ``api_as(None)`` is an anonymous client; ``language="en"`` sends ``Accept-Language: en``.
    """
    from kehu.access.services import token_create

    def make(user: Any, *, language: str | None = None) -> ApiClient:
        if user is None:
            return ApiClient(None, language=language)
        _token, secret = token_create(user=user, name="test", by=user)
        return ApiClient(secret, language=language)

    return make


def _table_state(models: list[Any]) -> dict[str, Any]:
    state: dict[str, Any] = {}
    for model in models:
        rows = model._base_manager.order_by("pk").values()
        state[model._meta.label] = [dict(row) for row in rows]
    return state


@pytest.fixture
def nothing_changes(db: Any) -> Any:
    """``with nothing_changes(): …`` asserts the block leaves the archive, the access tables and the
    audit log exactly as they were (house style 5: every refused action also writes nothing)."""
    from kehu.access.models import ApiToken, Department, Role, User
    from kehu.audit.models import AuditEvent
    from kehu.customers.models import Contact, Customer, CustomerCollaborator, Tag

    default = [
        Customer,
        Customer.tags.through,
        Contact,
        CustomerCollaborator,
        Tag,
        User,
        User.roles.through,
        Role,
        Department,
        ApiToken,
        AuditEvent,
    ]

    @contextmanager
    def check(*models: Any) -> Iterator[None]:
        watched = list(models) or default
        before = _table_state(watched)
        yield
        after = _table_state(watched)
        for label in before:
            assert after[label] == before[label], f"{label} changed"

    return check
