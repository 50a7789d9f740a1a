"""Writes of invoices, payment plans and payments (SAL-7). Every service opens with ``require`` and
ends with an audit event. Only approved payments count as received: an instalment's ``received`` and
``outstanding`` are recomputed from them whenever a payment's approval changes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.approvals.choices import LOCKED, ApprovalStatus
from kehu.core.errors import Conflict, NotFound, ValidationError
from kehu.core.events import diff, emit
from kehu.core.sequences import next_values

from . import documents, validation
from .choices import RECEIVABLE_CONTRACT_STATUSES, ContractStatus, DocumentKind, InvoiceType, PaymentMethod
from .events import BillingChanged
from .models import Contract, Instalment, Invoice, Order, OrderDocument, PaymentMatch, PaymentRecord
from .rules import check_matches, money, normalize_tax_number, plan_fits
from .services import locked_error

ZERO = Decimal("0")
INVOICE_FIELDS = frozenset({
    "contract", "order", "title", "tax_number", "kind", "amount", "tax_rate", "currency", "number", "issued_on", "notes",
})  # fmt: skip
INSTALMENT_FIELDS = frozenset({"due_on", "amount", "remind_days", "notes"})
PAYMENT_FIELDS = frozenset({"received_on", "amount", "currency", "method", "payer", "reference", "notes"})
# Payments that still claim their matches: not rejected nor withdrawn.
DEAD = (ApprovalStatus.REJECTED, ApprovalStatus.WITHDRAWN)


def _event(
    by: User | None, verb: str, subject_type: str, obj: Any, label: str, changes: dict[str, Any] | None = None
) -> Any:
    return BillingChanged(
        actor_id=by.pk if by else None, verb=verb, subject_type=subject_type, subject_id=obj.pk,
        subject_label=label[:200], customer_id=obj.customer_id, changes=changes or {},
    )  # fmt: skip


def _contract(by: User, contract_id: int | None, *, field: str = "contract") -> Contract:
    c = Contract.objects.visible_to(by).select_related("customer").filter(pk=contract_id or 0).first()
    if c is None:
        raise NotFound(_("合同不存在或您无权查看"), field=field)
    return c


# --- invoices ------------------------------------------------------------------------------------------


def _invoice_snapshot(i: Invoice) -> dict[str, Any]:
    return {
        "title": i.title, "tax_number": i.tax_number, "kind": i.kind, "amount": f"{i.amount} {i.currency}",
        "tax_rate": str(i.tax_rate), "number": i.number, "issued_on": i.issued_on, "notes": i.notes,
        "approval_status": i.approval_status,
    }  # fmt: skip


def _clean_invoice(data: dict[str, Any], *, by: User, current: Invoice | None = None) -> dict[str, Any]:
    validation.only(data, INVOICE_FIELDS)
    merged = {
        **({k: getattr(current, k + "_id" if k in ("contract", "order") else k) for k in INVOICE_FIELDS}
           if current else {}),
        **data,
    }  # fmt: skip
    out: dict[str, Any] = {}
    contract_id, order_id = validation.ident(merged, "contract"), validation.ident(merged, "order")
    if current is not None and (contract_id != current.contract_id or order_id != current.order_id):
        raise ValidationError(_("发票所属的合同或订单不能更改"), field="contract")
    if not contract_id and not order_id:
        raise ValidationError(_("请选择发票对应的合同或订单"), field="contract")
    contract = _contract(by, contract_id) if contract_id else None
    order = None
    if order_id:
        order = Order.objects.visible_to(by).filter(pk=order_id).first()
        if order is None:
            raise NotFound(_("订单不存在或您无权查看"), field="order")
        if contract is not None and order.contract_id != contract.pk:
            raise ValidationError(_("订单不属于该合同"), field="order")
    base: Any = contract or order
    if isinstance(base, Contract) and base.status == ContractStatus.DRAFT:
        raise ValidationError(_("合同尚未生效，不能开票"), field="contract")
    out.update(contract=contract, order=order, customer_id=base.customer_id, owner_id=base.owner_id,
               department_id=base.department_id)  # fmt: skip
    out["title"] = validation.text(merged, "title", max_length=200, required=True, label=_("发票抬头"))
    out["kind"] = str(merged.get("kind") or InvoiceType.SPECIAL)
    if out["kind"] not in InvoiceType.values:
        raise ValidationError(_("发票类型无效"), field="kind")
    out["tax_number"] = normalize_tax_number(str(merged.get("tax_number") or ""))
    if out["kind"] == InvoiceType.SPECIAL and not out["tax_number"]:
        raise ValidationError(_("增值税专用发票必须填写税号"), field="tax_number")
    out["amount"] = money(merged.get("amount"), field="amount", allow_zero=False)
    rate = money(
        merged.get("tax_rate") if merged.get("tax_rate") not in (None, "") else "13", field="tax_rate"
    )
    if rate > 100:
        raise ValidationError(_("税率应在 0 到 100 之间"), field="tax_rate")
    out["tax_rate"] = rate
    out["currency"] = validation.currency(merged)
    out["number"] = validation.text(merged, "number", max_length=30)
    out["issued_on"] = validation.day(merged, "issued_on")
    out["notes"] = validation.text(merged, "notes", max_length=200)
    # Never invoice more than the contract (or the order) is worth, counting its other live invoices.
    ceiling = base.amount if isinstance(base, Contract) else base.total_amount
    others = Invoice.objects.filter(
        **({"contract": contract} if contract else {"order": order}), voided_at__isnull=True
    ).exclude(approval_status__in=DEAD)
    if current is not None:
        others = others.exclude(pk=current.pk)
    invoiced = others.aggregate(s=Sum("amount"))["s"] or ZERO
    if invoiced + out["amount"] > ceiling:
        raise ValidationError(
            _("开票合计 %(total)s 将超过合同/订单金额 %(ceiling)s"), field="amount", code="over_invoiced",
            params={"total": invoiced + out["amount"], "ceiling": ceiling},
        )  # fmt: skip
    return out


def invoice_for(*, invoice_id: int, by: User) -> Invoice:
    i = Invoice.objects.visible_to(by).filter(pk=invoice_id).first()
    if i is None:
        raise NotFound(_("发票不存在或您无权查看"), field="invoice")
    return i


@transaction.atomic
def invoice_create(*, data: dict[str, Any], by: User, files: Sequence[tuple[str, bytes]] = ()) -> Invoice:
    """Register an invoice for a contract in force (or an order): 发票抬头, 税号 (checked), type, amount,
    tax rate; invoices of one contract never add up to more than it. Starts unsubmitted."""
    require(by, Perm.INVOICE_EDIT)
    cleaned = _clean_invoice(data, by=by)
    for name, content in files:
        documents.checked_file(name, content)
    invoice = Invoice.objects.create(created_by=by, **cleaned)
    for name, content in files:
        _invoice_doc(invoice, name, content, by)
    emit(_event(by, "create", "invoice", invoice, invoice.title, diff({}, _invoice_snapshot(invoice))))
    return invoice


def _invoice_doc(invoice: Invoice, name: str, data: bytes, by: User) -> OrderDocument:
    return documents.store(
        kind=DocumentKind.INVOICE, name=name, data=data, by=by, customer_id=invoice.customer_id,
        owner_id=invoice.owner_id, number=invoice.number, on=invoice.issued_on or timezone.localdate(),
        invoice=invoice,
    )  # fmt: skip


@transaction.atomic
def invoice_update(*, invoice_id: int, version: int | None, data: dict[str, Any], by: User) -> Invoice:
    require(by, Perm.INVOICE_EDIT)
    invoice = invoice_for(invoice_id=invoice_id, by=by)
    if invoice.is_voided:
        raise Conflict(_("发票已作废，不能修改"), field="invoice", code="invoice_voided")
    if invoice.approval_status in LOCKED:
        raise locked_error(_("发票"))
    cleaned = _clean_invoice(data, by=by, current=invoice)
    before = _invoice_snapshot(invoice)
    fields = [
        k for k in cleaned if k not in ("contract", "order", "customer_id", "owner_id", "department_id")
    ]
    for key in fields:
        setattr(invoice, key, cleaned[key])
    invoice.save_versioned(expected_version=version, fields=fields)
    # The scans are found by the invoice number and date: keep them in step.
    OrderDocument.objects.filter(invoice=invoice).update(
        number=invoice.number, on=invoice.issued_on or timezone.localdate()
    )
    changes = diff(before, _invoice_snapshot(invoice))
    if changes:
        emit(_event(by, "update", "invoice", invoice, invoice.title, changes))
    return invoice


@transaction.atomic
def invoice_void(*, invoice_id: int, version: int | None, reason: str, by: User) -> Invoice:
    """作废 an issued invoice (approved, SAL-7): wrong title, tax number or amount, or the deal fell through.
    The invoice stays on file with who voided it, when and why; it no longer counts towards what the
    contract or order has been invoiced (so a corrected one can be issued) and can never change again.
    An invoice not yet issued is corrected by editing it instead."""
    require(by, Perm.INVOICE_EDIT)
    invoice = invoice_for(invoice_id=invoice_id, by=by)
    reason = str(reason or "").strip()
    if not reason:
        raise ValidationError(_("请填写作废原因"), field="reason")
    if len(reason) > 200:
        raise ValidationError(_("作废原因不能超过 200 个字"), field="reason")
    if invoice.is_voided:
        raise Conflict(_("发票已作废"), field="invoice", code="invoice_voided")
    if invoice.approval_status != ApprovalStatus.APPROVED:
        raise Conflict(
            _("只有审批通过（已开具）的发票可以作废；未开具的发票请直接修改"), field="invoice",
            code="invoice_not_issued",
        )  # fmt: skip
    invoice.voided_at, invoice.voided_by, invoice.void_reason = timezone.now(), by, reason
    invoice.save_versioned(expected_version=version, fields=["voided_at", "voided_by", "void_reason"])
    emit(_event(by, "void", "invoice", invoice, invoice.title, {"void_reason": [None, reason]}))
    return invoice


@transaction.atomic
def invoice_file_add(*, invoice_id: int, name: str, data: bytes, by: User) -> OrderDocument:
    """Keep the invoice's scan or PDF with it (possible after approval too: the paper comes later)."""
    require(by, Perm.INVOICE_EDIT)
    invoice = invoice_for(invoice_id=invoice_id, by=by)
    doc = _invoice_doc(invoice, name, data, by)
    emit(_event(by, "attachment_add", "invoice", invoice, invoice.title, {"attachment": [None, doc.name]}))
    return doc


