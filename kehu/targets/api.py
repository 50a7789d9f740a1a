"""Thin REST endpoints of sales targets (SAL-8): progress, ranking, and setting goals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import BaseModel

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS, StrictIn

from . import selectors, services
from .rules import parse_period_key
from .schemas import (
    TargetIn,
    TargetOut,
    TargetPatch,
    TargetProgressListOut,
    TargetProgressOut,
    progress_out,
    target_out,
)

router = Router(tags=["targets"])


def _period(key: str | None) -> Any:
    """``2026-12`` / ``2026-Q4`` / ``2026``; the current month when absent."""
    from django.utils import timezone

    from .choices import PeriodKind
    from .rules import period_of

    return parse_period_key(key) if key else period_of(PeriodKind.MONTH, timezone.localdate())


class ProgressFilters(Schema):
    period: str | None = None  # 2026-12, 2026-Q4 or 2026; default this month
    metric: str | None = None
    subject: str | None = None  # user / department
    sort: str = "-percent"
    limit: int | None = None
    offset: int | None = None


class RankingFilters(Schema):
    period: str | None = None
    metric: str = "contract_amount"


@router.get(
    "/targets", response={200: TargetProgressListOut, **ERRORS}, summary="Targets of a period with progress"
)
def list_targets(request: AuthedRequest, filters: Query[ProgressFilters]) -> Any:
    period = _period(filters.period)
    page = selectors.target_progress(
        actor=request.user,
        period=period,
        metric=filters.metric,
        subject=filters.subject,
        sort=filters.sort,
        limit=filters.limit,
        offset=filters.offset,
    )
    return {"items": [progress_out(r) for r in page.items], "count": page.count, "period": period.key}


@router.get(
    "/targets/ranking", response={200: list[TargetProgressOut], **ERRORS}, summary="Ranking by completion"
)
def ranking(request: AuthedRequest, filters: Query[RankingFilters]) -> Any:
    rows = selectors.target_ranking(actor=request.user, period=_period(filters.period), metric=filters.metric)
    return [progress_out(r) for r in rows]


@router.post("/targets", response={201: TargetOut, **ERRORS}, summary="Set a target")
def create_target(request: AuthedRequest, payload: TargetIn) -> Any:
    target = services.target_create(**payload.dict(), by=request.user)
    return Status(201, target_out(target))


@router.get("/targets/{target_id}", response={200: TargetOut, **ERRORS})
def get_target(request: AuthedRequest, target_id: int) -> Any:
    return target_out(selectors.target_get(actor=request.user, target_id=target_id))


@router.patch("/targets/{target_id}", response={200: TargetOut, **ERRORS}, summary="Change a target")
def update_target(request: AuthedRequest, target_id: int, payload: TargetPatch) -> Any:
    target = services.target_update(
        target_id=target_id,
        version=payload.version,
        value=payload.value,
        notes=payload.notes,
        by=request.user,
    )
    return target_out(target)


@router.delete("/targets/{target_id}", response={204: None, **ERRORS}, summary="Remove a target")
def delete_target(request: AuthedRequest, target_id: int) -> Any:
    services.target_delete(target_id=target_id, by=request.user)
    return Status(204, None)


# ---- exchange rates ---------------------------------------------------------------------------------


class ExchangeRateIn(StrictIn):
    currency: str
    month: str  # 2026-11
    rate: str


class ExchangeRateOut(BaseModel):
    id: int
    currency: str
    month: str
    rate: Decimal
    version: int


def _rate_out(row: Any) -> dict[str, Any]:
    return {"id": row.pk, "currency": row.currency, "month": f"{row.month:%Y-%m}",
            "rate": Decimal(row.rate).quantize(Decimal("0.000001")),
            "version": row.version}  # fmt: skip


@router.get("/exchange-rates", response={200: list[ExchangeRateOut], **ERRORS},
            summary="The CNY rates money targets convert other currencies with")  # fmt: skip
def list_rates(request: AuthedRequest) -> Any:
    return [_rate_out(r) for r in selectors.exchange_rate_list(actor=request.user)]


@router.put("/exchange-rates", response={200: ExchangeRateOut, **ERRORS},
            summary="Enter or correct a currency's rate for a month")  # fmt: skip
def set_rate(request: AuthedRequest, payload: ExchangeRateIn) -> Any:
    return _rate_out(services.exchange_rate_set(**payload.dict(), by=request.user))


@router.delete("/exchange-rates/{rate_id}", response={204: None, **ERRORS}, summary="Remove a rate")
def delete_rate(request: AuthedRequest, rate_id: int) -> Any:
    services.exchange_rate_delete(rate_id=rate_id, by=request.user)
    return Status(204, None)
