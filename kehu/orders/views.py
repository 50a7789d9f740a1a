"""Thin pages over the contract, order, invoice and payment services (SAL-6, SAL-7), the receivables
aging, and the 合同 / 订单 / 回款 / 单据 tabs of the customer's 360° page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm, ViewScope
from kehu.access.requests import AuthedRequest
from kehu.access.scope import require
from kehu.approvals.choices import ApprovalStatus
from kehu.core.errors import Conflict, KehuError, NotFound, ValidationError
from kehu.core.web import download_response, form_after_conflict, page, query_params
from kehu.customers.selectors import customer_get

from . import billing, selectors, services
from .choices import (
    AgingBucket,
    AgingGroup,
    ContractStatus,
    DocumentKind,
    InvoiceType,
    OrderStatus,
    PaymentMethod,
)
from .forms import (
    ContractEditForm,
    ContractForm,
    InstalmentEditForm,
    InstalmentForm,
    InvoiceCreateForm,
    InvoiceEditForm,
    OrderEditForm,
    OrderForm,
    PaymentCreateForm,
    PaymentEditForm,
    ShipmentForm,
    lines_from,
    matches_from,
)


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields and not form.fields[exc.field].widget.is_hidden else None
    form.add_error(field, exc.text())


def _uploads(request: HttpRequest, key: str = "files") -> list[tuple[str, bytes]]:
    return [(f.name or "", f.read()) for f in request.FILES.getlist(key)]


def _version(request: HttpRequest) -> int | None:
    raw = str(request.POST.get("version") or "")
    return int(raw) if raw.isdigit() else None


def _listing(
    request: AuthedRequest, selector: Any, filters_allowed: set[str], default_sort: str
) -> tuple[Any, dict[str, str], str, str | None]:
    filters = query_params(request, frozenset(filters_allowed))
    sort = request.GET.get("sort") or default_sort
    try:
        result = selector(actor=request.user, filters=dict(filters), sort=sort, limit=request.GET.get("limit"),
                          offset=request.GET.get("offset"))  # fmt: skip
        return result, filters, sort, None
    except ValidationError as exc:
        return selector(actor=request.user), {}, default_sort, exc.text()


# --- the customer's 360° page (registered in apps.py) -----------------------------------------------------


def customer_contracts_tab(request: AuthedRequest, customer: Any) -> str:
    page_ = selectors.contract_list(actor=request.user, customer=customer, limit=50)
    return render_to_string(
        "orders/partials/_customer_contracts.html", {"c": customer, "page": page_}, request=request
    )


def customer_orders_tab(request: AuthedRequest, customer: Any) -> str:
    page_ = selectors.order_list(actor=request.user, customer=customer, limit=50)
    return render_to_string(
        "orders/partials/_customer_orders.html", {"c": customer, "page": page_}, request=request
    )


def customer_payments_tab(request: AuthedRequest, customer: Any) -> str:
    return render_to_string(
        "orders/partials/_customer_payments.html",
        {"c": customer, "page": selectors.payment_list(actor=request.user, customer=customer, limit=50),
         "instalments": selectors.customer_instalments(actor=request.user, customer=customer),
         "today": timezone.localdate()},
        request=request,
    )  # fmt: skip


def _documents_html(request: AuthedRequest, customer: Any) -> str:
    filters = query_params(request, frozenset({"kind", "q", "date_from", "date_to"}))
    error = None
    try:
        page_ = selectors.customer_documents(actor=request.user, customer=customer, filters=dict(filters),
                                             limit=request.GET.get("limit") or 50, offset=request.GET.get("offset"))  # fmt: skip
    except ValidationError as exc:
        error, filters = exc.text(), {}
        page_ = selectors.customer_documents(actor=request.user, customer=customer, limit=50)
    return render_to_string(
        "orders/partials/_customer_documents.html",
        {"c": customer, "page": page_, "filters": filters, "kinds": DocumentKind.choices, "error": error},
        request=request,
    )


def customer_documents_tab(request: AuthedRequest, customer: Any) -> str:
    return _documents_html(request, customer)


@page
def customer_documents(request: AuthedRequest, customer_id: int) -> HttpResponse:
    """The 单据 tab alone (its search form answers through htmx)."""
    customer = customer_get(actor=request.user, customer_id=customer_id)
    return HttpResponse(_documents_html(request, customer))


# --- contracts -----------------------------------------------------------------------------------------


@page
def contract_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.CONTRACT_VIEW)
    result, filters, sort, error = _listing(
        request, selectors.contract_list, selectors.CONTRACT_FILTERS, "-created_at"
    )
    return render(request, "orders/contracts.html", {
        "page": result, "filters": filters, "sort": sort, "error": error, "statuses": ContractStatus.choices,
        "approval_statuses": ApprovalStatus.choices,
    })  # fmt: skip


@page
def contract_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.CONTRACT_EDIT)
    raw = str(request.GET.get("customer") or request.POST.get("customer") or "")
    if not raw.isdigit():
        raise NotFound(_("请从客户页面新建合同"), field="customer")
    customer = customer_get(actor=request.user, customer_id=int(raw))
    opportunities = selectors.won_opportunities(actor=request.user, customer_id=customer.pk)
    quotes = selectors.accepted_quotes(actor=request.user, customer_id=customer.pk)
    if request.method == "POST":
        form = ContractForm(request.POST, opportunities=opportunities, quotes=quotes)
        if form.is_valid():
            try:
                c = services.contract_create(
                    data={**form.service_data(), "customer": customer.pk}, by=request.user
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("合同已创建"))
                return redirect("orders:contract_detail", pk=c.pk)
    else:
        opp = next((o for o in opportunities if str(o.pk) == request.GET.get("opportunity")), None)
        quote = next((q for q in quotes if str(q.pk) == request.GET.get("quote")), None)
        initial = {
            "their_party": customer.name, "currency": "CNY", "opportunity": str(opp.pk) if opp else "",
            "title": opp.name if opp else "", "amount": opp.amount if opp else "",
        }  # fmt: skip
        if quote is not None:  # drawn up from an accepted quote: its title, total and currency
            initial.update(
                quote=str(quote.pk), title=quote.title, amount=quote.total, currency=quote.currency
            )
        form = ContractForm(opportunities=opportunities, quotes=quotes, initial=initial)
    return render(request, "orders/form.html", {
        "form": form, "c": customer, "title": _("新建合同"), "section": "contracts", "testid": "contract-form",
        "cancel": customer.pk, "customer_field": True,
    })  # fmt: skip


@page
def contract_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    c = selectors.contract_get(actor=request.user, contract_id=pk)
    instalments = selectors.contract_instalments(contract=c)
    return render(request, "orders/contract_detail.html", {
        "contract": c, "instalments": instalments, "documents": selectors.contract_documents(contract=c),
        "orders": selectors.order_list(actor=request.user, filters={"contract": c.pk}, limit=50).items,
        "payments": selectors.payment_list(actor=request.user, filters={"contract": c.pk}, limit=50).items,
        "invoices": selectors.invoice_list(actor=request.user, filters={"contract": c.pk}, limit=50).items,
        "planned": sum((i.amount for i in instalments), 0), "instalment_form": InstalmentForm(),
        "today": timezone.localdate(), "users": selectors.transfer_choices(actor=request.user),
    })  # fmt: skip


@page
def contract_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    c = selectors.contract_get(actor=request.user, contract_id=pk)
    opportunities = selectors.won_opportunities(actor=request.user, customer_id=c.customer_id)
    if c.opportunity is not None and c.opportunity not in opportunities:
        opportunities.append(c.opportunity)
    quotes = selectors.accepted_quotes(actor=request.user, customer_id=c.customer_id)
    if c.quote is not None and c.quote not in quotes:
        quotes.append(c.quote)
    if request.method == "POST":
        form = ContractEditForm(request.POST, opportunities=opportunities, quotes=quotes)
        if form.is_valid():
            try:
                services.contract_update(contract_id=pk, version=form.cleaned_data["version"], data=form.service_data(),
                                         by=request.user)  # fmt: skip
            except Conflict as exc:
                if exc.code != "stale_version":
                    _form_error(form, exc)
                else:
                    fresh = selectors.contract_get(actor=request.user, contract_id=pk)
                    form = form_after_conflict(ContractEditForm, request.POST, version=fresh.version, error=exc,
                                               opportunities=opportunities, quotes=quotes)  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("orders:contract_detail", pk=pk)
    else:
        initial = {k: getattr(c, k) for k in ContractForm.base_fields if k not in ("opportunity", "quote")}
        initial.update(
            opportunity=str(c.opportunity_id or ""), quote=str(c.quote_id or ""), version=c.version
        )
        for k in ("signed_on", "starts_on", "ends_on"):
            initial[k] = initial[k].isoformat() if initial[k] else ""
        form = ContractEditForm(initial=initial, opportunities=opportunities, quotes=quotes)
    return render(request, "orders/form.html", {
        "form": form, "c": c.customer, "title": _("修改合同"), "section": "contracts", "testid": "contract-form",
        "back": ("orders:contract_detail", c.pk),
    })  # fmt: skip


CONTRACT_VERBS = {"put_in_force", "complete", "terminate", "transfer"}


@page
@require_POST
def contract_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    selectors.contract_get(actor=request.user, contract_id=pk)
    if verb not in CONTRACT_VERBS:
        raise NotFound(_("没有这个操作"), field="verb")
    try:
        if verb == "put_in_force":
            services.contract_put_in_force(contract_id=pk, version=_version(request), by=request.user)
            messages.success(request, _("合同已生效"))
        elif verb == "complete":
            services.contract_complete(contract_id=pk, version=_version(request), by=request.user)
            messages.success(request, _("合同已完成"))
        elif verb == "transfer":
            services.contract_transfer(contract_id=pk, version=_version(request), to_user_id=request.POST.get("to_user"),
                                       reason=request.POST.get("reason", ""), by=request.user)  # fmt: skip
            messages.success(request, _("合同已转移给新负责人"))
            if not selectors.contract_visible(actor=request.user, contract_id=pk):
                return redirect("orders:contracts")  # handed to someone outside the actor's scope
        else:
            services.contract_terminate(contract_id=pk, version=_version(request), reason=request.POST.get("reason", ""),
                                        by=request.user)  # fmt: skip
            messages.success(request, _("合同已终止"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:contract_detail", pk=pk)


@page
@require_POST
def contract_attachment(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.contract_get(actor=request.user, contract_id=pk)
    try:
        uploads = _uploads(request) or [("", b"")]
        for name, data in uploads:
            services.contract_attachment_add(contract_id=pk, name=name, data=data, by=request.user)
        messages.success(request, _("附件已上传"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:contract_detail", pk=pk)


# --- payment plan --------------------------------------------------------------------------------------


@page
@require_POST
def instalment_add(request: AuthedRequest, pk: int) -> HttpResponse:
    c = selectors.contract_get(actor=request.user, contract_id=pk)
    form = InstalmentForm(request.POST)
    if form.is_valid():
        try:
            billing.instalment_add(contract_id=c.pk, data=form.service_data(), by=request.user)
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("回款计划已添加"))
            return redirect("orders:contract_detail", pk=pk)
    instalments = selectors.contract_instalments(contract=c)
    return render(request, "orders/contract_detail.html", {
        "contract": c, "instalments": instalments, "documents": selectors.contract_documents(contract=c),
        "planned": sum((i.amount for i in instalments), 0), "instalment_form": form, "today": timezone.localdate(),
    }, status=422)  # fmt: skip


@page
def instalment_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    i = billing.instalment_for(instalment_id=pk, by=request.user)
    if request.method == "POST":
        form = InstalmentEditForm(request.POST)
        if form.is_valid():
            try:
                billing.instalment_update(instalment_id=pk, version=form.cleaned_data["version"],
                                          data=form.service_data(), by=request.user)  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("orders:contract_detail", pk=i.contract_id)
    else:
        form = InstalmentEditForm(initial={"due_on": i.due_on.isoformat(), "amount": i.amount,
                                           "remind_days": i.remind_days, "notes": i.notes, "version": i.version})  # fmt: skip
    return render(request, "orders/form.html", {
        "form": form, "c": i.customer, "title": _("修改回款计划"), "section": "contracts", "testid": "instalment-form",
        "back": ("orders:contract_detail", i.contract_id),
    })  # fmt: skip


@page
@require_POST
def instalment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    i = billing.instalment_for(instalment_id=pk, by=request.user)
    try:
        billing.instalment_delete(instalment_id=pk, by=request.user)
        messages.success(request, _("回款计划已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:contract_detail", pk=i.contract_id)


# --- orders and shipments -------------------------------------------------------------------------------


@page
def order_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ORDER_VIEW)
    result, filters, sort, error = _listing(
        request, selectors.order_list, selectors.ORDER_FILTERS, "-order_date"
    )
    return render(request, "orders/orders.html", {
        "page": result, "filters": filters, "sort": sort, "error": error, "statuses": OrderStatus.choices,
        "late_count": selectors.late_order_count(actor=request.user),
    })  # fmt: skip


def _order_form_page(request: AuthedRequest, *, form: Any, customer: Any, lines: list[dict[str, Any]],
                     order: Any = None, status: int = 200) -> HttpResponse:  # fmt: skip
    return render(request, "orders/order_form.html", {
        "form": form, "c": customer, "order": order, "lines": lines or [{}],
        "products": selectors.product_choices(actor=request.user),
    }, status=status)  # fmt: skip


@page
def order_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ORDER_EDIT)
    raw = str(request.GET.get("customer") or request.POST.get("customer") or "")
    if not raw.isdigit():
        raise NotFound(_("请从客户页面新建订单"), field="customer")
    customer = customer_get(actor=request.user, customer_id=int(raw))
    contracts = selectors.contract_choices(actor=request.user, customer_id=customer.pk)
    lines: list[dict[str, Any]] = []
    if request.method == "POST":
        form = OrderForm(request.POST, contracts=contracts)
        lines = lines_from(request.POST)
        if form.is_valid():
            try:
                order = services.order_create(data={**form.service_data(), "customer": customer.pk}, lines=lines,
                                              by=request.user)  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("订单已创建"))
                return redirect("orders:order_detail", pk=order.pk)
    else:
        form = OrderForm(contracts=contracts, initial={
            "order_date": timezone.localdate().isoformat(), "currency": "CNY", "contract": request.GET.get("contract", ""),
        })  # fmt: skip
    return _order_form_page(request, form=form, customer=customer, lines=lines)


@page
def order_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    o = selectors.order_get(actor=request.user, order_id=pk)
    return render(request, "orders/order_detail.html", {
        "order": o, "invoices": selectors.invoice_list(actor=request.user, filters={"order": o.pk}, limit=50).items,
        "users": selectors.transfer_choices(actor=request.user),
    })  # fmt: skip


@page
def order_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    o = selectors.order_get(actor=request.user, order_id=pk)
    contracts = selectors.contract_choices(actor=request.user, customer_id=o.customer_id)
    if o.contract is not None and o.contract not in contracts:
        contracts.append(o.contract)
    if request.method == "POST":
        form = OrderEditForm(request.POST, contracts=contracts)
        lines = lines_from(request.POST)
        if form.is_valid():
            try:
                services.order_update(order_id=pk, version=form.cleaned_data["version"], data=form.service_data(),
                                      lines=lines, by=request.user)  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("orders:order_detail", pk=pk)
    else:
        form = OrderEditForm(contracts=contracts, initial={
            "contract": str(o.contract_id or ""), "order_date": o.order_date.isoformat(), "currency": o.currency,
            "promised_ship_on": o.promised_ship_on.isoformat() if o.promised_ship_on else "", "notes": o.notes,
            "version": o.version,
        })  # fmt: skip
        lines = [{"product": line.product_id or "", "product_name": line.product_name, "model": line.model,
                  "unit": line.unit, "unit_price": line.unit_price, "quantity": line.quantity, "notes": line.notes}
                 for line in o.lines.all()]  # fmt: skip
    return _order_form_page(request, form=form, customer=o.customer, lines=lines, order=o)


ORDER_VERBS = {"start_production", "cancel", "transfer"}


@page
@require_POST
def order_transition(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    selectors.order_get(actor=request.user, order_id=pk)
    if verb not in ORDER_VERBS:
        raise NotFound(_("没有这个操作"), field="verb")
    try:
        if verb == "start_production":
            services.order_start_production(order_id=pk, version=_version(request), by=request.user)
            messages.success(request, _("订单已进入生产"))
        elif verb == "transfer":
            services.order_transfer(order_id=pk, version=_version(request), to_user_id=request.POST.get("to_user"),
                                    reason=request.POST.get("reason", ""), by=request.user)  # fmt: skip
            messages.success(request, _("订单已转移给新负责人"))
            if not selectors.order_visible(actor=request.user, order_id=pk):
                return redirect("orders:orders")  # handed to someone outside the actor's scope
        else:
            services.order_cancel(order_id=pk, version=_version(request), reason=request.POST.get("reason", ""),
                                  by=request.user)  # fmt: skip
            messages.success(request, _("订单已取消"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:order_detail", pk=pk)


@page
def shipment_create(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.ORDER_EDIT)
    o = selectors.order_get(actor=request.user, order_id=pk)
    quantities: dict[str, str] = {}
    if request.method == "POST":
        form = ShipmentForm(request.POST, request.FILES)
        quantities = {
            k.removeprefix("ship_"): str(v) for k, v in request.POST.items() if k.startswith("ship_")
        }
        if form.is_valid():
            try:
                lines = {int(k): v for k, v in quantities.items() if k.isdigit() and str(v).strip()}
                services.shipment_create(order_id=pk, data=form.service_data(), lines=lines, by=request.user,
                                         files=_uploads(request, "uploads"))  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已登记发货"))
                return redirect("orders:order_detail", pk=pk)
    else:
        form = ShipmentForm(initial={"shipped_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
        quantities = {str(line.pk): str(line.remaining) for line in o.lines.all() if line.remaining > 0}
    shown = {int(k): v for k, v in quantities.items() if str(k).isdigit()}  # the template looks rows up by id
    return render(request, "orders/shipment_form.html", {"form": form, "order": o, "quantities": shown})


@page
@require_POST
def shipment_deliver(request: AuthedRequest, pk: int) -> HttpResponse:
    s = selectors.shipment_get(actor=request.user, shipment_id=pk)
    try:
        services.shipment_deliver(
            shipment_id=pk, delivered_at=request.POST.get("delivered_at") or None, by=request.user
        )
        for name, data in _uploads(request):
            services.shipment_proof_add(shipment_id=pk, name=name, data=data, by=request.user)
        messages.success(request, _("已签收"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:order_detail", pk=s.order_id)


@page
@require_POST
def shipment_proof(request: AuthedRequest, pk: int) -> HttpResponse:
    s = selectors.shipment_get(actor=request.user, shipment_id=pk)
    try:
        for name, data in _uploads(request) or [("", b"")]:
            services.shipment_proof_add(shipment_id=pk, name=name, data=data, by=request.user)
        messages.success(request, _("附件已上传"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:order_detail", pk=s.order_id)


# --- invoices ------------------------------------------------------------------------------------------


@page
def invoice_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ORDER_VIEW)
    result, filters, sort, error = _listing(
        request, selectors.invoice_list, selectors.INVOICE_FILTERS, "-created_at"
    )
    return render(request, "orders/invoices.html", {
        "page": result, "filters": filters, "sort": sort, "error": error, "kinds": InvoiceType.choices,
        "approval_statuses": ApprovalStatus.choices,
    })  # fmt: skip


@page
def invoice_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.INVOICE_EDIT)
    contract_id = str(request.GET.get("contract") or "")
    order_id = str(request.GET.get("order") or "")
    base: Any
    if contract_id.isdigit():
        base = selectors.contract_get(actor=request.user, contract_id=int(contract_id))
    elif order_id.isdigit():
        base = selectors.order_get(actor=request.user, order_id=int(order_id))
    else:
        raise NotFound(_("请从合同或订单页面开票"), field="contract")
    link = (
        {"contract": base.pk} if contract_id.isdigit() else {"order": base.pk, "contract": base.contract_id}
    )
    if request.method == "POST":
        form = InvoiceCreateForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                invoice = billing.invoice_create(data={**form.service_data(), **link}, by=request.user,
                                                 files=_uploads(request, "uploads"))  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("发票已登记"))
                return redirect("orders:invoice_detail", pk=invoice.pk)
    else:
        form = InvoiceCreateForm(initial={"title": base.customer.name, "tax_number": base.customer.credit_code or "",
                                          "currency": base.currency, "tax_rate": "13"})  # fmt: skip
    return render(request, "orders/form.html", {
        "form": form, "c": base.customer, "title": _("登记发票"), "section": "invoices", "testid": "invoice-form",
        "multipart": True, "subject": base,
    })  # fmt: skip


@page
def invoice_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render(
        request,
        "orders/invoice_detail.html",
        {"invoice": selectors.invoice_get(actor=request.user, invoice_id=pk)},
    )


@page
def invoice_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    i = selectors.invoice_get(actor=request.user, invoice_id=pk)
    if request.method == "POST":
        form = InvoiceEditForm(request.POST)
        if form.is_valid():
            try:
                billing.invoice_update(invoice_id=pk, version=form.cleaned_data["version"], data=form.service_data(),
                                       by=request.user)  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("orders:invoice_detail", pk=pk)
    else:
        initial = {k: getattr(i, k) for k in InvoiceEditForm.base_fields}
        initial["issued_on"] = i.issued_on.isoformat() if i.issued_on else ""
        form = InvoiceEditForm(initial=initial)
    return render(request, "orders/form.html", {
        "form": form, "c": i.customer, "title": _("修改发票"), "section": "invoices", "testid": "invoice-form",
        "back": ("orders:invoice_detail", i.pk),
    })  # fmt: skip


@page
@require_POST
def invoice_void(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.invoice_get(actor=request.user, invoice_id=pk)
    try:
        billing.invoice_void(invoice_id=pk, version=_version(request), reason=request.POST.get("reason", ""),
                             by=request.user)  # fmt: skip
        messages.success(request, _("发票已作废"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:invoice_detail", pk=pk)


@page
@require_POST
def invoice_file(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.invoice_get(actor=request.user, invoice_id=pk)
    try:
        for name, data in _uploads(request) or [("", b"")]:
            billing.invoice_file_add(invoice_id=pk, name=name, data=data, by=request.user)
        messages.success(request, _("附件已上传"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:invoice_detail", pk=pk)


# --- payments ------------------------------------------------------------------------------------------


@page
def payment_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ORDER_VIEW)
    result, filters, sort, error = _listing(
        request, selectors.payment_list, selectors.PAYMENT_FILTERS, "-received_on"
    )
    return render(request, "orders/payments.html", {
        "page": result, "filters": filters, "sort": sort, "error": error, "methods": PaymentMethod.choices,
        "approval_statuses": ApprovalStatus.choices,
    })  # fmt: skip


def _payment_page(
    request: AuthedRequest, *, form: Any, contract: Any, matches: dict[str, Any], payment: Any = None
) -> HttpResponse:
    shown = {int(k): v for k, v in matches.items() if str(k).isdigit()}  # the template looks rows up by id
    return render(request, "orders/payment_form.html", {
        "form": form, "contract": contract, "payment": payment, "matches": shown,
        "instalments": selectors.contract_instalments(contract=contract),
    })  # fmt: skip


@page
def payment_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.PAYMENT_EDIT)
    raw = str(request.GET.get("contract") or "")
    if not raw.isdigit():
        raise NotFound(_("请从合同页面登记回款"), field="contract")
    contract = selectors.contract_get(actor=request.user, contract_id=int(raw))
    matches: dict[str, Any] = {}
    if request.method == "POST":
        form = PaymentCreateForm(request.POST, request.FILES)
        matches = matches_from(request.POST)
        if form.is_valid():
            try:
                p = billing.payment_create(contract_id=contract.pk, data=form.service_data(), matches=matches,
                                           by=request.user, files=_uploads(request, "uploads"))  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("回款已登记，审批通过后计入已收"))
                return redirect("orders:payment_detail", pk=p.pk)
    else:
        form = PaymentCreateForm(initial={"received_on": timezone.localdate().isoformat(), "currency": contract.currency,
                                          "payer": contract.their_party})  # fmt: skip
    return _payment_page(request, form=form, contract=contract, matches=matches)


@page
def payment_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    return render(
        request,
        "orders/payment_detail.html",
        {"payment": selectors.payment_get(actor=request.user, payment_id=pk)},
    )


@page
def payment_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    p = selectors.payment_get(actor=request.user, payment_id=pk)
    if request.method == "POST":
        form = PaymentEditForm(request.POST)
        matches = matches_from(request.POST)
        if form.is_valid():
            try:
                billing.payment_update(payment_id=pk, version=form.cleaned_data["version"], data=form.service_data(),
                                       matches=matches, by=request.user)  # fmt: skip
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("orders:payment_detail", pk=pk)
    else:
        initial = {k: getattr(p, k) for k in PaymentEditForm.base_fields}
        initial["received_on"] = p.received_on.isoformat()
        form = PaymentEditForm(initial=initial)
        matches = {str(m.instalment_id): m.amount for m in p.matches.all()}
    return _payment_page(request, form=form, contract=p.contract, matches=matches, payment=p)


@page
@require_POST
def payment_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    p = selectors.payment_get(actor=request.user, payment_id=pk)
    try:
        billing.payment_delete(payment_id=pk, by=request.user)
    except KehuError as exc:
        messages.error(request, exc.text())
        return redirect("orders:payment_detail", pk=pk)
    messages.success(request, _("回款记录已删除"))
    return redirect("orders:contract_detail", pk=p.contract_id)


@page
@require_POST
def payment_proof(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.payment_get(actor=request.user, payment_id=pk)
    try:
        for name, data in _uploads(request) or [("", b"")]:
            billing.payment_proof_add(payment_id=pk, name=name, data=data, by=request.user)
        messages.success(request, _("附件已上传"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("orders:payment_detail", pk=pk)


# --- receivables and documents ----------------------------------------------------------------------------


@page
def receivables(request: AuthedRequest) -> HttpResponse:
    """应收账款与账龄: the aging table with totals, and the open instalments behind it (SAL-7)."""
    require(request.user, Perm.RECEIVABLES_VIEW)
    scope = request.GET.get("scope") or None
    group = request.GET.get("group") or AgingGroup.CUSTOMER
    sort = request.GET.get("sort") or "-total"
    bucket = request.GET.get("bucket") or None
    error = None
    try:
        aging = selectors.receivables_aging(actor=request.user, scope=scope, group=group, sort=sort,
                                            limit=request.GET.get("limit"), offset=request.GET.get("offset"))  # fmt: skip
        items = selectors.receivable_list(
            actor=request.user, scope=aging.scope, filters={"bucket": bucket}, limit=50, aging=aging
        )
    except KehuError as exc:
        error = exc.text()
        aging = selectors.receivables_aging(actor=request.user)
        items = selectors.receivable_list(actor=request.user, scope=aging.scope, limit=50, aging=aging)
        group, sort, bucket = AgingGroup.CUSTOMER, "-total", None
    return render(request, "orders/receivables.html", {
        "aging": aging, "page": aging.page, "items": items, "error": error, "group": aging.group, "sort": sort,
        "bucket": bucket, "buckets": AgingBucket.choices, "groups": AgingGroup.choices,
        "scope_labels": {s.value: s.label for s in ViewScope},
    })  # fmt: skip


@page
def document_download(request: AuthedRequest, pk: int) -> Any:
    d = selectors.document_get(actor=request.user, document_id=pk)
    return download_response(d.file, name=d.name, content_type=d.content_type)


@page
@require_POST
def document_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    d = selectors.document_get(actor=request.user, document_id=pk)
    back = (
        ("orders:contract_detail", d.contract_id) if d.contract_id else ("orders:invoice_detail", d.invoice_id)
        if d.invoice_id else ("orders:payment_detail", d.payment_id) if d.payment_id else ("customers:detail", d.customer_id)
    )  # fmt: skip
    try:
        services.document_remove(document_id=pk, by=request.user)
        messages.success(request, _("附件已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect(back[0], pk=back[1])
