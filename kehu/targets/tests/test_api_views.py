"""The targets API and pages call the same services (SAL-8)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone

from kehu.targets.models import SalesTarget

pytestmark = pytest.mark.django_db


def test_a_manager_sets_and_changes_a_goal_through_the_api(cast: SimpleNamespace, api_as: Any) -> None:
    api = api_as(cast.manager_east)
    body = {"metric": "deals", "period_kind": "quarter", "year": 2026, "number": 4,
            "value": "30", "user_id": cast.rep_east.pk}  # fmt: skip
    created = api.post("/api/v1/targets", body)
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["period"], data["value"], data["subject"]) == ("2026-Q4", "30.00", str(cast.rep_east))
    stale = api.patch(f"/api/v1/targets/{data['id']}", {"version": data["version"] + 5, "value": "1"})
    assert stale.status_code == 409
    changed = api.patch(f"/api/v1/targets/{data['id']}", {"version": data["version"], "value": "35"})
    assert changed.status_code == 200 and changed.json()["value"] == "35.00"
    listed = api.get("/api/v1/targets?period=2026-Q4").json()
    assert listed["count"] == 1 and listed["items"][0]["percent"] == "0.0"


def test_bad_input_names_the_field_and_writes_nothing(cast: SimpleNamespace, api_as: Any) -> None:
    api = api_as(cast.manager_east)
    body = {"metric": "deals", "period_kind": "month", "year": 2026, "number": 13, "value": "3",
            "user_id": cast.rep_east.pk}  # fmt: skip
    response = api.post("/api/v1/targets", body)
    assert response.status_code == 422 and response.json()["field"] == "number"
    assert api.post("/api/v1/targets", {**body, "number": 1, "colour": "red"}).status_code == 422
    assert api.get("/api/v1/targets?period=2026-13").json()["field"] == "period"
    assert not SalesTarget.objects.exists()


def test_the_page_lists_goals_and_a_manager_creates_one(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.manager_east)
    empty = client.get("/targets/?period=2026-12")
    assert empty.status_code == 200 and 'data-testid="empty"' in empty.content.decode()
    response = client.post(
        "/targets/new/",
        {"subject": "user", "user_id": cast.rep_east.pk, "metric": "deals", "period_kind": "month",
         "year": 2026, "number": 12, "value": "4", "notes": ""},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"].endswith("?period=2026-12")
    page = client.get("/targets/?period=2026-12").content.decode()
    assert str(cast.rep_east) in page and 'data-testid="target-row"' in page


def test_the_form_shows_a_service_error_next_to_the_field(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.manager_east)
    response = client.post(
        "/targets/new/",
        {"subject": "user", "user_id": cast.rep_east.pk, "metric": "deals", "period_kind": "quarter",
         "year": 2026, "number": 6, "value": "4"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "月份/季度须在 1 到 4 之间" in response.content.decode()
    assert not SalesTarget.objects.exists()


def test_a_rep_reads_targets_but_cannot_open_the_form(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.rep_east)
    assert client.get("/targets/").status_code == 200
    assert client.get("/targets/new/").status_code == 403


def test_the_home_page_shows_my_progress(cast: SimpleNamespace, signed_in: Any) -> None:
    from kehu.targets.services import target_create

    today = timezone.localdate()
    target_create(metric="deals", period_kind="month", year=today.year, number=today.month, value=3,
                  user_id=cast.rep_east.pk, by=cast.manager_east)  # fmt: skip
    page = signed_in(cast.rep_east).get("/").content.decode()
    assert 'data-testid="home-targets"' in page


def test_exchange_rates_through_the_api_and_the_page(
    cast: SimpleNamespace, api_as: Any, signed_in: Any
) -> None:
    api = api_as(cast.manager_east)
    bad = api.put("/api/v1/exchange-rates", {"currency": "USD", "month": "2026-12", "rate": "0"})
    assert (bad.status_code, bad.json()["field"]) == (422, "rate")
    ok = api.put("/api/v1/exchange-rates", {"currency": "USD", "month": "2026-12", "rate": "7.1234"})
    assert ok.status_code == 200 and ok.json()["month"] == "2026-12" and ok.json()["rate"] == "7.123400"
    assert api_as(cast.rep_east).get("/api/v1/exchange-rates").json()[0]["currency"] == "USD"
    assert api_as(cast.rep_east).put("/api/v1/exchange-rates", {"currency": "EUR", "month": "2026-12",
                                                               "rate": "8"}).status_code == 403  # fmt: skip
    client = signed_in(cast.manager_east)
    page = client.get("/targets/rates/").content.decode()
    assert 'data-testid="rate-form"' in page and "7.123400" in page
    refused = client.post("/targets/rates/", {"currency": "EUR", "month": "2026-12", "rate": "abc"})
    assert refused.status_code == 422 and "汇率必须是数字" in refused.content.decode()
    saved = client.post(
        "/targets/rates/", {"currency": "EUR", "month": "2026-12", "rate": "7.9"}, follow=True
    )
    assert "EUR 2026-12 7.9" in saved.content.decode()
    rep_page = signed_in(cast.rep_east).get("/targets/rates/").content.decode()
    assert 'data-testid="rate-form"' not in rep_page and "EUR" in rep_page
    deleted = api.delete(f"/api/v1/exchange-rates/{ok.json()['id']}")
    assert deleted.status_code == 204 and len(api.get("/api/v1/exchange-rates").json()) == 1
    assert 'data-testid="rates-link"' in client.get("/targets/").content.decode()
