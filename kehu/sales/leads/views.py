"""Thin pages over the lead services and selectors (SAL-1, SAL-2): the list and the lead pool, a
lead's page with its risk reasons and actions, entry and editing, conversion with 查重, the risk
rules and the capture forms — and the public capture page (no sign-in)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.access.selectors import user_choices
from kehu.access.services import client_ip
from kehu.core.errors import KehuError, ValidationError
from kehu.core.web import page, query_params
from kehu.customers.selectors import options

from . import capture, selectors, services
from .choices import Delivery, DiscardReason, LeadChannel, LeadStatus
from .forms import LINE_ROWS, CaptureForm, DiscardForm, LeadEntryForm, LeadFormSettingsForm, ReviewForm

SCENES = {
    "all": gettext_lazy("全部线索"),
    "mine": gettext_lazy("我的线索"),
    "flagged": gettext_lazy("待风险审核"),
}


def _int(value: Any) -> int | None:
    """A posted id or version; anything that is not a positive whole number counts as none."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and int(text) > 0 else None


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.text())


def _sources() -> list[tuple[str, str]]:
    return [(o.code, o.display) for o in options("source")]


def _owners() -> list[tuple[str, str]]:
    return [(str(u.pk), u.label) for u in user_choices() if can(u, Perm.LEAD_EDIT)]


def _to_detail(pk: int) -> HttpResponse:
    return redirect("sales:lead_detail", pk=pk)


def _list(request: AuthedRequest, *, pool: bool) -> HttpResponse:
    require(request.user, Perm.LEAD_VIEW)
    filters = query_params(request, selectors.LEAD_FILTERS - {"pool", "mine"})
    scene = "pool" if pool else (request.GET.get("scene") or "all")
    query = dict(filters)
    if pool:
        query["pool"] = "1"
    elif scene == "mine":
        query["mine"] = "1"
    elif scene == "flagged":
        query["flagged"] = "1"
    sort = request.GET.get("sort") or "-created_at"
    error = None
    try:
        result = selectors.lead_list(
            actor=request.user, filters=query, sort=sort, limit=request.GET.get("limit"),
            offset=request.GET.get("offset"),
        )  # fmt: skip
    except KehuError as exc:
        error = exc.text()
        result = selectors.lead_list(actor=request.user, filters={"pool": "1"} if pool else {})
    return render(request, "sales/leads/list.html", {
        "page": result, "filters": filters, "scene": scene, "scenes": SCENES, "pool": pool, "sort": sort,
        "statuses": LeadStatus.choices, "channels": LeadChannel.choices, "sources": _sources(),
        "owners": _owners() if not pool else [], "error": error,
        "reveal": can(request.user, Perm.CUSTOMER_REVEAL),
    })  # fmt: skip


@page
def lead_list(request: AuthedRequest) -> HttpResponse:
    return _list(request, pool=False)


@page
def lead_pool(request: AuthedRequest) -> HttpResponse:
    return _list(request, pool=True)


def _line_rows(lead: Any = None) -> list[dict[str, Any]]:
    rows = []
    for line in lead.lines.all() if lead is not None else []:
        rows.append({"product": line.product_id, "quantity": line.quantity.normalize(), "unit": line.unit,
                     "samples": line.samples})  # fmt: skip
    rows.extend({"product": None, "quantity": "", "unit": "", "samples": ""} for _ in range(LINE_ROWS))
    return rows


def _post_rows(post: Any) -> list[dict[str, Any]]:
    from .forms import lines_from_post

    rows = [
        {**r, "product": int(r["product"]) if str(r["product"]).isdigit() else None}
        for r in lines_from_post(post)
    ]
    rows.extend({"product": None, "quantity": "", "unit": "", "samples": ""} for _ in range(LINE_ROWS))
    return rows


def _form_page(
    request: AuthedRequest, form: Any, *, lead: Any = None, rows: list[dict[str, Any]]
) -> HttpResponse:
    return render(request, "sales/leads/form.html", {
        "form": form, "lead": lead, "rows": rows, "creating": lead is None,
        "products": selectors.product_choices(actor=request.user),
    })  # fmt: skip


