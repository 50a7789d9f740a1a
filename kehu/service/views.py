"""Thin pages over the customer-service services and selectors (SVC-1 … SVC-5): the agents' queues, a
ticket with its conversation and clocks, registering, the reports, the settings, the 服务工单 tab of the
customer's 360° page and the home-page panel."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.core.errors import KehuError, ValidationError
from kehu.core.web import download_response, page, query_params
from kehu.customers.choices import ValueTier

from . import clocks, configuration, distribution, escalation, selectors, services
from .choices import (
    KIND_CATEGORIES,
    VERB_LABELS,
    Category,
    Clock,
    Distribution,
    EscalationAction,
    EscalationWhen,
    HandlingStrategy,
    Priority,
    RootCause,
    TicketKind,
    TicketStatus,
    TimeBasis,
)
from .forms import TicketEditForm, TicketForm

LIST_FILTERS = selectors.TICKET_FILTERS - {"queue"}


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.text())


def _back(ticket_id: int) -> HttpResponse:
    return redirect("service:ticket", pk=ticket_id)


def _version(request: AuthedRequest) -> int | None:
    raw = request.POST.get("version") or ""
    return int(raw) if raw.isdigit() else None


@page
def queue(request: AuthedRequest) -> HttpResponse:
    """The agents' queues (SVC-1): mine, my team's, unassigned, breaching soon, breached, all open."""
    require(request.user, Perm.TICKET_VIEW)
    filters = query_params(request, LIST_FILTERS)
    queue_key = request.GET.get("queue") or "mine"
    sort = request.GET.get("sort") or "due"
    error = None
    try:
        result = selectors.ticket_list(
            actor=request.user, filters={**filters, "queue": queue_key}, sort=sort,
            limit=request.GET.get("limit"), offset=request.GET.get("offset"),
        )  # fmt: skip
    except ValidationError as exc:
        error = exc.text()
        queue_key, filters, sort = "mine", {}, "due"
        result = selectors.ticket_list(actor=request.user)
    soon = clocks.settings_get().soon_minutes
    rows = [(t, selectors.ticket_clocks(t, soon_minutes=soon)) for t in result.items]
    return render(
        request,
        "service/queue.html",
        {
            "page": result, "rows": rows, "queue": queue_key, "queues": selectors.QUEUE_LABELS,
            "counts": selectors.queue_counts(actor=request.user), "count_cap": selectors.QUEUE_COUNT_CAP,
            "filters": filters, "sort": sort,
            "kinds": TicketKind.choices, "statuses": TicketStatus.choices, "priorities": Priority.choices,
            "away": distribution.is_away(request.user), "error": error,
            "assignees": selectors.assignee_choices(actor=request.user) if can(request.user, Perm.TICKET_MANAGE) else [],
        },
    )  # fmt: skip


@page
@require_POST
def presence(request: AuthedRequest) -> HttpResponse:
    away = request.POST.get("away") == "1"
    distribution.presence_set(away=away, by=request.user)
    messages.success(request, _("已设为离开：暂不分派新工单") if away else _("已回来：恢复分派新工单"))
    return redirect("service:queue")


@page
@require_POST
def bulk(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.TICKET_EDIT)  # a refused user gets the 403 page, not a toast
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()]
    assignee = request.POST.get("assignee_id") or ""
    try:
        results = distribution.tickets_bulk(
            ids=ids, action=request.POST.get("action") or "", by=request.user,
            assignee_id=int(assignee) if assignee.isdigit() else None,
        )  # fmt: skip
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        done = sum(1 for r in results if r.ok)
        messages.success(request, _("已处理 %(n)s 张工单") % {"n": done})
        for r in results:
            if not r.ok:
                messages.warning(request, f"#{r.id}: {r.message}")
    return redirect(request.POST.get("next") or "service:queue")


def _customer_choices(request: AuthedRequest, customer: Any) -> dict[str, Any]:
    from kehu.catalog.selectors import product_list
    from kehu.customers.selectors import contact_list
    from kehu.orders.selectors import order_list

    out: dict[str, Any] = {"products": product_list(actor=request.user, limit=200).items}
    if customer is not None:
        out["contacts"] = contact_list(actor=request.user, customer=customer, limit=100).items
        out["orders"] = (
            order_list(actor=request.user, customer=customer, limit=50).items
            if can(request.user, Perm.ORDER_VIEW)
            else []
        )
    return out


@page
def ticket_create(request: AuthedRequest) -> HttpResponse:
    """Register a ticket: for a customer (from their 360° page, the screen pop or a search here) or for
    an unknown caller (name and number)."""
    from kehu.customers.selectors import customer_get, customer_list

    require(request.user, Perm.TICKET_EDIT)
    raw_customer = str(request.GET.get("customer") or request.POST.get("customer") or "")
    customer = (
        customer_get(actor=request.user, customer_id=int(raw_customer)) if raw_customer.isdigit() else None
    )
    unknown = request.GET.get("unknown") == "1" or request.POST.get("unknown") == "1"
    search = (request.GET.get("q") or "").strip()
    matches = (
        customer_list(actor=request.user, filters={"q": search}, limit=10).items
        if search and not customer
        else []
    )
    choices = {
        **_customer_choices(request, customer),
        "assignees": selectors.assignee_choices(actor=request.user),
    }
    initial = {
        "kind": request.GET.get("kind") or TicketKind.AFTERSALE, "caller_phone": request.GET.get("number") or "",
        "channel": request.GET.get("channel") or "phone",
    }  # fmt: skip
    form = TicketForm(request.POST or None, initial=initial, with_customer=customer is not None, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = services.ticket_create(
                data=form.service_data(customer_id=customer.pk if customer else None), by=request.user
            )
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("工单 %(n)s 已登记") % {"n": ticket.number})
            return _back(ticket.pk)
    return render(
        request,
        "service/ticket_form.html",
        {
            "form": form, "customer": customer, "unknown": unknown, "search": search, "matches": matches,
            "kind_categories": {k: list(v) for k, v in KIND_CATEGORIES.items()},
        },
    )  # fmt: skip


@page
def ticket_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    detail = selectors.ticket_detail(actor=request.user, ticket_id=pk)
    ticket = detail.ticket
    return render(
        request,
        "service/ticket_detail.html",
        {
            "d": detail, "ticket": ticket, "verb_labels": VERB_LABELS, "root_causes": RootCause.choices,
            "strategies": HandlingStrategy.choices,
            "escalation_actions": [
                (a, label) for a, label in EscalationAction.choices if a != EscalationAction.NOTIFY
            ],
            "assignees": selectors.assignee_choices(actor=request.user) if detail.may_work else [],
            "manager": can(request.user, Perm.TICKET_MANAGE),
        },
    )  # fmt: skip


@page
def ticket_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    from kehu.catalog.selectors import product_list

    ticket = selectors.ticket_get(actor=request.user, ticket_id=pk)
    products = product_list(actor=request.user, limit=200).items
    initial = {
        "category": ticket.category, "title": ticket.title, "description": ticket.description,
        "priority": ticket.priority, "product_id": ticket.product_id or "", "version": ticket.version,
    }  # fmt: skip
    form = TicketEditForm(request.POST or None, initial=initial, kind=ticket.kind, products=products)
    if request.method == "POST" and form.is_valid():
        try:
            services.ticket_update(
                ticket_id=pk, version=form.cleaned_data["version"], data=form.service_data(), by=request.user
            )
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("工单已更新"))
            return _back(pk)
    return render(request, "service/ticket_edit.html", {"form": form, "ticket": ticket})


@page
@require_POST
def ticket_message(request: AuthedRequest, pk: int) -> HttpResponse:
    """Reply to the customer, add an internal note, or record what the customer said — with files."""
    require(request.user, Perm.TICKET_EDIT)  # a refused user gets the 403 page, not a toast
    kind = request.POST.get("kind") or "reply"
    files = [(f.name or "", f.read()) for f in request.FILES.getlist("files")]
    body = request.POST.get("body") or ""
    action = {
        "reply": services.ticket_reply, "note": services.ticket_note, "customer": services.ticket_customer_message
    }.get(kind, services.ticket_reply)  # fmt: skip
    try:
        action(ticket_id=pk, body=body, files=files, by=request.user)
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, _("已记录"))
    return _back(pk)


def _transition(verb: str, *, ticket_id: int, version: int | None, post: Any, by: Any) -> None:
    """The service of ``verb`` with the fields its form carries."""
    common = {"ticket_id": ticket_id, "version": version, "by": by}
    note, reason, score = post.get("note") or "", post.get("reason") or "", post.get("satisfaction")
    if verb in ("start", "investigate", "wait", "resume"):
        {"start": services.ticket_start, "investigate": services.ticket_investigate, "wait": services.ticket_wait,
         "resume": services.ticket_resume}[verb](**common)  # fmt: skip
    elif verb == "acknowledge":
        services.ticket_acknowledge(note=note, **common)
    elif verb == "resolve":
        fields = ("resolution", "root_cause", "root_cause_detail", "corrective_measures", "handling_strategy")
        services.ticket_resolve(data={k: post.get(k) or "" for k in fields if k in post}, **common)
    elif verb == "confirm":
        services.ticket_confirm(satisfaction=score, note=note, **common)
    elif verb == "close":
        services.ticket_close(note=note, **common)
    elif verb == "revisit":
        services.ticket_revisit(satisfaction=score, note=note, **common)
    elif verb == "reopen":
        services.ticket_reopen(reason=reason, **common)
    else:
        services.ticket_cancel(reason=reason, **common)


@page
@require_POST
def ticket_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """One transition of the table; the form carries the version and the verb's fields."""
    require(request.user, Perm.TICKET_EDIT)  # a refused user gets the 403 page, not a toast
    if verb not in VERB_LABELS:
        raise ValidationError(_("操作“%(v)s”无效"), field="verb", params={"v": verb})
    with _reported(request, _("已%(v)s") % {"v": VERB_LABELS[verb]}):
        _transition(verb, ticket_id=pk, version=_version(request), post=request.POST, by=request.user)
    return _back(pk)


