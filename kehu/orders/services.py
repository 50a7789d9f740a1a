"""Writes of contracts, orders and shipments (SAL-6, SAL-7). Invoices, payment plans and payments are
in ``billing.py``. Every service opens with ``require`` and ends with an audit event; bad input
raises before anything is written (or inside the transaction, which rolls back)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.approvals.choices import LOCKED, ApprovalStatus
from kehu.catalog.models import Product
from kehu.core.errors import Conflict, NotFound, ValidationError
from kehu.core.events import diff, emit
from kehu.core.sequences import next_values
from kehu.customers.extensions import reassign
from kehu.customers.selectors import customer_get
from kehu.sales.choices import OpportunityStatus
from kehu.sales.quotes.choices import QuoteStatus
from kehu.sales.quotes.selectors import quote_get
from kehu.sales.selectors import opportunity_get

from . import documents, validation
from .choices import (
    CONTRACT_TRANSITIONS,
    ORDER_TRANSITIONS,
    RECEIVABLE_CONTRACT_STATUSES,
    SHIPPABLE_ORDER_STATUSES,
    UNSHIPPED_ORDER_STATUSES,
    ContractStatus,
    DocumentKind,
    OrderStatus,
)
from .events import ContractChanged, OrderChanged
from .models import (
    Contract,
    Instalment,
    Invoice,
    Order,
    OrderDocument,
    OrderLine,
    PaymentRecord,
    Shipment,
    ShipmentLine,
)
from .rules import line_total, money, order_status_after_shipping, quantity

CONTRACT_FIELDS = frozenset({
    "title", "customer", "opportunity", "quote", "our_party", "their_party", "our_signatory", "their_signatory", "amount",
    "currency", "signed_on", "starts_on", "ends_on", "payment_terms", "terms",
})  # fmt: skip
ORDER_FIELDS = frozenset({"customer", "contract", "order_date", "promised_ship_on", "currency", "notes"})
LINE_FIELDS = frozenset({"product", "product_name", "model", "unit", "unit_price", "quantity", "notes"})
SHIPMENT_FIELDS = frozenset({"carrier", "tracking_number", "shipped_at", "notes"})


def locked_error(label: Any) -> Conflict:
    """The approval contract: a document under review or approved is not edited."""
    return Conflict(
        _("%(doc)s已提交审批或已通过审批，不能修改"), field="approval_status", code="locked",
        params={"doc": label},
    )  # fmt: skip


# --- contracts (SAL-6) ---------------------------------------------------------------------------------


def _contract_event(by: User | None, verb: str, c: Contract, changes: dict[str, Any] | None = None) -> Any:
    return ContractChanged(
        actor_id=by.pk if by else None, verb=verb, subject_type="contract", subject_id=c.pk,
        subject_label=f"{c.number} {c.title}"[:200], customer_id=c.customer_id, changes=changes or {},
    )  # fmt: skip


def _contract_snapshot(c: Contract) -> dict[str, Any]:
    return {
        "title": c.title, "opportunity": c.opportunity_id, "quote": c.quote_id, "our_party": c.our_party, "their_party": c.their_party,
        "our_signatory": c.our_signatory, "their_signatory": c.their_signatory,
        "amount": f"{c.amount} {c.currency}", "signed_on": c.signed_on, "starts_on": c.starts_on,
        "ends_on": c.ends_on, "payment_terms": c.payment_terms, "terms": c.terms, "status": c.status,
        "approval_status": c.approval_status, "end_reason": c.end_reason,
    }  # fmt: skip


def _clean_contract(data: dict[str, Any], *, by: User, current: Contract | None = None) -> dict[str, Any]:
    validation.only(data, CONTRACT_FIELDS)
    merged = {**(_contract_values(current) if current else {}), **data}
    out: dict[str, Any] = {}
    if current is None:
        customer = customer_get(
            actor=by, customer_id=validation.ident(merged, "customer", required=True) or 0
        )
        out["customer"] = customer
    else:
        if "customer" in data and validation.ident(data, "customer") != current.customer_id:
            raise ValidationError(_("合同的客户不能更改"), field="customer")
        customer = current.customer
    out["title"] = validation.text(merged, "title", max_length=200, required=True, label=_("合同名称"))
    opp_id = validation.ident(merged, "opportunity")
    out["opportunity"] = None
    if opp_id:
        opp = opportunity_get(actor=by, opportunity_id=opp_id)
        if opp.customer_id != customer.pk:
            raise ValidationError(_("商机不属于该客户"), field="opportunity")
        if opp.status != OpportunityStatus.WON and (current is None or current.opportunity_id != opp.pk):
            raise ValidationError(_("只能从已赢单的商机创建合同"), field="opportunity")
        out["opportunity"] = opp
    quote_id = validation.ident(merged, "quote")
    out["quote"] = None
    if quote_id:
        quote = quote_get(actor=by, quote_id=quote_id)
        if quote.customer_id != customer.pk:
            raise ValidationError(_("报价单不属于该客户"), field="quote")
        if quote.status != QuoteStatus.ACCEPTED and (current is None or current.quote_id != quote.pk):
            raise ValidationError(_("只能从客户已接受的报价单创建合同"), field="quote")
        out["quote"] = quote
        source = quote.opportunity
        if out["opportunity"] is None and source is not None and source.status == OpportunityStatus.WON:
            out["opportunity"] = source
    out["our_party"] = validation.text(merged, "our_party", max_length=200, required=True, label=_("我方"))
    out["their_party"] = validation.text(merged, "their_party", max_length=200) or customer.name[:200]
    out["our_signatory"] = validation.text(merged, "our_signatory", max_length=60)
    out["their_signatory"] = validation.text(merged, "their_signatory", max_length=60)
    out["amount"] = money(merged.get("amount"), field="amount", allow_zero=False)
    out["currency"] = validation.currency(merged)
    for key in ("signed_on", "starts_on", "ends_on"):
        out[key] = validation.day(merged, key)
    if out["starts_on"] and out["ends_on"] and out["ends_on"] < out["starts_on"]:
        raise ValidationError(_("结束日期不能早于开始日期"), field="ends_on")
    out["payment_terms"] = validation.text(merged, "payment_terms", max_length=4000)
    out["terms"] = validation.text(merged, "terms", max_length=20000)
    if current is not None and out["amount"] < _planned(current):
        raise ValidationError(
            _("合同金额不能小于回款计划合计 %(n)s"), field="amount", params={"n": _planned(current)}
        )
    return out


def _contract_values(c: Contract) -> dict[str, Any]:
    return {
        k: getattr(c, k + "_id" if k in ("customer", "opportunity", "quote") else k) for k in CONTRACT_FIELDS
    }


def _planned(c: Contract) -> Decimal:
    return Instalment.objects.filter(contract=c).aggregate(s=Sum("amount"))["s"] or Decimal("0")


def contract_for(*, contract_id: int, by: User) -> Contract:
    """The contract if ``by`` sees it (else NotFound: it never says the contract exists)."""
    c = Contract.objects.visible_to(by).select_related("customer").filter(pk=contract_id).first()
    if c is None:
        raise NotFound(_("合同不存在或您无权查看"), field="contract")
    return c


@transaction.atomic
def contract_create(*, data: dict[str, Any], by: User) -> Contract:
    """Draw up a contract for a customer the actor sees (SAL-6), optionally from a won opportunity;
    it starts as a draft, not yet submitted for approval. The owner is the actor."""
    require(by, Perm.CONTRACT_EDIT)
    cleaned = _clean_contract(data, by=by)
    (n,) = next_values("contract")
    c = Contract.objects.create(
        number=f"HT{timezone.localdate():%Y}{n:06d}",
        owner=by,
        department=by.department,
        created_by=by,
        **cleaned,
    )
    emit(_contract_event(by, "create", c, diff({}, _contract_snapshot(c))))
    return c


@transaction.atomic
def contract_update(*, contract_id: int, version: int | None, data: dict[str, Any], by: User) -> Contract:
    """Correct a draft contract; a submitted or approved one is locked, a stale version refused."""
    require(by, Perm.CONTRACT_EDIT)
    c = contract_for(contract_id=contract_id, by=by)
    if c.approval_status in LOCKED:
        raise locked_error(_("合同"))
    if c.status != ContractStatus.DRAFT:
        raise Conflict(_("只有草稿状态的合同可以修改"), field="status", code="invalid_transition")
    cleaned = _clean_contract(data, by=by, current=c)
    before = _contract_snapshot(c)
    for key, value in cleaned.items():
        setattr(c, key, value)
    c.save_versioned(expected_version=version, fields=[k for k in cleaned if k != "customer"])
    changes = diff(before, _contract_snapshot(c))
    if changes:
        emit(_contract_event(by, "update", c, changes))
    return c


def _contract_move(
    c: Contract, verb: str, *, version: int | None, by: User | None, reason: str = ""
) -> Contract:
    sources, target = CONTRACT_TRANSITIONS[verb]
    if c.status not in sources:
        raise Conflict(
            _("合同当前为“%(s)s”，不能执行该操作"), field="status", code="invalid_transition",
            params={"s": c.get_status_display()},
        )  # fmt: skip
    before = _contract_snapshot(c)
    c.status = target
    fields = ["status"]
    if verb == "terminate":
        if not reason.strip():
            raise ValidationError(_("请说明终止原因"), field="reason")
        c.end_reason = reason.strip()[:4000]
        fields.append("end_reason")
    c.save_versioned(expected_version=version, fields=fields)
    # Instalments are money owed only while the contract is in force or completed.
    Instalment.objects.filter(contract=c).update(receivable=c.status in RECEIVABLE_CONTRACT_STATUSES)
    emit(_contract_event(by, verb, c, diff(before, _contract_snapshot(c))))
    return c


def _transfer_checks(current_owner_id: int, to_user_id: Any, reason: str) -> tuple[User, str]:
    from kehu.access.selectors import user_get_active

    if to_user_id in (None, ""):
        raise ValidationError(_("请选择新负责人"), field="to_user")
    new_owner = user_get_active(user_id=to_user_id, field="to_user")
    if new_owner.pk == current_owner_id:
        raise ValidationError(_("新负责人与当前负责人相同"), field="to_user")
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError(_("转移必须填写原因"), field="reason")
    if len(reason) > 200:
        raise ValidationError(_("转移原因不能超过 200 个字"), field="reason")
    return new_owner, reason


def _tell_new_owner(new_owner: User, by: User, *, kind: str, key: str, title: Any, url: str) -> None:
    from kehu.notifications.services import notify_handover

    notify_handover(recipient=new_owner, by=by, kind=kind, key=key, title=title, url=url)


@transaction.atomic
def contract_transfer(
    *, contract_id: int, version: int | None, to_user_id: Any, reason: str, by: User
) -> Contract:
    """Hand a contract to another active user (转移负责人, SAL-6): a rep leaves, accounts are split anew.
    Its department follows the new owner's, so receivables and forecasts by department count it where it
    is worked now, and so does its payment plan: the new owner chases the open instalments. Payments and
    invoices already recorded stay with the owner they were credited to — that person's results (targets
    count them by owner) — and stay visible to them and their managers. The reason is required and
    audited; the new owner is told. Approval does not lock the owner: it is not a term of the contract."""
    require(by, Perm.CONTRACT_EDIT)
    c = contract_for(contract_id=contract_id, by=by)
    new_owner, reason = _transfer_checks(c.owner_id, to_user_id, reason)
    before = c.owner.label
    c.owner, c.department = new_owner, new_owner.department
    c.save_versioned(expected_version=version, fields=["owner", "department"])
    # The plan's rows are versioned too: an edit begun before the handover meets a conflict, not a
    # silent overwrite of the new owner.
    Instalment.objects.filter(contract=c).update(
        owner=new_owner, department=new_owner.department, version=F("version") + 1, updated_at=timezone.now()
    )
    OrderDocument.objects.filter(contract=c, invoice__isnull=True, payment__isnull=True).update(
        owner=new_owner
    )
    emit(_contract_event(by, "transfer", c, {"owner": [before, new_owner.label], "reason": [None, reason]}))
    _tell_new_owner(
        new_owner, by, kind="contract_transfer", key=f"contract-transfer:{c.pk}:{c.version}",
        title=_("%(by)s 把合同 %(n)s 转给了您") % {"by": by.label, "n": c.number},
        url=reverse("orders:contract_detail", args=[c.pk]),
    )  # fmt: skip
    return c


@transaction.atomic
def contract_put_in_force(*, contract_id: int, version: int | None, by: User) -> Contract:
    """草稿 → 执行中, only once the contract's approval has passed (the approval contract)."""
    require(by, Perm.CONTRACT_EDIT)
    c = contract_for(contract_id=contract_id, by=by)
    if c.approval_status != ApprovalStatus.APPROVED:
        raise Conflict(_("合同审批通过后才能生效"), field="approval_status", code="not_approved")
    return _contract_move(c, "put_in_force", version=version, by=by)