@page
def lead_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.LEAD_EDIT)
    owners = _owners() if can(request.user, Perm.LEAD_MANAGE) else None
    if request.method == "POST":
        form = LeadEntryForm(request.POST, sources=_sources(), owners=owners)
        if form.is_valid():
            try:
                lead = services.lead_create(
                    data=form.service_data(request.POST, creating=True), by=request.user
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("线索已保存"))
                return _to_detail(lead.pk)
        return _form_page(request, form, rows=_post_rows(request.POST))
    form = LeadEntryForm(sources=_sources(), owners=owners, initial={"owner": str(request.user.pk)})
    return _form_page(request, form, rows=_line_rows())


@page
def lead_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.LEAD_EDIT)
    lead = selectors.lead_get(actor=request.user, lead_id=pk)
    if request.method == "POST":
        form = LeadEntryForm(request.POST, sources=_sources())
        if form.is_valid():
            try:
                services.lead_update(
                    lead_id=pk, version=form.cleaned_data["version"],
                    data=form.service_data(request.POST, creating=False), by=request.user,
                )  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("线索已保存"))
                return _to_detail(pk)
        return _form_page(request, form, lead=lead, rows=_post_rows(request.POST))
    initial = {f: getattr(lead, f) for f in ("company_name", "contact_name", "mobile", "phone", "email", "wechat",
                                             "website", "province", "city", "delivery", "samples_requested",
                                             "content", "version")}  # fmt: skip
    initial["source"] = lead.source.code if lead.source else ""
    return _form_page(
        request, LeadEntryForm(sources=_sources(), initial=initial), lead=lead, rows=_line_rows(lead)
    )


@page
def lead_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(actor=request.user, lead_id=pk)
    return render(request, "sales/leads/detail.html", _detail_context(request, lead))


def _detail_context(request: AuthedRequest, lead: Any, **extra: Any) -> dict[str, Any]:
    user = request.user
    # A pool lead is worked by claiming it first (lead managers may act on it directly); the services
    # check again.
    workable = lead.owner_id is not None or can(user, Perm.LEAD_MANAGE)
    return {
        "lead": lead, "discard_form": extra.pop("discard_form", DiscardForm()),
        "review_form": extra.pop("review_form", ReviewForm()), "owners": _owners() if can(user, Perm.LEAD_MANAGE) else [],
        "can_edit": can(user, Perm.LEAD_EDIT) and lead.is_open and workable,
        "can_manage": can(user, Perm.LEAD_MANAGE), "reveal": can(user, Perm.CUSTOMER_REVEAL),
        "threshold": selectors.risk_threshold(actor=user).threshold, "delivery_labels": dict(Delivery.choices),
        "discard_labels": dict(DiscardReason.choices), **extra,
    }  # fmt: skip


def _action(request: AuthedRequest, pk: int, call: Any, done: str) -> HttpResponse:
    try:
        call()
    except KehuError as exc:
        messages.error(request, exc.text())
    else:
        messages.success(request, done)
    return _to_detail(pk)


@require_POST
@page
def lead_claim(request: AuthedRequest, pk: int) -> HttpResponse:
    services.lead_claim(lead_id=pk, by=request.user)
    messages.success(request, _("已领取线索"))
    return _to_detail(pk)


@require_POST
@page
def lead_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    to_user = request.POST.get("to_user") or ""
    return _action(request, pk, lambda: services.lead_assign(lead_id=pk, to_user=to_user, by=request.user),
                   _("已分配线索"))  # fmt: skip


@require_POST
@page
def lead_release(request: AuthedRequest, pk: int) -> HttpResponse:
    services.lead_release(lead_id=pk, reason=request.POST.get("reason", ""), by=request.user)
    messages.success(request, _("已退回线索池"))
    return redirect("sales:lead_pool")


