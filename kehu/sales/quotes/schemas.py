"""API schemas of quotations (SAL-5): strict input, outputs built by the *_out functions."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.urls import reverse
from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import Letterhead, Quote, QuoteLine
from .rules import amount_in_words
from .selectors import ProductHistory


class LetterheadPatchIn(StrictIn):
    version: int  # the stored letterhead's (1 before the first save)
    company_name: str | None = None
    company_name_en: str | None = None
    address: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    tax_number: str | None = None
    bank_name: str | None = None
    bank_account: str | None = None
    default_terms: str | None = None
    default_valid_days: int | None = None
    discount_threshold: Decimal | None = None


class LetterheadOut(BaseModel):
    company_name: str
    company_name_en: str
    address: str
    phone: str
    email: str
    website: str
    tax_number: str
    bank_name: str
    bank_account: str
    default_terms: str
    default_valid_days: int
    discount_threshold: Decimal
    logo_url: str | None
    version: int


def letterhead_out(l: Letterhead) -> dict[str, Any]:  # noqa: E741
    return {
        "company_name": l.company_name, "company_name_en": l.company_name_en, "address": l.address,
        "phone": l.phone, "email": l.email, "website": l.website, "tax_number": l.tax_number,
        "bank_name": l.bank_name, "bank_account": l.bank_account, "default_terms": l.default_terms,
        "default_valid_days": l.default_valid_days, "discount_threshold": l.discount_threshold,
        "logo_url": reverse("api:letterhead_logo") if l.logo else None, "version": l.version,
    }  # fmt: skip


class QuoteFields(StrictIn):
    title: str | None = None
    contact: int | None = None
    opportunity: int | None = None
    currency: str | None = None
    exchange_rate: Decimal | None = None
    quoted_on: date | None = None
    valid_until: date | None = None
    terms: str | None = None
    notes: str | None = None
    competitor_notes: str | None = None
    annual_volume_notes: str | None = None


class QuoteCreateIn(QuoteFields):
    customer: int
    title: str


class QuotePatchIn(QuoteFields):
    version: int


class LineFields(StrictIn):
    product: int | None = None
    name: str | None = None
    model: str | None = None
    specification: str | None = None
    packaging: str | None = None
    features: str | None = None
    unit: str | None = None
    unit_price: Decimal | None = None
    quantity: Decimal | None = None
    discount: Decimal | None = None
    unit_cost: Decimal | None = None
    cost_components: dict[str, Decimal] | None = None
    # The quote's version: when given, a stale one is refused (409).
    version: int | None = None


class LineCreateIn(LineFields):
    quantity: Decimal


class DecisionIn(StrictIn):
    note: str = ""


class LineOut(BaseModel):
    id: int
    position: int
    product: dict[str, Any] | None
    name: str
    model: str
    specification: str
    packaging: str
    features: str
    unit: str
    has_picture: bool
    list_price: Decimal
    unit_price: Decimal
    quantity: Decimal
    discount: Decimal
    amount: Decimal
    unit_cost: Decimal
    cost_components: dict[str, Any]
    margin: Decimal | None


class QuoteOut(BaseModel):
    id: int
    number: str
    revision: int
    label: str
    is_current: bool
    previous: int | None
    title: str
    customer: dict[str, Any]
    opportunity: dict[str, Any] | None
    contact: dict[str, Any] | None
    owner: dict[str, Any]
    currency: str
    exchange_rate: Decimal
    quoted_on: date
    valid_until: date | None
    terms: str
    notes: str
    competitor_notes: str
    annual_volume_notes: str
    status: str
    status_label: str
    approval_status: str
    needs_approval: bool
    subtotal: Decimal
    discount_amount: Decimal
    total: Decimal
    total_cny: Decimal
    total_in_words: str
    cost_total: Decimal
    margin: Decimal | None
    max_discount: Decimal
    sent_at: datetime | None
    decided_at: datetime | None
    decision_note: str
    lines: list[LineOut] | None = None
    pdf_url: str
    xlsx_url: str
    created_at: datetime
    updated_at: datetime
    version: int


class QuoteListOut(BaseModel):
    items: list[QuoteOut]
    count: int


class HistoryRowOut(BaseModel):
    quote_id: int
    label: str
    title: str
    customer_id: int
    customer_name: str
    quoted_on: date
    status: str
    status_label: str
    opportunity_status: str | None
    opportunity_status_label: str | None
    currency: str
    exchange_rate: Decimal
    unit_price: Decimal
    list_price: Decimal
    discount: Decimal
    quantity: Decimal
    unit_cost: Decimal
    cost_components: dict[str, Any]
    margin: Decimal | None
    competitor_notes: str
    annual_volume_notes: str


class ProductHistoryOut(BaseModel):
    product_id: int
    product_name: str
    same_customer: list[HistoryRowOut]
    similar_customers: list[HistoryRowOut]


def line_out(line: QuoteLine) -> dict[str, Any]:
    return {
        "id": line.pk, "position": line.position,
        "product": {"id": line.product_id, "code": line.product.code} if line.product_id and line.product else None,
        "name": line.name, "model": line.model, "specification": line.specification, "packaging": line.packaging,
        "features": line.features, "unit": line.unit, "has_picture": bool(line.picture),
        "list_price": line.list_price, "unit_price": line.unit_price, "quantity": line.quantity,
        "discount": line.discount, "amount": line.amount, "unit_cost": line.unit_cost,
        "cost_components": line.cost_components, "margin": line.margin,
    }  # fmt: skip


def quote_out(
    q: Quote, *, lines: list[QuoteLine] | None = None, needs_approval: bool = False
) -> dict[str, Any]:
    in_words = amount_in_words(q.total if q.currency == "CNY" else q.total_cny)
    return {
        "id": q.pk, "number": q.number, "revision": q.revision, "label": q.label, "is_current": q.is_current,
        "previous": q.previous_id, "title": q.title,
        "customer": {"id": q.customer_id, "code": q.customer.code, "name": q.customer.name},
        "opportunity": {"id": q.opportunity_id, "name": q.opportunity.name, "status": q.opportunity.status}
        if q.opportunity_id and q.opportunity else None,
        "contact": {"id": q.contact_id, "name": q.contact.name} if q.contact_id and q.contact else None,
        "owner": {"id": q.owner_id, "name": q.owner.label},
        "currency": q.currency, "exchange_rate": q.exchange_rate, "quoted_on": q.quoted_on,
        "valid_until": q.valid_until, "terms": q.terms, "notes": q.notes, "competitor_notes": q.competitor_notes,
        "annual_volume_notes": q.annual_volume_notes, "status": q.status, "status_label": str(q.get_status_display()),
        "approval_status": q.approval_status, "needs_approval": needs_approval, "subtotal": q.subtotal,
        "discount_amount": q.discount_amount, "total": q.total, "total_cny": q.total_cny,
        "total_in_words": in_words, "cost_total": q.cost_total, "margin": q.margin, "max_discount": q.max_discount,
        "sent_at": q.sent_at, "decided_at": q.decided_at, "decision_note": q.decision_note,
        "lines": [line_out(line) for line in lines] if lines is not None else None,
        "pdf_url": reverse("api:quote_pdf", args=[q.pk]), "xlsx_url": reverse("api:quote_xlsx", args=[q.pk]),
        "created_at": q.created_at, "updated_at": q.updated_at, "version": q.version,
    }  # fmt: skip


def history_out(h: ProductHistory) -> dict[str, Any]:
    return {
        "product_id": h.product_id,
        "product_name": h.product_name,
        "same_customer": [asdict(r) for r in h.same_customer],
        "similar_customers": [asdict(r) for r in h.similar_customers],
    }