@page
@require_POST
def ticket_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.TICKET_EDIT)  # a refused user gets the 403 page, not a toast
    raw = request.POST.get("assignee_id") or ""
    assignee = request.user.pk if raw == "me" else (int(raw) if raw.isdigit() else None)
    try:
        distribution.ticket_assign(
            ticket_id=pk, version=_version(request), assignee_id=assignee, reason=request.POST.get("reason") or "",
            by=request.user,
        )  # fmt: skip
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, _("已分派") if assignee else _("已退回待分派"))
    return _back(pk)


@page
@require_POST
def ticket_escalate(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.TICKET_EDIT)  # a refused user gets the 403 page, not a toast
    raw = request.POST.get("to_user_id") or ""
    try:
        escalation.ticket_escalate(
            ticket_id=pk, version=_version(request), action=request.POST.get("action") or "",
            reason=request.POST.get("reason") or "", to_user_id=int(raw) if raw.isdigit() else None,
            strategy=request.POST.get("strategy") or "", by=request.user,
        )  # fmt: skip
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, _("已升级"))
    return _back(pk)


@page
def attachment_download(request: AuthedRequest, pk: int) -> HttpResponse:
    a = selectors.attachment_get(actor=request.user, attachment_id=pk)
    return download_response(a.file, name=a.name, content_type=a.content_type)


