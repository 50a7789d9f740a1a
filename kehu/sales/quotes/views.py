"""Thin pages over the quote services and selectors (SAL-5): list, new, detail with htmx line editing,
header edit, revise, sent/accepted/rejected/expired, PDF/Excel, the quote history panel, the letterhead
settings and the 报价 tab of the customer's 360° page."""

from __future__ import annotations

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
from kehu.approvals.choices import ApprovalStatus
from kehu.catalog.selectors import picture_response, product_choices
from kehu.core.errors import Conflict, KehuError, ValidationError
from kehu.core.web import form_after_conflict, is_htmx, page, query_params
from kehu.customers.selectors import contact_list, customer_get, customer_list

from . import selectors, services
from .approval import needs_approval
from .choices import COST_COMPONENTS, QuoteStatus
from .documents import document_response
from .forms import LetterheadForm, LineForm, QuoteForm, letterhead_initial, line_initial, quote_initial
from .selectors import letterhead_get

LIST_FILTERS = frozenset(selectors.FILTERS - {"all_revisions"})


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields else None
    if field is None and exc.field == "cost_components":
        field = None
    form.add_error(field, exc.text())


def _header_choices(request: AuthedRequest, customer: Any) -> dict[str, Any]:
    return {
        "contacts": list(contact_list(actor=request.user, customer=customer, limit=200).items),
        "opportunities": selectors.customer_opportunities(actor=request.user, customer=customer),
    }


def customer_quotes_tab(request: AuthedRequest, customer: Any) -> str:
    """The 报价 tab of the 360° page (registered in sales/apps.py): the customer's quotes, newest first."""
    page_ = selectors.quote_list(actor=request.user, filters={"customer": customer.pk}, limit=20)
    return render_to_string(
        "sales/quotes/partials/_customer_tab.html",
        {"c": customer, "page": page_, "can_edit": can(request.user, Perm.QUOTE_EDIT)},
        request=request,
    )


@page
def quote_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.QUOTE_VIEW)
    filters = query_params(request, LIST_FILTERS)
    sort = request.GET.get("sort") or "-quoted_on"
    error = None
    try:
        result = selectors.quote_list(
            actor=request.user, filters=dict(filters), sort=sort,
            limit=request.GET.get("limit"), offset=request.GET.get("offset"),
        )  # fmt: skip
    except ValidationError as exc:
        error, filters, sort = exc.text(), {}, "-quoted_on"
        result = selectors.quote_list(actor=request.user)
    return render(
        request,
        "sales/quotes/list.html",
        {"page": result, "filters": filters, "sort": sort, "error": error, "statuses": QuoteStatus.choices,
         "approval_statuses": ApprovalStatus.choices, "can_edit": can(request.user, Perm.QUOTE_EDIT)},
    )  # fmt: skip


@page
def quote_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.QUOTE_EDIT)
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    if not customer_id:
        # First pick the customer (one the user can see), by name, pinyin, code or phone.
        q = request.GET.get("q", "").strip()
        found = customer_list(actor=request.user, filters={"q": q} if q else {}, limit=20).items
        return render(request, "sales/quotes/pick_customer.html", {"customers": found, "q": q})
    try:
        customer = customer_get(actor=request.user, customer_id=int(customer_id))
    except ValueError:
        raise ValidationError(_("客户不存在或您无权查看"), field="customer") from None
    choices = _header_choices(request, customer)
    if request.method == "POST":
        form = QuoteForm(request.POST, **choices)
        if form.is_valid():
            try:
                quote = services.quote_create(
                    customer_id=customer.pk, data=form.service_data(creating=True), by=request.user
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("报价单已创建，请添加明细"))
                return redirect("sales:quote_detail", pk=quote.pk)
    else:
        initial = {"opportunity": request.GET.get("opportunity", ""), "terms": letterhead_get().default_terms}
        form = QuoteForm(initial=initial, **choices)
    return render(
        request,
        "sales/quotes/form.html",
        {"form": form, "c": customer, "creating": True,
         "products": product_choices(actor=request.user, limit=50) if can(request.user, Perm.PRODUCT_VIEW) else []},
    )  # fmt: skip