@transaction.atomic
def invoice_set_approval_status(*, invoice: Invoice, status: str, by: User | None) -> Invoice:
    """Called by the approvals engine after its own checks (no ``require``)."""
    if status not in ApprovalStatus.values:
        raise ValidationError(_("审批状态无效"), field="approval_status")
    before = invoice.approval_status
    invoice.approval_status = status
    invoice.save_versioned(expected_version=None, fields=["approval_status"])
    emit(_event(by, "approval", "invoice", invoice, invoice.title, {"approval_status": [before, status]}))
    return invoice


# --- payment plans -------------------------------------------------------------------------------------


def _instalment_label(i: Instalment) -> str:
    return f"{i.contract.number} 第{i.seq}期 {i.due_on:%Y-%m-%d} {i.amount}"


def _clean_instalment(data: dict[str, Any], *, current: Instalment | None = None) -> dict[str, Any]:
    validation.only(data, INSTALMENT_FIELDS)
    merged = {**({k: getattr(current, k) for k in INSTALMENT_FIELDS} if current else {}), **data}
    out: dict[str, Any] = {
        "due_on": validation.day(merged, "due_on", required=True, label=_("应收日期")),
        "amount": money(merged.get("amount"), field="amount", allow_zero=False),
        "notes": validation.text(merged, "notes", max_length=200),
    }
    remind = merged.get("remind_days")
    try:
        out["remind_days"] = 7 if remind in (None, "") else int(remind)
    except (TypeError, ValueError):
        raise ValidationError(_("提前提醒天数必须是整数"), field="remind_days") from None
    if not 0 <= out["remind_days"] <= 365:
        raise ValidationError(_("提前提醒天数应在 0 到 365 之间"), field="remind_days")
    return out