def _dates(request: AuthedRequest) -> tuple[date | None, date | None]:
    out: list[date | None] = []
    for key in ("date_from", "date_to"):
        raw = request.GET.get(key) or ""
        try:
            out.append(date.fromisoformat(raw) if raw else None)
        except ValueError as exc:
            raise ValidationError(_("日期格式应为 YYYY-MM-DD"), field=key) from exc
    return out[0], out[1]


@page
def reports(request: AuthedRequest) -> HttpResponse:
    """SLA met / breached per policy, team, agent or kind (SVC-5) and the product-improvement list (SVC-2)."""
    require(request.user, Perm.TICKET_VIEW)
    group = request.GET.get("group") or "policy"
    date_from, date_to = _dates(request)
    return render(
        request,
        "service/reports.html",
        {
            "rows": selectors.sla_report(actor=request.user, group=group, date_from=date_from, date_to=date_to),
            "improvements": selectors.improvement_list(actor=request.user, date_from=date_from, date_to=date_to),
            "group": group, "groups": {"policy": _("SLA 策略"), "team": _("客服组"), "agent": _("处理人"), "kind": _("工单类型")},
            "date_from": date_from or "", "date_to": date_to or "",
        },
    )  # fmt: skip


# ---- Settings ---------------------------------------------------------------------------------------


@page
def settings_page(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)
    year_raw = request.GET.get("year") or ""
    year = int(year_raw) if year_raw.isdigit() else None
    return render(
        request,
        "service/settings.html",
        {
            "settings": clocks.settings_get(), "teams": selectors.team_list(actor=request.user),
            "policies": selectors.policy_list(actor=request.user),
            "rules": selectors.escalation_rule_list(actor=request.user),
            "calendar": selectors.calendar_year(actor=request.user, year=year), "year": year or date.today().year,
            "agents": selectors.assignee_choices(actor=request.user),
            "supervisors": [u for u in selectors.assignee_choices(actor=request.user) if can(u, Perm.TICKET_MANAGE)],
            "kinds": TicketKind.choices, "categories": Category.choices, "priorities": Priority.choices,
            "distributions": Distribution.choices, "bases": TimeBasis.choices, "clocks": Clock.choices,
            "whens": EscalationWhen.choices, "actions": EscalationAction.choices,
            "tiers": ValueTier.choices,
        },
    )  # fmt: skip