@transaction.atomic
def contract_complete(*, contract_id: int, version: int | None, by: User) -> Contract:
    """执行中 → 已完成: both sides did what they promised; unpaid instalments stay receivable."""
    require(by, Perm.CONTRACT_EDIT)
    return _contract_move(contract_for(contract_id=contract_id, by=by), "complete", version=version, by=by)


@transaction.atomic
def contract_terminate(*, contract_id: int, version: int | None, reason: str, by: User) -> Contract:
    """草稿/执行中 → 已终止, with the reason; its open instalments stop counting as receivable."""
    require(by, Perm.CONTRACT_EDIT)
    c = contract_for(contract_id=contract_id, by=by)
    return _contract_move(c, "terminate", version=version, by=by, reason=reason or "")


@transaction.atomic
def contract_set_approval_status(*, contract: Contract, status: str, by: User | None) -> Contract:
    """Called by the approvals engine after its own checks (no ``require``): stores the status; an
    approved draft is put in force at once (the follow-up the approval was for)."""
    if status not in ApprovalStatus.values:
        raise ValidationError(_("审批状态无效"), field="approval_status")
    c = Contract.objects.select_for_update().get(pk=contract.pk)
    before = c.approval_status
    c.approval_status = status
    c.save_versioned(expected_version=None, fields=["approval_status"])
    emit(_contract_event(by, "approval", c, {"approval_status": [before, status]}))
    if status == ApprovalStatus.APPROVED and c.status == ContractStatus.DRAFT:
        _contract_move(c, "put_in_force", version=None, by=by)
    contract.approval_status, contract.status, contract.version = c.approval_status, c.status, c.version
    return c


