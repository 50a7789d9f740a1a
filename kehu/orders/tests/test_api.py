"""The REST API of SAL-6/SAL-7: thin over the same services; errors as {code, message, field}."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.approvals.choices import ApprovalStatus
from kehu.orders import services
from kehu.orders.models import Contract, Invoice, PaymentRecord

from .factories import PDF, contract, customer, plan

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


def test_a_contract_is_drawn_up_approved_and_put_in_force_through_the_api(api_as, rep_east) -> None:
    api = api_as(rep_east)
    cust = customer(rep_east)
    r = api.post("/api/v1/contracts", {"customer": cust.pk, "title": "年度供货合同", "our_party": "本公司",
                                       "amount": "120000.50", "signed_on": TODAY.isoformat()})  # fmt: skip
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["status"], body["approval_status"], body["amount"]) == ("draft", "draft", "120000.50")
    r = api.post(f"/api/v1/contracts/{body['id']}/put-in-force", {"version": body["version"]})
    assert (r.status_code, r.json()["code"], r.json()["field"]) == (409, "not_approved", "approval_status")
    c = Contract.objects.get(pk=body["id"])
    services.contract_set_approval_status(contract=c, status=ApprovalStatus.APPROVED, by=None)
    assert api.get(f"/api/v1/contracts/{c.pk}").json()["status"] == "in_force"
    r = api.patch(f"/api/v1/contracts/{c.pk}", {"version": c.version, "title": "改名"})
    assert (r.status_code, r.json()["code"]) == (409, "locked")


def test_unknown_fields_and_bad_amounts_are_refused(api_as, rep_east) -> None:
    api = api_as(rep_east)
    cust = customer(rep_east)
    r = api.post("/api/v1/contracts", {"customer": cust.pk, "title": "x", "amount": "1", "discount": 5})
    assert (r.status_code, r.json()["field"]) == (422, "discount")
    r = api.post("/api/v1/contracts", {"customer": cust.pk, "title": "x", "amount": "-5", "our_party": "我"})
    assert (r.status_code, r.json()["field"]) == (422, "amount")
    assert Contract.objects.count() == 0


def test_a_payment_is_recorded_against_the_plan_and_over_matching_is_422(api_as, finance, rep_east) -> None:
    api = api_as(finance)
    c = contract(rep_east, customer(rep_east), amount="1000")
    r = api.post(f"/api/v1/contracts/{c.pk}/instalments", {"due_on": TODAY.isoformat(), "amount": "600"})
    assert r.status_code == 201, r.content
    first = r.json()
    r = api.post(f"/api/v1/contracts/{c.pk}/instalments", {"due_on": TODAY.isoformat(), "amount": "500"})
    assert (r.status_code, r.json()["code"]) == (422, "plan_exceeds_contract")
    r = api.post("/api/v1/payments", {"contract": c.pk, "received_on": TODAY.isoformat(), "amount": "700",
                                      "matches": [{"instalment": first["id"], "amount": "700"}]})  # fmt: skip
    assert (r.status_code, r.json()["field"], r.json()["code"]) == (422, "matches", "over_matched")
    assert PaymentRecord.objects.count() == 0
    r = api.post("/api/v1/payments", {"contract": c.pk, "received_on": TODAY.isoformat(), "amount": "400",
                                      "method": "transfer", "matches": [{"instalment": first["id"], "amount": "400"}]})  # fmt: skip
    assert r.status_code == 201, r.content
    p = r.json()
    assert p["matches"] == [{"instalment": first["id"], "seq": 1, "amount": "400.00"}]
    r = api.patch(f"/api/v1/payments/{p['id']}", {"version": p["version"] + 5, "payer": "x"})
    assert (r.status_code, r.json()["code"]) == (409, "stale_version")
    upload = api.client.post(f"/api/v1/payments/{p['id']}/proofs", {"file": SimpleUploadedFile("回单.pdf", PDF)},
                             headers=api._headers(None))  # fmt: skip
    assert upload.status_code == 201, upload.content
    docs = api.get(f"/api/v1/customers/{c.customer_id}/documents", {"q": p["number"]}).json()
    assert [d["name"] for d in docs["items"]] == ["回单.pdf"]
    assert api.get(docs["items"][0]["url"]).status_code == 200
    assert api_as(rep_east).get(f"/api/v1/payments/{p['id']}").status_code == 200  # the contract's owner
    assert api_as(rep_east).get("/api/v1/receivables/aging").status_code == 403  # reps keep no books


def test_orders_and_shipments_through_the_api(api_as, rep_east) -> None:
    api = api_as(rep_east)
    cust = customer(rep_east)
    r = api.post("/api/v1/orders", {"customer": cust.pk, "promised_ship_on": (TODAY + timedelta(days=3)).isoformat(),
                                    "lines": [{"product_name": "控制器", "unit_price": "100", "quantity": "3"}]})  # fmt: skip
    assert r.status_code == 201, r.content
    o = r.json()
    assert (o["total_amount"], o["status"], len(o["lines"])) == ("300.00", "confirmed", 1)
    line = o["lines"][0]["id"]
    r = api.post(f"/api/v1/orders/{o['id']}/shipments", {"lines": [{"order_line": line, "quantity": "4"}]})
    assert (r.status_code, r.json()["code"]) == (422, "over_shipped")
    r = api.post(
        f"/api/v1/orders/{o['id']}/shipments",
        {"carrier": "顺丰速运", "lines": [{"order_line": line, "quantity": "3"}]},
    )
    assert r.status_code == 201
    r = api.post(f"/api/v1/shipments/{r.json()['id']}/deliver", {})
    assert r.status_code == 200 and r.json()["delivered_at"]
    assert api.get(f"/api/v1/orders/{o['id']}").json()["status"] == "delivered"
    listed = api.get("/api/v1/orders", {"status": "delivered"}).json()
    assert listed["count"] == 1
    stats = api.get(f"/api/v1/customers/{cust.pk}/order-stats").json()
    assert (stats["orders"], stats["revenue_12m"]) == (1, "300.00")
    assert (
        api_as(rep_east.__class__.objects.get(username="rep_west"))
        .get(f"/api/v1/orders/{o['id']}")
        .status_code
        == 404
    )


def test_the_aging_api_for_finance(api_as, finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    plan(finance, c, (TODAY - timedelta(days=40), "300"), (TODAY + timedelta(days=5), "200"))
    body = api_as(finance).get("/api/v1/receivables/aging", {"group": "owner"}).json()
    assert (body["scope"], body["total"], body["overdue"], body["totals"]["d31_60"]) == (
        "all",
        "500.00",
        "300.00",
        "300.00",
    )
    assert body["items"][0]["label"] == "张华东"
    r = api_as(finance).get("/api/v1/receivables/aging", {"group": "planet"})
    assert (r.status_code, r.json()["field"]) == (422, "group")
    rows = api_as(finance).get("/api/v1/receivables", {"bucket": "current"}).json()
    assert [i["instalment"]["amount"] for i in rows["items"]] == ["200.00"]


def test_invoices_through_the_api(api_as, finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    r = api_as(finance).post(
        "/api/v1/invoices", {"contract": c.pk, "title": "甲公司", "amount": "500", "kind": "ordinary"}
    )
    assert r.status_code == 201, r.content
    assert r.json()["tax_amount"] == "57.52"
    r = api_as(finance).post(
        "/api/v1/invoices", {"contract": c.pk, "title": "甲公司", "amount": "500", "kind": "special"}
    )
    assert (r.status_code, r.json()["field"]) == (422, "tax_number")
    assert (
        api_as(rep_east).post("/api/v1/invoices", {"contract": c.pk, "title": "x", "amount": "1"}).status_code
        == 403
    )


def test_voiding_an_invoice_through_the_api(api_as, finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    api = api_as(finance)
    created = api.post(
        "/api/v1/invoices", {"contract": c.pk, "title": "甲公司", "amount": "500", "kind": "ordinary"}
    )
    pk = created.json()["id"]
    r = api.post(f"/api/v1/invoices/{pk}/void", {"reason": "抬头错误"})
    assert (r.status_code, r.json()["code"]) == (409, "invoice_not_issued")
    Invoice.objects.filter(pk=pk).update(approval_status=ApprovalStatus.APPROVED)
    r = api.post(f"/api/v1/invoices/{pk}/void", {"reason": ""})
    assert (r.status_code, r.json()["field"]) == (422, "reason")
    r = api.post(f"/api/v1/invoices/{pk}/void", {"reason": "抬头错误", "because": "x"})
    assert r.status_code == 422
    r = api.post(f"/api/v1/invoices/{pk}/void", {"version": created.json()["version"], "reason": "抬头错误"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["voided_at"] and body["void_reason"] == "抬头错误" and body["voided_by"]
    assert api_as(rep_east).post(f"/api/v1/invoices/{pk}/void", {"reason": "x"}).status_code == 403
    listed = api.get("/api/v1/invoices", {"voided": "1"}).json()
    assert [i["id"] for i in listed["items"]] == [pk]
    assert api.get("/api/v1/invoices", {"voided": "2"}).status_code == 422


def test_handing_a_contract_and_an_order_over_through_the_api(
    api_as, manager_east, rep_east, rep_east2
) -> None:
    from .factories import order

    c = contract(rep_east, customer(rep_east), amount="1000")
    api = api_as(manager_east)
    r = api.post(
        f"/api/v1/contracts/{c.pk}/transfer", {"version": c.version, "to_user": rep_east2.pk, "reason": ""}
    )
    assert (r.status_code, r.json()["field"]) == (422, "reason")
    r = api.post(f"/api/v1/contracts/{c.pk}/transfer", {"version": c.version, "to_user": rep_east2.pk,
                                                         "reason": "离职交接"})  # fmt: skip
    assert r.status_code == 200 and r.json()["owner"]["id"] == rep_east2.pk
    r = api.post(f"/api/v1/contracts/{c.pk}/transfer", {"version": c.version, "to_user": rep_east.pk,
                                                         "reason": "再转回"})  # fmt: skip
    assert (r.status_code, r.json()["code"]) == (409, "stale_version")
    o = order(rep_east, customer(rep_east), ("伺服电机", "3650", "2"))
    r = api.post(
        f"/api/v1/orders/{o.pk}/transfer", {"version": o.version, "to_user": rep_east2.pk, "reason": "分工"}
    )
    assert r.status_code == 200 and r.json()["owner"]["id"] == rep_east2.pk
    assert api_as(rep_east).post(f"/api/v1/orders/{o.pk}/transfer", {"version": 2, "to_user": rep_east.pk,
                                                                      "reason": "x"}).status_code == 404  # fmt: skip
