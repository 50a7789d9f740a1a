"""The analytics pages: figures per scope (numbers, not just 200), lists and their filters, exports read
back, settings, refresh, the 客户价值 tab, and the score filters on the customer list."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from django.urls import reverse

from kehu.analytics.models import AnalyticsRun, AnalyticsSettings, CustomerScore
from kehu.analytics.refresh import refresh
from kehu.customers.models import Customer
from kehu.jobs.models import Job

from . import world as W

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored(cast: SimpleNamespace) -> SimpleNamespace:
    w = W.build(cast)
    refresh(as_of=w.as_of)
    return w


def _owned(w: SimpleNamespace, *owners: str) -> list[W.Buyer]:
    return [b for b in w.buyers if b.owner in owners]


def _workbook(response: Any) -> Any:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats-officedocument.spreadsheetml")
    return openpyxl.load_workbook(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )


def test_pages_are_empty_before_the_first_refresh(cast: SimpleNamespace, signed_in: Any) -> None:
    W.build(cast)
    client = signed_in(cast.admin)
    page = client.get(reverse("analytics:overview"))
    assert page.status_code == 200 and page.context["o"].run is None
    assert 'data-testid="empty"' in page.content.decode() and 'data-testid="refresh"' in page.content.decode()
    for name in ("analytics:customers", "analytics:churn"):
        page = client.get(reverse(name))
        assert page.status_code == 200 and page.context["page"].count == 0
        assert "还没有刷新过客户分析" in page.content.decode()
    book = _workbook(client.get(reverse("analytics:overview_export")))
    assert book["RFM 分类"].max_row == 1  # the header only


def test_each_scope_shows_the_figures_of_its_customers(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    w = scored
    run = AnalyticsRun.objects.get()

    # rep_east (本人): only their 18 customers, 17 of whom bought.
    page = signed_in(cast.rep_east).get(reverse("analytics:overview"))
    o = page.context["o"]
    mine = _owned(w, "rep_east")
    assert (o.scope, o.figures["customers"], o.figures["buyers"]) == ("mine", len(mine), len(mine) - 1)
    ids = [b.customer.pk for b in mine]
    classes = Counter(
        CustomerScore.objects.filter(customer_id__in=ids)
        .exclude(rfm_class="")
        .values_list("rfm_class", flat=True)
    )
    assert {c["class"]: c["count"] for c in o.figures["classes"]} == {
        c["class"]: classes.get(c["class"], 0) for c in o.figures["classes"]
    }
    revenue = sum(W.expected(b, w.as_of)["revenue"] for b in mine)
    assert o.figures["pareto"]["total"] == pytest.approx(float(revenue))
    assert (
        o.figures["churn"]["flagged"]
        == CustomerScore.objects.filter(customer_id__in=ids, churn_risk=True).count()
    )
    html = page.content.decode()
    assert f'data-testid="stat-customers">{len(mine)}<' in html
    assert 'data-testid="refresh"' not in html  # a rep may not start a refresh
    assert 'data-testid="scope-all"' not in html
    assert signed_in(cast.rep_east).get(reverse("analytics:overview") + "?scope=all").status_code == 403

    # manager_east's team: theirs and their reps'.
    page = signed_in(cast.manager_east).get(reverse("analytics:overview") + "?scope=team")
    team = _owned(w, "rep_east", "rep_east2", "manager_east")
    assert page.context["o"].figures["customers"] == len(team) == 33

    # admin 全部: the company summary the run stored.
    page = signed_in(cast.admin).get(reverse("analytics:overview") + "?scope=all")
    o = page.context["o"]
    assert o.figures == run.summary and o.figures["customers"] == len(w.buyers)
    html = page.content.decode()
    assert f'data-testid="stat-customers">{len(w.buyers)}<' in html
    assert html.count('data-testid="class-') == 8 + 1  # the eight rows and the table itself
    assert 'data-testid="model-params"' in html and 'id="analytics-data"' in html


def test_scored_list_and_churn_list_filter_within_the_scope(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    w = scored
    rep = signed_in(cast.rep_east)
    mine = {b.customer.pk for b in _owned(w, "rep_east")}
    page = rep.get(reverse("analytics:customers"), {"limit": 100})
    assert {c.pk for c in page.context["page"].items} == mine

    score = CustomerScore.objects.filter(customer_id__in=mine).exclude(rfm_class="").first()
    page = rep.get(reverse("analytics:customers"), {"rfm_class": score.rfm_class, "limit": 100})
    want = set(
        CustomerScore.objects.filter(customer_id__in=mine, rfm_class=score.rfm_class).values_list(
            "customer_id", flat=True
        )
    )
    assert {c.pk for c in page.context["page"].items} == want and want

    page = rep.get(reverse("analytics:customers"), {"lifecycle": "decline", "limit": 100})
    want = set(
        CustomerScore.objects.filter(customer_id__in=mine, lifecycle_stage="decline").values_list(
            "customer_id", flat=True
        )
    )
    assert {c.pk for c in page.context["page"].items} == want and want

    page = rep.get(reverse("analytics:churn"), {"limit": 100})
    flagged = set(
        CustomerScore.objects.filter(customer_id__in=mine, churn_risk=True).values_list(
            "customer_id", flat=True
        )
    )
    assert {c.pk for c in page.context["page"].items} == flagged and flagged
    assert all(c.score.churn_texts for c in page.context["page"].items)  # every one says why
    assert page.content.decode().count('data-testid="churn-reasons"') == len(flagged)

    # Admin, 全部, filtered by owner; the list is ordered by CLV, highest first.
    page = signed_in(cast.admin).get(
        reverse("analytics:customers"), {"scope": "all", "owner": cast.rep_west.pk, "limit": 100}
    )
    items = page.context["page"].items
    assert {c.pk for c in items} == {b.customer.pk for b in _owned(w, "rep_west")}
    clvs = [c.score.clv for c in items if c.score.clv is not None]
    assert clvs == sorted(clvs, reverse=True)

    # A bad filter value is refused naming the field (the page shows the error).
    bad = signed_in(cast.admin).get(reverse("analytics:customers"), {"rfm_class": "vip"})
    assert bad.status_code == 422 and "vip" in bad.content.decode()


def test_exports_are_real_workbooks_of_the_scope(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    w = scored
    book = _workbook(signed_in(cast.admin).get(reverse("analytics:overview_export"), {"scope": "all"}))
    sheet = book["RFM 分类"]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 8
    run = AnalyticsRun.objects.get()
    assert sum(r[1] for r in rows[1:]) == run.summary["buyers"] == 50
    assert [r[1] for r in rows[1:]] == [c["count"] for c in run.summary["classes"]]
    assert "生命周期" in book.sheetnames and "终身价值分布" in book.sheetnames
    assert sum(r[1] for r in list(book["生命周期"].iter_rows(values_only=True))[1:]) == len(w.buyers)

    book = _workbook(signed_in(cast.rep_west).get(reverse("analytics:customer_export")))
    rows = list(book.active.iter_rows(values_only=True))
    mine = {b.customer.code for b in _owned(w, "rep_west")}
    assert {r[0] for r in rows[1:]} == mine
    nocost = w.by_key["nocost"].customer
    (row,) = [r for r in rows[1:] if r[0] == nocost.code]
    assert float(row[9]) == 1000.0 and row[10] is None  # revenue, no profit without costs

    book = _workbook(signed_in(cast.rep_west).get(reverse("analytics:customer_export"), {"churn": "1"}))
    codes = {r[0] for r in list(book.active.iter_rows(values_only=True))[1:]}
    assert codes == set(
        Customer.objects.filter(code__in=mine, score__churn_risk=True).values_list("code", flat=True)
    )


def test_settings_form_shows_field_errors_and_saves(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    page = client.get(reverse("analytics:settings"))
    assert page.status_code == 200
    data = {k: v for k, v in page.context["form"].initial.items() if v is not None}
    data.update({"rfm_bins": 1, "winback_tasks": "on"})
    page = client.post(reverse("analytics:settings"), data)
    assert page.status_code == 200 and "rfm_bins" in page.context["form"].errors
    assert not AnalyticsSettings.objects.exists()
    data.update({"rfm_bins": 4, "p_alive_threshold": "0.3"})
    page = client.post(reverse("analytics:settings"), data)
    assert page.status_code == 302
    saved = AnalyticsSettings.objects.get()
    assert (saved.rfm_bins, str(saved.p_alive_threshold), saved.winback_tasks) == (4, "0.30", True)
    assert signed_in(cast.manager_east).get(reverse("analytics:settings")).status_code == 403


def test_refresh_button_starts_a_job(scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any) -> None:
    assert signed_in(cast.rep_east).post(reverse("analytics:refresh")).status_code == 403
    assert not Job.objects.exists()
    response = signed_in(cast.admin).post(reverse("analytics:refresh"), {"scope": "all"})
    assert response.status_code == 302 and response["Location"].endswith("?scope=all")
    job = Job.objects.get()
    assert job.kind == "analytics.refresh" and job.status == "succeeded"
    assert AnalyticsRun.objects.filter(status="done").count() == 2
    # While one waits, the page shows it instead of the button, and a second is refused.
    Job.objects.create(kind="analytics.refresh", title="刷新", status="queued", created_by=cast.admin)
    html = signed_in(cast.admin).get(reverse("analytics:overview")).content.decode()
    assert 'data-testid="refresh-running"' in html and 'data-testid="refresh"' not in html
    assert signed_in(cast.admin).post(reverse("analytics:refresh")).status_code == 409


def test_the_customer_value_tab_shows_scores_and_reasons(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    w = scored
    lapsed = w.by_key["regular0"].customer  # rep_east's, long past its rhythm
    score = CustomerScore.objects.get(customer=lapsed)
    assert score.churn_risk
    page = signed_in(cast.rep_east).get(reverse("customers:detail", args=[lapsed.pk]) + "?tab=analytics")
    html = page.content.decode()
    assert 'data-testid="value-card"' in html and "有流失风险" in html
    assert f"距上次购买 {score.recency_days} 天" in html or f"距上次下单已 {score.recency_days} 天" in html
    assert "退化期" in html and score.get_rfm_class_display() in html

    prospect = w.by_key["prospect"].customer
    html = (
        signed_in(cast.rep_east)
        .get(reverse("customers:detail", args=[prospect.pk]) + "?tab=analytics")
        .content.decode()
    )
    assert 'data-testid="value-rfm">尚未成交<' in html and "尚未成交，仍在考察" in html  # lifecycle rule 2


def test_the_customer_list_filters_by_scores(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    admin = signed_in(cast.admin)
    page = admin.get(reverse("customers:list"), {"churn": "1", "limit": 100})
    # The list's 全部 scene is the owned customers (the public pool is a scene of its own).
    flagged = set(
        CustomerScore.objects.filter(churn_risk=True, customer__owner__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    assert page.context["error"] is None
    assert {c.pk for c in page.context["page"].items} == flagged
    assert 'data-testid="filter-rfm_class"' in page.content.decode()

    page = admin.get(reverse("customers:list"), {"lifecycle": "nonsense"})
    assert "nonsense" in page.context["error"]


def test_without_analytics_view_pages_are_forbidden_and_filters_refused(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.agent)
    for name in (
        "analytics:overview",
        "analytics:customers",
        "analytics:churn",
        "analytics:overview_export",
        "analytics:customer_export",
    ):
        assert client.get(reverse(name)).status_code == 403, name
    page = client.get(reverse("customers:list"), {"rfm_class": "important_value"})
    assert "rfm_class" in page.context["error"]
    assert 'data-testid="filter-rfm_class"' not in page.content.decode()


def test_the_churn_list_by_the_day_of_the_first_warning(
    scored: SimpleNamespace, cast: SimpleNamespace, signed_in: Any, api_as: Any
) -> None:
    """The watch list of a period: customers first warned between two days (churn_since)."""
    flagged = list(CustomerScore.objects.filter(churn_risk=True).order_by("customer_id"))
    assert len(flagged) >= 3
    old = dt.date.fromisoformat(str(scored.as_of)) - dt.timedelta(days=40)
    CustomerScore.objects.filter(pk=flagged[0].pk).update(churn_since=old)
    admin = signed_in(cast.admin)
    earlier = admin.get(reverse("analytics:churn"), {"scope": "all", "warned_to": str(old), "limit": 100})
    assert [c.pk for c in earlier.context["page"].items] == [flagged[0].customer_id]
    assert f'value="{old}"' in earlier.content.decode()  # the form keeps the filter
    recent = admin.get(
        reverse("analytics:churn"), {"scope": "all", "warned_from": str(scored.as_of), "limit": 100}
    )
    assert {c.pk for c in recent.context["page"].items} == {s.customer_id for s in flagged[1:]}
    body = api_as(cast.admin).get("/api/v1/analytics/churn", {"scope": "all", "warned_to": str(old)}).json()
    assert [i["customer"]["id"] for i in body["items"]] == [flagged[0].customer_id]
    bad = api_as(cast.admin).get("/api/v1/analytics/churn", {"warned_from": "2026-02-30"})
    assert bad.status_code == 422 and bad.json()["field"] == "warned_from"