def _settings_back(request: AuthedRequest, anchor: str) -> HttpResponse:
    response = redirect("service:settings")
    response["Location"] += f"#{anchor}"
    return response


@contextmanager
def _reported(request: AuthedRequest, ok: str) -> Iterator[None]:
    """Run a service call; its refusal becomes an error toast (naming what is wrong), success a toast."""
    try:
        yield
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, ok)


@page
@require_POST
def settings_save(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)  # a refused user gets the 403 page, not a toast
    post = request.POST
    windows = [
        [a, b]
        for a, b in zip(post.getlist("window_start"), post.getlist("window_end"), strict=False)
        if a or b
    ]
    data = {
        "work_windows": windows, "reopen_days": post.get("reopen_days"), "soon_minutes": post.get("soon_minutes"),
        "local_area_code": post.get("local_area_code") or "",
        "follow_up_resolved_calls": post.get("follow_up_resolved_calls") == "1",
        "default_team_id": post.get("default_team_id") or None,
    }  # fmt: skip
    with _reported(request, _("服务设置已保存")):
        configuration.service_settings_update(version=_version(request), data=data, by=request.user)
    return _settings_back(request, "general")


@page
@require_POST
def team_save(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)  # a refused user gets the 403 page, not a toast
    post = request.POST
    data = {
        "name": post.get("name") or "", "supervisor_id": post.get("supervisor_id") or None,
        "distribution": post.get("distribution") or "", "kinds": post.getlist("kinds"),
        "is_active": post.get("is_active", "1") == "1",
    }  # fmt: skip
    team_id = post.get("team_id") or ""
    with _reported(request, _("客服组已保存")):
        if team_id.isdigit():
            configuration.team_update(
                team_id=int(team_id), version=_version(request), data=data, by=request.user
            )
        else:
            data.pop("is_active")
            configuration.team_create(data=data, by=request.user)
    return _settings_back(request, "teams")


@page
@require_POST
def member_save(request: AuthedRequest, team_id: int) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)  # a refused user gets the 403 page, not a toast
    post = request.POST
    user_raw = post.get("user_id") or ""
    user_id = int(user_raw) if user_raw.isdigit() else 0
    if post.get("remove") == "1":
        with _reported(request, _("已移出客服组")):
            configuration.team_member_remove(team_id=team_id, user_id=user_id, by=request.user)
    else:
        with _reported(request, _("客服组成员已保存")):
            configuration.team_member_set(
                team_id=team_id, user_id=user_id, skills=post.getlist("skills"), by=request.user
            )
    return _settings_back(request, "teams")


@page
@require_POST
def policy_save(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)  # a refused user gets the 403 page, not a toast
    post = request.POST
    data: dict[str, Any] = {
        k: post.get(k) or "" for k in ("name", "kind", "category", "value_tier", "priority", "basis")
    }
    for key in ("first_response_minutes", "resolution_minutes"):
        data[key] = post.get(key) if key in post else _minutes(post, key)
    policy_id = post.get("policy_id") or ""
    with _reported(request, _("SLA 策略已保存")):
        if policy_id.isdigit():
            data["is_active"] = post.get("is_active") == "1"
            configuration.policy_update(
                policy_id=int(policy_id), version=_version(request), data=data, by=request.user
            )
        else:
            configuration.policy_create(data=data, by=request.user)
    return _settings_back(request, "policies")


def _minutes(post: Any, key: str) -> Any:
    """Hours typed on the page (e.g. 24 or 0.5) become the service's minutes; anything else passes
    through for the service to refuse with the field named."""
    raw = (post.get(key.replace("_minutes", "_hours")) or "").strip()
    try:
        return round(float(raw) * 60)
    except ValueError:
        return raw


@page
@require_POST
def rule_save(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)  # a refused user gets the 403 page, not a toast
    post = request.POST
    data: dict[str, Any] = {k: post.get(k) or "" for k in ("name", "kind", "clock", "when", "action")}
    data["minutes"] = post.get("minutes") or "0"
    rule_id = post.get("rule_id") or ""
    with _reported(request, _("升级规则已保存")):
        if rule_id.isdigit():
            data["is_active"] = post.get("is_active") == "1"
            configuration.escalation_rule_update(
                rule_id=int(rule_id), version=_version(request), data=data, by=request.user
            )
        else:
            configuration.escalation_rule_create(data=data, by=request.user)
    return _settings_back(request, "rules")


