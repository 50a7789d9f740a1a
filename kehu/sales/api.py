"""Thin REST endpoints over the pipeline services and selectors (SAL-3, SAL-4): opportunities and their
transitions, product lines, buying centre, competitors, the kanban board, the forecast, stage groups."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema, Status

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS

from . import selectors, services
from .schemas import (
    BoardOut,
    BuyingCentreOut,
    CardOut,
    CompetitorIn,
    CompetitorOut,
    CompetitorPatchIn,
    ForecastOut,
    InvalidateIn,
    LineIn,
    LineOut,
    LinePatchIn,
    LoseIn,
    MemberIn,
    MemberOut,
    MemberPatchIn,
    MoveIn,
    OpportunityCreateIn,
    OpportunityDetailOut,
    OpportunityListOut,
    OpportunityOut,
    OpportunityPatchIn,
    ReopenIn,
    StageChangeOut,
    StageGroupIn,
    StageGroupOut,
    StageGroupPatchIn,
    TransferIn,
    WinIn,
    board_out,
    card_out,
    competitor_out,
    forecast_row_out,
    line_out,
    member_out,
    opportunity_out,
    stage_change_out,
    stage_group_out,
    warning_out,
)

router = Router(tags=["pipeline"])


class OpportunityFilters(Schema):
    status: str | None = None
    stage: int | None = None
    stage_group: int | None = None
    owner: int | None = None
    department: int | None = None
    close_month: str | None = None
    customer: int | None = None
    q: str | None = None
    sort: str = "-created_at"
    limit: int | None = None
    offset: int | None = None


def _detail(request: AuthedRequest, opportunity_id: int) -> dict[str, Any]:
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    members = selectors.buying_centre(opportunity=opp)
    return {
        **opportunity_out(opp),
        "lines": [line_out(x) for x in selectors.opportunity_lines(opportunity=opp)],
        "buying_centre": [member_out(m) for m in members],
        "competitors": [competitor_out(c) for c in selectors.competitors(opportunity=opp)],
        "warnings": [
            warning_out(w) for w in selectors.opportunity_warnings(opportunity=opp, members=members)
        ],
    }


@router.get("/opportunities", response={200: OpportunityListOut, **ERRORS}, summary="List opportunities")
def list_opportunities(request: AuthedRequest, filters: Query[OpportunityFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.opportunity_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [opportunity_out(o) for o in page.items], "count": page.count}


@router.post("/opportunities", response={201: OpportunityDetailOut, **ERRORS}, summary="Open an opportunity")
def create_opportunity(request: AuthedRequest, payload: OpportunityCreateIn) -> Any:
    data = payload.dict()
    opp = services.opportunity_create(customer_id=data.pop("customer"), by=request.user, **data)
    return Status(201, _detail(request, opp.pk))


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS})
def get_opportunity(request: AuthedRequest, opportunity_id: int) -> Any:
    return _detail(request, opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityDetailOut, **ERRORS})
def update_opportunity(request: AuthedRequest, opportunity_id: int, payload: OpportunityPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.opportunity_update(opportunity_id=opportunity_id, version=version, data=data, by=request.user)
    return _detail(request, opportunity_id)


@router.delete("/opportunities/{opportunity_id}", response={204: None, **ERRORS})
def delete_opportunity(request: AuthedRequest, opportunity_id: int) -> Any:
    services.opportunity_delete(opportunity_id=opportunity_id, by=request.user)
    return Status(204, None)


@router.post(
    "/opportunities/{opportunity_id}/move",
    response={200: OpportunityOut, **ERRORS},
    summary="Move to a stage / reorder on the board",
)
def move_opportunity(request: AuthedRequest, opportunity_id: int, payload: MoveIn) -> Any:
    opp = services.opportunity_move_stage(
        opportunity_id=opportunity_id, version=payload.version, stage_id=payload.stage,
        after_id=payload.after_id, before_id=payload.before_id, by=request.user,
    )  # fmt: skip
    return opportunity_out(opp)


@router.post("/opportunities/{opportunity_id}/win", response={200: OpportunityOut, **ERRORS})
def win_opportunity(request: AuthedRequest, opportunity_id: int, payload: WinIn) -> Any:
    services.opportunity_win(
        opportunity_id=opportunity_id, version=payload.version, reason=payload.reason, by=request.user
    )
    return opportunity_out(selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id))


@router.post("/opportunities/{opportunity_id}/lose", response={200: OpportunityOut, **ERRORS})
def lose_opportunity(request: AuthedRequest, opportunity_id: int, payload: LoseIn) -> Any:
    services.opportunity_lose(
        opportunity_id=opportunity_id, version=payload.version, reason=payload.reason,
        competitor=payload.competitor, by=request.user,
    )  # fmt: skip
    return opportunity_out(selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id))


@router.post("/opportunities/{opportunity_id}/invalidate", response={200: OpportunityOut, **ERRORS})
def invalidate_opportunity(request: AuthedRequest, opportunity_id: int, payload: InvalidateIn) -> Any:
    services.opportunity_invalidate(
        opportunity_id=opportunity_id, version=payload.version, reason=payload.reason, by=request.user
    )
    return opportunity_out(selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id))


@router.post("/opportunities/{opportunity_id}/reopen", response={200: OpportunityOut, **ERRORS})
def reopen_opportunity(request: AuthedRequest, opportunity_id: int, payload: ReopenIn) -> Any:
    services.opportunity_reopen(
        opportunity_id=opportunity_id, version=payload.version, stage_id=payload.stage, by=request.user
    )
    return opportunity_out(selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id))


@router.post("/opportunities/{opportunity_id}/transfer", response={200: OpportunityOut, **ERRORS})
def transfer_opportunity(request: AuthedRequest, opportunity_id: int, payload: TransferIn) -> Any:
    # The answer is the handed-over record itself: it may now lie outside the caller's scope.
    opp = services.opportunity_transfer(
        opportunity_id=opportunity_id, version=payload.version, to_user_id=payload.to_user, by=request.user
    )
    return opportunity_out(opp)


@router.get("/opportunities/{opportunity_id}/stage-changes", response={200: list[StageChangeOut], **ERRORS})
def list_stage_changes(request: AuthedRequest, opportunity_id: int) -> Any:
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    return [stage_change_out(c) for c in selectors.stage_history(opportunity=opp)]


# --- product lines ---------------------------------------------------------------------------------


@router.post("/opportunities/{opportunity_id}/lines", response={201: LineOut, **ERRORS})
def add_line(request: AuthedRequest, opportunity_id: int, payload: LineIn) -> Any:
    line = services.opportunity_line_add(opportunity_id=opportunity_id, data=payload.dict(), by=request.user)
    return Status(201, line_out(line))


@router.patch("/opportunities/{opportunity_id}/lines/{line_id}", response={200: LineOut, **ERRORS})
def update_line(request: AuthedRequest, opportunity_id: int, line_id: int, payload: LinePatchIn) -> Any:
    line = services.opportunity_line_update(
        opportunity_id=opportunity_id, line_id=line_id, data=payload.dict(exclude_unset=True), by=request.user
    )
    return line_out(line)


@router.delete("/opportunities/{opportunity_id}/lines/{line_id}", response={204: None, **ERRORS})
def delete_line(request: AuthedRequest, opportunity_id: int, line_id: int) -> Any:
    services.opportunity_line_remove(opportunity_id=opportunity_id, line_id=line_id, by=request.user)
    return Status(204, None)


# --- buying centre (SAL-4) -------------------------------------------------------------------------


@router.get("/opportunities/{opportunity_id}/buying-centre", response={200: BuyingCentreOut, **ERRORS})
def get_buying_centre(request: AuthedRequest, opportunity_id: int) -> Any:
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    members = selectors.buying_centre(opportunity=opp)
    warnings = selectors.opportunity_warnings(opportunity=opp, members=members)
    return {"items": [member_out(m) for m in members], "warnings": [warning_out(w) for w in warnings]}


@router.post("/opportunities/{opportunity_id}/buying-centre", response={201: MemberOut, **ERRORS})
def add_member(request: AuthedRequest, opportunity_id: int, payload: MemberIn) -> Any:
    member = services.opportunity_contact_add(
        opportunity_id=opportunity_id, data=payload.dict(), by=request.user
    )
    return Status(201, member_out(member))


@router.patch(
    "/opportunities/{opportunity_id}/buying-centre/{member_id}", response={200: MemberOut, **ERRORS}
)
def update_member(request: AuthedRequest, opportunity_id: int, member_id: int, payload: MemberPatchIn) -> Any:
    member = services.opportunity_contact_update(
        opportunity_id=opportunity_id,
        member_id=member_id,
        data=payload.dict(exclude_unset=True),
        by=request.user,
    )
    return member_out(member)


@router.delete("/opportunities/{opportunity_id}/buying-centre/{member_id}", response={204: None, **ERRORS})
def delete_member(request: AuthedRequest, opportunity_id: int, member_id: int) -> Any:
    services.opportunity_contact_remove(opportunity_id=opportunity_id, member_id=member_id, by=request.user)
    return Status(204, None)


# --- competitors (SAL-4) ---------------------------------------------------------------------------


@router.get("/opportunities/{opportunity_id}/competitors", response={200: list[CompetitorOut], **ERRORS})
def list_competitors(request: AuthedRequest, opportunity_id: int) -> Any:
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=opportunity_id)
    return [competitor_out(c) for c in selectors.competitors(opportunity=opp)]


@router.post("/opportunities/{opportunity_id}/competitors", response={201: CompetitorOut, **ERRORS})
def add_competitor(request: AuthedRequest, opportunity_id: int, payload: CompetitorIn) -> Any:
    competitor = services.competitor_add(opportunity_id=opportunity_id, data=payload.dict(), by=request.user)
    return Status(201, competitor_out(competitor))


@router.patch(
    "/opportunities/{opportunity_id}/competitors/{competitor_id}", response={200: CompetitorOut, **ERRORS}
)
def update_competitor(
    request: AuthedRequest, opportunity_id: int, competitor_id: int, payload: CompetitorPatchIn
) -> Any:
    competitor = services.competitor_update(
        opportunity_id=opportunity_id,
        competitor_id=competitor_id,
        data=payload.dict(exclude_unset=True),
        by=request.user,
    )
    return competitor_out(competitor)


@router.delete("/opportunities/{opportunity_id}/competitors/{competitor_id}", response={204: None, **ERRORS})
def delete_competitor(request: AuthedRequest, opportunity_id: int, competitor_id: int) -> Any:
    services.competitor_remove(opportunity_id=opportunity_id, competitor_id=competitor_id, by=request.user)
    return Status(204, None)


# --- board and forecast (SAL-3) --------------------------------------------------------------------


class BoardFilters(Schema):
    group: int | None = None
    department: int | None = None
    owner: int | None = None
    per_column: int = selectors.BOARD_CARDS


@router.get("/pipeline/board", response={200: BoardOut, **ERRORS}, summary="Kanban board of a stage group")
def get_board(request: AuthedRequest, filters: Query[BoardFilters]) -> Any:
    f = filters.dict()
    group = (
        selectors.stage_group_get(actor=request.user, group_id=f["group"])
        if f["group"] is not None
        else selectors.default_board_group(actor=request.user)
    )
    per_column = max(1, min(int(f["per_column"]), 100))
    board = selectors.board(
        actor=request.user,
        group=group,
        filters={k: f[k] for k in ("department", "owner")},
        per_column=per_column,
    )
    return board_out(board)


class ColumnFilters(Schema):
    department: int | None = None
    owner: int | None = None
    offset: int = 0
    limit: int = selectors.BOARD_CARDS


@router.get(
    "/pipeline/board/{group_id}/stages/{stage_id}/cards",
    response={200: list[CardOut], **ERRORS},
    summary="More cards of a board column",
)
def get_board_column(
    request: AuthedRequest, group_id: int, stage_id: int, filters: Query[ColumnFilters]
) -> Any:
    f = filters.dict()
    group = selectors.stage_group_get(actor=request.user, group_id=group_id)
    cards = selectors.board_column(
        actor=request.user, group=group, stage_id=stage_id,
        filters={k: f[k] for k in ("department", "owner")},
        offset=f["offset"], limit=max(1, min(int(f["limit"]), 100)),
    )  # fmt: skip
    return [card_out(c) for c in cards]


class ForecastFilters(Schema):
    scope: str | None = None
    by: str = "month"
    start: str | None = None
    end: str | None = None


@router.get("/pipeline/forecast", response={200: ForecastOut, **ERRORS}, summary="Weighted forecast")
def get_forecast(request: AuthedRequest, filters: Query[ForecastFilters]) -> Any:
    scope = filters.scope or selectors.default_scope(request.user) or "mine"
    rows = selectors.forecast(
        actor=request.user, scope=scope, by=filters.by, start=filters.start, end=filters.end
    )
    return {"scope": scope, "by": filters.by, "items": [forecast_row_out(r) for r in rows]}


# --- stage groups (SAL-3) --------------------------------------------------------------------------


@router.get("/stage-groups", response={200: list[StageGroupOut], **ERRORS})
def list_stage_groups(request: AuthedRequest) -> Any:
    return [stage_group_out(g) for g in selectors.stage_group_list(actor=request.user)]


@router.post("/stage-groups", response={201: StageGroupOut, **ERRORS})
def create_stage_group(request: AuthedRequest, payload: StageGroupIn) -> Any:
    group = services.stage_group_create(data=payload.dict(), by=request.user)
    return Status(201, stage_group_out(selectors.stage_group_get(actor=request.user, group_id=group.pk)))


@router.get("/stage-groups/{group_id}", response={200: StageGroupOut, **ERRORS})
def get_stage_group(request: AuthedRequest, group_id: int) -> Any:
    return stage_group_out(selectors.stage_group_get(actor=request.user, group_id=group_id))


@router.patch("/stage-groups/{group_id}", response={200: StageGroupOut, **ERRORS})
def update_stage_group(request: AuthedRequest, group_id: int, payload: StageGroupPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.stage_group_update(group_id=group_id, version=version, data=data, by=request.user)
    return stage_group_out(selectors.stage_group_get(actor=request.user, group_id=group_id))
