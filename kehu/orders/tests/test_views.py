"""Pages of SAL-6/SAL-7: lists with empty states, forms naming the field at fault, detail pages, the
360° tabs, the aging page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.orders.models import Contract, Order, PaymentRecord

from .factories import PDF, contract, customer, order, payment, plan

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.mark.parametrize("name", ["orders:contracts", "orders:orders", "orders:invoices", "orders:payments"])
def test_empty_lists_say_so(signed_in, admin, name) -> None:
    page = signed_in(admin).get(reverse(name))
    assert page.status_code == 200
    assert 'data-testid="empty"' in page.content.decode()


def test_a_contract_form_names_the_field_at_fault_and_writes_nothing(signed_in, rep_east) -> None:
    cust = customer(rep_east)
    client = signed_in(rep_east)
    url = reverse("orders:contract_create") + f"?customer={cust.pk}"
    assert client.get(url).status_code == 200
    page = client.post(url, {"customer": cust.pk, "title": "设备合同", "our_party": "本公司", "amount": "abc",
                             "currency": "CNY"})  # fmt: skip
    assert 'data-error-for="amount"' in page.content.decode()
    assert Contract.objects.count() == 0
    page = client.post(url, {"customer": cust.pk, "title": "设备合同", "our_party": "本公司", "amount": "5000",
                             "currency": "CNY", "starts_on": "2026-05-01", "ends_on": "2026-04-01"})  # fmt: skip
    assert 'data-error-for="ends_on"' in page.content.decode()
    page = client.post(url, {"customer": cust.pk, "title": "设备合同", "our_party": "本公司", "amount": "5000",
                             "currency": "CNY"})  # fmt: skip
    c = Contract.objects.get()
    assert page.status_code == 302 and page["Location"] == reverse("orders:contract_detail", args=[c.pk])
    detail = client.get(page["Location"]).content.decode()
    assert "设备合同" in detail and "合同需审批通过后才能生效" in detail


def test_the_contract_page_shows_plan_payments_and_the_attachment(signed_in, finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    (i,) = plan(finance, c, (TODAY - timedelta(days=3), "600"))
    payment(finance, c, "200", {i.pk: "200"})
    client = signed_in(finance)
    page = client.get(reverse("orders:contract_detail", args=[c.pk])).content.decode()
    assert "400.00" in page and "逾期" in page and 'data-testid="new-payment"' in page
    client.post(reverse("orders:contract_attachment", args=[c.pk]), {"files": []})
    assert c.documents.count() == 0


def test_recording_a_payment_on_the_page(signed_in, finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    (i,) = plan(finance, c, (TODAY, "600"))
    client = signed_in(finance)
    url = reverse("orders:payment_create") + f"?contract={c.pk}"
    assert client.get(url).status_code == 200
    page = client.post(url, {"received_on": TODAY.isoformat(), "amount": "100", "method": "transfer",
                             "currency": "CNY", f"match_{i.pk}": "150"})  # fmt: skip
    assert "核销合计" in page.content.decode() and PaymentRecord.objects.count() == 0
    page = client.post(url, {"received_on": TODAY.isoformat(), "amount": "150", "method": "transfer",
                             "currency": "CNY", f"match_{i.pk}": "150"})  # fmt: skip
    p = PaymentRecord.objects.get()
    assert page["Location"] == reverse("orders:payment_detail", args=[p.pk])
    assert p.matches.get().amount == 150


def test_an_order_is_entered_and_shipped_on_the_pages(signed_in, rep_east) -> None:
    cust = customer(rep_east)
    client = signed_in(rep_east)
    url = reverse("orders:order_create") + f"?customer={cust.pk}"
    assert client.get(url).status_code == 200
    page = client.post(url, {"customer": cust.pk, "order_date": TODAY.isoformat(), "currency": "CNY"})
    assert "订单至少要有一行明细" in page.content.decode()
    client.post(url, {"customer": cust.pk, "order_date": TODAY.isoformat(), "currency": "CNY",
                      "line_product_name": ["控制器", ""], "line_unit_price": ["100", ""], "line_quantity": ["2", ""],
                      "line_product": ["", ""], "line_model": ["", ""], "line_unit": ["", ""], "line_notes": ["", ""]})  # fmt: skip
    o = Order.objects.get()
    assert o.total_amount == 200
    ship = reverse("orders:shipment_create", args=[o.pk])
    line = o.lines.get()
    page = client.post(ship, {f"ship_{line.pk}": "3"})
    assert "最多还能发" in page.content.decode()
    client.post(ship, {f"ship_{line.pk}": "2", "carrier": "顺丰速运", "uploads": [_pdf()]})
    o.refresh_from_db()
    assert o.status == "shipped"
    detail = client.get(reverse("orders:order_detail", args=[o.pk])).content.decode()
    assert "签收单.pdf" in detail and "顺丰速运" in detail


def _pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("签收单.pdf", PDF, content_type="application/pdf")


def test_the_customer_page_has_the_sales_chain_tabs(signed_in, finance, rep_east, marketing) -> None:
    cust = customer(rep_east)
    c = contract(rep_east, cust)
    order(rep_east, cust, ("控制器", "100", "1"), contract=c.pk)
    (i,) = plan(finance, c, (TODAY, "100"))
    p = payment(finance, c, "100", {i.pk: "100"})
    from kehu.orders import billing

    billing.payment_proof_add(payment_id=p.pk, name="回单.pdf", data=PDF, by=finance)
    page = signed_in(rep_east).get(reverse("customers:detail", args=[cust.pk])).content.decode()
    for text in (c.number, "订单（业务明细）", p.number, "回单.pdf", "录入订单"):
        assert text in page, text
    o = order(rep_east, cust, ("传感器", "10", "1"))
    page = signed_in(marketing).get(reverse("customers:detail", args=[cust.pk])).content.decode()
    assert o.number not in page  # marketing sees the customer, not its orders
    found = signed_in(rep_east).get(reverse("orders:customer_documents", args=[cust.pk]), {"q": "没有这个"})
    assert "没有符合条件的单据" in found.content.decode()


def test_the_aging_page_for_finance_and_not_for_reps(signed_in, finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east, "甲公司"), amount="1000")
    plan(finance, c, (TODAY - timedelta(days=70), "300"))
    page = signed_in(finance).get(reverse("orders:receivables"), {"group": "customer"}).content.decode()
    assert "甲公司" in page and "300.00" in page
    bad = signed_in(finance).get(reverse("orders:receivables"), {"group": "planet"}).content.decode()
    assert 'data-testid="list-error"' in bad
    assert signed_in(rep_east).get(reverse("orders:receivables")).status_code == 403


def test_the_nav_shows_the_sales_chain_to_those_who_may_see_it(signed_in, finance, marketing) -> None:
    page = signed_in(finance).get(reverse("home")).content.decode()
    assert all(f'data-testid="nav-{k}"' in page for k in ("contracts", "orders", "payments", "receivables"))
    page = signed_in(marketing).get(reverse("home")).content.decode()
    assert 'data-testid="nav-contracts"' not in page


def test_the_edit_pages_open_with_the_stored_values_and_a_stale_save_is_shown(
    signed_in, finance, rep_east
) -> None:
    from kehu.orders import billing

    cust = customer(rep_east)
    draft = contract(rep_east, cust, approve=False)
    c = contract(rep_east, cust, amount="1000")
    (i,) = plan(finance, c, (TODAY, "600"))
    p = payment(finance, c, "100", {i.pk: "100"}, approve=False)
    invoice = billing.invoice_create(data={"contract": c.pk, "title": "甲公司", "amount": "100", "kind": "ordinary"},
                                     by=finance)  # fmt: skip
    o = order(rep_east, cust, ("控制器", "100", "2"))
    rep = signed_in(rep_east)
    page = rep.get(reverse("orders:contract_edit", args=[draft.pk])).content.decode()
    assert "设备采购合同" in page
    page = rep.get(reverse("orders:order_edit", args=[o.pk])).content.decode()
    assert 'value="控制器"' in page
    stale = {
        "title": "新名称",
        "our_party": "本公司",
        "amount": "5000",
        "currency": "CNY",
        "version": draft.version,
    }
    rep.post(reverse("orders:contract_edit", args=[draft.pk]), stale)
    page = rep.post(
        reverse("orders:contract_edit", args=[draft.pk]), {**stale, "title": "第二次"}
    ).content.decode()
    assert "该记录已被他人修改" in page
    Contract.objects.get(pk=draft.pk, title="新名称")
    fin = signed_in(finance)
    for name, pk, text in (("orders:invoice_edit", invoice.pk, "甲公司"), ("orders:payment_edit", p.pk, 'value="100.00"'),
                           ("orders:instalment_edit", i.pk, "600.00")):  # fmt: skip
        page = fin.get(reverse(name, args=[pk])).content.decode()
        assert text in page, name
    page = fin.get(reverse("orders:invoice_detail", args=[invoice.pk])).content.decode()
    assert "增值税普通发票" in page


def test_voiding_an_issued_invoice_on_its_page(signed_in, finance, rep_east) -> None:
    from kehu.approvals.choices import ApprovalStatus
    from kehu.orders import billing

    c = contract(rep_east, customer(rep_east), amount="1000")
    invoice = billing.invoice_create(
        data={"contract": c.pk, "title": "杭州示例机械有限公司", "amount": "300", "kind": "ordinary"},
        by=finance,
    )
    client = signed_in(finance)
    url = reverse("orders:invoice_detail", args=[invoice.pk])
    assert 'data-testid="void-form"' not in client.get(url).content.decode()  # not issued: edit it instead
    billing.invoice_set_approval_status(invoice=invoice, status=ApprovalStatus.APPROVED, by=None)
    invoice.refresh_from_db()
    assert 'data-testid="void-form"' in client.get(url).content.decode()
    void = reverse("orders:invoice_void", args=[invoice.pk])
    page = client.post(void, {"version": invoice.version, "reason": ""}, follow=True).content.decode()
    assert "请填写作废原因" in page and 'data-testid="invoice-voided"' not in page
    page = client.post(void, {"version": invoice.version, "reason": "税号错误"}, follow=True).content.decode()
    assert (
        'data-testid="invoice-voided"' in page
        and "税号错误" in page
        and 'data-testid="void-form"' not in page
    )
    listing = client.get(reverse("orders:invoices"), {"voided": "1"}).content.decode()
    assert "已作废" in listing and invoice.title in listing
    assert invoice.title not in client.get(reverse("orders:invoices"), {"voided": "0"}).content.decode()
    bad = client.get(reverse("orders:invoices"), {"voided": "maybe"}).content.decode()
    assert 'data-testid="list-error"' in bad


def test_handing_a_contract_over_on_its_page(signed_in, manager_east, rep_east, rep_east2) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    client = signed_in(manager_east)
    page = client.get(reverse("orders:contract_detail", args=[c.pk])).content.decode()
    assert 'data-testid="transfer-form"' in page and rep_east2.label in page
    url = reverse("orders:contract_transition", args=[c.pk, "transfer"])
    shown = client.post(url, {"version": c.version, "to_user": rep_east2.pk, "reason": ""}, follow=True)
    assert "转移必须填写原因" in shown.content.decode()
    shown = client.post(
        url, {"version": c.version, "to_user": rep_east2.pk, "reason": "离职交接"}, follow=True
    )
    assert "合同已转移给新负责人" in shown.content.decode()
    c.refresh_from_db()
    assert c.owner == rep_east2
    # rep_east hands their order to a colleague they cannot see: back to the list, not a 404
    o = order(rep_east, customer(rep_east), ("伺服电机", "3650", "1"))
    mine = signed_in(rep_east)
    moved = mine.post(reverse("orders:order_transition", args=[o.pk, "transfer"]),
                      {"version": o.version, "to_user": manager_east.pk, "reason": "交主管跟进"})  # fmt: skip
    assert moved.status_code == 302 and moved["Location"] == reverse("orders:orders")