@transaction.atomic
def contract_attachment_add(*, contract_id: int, name: str, data: bytes, by: User) -> OrderDocument:
    """Attach a file to a contract (the signed scan, annexes). Adding stays possible on an approved
    contract — the signed copy arrives after approval — removing does not."""
    require(by, Perm.CONTRACT_EDIT)
    c = contract_for(contract_id=contract_id, by=by)
    doc = documents.store(
        kind=DocumentKind.CONTRACT, name=name, data=data, by=by, customer_id=c.customer_id, owner_id=c.owner_id,
        number=c.number, on=c.signed_on or timezone.localdate(), contract=c,
    )  # fmt: skip
    emit(_contract_event(by, "attachment_add", c, {"attachment": [None, doc.name]}))
    return doc


@transaction.atomic
def document_remove(*, document_id: int, by: User) -> None:
    """Remove a file; refused while its document is locked by approval (or the shipment signed for)."""
    from .models import OrderDocument as Doc

    require(by, Perm.ORDER_VIEW)
    doc = (
        Doc.objects.visible_to(by)
        .select_related("contract", "invoice", "payment")
        .filter(pk=document_id)
        .first()
    )
    if doc is None:
        raise NotFound(_("单据不存在或您无权查看"), field="id")
    perm = {
        DocumentKind.CONTRACT: Perm.CONTRACT_EDIT, DocumentKind.SHIPMENT: Perm.ORDER_EDIT,
        DocumentKind.INVOICE: Perm.INVOICE_EDIT, DocumentKind.PAYMENT: Perm.PAYMENT_EDIT,
    }[DocumentKind(doc.kind)]  # fmt: skip
    require(by, perm)
    parent = doc.contract or doc.invoice or doc.payment
    if parent is not None and parent.approval_status in LOCKED:
        raise locked_error(parent._meta.verbose_name)
    name, kind = doc.name, doc.kind
    subject = doc.contract_id or doc.shipment_id or doc.invoice_id or doc.payment_id
    customer_id = doc.customer_id
    documents.discard(doc)
    emit(
        ContractChanged(
            actor_id=by.pk, verb="attachment_remove", subject_type=kind, subject_id=subject,
            subject_label=name[:200], customer_id=customer_id, changes={"attachment": [name, None]},
        )
    )  # fmt: skip


