"""Thin REST endpoints of the analytics (ANA-1 … ANA-7): the figures of a scope, scored customers and
the churn watch list, one customer's scores, the funnel, relationship length/depth/breadth, the settings,
the refresh and its runs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Query, Router, Schema, Status
from pydantic import BaseModel

from kehu.access.requests import AuthedRequest
from kehu.core.pagination import clean_window, paginate
from kehu.core.schemas import ERRORS, StrictIn
from kehu.customers.selectors import customer_get

from . import selectors, services
from .refresh import settings_get

router = Router(tags=["analytics"])


class ScoreOut(BaseModel):
    customer: dict[str, Any]
    owner: dict[str, Any] | None
    as_of: date
    orders: int
    purchases: int
    first_purchase_on: date | None
    last_purchase_on: date | None
    recency_days: int | None
    revenue: Decimal
    profit: Decimal | None
    revenue_12m: Decimal
    r_score: int | None
    f_score: int | None
    m_score: int | None
    rfm_class: str
    rfm_class_label: str
    expected_purchases: float | None
    p_alive: float | None
    expected_spend: Decimal | None
    clv: Decimal | None
    lifecycle_stage: str
    lifecycle_label: str
    lifecycle_reason: str
    churn_risk: bool
    churn_since: date | None
    churn_reasons: list[str]


class ScoreListOut(BaseModel):
    items: list[ScoreOut]
    count: int


def score_out(customer: Any, score: Any) -> dict[str, Any]:
    return {
        "customer": {"id": customer.pk, "name": customer.name, "code": customer.code},
        "owner": {"id": customer.owner_id, "name": customer.owner.label} if customer.owner_id else None,
        **{k: getattr(score, k) for k in (
            "as_of", "orders", "purchases", "first_purchase_on", "last_purchase_on", "recency_days", "revenue",
            "profit", "revenue_12m", "r_score", "f_score", "m_score", "rfm_class", "expected_purchases", "p_alive",
            "expected_spend", "clv", "lifecycle_stage", "churn_risk", "churn_since")},
        "rfm_class_label": str(score.get_rfm_class_display()) if score.rfm_class else "",
        "lifecycle_label": str(score.get_lifecycle_stage_display()),
        "lifecycle_reason": score.lifecycle_text,
        "churn_reasons": list(score.churn_texts),
    }  # fmt: skip


class OverviewOut(BaseModel):
    scope: str
    scopes: list[str]
    as_of: date | None
    refreshed_at: datetime | None
    models: dict[str, Any]
    figures: dict[str, Any]


class ListFilters(Schema):
    scope: str | None = None
    rfm_class: str | None = None
    lifecycle: str | None = None
    churn: str | None = None
    owner: int | None = None
    warned_from: str | None = None
    warned_to: str | None = None
    sort: str = "-clv"
    limit: int | None = None
    offset: int | None = None


@router.get("/analytics/overview", response={200: OverviewOut, **ERRORS}, summary="Figures of a view scope")
def get_overview(request: AuthedRequest, scope: str | None = None) -> Any:
    """RFM classes with counts, averages and suggested actions; the Pareto concentration (lifetime and
    12-month revenue, profit) with its curve; lifecycle counts; churn count; CLV total and bands."""
    o = selectors.overview(actor=request.user, scope=scope)
    figures = dict(o.figures)
    if figures:
        figures["classes"] = [
            {**c, "label": str(c["label"]), "action_label": str(c["action_label"])} for c in o.classes
        ]
    return {
        "scope": o.scope, "scopes": o.scopes, "as_of": o.run.as_of if o.run else None,
        "refreshed_at": o.run.finished_at if o.run else None, "models": o.run.models_fit if o.run else {},
        "figures": figures,
    }  # fmt: skip


class PeriodValueOut(BaseModel):
    scope: str
    period: str
    date_from: date
    date_to: date
    as_of: date | None
    revenue: Decimal
    buyers: int
    profit: Decimal | None
    pareto: dict[str, Any] | None
    pareto_profit: dict[str, Any] | None


@router.get(
    "/analytics/value",
    response={200: PeriodValueOut, **ERRORS},
    summary="Revenue per customer in a period and its Pareto concentration (ANA-1)",
    description="`scope`: mine / team / dept / all (default: the widest the roles allow); `period`: week / month "
    "/ quarter / year (default) / custom with `from` and `to` (YYYY-MM-DD, Asia/Shanghai). Every order of the "
    "scope's customers in the period, not cancelled, as of the last refresh (`as_of`); `pareto` as in the "
    "overview (top 20 % share, curve, Gini), `pareto_profit` over the orders of known cost.",
)
def get_period_value(
    request: AuthedRequest,
    scope: str | None = None,
    period: str | None = None,
    date_from: str | None = Query(None, alias="from"),  # type: ignore[type-arg]
    date_to: str | None = Query(None, alias="to"),  # type: ignore[type-arg]
) -> Any:
    v = selectors.period_value(actor=request.user, scope=scope,
                               filters={"period": period, "from": date_from, "to": date_to})  # fmt: skip
    return {
        "scope": v.scope, "period": v.range.period, "date_from": v.range.start, "date_to": v.range.end,
        "as_of": v.as_of, "revenue": v.revenue, "buyers": v.buyers, "profit": v.profit, "pareto": v.pareto,
        "pareto_profit": v.pareto_profit,
    }  # fmt: skip


class TrendPointOut(BaseModel):
    as_of: date
    customers: int
    buyers: int
    classes: dict[str, int]
    lifecycle: dict[str, int]
    churn: int
    clv_total: float | None
    top_value_share: float | None


class TrendOut(BaseModel):
    scope: str
    period: str
    date_from: date
    date_to: date
    items: list[TrendPointOut]


@router.get(
    "/analytics/trend",
    response={200: TrendOut, **ERRORS},
    summary="The figures of each day's refresh in a period, for a scope",
    description="`scope`: mine / team / dept / all (default: the widest the roles allow). `period`: week / month / "
    "quarter / year (default) / custom with `from` and `to`. One item per day with a finished refresh (its last): "
    "customers, buyers, customers per RFM class and lifecycle stage, churn warnings, CLV total. 全部 reads each "
    "refresh's company-wide summary and also gives the top-20 % revenue share; a narrower scope sums the figures "
    "its people's customers had at each refresh (`top_value_share` null: a concentration does not add up over "
    "owners), from the first refresh that kept them.",
)
def get_trend(
    request: AuthedRequest,
    scope: str | None = None,
    period: str | None = None,
    date_from: str | None = Query(None, alias="from"),  # type: ignore[type-arg]
    date_to: str | None = Query(None, alias="to"),  # type: ignore[type-arg]
) -> Any:
    t = selectors.refresh_trend(
        actor=request.user, scope=scope, filters={"period": period, "from": date_from, "to": date_to}
    )
    return {"scope": t.scope, "period": t.range.period, "date_from": t.range.start, "date_to": t.range.end,
            "items": [p.__dict__ for p in t.points]}  # fmt: skip


def _filters(f: ListFilters) -> dict[str, Any]:
    return {k: v for k, v in f.dict().items() if k not in ("scope", "sort", "limit", "offset")}


@router.get(
    "/analytics/customers", response={200: ScoreListOut, **ERRORS}, summary="Scored customers of a scope"
)
def list_scores(request: AuthedRequest, filters: Query[ListFilters]) -> Any:
    page = selectors.scored_page(
        actor=request.user, scope=filters.scope, filters=_filters(filters), sort=filters.sort,
        limit=filters.limit, offset=filters.offset,
    )  # fmt: skip
    return {"items": [score_out(c, c.score) for c in page.items], "count": page.count}


@router.get("/analytics/churn", response={200: ScoreListOut, **ERRORS}, summary="The churn watch list")
def list_churn(request: AuthedRequest, filters: Query[ListFilters]) -> Any:
    page = selectors.churn_watch_list(
        actor=request.user, scope=filters.scope, filters=_filters(filters), sort=filters.sort,
        limit=filters.limit, offset=filters.offset,
    )  # fmt: skip
    return {"items": [score_out(c, c.score) for c in page.items], "count": page.count}


@router.get(
    "/analytics/customers/{customer_id}", response={200: ScoreOut, **ERRORS}, summary="One customer's scores"
)
def get_score(request: AuthedRequest, customer_id: int) -> Any:
    from django.utils.translation import gettext as _

    from kehu.access.perms import Perm
    from kehu.access.scope import require
    from kehu.core.errors import NotFound

    require(request.user, Perm.ANALYTICS_VIEW)
    customer = customer_get(actor=request.user, customer_id=customer_id)
    score = selectors.customer_score(actor=request.user, customer=customer)
    if score is None:
        raise NotFound(_("该客户还没有分析指标（尚未刷新）"), field="customer_id")
    return score_out(customer, score)


class SettingsOut(BaseModel):
    version: int
    rfm_bins: int
    rfm_threshold: str
    p_alive_threshold: Decimal
    rhythm_factor: Decimal
    engagement_window_days: int
    engagement_drop: Decimal
    horizon_months: int
    annual_discount_rate: Decimal
    default_margin: Decimal
    lifecycle_window_days: int
    winback_tasks: bool
    winback_due_days: int
    winback_per_owner: int


class SettingsPatch(StrictIn):
    version: int | None = None
    rfm_bins: int | None = None
    rfm_threshold: str | None = None
    p_alive_threshold: Decimal | None = None
    rhythm_factor: Decimal | None = None
    engagement_window_days: int | None = None
    engagement_drop: Decimal | None = None
    horizon_months: int | None = None
    annual_discount_rate: Decimal | None = None
    default_margin: Decimal | None = None
    lifecycle_window_days: int | None = None
    winback_tasks: bool | None = None
    winback_due_days: int | None = None
    winback_per_owner: int | None = None


def settings_out(s: Any) -> dict[str, Any]:
    return {"version": s.version, **{k: getattr(s, k) for k in services.SETTINGS_FIELDS}}


@router.get("/analytics/settings", response={200: SettingsOut, **ERRORS}, summary="The analytics settings")
def get_settings(request: AuthedRequest) -> Any:
    from kehu.access.perms import Perm
    from kehu.access.scope import require

    require(request.user, Perm.ANALYTICS_VIEW)
    return settings_out(settings_get())


@router.patch(
    "/analytics/settings", response={200: SettingsOut, **ERRORS}, summary="Change the analytics settings"
)
def patch_settings(request: AuthedRequest, payload: SettingsPatch) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version", None)
    return settings_out(services.analytics_settings_update(data=data, version=version, by=request.user))


@router.post(
    "/analytics/refresh", response={202: dict, **ERRORS}, summary="Refresh the analytics now (a job)"
)
def start_refresh(request: AuthedRequest) -> Any:
    job = services.analytics_refresh_start(by=request.user)
    return Status(202, {"job": job.pk, "url": f"/api/v1/jobs/{job.pk}"})


class RunOut(BaseModel):
    id: int
    as_of: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    customers: int
    buyers: int
    orders: int
    models: dict[str, Any]
    timings: dict[str, Any]
    error: str


class RunListOut(BaseModel):
    items: list[RunOut]
    count: int


@router.get("/analytics/runs", response={200: RunListOut, **ERRORS}, summary="Past refreshes")
def list_runs(request: AuthedRequest, limit: int | None = None, offset: int | None = None) -> Any:
    page = selectors.run_list(actor=request.user, limit=limit, offset=offset)
    return {
        "items": [
            {"id": r.pk, "as_of": r.as_of, "status": r.status, "started_at": r.started_at, "finished_at": r.finished_at,
             "customers": r.customers, "buyers": r.buyers, "orders": r.orders, "models": r.models_fit,
             "timings": r.timings, "error": r.error}
            for r in page.items
        ],
        "count": page.count,
    }  # fmt: skip


# --- the funnel (ANA-7) ------------------------------------------------------------------------------------


class FunnelRowOut(BaseModel):
    key: str
    label: str
    leads: int | None
    customers: int
    with_opportunity: int
    won: int
    customer_rate: float | None
    opportunity_rate: float | None
    win_rate: float | None
    overall_rate: float | None
    median_days_to_convert: float | None
    mean_days_to_convert: float | None


class FunnelStepOut(BaseModel):
    key: str
    label: str
    count: int
    rate: float | None


class StageTimeOut(BaseModel):
    stage_id: int
    name: str
    group: str
    default_group: bool
    left: int
    median_days: float | None
    mean_days: float | None
    open_now: int


class LostRowOut(BaseModel):
    label: str
    count: int
    amounts: dict[str, Decimal]


class FunnelOut(BaseModel):
    scope: str
    scopes: list[str]
    period: str
    date_from: date
    date_to: date
    bucket: str
    source: str | None
    owner: int | None
    steps: list[FunnelStepOut]
    total: FunnelRowOut
    by_source: list[FunnelRowOut]
    by_owner: list[FunnelRowOut]
    by_period: list[FunnelRowOut]
    direct: FunnelRowOut
    direct_by_source: list[FunnelRowOut]
    stages: list[StageTimeOut]
    outcomes: dict[str, int]
    win_rate: float | None
    lost_reasons: list[LostRowOut]
    lost_competitors: list[LostRowOut]


def funnel_out(f: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "scope": f.scope, "scopes": f.scopes, "period": f.range.period, "date_from": f.range.start,
        "date_to": f.range.end, "bucket": f.bucket, "source": f.source.code if f.source else None,
        "owner": f.owner.pk if f.owner else None, "steps": f.steps, "total": f.total.as_dict(),
        "by_source": [r.as_dict() for r in f.by_source], "by_owner": [r.as_dict() for r in f.by_owner],
        "by_period": [r.as_dict() for r in f.by_period], "direct": f.direct.as_dict(),
        "direct_by_source": [r.as_dict() for r in f.direct_by_source], "stages": [asdict(s) for s in f.stages],
        "outcomes": f.outcomes, "win_rate": f.win_rate,
        "lost_reasons": [asdict(r) for r in f.lost_reasons], "lost_competitors": [asdict(r) for r in f.lost_competitors],
    }  # fmt: skip


@router.get(
    "/analytics/funnel",
    response={200: FunnelOut, **ERRORS},
    summary="Funnel and conversion: lead → customer → opportunity → won (ANA-7)",
    description="`scope`: mine / team / dept / all (default: the widest the roles allow); `period`: today / "
    "week / month / quarter / year (default) / custom with `from` and `to` (YYYY-MM-DD, Asia/Shanghai); "
    "`source`: a 客户来源 option code; `owner`: a user id; `bucket`: month (default) / quarter. Leads created "
    "in the period, followed to today; see docs/how-to/analytics.md (Funnel) for every definition.",
)
def get_funnel(
    request: AuthedRequest,
    scope: str | None = None,
    period: str | None = None,
    date_from: str | None = Query(None, alias="from"),  # type: ignore[type-arg]
    date_to: str | None = Query(None, alias="to"),  # type: ignore[type-arg]
    source: str | None = None,
    owner: str | None = None,
    bucket: str | None = None,
) -> Any:
    filters = {"scope": scope, "period": period, "from": date_from, "to": date_to, "source": source,
               "owner": owner, "bucket": bucket}  # fmt: skip
    return funnel_out(selectors.funnel_report(actor=request.user, filters=filters))


# --- relationship length, depth and breadth (ANA-6) --------------------------------------------------------


class RelationshipRowOut(BaseModel):
    key: str
    label: str
    revenue: Decimal
    first_revenue: Decimal
    repeat_revenue: Decimal
    cross_sell: Decimal
    up_sell: Decimal
    other_repeat_revenue: Decimal
    referrals: int
    active: int
    gained: int
    retained: int
    won_back: int
    returning: int
    mean_days: float | None
    median_days: float | None
    length_bands: dict[str, int]


class RelationshipCellOut(RelationshipRowOut):
    period: str


class RelationshipOut(BaseModel):
    scope: str
    scopes: list[str]
    period: str
    date_from: date
    date_to: date
    bucket: str
    group: str
    lost_days: int
    stored: bool
    as_of: date | None
    computed_at: datetime | None
    total: RelationshipRowOut
    periods: list[RelationshipRowOut]
    groups: list[RelationshipRowOut]
    cells: list[RelationshipCellOut]
    cells_count: int


def relationship_out(r: Any, *, limit: Any = None, offset: Any = None) -> dict[str, Any]:
    """The report as JSON, its period × group cells a page at a time (``limit``/``offset``, as every list)."""
    cells = paginate(r.cells, limit=limit, offset=offset, count=len(r.cells))
    return {
        "scope": r.scope, "scopes": r.scopes, "period": r.range.period, "date_from": r.range.start,
        "date_to": r.range.end, "bucket": r.bucket, "group": r.group, "lost_days": r.lost_days,
        "stored": r.stored, "as_of": r.as_of, "computed_at": r.computed_at,
        "total": r.total.as_dict(), "periods": [p.as_dict() for p in r.periods],
        "groups": [g.as_dict() for g in r.groups],
        "cells": [{**c.as_dict(), "period": p.label} for p, c in cells.items], "cells_count": cells.count,
    }  # fmt: skip


@router.get(
    "/analytics/relationship",
    response={200: RelationshipOut, **ERRORS},
    summary="Relationship length, depth and breadth per period and person or department (ANA-6)",
    description="`scope`: mine / team / dept / all (default: the widest the roles allow); `period`: today / "
    "week / month / quarter / year (default) / custom with `from` and `to` (YYYY-MM-DD, Asia/Shanghai); "
    "`bucket`: month (default) / quarter; `group`: owner (default) / department; `lost_days`: the gap in "
    "days after which a returning customer counts as won back (default 365, 30–1095); `live`: 1 to compute "
    "the report now rather than read the periods the nightly refresh stored (`stored`, `as_of`, `computed_at` "
    "say which; stored periods serve readers who see every order, for whole months or quarters of this year and "
    "the last and the default `lost_days`). `cells` (period × group) come a page at a time: `limit` (default 25, "
    "at most 200) and `offset`, `cells_count` all of them; `total`, `periods` and `groups` are whole. Money as "
    "decimal strings; see docs/how-to/analytics.md (Relationship length, depth and breadth) for every rule.",
)
def get_relationship(
    request: AuthedRequest,
    scope: str | None = None,
    period: str | None = None,
    date_from: str | None = Query(None, alias="from"),  # type: ignore[type-arg]
    date_to: str | None = Query(None, alias="to"),  # type: ignore[type-arg]
    bucket: str | None = None,
    group: str | None = None,
    lost_days: str | None = None,
    live: str | None = None,
    limit: str | None = None,
    offset: str | None = None,
) -> Any:
    filters = {"scope": scope, "period": period, "from": date_from, "to": date_to, "bucket": bucket,
               "group": group, "lost_days": lost_days, "live": live}  # fmt: skip
    clean_window(limit, offset)  # refused before the report is computed
    return relationship_out(
        selectors.relationship_report(actor=request.user, filters=filters), limit=limit, offset=offset
    )
