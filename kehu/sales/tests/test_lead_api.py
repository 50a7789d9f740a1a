"""The lead API (SAL-1, SAL-2): the same services as the pages, JSON in and out, interfaces.md errors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.customers.tests.factories import make_customer
from kehu.sales.leads.models import Lead, RiskRule

from .lead_factories import lead_data, make_lead, make_product

pytestmark = pytest.mark.django_db


def test_create_list_get_and_patch(api_as: Any, rep_east: Any, rep_west: Any) -> None:
    api = api_as(rep_east)
    product = make_product()
    body = lead_data(lines=[{"product": product.code, "quantity": "3", "unit": "台"}])
    created = api.post("/api/v1/leads", body)
    assert created.status_code == 201, created.content
    lead = created.json()
    assert lead["owner"]["id"] == rep_east.pk and lead["channel"] == "api"
    assert lead["lines"][0]["product"]["code"] == product.code and lead["lines"][0]["quantity"] == "3.000"
    listing = api.get("/api/v1/leads", {"q": body["company_name"][:6], "limit": 10})
    assert listing.json()["count"] == 1
    assert api_as(rep_west).get(f"/api/v1/leads/{lead['id']}").status_code == 404
    patched = api.patch(f"/api/v1/leads/{lead['id']}", {"version": lead["version"], "email": "boss@qq.com"})
    assert patched.status_code == 200 and patched.json()["risk_score"] > 0
    assert patched.json()["risk_reasons"][0]["zh"]
    stale = api.patch(f"/api/v1/leads/{lead['id']}", {"version": lead["version"], "city": "苏州"})
    assert stale.status_code == 409 and stale.json()["code"] == "stale_version"
    unknown = api.patch(f"/api/v1/leads/{lead['id']}", {"version": 2, "secret": 1})
    assert unknown.status_code == 422 and unknown.json()["field"] == "secret"


def test_mobile_is_masked_for_those_who_may_not_reveal(api_as: Any, rep_east: Any, auditor: Any) -> None:
    lead = make_lead(rep_east, mobile="13912345678")
    assert api_as(rep_east).get(f"/api/v1/leads/{lead.pk}").json()["mobile"] == "13912345678"
    assert api_as(auditor).get(f"/api/v1/leads/{lead.pk}").json()["mobile"] == "139****5678"


def test_pool_claim_assign_release(api_as: Any, rep_east: Any, rep_east2: Any, manager_east: Any) -> None:
    lead = make_lead(rep_east, owner=None)
    pool = api_as(rep_east2).get("/api/v1/leads", {"pool": "true"}).json()
    assert [x["id"] for x in pool["items"]] == [lead.pk]
    assert api_as(rep_east2).post(f"/api/v1/leads/{lead.pk}/claim").json()["owner"]["id"] == rep_east2.pk
    taken = api_as(rep_east).post(f"/api/v1/leads/{lead.pk}/claim")
    assert taken.status_code in (404, 409)
    denied = api_as(rep_east).post(f"/api/v1/leads/{lead.pk}/assign", {"to_user": rep_east.pk})
    assert denied.status_code in (403, 404)
    moved = api_as(manager_east).post(f"/api/v1/leads/{lead.pk}/assign", {"to_user": rep_east.pk})
    assert moved.json()["owner"]["id"] == rep_east.pk
    back = api_as(rep_east).post(f"/api/v1/leads/{lead.pk}/release", {"reason": "不归我"})
    assert back.json()["owner"] is None


def test_screen_qualify_discard(api_as: Any, rep_east: Any) -> None:
    api = api_as(rep_east)
    lead = make_lead(rep_east)
    assert api.post(f"/api/v1/leads/{lead.pk}/screen", {}).json()["status"] == "screening"
    assert api.post(f"/api/v1/leads/{lead.pk}/qualify", {}).json()["status"] == "qualified"
    other = make_lead(rep_east)
    missing = api.post(f"/api/v1/leads/{other.pk}/discard", {"reason": "other"})
    assert missing.status_code == 422 and missing.json()["field"] == "note"
    done = api.post(f"/api/v1/leads/{other.pk}/discard", {"reason": "spam"})
    assert done.json()["status"] == "discarded"


def test_convert_shows_duplicates_first_then_converts(api_as: Any, rep_east: Any) -> None:
    api = api_as(rep_east)
    existing = make_customer(rep_east, name="宁波海天塑机有限公司")
    lead = make_lead(rep_east, company_name="宁波海天塑机有限公司")
    dups = api.get(f"/api/v1/leads/{lead.pk}/duplicates").json()
    assert dups[0]["customer_id"] == existing.pk
    refused = api.post(f"/api/v1/leads/{lead.pk}/convert", {})
    assert refused.status_code == 409 and refused.json()["code"] == "duplicate"
    assert refused.json()["matches"][0]["customer_id"] == existing.pk
    done = api.post(f"/api/v1/leads/{lead.pk}/convert", {"customer_id": existing.pk, "amount": "5000"})
    assert done.status_code == 200, done.content
    converted = done.json()["converted"]
    assert converted["customer_id"] == existing.pk and converted["opportunity_id"]


def test_flagged_lead_review_and_samples(api_as: Any, rep_east: Any, manager_east: Any) -> None:
    product = make_product(price=Decimal("1000"), sample_limit=1)
    lead = make_lead(rep_east, email="a@163.com", content="先发货", samples_requested=10,
                     lines=[{"product": product.pk, "quantity": "500", "unit": "公斤", "samples": 10}])  # fmt: skip
    assert lead.flagged_for_review
    held = api_as(rep_east).post(f"/api/v1/leads/{lead.pk}/samples-sent")
    assert held.status_code == 409 and held.json()["code"] == "risk_review_required"
    assert api_as(rep_east).post(f"/api/v1/leads/{lead.pk}/review", {"comment": "x"}).status_code == 403
    cleared = api_as(manager_east).post(f"/api/v1/leads/{lead.pk}/review", {"comment": "电话核实"})
    assert cleared.status_code == 200 and cleared.json()["flagged_for_review"] is False
    assert api_as(rep_east).post(f"/api/v1/leads/{lead.pk}/samples-sent").json()["samples_sent_at"]


def test_risk_rules_threshold_and_forms(api_as: Any, manager_east: Any, rep_east: Any) -> None:
    api = api_as(manager_east)
    rules = api.get("/api/v1/lead-risk-rules").json()
    assert {r["kind"] for r in rules} == set(RiskRule.objects.values_list("kind", flat=True))
    rule = next(r for r in rules if r["kind"] == "free_mail")
    changed = api.patch(f"/api/v1/lead-risk-rules/{rule['id']}", {"version": rule["version"], "points": 99})
    assert changed.json()["points"] == 99
    assert api_as(rep_east).get("/api/v1/lead-risk-rules").status_code == 403
    assert api.put("/api/v1/lead-risk-settings", {"threshold": 70}).json()["threshold"] == 70
    assert api_as(rep_east).get("/api/v1/lead-risk-settings").json()["threshold"] == 70
    make_lead(rep_east, email="x@qq.com")
    started = api.post("/api/v1/lead-risk-settings/rescore")
    assert started.status_code == 202 and started.json()["url"] == f"/api/v1/jobs/{started.json()['job']}"
    job = api.get(started.json()["url"]).json()  # the tests' task backend runs it at once
    assert (job["status"], job["result"]) == ("succeeded", {"scored": 1})
    assert api_as(rep_east).post("/api/v1/lead-risk-settings/rescore").status_code == 403
    form = api.post("/api/v1/lead-forms", {"name": "官网", "source": "website"})
    assert form.status_code == 201 and form.json()["url"].endswith(f"/f/leads/{form.json()['token']}/")
    edited = api.patch(f"/api/v1/lead-forms/{form.json()['id']}", {"version": 1, "min_seconds": 5})
    assert edited.json()["min_seconds"] == 5
    assert [f["name"] for f in api.get("/api/v1/lead-forms").json()] == ["官网"]
    assert Lead.objects.get().flagged_for_review  # 99 points ≥ 70