@require_POST
@page
def lead_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """Start screening / qualify / samples sent: one button each on the lead's page."""
    calls = {
        "screen": (services.lead_screen, _("已开始筛选")),
        "qualify": (services.lead_qualify, _("已确认为有效线索")),
        "samples": (services.lead_samples_send, _("已记录样品寄出")),
    }
    if verb not in calls:
        raise Http404
    service, done = calls[verb]
    return _action(request, pk, lambda: service(lead_id=pk, by=request.user), str(done))


@page
def lead_discard(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(actor=request.user, lead_id=pk)
    if request.method != "POST":
        return _to_detail(pk)
    form = DiscardForm(request.POST)
    if form.is_valid():
        try:
            services.lead_discard(
                lead_id=pk,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                by=request.user,
            )
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("线索已放弃"))
            return _to_detail(pk)
    context = _detail_context(request, lead, discard_form=form, open_dialog="discard")
    return render(request, "sales/leads/detail.html", context, status=422)


@page
def lead_review(request: AuthedRequest, pk: int) -> HttpResponse:
    lead = selectors.lead_get(actor=request.user, lead_id=pk)
    if request.method != "POST":
        return _to_detail(pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.lead_review_clear(lead_id=pk, comment=form.cleaned_data["comment"], by=request.user)
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("风险审核已通过"))
            return _to_detail(pk)
    context = _detail_context(request, lead, review_form=form, open_dialog="review")
    return render(request, "sales/leads/detail.html", context, status=422)


@page
def lead_convert(request: AuthedRequest, pk: int) -> HttpResponse:
    """Conversion (SAL-1): the 查重 matches first; the user attaches the lead to one of them or
    confirms a new customer. The service checks everything again in its transaction."""
    require(request.user, Perm.LEAD_EDIT)
    lead = selectors.lead_get(actor=request.user, lead_id=pk)
    error = None
    if request.method == "POST":
        choice = request.POST.get("customer") or ""
        try:
            services.lead_convert(
                lead_id=pk, by=request.user, customer_id=_int(choice),
                confirm_new=choice == "new", opportunity_name=request.POST.get("opportunity_name", ""),
                amount=request.POST.get("amount") or None, version=_int(request.POST.get("version")),
            )  # fmt: skip
        except KehuError as exc:  # DuplicateFound included: the matches are listed below again
            error = exc.text()
        else:
            messages.success(request, _("线索已转化为客户、联系人和商机"))
            return _to_detail(pk)
    matches = selectors.lead_duplicates(actor=request.user, lead_id=pk) if lead.is_open else []
    return render(request, "sales/leads/convert.html", {
        "lead": lead, "matches": matches, "error": error, "estimated": lead.estimated_amount,
        "posted": request.POST if request.method == "POST" else {},
    }, status=409 if error else 200)  # fmt: skip


# --- settings ---------------------------------------------------------------------------------------


@page
def risk_rules(request: AuthedRequest) -> HttpResponse:
    """The fraudulent-inquiry rules (SAL-2): points, parameters (JSON), on/off; the threshold."""
    rules = selectors.risk_rules(actor=request.user)
    settings_row = selectors.risk_threshold(actor=request.user)
    errors: dict[str, str] = {}
    if request.method == "POST":
        action = request.POST.get("action") or ""
        try:
            if action == "threshold":
                services.risk_threshold_update(
                    threshold=request.POST.get("threshold"), version=_int(request.POST.get("version")),
                    by=request.user,
                )  # fmt: skip
                messages.success(request, _("审核阈值已保存"))
            elif action == "rescore":
                job = services.leads_rescore_start(by=request.user)
                messages.success(
                    request,
                    _("已开始给未结束的线索重新评分（后台任务 #%(id)s），完成后见“后台任务”页")
                    % {"id": job.pk},
                )
            elif action == "rule":
                rule_id = _int(request.POST.get("rule")) or 0
                try:
                    params = json.loads(request.POST.get("params") or "{}")
                except ValueError:
                    raise ValidationError(_("参数必须是 JSON 对象"), field="params") from None
                services.risk_rule_update(
                    rule_id=rule_id, version=_int(request.POST.get("version")),
                    data={"points": request.POST.get("points"), "params": params,
                          "is_active": request.POST.get("is_active") == "1"},
                    by=request.user,
                )  # fmt: skip
                messages.success(request, _("规则已保存"))
            return redirect("sales:lead_risk_rules")
        except KehuError as exc:
            errors[f"{action}-{request.POST.get('rule', '')}"] = exc.text()
            errors["field"] = exc.field or ""
            rules = selectors.risk_rules(actor=request.user)
    rows = [{"rule": r, "params": json.dumps(r.params or {}, ensure_ascii=False, indent=1)} for r in rules]
    return render(request, "sales/leads/rules.html", {
        "rows": rows, "settings_row": settings_row, "errors": errors, "posted": request.POST,
    }, status=422 if errors else 200)  # fmt: skip