def _check_plan(contract: Contract, *, amount: Decimal, excluding: int | None = None) -> None:
    others = Instalment.objects.filter(contract=contract)
    if excluding:
        others = others.exclude(pk=excluding)
    amounts = [*others.values_list("amount", flat=True), amount]
    if not plan_fits(contract.amount, amounts):
        raise ValidationError(
            _("回款计划合计 %(total)s 超过合同金额 %(amount)s"), field="amount", code="plan_exceeds_contract",
            params={"total": sum(amounts, ZERO), "amount": contract.amount},
        )  # fmt: skip


def instalment_for(*, instalment_id: int, by: User) -> Instalment:
    i = Instalment.objects.visible_to(by).select_related("contract").filter(pk=instalment_id).first()
    if i is None:
        raise NotFound(_("回款计划不存在或您无权查看"), field="instalment")
    return i


@transaction.atomic
def instalment_add(*, contract_id: int, data: dict[str, Any], by: User) -> Instalment:
    """Add an instalment to a contract's payment plan (回款计划): due date, amount, reminder days;
    the plan never adds up to more than the contract."""
    require(by, Perm.PAYMENT_EDIT)
    contract = Contract.objects.select_for_update().get(pk=_contract(by, contract_id).pk)
    if contract.status == ContractStatus.TERMINATED:
        raise Conflict(_("合同已终止，不能再添加回款计划"), field="contract", code="invalid_transition")
    cleaned = _clean_instalment(data)
    _check_plan(contract, amount=cleaned["amount"])
    seq = (
        Instalment.objects.filter(contract=contract).order_by("-seq").values_list("seq", flat=True).first()
        or 0
    ) + 1
    i = Instalment.objects.create(
        contract=contract, seq=seq, customer_id=contract.customer_id, owner_id=contract.owner_id,
        department_id=contract.department_id, received=ZERO, outstanding=cleaned["amount"],
        receivable=contract.status in RECEIVABLE_CONTRACT_STATUSES, **cleaned,
    )  # fmt: skip
    emit(_event(by, "instalment_add", "contract", contract, _instalment_label(i),
                {"instalment": [None, _instalment_label(i)]}))  # fmt: skip
    return i