# --- orders (SAL-6) ------------------------------------------------------------------------------------


def _order_event(by: User | None, verb: str, o: Order, changes: dict[str, Any] | None = None) -> Any:
    return OrderChanged(
        actor_id=by.pk if by else None, verb=verb, subject_type="order", subject_id=o.pk,
        subject_label=f"{o.number} {o.total_amount} {o.currency}"[:200], customer_id=o.customer_id,
        changes=changes or {},
    )  # fmt: skip


def _order_snapshot(o: Order) -> dict[str, Any]:
    return {
        "contract": o.contract_id, "order_date": o.order_date, "promised_ship_on": o.promised_ship_on,
        "status": o.status, "total_amount": f"{o.total_amount} {o.currency}", "notes": o.notes,
        "cancel_reason": o.cancel_reason,
    }  # fmt: skip


def order_for(*, order_id: int, by: User) -> Order:
    o = Order.objects.visible_to(by).select_related("customer").filter(pk=order_id).first()
    if o is None:
        raise NotFound(_("订单不存在或您无权查看"), field="order")
    return o


@transaction.atomic
def order_transfer(*, order_id: int, version: int | None, to_user_id: Any, reason: str, by: User) -> Order:
    """Hand an order to another active user (转移负责人, SAL-6), with its shipments and their delivery
    notes: the new owner follows the order through to delivery. Its department follows the new owner's.
    Invoices already registered stay with the owner they were credited to. Reason required, audited, the new
    owner told."""
    require(by, Perm.ORDER_EDIT)
    o = order_for(order_id=order_id, by=by)
    new_owner, reason = _transfer_checks(o.owner_id, to_user_id, reason)
    before = o.owner.label
    o.owner, o.department = new_owner, new_owner.department
    o.save_versioned(expected_version=version, fields=["owner", "department"])
    Shipment.objects.filter(order=o).update(owner=new_owner)
    OrderDocument.objects.filter(shipment__order=o).update(owner=new_owner)
    emit(_order_event(by, "transfer", o, {"owner": [before, new_owner.label], "reason": [None, reason]}))
    _tell_new_owner(
        new_owner, by, kind="order_transfer", key=f"order-transfer:{o.pk}:{o.version}",
        title=_("%(by)s 把订单 %(n)s 转给了您") % {"by": by.label, "n": o.number},
        url=reverse("orders:order_detail", args=[o.pk]),
    )  # fmt: skip
    return o