@page
def lead_forms(request: AuthedRequest, form_id: int | None = None) -> HttpResponse:
    """The public capture forms (SAL-1): their URL and the snippet to embed them on a website."""
    forms_list = selectors.lead_forms(actor=request.user)
    editing = selectors.lead_form_get(actor=request.user, form_id=form_id) if form_id else None
    if request.method == "POST":
        form = LeadFormSettingsForm(request.POST, sources=_sources(), owners=_owners())
        if form.is_valid():
            try:
                if editing is not None:
                    services.lead_form_update(form_id=editing.pk, version=form.cleaned_data["version"],
                                              data=form.service_data(), by=request.user)  # fmt: skip
                else:
                    services.lead_form_create(data=form.service_data(), by=request.user)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("线索表单已保存"))
                return redirect("sales:lead_forms")
    elif editing is not None:
        form = LeadFormSettingsForm(sources=_sources(), owners=_owners(), initial={
            "name": editing.name, "title": editing.title, "thanks": editing.thanks, "min_seconds": editing.min_seconds,
            "source": editing.source.code if editing.source else "", "owner": editing.owner_id or "",
            "is_active": editing.is_active, "version": editing.version,
        })  # fmt: skip
    else:
        form = LeadFormSettingsForm(sources=_sources(), owners=_owners())
    items = [
        {"form": f, "url": request.build_absolute_uri(reverse("sales:lead_capture_page", kwargs={"token": f.token})),
         "api": request.build_absolute_uri("/api/v1/leads/capture")}
        for f in forms_list
    ]  # fmt: skip
    return render(request, "sales/leads/forms.html", {"items": items, "form": form, "editing": editing})


# --- the public capture page ------------------------------------------------------------------------


@csrf_exempt  # embedded on other sites (iframe): guarded by the form token, stamp, honeypot and rate limits
@xframe_options_exempt
def capture_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        lead_form = capture.capture_form_for(token)
    except KehuError as exc:
        return render(request, "sales/leads/capture.html", {"missing": True, "error": exc.text()}, status=404)
    if request.method == "POST":
        form = CaptureForm(request.POST)
        status = 422
        if form.is_valid():
            try:
                capture.lead_capture(
                    token=token, data=form.lead_data(), ip=client_ip(request),
                    stamp=form.cleaned_data["stamp"], honeypot=form.cleaned_data["url"],
                )  # fmt: skip
            except KehuError as exc:
                # A stale stamp or the rate limit is about the whole form, not a field the visitor filled.
                field = exc.field if exc.field in form.fields and exc.field not in ("stamp", "url") else None
                form.add_error(field, exc.text())
                status = exc.status
            else:
                return render(request, "sales/leads/capture.html", {"lead_form": lead_form, "done": True})
        return render(
            request, "sales/leads/capture.html", {"lead_form": lead_form, "form": form}, status=status
        )
    form = CaptureForm(initial={"stamp": capture.capture_stamp(lead_form)})
    return render(request, "sales/leads/capture.html", {"lead_form": lead_form, "form": form})