def _claimed(instalment_ids: Iterable[int], *, excluding_payment: int | None = None) -> dict[int, Decimal]:
    """What live payments (not rejected nor withdrawn) already claim of each instalment."""
    qs = PaymentMatch.objects.filter(instalment_id__in=list(instalment_ids)).exclude(
        payment__approval_status__in=DEAD
    )
    if excluding_payment:
        qs = qs.exclude(payment_id=excluding_payment)
    return {row["instalment_id"]: row["s"] for row in qs.values("instalment_id").annotate(s=Sum("amount"))}


@transaction.atomic
def instalment_update(
    *, instalment_id: int, version: int | None, data: dict[str, Any], by: User
) -> Instalment:
    """Move an instalment's date or amount; never below what payments already claim of it."""
    require(by, Perm.PAYMENT_EDIT)
    i = instalment_for(instalment_id=instalment_id, by=by)
    contract = Contract.objects.select_for_update().get(pk=i.contract_id)
    cleaned = _clean_instalment(data, current=i)
    claimed = _claimed([i.pk]).get(i.pk, ZERO)
    if cleaned["amount"] < claimed:
        raise ValidationError(_("金额不能小于已核销的 %(n)s"), field="amount", params={"n": claimed})
    _check_plan(contract, amount=cleaned["amount"], excluding=i.pk)
    before = _instalment_label(i)
    for key, value in cleaned.items():
        setattr(i, key, value)
    i.outstanding = i.amount - i.received
    i.save_versioned(expected_version=version, fields=[*cleaned, "outstanding"])
    emit(_event(by, "instalment_update", "contract", contract, _instalment_label(i),
                {"instalment": [before, _instalment_label(i)]}))  # fmt: skip
    return i