def _detail_context(request: AuthedRequest, quote: Any, *, line_form: Any = None, editing: int | None = None,
                    edit_form: Any = None) -> dict[str, Any]:  # fmt: skip
    editable = (
        quote.is_current and quote.status == QuoteStatus.DRAFT and not quote.locked
        and can(request.user, Perm.QUOTE_EDIT)
    )  # fmt: skip
    return {
        "q": quote,
        "lines": selectors.quote_lines(quote),
        "editable": editable,
        "can_edit": can(request.user, Perm.QUOTE_EDIT),
        "needs_approval": needs_approval(quote),
        "letterhead": letterhead_get(),
        "line_form": line_form or LineForm(),
        "edit_form": edit_form,
        "editing": editing,
        "products": product_choices(actor=request.user, limit=50) if editable else [],
        "components": COST_COMPONENTS,
        "cost_fields": [f"cost_{key}" for key in COST_COMPONENTS],
    }


def _lines_response(request: AuthedRequest, quote_id: int, **extra: Any) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=quote_id)
    return render(request, "sales/quotes/partials/_lines.html", _detail_context(request, quote, **extra))


@page
def quote_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    quote = selectors.quote_get(actor=request.user, quote_id=pk)
    context = _detail_context(request, quote)
    context["revisions"] = selectors.quote_revisions(actor=request.user, quote=quote)
    context["history"] = selectors.history_of_quote(actor=request.user, quote=quote)
    return render(request, "sales/quotes/detail.html", context)


@page
def quote_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.QUOTE_EDIT)
    quote = selectors.quote_get(actor=request.user, quote_id=pk)
    choices = _header_choices(request, quote.customer)
    if request.method == "POST":
        form = QuoteForm(request.POST, **choices)
        if form.is_valid():
            try:
                services.quote_update(
                    quote_id=pk, version=form.cleaned_data["version"] or 0, data=form.service_data(creating=False),
                    by=request.user,
                )  # fmt: skip
            except Conflict as exc:
                if exc.code != "stale_version":
                    messages.error(request, exc.text())
                    return redirect("sales:quote_detail", pk=pk)
                current = selectors.quote_get(actor=request.user, quote_id=pk)
                form = form_after_conflict(
                    QuoteForm, request.POST, version=current.version, error=exc, **choices
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("sales:quote_detail", pk=pk)
    else:
        form = QuoteForm(initial=quote_initial(quote), **choices)
    return render(
        request, "sales/quotes/form.html", {"form": form, "c": quote.customer, "q": quote, "creating": False}
    )


@page
@require_POST
def line_add(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.quote_get(actor=request.user, quote_id=pk)  # outside the actor's scope: 404 before anything
    form = LineForm(request.POST)
    if form.is_valid():
        try:
            services.quote_line_add(quote_id=pk, data=form.service_data(), by=request.user)
        except KehuError as exc:
            if exc.status in (403, 404):
                raise
            _form_error(form, exc)
        else:
            form = LineForm()
            if not is_htmx(request):
                messages.success(request, _("明细已添加"))
    if is_htmx(request):
        return _lines_response(request, pk, line_form=form)
    if form.errors:
        messages.error(request, "; ".join(str(e) for errors in form.errors.values() for e in errors))
    return redirect("sales:quote_detail", pk=pk)


@page
def line_edit(request: AuthedRequest, pk: int, line_id: int) -> HttpResponse:
    line = selectors.quote_line_get(actor=request.user, line_id=line_id)
    if line.quote_id != pk:
        raise ValidationError(_("明细不属于该报价单"), field="line")
    if request.method == "POST":
        form = LineForm(request.POST)
        if form.is_valid():
            try:
                services.quote_line_update(line_id=line_id, data=form.service_data(), by=request.user)
            except KehuError as exc:
                if exc.status in (403, 404):
                    raise
                _form_error(form, exc)
            else:
                if is_htmx(request):
                    return _lines_response(request, pk)
                return redirect("sales:quote_detail", pk=pk)
        return _lines_response(request, pk, editing=line_id, edit_form=form)
    return _lines_response(request, pk, editing=line_id, edit_form=LineForm(initial=line_initial(line)))


@page
@require_POST
def line_delete(request: AuthedRequest, pk: int, line_id: int) -> HttpResponse:
    line = selectors.quote_line_get(actor=request.user, line_id=line_id)
    if line.quote_id != pk:
        raise ValidationError(_("明细不属于该报价单"), field="line")
    try:
        services.quote_line_remove(line_id=line_id, by=request.user)
    except KehuError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.text())
    if is_htmx(request):
        return _lines_response(request, pk)
    return redirect("sales:quote_detail", pk=pk)


@page
@require_POST
def quote_revise(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        new = services.quote_revise(quote_id=pk, by=request.user)
    except KehuError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.text())
        return redirect("sales:quote_detail", pk=pk)
    messages.success(request, _("已生成新版本 V%(n)s") % {"n": new.revision})
    return redirect("sales:quote_detail", pk=new.pk)


TRANSITIONS = ("send", "accept", "reject", "expire")


@page
@require_POST
def quote_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """已发送 / 客户接受 / 客户拒绝 / 已过期."""
    if verb not in TRANSITIONS:
        raise ValidationError(_("未知操作"), field="verb")
    note = request.POST.get("note", "")
    try:
        if verb == "send":
            services.quote_send(quote_id=pk, by=request.user)
        elif verb == "accept":
            services.quote_accept(quote_id=pk, note=note, by=request.user)
        elif verb == "reject":
            services.quote_reject(quote_id=pk, note=note, by=request.user)
        else:
            services.quote_expire(quote_id=pk, by=request.user)
    except KehuError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.text())
    else:
        messages.success(request, _("报价单状态已更新"))
    return redirect("sales:quote_detail", pk=pk)


