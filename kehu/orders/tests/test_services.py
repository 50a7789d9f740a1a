"""Writes of SAL-6/SAL-7 as sentences about the cast: transitions, amounts, locks, stale versions —
and every refusal leaves the tables as they were."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.utils import timezone

from kehu.approvals.choices import ApprovalStatus
from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.notifications.models import Notification
from kehu.orders import billing, services
from kehu.orders.choices import ContractStatus, OrderStatus
from kehu.orders.models import (
    Contract,
    Instalment,
    Invoice,
    Order,
    OrderDocument,
    OrderLine,
    PaymentMatch,
    PaymentRecord,
    Shipment,
)
from kehu.sales.services import opportunity_create

from .factories import PDF, D, contract, customer, order, payment, plan

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
WATCHED = (Contract, Instalment, PaymentRecord, PaymentMatch, Order, OrderLine, Shipment, Invoice, OrderDocument,
           AuditEvent)  # fmt: skip


# --- contracts ---------------------------------------------------------------------------------------


def test_a_rep_draws_up_a_draft_contract_they_own(rep_east) -> None:
    c = contract(rep_east, customer(rep_east), approve=False)
    assert (c.status, c.approval_status, c.owner, c.department) == (
        ContractStatus.DRAFT, ApprovalStatus.DRAFT, rep_east, rep_east.department)  # fmt: skip
    assert c.number.startswith(f"HT{TODAY:%Y}")
    assert c.their_party == "杭州示例机械有限公司"
    assert AuditEvent.objects.filter(subject_type="contract", verb="create", subject_id=c.pk).exists()


def test_a_contract_comes_from_a_won_opportunity_only(rep_east, nothing_changes) -> None:
    cust = customer(rep_east)
    opp = opportunity_create(customer_id=cust.pk, name="二期扩建", amount="50000", by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        contract(rep_east, cust, opportunity=opp.pk, approve=False)
    assert err.value.field == "opportunity"
    type(opp).objects.filter(pk=opp.pk).update(status="won")
    assert contract(rep_east, cust, opportunity=opp.pk, approve=False).opportunity_id == opp.pk


def test_only_an_approved_contract_is_put_in_force(rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), approve=False)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        services.contract_put_in_force(contract_id=c.pk, version=c.version, by=rep_east)
    assert err.value.code == "not_approved"
    services.contract_set_approval_status(contract=c, status=ApprovalStatus.APPROVED, by=None)
    c.refresh_from_db()
    assert c.status == ContractStatus.IN_FORCE  # the approval's follow-up


def test_a_contract_under_review_or_approved_is_locked(rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), approve=False)
    services.contract_set_approval_status(contract=c, status=ApprovalStatus.PENDING, by=None)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        services.contract_update(contract_id=c.pk, version=None, data={"title": "改了"}, by=rep_east)
    assert err.value.code == "locked"


def test_a_stale_version_of_a_contract_is_refused(rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), approve=False)
    services.contract_update(contract_id=c.pk, version=c.version, data={"title": "第一次修改"}, by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        services.contract_update(
            contract_id=c.pk, version=c.version, data={"title": "旧版本上的修改"}, by=rep_east
        )
    assert err.value.code == "stale_version"


def test_terminating_needs_a_reason_and_stops_the_receivables(finance, rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east))
    (i,) = plan(finance, c, (TODAY, "1000"))
    assert i.receivable
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        services.contract_terminate(contract_id=c.pk, version=None, reason=" ", by=rep_east)
    assert err.value.field == "reason"
    services.contract_terminate(contract_id=c.pk, version=None, reason="客户破产", by=rep_east)
    i.refresh_from_db()
    assert not i.receivable
    with pytest.raises(Conflict):
        services.contract_complete(contract_id=c.pk, version=None, by=rep_east)


def test_another_reps_contract_does_not_exist_for_me(rep_east, rep_west, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), approve=False)
    with nothing_changes(*WATCHED), pytest.raises(NotFound):
        services.contract_update(contract_id=c.pk, version=None, data={"title": "x"}, by=rep_west)


def test_contract_attachments_can_be_added_after_approval_but_not_removed(rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east))
    doc = services.contract_attachment_add(contract_id=c.pk, name="盖章合同.pdf", data=PDF, by=rep_east)
    assert (doc.kind, doc.number, doc.customer_id) == ("contract", c.number, c.customer_id)
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        services.document_remove(document_id=doc.pk, by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError):
        services.contract_attachment_add(contract_id=c.pk, name="x.exe", data=b"MZ\x90", by=rep_east)


# --- payment plans and payments ----------------------------------------------------------------------


def test_a_plan_never_adds_up_to_more_than_the_contract(finance, rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    plan(finance, c, (TODAY, "600"))
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        plan(finance, c, (TODAY, "400.01"))
    assert err.value.code == "plan_exceeds_contract"
    plan(finance, c, (TODAY, "400"))


def test_a_rep_may_not_keep_the_books(rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east))
    with nothing_changes(*WATCHED), pytest.raises(PermissionDenied):
        plan(rep_east, c, (TODAY, "100"))


def test_only_approved_payments_count_as_received(finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east))
    first, second = plan(finance, c, (TODAY, "600"), (TODAY + timedelta(days=30), "400"))
    p = payment(finance, c, "700", {first.pk: "600", second.pk: "100"}, approve=False)
    first.refresh_from_db()
    assert (first.received, first.outstanding) == (D("0"), D("600"))
    billing.payment_set_approval_status(payment=p, status=ApprovalStatus.APPROVED, by=None)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.received, first.outstanding, second.received, second.outstanding) == (
        D("600"), D("0"), D("100"), D("300"))  # fmt: skip


def test_over_matching_is_refused_and_nothing_is_written(finance, rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east))
    (i,) = plan(finance, c, (TODAY, "500"))
    payment(finance, c, "300", {i.pk: "300"}, approve=False)  # a pending claim counts against the room
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        payment(finance, c, "300", {i.pk: "201"})
    assert (err.value.field, err.value.code) == ("matches", "over_matched")
    with nothing_changes(*WATCHED), pytest.raises(ValidationError):
        payment(finance, c, "100", {i.pk: "150"})  # more than the payment itself
    payment(finance, c, "200", {i.pk: "200"})


def test_a_rejected_payment_frees_its_claim_and_counts_no_more(finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east))
    (i,) = plan(finance, c, (TODAY, "500"))
    p = payment(finance, c, "500", {i.pk: "500"})
    billing.payment_set_approval_status(payment=p, status=ApprovalStatus.REJECTED, by=None)
    i.refresh_from_db()
    assert (i.received, i.outstanding) == (D("0"), D("500"))
    payment(finance, c, "500", {i.pk: "500"})  # the room is free again


def test_locked_payments_are_not_edited_and_stale_versions_are_refused(
    finance, rep_east, nothing_changes
) -> None:
    c = contract(rep_east, customer(rep_east))
    (i,) = plan(finance, c, (TODAY, "500"))
    p = payment(finance, c, "100", {i.pk: "100"}, approve=False)
    billing.payment_update(payment_id=p.pk, version=p.version, data={"payer": "甲公司"}, by=finance)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        billing.payment_update(payment_id=p.pk, version=p.version, data={"payer": "乙公司"}, by=finance)
    assert err.value.code == "stale_version"
    p.refresh_from_db()
    billing.payment_set_approval_status(payment=p, status=ApprovalStatus.APPROVED, by=None)
    for attempt in (
        lambda: billing.payment_update(payment_id=p.pk, version=None, data={"amount": "50"}, by=finance),
        lambda: billing.payment_delete(payment_id=p.pk, by=finance),
    ):
        with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
            attempt()
        assert err.value.code == "locked"


def test_an_instalment_with_payments_is_not_deleted_nor_shrunk_below_them(
    finance, rep_east, nothing_changes
) -> None:
    c = contract(rep_east, customer(rep_east))
    (i,) = plan(finance, c, (TODAY, "500"))
    payment(finance, c, "300", {i.pk: "300"})
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        billing.instalment_delete(instalment_id=i.pk, by=finance)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError):
        billing.instalment_update(instalment_id=i.pk, version=i.version, data={"amount": "299"}, by=finance)
    i = billing.instalment_update(instalment_id=i.pk, version=i.version, data={"amount": "350"}, by=finance)
    assert (i.received, i.outstanding) == (D("300"), D("50"))


def test_payments_go_only_to_contracts_in_force(finance, rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), approve=False)
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        payment(finance, c, "100", {})


# --- handing contracts and orders over ------------------------------------------------------------


def test_a_contract_is_handed_over_with_its_payment_plan_not_the_payments(
    manager_east, rep_east, rep_east2, rep_west, finance, nothing_changes
) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    first, second = plan(finance, c, (TODAY, "400"), (TODAY + timedelta(days=30), "600"))
    paid = payment(finance, c, "400", {first.pk: "400"})
    for to_user, reason, field in ((None, "离职交接", "to_user"), (rep_east.pk, "离职交接", "to_user"),
                                   (999_999, "离职交接", "to_user"), (rep_east2.pk, " ", "reason")):  # fmt: skip
        with nothing_changes(*WATCHED), pytest.raises((ValidationError, NotFound)) as err:
            services.contract_transfer(contract_id=c.pk, version=None, to_user_id=to_user, reason=reason,
                                       by=manager_east)  # fmt: skip
        assert err.value.field == field
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        services.contract_transfer(contract_id=c.pk, version=c.version - 1, to_user_id=rep_east2.pk,
                                   reason="离职交接", by=manager_east)  # fmt: skip
    assert err.value.code == "stale_version"
    with nothing_changes(*WATCHED), pytest.raises(NotFound):  # rep_west does not see rep_east's contracts
        services.contract_transfer(contract_id=c.pk, version=None, to_user_id=rep_west.pk, reason="x",
                                   by=rep_west)  # fmt: skip
    moved = services.contract_transfer(contract_id=c.pk, version=c.version, to_user_id=rep_east2.pk,
                                       reason="离职交接", by=manager_east)  # fmt: skip
    assert (moved.owner, moved.department) == (rep_east2, rep_east2.department)
    for i in Instalment.objects.filter(contract=c):
        assert i.owner == rep_east2 and i.version == 2  # an edit begun before the handover will conflict
    paid.refresh_from_db()
    assert paid.owner == rep_east  # results already recorded stay the old owner's (targets count them)
    event = AuditEvent.objects.get(subject_type="contract", verb="transfer", subject_id=c.pk)
    assert event.changes["reason"] == [None, "离职交接"] and event.actor_id == manager_east.pk
    told = Notification.objects.get(recipient=rep_east2, kind="contract_transfer")
    assert c.number in told.title
    with pytest.raises(Conflict):  # the old owner's stale edit of an instalment
        billing.instalment_update(instalment_id=second.pk, version=second.version, data={"amount": "500"},
                                  by=finance)  # fmt: skip


def test_an_order_is_handed_over_with_its_shipments(
    manager_east, rep_east, rep_east2, rep_west, nothing_changes
) -> None:
    o = order(rep_east, customer(rep_east), ("伺服电机", "3650", "2"))
    services.shipment_create(order_id=o.pk, data={"carrier": "顺丰", "tracking_number": "SF100"},
                             lines={o.lines.get().pk: "1"}, by=rep_east)  # fmt: skip
    with nothing_changes(*WATCHED), pytest.raises(NotFound):  # not an order rep_west may see
        services.order_transfer(order_id=o.pk, version=None, to_user_id=rep_west.pk, reason="x", by=rep_west)
    o.refresh_from_db()  # shipping moved its status on
    moved = services.order_transfer(order_id=o.pk, version=o.version, to_user_id=rep_east2.pk, reason="调整客户分工",
                                    by=manager_east)  # fmt: skip
    assert moved.owner == rep_east2 and Shipment.objects.get(order=o).owner == rep_east2
    assert AuditEvent.objects.filter(subject_type="order", verb="transfer", subject_id=o.pk).exists()
    assert Notification.objects.filter(recipient=rep_east2, kind="order_transfer").count() == 1


# --- invoices ----------------------------------------------------------------------------------------


def test_invoices_check_the_tax_number_and_never_exceed_the_contract(
    finance, rep_east, nothing_changes
) -> None:
    from stdnum.cn import uscc

    c = contract(rep_east, customer(rep_east), amount="1000")
    body = "91330100MA2XXXXX0"
    good = body + uscc.calc_check_digit(body)
    data = {"contract": c.pk, "title": "杭州示例机械有限公司", "amount": "600", "kind": "special"}
    for bad, field in (({}, "tax_number"), ({"tax_number": good[:-1] + "Y"}, "tax_number"),
                       ({"tax_number": good, "amount": "1000.01"}, "amount")):  # fmt: skip
        with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
            billing.invoice_create(data={**data, **bad}, by=finance)
        assert err.value.field == field
    invoice = billing.invoice_create(data={**data, "tax_number": good}, by=finance, files=[("发票.pdf", PDF)])
    assert invoice.tax_amount == D("69.03")
    assert invoice.documents.get().kind == "invoice"
    with nothing_changes(*WATCHED), pytest.raises(ValidationError):
        billing.invoice_create(data={**data, "tax_number": good, "amount": "400.01"}, by=finance)
    billing.invoice_set_approval_status(invoice=invoice, status=ApprovalStatus.PENDING, by=None)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        billing.invoice_update(invoice_id=invoice.pk, version=None, data={"number": "12345678"}, by=finance)
    assert err.value.code == "locked"


def test_an_issued_invoice_is_voided_with_a_reason_and_frees_its_amount(
    finance, rep_east, nothing_changes
) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    data = {"contract": c.pk, "title": "杭州示例机械有限公司", "amount": "1000", "kind": "ordinary"}
    invoice = billing.invoice_create(data=data, by=finance)
    # Not issued yet: corrected by editing, not voided.
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        billing.invoice_void(invoice_id=invoice.pk, version=None, reason="抬头错误", by=finance)
    assert err.value.code == "invoice_not_issued"
    billing.invoice_set_approval_status(invoice=invoice, status=ApprovalStatus.APPROVED, by=None)
    invoice.refresh_from_db()
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:  # the contract is fully invoiced
        billing.invoice_create(data={**data, "amount": "1"}, by=finance)
    assert err.value.field == "amount"
    for reason, field in (("", "reason"), ("  ", "reason"), ("字" * 201, "reason")):
        with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
            billing.invoice_void(invoice_id=invoice.pk, version=invoice.version, reason=reason, by=finance)
        assert err.value.field == field
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:  # someone changed it meanwhile
        billing.invoice_void(
            invoice_id=invoice.pk, version=invoice.version - 1, reason="抬头错误", by=finance
        )
    assert err.value.code == "stale_version"
    voided = billing.invoice_void(
        invoice_id=invoice.pk, version=invoice.version, reason="抬头错误", by=finance
    )
    assert voided.is_voided and voided.voided_by == finance and voided.void_reason == "抬头错误"
    event = AuditEvent.objects.get(subject_type="invoice", verb="void", subject_id=invoice.pk)
    assert event.actor_id == finance.pk and event.customer_id == c.customer_id
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        billing.invoice_void(invoice_id=invoice.pk, version=None, reason="再次作废", by=finance)
    assert err.value.code == "invoice_voided"
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        billing.invoice_update(invoice_id=invoice.pk, version=None, data={"notes": "改"}, by=finance)
    assert err.value.code == "invoice_voided"
    # The corrected invoice can be issued: the voided one no longer counts towards the contract.
    assert billing.invoice_create(data={**data, "title": "杭州示例机械股份有限公司"}, by=finance).amount == D(
        "1000"
    )


def test_voiding_needs_the_invoice_permission(finance, rep_east, nothing_changes) -> None:
    c = contract(rep_east, customer(rep_east), amount="1000")
    invoice = billing.invoice_create(
        data={"contract": c.pk, "title": "杭州示例机械有限公司", "amount": "100", "kind": "ordinary"},
        by=finance,
    )
    billing.invoice_set_approval_status(invoice=invoice, status=ApprovalStatus.APPROVED, by=None)
    with nothing_changes(*WATCHED), pytest.raises(PermissionDenied):
        billing.invoice_void(invoice_id=invoice.pk, version=None, reason="抬头错误", by=rep_east)


# --- orders and shipments ----------------------------------------------------------------------------


def test_an_order_copies_the_catalogue_product_and_adds_up(rep_east) -> None:
    from kehu.catalog.models import Product

    p = Product.objects.create(code="P1", name="伺服电机", model="SM-750", unit="台", price=D("3650"))
    o = services.order_create(
        data={"customer": customer(rep_east).pk, "promised_ship_on": TODAY + timedelta(days=10)},
        lines=[
            {"product": p.pk, "quantity": "2"},
            {"product_name": "安装服务", "unit_price": "800", "quantity": "1"},
        ],
        by=rep_east,
    )
    first, second = o.lines.order_by("position")
    assert (first.product_name, first.model, first.unit_price, first.total) == (
        "伺服电机",
        "SM-750",
        D("3650"),
        D("7300"),
    )
    assert (second.total, o.total_amount, o.status) == (D("800"), D("8100"), OrderStatus.CONFIRMED)


def test_an_order_keeps_its_cost_only_when_every_line_has_one(rep_east) -> None:
    from kehu.catalog.models import Product

    motor = Product.objects.create(code="P2", name="伺服电机", price=D("3650"), cost=D("2100.50"))
    sensor = Product.objects.create(code="P3", name="传感器", price=D("420"), cost=D("180"))
    unknown = Product.objects.create(code="P4", name="备件包", price=D("1900"))  # cost 0: not recorded
    known = services.order_create(
        data={"customer": customer(rep_east).pk},
        lines=[{"product": motor.pk, "quantity": "2"}, {"product": sensor.pk, "quantity": "3"}],
        by=rep_east,
    )
    assert (known.cost_amount, known.gross_margin) == (D("4741.00"), D("8560.00") - D("4741.00"))
    assert [line.unit_cost for line in known.lines.order_by("position")] == [D("2100.50"), D("180")]
    # A later catalogue cost change does not rewrite the ledger; editing the lines recomputes.
    Product.objects.filter(pk=motor.pk).update(cost=D("9999"))
    known.refresh_from_db()
    assert known.cost_amount == D("4741.00")
    partly = services.order_update(
        order_id=known.pk, version=known.version, data={},
        lines=[{"product": motor.pk, "quantity": "1"}, {"product": unknown.pk, "quantity": "1"}], by=rep_east,
    )  # fmt: skip
    partly.refresh_from_db()
    assert partly.cost_amount is None and partly.gross_margin is None
    free_text = services.order_create(
        data={"customer": customer(rep_east).pk},
        lines=[{"product_name": "安装服务", "unit_price": "800", "quantity": "1"}],
        by=rep_east,
    )
    assert free_text.cost_amount is None


def test_shipping_moves_the_order_through_to_delivered(rep_east, nothing_changes) -> None:
    o = order(rep_east, customer(rep_east), ("控制器", "100", "5"), ("传感器", "10", "2"))
    a, b = o.lines.order_by("position")
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        services.shipment_create(order_id=o.pk, data={}, lines={a.pk: "5.01"}, by=rep_east)
    assert (err.value.field, err.value.code) == ("lines", "over_shipped")
    s1 = services.shipment_create(order_id=o.pk, data={"carrier": "顺丰速运"}, lines={a.pk: "5"}, by=rep_east)
    assert Order.objects.get(pk=o.pk).status == OrderStatus.PARTLY_SHIPPED
    with nothing_changes(*WATCHED), pytest.raises(ValidationError):
        services.shipment_create(order_id=o.pk, data={}, lines={a.pk: "1"}, by=rep_east)  # nothing left of a
    s2 = services.shipment_create(
        order_id=o.pk, data={}, lines={b.pk: "2"}, by=rep_east, files=[("签收单.pdf", PDF)]
    )
    assert Order.objects.get(pk=o.pk).status == OrderStatus.SHIPPED
    services.shipment_deliver(shipment_id=s1.pk, by=rep_east)
    assert Order.objects.get(pk=o.pk).status == OrderStatus.SHIPPED
    services.shipment_deliver(shipment_id=s2.pk, by=rep_east)
    assert Order.objects.get(pk=o.pk).status == OrderStatus.DELIVERED
    assert OrderDocument.objects.get(shipment=s2).kind == "shipment"
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        services.order_cancel(order_id=o.pk, version=None, reason="不要了", by=rep_east)


def test_an_order_edit_on_a_stale_version_is_refused(rep_east, nothing_changes) -> None:
    o = order(rep_east, customer(rep_east), ("控制器", "100", "5"))
    services.order_start_production(order_id=o.pk, version=o.version, by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as err:
        services.order_update(order_id=o.pk, version=o.version, data={"notes": "x"}, by=rep_east)
    assert err.value.code == "stale_version"


def test_an_order_needs_lines_and_a_contract_of_the_same_customer(rep_east, nothing_changes) -> None:
    cust, other = customer(rep_east), customer(rep_east, "另一家公司")
    c = contract(rep_east, other)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        services.order_create(data={"customer": cust.pk}, lines=[], by=rep_east)
    assert err.value.field == "lines"
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as err:
        order(rep_east, cust, ("控制器", "100", "1"), contract=c.pk)
    assert err.value.field == "contract"


# --- the periodic reminders --------------------------------------------------------------------------


def test_late_orders_are_reported_to_their_owner_once(rep_east) -> None:
    o = order(rep_east, customer(rep_east), ("控制器", "100", "1"), order_date=TODAY - timedelta(days=20),
              promised_ship_on=TODAY - timedelta(days=2))  # fmt: skip
    order(
        rep_east,
        customer(rep_east, "按期公司"),
        ("控制器", "100", "1"),
        promised_ship_on=TODAY + timedelta(days=2),
    )
    assert services.late_orders_notify() == 1
    assert services.late_orders_notify() == 0
    notice = Notification.objects.get(recipient=rep_east, kind="order_late")
    assert o.number in notice.title and "2 天" in notice.title


def test_owners_hear_of_instalments_coming_due_and_overdue(finance, rep_east) -> None:
    c = contract(rep_east, customer(rep_east))
    plan(finance, c, (TODAY + timedelta(days=5), "100"), (TODAY - timedelta(days=1), "100"),
         (TODAY + timedelta(days=30), "100"))  # fmt: skip
    assert billing.instalment_reminders_notify() == 2
    assert billing.instalment_reminders_notify() == 0
    assert set(Notification.objects.filter(recipient=rep_east).values_list("kind", flat=True)) == {
        "instalment_due", "instalment_overdue"}  # fmt: skip


def test_the_approval_contract_functions(finance, rep_east) -> None:
    from kehu.orders import approval

    c = contract(rep_east, customer(rep_east), approve=False)
    doc = approval.load_contract(rep_east, c.pk)
    described = approval.describe_contract(doc)
    assert (described["amount"], described["owner"], described["customer_id"]) == (
        D("100000"),
        rep_east,
        c.customer_id,
    )
    assert described["url"].endswith(f"/contracts/{c.pk}/")
    approval.on_contract_status(doc, ApprovalStatus.APPROVED, None)
    assert Contract.objects.get(pk=c.pk).status == ContractStatus.IN_FORCE
    (i,) = plan(finance, c, (TODAY, "100"))
    p = payment(finance, c, "100", {i.pk: "100"}, approve=False)
    approval.on_payment_status(approval.load_payment(finance, p.pk), ApprovalStatus.APPROVED, None)
    assert Instalment.objects.get(pk=i.pk).received == Decimal("100")
    with pytest.raises(NotFound):
        approval.load_payment(rep_east.__class__.objects.get(username="rep_west"), p.pk)


def test_a_contract_is_drawn_up_from_an_accepted_quote_only(cast: SimpleNamespace) -> None:
    from kehu.catalog.services import product_create
    from kehu.sales.quotes import services as quote_services

    from .factories import customer as make_customer

    c = make_customer(cast.rep_east)
    product = product_create(data={"code": "Q-1", "name": "伺服电机", "price": "1000"}, by=cast.admin)
    quote = quote_services.quote_create(
        customer_id=c.pk, data={"title": "二期伺服电机报价"}, by=cast.rep_east
    )
    quote_services.quote_line_add(
        quote_id=quote.pk, data={"product": product.pk, "quantity": "3"}, by=cast.rep_east
    )
    data = {
        "customer": c.pk,
        "title": "伺服电机采购合同",
        "our_party": "本公司",
        "amount": "3000",
        "quote": quote.pk,
    }
    with pytest.raises(ValidationError) as caught:
        services.contract_create(data=data, by=cast.rep_east)
    assert caught.value.field == "quote"
    quote_services.quote_send(quote_id=quote.pk, by=cast.rep_east)
    quote_services.quote_accept(quote_id=quote.pk, by=cast.rep_east)
    contract = services.contract_create(data=data, by=cast.rep_east)
    assert contract.quote_id == quote.pk
