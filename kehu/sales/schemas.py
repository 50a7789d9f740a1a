"""API schemas of the pipeline (SAL-3, SAL-4): strict input, outputs built from dicts by the *_out functions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import (
    Competitor,
    Opportunity,
    OpportunityContact,
    OpportunityProduct,
    Stage,
    StageChange,
    StageGroup,
)
from .rules import Warning
from .selectors import Board, Card, ForecastRow


class OpportunityCreateIn(StrictIn):
    customer: int
    name: str
    amount: Decimal = Decimal("0")
    currency: str = "CNY"
    expected_close: date | None = None
    description: str = ""


class OpportunityPatchIn(StrictIn):
    version: int
    name: str | None = None
    amount: Decimal | None = None
    currency: str | None = None
    expected_close: date | None = None
    description: str | None = None
    amount_from_lines: bool | None = None


class MoveIn(StrictIn):
    version: int
    stage: int
    after_id: int | None = None
    before_id: int | None = None


class WinIn(StrictIn):
    version: int
    reason: str = ""


class LoseIn(StrictIn):
    version: int
    reason: str
    competitor: str


class InvalidateIn(StrictIn):
    version: int
    reason: str


class ReopenIn(StrictIn):
    version: int
    stage: int | None = None


class TransferIn(StrictIn):
    version: int
    to_user: int


class LineIn(StrictIn):
    product: int
    quantity: Decimal = Decimal("1")
    unit_price: Decimal | None = None
    discount: Decimal = Decimal("0")
    notes: str = ""


class LinePatchIn(StrictIn):
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    discount: Decimal | None = None
    notes: str | None = None


class MemberIn(StrictIn):
    contact: int
    roles: list[str]
    stance: str = "neutral"
    influence: int = 3
    notes: str = ""


class MemberPatchIn(StrictIn):
    roles: list[str] | None = None
    stance: str | None = None
    influence: int | None = None
    notes: str | None = None


class CompetitorIn(StrictIn):
    name: str
    strengths: str = ""
    weaknesses: str = ""
    price_position: str = "similar"
    notes: str = ""


class CompetitorPatchIn(StrictIn):
    name: str | None = None
    strengths: str | None = None
    weaknesses: str | None = None
    price_position: str | None = None
    notes: str | None = None


class StageIn(StrictIn):
    id: int | None = None
    name: str
    name_en: str = ""
    probability: int
    past_proposal: bool = False


class StageGroupIn(StrictIn):
    name: str
    name_en: str = ""
    stages: list[StageIn]
    departments: list[int] = []


class StageGroupPatchIn(StrictIn):
    version: int
    name: str | None = None
    name_en: str | None = None
    stages: list[StageIn] | None = None
    departments: list[int] | None = None


class WarningOut(BaseModel):
    code: str
    message: str


class StageOut(BaseModel):
    id: int
    name: str
    kind: str
    order: int
    probability: int
    past_proposal: bool


class LineOut(BaseModel):
    id: int
    product: dict[str, Any]
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal
    notes: str


class MemberOut(BaseModel):
    id: int
    contact: dict[str, Any]
    roles: list[str]
    role_labels: list[str]
    stance: str
    influence: int
    notes: str


class CompetitorOut(BaseModel):
    id: int
    name: str
    strengths: str
    weaknesses: str
    price_position: str
    notes: str


class StageChangeOut(BaseModel):
    id: int
    from_stage: str | None
    to_stage: str
    by: str | None
    at: datetime
    note: str


class OpportunityOut(BaseModel):
    id: int
    code: str
    name: str
    customer: dict[str, Any]
    owner: dict[str, Any]
    department: dict[str, Any] | None
    stage_group: int
    stage: StageOut
    status: str
    amount: Decimal
    currency: str
    amount_from_lines: bool
    weighted_amount: Decimal
    expected_close: date | None
    rank: int
    closed_at: datetime | None
    close_reason: str
    lost_to: str
    description: str
    created_at: datetime
    updated_at: datetime
    version: int


class OpportunityDetailOut(OpportunityOut):
    lines: list[LineOut]
    buying_centre: list[MemberOut]
    competitors: list[CompetitorOut]
    warnings: list[WarningOut]


class OpportunityListOut(BaseModel):
    items: list[OpportunityOut]
    count: int


class BuyingCentreOut(BaseModel):
    items: list[MemberOut]
    warnings: list[WarningOut]


class CardOut(BaseModel):
    id: int
    code: str
    name: str
    customer: str
    owner: str
    amount: Decimal
    currency: str
    expected_close: date | None
    rank: int
    version: int
    warnings: list[WarningOut]


class ColumnOut(BaseModel):
    stage: StageOut
    count: int
    totals: list[dict[str, Any]]
    cards: list[CardOut]
    has_more: bool


class BoardOut(BaseModel):
    group: dict[str, Any]
    columns: list[ColumnOut]


class ForecastRowOut(BaseModel):
    key: str | None
    label: str
    currency: str
    count: int
    amount: Decimal
    weighted: Decimal


class ForecastOut(BaseModel):
    scope: str
    by: str
    items: list[ForecastRowOut]


class StageGroupOut(BaseModel):
    id: int
    name: str
    name_en: str
    is_default: bool
    departments: list[dict[str, Any]]
    stages: list[StageOut]
    version: int


def warning_out(w: Warning) -> dict[str, Any]:
    return {"code": w.code, "message": w.text()}


def stage_out(s: Stage) -> dict[str, Any]:
    return {
        "id": s.pk, "name": str(s), "kind": s.kind, "order": s.order,
        "probability": s.probability, "past_proposal": s.past_proposal,
    }  # fmt: skip


def opportunity_out(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.pk,
        "code": o.code,
        "name": o.name,
        "customer": {"id": o.customer_id, "code": o.customer.code, "name": o.customer.name},
        "owner": {"id": o.owner_id, "name": o.owner.label},
        "department": {"id": o.department_id, "name": o.department.name} if o.department else None,
        "stage_group": o.stage_group_id,
        "stage": stage_out(o.stage),
        "status": o.status,
        "amount": o.amount,
        "currency": o.currency,
        "amount_from_lines": o.amount_from_lines,
        "weighted_amount": o.weighted_amount,
        "expected_close": o.expected_close,
        "rank": o.rank,
        "closed_at": o.closed_at,
        "close_reason": o.close_reason,
        "lost_to": o.lost_to,
        "description": o.description,
        "created_at": o.created_at,
        "updated_at": o.updated_at,
        "version": o.version,
    }


def line_out(line: OpportunityProduct) -> dict[str, Any]:
    return {
        "id": line.pk,
        "product": {"id": line.product_id, "code": line.product.code, "name": line.product.name},
        "quantity": line.quantity,
        "unit_price": line.unit_price,
        "discount": line.discount,
        "amount": line.amount,
        "notes": line.notes,
    }


def member_out(m: OpportunityContact) -> dict[str, Any]:
    return {
        "id": m.pk,
        "contact": {"id": m.contact_id, "name": m.contact.name, "position": m.contact.position},
        "roles": list(m.roles),
        "role_labels": m.role_labels(),
        "stance": m.stance,
        "influence": m.influence,
        "notes": m.notes,
    }


def competitor_out(c: Competitor) -> dict[str, Any]:
    return {
        "id": c.pk, "name": c.name, "strengths": c.strengths, "weaknesses": c.weaknesses,
        "price_position": c.price_position, "notes": c.notes,
    }  # fmt: skip


def stage_change_out(c: StageChange) -> dict[str, Any]:
    return {
        "id": c.pk,
        "from_stage": str(c.from_stage) if c.from_stage else None,
        "to_stage": str(c.to_stage),
        "by": c.by.label if c.by else None,
        "at": c.at,
        "note": c.note,
    }


def card_out(o: Card) -> dict[str, Any]:
    return {
        "id": o.pk, "code": o.code, "name": o.name, "customer": o.customer_name, "owner": o.owner_label,
        "amount": o.amount, "currency": o.currency, "expected_close": o.expected_close, "rank": o.rank,
        "version": o.version, "warnings": [warning_out(w) for w in o.warnings],
    }  # fmt: skip


def board_out(b: Board) -> dict[str, Any]:
    return {
        "group": {"id": b.group.pk, "name": str(b.group)},
        "columns": [
            {
                "stage": stage_out(c.stage),
                "count": c.count,
                "totals": [
                    {"currency": t.currency, "amount": str(t.amount), "weighted": str(t.weighted)}
                    for t in c.totals
                ],
                "cards": [card_out(o) for o in c.cards],
                "has_more": c.has_more,
            }
            for c in b.columns
        ],
    }


def forecast_row_out(r: ForecastRow) -> dict[str, Any]:
    key = r.key.isoformat()[:7] if isinstance(r.key, date) else (None if r.key is None else str(r.key))
    return {
        "key": key,
        "label": r.label,
        "currency": r.currency,
        "count": r.count,
        "amount": r.amount,
        "weighted": r.weighted,
    }


def stage_group_out(g: StageGroup) -> dict[str, Any]:
    return {
        "id": g.pk,
        "name": g.name,
        "name_en": g.name_en,
        "is_default": g.is_default,
        "departments": [{"id": d.pk, "name": d.name} for d in g.departments.all()],
        "stages": [stage_out(s) for s in sorted(g.stages.all(), key=lambda s: s.order)],
        "version": g.version,
    }
