"""Thin pages over the catalogue services and selectors (SAL-9): list, detail, add, edit, on/off sale."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, KehuError, ValidationError
from kehu.core.web import form_after_conflict, page, query_params

from . import selectors, services
from .choices import RiskLevel
from .forms import ProductForm, initial_of

LIST_FILTERS = frozenset(selectors.FILTERS)


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.text())


@page
def product_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.PRODUCT_VIEW)
    filters = query_params(request, LIST_FILTERS)
    sort = request.GET.get("sort") or "code"
    error = None
    try:
        result = selectors.product_list(
            actor=request.user, filters=dict(filters), sort=sort,
            limit=request.GET.get("limit"), offset=request.GET.get("offset"),
        )  # fmt: skip
    except ValidationError as exc:
        error, filters, sort = exc.text(), {}, "code"
        result = selectors.product_list(actor=request.user)
    return render(
        request,
        "catalog/list.html",
        {
            "page": result, "filters": filters, "sort": sort, "error": error,
            "categories": selectors.product_categories(actor=request.user), "risk_levels": RiskLevel.choices,
            "can_manage": can(request.user, Perm.PRODUCT_MANAGE),
        },
    )  # fmt: skip


@page
def product_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    product = selectors.product_get(actor=request.user, product_id=pk)
    return render(
        request, "catalog/detail.html", {"p": product, "can_manage": can(request.user, Perm.PRODUCT_MANAGE)}
    )


@page
def product_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.PRODUCT_MANAGE)
    if request.method == "POST":
        form = ProductForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                product = services.product_create(
                    data=form.service_data(), picture=form.picture_bytes(), by=request.user
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("产品已添加"))
                return redirect("catalog:detail", pk=product.pk)
    else:
        form = ProductForm()
    return render(request, "catalog/form.html", {"form": form, "creating": True})


@page
def product_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.PRODUCT_MANAGE)
    product = selectors.product_get(actor=request.user, product_id=pk)
    if request.method == "POST":
        form = ProductForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.product_update(
                    product_id=pk, version=form.cleaned_data["version"] or 0, data=form.service_data(),
                    picture=form.picture_bytes(), by=request.user,
                )  # fmt: skip
            except Conflict as exc:
                current = selectors.product_get(actor=request.user, product_id=pk)
                form = form_after_conflict(ProductForm, request.POST, version=current.version, error=exc)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("catalog:detail", pk=pk)
    else:
        form = ProductForm(initial=initial_of(product))
    return render(request, "catalog/form.html", {"form": form, "creating": False, "p": product})


@page
@require_POST
def product_toggle(request: AuthedRequest, pk: int, verb: str) -> HttpResponse:
    """停售 / 恢复在售."""
    try:
        if verb == "deactivate":
            services.product_deactivate(product_id=pk, by=request.user)
            messages.success(request, _("产品已停售"))
        elif verb == "reactivate":
            services.product_reactivate(product_id=pk, by=request.user)
            messages.success(request, _("产品已恢复在售"))
        else:
            raise ValidationError(_("未知操作"), field="verb")
    except KehuError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.text())
    return redirect("catalog:detail", pk=pk)


@page
def product_picture(request: AuthedRequest, pk: int) -> HttpResponse:
    data, content_type = selectors.product_picture(actor=request.user, product_id=pk)
    return selectors.picture_response(data, content_type)  # type: ignore[no-any-return]


@page
def product_picker(request: AuthedRequest) -> HttpResponse:
    """Products on sale matching what was typed, for a quote line (htmx)."""
    require(request.user, Perm.PRODUCT_VIEW)
    products = selectors.product_choices(actor=request.user, q=request.GET.get("q", ""))
    return render(request, "catalog/partials/_picker.html", {"products": products})
