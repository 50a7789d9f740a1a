"""Thin pages over the engagement services and selectors (ENG-1): the interaction list, the record /
correct forms, attachments, and the 跟进记录 tab of the customer's 360° page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm, ViewScope
from kehu.access.requests import AuthedRequest
from kehu.access.scope import require
from kehu.core.errors import Conflict, KehuError, NotFound, ValidationError
from kehu.core.web import download_response, form_after_conflict, is_htmx, page, query_params
from kehu.customers.selectors import contact_list, customer_get

from . import revisits, selectors, services
from .choices import Direction, TaskStatus
from .dashboard import PERIODS, dashboard
from .forms import (
    InteractionEditForm,
    InteractionForm,
    RevisitPlanEditForm,
    RevisitPlanForm,
    TaskEditForm,
    TaskForm,
    initial_of,
)
from .worklist import work_list

LIST_FILTERS = frozenset(selectors.INTERACTION_FILTERS)


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.text())


def _to_customer(customer_id: int) -> HttpResponse:
    response = redirect("customers:detail", pk=customer_id)
    response["Location"] += "?tab=interactions"
    return response


def _contacts(request: AuthedRequest, customer: Any) -> list[Any]:
    return list(contact_list(actor=request.user, customer=customer, limit=200).items)


def _uploads(request: HttpRequest) -> list[tuple[str, bytes]]:
    return [(f.name or "", f.read()) for f in request.FILES.getlist("files")]


def customer_interactions_tab(request: AuthedRequest, customer: Any) -> str:
    """The 跟进记录 tab of the 360° page (registered in apps.py): the newest interactions and, for
    those who may record one, the form."""
    page_ = selectors.interaction_list(actor=request.user, customer=customer, limit=20)
    form = InteractionForm(contacts=_contacts(request, customer), with_file=True)
    return render_to_string(
        "engagement/partials/_customer_tab.html",
        {"c": customer, "page": page_, "form": form},
        request=request,
    )


@page
def interaction_list(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, LIST_FILTERS)
    if request.GET.get("mine"):
        filters["author"] = str(request.user.pk)
    error = None
    try:
        result = selectors.interaction_list(
            actor=request.user,
            filters=dict(filters),
            sort=request.GET.get("sort") or "-occurred_at",
            limit=request.GET.get("limit"),
            offset=request.GET.get("offset"),
        )
    except ValidationError as exc:
        error = exc.text()
        result = selectors.interaction_list(actor=request.user)
        filters = {}
    return render(
        request,
        "engagement/list.html",
        {
            "page": result,
            "filters": filters,
            "mine": bool(request.GET.get("mine")),
            "error": error,
            "channels": selectors.channels(),
            "directions": Direction.choices,
        },
    )


@page
def interaction_create(request: AuthedRequest, customer_id: int) -> HttpResponse:
    customer = customer_get(actor=request.user, customer_id=customer_id)
    contacts = _contacts(request, customer)
    if request.method == "POST":
        form = InteractionForm(request.POST, request.FILES, contacts=contacts, with_file=True)
        if form.is_valid():
            try:
                services.interaction_create(
                    customer_id=customer.pk,
                    data=form.service_data(),
                    by=request.user,
                    files=_uploads(request),
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("跟进记录已保存"))
                return _to_customer(customer.pk)
    else:
        initial = {"contact": request.GET.get("contact", "")}
        form = InteractionForm(contacts=contacts, with_file=True, initial=initial)
    return render(request, "engagement/form.html", {"form": form, "c": customer, "creating": True})


@page
def interaction_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    interaction = selectors.interaction_get(actor=request.user, interaction_id=pk)
    contacts = _contacts(request, interaction.customer)
    conflict = None
    if request.method == "POST":
        form = InteractionEditForm(request.POST, contacts=contacts)
        if form.is_valid():
            try:
                services.interaction_update(
                    interaction_id=pk,
                    version=form.cleaned_data["version"],
                    data=form.service_data(),
                    by=request.user,
                )
            except Conflict as exc:
                # Keep what the user typed; show what is stored now and take its version.
                conflict = selectors.interaction_get(actor=request.user, interaction_id=pk)
                form = form_after_conflict(
                    InteractionEditForm, request.POST, version=conflict.version, error=exc, contacts=contacts
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return _to_customer(interaction.customer_id)
    else:
        form = InteractionEditForm(initial=initial_of(interaction), contacts=contacts)
    return render(
        request,
        "engagement/form.html",
        {
            "form": form,
            "c": interaction.customer,
            "interaction": interaction,
            "creating": False,
            "conflict": conflict,
        },
    )


@page
@require_POST
def interaction_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    interaction = selectors.interaction_get(actor=request.user, interaction_id=pk)
    try:
        services.interaction_delete(interaction_id=pk, by=request.user)
        messages.success(request, _("跟进记录已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_customer(interaction.customer_id)


@page
@require_POST
def attachment_upload(request: AuthedRequest, pk: int) -> HttpResponse:
    interaction = selectors.interaction_get(actor=request.user, interaction_id=pk)
    uploads = _uploads(request)
    try:
        if not uploads:
            raise ValidationError(_("请选择要上传的文件"), field="file")
        for name, data in uploads:
            services.attachment_add(interaction_id=pk, name=name, data=data, by=request.user)
        messages.success(request, _("附件已上传"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_customer(interaction.customer_id)


@page
def attachment_download(request: AuthedRequest, attachment_id: int) -> Any:
    a = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    return download_response(a.file, name=a.name, content_type=a.content_type)


@page
@require_POST
def attachment_delete(request: AuthedRequest, attachment_id: int) -> HttpResponse:
    a = selectors.attachment_get(actor=request.user, attachment_id=attachment_id)
    try:
        services.attachment_remove(attachment_id=attachment_id, by=request.user)
        messages.success(request, _("附件已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _to_customer(a.interaction.customer_id)


# --- P&A tasks (ENG-3) ------------------------------------------------------------------------------

TASK_VERBS = {"complete", "cancel", "reopen"}


def customer_tasks_tab(request: AuthedRequest, customer: Any) -> str:
    """The 任务 tab of the 360° page (registered in apps.py): the customer's P&A tasks."""
    page_ = selectors.task_list(actor=request.user, scene="all", customer=customer, limit=50)
    return render_to_string(
        "engagement/partials/_customer_tasks.html", {"c": customer, "page": page_}, request=request
    )