@page
def quote_pdf(request: AuthedRequest, pk: int) -> HttpResponse:
    data, name = selectors.quote_document(actor=request.user, quote_id=pk, fmt="pdf")
    return document_response(data, name)  # type: ignore[no-any-return]


@page
def quote_xlsx(request: AuthedRequest, pk: int) -> HttpResponse:
    data, name = selectors.quote_document(actor=request.user, quote_id=pk, fmt="xlsx")
    return document_response(data, name)  # type: ignore[no-any-return]


@page
def line_picture(request: AuthedRequest, line_id: int) -> HttpResponse:
    data, content_type = selectors.quote_line_picture(actor=request.user, line_id=line_id)
    return picture_response(data, content_type)  # type: ignore[no-any-return]


@page
def history_panel(request: AuthedRequest) -> HttpResponse:
    """The quote history of the chosen products for a customer (htmx panel of the new-quote page and of
    the add-line form)."""
    require(request.user, Perm.QUOTE_VIEW)
    try:
        customer_id = int(request.GET.get("customer", ""))
        product_ids = [int(p) for p in request.GET.getlist("product") if p]
    except ValueError:
        raise ValidationError(_("客户或产品参数无效"), field="customer") from None
    history = selectors.history_for(
        actor=request.user, customer_id=customer_id, product_ids=product_ids,
        exclude_number=request.GET.get("exclude") or None,
    )  # fmt: skip
    return render(
        request, "sales/quotes/partials/_history.html", {"history": history, "components": COST_COMPONENTS}
    )


@page
def letterhead(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.SETTINGS_EDIT)
    current = letterhead_get()
    if request.method == "POST":
        form = LetterheadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.letterhead_update(
                    data=form.service_data(), version=form.cleaned_data["version"], logo=form.logo_bytes(),
                    by=request.user,
                )  # fmt: skip
            except Conflict as exc:
                form = form_after_conflict(
                    LetterheadForm, request.POST, version=letterhead_get().version, error=exc
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("报价抬头已保存"))
                return redirect("sales:letterhead")
    else:
        form = LetterheadForm(initial=letterhead_initial(current))
    return render(request, "sales/quotes/letterhead.html", {"form": form, "letterhead": current})


@page
def letterhead_logo(request: AuthedRequest) -> HttpResponse:
    return picture_response(*selectors.letterhead_logo(actor=request.user))  # type: ignore[no-any-return]
