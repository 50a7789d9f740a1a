"""Thin pages over the pipeline services and selectors (SAL-3, SAL-4): the opportunity list, detail and
forms, the kanban board, the weighted forecast, the stage-group settings, and the 商机 tab of the
customer's 360° page."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm, ViewScope
from kehu.access.requests import AuthedRequest
from kehu.access.scope import require, view_scopes
from kehu.core.errors import Conflict, KehuError, ValidationError
from kehu.core.web import form_after_conflict, page, query_params

from . import selectors, services
from .choices import BuyingRole, OpportunityStatus, PricePosition, Stance
from .forms import (
    LineForm,
    OpportunityEditForm,
    OpportunityForm,
    stages_from_post,
)

TRANSITIONS = frozenset({"move", "win", "lose", "invalidate", "reopen", "transfer", "delete"})


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.text())


def _to_detail(pk: int, anchor: str = "") -> HttpResponse:
    response = redirect("sales:detail", pk=pk)
    if anchor:
        response["Location"] += f"#{anchor}"
    return response


def _version(value: Any) -> int:
    """The ``version`` a form posted; missing or not a number names the field."""
    number = _int(value)
    if number is None:
        raise ValidationError(_("缺少版本号，请刷新页面后重试"), field="version")
    return number


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- list, detail, forms ---------------------------------------------------------------------------


@page
def opportunity_list(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, selectors.OPPORTUNITY_FILTERS)
    sort = request.GET.get("sort") or "-created_at"
    error = None
    try:
        result = selectors.opportunity_list(
            actor=request.user, filters=dict(filters), sort=sort,
            limit=request.GET.get("limit"), offset=request.GET.get("offset"),
        )  # fmt: skip
    except ValidationError as exc:
        error = exc.text()
        filters, sort = {}, "-created_at"
        result = selectors.opportunity_list(actor=request.user)
    return render(
        request,
        "sales/list.html",
        {
            "page": result,
            "filters": filters,
            "sort": sort,
            "error": error,
            **selectors.opportunity_filter_choices(actor=request.user),
        },
    )


@page
def customer_options(request: AuthedRequest) -> HttpResponse:
    """The customer picker of the new-opportunity form: visible customers matching ``q`` (htmx)."""
    require(request.user, Perm.OPPORTUNITY_EDIT)
    customers = selectors.customer_choices(actor=request.user, q=request.GET.get("q", ""))
    return render(request, "sales/partials/_customer_options.html", {"customers": customers})


@page
def opportunity_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.OPPORTUNITY_EDIT)
    customer = None
    if request.method == "POST":
        form = OpportunityForm(request.POST)
        if form.is_valid():
            try:
                opp = services.opportunity_create(
                    customer_id=form.cleaned_data["customer"], by=request.user, **form.service_data()
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("商机已创建"))
                return _to_detail(opp.pk)
        customer_id = _int(request.POST.get("customer"))
    else:
        customer_id = _int(request.GET.get("customer"))
        form = OpportunityForm(initial={"customer": customer_id} if customer_id else None)
    if customer_id:
        from kehu.customers.selectors import customer_get

        try:
            customer = customer_get(actor=request.user, customer_id=customer_id)
        except KehuError:
            customer = None
    return render(request, "sales/form.html", {"form": form, "creating": True, "customer": customer})


@page
def opportunity_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    members = selectors.buying_centre(opportunity=opp)
    return render(
        request,
        "sales/detail.html",
        {
            "o": opp,
            "stages": selectors.open_stages(group=opp.stage_group),
            "history": selectors.stage_history(opportunity=opp),
            "lines": selectors.opportunity_lines(opportunity=opp),
            "members": members,
            "competitors": selectors.competitors(opportunity=opp),
            "warnings": selectors.opportunity_warnings(opportunity=opp, members=members),
            "contacts": selectors.customer_contacts(actor=request.user, opportunity=opp),
            "products": selectors.product_choices(actor=request.user),
            "users": selectors.transfer_choices(actor=request.user),
            "roles": BuyingRole.choices,
            "stances": Stance.choices,
            "price_positions": PricePosition.choices,
            "is_open": opp.status == OpportunityStatus.OPEN,
        },
    )


@page
def opportunity_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    require(request.user, Perm.OPPORTUNITY_EDIT)
    conflict = None
    if request.method == "POST":
        form = OpportunityEditForm(request.POST)
        if form.is_valid():
            try:
                services.opportunity_update(
                    opportunity_id=pk,
                    version=form.cleaned_data["version"],
                    data=form.service_data(),
                    by=request.user,
                )
            except Conflict as exc:
                conflict = selectors.opportunity_get(actor=request.user, opportunity_id=pk)
                form = form_after_conflict(
                    OpportunityEditForm, request.POST, version=conflict.version, error=exc
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return _to_detail(pk)
    else:
        form = OpportunityEditForm(
            initial={
                "version": opp.version, "name": opp.name, "amount": opp.amount, "currency": opp.currency,
                "amount_from_lines": opp.amount_from_lines, "expected_close": opp.expected_close,
                "description": opp.description,
            }
        )  # fmt: skip
    return render(
        request, "sales/form.html", {"form": form, "creating": False, "o": opp, "conflict": conflict}
    )


@page
@require_POST
def opportunity_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """The action buttons of the detail page: one service per verb."""
    opp = selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    if verb not in TRANSITIONS:
        messages.error(request, _("未知操作"))
        return _to_detail(pk)
    post = request.POST
    done = {
        "move": _("阶段已更新"), "win": _("恭喜赢单！"), "lose": _("已记录输单"), "invalidate": _("已标记为无效"),
        "reopen": _("商机已重新打开"), "transfer": _("商机已转交"), "delete": _("商机已删除"),
    }  # fmt: skip
    try:
        version = _version(post.get("version")) if verb != "delete" else 0
        if verb == "move":
            services.opportunity_move_stage(
                opportunity_id=pk, version=version, stage_id=_int(post.get("stage")) or 0, by=request.user
            )
        elif verb == "win":
            services.opportunity_win(
                opportunity_id=pk, version=version, reason=post.get("reason", ""), by=request.user
            )
        elif verb == "lose":
            services.opportunity_lose(
                opportunity_id=pk, version=version, reason=post.get("reason", ""),
                competitor=post.get("competitor", ""), by=request.user,
            )  # fmt: skip
        elif verb == "invalidate":
            services.opportunity_invalidate(
                opportunity_id=pk, version=version, reason=post.get("reason", ""), by=request.user
            )
        elif verb == "reopen":
            services.opportunity_reopen(
                opportunity_id=pk, version=version, stage_id=_int(post.get("stage")), by=request.user
            )
        elif verb == "transfer":
            services.opportunity_transfer(
                opportunity_id=pk, version=version, to_user_id=_int(post.get("to_user")) or 0, by=request.user
            )
        else:
            services.opportunity_delete(opportunity_id=pk, by=request.user)
            messages.success(request, done[verb])
            return redirect("sales:list")
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, done[verb])
        if verb == "transfer" and not selectors.opportunity_visible(actor=request.user, opportunity_id=pk):
            return redirect("sales:list")  # handed to someone outside the actor's scope
    return _to_detail(opp.pk)


# --- lines, buying centre, competitors ------------------------------------------------------------


def _errors_text(form: Any) -> str:
    return "；".join(
        f"{form.fields[f].label if f in form.fields else ''} {' '.join(e)}".strip()
        for f, e in form.errors.items()
    )


@page
@require_POST
def line_save(request: AuthedRequest, pk: int, line_id: int | None = None) -> HttpResponse:
    selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    form = LineForm(request.POST) if line_id is None else None
    try:
        if line_id is None:
            assert form is not None
            if not form.is_valid():
                raise ValidationError(_errors_text(form), field=next(iter(form.errors), None))
            data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
            services.opportunity_line_add(opportunity_id=pk, data=data, by=request.user)
        else:
            data = {
                k: request.POST[k]
                for k in ("quantity", "unit_price", "discount", "notes")
                if k in request.POST
            }
            services.opportunity_line_update(opportunity_id=pk, line_id=line_id, data=data, by=request.user)
        messages.success(request, _("产品明细已保存"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_detail(pk, "lines")


@page
@require_POST
def line_remove(request: AuthedRequest, pk: int, line_id: int) -> HttpResponse:
    selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    try:
        services.opportunity_line_remove(opportunity_id=pk, line_id=line_id, by=request.user)
        messages.success(request, _("产品明细已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_detail(pk, "lines")


@page
@require_POST
def member_save(request: AuthedRequest, pk: int, member_id: int | None = None) -> HttpResponse:
    selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    data = {
        "contact": request.POST.get("contact"),
        "roles": request.POST.getlist("roles"),
        "stance": request.POST.get("stance"),
        "influence": request.POST.get("influence"),
        "notes": request.POST.get("notes", ""),
    }
    try:
        if member_id is None:
            services.opportunity_contact_add(opportunity_id=pk, data=data, by=request.user)
        else:
            data.pop("contact")
            services.opportunity_contact_update(
                opportunity_id=pk, member_id=member_id, data=data, by=request.user
            )
        messages.success(request, _("采购中心已更新"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_detail(pk, "buying-centre")


@page
@require_POST
def member_remove(request: AuthedRequest, pk: int, member_id: int) -> HttpResponse:
    selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    try:
        services.opportunity_contact_remove(opportunity_id=pk, member_id=member_id, by=request.user)
        messages.success(request, _("已从采购中心移除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_detail(pk, "buying-centre")


@page
@require_POST
def competitor_save(request: AuthedRequest, pk: int, competitor_id: int | None = None) -> HttpResponse:
    selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    fields = ("name", "strengths", "weaknesses", "price_position", "notes")
    data = {k: request.POST.get(k, "") for k in fields}
    try:
        if competitor_id is None:
            services.competitor_add(opportunity_id=pk, data=data, by=request.user)
        else:
            services.competitor_update(
                opportunity_id=pk, competitor_id=competitor_id, data=data, by=request.user
            )
        messages.success(request, _("竞争对手已保存"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_detail(pk, "competitors")


@page
@require_POST
def competitor_remove(request: AuthedRequest, pk: int, competitor_id: int) -> HttpResponse:
    selectors.opportunity_get(actor=request.user, opportunity_id=pk)
    try:
        services.competitor_remove(opportunity_id=pk, competitor_id=competitor_id, by=request.user)
        messages.success(request, _("竞争对手已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_detail(pk, "competitors")


# --- kanban board (SAL-3) --------------------------------------------------------------------------

BOARD_FILTERS = frozenset({"department", "owner"})


def _board_group(request: AuthedRequest) -> Any:
    group_id = request.GET.get("group") or request.POST.get("group")
    if group_id:
        return selectors.stage_group_get(actor=request.user, group_id=group_id)
    return selectors.default_board_group(actor=request.user)


@page
def board(request: AuthedRequest) -> HttpResponse:
    group = _board_group(request)
    filters = query_params(request, BOARD_FILTERS)
    error = None
    try:
        result = selectors.board(actor=request.user, group=group, filters=dict(filters))
    except ValidationError as exc:
        error, filters = exc.text(), {}
        result = selectors.board(actor=request.user, group=group)
    return render(
        request,
        "sales/board.html",
        {
            "board": result,
            "filters": filters,
            "error": error,
            # its "groups" are the board's group picker too (the default group first)
            **selectors.opportunity_filter_choices(actor=request.user),
        },
    )


@page
def board_column(request: AuthedRequest, group_id: int, stage_id: int) -> HttpResponse:
    """ "Load more" of a column (htmx): the next cards and, if more remain, the next button."""
    group = selectors.stage_group_get(actor=request.user, group_id=group_id)
    filters = query_params(request, BOARD_FILTERS)
    offset = _int(request.GET.get("offset")) or 0
    cards = selectors.board_column(
        actor=request.user, group=group, stage_id=stage_id, filters=dict(filters), offset=offset
    )
    return render(
        request,
        "sales/partials/_board_more.html",
        {
            "cards": cards, "group": group, "stage_id": stage_id, "filters": filters,
            "next_offset": offset + len(cards), "more": len(cards) == selectors.BOARD_CARDS,
        },
    )  # fmt: skip


@page
@require_POST
def board_move(request: AuthedRequest, pk: int) -> HttpResponse:
    """A card dropped on the board (htmx POST from SortableJS): the same ``opportunity_move_stage`` as the
    detail page. Success → the card with its new version, and the column totals out of band; a refusal
    (stale version, closed meanwhile, no permission) → 409/4xx with the message, the page puts the card
    back where it was."""
    post = request.POST
    try:
        # The permission answers before the posted fields are read (a refusal says 403, not 422).
        require(request.user, Perm.OPPORTUNITY_EDIT)
        opp = services.opportunity_move_stage(
            opportunity_id=pk, version=_version(post.get("version")), stage_id=_int(post.get("stage")) or 0,
            after_id=_int(post.get("after_id")), before_id=_int(post.get("before_id")), by=request.user,
        )  # fmt: skip
    except KehuError as exc:
        response = HttpResponse(exc.text(), status=exc.status, content_type="text/plain; charset=utf-8")
        response["HX-Reswap"] = "none"
        return response
    group = opp.stage_group
    filters = {k: v for k, v in post.items() if k in BOARD_FILTERS and v}
    totals = selectors.board(actor=request.user, group=group, filters=filters, per_column=0)
    card = selectors.board_cards_by_id(actor=request.user, ids=[opp.pk])
    return render(
        request,
        "sales/partials/_board_moved.html",
        {"card": card[0] if card else None, "board": totals, "group": group},
    )


# --- forecast (SAL-3) ------------------------------------------------------------------------------


@page
def forecast(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.OPPORTUNITY_VIEW)
    scopes = view_scopes(request.user)
    scope = request.GET.get("scope") or selectors.default_scope(request.user) or ViewScope.MINE
    by = request.GET.get("by") or "month"
    error = None
    try:
        rows = selectors.forecast(
            actor=request.user, scope=scope, by=by, start=request.GET.get("start"), end=request.GET.get("end")
        )
    except KehuError as exc:
        error = exc.text()
        rows = []
    chart = [r for r in rows if r.currency == "CNY"]
    chart_data = {
        "labels": [r.label for r in chart],
        "amount": [float(r.amount) for r in chart],
        "weighted": [float(r.weighted) for r in chart],
    }
    totals: dict[str, dict[str, Any]] = {}
    for r in rows:  # rows are the aggregate's groups (a few dozen), not opportunities
        t = totals.setdefault(r.currency, {"currency": r.currency, "count": 0, "amount": 0, "weighted": 0})
        t["count"] += r.count
        t["amount"] += r.amount
        t["weighted"] += r.weighted
    return render(
        request,
        "sales/forecast.html",
        {
            "rows": rows, "scope": scope, "by": by, "error": error, "totals": list(totals.values()),
            "scopes": [(s, ViewScope(s).label) for s in scopes],
            "bys": [("month", _("按月份")), ("owner", _("按负责人")), ("department", _("按部门"))],
            "chart_json": json.dumps(chart_data, ensure_ascii=False),
            "start": request.GET.get("start", ""), "end": request.GET.get("end", ""),
        },
    )  # fmt: skip


# --- stage groups (SAL-3) --------------------------------------------------------------------------


@page
def stage_groups(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.PIPELINE_MANAGE)
    return render(
        request, "sales/stage_groups.html", {"groups": selectors.stage_group_list(actor=request.user)}
    )


@page
def stage_group_edit(request: AuthedRequest, group_id: int | None = None) -> HttpResponse:
    require(request.user, Perm.PIPELINE_MANAGE)
    group = selectors.stage_group_get(actor=request.user, group_id=group_id) if group_id else None
    error = None
    if request.method == "POST":
        data = {
            "name": request.POST.get("name", ""),
            "name_en": request.POST.get("name_en", ""),
            "stages": stages_from_post(request.POST),
            "departments": request.POST.getlist("departments"),
        }
        try:
            if group is None:
                services.stage_group_create(data=data, by=request.user)
            else:
                services.stage_group_update(
                    group_id=group.pk,
                    version=_version(request.POST.get("version")),
                    data=data,
                    by=request.user,
                )
        except KehuError as exc:
            error = exc
            stages = data["stages"]
            chosen = {str(d) for d in data["departments"]}
        else:
            messages.success(request, _("阶段组已保存"))
            return redirect("sales:stage_groups")
    else:
        stages = (
            [
                {
                    "id": s.pk,
                    "name": s.name,
                    "name_en": s.name_en,
                    "probability": s.probability,
                    "past_proposal": s.past_proposal,
                }
                for s in sorted(group.stages.all(), key=lambda s: s.order)
                if s.kind == "open"
            ]
            if group
            else [{"id": None, "name": "", "name_en": "", "probability": 10, "past_proposal": False}]
        )
        chosen = {str(d.pk) for d in group.departments.all()} if group else set()
    return render(
        request,
        "sales/stage_group_form.html",
        {
            "group": group, "error": error, "stages_json": json.dumps(stages, ensure_ascii=False, default=str),
            "departments": selectors.opportunity_filter_choices(actor=request.user)["departments"],
            "chosen": chosen, "name": request.POST.get("name", group.name if group else ""),
            "name_en": request.POST.get("name_en", group.name_en if group else ""),
        },
    )  # fmt: skip


# --- the customer's 360° page ----------------------------------------------------------------------


def customer_opportunities_tab(request: AuthedRequest, customer: Any) -> str:
    """The 商机 tab of the 360° page (registered in apps.py)."""
    page_ = selectors.customer_opportunities(actor=request.user, customer=customer)
    return render_to_string(
        "sales/partials/_customer_tab.html",
        {"c": customer, "page": page_, "new_url": reverse("sales:create") + f"?customer={customer.pk}"},
        request=request,
    )