def _clean_lines(lines: Sequence[dict[str, Any]], *, by: User) -> list[dict[str, Any]]:
    """Order lines: a catalogue product (name, model, unit and list price copied) or a free-text
    product name; unit price × quantity = total."""
    if not lines:
        raise ValidationError(_("订单至少要有一行明细"), field="lines")
    product_ids = {validation.ident(line, "product") for line in lines} - {None}
    products = {p.pk: p for p in Product.objects.visible_to(by).filter(pk__in=product_ids)}
    out = []
    for i, line in enumerate(lines, 1):
        validation.only(line, LINE_FIELDS)
        pid = validation.ident(line, "product")
        product = products.get(pid) if pid else None
        if pid and product is None:
            raise ValidationError(_("第 %(n)s 行：产品不存在"), field="lines", params={"n": i})
        name = validation.text(line, "product_name", max_length=120) or (product.name if product else "")
        if not name:
            raise ValidationError(_("第 %(n)s 行：请选择产品或填写产品名称"), field="lines", params={"n": i})
        price_raw = line.get("unit_price")
        unit_price = money(price_raw if price_raw not in (None, "") else (product.price if product else None),
                           field="lines")  # fmt: skip
        qty = quantity(line.get("quantity"), field="lines")
        out.append({
            "position": i, "product": product, "product_name": name,
            "model": validation.text(line, "model", max_length=80) or (product.model if product else ""),
            "unit": validation.text(line, "unit", max_length=20) or (product.unit if product else ""),
            "unit_price": unit_price, "quantity": qty, "total": line_total(unit_price, qty),
            "unit_cost": product.cost if product and product.cost > 0 else None,  # 0 = not recorded
            "notes": validation.text(line, "notes", max_length=200),
        })  # fmt: skip
    return out


def _clean_order(data: dict[str, Any], *, by: User, current: Order | None = None) -> dict[str, Any]:
    validation.only(data, ORDER_FIELDS)
    merged = {
        **({k: getattr(current, k + "_id" if k in ("customer", "contract") else k) for k in ORDER_FIELDS}
           if current else {}),
        **data,
    }  # fmt: skip
    out: dict[str, Any] = {}
    if current is None:
        out["customer"] = customer_get(
            actor=by, customer_id=validation.ident(merged, "customer", required=True) or 0
        )
    elif "customer" in data and validation.ident(data, "customer") != current.customer_id:
        raise ValidationError(_("订单的客户不能更改"), field="customer")
    customer_id = out["customer"].pk if current is None else current.customer_id
    contract_id = validation.ident(merged, "contract")
    out["contract"] = None
    if contract_id:
        contract = Contract.objects.visible_to(by).filter(pk=contract_id).first()
        if contract is None:
            raise ValidationError(_("合同不存在或您无权查看"), field="contract")
        if contract.customer_id != customer_id:
            raise ValidationError(_("合同不属于该客户"), field="contract")
        if contract.status == ContractStatus.TERMINATED:
            raise ValidationError(_("合同已终止，不能再下订单"), field="contract")
        out["contract"] = contract
    out["order_date"] = validation.day(merged, "order_date") or timezone.localdate()
    out["promised_ship_on"] = validation.day(merged, "promised_ship_on")
    if out["promised_ship_on"] and out["promised_ship_on"] < out["order_date"]:
        raise ValidationError(_("承诺发货日期不能早于下单日期"), field="promised_ship_on")
    out["currency"] = validation.currency(merged)
    out["notes"] = validation.text(merged, "notes", max_length=4000)
    return out