@page
def task_list(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, frozenset(selectors.TASK_FILTERS))
    scene = request.GET.get("scene") or "mine"
    sort = request.GET.get("sort") or "due_on"
    error = None
    try:
        result = selectors.task_list(
            actor=request.user,
            scene=scene,
            filters=dict(filters),
            sort=sort,
            limit=request.GET.get("limit"),
            offset=request.GET.get("offset"),
        )
    except ValidationError as exc:
        error = exc.text()
        scene, filters = "mine", {}
        result = selectors.task_list(actor=request.user)
    return render(
        request,
        "engagement/tasks.html",
        {
            "page": result,
            "scene": scene,
            "scenes": selectors.TASK_SCENES,
            "filters": filters,
            "statuses": TaskStatus.choices,
            "error": error,
        },
    )


def _back_to_tasks(request: AuthedRequest, task: Any = None) -> HttpResponse:
    """Back where the user came from: the customer's 任务 tab, or the task list."""
    if request.POST.get("next") == "customer" and task is not None and task.customer_id:
        response = redirect("customers:detail", pk=task.customer_id)
        response["Location"] += "?tab=tasks"
        return response
    return redirect("engagement:tasks")


@page
def task_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.INTERACTION_CREATE)  # the form itself is for those who may create
    assignees = selectors.task_assignees(actor=request.user)
    customer = None
    customer_id = str(request.GET.get("customer") or request.POST.get("customer") or "")
    if customer_id:
        customer = customer_get(
            actor=request.user, customer_id=int(customer_id) if customer_id.isdigit() else 0
        )
    if request.method == "POST":
        form = TaskForm(request.POST, assignees=assignees)
        if form.is_valid():
            try:
                task = services.task_create(data=form.service_data(), by=request.user)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("任务已创建"))
                return _back_to_tasks(request, task)
    else:
        form = TaskForm(
            assignees=assignees,
            initial={"owner": str(request.user.pk), "customer": str(customer.pk) if customer else ""},
        )
    return render(request, "engagement/task_form.html", {"form": form, "c": customer, "creating": True})


