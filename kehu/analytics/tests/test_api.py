"""The analytics API and the score filters of GET /api/v1/customers, plus `kehu analytics refresh`."""

from __future__ import annotations

import io
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from kehu.analytics.models import AnalyticsRun, AnalyticsSettings, CustomerScore, RelationshipPeriod
from kehu.analytics.refresh import refresh
from kehu.jobs.models import Job

from . import world as W

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(cast: SimpleNamespace) -> SimpleNamespace:
    w = W.build(cast)
    refresh(as_of=w.as_of)
    return w


def test_overview_per_scope(scored: SimpleNamespace, cast: SimpleNamespace, api_as: Any) -> None:
    w = scored
    body = api_as(cast.rep_west).get("/api/v1/analytics/overview").json()
    mine = [b for b in w.buyers if b.owner == "rep_west"]
    assert (body["scope"], body["figures"]["customers"], body["as_of"]) == (
        "mine",
        len(mine),
        w.as_of.isoformat(),
    )
    assert body["figures"]["buyers"] == len(mine)
    assert len(body["figures"]["classes"]) == 8 and all(
        c["label"] and c["action_label"] for c in body["figures"]["classes"]
    )
    assert body["models"]["bgnbd"]["r"] > 0
    denied = api_as(cast.rep_west).get("/api/v1/analytics/overview", {"scope": "all"})
    assert denied.status_code == 403 and denied.json()["field"] == "scope"
    body = api_as(cast.admin).get("/api/v1/analytics/overview", {"scope": "all"}).json()
    assert body["figures"]["customers"] == len(w.buyers) and body["figures"]["buyers"] == 50


def test_overview_before_any_refresh_is_empty(cast: SimpleNamespace, api_as: Any) -> None:
    body = api_as(cast.admin).get("/api/v1/analytics/overview").json()
    assert (body["as_of"], body["figures"], body["models"]) == (None, {}, {})


def test_lists_and_one_customer(scored: SimpleNamespace, cast: SimpleNamespace, api_as: Any) -> None:
    w = scored
    rep = api_as(cast.rep_east)
    body = rep.get("/api/v1/analytics/customers", {"limit": 100}).json()
    mine = {b.customer.pk for b in w.buyers if b.owner == "rep_east"}
    assert body["count"] == len(mine) and {i["customer"]["id"] for i in body["items"]} == mine

    body = rep.get("/api/v1/analytics/churn", {"limit": 100}).json()
    flagged = set(
        CustomerScore.objects.filter(customer_id__in=mine, churn_risk=True).values_list(
            "customer_id", flat=True
        )
    )
    assert {i["customer"]["id"] for i in body["items"]} == flagged and all(
        i["churn_reasons"] for i in body["items"]
    )

    merge = w.by_key["merge"].customer
    one = rep.get(f"/api/v1/analytics/customers/{merge.pk}").json()
    assert (one["orders"], one["purchases"], one["revenue"], one["profit"], one["revenue_12m"]) == (
        5,
        4,
        "1650.00",
        "240.00",
        "650.00",
    )
    assert one["lifecycle_reason"] and one["rfm_class_label"] and one["owner"]["id"] == cast.rep_east.pk
    other = w.by_key["nocost"].customer  # rep_west's
    assert rep.get(f"/api/v1/analytics/customers/{other.pk}").status_code == 404
    bad = rep.get("/api/v1/analytics/customers", {"lifecycle": "teen"})
    assert bad.status_code == 422 and bad.json()["field"] == "lifecycle"
    bad = rep.get("/api/v1/analytics/customers", {"sort": "colour"})
    assert bad.status_code == 422 and bad.json()["field"] == "sort"


def test_customer_list_api_filters_by_scores(
    scored: SimpleNamespace, cast: SimpleNamespace, api_as: Any
) -> None:
    admin = api_as(cast.admin)
    owned = CustomerScore.objects.filter(customer__owner__isnull=False)
    for params, qs in (
        ({"rfm_class": "important_value"}, owned.filter(rfm_class="important_value")),
        ({"lifecycle": "decline"}, owned.filter(lifecycle_stage="decline")),
        ({"churn": "0"}, owned.filter(churn_risk=False)),
        ({"clv_min": "500"}, owned.filter(clv__gte=500)),
        ({"clv_max": "100", "churn": "1"}, owned.filter(clv__lte=100, churn_risk=True)),
        ({"p_alive_max": "0.5"}, owned.filter(p_alive__lte=0.5)),
    ):
        body = admin.get("/api/v1/customers", {**params, "limit": 200}).json()
        want = set(qs.values_list("customer_id", flat=True))
        assert {i["id"] for i in body["items"]} == want, params
        assert body["count"] == len(want)
    for params, field in (
        ({"rfm_class": "vip"}, "rfm_class"),
        ({"churn": "maybe"}, "churn"),
        ({"lifecycle": "x"}, "lifecycle"),
    ):
        bad = admin.get("/api/v1/customers", params)
        assert bad.status_code == 422 and bad.json()["field"] == field, params
    for junk in ("lots", "nan", "inf"):
        bad = admin.get("/api/v1/customers", {"clv_min": junk})
        assert bad.status_code == 422, junk
    # Without analytics.view: the analytics API is forbidden and the score filters are refused.
    agent = api_as(cast.agent)
    for path in ("/api/v1/analytics/overview", "/api/v1/analytics/customers", "/api/v1/analytics/churn",
                 "/api/v1/analytics/settings", "/api/v1/analytics/runs"):  # fmt: skip
        assert agent.get(path).status_code == 403, path
    bad = agent.get("/api/v1/customers", {"rfm_class": "important_value"})
    assert bad.status_code == 422 and bad.json()["field"] == "rfm_class"


