"""Thin pages over the approval engine (审批, issue 4): the 待我审批 / 我发起的 / 全部 list, a request with
its steps and the approve / reject / withdraw forms (htmx), flow configuration, and the approval
panel a document page includes (``render_panel``, or ``{% approval_panel %}`` from ``approvals`` tags)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.access.selectors import department_tree
from kehu.core.errors import Conflict, KehuError, NotFound, ValidationError
from kehu.core.web import is_htmx, page, query_params

from . import flows, registry, selectors, services
from .choices import RESUBMITTABLE, ApprovalStatus, StepKind
from .forms import DecisionForm, FlowForm

LIST_FILTERS = frozenset(selectors.APPROVAL_FILTERS)


def _version(request: HttpRequest) -> int | None:
    raw = str(request.POST.get("version") or "")
    return int(raw) if raw.isdigit() else None


# --- the list ----------------------------------------------------------------------------------------------


@page
def approval_list(request: AuthedRequest) -> HttpResponse:
    boxes = dict(selectors.BOXES)
    if not selectors.sees_all_box(request.user):
        boxes.pop("all")
    box = request.GET.get("box") or "pending"
    if box not in boxes:
        box = "pending"
    filters = query_params(request, LIST_FILTERS)
    sort = request.GET.get("sort") or "-submitted_at"
    error = None
    try:
        result = selectors.approval_list(
            actor=request.user,
            box=box,
            filters=dict(filters),
            sort=sort,
            limit=request.GET.get("limit"),
            offset=request.GET.get("offset"),
        )
    except ValidationError as exc:
        error = exc.text()
        filters, sort = {}, "-submitted_at"
        result = selectors.approval_list(actor=request.user, box=box)
    return render(
        request,
        "approvals/list.html",
        {
            "page": result,
            "box": box,
            "boxes": boxes,
            "filters": filters,
            "base_query": {"box": box, **filters},
            "sort": sort,
            "statuses": ApprovalStatus.choices,
            "types": registry.document_type_choices(),
            "error": error,
        },
    )


# --- one request ---------------------------------------------------------------------------------------------


def _request_context(request: AuthedRequest, req: Any, **extra: Any) -> dict[str, Any]:
    return {
        "r": req,
        "steps": selectors.approval_steps(req),
        "can_decide": selectors.can_decide(req, request.user),
        "can_withdraw": selectors.can_withdraw(req, request.user),
        "type_label": registry.document_type_label(req.document_type),
        "form": extra.pop("form", None) or DecisionForm(initial={"version": req.version}),
        **extra,
    }


@page
def approval_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    req = selectors.approval_get(actor=request.user, request_id=pk)
    return render(request, "approvals/detail.html", _request_context(request, req))


@page
@require_POST
def approval_decide(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """同意 / 驳回 / 撤回, each through its own service. With htmx the request's card comes back (with
    the error beside the comment when there is one); without, the page again."""
    req = selectors.approval_get(actor=request.user, request_id=pk)
    if verb not in ("approve", "reject", "withdraw"):
        raise NotFound(_("没有这个操作"), field="verb")
    comment = str(request.POST.get("comment") or "")
    error: KehuError | None = None
    try:
        if verb == "approve":
            services.approval_approve(
                request_id=pk, comment=comment, version=_version(request), by=request.user
            )
            done = _("已同意")
        elif verb == "reject":
            services.approval_reject(
                request_id=pk, comment=comment, version=_version(request), by=request.user
            )
            done = _("已驳回")
        else:
            services.approval_withdraw(request_id=pk, version=_version(request), by=request.user)
            done = _("已撤回")
    except KehuError as exc:
        error = exc
    if not is_htmx(request):
        if error is not None:
            messages.error(request, error.text())
        else:
            messages.success(request, done)
        return redirect("approvals:detail", pk=pk)
    req = selectors.approval_get(actor=request.user, request_id=pk)
    if error is not None:
        form = DecisionForm(
            {"comment": comment, "version": req.version if isinstance(error, Conflict) else _version(request)}
        )
        form.is_valid()
        form.add_error("comment" if error.field == "comment" else None, error.text())
    else:
        form = DecisionForm(initial={"version": req.version})
    return render(
        request,
        "approvals/partials/_request.html",
        _request_context(request, req, form=form, done=None if error else done),
    )


# --- the panel on a document page -----------------------------------------------------------------------------


def panel_context(request: AuthedRequest, document_type: str, object_id: int) -> dict[str, Any]:
    """What the approval panel of one document shows: its status, whether the viewer may submit or
    withdraw, and its request history. ``approval_history`` checks the viewer may see the document."""
    history = selectors.approval_history(document_type, object_id, actor=request.user)
    latest = history[0] if history else None
    status = latest.status if latest else ApprovalStatus.DRAFT.value
    return {
        "document_type": document_type,
        "object_id": object_id,
        "status": status,
        "status_label": ApprovalStatus(status).label,
        "latest": latest,
        "history": history,
        "can_submit": status in RESUBMITTABLE,
        "can_withdraw": latest is not None and selectors.can_withdraw(latest, request.user),
        "next": request.get_full_path(),
    }


def render_panel(request: AuthedRequest, document_type: str, object_id: int, **extra: Any) -> str:
    """The approval panel (``approvals/partials/_panel.html``) for a document page."""
    context = {**panel_context(request, document_type, object_id), **extra}
    return render_to_string("approvals/partials/_panel.html", context, request=request)


def _back(request: AuthedRequest) -> HttpResponse:
    target = str(request.POST.get("next") or "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("approvals:list")


@page
@require_POST
def approval_submit(request: AuthedRequest) -> HttpResponse:
    """Submit a document from its page (the panel's button)."""
    document_type = str(request.POST.get("document_type") or "")
    raw_id = str(request.POST.get("object_id") or "")
    object_id = int(raw_id) if raw_id.isdigit() else 0
    error = None
    try:
        req = services.approval_submit(document_type=document_type, object_id=object_id, by=request.user)
        done = _("已提交审批") if req.status == ApprovalStatus.PENDING else _("无需审批，已自动通过")
    except KehuError as exc:
        error = exc.text()
    if is_htmx(request):
        return HttpResponse(
            render_panel(request, document_type, object_id, error=error, done=None if error else done)
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return _back(request)


@page
@require_POST
def panel_withdraw(request: AuthedRequest, pk: int) -> HttpResponse:
    """Withdraw from a document's panel: the panel comes back (htmx) or the document page."""
    req = selectors.approval_get(actor=request.user, request_id=pk)
    error = None
    try:
        services.approval_withdraw(request_id=pk, version=_version(request), by=request.user)
    except KehuError as exc:
        error = exc.text()
    if is_htmx(request):
        return HttpResponse(
            render_panel(
                request, req.document_type, req.object_id, error=error, done=None if error else _("已撤回")
            )
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("已撤回"))
    return _back(request)


# --- flows ------------------------------------------------------------------------------------------------


def _flow_steps_initial(flow: Any) -> list[dict[str, Any]]:
    if flow is None:
        return [{"kind": StepKind.SUPERVISOR.value, "users": []}]
    return [{"kind": s.kind, "users": [str(u.pk) for u in s.users.all()]} for s in flow.steps.all()]


@page
def flow_list(request: AuthedRequest) -> HttpResponse:
    result = selectors.approval_flow_list(
        actor=request.user,
        filters=query_params(request, frozenset({"document_type"})),
        limit=request.GET.get("limit"),
        offset=request.GET.get("offset"),
    )
    return render(
        request,
        "approvals/flows.html",
        {
            "page": result,
            "types": registry.document_type_choices(),
            "filters": query_params(request, frozenset({"document_type"})),
        },
    )


@page
def flow_edit(request: AuthedRequest, flow_id: int | None = None) -> HttpResponse:
    require(request.user, Perm.APPROVAL_MANAGE)
    flow = selectors.approval_flow_get(actor=request.user, flow_id=flow_id) if flow_id else None
    departments = department_tree()
    steps = _flow_steps_initial(flow)
    if request.method == "POST":
        form = FlowForm(request.POST, departments=departments)
        if form.is_valid():
            data = form.service_data(request.POST)
            steps = [{"kind": s["kind"], "users": [str(u) for u in s["users"]]} for s in data["steps"]]
            try:
                if flow is None:
                    flows.approval_flow_create(data=data, by=request.user)
                else:
                    flows.approval_flow_update(
                        flow_id=flow.pk, version=form.cleaned_data["version"], data=data, by=request.user
                    )
            except KehuError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.text())
            else:
                messages.success(request, _("审批流程已保存"))
                return redirect("approvals:flows")
    elif flow is not None:
        form = FlowForm(
            departments=departments,
            initial={
                "document_type": flow.document_type,
                "name": flow.name,
                "department": str(flow.department_id or ""),
                "min_amount": flow.min_amount,
                "is_active": flow.is_active,
                "version": flow.version,
            },
        )
    else:
        form = FlowForm(departments=departments)
    return render(
        request,
        "approvals/flow_form.html",
        {
            "form": form,
            "flow": flow,
            "steps": steps,
            "kinds": StepKind.choices,
            "users": selectors.approver_choices(actor=request.user),
            "no_types": not registry.document_types(),
        },
    )


@page
@require_POST
def flow_deactivate(request: AuthedRequest, flow_id: int) -> HttpResponse:
    try:
        flows.approval_flow_deactivate(flow_id=flow_id, version=_version(request), by=request.user)
        messages.success(request, _("审批流程已停用"))
    except KehuError as exc:
        messages.error(request, exc.text())
    if not can(request.user, Perm.APPROVAL_MANAGE):
        return redirect("approvals:list")
    return redirect("approvals:flows")
