"""API schemas of leads (SAL-1, SAL-2): strict input, outputs built from dicts by the *_out functions.

Mobile numbers are masked (SEC-2) for those who may not reveal customers' numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from kehu.access.perms import Perm
from kehu.access.scope import can
from kehu.core.identity import mask_mobile
from kehu.core.schemas import StrictIn

from .models import Lead, LeadForm, RiskRule


class LeadLineIn(StrictIn):
    product: int | str
    quantity: Decimal | int | str = "0"
    unit: str = ""
    samples: int = 0


class LeadFields(StrictIn):
    source: str | None = None
    company_name: str | None = None
    contact_name: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    website: str | None = None
    province: str | None = None
    city: str | None = None
    content: str | None = None
    delivery: str | None = None
    samples_requested: int | None = None
    lines: list[LeadLineIn] | None = None


class LeadCreateIn(LeadFields):
    contact_name: str
    owner: int | None = None  # omitted: the caller; null: the lead pool


class LeadPatchIn(LeadFields):
    version: int


class VersionIn(StrictIn):
    version: int | None = None


class AssignIn(StrictIn):
    to_user: int


class ReleaseIn(StrictIn):
    reason: str = ""


class DiscardIn(StrictIn):
    reason: str
    note: str = ""
    version: int | None = None


class ReviewIn(StrictIn):
    comment: str


class ConvertIn(StrictIn):
    customer_id: int | None = None
    confirm_new: bool = False
    opportunity_name: str = ""
    amount: Decimal | None = None
    version: int | None = None


class CaptureIn(StrictIn):
    """A post of a public web form: the form's token and stamp, the honeypot ``url`` (leave empty)."""

    token: str
    stamp: str = ""
    url: str = ""
    company_name: str | None = None
    contact_name: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    website: str | None = None
    province: str | None = None
    city: str | None = None
    content: str | None = None
    delivery: str | None = None
    samples_requested: int | None = None
    lines: list[LeadLineIn] | None = None


class CaptureOut(BaseModel):
    ok: bool
    message: str


class StampOut(BaseModel):
    stamp: str
    min_seconds: int


class RiskRulePatchIn(StrictIn):
    version: int
    points: int | None = None
    params: dict[str, Any] | None = None
    is_active: bool | None = None


class RiskSettingsIn(StrictIn):
    threshold: int
    version: int | None = None


class LeadFormIn(StrictIn):
    name: str
    source: str | None = None
    owner: int | None = None
    title: str | None = None
    thanks: str | None = None
    min_seconds: int | None = None
    is_active: bool | None = None


class LeadFormPatchIn(StrictIn):
    version: int
    name: str | None = None
    source: str | None = None
    owner: int | None = None
    title: str | None = None
    thanks: str | None = None
    min_seconds: int | None = None
    is_active: bool | None = None


class LeadOut(BaseModel):
    id: int
    code: str
    channel: str
    source: dict[str, Any] | None
    company_name: str
    contact_name: str
    mobile: str
    phone: str
    email: str
    wechat: str
    website: str
    province: str
    city: str
    content: str
    delivery: str
    samples_requested: int
    lines: list[dict[str, Any]]
    owner: dict[str, Any] | None
    status: str
    status_label: str
    risk_score: int
    risk_reasons: list[dict[str, Any]]
    flagged_for_review: bool
    reviewed_by: dict[str, Any] | None
    reviewed_at: datetime | None
    review_comment: str
    samples_sent_at: datetime | None
    discard_reason: str
    discard_note: str
    converted: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    version: int


class LeadListOut(BaseModel):
    items: list[LeadOut]
    count: int


class RiskRuleOut(BaseModel):
    id: int
    kind: str
    label: str
    points: int
    params: dict[str, Any]
    is_active: bool
    version: int


class RiskSettingsOut(BaseModel):
    threshold: int
    version: int


class LeadFormOut(BaseModel):
    id: int
    name: str
    token: str
    url: str
    source: str | None
    owner: dict[str, Any] | None
    title: str
    thanks: str
    min_seconds: int
    is_active: bool
    version: int


class RescoreOut(BaseModel):
    """The rescoring job: its id and where to follow it (its ``result`` says how many were scored)."""

    job: int
    url: str


def _user(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.label} if user is not None else None


def lead_out(lead: Lead, *, actor: Any) -> dict[str, Any]:
    reveal = can(actor, Perm.CUSTOMER_REVEAL)
    converted = None
    if lead.converted_customer_id:
        converted = {
            "customer_id": lead.converted_customer_id,
            "contact_id": lead.converted_contact_id,
            "opportunity_id": lead.converted_opportunity_id,
            "at": lead.converted_at,
        }
    return {
        "id": lead.pk, "code": lead.code, "channel": lead.channel,
        "source": {"code": lead.source.code, "label": lead.source.display} if lead.source else None,
        "company_name": lead.company_name, "contact_name": lead.contact_name,
        "mobile": lead.mobile if reveal else mask_mobile(lead.mobile), "phone": lead.phone, "email": lead.email,
        "wechat": lead.wechat, "website": lead.website, "province": lead.province, "city": lead.city,
        "content": lead.content, "delivery": lead.delivery, "samples_requested": lead.samples_requested,
        "lines": [
            {"product": {"id": ln.product_id, "code": ln.product.code, "name": ln.product.name},
             "quantity": str(ln.quantity), "unit": ln.unit, "samples": ln.samples}
            for ln in lead.lines.all()
        ],
        "owner": _user(lead.owner), "status": lead.status, "status_label": str(lead.get_status_display()),
        "risk_score": lead.risk_score, "risk_reasons": lead.risk_reasons or [],
        "flagged_for_review": lead.flagged_for_review, "reviewed_by": _user(lead.reviewed_by),
        "reviewed_at": lead.reviewed_at, "review_comment": lead.review_comment,
        "samples_sent_at": lead.samples_sent_at, "discard_reason": lead.discard_reason,
        "discard_note": lead.discard_note, "converted": converted, "created_at": lead.created_at,
        "updated_at": lead.updated_at, "version": lead.version,
    }  # fmt: skip


def risk_rule_out(rule: RiskRule) -> dict[str, Any]:
    return {
        "id": rule.pk, "kind": rule.kind, "label": str(rule.get_kind_display()), "points": rule.points,
        "params": rule.params or {}, "is_active": rule.is_active, "version": rule.version,
    }  # fmt: skip


def lead_form_out(form: LeadForm, *, url: str) -> dict[str, Any]:
    return {
        "id": form.pk, "name": form.name, "token": form.token, "url": url,
        "source": form.source.code if form.source else None, "owner": _user(form.owner), "title": form.title,
        "thanks": form.thanks, "min_seconds": form.min_seconds, "is_active": form.is_active,
        "version": form.version,
    }  # fmt: skip