@page
def task_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=pk)
    assignees = selectors.task_assignees(actor=request.user)
    if task.owner not in assignees:
        assignees.append(task.owner)  # keep the current owner offered even if out of the editor's scope
    if request.method == "POST":
        form = TaskEditForm(request.POST, assignees=assignees)
        if form.is_valid():
            try:
                services.task_update(
                    task_id=pk,
                    version=form.cleaned_data["version"],
                    data=form.service_data(),
                    by=request.user,
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return _back_to_tasks(request, task)
    else:
        form = TaskEditForm(
            assignees=assignees,
            initial={
                "title": task.title,
                "due_on": task.due_on.isoformat(),
                "owner": str(task.owner_id),
                "customer": str(task.customer_id or ""),
                "description": task.description,
                "version": task.version,
            },
        )
    return render(
        request,
        "engagement/task_form.html",
        {"form": form, "c": task.customer, "task": task, "creating": False},
    )


@page
@require_POST
def task_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """完成 / 取消 / 重新打开, each through its own service (house style 2)."""
    task = selectors.task_get(actor=request.user, task_id=pk)
    if verb not in TASK_VERBS:
        raise NotFound(_("没有这个操作"), field="verb")
    version = str(request.POST.get("version") or "")
    version_number = int(version) if version.isdigit() else None
    text = request.POST.get("result", "")
    try:
        if verb == "complete":
            services.task_complete(task_id=pk, version=version_number, result=text, by=request.user)
            messages.success(request, _("任务已完成"))
        elif verb == "cancel":
            services.task_cancel(task_id=pk, version=version_number, reason=text, by=request.user)
            messages.success(request, _("任务已取消"))
        else:
            services.task_reopen(task_id=pk, version=version_number, by=request.user)
            messages.success(request, _("任务已重新打开"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back_to_tasks(request, task)


@page
@require_POST
def task_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(actor=request.user, task_id=pk)
    try:
        services.task_delete(task_id=pk, by=request.user)
        messages.success(request, _("任务已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back_to_tasks(request, task)


# --- the 待办 work list -----------------------------------------------------------------------------


def worklist_panel(request: AuthedRequest) -> str:
    """The 待办 panel of the home page (registered in apps.py)."""
    sections = work_list(actor=request.user)
    return render_to_string(
        "engagement/partials/_worklist.html",
        {"sections": sections, "total": sum(s.count for s in sections)},
        request=request,
    )


def _dashboard_html(request: AuthedRequest) -> str:
    """The dashboard card for the period and scope in the query string (``scope``, ``period``, ``from``,
    ``to``); bad input shows its error over the default view (本人, 本月) instead of failing the page."""
    from kehu.access.scope import view_scopes

    if not view_scopes(request.user):
        return ""
    query = {k: request.GET.get(k) or None for k in ("scope", "period", "from", "to")}
    error = None
    try:
        d = dashboard(
            actor=request.user,
            scope=query["scope"],
            period=query["period"],
            date_from=query["from"],
            date_to=query["to"],
        )
    except KehuError as exc:
        error = exc.text()
        d = dashboard(actor=request.user, scope=ViewScope.MINE)
    return render_to_string(
        "engagement/partials/_dashboard.html",
        {"d": d, "error": error, "periods": PERIODS, "chart": d.chart},
        request=request,
    )


def dashboard_panel(request: AuthedRequest) -> str:
    """The dashboard card of the home page (registered in apps.py)."""
    return _dashboard_html(request)


@page
def dashboard_view(request: AuthedRequest) -> HttpResponse:
    """The dashboard card alone, for the period/scope selectors (htmx); without htmx, the home page."""
    require(request.user, Perm.CUSTOMER_VIEW)
    if not is_htmx(request):
        response = redirect("home")
        if request.GET:
            response["Location"] += "?" + request.GET.urlencode()
        return response
    return HttpResponse(_dashboard_html(request))


@page
@require_POST
def work_item_handle(request: AuthedRequest) -> HttpResponse:
    object_id = str(request.POST.get("object_id") or "")
    try:
        services.work_item_handle(
            kind=request.POST.get("kind", ""),
            object_id=int(object_id) if object_id.isdigit() else 0,
            by=request.user,
        )
        messages.success(request, _("已标记为已处理"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("home")


# --- regular revisits (ENG-4) ---------------------------------------------------------------------------


@page
def revisit_plans(request: AuthedRequest, plan_id: int | None = None) -> HttpResponse:
    """The plan list, with the form for a new plan or the one chosen (``interaction.manage``)."""
    plans = revisits.revisit_plan_list(actor=request.user)
    plan = next((p for p in plans if p.pk == plan_id), None) if plan_id else None
    if plan_id and plan is None:
        raise NotFound(_("回访计划不存在"), field="id")
    form_class = RevisitPlanEditForm if plan else RevisitPlanForm
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                if plan:
                    revisits.revisit_plan_update(
                        plan_id=plan.pk, version=form.cleaned_data["version"], data=form.service_data(),
                        by=request.user,
                    )  # fmt: skip
                else:
                    revisits.revisit_plan_create(data=form.service_data(), by=request.user)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("回访计划已保存"))
                return redirect("engagement:revisits")
    else:
        initial = None
        if plan:
            initial = {k: getattr(plan, k) for k in (
                "name", "trigger", "status", "value_tier", "deal_status", "every_days", "due_in_days", "task_title",
                "is_active", "version")}  # fmt: skip
        form = form_class(initial=initial)
    return render(request, "engagement/revisits.html", {"plans": plans, "plan": plan, "form": form})


@page
@require_POST
def revisit_run(request: AuthedRequest) -> HttpResponse:
    try:
        result = revisits.revisit_generate(by=request.user)
        messages.success(request, _("已生成 %(n)s 个回访任务") % {"n": result.created})
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("engagement:revisits")