def test_settings_and_refresh_through_the_api(
    scored: SimpleNamespace, cast: SimpleNamespace, api_as: Any
) -> None:
    admin = api_as(cast.admin)
    body = admin.get("/api/v1/analytics/settings").json()
    assert (body["rfm_bins"], body["p_alive_threshold"], body["winback_per_owner"]) == (5, "0.50", 10)
    changed = admin.patch(
        "/api/v1/analytics/settings", {"version": body["version"], "rfm_bins": 4, "winback_tasks": False}
    )
    assert (
        changed.status_code == 200
        and changed.json()["rfm_bins"] == 4
        and changed.json()["winback_tasks"] is False
    )
    bad = admin.patch(
        "/api/v1/analytics/settings", {"version": changed.json()["version"], "p_alive_threshold": "1.5"}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "p_alive_threshold"
    v = changed.json()["version"]
    again = admin.patch("/api/v1/analytics/settings", {"version": v, "winback_per_owner": 3})
    assert again.status_code == 200 and again.json()["version"] == v + 1
    stale = admin.patch("/api/v1/analytics/settings", {"version": v, "rfm_bins": 3})
    assert stale.status_code == 409
    assert admin.patch("/api/v1/analytics/settings", {"colour": "red"}).status_code == 422
    assert AnalyticsSettings.objects.get().rfm_bins == 4
    assert api_as(cast.rep_east).get("/api/v1/analytics/settings").status_code == 200  # view: read only
    assert api_as(cast.rep_east).patch("/api/v1/analytics/settings", {"rfm_bins": 3}).status_code == 403

    assert api_as(cast.manager_east).post("/api/v1/analytics/refresh").status_code == 403
    started = admin.post("/api/v1/analytics/refresh")
    assert started.status_code == 202
    job = Job.objects.get(pk=started.json()["job"])
    assert job.status == "succeeded"
    runs = admin.get("/api/v1/analytics/runs").json()
    assert (
        runs["count"] == 2
        and runs["items"][0]["id"] == AnalyticsRun.objects.order_by("-started_at", "-id").first().pk
    )
    assert runs["items"][0]["status"] == "done" and runs["items"][0]["customers"] == len(scored.buyers)
    assert AnalyticsRun.objects.order_by("-id").first().settings["rfm_bins"] == 4  # the new settings applied


def test_the_refresh_command_prints_json(cast: SimpleNamespace) -> None:
    w = W.build(cast)
    out, err = io.StringIO(), io.StringIO()
    call_command("analytics", "refresh", "--as-of", w.as_of.isoformat(), stdout=out, stderr=err)
    result = json.loads(out.getvalue())
    run = AnalyticsRun.objects.get()
    assert result["run"] == run.pk and result["as_of"] == w.as_of.isoformat()
    assert (result["customers"], result["buyers"]) == (len(w.buyers), 50)
    assert result["churn"]["flagged"] == CustomerScore.objects.filter(churn_risk=True).count()
    assert sum(result["lifecycle"].values()) == len(w.buyers) and "bgnbd" in result["models"]
    assert "100%" in err.getvalue()  # progress went to stderr
    # The relationship report's periods follow the scores (as the nightly job): 2 years to as_of.
    periods = RelationshipPeriod.objects.count()
    assert result["relationship"]["periods"] == periods and periods > 0
    assert {p.as_of for p in RelationshipPeriod.objects.all()} == {w.as_of}

    # Each part alone: the scores (a second run, periods untouched), or the periods (no run).
    RelationshipPeriod.objects.all().delete()
    call_command("analytics", "refresh", "--as-of", w.as_of.isoformat(), "--part", "scores", stdout=io.StringIO(),
                 stderr=io.StringIO())  # fmt: skip
    assert AnalyticsRun.objects.count() == 2 and not RelationshipPeriod.objects.exists()
    out = io.StringIO()
    call_command("analytics", "refresh", "--part", "relationship", "--as-of", w.as_of.isoformat(), stdout=out,
                 stderr=io.StringIO())  # fmt: skip
    assert (
        json.loads(out.getvalue())["relationship"]["periods"] == periods == RelationshipPeriod.objects.count()
    )
    assert AnalyticsRun.objects.count() == 2


def test_the_refresh_command_refuses_a_bad_date(db: Any) -> None:
    with pytest.raises(CommandError) as err:
        call_command(
            "analytics", "refresh", "--as-of", "2026-13-45", stdout=io.StringIO(), stderr=io.StringIO()
        )
    assert "as_of" in str(err.value)
    assert not AnalyticsRun.objects.exists()