@page
@require_POST
def calendar_save(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SERVICE_SETTINGS)  # a refused user gets the 403 page, not a toast
    post = request.POST
    raw = post.get("day") or ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        messages.error(request, _("日期格式应为 YYYY-MM-DD"))
        return _settings_back(request, "calendar")
    if post.get("remove") == "1":
        with _reported(request, _("已恢复默认")):
            configuration.calendar_day_remove(day=day, by=request.user)
    else:
        with _reported(request, _("工作日历已保存")):
            configuration.calendar_day_set(
                day=day,
                is_workday=post.get("is_workday") == "1",
                name=post.get("name") or "",
                by=request.user,
            )
    response = redirect("service:settings")
    response["Location"] += f"?year={day.year}#calendar"
    return response


# ---- Plug-ins: the customer's 360° page and the home page ------------------------------------------


def customer_tickets_tab(request: AuthedRequest, customer: Any) -> str:
    tickets = selectors.customer_tickets(actor=request.user, customer=customer)
    return render_to_string(
        "service/partials/_customer_tab.html",
        {"tickets": tickets, "customer": customer, "may_create": can(request.user, Perm.TICKET_EDIT)},
        request=request,
    )


def home_panel(request: AuthedRequest) -> str:
    counts = selectors.service_counts(actor=request.user)
    if counts is None:
        return ""
    return render_to_string("service/partials/_home_panel.html", {"counts": counts}, request=request)


# ---- The call centre (SVC-3) -------------------------------------------------------------------------


@page
def call_pop(request: AuthedRequest) -> HttpResponse:
    """The screen pop: the page a CTI opens (or the agent's open page is pushed to) with the caller."""
    from . import screenpop

    require(request.user, Perm.TICKET_VIEW)
    number = (request.GET.get("number") or "").strip()
    pop = None
    error = None
    if number:
        raw = request.GET.get("customer") or ""
        try:
            pop = screenpop.screen_pop(
                number=number, actor=request.user, customer_id=int(raw) if raw.isdigit() else None
            )
        except ValidationError as exc:
            error = exc.text()
    return render(
        request,
        "service/screen_pop.html",
        {
            "number": number, "pop": pop, "error": error, "kinds": TicketKind.choices,
            "kind_categories": {k: list(v) for k, v in KIND_CATEGORIES.items()}, "categories": Category.choices,
            "priorities": Priority.choices,
        },
    )  # fmt: skip


@page
@require_POST
def call_handle(request: AuthedRequest) -> HttpResponse:
    """Log the call, open a ticket if asked, schedule the follow-up — then go to the ticket or back."""
    require(request.user, Perm.TICKET_VIEW)  # a refused user gets the 403 page, not a toast
    from urllib.parse import urlencode

    from . import screenpop

    post = request.POST
    data: dict[str, Any] = {
        "number": post.get("number") or "", "customer_id": post.get("customer_id") or None,
        "contact_id": post.get("contact_id") or None, "summary": post.get("summary") or "",
        "resolved": post.get("resolved") == "1",
    }  # fmt: skip
    if post.get("open_ticket") == "1":
        data["ticket"] = {
            k: post.get(k) or "" for k in ("kind", "category", "title", "description", "priority")
        }
    try:
        result = screenpop.call_handle(data=data, by=request.user)
    except KehuError as exc:
        messages.error(request, exc.text())
        query = {"number": data["number"], "customer": data["customer_id"] or ""}
        return redirect(f"/service/calls/pop/?{urlencode(query)}")
    parts = [_("通话已记录")]
    if result.ticket is not None:
        parts.append(_("工单 %(n)s 已登记") % {"n": result.ticket.number})
    if result.follow_up is not None:
        parts.append(_("已安排 %(d)s 回访来电") % {"d": result.follow_up.due_on})
    messages.success(request, "；".join(str(p) for p in parts))
    if result.ticket is not None:
        return _back(result.ticket.pk)
    return redirect("customers:detail", pk=int(data["customer_id"]))


@page
def call_incoming(request: AuthedRequest) -> HttpResponse:
    """Polled by the agents' pages: a call ringing at them (reported by the CTI) pops once."""
    from . import screenpop

    if not can(request.user, Perm.TICKET_VIEW):
        return HttpResponse("")
    call = screenpop.incoming_take(actor=request.user)
    if call is None:
        return HttpResponse("")
    return render(request, "service/partials/_incoming.html", {"call": call})
