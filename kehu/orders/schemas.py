"""API schemas of contracts, orders and payments (SAL-6, SAL-7): strict input, outputs built from
dicts by the *_out functions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils import timezone
from pydantic import BaseModel

from kehu.core.schemas import StrictIn


def _ref(obj: Any, label: str) -> dict[str, Any] | None:
    return {"id": obj.pk, "name": label} if obj is not None else None


# --- inputs --------------------------------------------------------------------------------------------


class ContractFields(StrictIn):
    title: str | None = None
    opportunity: int | None = None
    quote: int | None = None
    our_party: str | None = None
    their_party: str | None = None
    our_signatory: str | None = None
    their_signatory: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    signed_on: date | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    payment_terms: str | None = None
    terms: str | None = None


class ContractCreateIn(ContractFields):
    customer: int
    title: str
    amount: Decimal


class ContractPatchIn(ContractFields):
    version: int


class VersionIn(StrictIn):
    version: int


class ReasonIn(StrictIn):
    version: int
    reason: str


class TransferIn(StrictIn):
    version: int
    to_user: int
    reason: str


class LineIn(StrictIn):
    product: int | None = None
    product_name: str | None = None
    model: str | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    quantity: Decimal
    notes: str | None = None


class OrderFields(StrictIn):
    contract: int | None = None
    order_date: date | None = None
    promised_ship_on: date | None = None
    currency: str | None = None
    notes: str | None = None


class OrderCreateIn(OrderFields):
    customer: int
    lines: list[LineIn]


class OrderPatchIn(OrderFields):
    version: int
    lines: list[LineIn] | None = None


class ShipmentLineIn(StrictIn):
    order_line: int
    quantity: Decimal


class ShipmentCreateIn(StrictIn):
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    notes: str | None = None
    lines: list[ShipmentLineIn]


class DeliverIn(StrictIn):
    delivered_at: datetime | None = None


class InvoiceFields(StrictIn):
    title: str | None = None
    tax_number: str | None = None
    kind: str | None = None
    amount: Decimal | None = None
    tax_rate: Decimal | None = None
    currency: str | None = None
    number: str | None = None
    issued_on: date | None = None
    notes: str | None = None


class InvoiceCreateIn(InvoiceFields):
    contract: int | None = None
    order: int | None = None
    title: str
    amount: Decimal


class InvoicePatchIn(InvoiceFields):
    version: int


class InvoiceVoidIn(StrictIn):
    version: int | None = None
    reason: str = ""


class InstalmentIn(StrictIn):
    due_on: date
    amount: Decimal
    remind_days: int | None = None
    notes: str | None = None


class InstalmentPatchIn(StrictIn):
    version: int
    due_on: date | None = None
    amount: Decimal | None = None
    remind_days: int | None = None
    notes: str | None = None


class MatchIn(StrictIn):
    instalment: int
    amount: Decimal


class PaymentFields(StrictIn):
    received_on: date | None = None
    amount: Decimal | None = None
    currency: str | None = None
    method: str | None = None
    payer: str | None = None
    reference: str | None = None
    notes: str | None = None


class PaymentCreateIn(PaymentFields):
    contract: int
    received_on: date
    amount: Decimal
    matches: list[MatchIn] = []


class PaymentPatchIn(PaymentFields):
    version: int
    matches: list[MatchIn] | None = None


# --- outputs -------------------------------------------------------------------------------------------


class DocumentOut(BaseModel):
    id: int
    kind: str
    kind_label: str
    number: str
    on: date
    name: str
    content_type: str
    size: int
    url: str
    uploaded_at: datetime


class InstalmentOut(BaseModel):
    id: int
    contract: int
    seq: int
    due_on: date
    amount: Decimal
    remind_days: int
    notes: str
    received: Decimal
    outstanding: Decimal
    receivable: bool
    version: int


class ContractOut(BaseModel):
    id: int
    number: str
    title: str
    customer: dict[str, Any]
    opportunity: dict[str, Any] | None
    quote: dict[str, Any] | None
    our_party: str
    their_party: str
    our_signatory: str
    their_signatory: str
    amount: Decimal
    currency: str
    signed_on: date | None
    starts_on: date | None
    ends_on: date | None
    payment_terms: str
    terms: str
    status: str
    status_label: str
    approval_status: str
    end_reason: str
    owner: dict[str, Any]
    department: dict[str, Any] | None
    instalments: list[InstalmentOut] | None = None
    documents: list[DocumentOut] | None = None
    created_at: datetime
    updated_at: datetime
    version: int


class LineOut(BaseModel):
    id: int
    position: int
    product: int | None
    product_name: str
    model: str
    unit: str
    unit_price: Decimal
    quantity: Decimal
    total: Decimal
    unit_cost: Decimal | None
    shipped_quantity: Decimal
    notes: str


class ShipmentOut(BaseModel):
    id: int
    number: str
    order: int
    carrier: str
    tracking_number: str
    shipped_at: datetime
    delivered_at: datetime | None
    notes: str
    lines: list[dict[str, Any]]
    documents: list[DocumentOut]


class OrderOut(BaseModel):
    id: int
    number: str
    customer: dict[str, Any]
    contract: dict[str, Any] | None
    order_date: date
    promised_ship_on: date | None
    status: str
    status_label: str
    is_late: bool
    total_amount: Decimal
    cost_amount: Decimal | None
    gross_margin: Decimal | None
    currency: str
    notes: str
    cancel_reason: str
    owner: dict[str, Any]
    lines: list[LineOut] | None = None
    shipments: list[ShipmentOut] | None = None
    created_at: datetime
    version: int


class InvoiceOut(BaseModel):
    id: int
    customer: dict[str, Any]
    contract: dict[str, Any] | None
    order: dict[str, Any] | None
    title: str
    tax_number: str
    kind: str
    amount: Decimal
    tax_rate: Decimal
    tax_amount: Decimal
    currency: str
    number: str
    issued_on: date | None
    notes: str
    approval_status: str
    voided_at: datetime | None = None
    voided_by: str | None = None
    void_reason: str = ""
    documents: list[DocumentOut] | None = None
    created_at: datetime
    version: int


class PaymentOut(BaseModel):
    id: int
    number: str
    contract: dict[str, Any]
    customer: dict[str, Any]
    received_on: date
    amount: Decimal
    currency: str
    method: str
    payer: str
    reference: str
    notes: str
    approval_status: str
    matches: list[dict[str, Any]] | None = None
    documents: list[DocumentOut] | None = None
    created_at: datetime
    version: int


class AgingRowOut(BaseModel):
    key: int | None
    label: str
    buckets: dict[str, Decimal]
    total: Decimal
    overdue: Decimal


class AgingOut(BaseModel):
    scope: str
    group: str
    today: date
    items: list[AgingRowOut]
    count: int
    totals: dict[str, Decimal]
    total: Decimal
    overdue: Decimal


class ReceivableOut(BaseModel):
    instalment: InstalmentOut
    contract: dict[str, Any]
    customer: dict[str, Any]
    owner: dict[str, Any]
    bucket: str
    days_overdue: int


class CustomerOrderStatsOut(BaseModel):
    first_order_on: date | None
    orders: int
    revenue_12m: Decimal
    last_order_on: date | None


def document_out(d: Any) -> dict[str, Any]:
    return {
        "id": d.pk, "kind": d.kind, "kind_label": str(d.get_kind_display()), "number": d.number, "on": d.on,
        "name": d.name, "content_type": d.content_type, "size": d.size,
        "url": reverse("api:download_order_document", args=[d.pk]), "uploaded_at": d.uploaded_at,
    }  # fmt: skip


def instalment_out(i: Any) -> dict[str, Any]:
    return {k: getattr(i, k) for k in (
        "seq", "due_on", "amount", "remind_days", "notes", "received", "outstanding", "receivable", "version")} | {
        "id": i.pk, "contract": i.contract_id}  # fmt: skip


def contract_out(
    c: Any, *, instalments: list[Any] | None = None, documents: list[Any] | None = None
) -> dict[str, Any]:
    return {
        **{k: getattr(c, k) for k in (
            "number", "title", "our_party", "their_party", "our_signatory", "their_signatory", "amount", "currency",
            "signed_on", "starts_on", "ends_on", "payment_terms", "terms", "status", "approval_status", "end_reason",
            "created_at", "updated_at", "version")},
        "id": c.pk, "status_label": str(c.get_status_display()),
        "customer": {"id": c.customer_id, "name": c.customer.name},
        "opportunity": _ref(c.opportunity, c.opportunity.name) if c.opportunity_id else None,
        "quote": _ref(c.quote, f"{c.quote.number} v{c.quote.revision} {c.quote.title}") if c.quote_id else None,
        "owner": {"id": c.owner_id, "name": c.owner.label},
        "department": _ref(c.department, c.department.name) if c.department_id else None,
        "instalments": [instalment_out(i) for i in instalments] if instalments is not None else None,
        "documents": [document_out(d) for d in documents] if documents is not None else None,
    }  # fmt: skip


def line_out(line: Any) -> dict[str, Any]:
    return {k: getattr(line, k) for k in (
        "position", "product_name", "model", "unit", "unit_price", "quantity", "total", "unit_cost", "shipped_quantity",
        "notes")} | {
        "id": line.pk, "product": line.product_id}  # fmt: skip


def shipment_out(s: Any) -> dict[str, Any]:
    return {
        "id": s.pk, "number": s.number, "order": s.order_id, "carrier": s.carrier, "tracking_number": s.tracking_number,
        "shipped_at": timezone.localtime(s.shipped_at),
        "delivered_at": timezone.localtime(s.delivered_at) if s.delivered_at else None, "notes": s.notes,
        "lines": [{"order_line": sl.order_line_id, "product_name": sl.order_line.product_name, "quantity": sl.quantity}
                  for sl in s.lines.all()],
        "documents": [document_out(d) for d in s.documents.all()],
    }  # fmt: skip


def order_out(o: Any, *, detail: bool = False) -> dict[str, Any]:
    return {
        **{k: getattr(o, k) for k in (
            "number", "order_date", "promised_ship_on", "status", "is_late", "total_amount", "cost_amount",
            "gross_margin", "currency", "notes", "cancel_reason", "created_at", "version")},
        "id": o.pk, "status_label": str(o.get_status_display()),
        "customer": {"id": o.customer_id, "name": o.customer.name},
        "contract": {"id": o.contract_id, "number": o.contract.number} if o.contract_id else None,
        "owner": {"id": o.owner_id, "name": o.owner.label},
        "lines": [line_out(line) for line in o.lines.all()] if detail else None,
        "shipments": [shipment_out(s) for s in o.shipments.all()] if detail else None,
    }  # fmt: skip


def invoice_out(i: Any, *, detail: bool = False) -> dict[str, Any]:
    return {
        **{k: getattr(i, k) for k in (
            "title", "tax_number", "kind", "amount", "tax_rate", "tax_amount", "currency", "number", "issued_on", "notes",
            "approval_status", "voided_at", "void_reason", "created_at", "version")},
        "id": i.pk, "customer": {"id": i.customer_id, "name": i.customer.name},
        "contract": {"id": i.contract_id, "number": i.contract.number} if i.contract_id else None,
        "order": {"id": i.order_id, "number": i.order.number} if i.order_id else None,
        "voided_by": i.voided_by.label if i.voided_by_id else None,
        "documents": [document_out(d) for d in i.documents.all()] if detail else None,
    }  # fmt: skip


def payment_out(p: Any, *, detail: bool = False) -> dict[str, Any]:
    return {
        **{k: getattr(p, k) for k in (
            "number", "received_on", "amount", "currency", "method", "payer", "reference", "notes", "approval_status",
            "created_at", "version")},
        "id": p.pk, "contract": {"id": p.contract_id, "number": p.contract.number},
        "customer": {"id": p.customer_id, "name": p.customer.name},
        "matches": [{"instalment": m.instalment_id, "seq": m.instalment.seq, "amount": m.amount} for m in p.matches.all()]
        if detail else None,
        "documents": [document_out(d) for d in p.documents.all()] if detail else None,
    }  # fmt: skip


def receivable_out(i: Any) -> dict[str, Any]:
    return {
        "instalment": instalment_out(i), "contract": {"id": i.contract_id, "number": i.contract.number},
        "customer": {"id": i.customer_id, "name": i.customer.name}, "owner": {"id": i.owner_id, "name": i.owner.label},
        "bucket": i.bucket, "days_overdue": i.days_overdue,
    }  # fmt: skip