def _write_lines(order: Order, lines: list[dict[str, Any]]) -> None:
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.bulk_create([OrderLine(order=order, **line) for line in lines])
    _set_totals(order, lines)


def _set_totals(order: Order, lines: list[dict[str, Any]]) -> None:
    order.total_amount = sum((line["total"] for line in lines), Decimal("0"))
    costs = [line["unit_cost"] for line in lines]
    order.cost_amount = (
        None if any(c is None for c in costs) else
        sum((line_total(c, line["quantity"]) for c, line in zip(costs, lines, strict=True)), Decimal("0"))
    )  # fmt: skip


@transaction.atomic
def order_create(*, data: dict[str, Any], lines: Sequence[dict[str, Any]], by: User) -> Order:
    """Record an order in the customer's business ledger (SAL-6): confirmed, with its lines and total;
    optionally under a contract of the same customer. A customer's first orders also feed the CUS-2
    figures (tenure, revenue) through ``selectors.customer_order_stats``."""
    require(by, Perm.ORDER_EDIT)
    cleaned = _clean_order(data, by=by)
    clean_lines = _clean_lines(lines, by=by)
    (n,) = next_values("order")
    order = Order.objects.create(
        number=f"DD{timezone.localdate():%Y}{n:06d}",
        owner=by,
        department=by.department,
        created_by=by,
        **cleaned,
    )
    _write_lines(order, clean_lines)
    order.save(update_fields=["total_amount", "cost_amount"])
    emit(_order_event(by, "create", order, diff({}, _order_snapshot(order))))
    _customer_follows(order)
    return order


@transaction.atomic
def order_update(
    *, order_id: int, version: int | None, data: dict[str, Any], lines: Sequence[dict[str, Any]] | None = None,
    by: User,
) -> Order:  # fmt: skip
    """Correct an order before anything of it has shipped; ``lines`` (when given) replace its lines."""
    require(by, Perm.ORDER_EDIT)
    order = order_for(order_id=order_id, by=by)
    if order.status not in (OrderStatus.CONFIRMED, OrderStatus.IN_PRODUCTION):
        raise Conflict(_("订单已发货或已取消，不能修改"), field="status", code="invalid_transition")
    cleaned = _clean_order(data, by=by, current=order)
    clean_lines = _clean_lines(lines, by=by) if lines is not None else None
    before = _order_snapshot(order)
    for key, value in cleaned.items():
        setattr(order, key, value)
    fields = list(cleaned)
    if clean_lines is not None:
        fields += ["total_amount", "cost_amount"]
        _set_totals(order, clean_lines)
    order.save_versioned(expected_version=version, fields=fields)
    if clean_lines is not None:
        _write_lines(order, clean_lines)
    changes = diff(before, _order_snapshot(order))
    if changes or clean_lines is not None:
        emit(_order_event(by, "update", order, changes))
    _customer_follows(order)
    return order


def _customer_follows(order: Order) -> None:
    """The customer's CUS-2 classes follow its orders (first order, 12-month revenue, last order)."""
    from .classification import customer_facts_refresh

    customer_facts_refresh(customer_ids=[order.customer_id])


def _order_move(order: Order, verb: str, *, version: int | None, by: User, reason: str = "") -> Order:
    sources, target = ORDER_TRANSITIONS[verb]
    if order.status not in sources:
        raise Conflict(
            _("订单当前为“%(s)s”，不能执行该操作"), field="status", code="invalid_transition",
            params={"s": order.get_status_display()},
        )  # fmt: skip
    before = _order_snapshot(order)
    order.status = target
    fields = ["status"]
    if verb == "cancel":
        if not reason.strip():
            raise ValidationError(_("请说明取消原因"), field="reason")
        order.cancel_reason = reason.strip()[:4000]
        fields.append("cancel_reason")
    order.save_versioned(expected_version=version, fields=fields)
    emit(_order_event(by, verb, order, diff(before, _order_snapshot(order))))
    _customer_follows(order)
    return order