@transaction.atomic
def instalment_delete(*, instalment_id: int, by: User) -> None:
    """Drop an instalment no payment was matched to."""
    require(by, Perm.PAYMENT_EDIT)
    i = instalment_for(instalment_id=instalment_id, by=by)
    if PaymentMatch.objects.filter(instalment=i).exists():
        raise Conflict(_("该期已有回款核销，不能删除"), field="instalment", code="has_payments")
    label = _instalment_label(i)
    contract = i.contract
    i.delete()
    emit(_event(by, "instalment_delete", "contract", contract, label, {"instalment": [label, None]}))


# --- payments (回款) -------------------------------------------------------------------------------------


def _payment_snapshot(p: PaymentRecord, matches: dict[int, Decimal] | None = None) -> dict[str, Any]:
    return {
        "received_on": p.received_on, "amount": f"{p.amount} {p.currency}", "method": p.method, "payer": p.payer,
        "reference": p.reference, "notes": p.notes, "approval_status": p.approval_status,
        "matches": {str(k): str(v) for k, v in sorted((matches or {}).items())},
    }  # fmt: skip


def _clean_payment(data: dict[str, Any], *, current: PaymentRecord | None = None) -> dict[str, Any]:
    validation.only(data, PAYMENT_FIELDS)
    merged = {**({k: getattr(current, k) for k in PAYMENT_FIELDS} if current else {}), **data}
    method = str(merged.get("method") or PaymentMethod.TRANSFER)
    if method not in PaymentMethod.values:
        raise ValidationError(_("付款方式无效"), field="method")
    received_on = validation.day(merged, "received_on", required=True, label=_("回款日期"))
    if received_on and received_on > timezone.localdate():
        raise ValidationError(_("回款日期不能晚于今天"), field="received_on")
    return {
        "received_on": received_on,
        "amount": money(merged.get("amount"), field="amount", allow_zero=False),
        "currency": validation.currency(merged),
        "method": method,
        "payer": validation.text(merged, "payer", max_length=200),
        "reference": validation.text(merged, "reference", max_length=60),
        "notes": validation.text(merged, "notes", max_length=200),
    }


def _clean_matches(
    raw: Sequence[dict[str, Any]] | dict[Any, Any],
    *,
    contract: Contract,
    amount: Decimal,
    payment_id: int | None,
) -> dict[int, Decimal]:
    """``[{"instalment": id, "amount": x}, …]`` (or ``{id: x}``) → {id: amount}, checked against the
    room left on each instalment of the contract and against the payment's amount."""
    pairs = raw.items() if isinstance(raw, dict) else [(m.get("instalment"), m.get("amount")) for m in raw]
    matches: dict[int, Decimal] = {}
    for key, value in pairs:
        if value in (None, "", 0, "0"):
            continue
        try:
            instalment_id = int(key)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError(_("回款计划必须是数字ID"), field="matches") from None
        matches[instalment_id] = matches.get(instalment_id, ZERO) + money(value, field="matches")
    plan = dict(Instalment.objects.select_for_update().filter(contract=contract).values_list("pk", "amount"))
    claimed = _claimed(plan, excluding_payment=payment_id)
    room = {pk: amt - claimed.get(pk, ZERO) for pk, amt in plan.items()}
    check_matches(payment_amount=amount, matches=matches, room=room)
    return matches


def _recompute(instalment_ids: Iterable[int]) -> None:
    """received = what approved payments matched; outstanding = amount − received."""
    ids = list(instalment_ids)
    paid = {
        row["instalment_id"]: row["s"]
        for row in PaymentMatch.objects.filter(instalment_id__in=ids, payment__approval_status=ApprovalStatus.APPROVED)
        .values("instalment_id").annotate(s=Sum("amount"))
    }  # fmt: skip
    for i in Instalment.objects.select_for_update().filter(pk__in=ids):
        received = paid.get(i.pk, ZERO)
        if received != i.received or i.outstanding != i.amount - received:
            Instalment.objects.filter(pk=i.pk).update(received=received, outstanding=i.amount - received)


