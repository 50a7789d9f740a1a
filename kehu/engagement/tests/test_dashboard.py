"""The home dashboard (工作台, ANA-8 home part) as the cast sees it: a rep sees only his own numbers, a
manager's 本人及下属 includes his reps, a scope the role does not allow is refused naming ``scope``;
the same data through ``GET /api/v1/dashboard`` and on the home page."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from kehu.access.scope import view_scopes
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.dashboard import dashboard

from .factories import make_interaction

pytestmark = pytest.mark.django_db


@pytest.fixture
def east(cast: SimpleNamespace) -> SimpleNamespace:
    """Today rep_east won two customers (one with a contact) and called one twice — once 40 days ago;
    rep_east2 won one customer and visited it; rep_west, in another department, called his own."""
    mine = make_customer(cast.rep_east)
    make_customer(cast.rep_east)
    make_contact(mine, cast.rep_east)
    make_interaction(mine, cast.rep_east)
    make_interaction(mine, cast.rep_east, days_ago=40, next_follow_up_on=None)
    colleague = make_customer(cast.rep_east2)
    make_interaction(colleague, cast.rep_east2, channel="visit")
    west = make_customer(cast.rep_west)
    make_interaction(west, cast.rep_west)
    return SimpleNamespace(mine=mine, colleague=colleague, west=west)


def counts(actor: Any, **query: Any) -> dict[str, int]:
    return dashboard(actor=actor, **query).counts


def test_the_scopes_offered_follow_the_roles_data_scope(cast: SimpleNamespace) -> None:
    assert view_scopes(cast.rep_east) == ["mine"]
    assert view_scopes(cast.rm) == ["mine", "team"]
    assert view_scopes(cast.manager_east) == ["mine", "team", "dept"]
    assert view_scopes(cast.admin) == ["mine", "team", "dept", "all"]


def test_a_rep_sees_only_his_own_numbers(cast: SimpleNamespace, east: SimpleNamespace) -> None:
    assert counts(cast.rep_east, period="today") == {"customers": 2, "contacts": 1, "interactions": 1}
    assert counts(cast.rep_east2, period="today") == {"customers": 1, "contacts": 0, "interactions": 1}
    assert counts(cast.rep_east, period="year")["interactions"] in (1, 2)  # 40 days ago may be last year
    last_40 = {"period": "custom", "date_from": timezone.localdate() - timedelta(days=45),
               "date_to": timezone.localdate()}  # fmt: skip
    assert counts(cast.rep_east, **last_40)["interactions"] == 2


def test_a_managers_team_includes_his_reps_and_his_department_too(
    cast: SimpleNamespace, east: SimpleNamespace
) -> None:
    assert counts(cast.manager_east, scope="mine", period="today") == {
        "customers": 0,
        "contacts": 0,
        "interactions": 0,
    }
    team = {"customers": 3, "contacts": 1, "interactions": 2}
    assert dashboard(actor=cast.manager_east).scope == "team"  # a manager starts with his team
    assert dashboard(actor=cast.rep_east).scope == "mine"
    assert counts(cast.manager_east, scope="team", period="today") == team
    assert counts(cast.manager_east, scope="dept", period="today") == team  # 华东: the same people
    assert counts(cast.admin, scope="all", period="today") == {
        "customers": 4,
        "contacts": 1,
        "interactions": 3,
    }
    summary = dashboard(actor=cast.manager_east, scope="team")
    assert sum(b["count"] for b in summary.urgency) == 3
    assert next(i for i in summary.idle if i["days"] == 7)["count"] == 1  # rep_east's second customer


def test_a_rep_is_refused_the_department_scope_and_nothing_changes(
    cast: SimpleNamespace, east: SimpleNamespace, nothing_changes: Any
) -> None:
    with nothing_changes(), pytest.raises(PermissionDenied) as refused:
        dashboard(actor=cast.rep_east, scope="dept")
    assert refused.value.field == "scope"
    assert "部门" in refused.value.text("zh-hans")
    with pytest.raises(ValidationError) as bad:
        dashboard(actor=cast.rep_east, scope="everyone")
    assert bad.value.field == "scope"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"period": "decade"}, "period"),
        ({"period": "custom", "date_to": "2026-01-01"}, "from"),
        ({"period": "custom", "date_from": "2026-02-01", "date_to": "2026-01-01"}, "to"),
    ],
)
def test_a_bad_period_names_the_field(cast: SimpleNamespace, query: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        dashboard(actor=cast.rep_east, **query)
    assert refused.value.field == field


def test_the_chart_counts_interactions_per_day_and_channel(
    cast: SimpleNamespace, east: SimpleNamespace
) -> None:
    d = dashboard(actor=cast.manager_east, scope="team", period="week")
    today = timezone.localdate().strftime("%m-%d")
    at = d.chart["x"].index(today)
    by_channel = {s["name"]: s["data"][at] for s in d.chart["series"]}
    assert by_channel == {"电话": 1, "拜访": 1}
    year = dashboard(actor=cast.manager_east, scope="team", period="year")
    assert len(year.chart["x"]) == 12 and sum(sum(s["data"]) for s in year.chart["series"]) >= 2


def test_a_user_without_a_role_gets_no_dashboard(cast: SimpleNamespace) -> None:
    from kehu.access.services import user_create

    nobody = user_create(username="nobody", password=cast.password, display_name="无角色", by=None)
    with pytest.raises(PermissionDenied):
        dashboard(actor=nobody)


# --- API ----------------------------------------------------------------------------------------


def test_the_dashboard_api(cast: SimpleNamespace, east: SimpleNamespace, api_as: Any) -> None:
    body = api_as(cast.manager_east).get("/api/v1/dashboard", {"scope": "team", "period": "today"}).json()
    assert (body["new_customers"], body["new_contacts"], body["new_interactions"]) == (3, 1, 2)
    assert body["scope"] == "team" and [s["code"] for s in body["scopes"]] == ["mine", "team", "dept"]
    assert body["date_from"] == body["date_to"] == timezone.localdate().isoformat()
    assert {b["code"] for b in body["urgency"]} >= {"overdue", "urgent"} and len(body["idle"]) == 5
    custom = api_as(cast.rep_east).get(
        "/api/v1/dashboard", {"period": "custom", "from": "2001-01-01", "to": "2001-01-31"}
    )
    assert custom.status_code == 200 and custom.json()["new_interactions"] == 0


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"scope": "dept"}, 403, "scope"),
        ({"period": "decade"}, 422, "period"),
        ({"period": "custom", "from": "2026-01-01", "to": "soon"}, 422, "to"),
    ],
)
def test_the_dashboard_api_refuses_bad_input_naming_the_field(
    cast: SimpleNamespace, api_as: Any, query: dict[str, str], status: int, field: str
) -> None:
    response = api_as(cast.rep_east, language="en").get("/api/v1/dashboard", query)
    assert response.status_code == status
    assert response.json()["field"] == field and response.json()["message"]


# --- pages --------------------------------------------------------------------------------------


def test_the_home_page_shows_the_dashboard_for_the_chosen_period(
    cast: SimpleNamespace, east: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.manager_east)
    page = client.get("/", {"scope": "team", "period": "today"}).content.decode()
    assert 'data-testid="dashboard"' in page and 'data-testid="dash-chart"' in page
    assert 'data-testid="dash-new-customers">3<' in page
    partial = client.get(
        "/dashboard/", {"scope": "mine", "period": "today"}, headers={"HX-Request": "true"}
    ).content.decode()
    assert partial.lstrip().startswith('<div class="card" id="dashboard"')
    assert 'data-testid="dash-new-customers">0<' in partial


def test_bad_dashboard_input_on_the_page_shows_the_error_over_the_default_view(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    page = signed_in(cast.rep_east).get("/", {"scope": "dept"}).content.decode()
    assert 'data-testid="dash-error"' in page and "部门" in page
    assert 'data-testid="dash-new-customers">0<' in page
    without_htmx = signed_in(cast.rep_east).get("/dashboard/", {"period": "week"})
    assert without_htmx.status_code == 302 and without_htmx["Location"] == "/?period=week"