@transaction.atomic
def order_start_production(*, order_id: int, version: int | None, by: User) -> Order:
    """已确认 → 生产中."""
    require(by, Perm.ORDER_EDIT)
    return _order_move(order_for(order_id=order_id, by=by), "start_production", version=version, by=by)


@transaction.atomic
def order_cancel(*, order_id: int, version: int | None, reason: str, by: User) -> Order:
    """Call off an order nothing of which has shipped, with the reason."""
    require(by, Perm.ORDER_EDIT)
    return _order_move(
        order_for(order_id=order_id, by=by), "cancel", version=version, by=by, reason=reason or ""
    )


# --- shipments (SAL-7) ---------------------------------------------------------------------------------


def _refresh_progress(order: Order, *, by: User, verb: str, changes: dict[str, Any]) -> None:
    """The order's progress follows its shipments (部分发货 / 已发货 / 已签收)."""
    rows = list(OrderLine.objects.filter(order=order).values_list("quantity", "shipped_quantity"))
    all_delivered = not Shipment.objects.filter(order=order, delivered_at__isnull=True).exists()
    status = order_status_after_shipping(order.status, rows, all_delivered)
    before = order.status
    if status != before:
        order.status = status
        order.save_versioned(expected_version=None, fields=["status"])
        changes = {**changes, "status": [before, status]}
    emit(_order_event(by, verb, order, changes))


@transaction.atomic
def shipment_create(
    *, order_id: int, data: dict[str, Any], lines: dict[int, Any], by: User,
    files: Sequence[tuple[str, bytes]] = (),
) -> Shipment:  # fmt: skip
    """Ship (part of) an order: a quantity per order line, never more than is left of it; the order's
    progress moves to 部分发货 or 已发货. ``files`` are proofs (签收单) kept with the shipment."""
    require(by, Perm.ORDER_EDIT)
    order = Order.objects.select_for_update().filter(pk=order_for(order_id=order_id, by=by).pk).get()
    if order.status not in SHIPPABLE_ORDER_STATUSES:
        raise Conflict(
            _("订单当前为“%(s)s”，不能发货"), field="status", code="invalid_transition",
            params={"s": order.get_status_display()},
        )  # fmt: skip
    validation.only(data, SHIPMENT_FIELDS)
    order_lines = {line.pk: line for line in OrderLine.objects.filter(order=order)}
    wanted: dict[int, Decimal] = {}
    for raw_id, raw_qty in (lines or {}).items():
        if raw_qty in (None, "", 0, "0"):
            continue
        line = order_lines.get(int(raw_id))
        if line is None:
            raise ValidationError(_("发货明细不属于该订单"), field="lines")
        qty = quantity(raw_qty, field="lines")
        if qty > line.remaining:
            raise ValidationError(
                _("“%(p)s”最多还能发 %(n)s"), field="lines", code="over_shipped",
                params={"p": line.product_name, "n": line.remaining},
            )  # fmt: skip
        wanted[line.pk] = qty
    if not wanted:
        raise ValidationError(_("请填写至少一行的发货数量"), field="lines")
    for name, content in files:
        documents.checked_file(name, content)  # every file checked before anything is written
    (n,) = next_values("shipment")
    shipment = Shipment.objects.create(
        number=f"FH{timezone.localdate():%Y}{n:06d}", order=order, customer_id=order.customer_id,
        owner_id=order.owner_id, created_by=by,
        carrier=validation.text(data, "carrier", max_length=60),
        tracking_number=validation.text(data, "tracking_number", max_length=60),
        shipped_at=validation.moment(data, "shipped_at") or timezone.now(),
        notes=validation.text(data, "notes", max_length=200),
    )  # fmt: skip
    ShipmentLine.objects.bulk_create(
        [ShipmentLine(shipment=shipment, order_line_id=k, quantity=q) for k, q in wanted.items()]
    )
    for line_id, qty in wanted.items():
        line = order_lines[line_id]
        line.shipped_quantity += qty
        line.save(update_fields=["shipped_quantity"])
    for name, content in files:
        _shipment_doc(shipment, name, content, by)
    _refresh_progress(order, by=by, verb="ship", changes={"shipment": [None, shipment.number]})
    return shipment