def _write_matches(payment: PaymentRecord, matches: dict[int, Decimal]) -> set[int]:
    old = set(PaymentMatch.objects.filter(payment=payment).values_list("instalment_id", flat=True))
    PaymentMatch.objects.filter(payment=payment).delete()
    PaymentMatch.objects.bulk_create(
        [PaymentMatch(payment=payment, instalment_id=k, amount=v) for k, v in matches.items()]
    )
    return old | set(matches)


def payment_for(*, payment_id: int, by: User) -> PaymentRecord:
    p = PaymentRecord.objects.visible_to(by).select_related("contract").filter(pk=payment_id).first()
    if p is None:
        raise NotFound(_("回款记录不存在或您无权查看"), field="payment")
    return p


@transaction.atomic
def payment_create(
    *, contract_id: int, data: dict[str, Any], matches: Sequence[dict[str, Any]] | dict[Any, Any] = (), by: User,
    files: Sequence[tuple[str, bytes]] = (),
) -> PaymentRecord:  # fmt: skip
    """Record money received on a contract in force (回款, SAL-7), matched to one or more of its
    instalments — partly is fine, more than an instalment still lacks (or than the payment) is
    refused. It counts as received once approved."""
    require(by, Perm.PAYMENT_EDIT)
    contract = Contract.objects.select_for_update().get(pk=_contract(by, contract_id).pk)
    if contract.status not in RECEIVABLE_CONTRACT_STATUSES:
        raise Conflict(_("合同尚未生效或已终止，不能登记回款"), field="contract", code="invalid_transition")
    cleaned = _clean_payment(data)
    clean_matches = _clean_matches(matches, contract=contract, amount=cleaned["amount"], payment_id=None)
    for name, content in files:
        documents.checked_file(name, content)
    (n,) = next_values("payment")
    payment = PaymentRecord.objects.create(
        number=f"HK{timezone.localdate():%Y}{n:06d}", contract=contract, customer_id=contract.customer_id,
        owner_id=contract.owner_id, department_id=contract.department_id, created_by=by, **cleaned,
    )  # fmt: skip
    _write_matches(payment, clean_matches)
    for name, content in files:
        _payment_doc(payment, name, content, by)
    emit(
        _event(
            by,
            "create",
            "payment",
            payment,
            payment.number,
            diff({}, _payment_snapshot(payment, clean_matches)),
        )
    )
    return payment


def _payment_doc(payment: PaymentRecord, name: str, data: bytes, by: User) -> OrderDocument:
    number = " ".join(filter(None, [payment.number, payment.reference]))
    return documents.store(
        kind=DocumentKind.PAYMENT, name=name, data=data, by=by, customer_id=payment.customer_id,
        owner_id=payment.owner_id, number=number, on=payment.received_on, payment=payment,
    )  # fmt: skip


def _matches_of(payment: PaymentRecord) -> dict[int, Decimal]:
    return dict(PaymentMatch.objects.filter(payment=payment).values_list("instalment_id", "amount"))


@transaction.atomic
def payment_update(
    *, payment_id: int, version: int | None, data: dict[str, Any],
    matches: Sequence[dict[str, Any]] | dict[Any, Any] | None = None, by: User,
) -> PaymentRecord:  # fmt: skip
    """Correct a payment not under review nor approved; ``matches`` (when given) replace its matches."""
    require(by, Perm.PAYMENT_EDIT)
    payment = payment_for(payment_id=payment_id, by=by)
    if payment.approval_status in LOCKED:
        raise locked_error(_("回款记录"))
    contract = Contract.objects.select_for_update().get(pk=payment.contract_id)
    cleaned = _clean_payment(data, current=payment)
    current_matches = _matches_of(payment)
    new_matches = _clean_matches(
        current_matches if matches is None else matches, contract=contract, amount=cleaned["amount"],
        payment_id=payment.pk,
    )  # fmt: skip
    before = _payment_snapshot(payment, current_matches)
    for key, value in cleaned.items():
        setattr(payment, key, value)
    payment.save_versioned(expected_version=version, fields=list(cleaned))
    touched = _write_matches(payment, new_matches)
    _recompute(touched)
    OrderDocument.objects.filter(payment=payment).update(on=payment.received_on)
    changes = diff(before, _payment_snapshot(payment, new_matches))
    if changes:
        emit(_event(by, "update", "payment", payment, payment.number, changes))
    return payment