def _shipment_doc(shipment: Shipment, name: str, data: bytes, by: User) -> OrderDocument:
    on = timezone.localtime(shipment.delivered_at or shipment.shipped_at).date()
    number = " ".join(filter(None, [shipment.number, shipment.tracking_number]))
    return documents.store(
        kind=DocumentKind.SHIPMENT, name=name, data=data, by=by, customer_id=shipment.customer_id,
        owner_id=shipment.owner_id, number=number, on=on, shipment=shipment,
    )  # fmt: skip


def shipment_for(*, shipment_id: int, by: User) -> Shipment:
    s = Shipment.objects.visible_to(by).select_related("order").filter(pk=shipment_id).first()
    if s is None:
        raise NotFound(_("发货单不存在或您无权查看"), field="shipment")
    return s


@transaction.atomic
def shipment_deliver(
    *, shipment_id: int, delivered_at: datetime | date | str | None = None, by: User
) -> Shipment:
    """The customer signed for a shipment; once every shipment of a fully shipped order is signed for,
    the order is 已签收."""
    require(by, Perm.ORDER_EDIT)
    shipment = shipment_for(shipment_id=shipment_id, by=by)
    if shipment.delivered_at is not None:
        raise Conflict(_("该发货单已签收"), field="delivered_at", code="already_delivered")
    when = validation.moment({"delivered_at": delivered_at}, "delivered_at", default=timezone.now())
    assert when is not None
    if when < shipment.shipped_at:
        raise ValidationError(_("签收时间不能早于发货时间"), field="delivered_at")
    shipment.delivered_at = when
    shipment.save(update_fields=["delivered_at"])
    order = Order.objects.select_for_update().get(pk=shipment.order_id)
    _refresh_progress(order, by=by, verb="deliver", changes={"shipment": [shipment.number, "delivered"]})
    return shipment


@transaction.atomic
def shipment_proof_add(*, shipment_id: int, name: str, data: bytes, by: User) -> OrderDocument:
    """Keep a proof with a shipment (签收单 photo or PDF)."""
    require(by, Perm.ORDER_EDIT)
    shipment = shipment_for(shipment_id=shipment_id, by=by)
    doc = _shipment_doc(shipment, name, data, by)
    emit(
        OrderChanged(
            actor_id=by.pk, verb="proof_add", subject_type="shipment", subject_id=shipment.pk,
            subject_label=shipment.number, customer_id=shipment.customer_id, changes={"attachment": [None, doc.name]},
        )
    )  # fmt: skip
    return doc


# --- 售中服务: late orders -----------------------------------------------------------------------------


def late_orders_notify(*, today: date | None = None) -> int:
    """The daily job (no actor: the system tells people): each order whose promised ship date has
    passed and that is not fully shipped is reported to its owner, once per order and promised date.
    Returns how many notices went out."""
    from kehu.notifications.services import notify

    today = today or timezone.localdate()
    sent = 0
    late = (
        Order.objects.filter(
            status__in=[s.value for s in UNSHIPPED_ORDER_STATUSES], promised_ship_on__lt=today
        )
        .select_related("owner", "customer")
        .order_by("promised_ship_on", "id")
    )
    for order in late.iterator(chunk_size=500):
        assert order.promised_ship_on is not None
        days = (today - order.promised_ship_on).days
        done = notify(
            recipient=order.owner, kind="order_late", key=f"order_late:{order.pk}:{order.promised_ship_on}",
            title=_("订单 %(n)s（%(c)s）已超过承诺发货日期 %(d)s 天") % {"n": order.number, "c": order.customer.name, "d": days},
            url=reverse("orders:order_detail", args=[order.pk]),
        )  # fmt: skip
        sent += done is not None
    return sent


def customer_records_move(drop: Any, keep: Any, by: User) -> dict[str, int]:
    """Merging ``drop`` into ``keep`` (CUS-5, registered in apps.py): the contracts, orders, shipments,
    invoices, payment plans, payments and documents of ``drop`` are ``keep``'s from now on, and
    ``keep``'s order figures (first / last order, count, 12-month revenue) and derived classes follow.
    The merge service checked the permission."""
    from .classification import customer_facts_refresh

    moved = {
        kind: reassign(model, "customer", drop, keep)
        for kind, model in (("contracts", Contract), ("orders", Order), ("shipments", Shipment),
                            ("invoices", Invoice), ("instalments", Instalment), ("payments", PaymentRecord),
                            ("documents", OrderDocument))
    }  # fmt: skip
    if moved["orders"]:
        customer_facts_refresh(customer_ids=[keep.pk])
    return {kind: n for kind, n in moved.items() if n}