@transaction.atomic
def payment_delete(*, payment_id: int, by: User) -> None:
    """Delete a payment entered by mistake (never one under review or approved)."""
    require(by, Perm.PAYMENT_EDIT)
    payment = payment_for(payment_id=payment_id, by=by)
    if payment.approval_status in LOCKED:
        raise locked_error(_("回款记录"))
    touched = set(_matches_of(payment))
    for doc in OrderDocument.objects.filter(payment=payment):
        documents.discard(doc)
    number, customer_id, pk = payment.number, payment.customer_id, payment.pk
    payment.delete()
    _recompute(touched)
    emit(BillingChanged(actor_id=by.pk, verb="delete", subject_type="payment", subject_id=pk, subject_label=number,
                        customer_id=customer_id))  # fmt: skip


@transaction.atomic
def payment_proof_add(*, payment_id: int, name: str, data: bytes, by: User) -> OrderDocument:
    """Keep a proof with a payment (bank slip, acceptance bill scan)."""
    require(by, Perm.PAYMENT_EDIT)
    payment = payment_for(payment_id=payment_id, by=by)
    doc = _payment_doc(payment, name, data, by)
    emit(_event(by, "attachment_add", "payment", payment, payment.number, {"attachment": [None, doc.name]}))
    return doc


@transaction.atomic
def payment_set_approval_status(*, payment: PaymentRecord, status: str, by: User | None) -> PaymentRecord:
    """Called by the approvals engine after its own checks (no ``require``): stores the status and
    recomputes what its instalments have received (only approved payments count)."""
    if status not in ApprovalStatus.values:
        raise ValidationError(_("审批状态无效"), field="approval_status")
    before = payment.approval_status
    if status not in DEAD and before in DEAD:
        # Coming back to life: its matches must still fit beside the payments matched meanwhile.
        contract = Contract.objects.select_for_update().get(pk=payment.contract_id)
        _clean_matches(_matches_of(payment), contract=contract, amount=payment.amount, payment_id=payment.pk)
    payment.approval_status = status
    payment.save_versioned(expected_version=None, fields=["approval_status"])
    _recompute(_matches_of(payment))
    emit(_event(by, "approval", "payment", payment, payment.number, {"approval_status": [before, status]}))
    return payment


# --- reminders -----------------------------------------------------------------------------------------


def instalment_reminders_notify(*, today: date | None = None) -> int:
    """The daily job (no actor): the owner hears of each open instalment ``remind_days`` before it is
    due, and again once it is overdue — each once per instalment and due date. Returns notices sent."""
    from kehu.notifications.services import notify

    today = today or timezone.localdate()
    sent = 0
    # remind_days is at most 365, so a year ahead bounds the scan of the open-receivables index.
    rows = (
        Instalment.objects.filter(receivable=True, outstanding__gt=0, due_on__lte=today + timedelta(days=365))
        .select_related("owner", "contract", "customer")
        .order_by("due_on", "id")
    )
    for i in rows.iterator(chunk_size=500):
        url = reverse("orders:contract_detail", args=[i.contract_id])
        facts = {"c": i.customer.name, "n": i.contract.number, "s": i.seq, "a": i.outstanding, "d": i.due_on}
        if i.due_on < today:
            done = notify(
                recipient=i.owner, kind="instalment_overdue", key=f"instalment_overdue:{i.pk}:{i.due_on}",
                title=_("%(c)s 合同 %(n)s 第 %(s)s 期回款已逾期（应收日 %(d)s，未收 %(a)s）") % facts, url=url,
            )  # fmt: skip
        elif i.due_on - timedelta(days=i.remind_days) <= today:
            done = notify(
                recipient=i.owner, kind="instalment_due", key=f"instalment_due:{i.pk}:{i.due_on}",
                title=_("%(c)s 合同 %(n)s 第 %(s)s 期回款将于 %(d)s 到期（未收 %(a)s）") % facts, url=url,
            )  # fmt: skip
        else:
            continue
        sent += done is not None
    return sent
