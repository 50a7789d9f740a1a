"""Thin page views of the customer archive: each calls one service or selector and renders."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.perms import Perm
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.access.selectors import user_choices
from kehu.core.errors import Conflict, KehuError, NotFound, ValidationError
from kehu.core.identity import (
    mask_id_number,
    mask_mobile,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
)
from kehu.core.web import form_after_conflict, is_htmx, page, query_params, xlsx_response

from . import pool, selectors, services
from .choices import (
    CLASSIFICATION_DIMENSIONS,
    CustomerKind,
    DealStatus,
    Loyalty,
    NeedStatus,
    OptionKind,
    Relation,
    Size,
    Status,
    Urgency,
    ValueTier,
)
from .dedupe import find_duplicates
from .errors import DuplicateFound
from .extensions import detail_tabs, home_panels, list_filters
from .forms import (
    ClassifyForm,
    ContactEditForm,
    ContactForm,
    CustomerEditForm,
    CustomerForm,
    MergeForm,
    OptionForm,
    PoolEditForm,
    PoolForm,
    TransferForm,
    customer_initial,
    pool_initial,
)

LIST_FILTERS = selectors.FILTERS


def _list_filter_keys() -> set[str]:
    """The list's filters and those higher domains registered (extensions.list_filters)."""
    return set(LIST_FILTERS) | {f.key for f in list_filters()}


# Filters folded under "更多筛选" on the list page; opened when one of them is in use.
MORE_FILTERS = {"size", "relation", "value_tier", "loyalty", "status", "deal_status", "need_status", "source"}


def _form_error(form: Any, exc: KehuError) -> None:
    """Show a domain error next to the field it names, else above the form (hidden fields have no "next to")."""
    field = exc.field if exc.field in form.fields and not form.fields[exc.field].widget.is_hidden else None
    form.add_error(field, exc.text())


@page
def home(request: AuthedRequest) -> HttpResponse:
    overview = selectors.customer_overview(actor=request.user)
    return render(
        request,
        "customers/home.html",
        {
            "overview": overview,
            "panels": [mark_safe(p.render(request)) for p in home_panels()],
            "status_chart": json.dumps(overview["by_status"], ensure_ascii=False),
            "tier_chart": json.dumps(overview["by_tier"], ensure_ascii=False),
        },
    )


def _filter_context(actor: Any) -> dict[str, Any]:
    return {
        "f_kind": CustomerKind.choices,
        "f_size": Size.choices,
        "f_relation": Relation.choices,
        "f_value_tier": ValueTier.choices,
        "f_loyalty": Loyalty.choices,
        "f_status": Status.choices,
        "f_deal_status": DealStatus.choices,
        "f_need_status": NeedStatus.choices,
        "f_urgency": Urgency.choices,
        "f_industry": selectors.options(OptionKind.INDUSTRY),
        "f_source": selectors.options(OptionKind.SOURCE),
        "f_owners": selectors.owner_filter_choices(actor=actor),
        # Filters higher domains add (ADR 0007), e.g. the analytics' RFM class and churn flag.
        "f_extra": [
            {"key": f.key, "label": f.label, "choices": f.choices()}
            for f in list_filters()
            if f.on_page and f.allowed(actor)
        ],
    }


@page
def customer_list(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, _list_filter_keys())
    scene = request.GET.get("scene") or "all"
    sort = request.GET.get("sort") or "-updated_at"
    error = None
    try:
        result = selectors.customer_list(
            actor=request.user,
            scene=scene,
            filters=dict(filters),
            sort=sort,
            limit=request.GET.get("limit"),
            offset=request.GET.get("offset"),
        )
    except ValidationError as exc:
        error = exc.text()
        result = selectors.customer_list(actor=request.user)
        scene, sort, filters = "all", "-updated_at", {}
    base_query = {**filters, "scene": scene, "sort": sort}
    ctx = {
        "page": result,
        "scene": scene,
        "sort": sort,
        "filters": filters,
        "scenes": selectors.SCENES,
        "error": error,
        "base_query": base_query,
        "has_filters": bool(filters),
        "more_filters_active": bool((MORE_FILTERS | {f.key for f in list_filters()}) & set(filters)),
        "limit": result.limit,
        **_filter_context(request.user),
    }
    if is_htmx(request) and request.headers.get("HX-Target") == "customer-table":
        return render(request, "customers/partials/_table.html", ctx)
    return render(request, "customers/list.html", ctx)


@page
def customer_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.CUSTOMER_CREATE)  # before showing a form the service would refuse
    with_owner = can(request.user, Perm.CUSTOMER_TRANSFER)
    matches: list[Any] = []
    if request.method == "POST":
        form = CustomerForm(request.POST, with_owner=with_owner)
        if form.is_valid():
            data = form.service_data()
            owner_choice = form.cleaned_data.get("owner") if with_owner else ""
            if owner_choice == "pool":
                data["owner"] = None
            elif owner_choice:
                data["owner"] = owner_choice  # an id; the service resolves it after its permission check
            try:
                customer = services.customer_create(
                    data=data, by=request.user, confirm_duplicates=form.cleaned_data["confirm_duplicates"]
                )
            except DuplicateFound as exc:
                matches = exc.matches
                _form_error(form, exc)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("客户“%(name)s”已创建") % {"name": customer.name})
                return redirect("customers:detail", pk=customer.pk)
    else:
        # The screen pop (SVC-3) opens this form for an unknown caller with their number filled in.
        initial = {"kind": request.GET.get("kind") or CustomerKind.COMPANY}
        initial.update({k: request.GET[k][:30] for k in ("mobile", "phone") if request.GET.get(k)})
        form = CustomerForm(with_owner=with_owner, initial=initial)
    return render(request, "customers/form.html", {"form": form, "matches": matches, "creating": True})


@page
def duplicate_check(request: AuthedRequest) -> HttpResponse:
    """htmx: the duplicate warning under the form, refreshed as the user types (CUS-5)."""
    src = request.POST if request.method == "POST" else request.GET
    values: dict[str, str] = {}
    for key, fn in (
        ("credit_code", normalize_credit_code),
        ("mobile", normalize_mobile),
        ("id_number", normalize_id_number),
    ):
        try:
            values[key] = fn(src.get(key, ""), field=key)
        except ValidationError:
            values[key] = ""
    exclude = src.get("exclude_id")
    matches = find_duplicates(
        actor=request.user,
        name=src.get("name", "").strip(),
        exclude_id=int(exclude) if exclude and exclude.isdigit() else None,
        credit_code=values["credit_code"],
        mobile=values["mobile"],
        id_number=values["id_number"],
    )
    return render(request, "customers/partials/_dup_warning.html", {"matches": matches})


@page
def customer_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(actor=request.user, customer_id=pk)
    contacts = selectors.contact_list(actor=request.user, customer=customer, limit=200)
    return render(
        request,
        "customers/detail.html",
        {
            "c": customer,
            "mobile_masked": mask_mobile(customer.mobile),
            "id_masked": mask_id_number(customer.id_number),
            "can_edit": selectors.customer_can_edit(actor=request.user, customer=customer),
            "classification": selectors.customer_classification(customer=customer),
            "dimension_choices": {d: c.choices for d, c in CLASSIFICATION_DIMENSIONS.items()},
            "contacts": contacts.items,
            "collaborators": selectors.collaborators(customer=customer),
            "timeline": selectors.customer_timeline(actor=request.user, customer=customer),
            "transfer_form": TransferForm(),
            "merge_form": MergeForm(),
            "tags": list(customer.tags.all()),
            "users": user_choices(),
            "tab": request.GET.get("tab") or "profile",
            "pool": pool.pool_of(customer),
            "pool_return_on": pool.return_on(customer),
            "can_assign": customer.owner_id is None
            and pool.can_assign(actor=request.user, customer=customer),
            "extension_tabs": [
                {
                    "key": t.key,
                    "label": t.label,
                    "count": t.count(request.user, customer) if t.count else None,
                    "html": mark_safe(t.render(request, customer)),
                }
                for t in detail_tabs()
            ],
        },
    )


@page
def customer_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get_editable(customer_id=pk, by=request.user)
    matches: list[Any] = []
    conflict = None
    if request.method == "POST":
        form = CustomerEditForm(request.POST)
        if form.is_valid():
            try:
                services.customer_update(
                    customer_id=pk,
                    version=form.cleaned_data["version"],
                    data=form.service_data(),
                    by=request.user,
                    confirm_duplicates=form.cleaned_data["confirm_duplicates"],
                )
            except DuplicateFound as exc:
                matches = exc.matches
                _form_error(form, exc)
            except Conflict as exc:
                # Show what is stored now; the user's input stays, and saving again overwrites deliberately.
                conflict = selectors.customer_get(actor=request.user, customer_id=pk)
                form = form_after_conflict(
                    CustomerEditForm, request.POST, version=conflict.version, error=exc
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return redirect("customers:detail", pk=pk)
    else:
        form = CustomerEditForm(initial=customer_initial(customer))
    return render(
        request,
        "customers/form.html",
        {"form": form, "matches": matches, "c": customer, "creating": False, "conflict": conflict},
    )


def _back(pk: int, tab: str = "profile") -> HttpResponse:
    response = redirect("customers:detail", pk=pk)
    response["Location"] += f"?tab={tab}"
    return response


@page
@require_POST
def customer_transfer(request: AuthedRequest, pk: int) -> HttpResponse:
    form = TransferForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("请选择新负责人并填写原因"), field="to_user")
        customer = services.customer_transfer(
            customer_id=pk,
            to_user=form.cleaned_data["to_user"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        messages.success(request, _("已转移给 %(u)s") % {"u": customer.owner.label if customer.owner else ""})
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk)


@page
@require_POST
def customer_classify(request: AuthedRequest, pk: int) -> HttpResponse:
    form = ClassifyForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("分类调整参数不完整"), field="dimension")
        services.customer_classify(
            customer_id=pk,
            version=form.cleaned_data["version"],
            dimension=form.cleaned_data["dimension"],
            value=form.cleaned_data["value"] or None,
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
        messages.success(request, _("分类已更新"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk)


@page
@require_POST
def customer_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        customer = services.customer_delete(customer_id=pk, by=request.user)
    except KehuError as exc:
        messages.error(request, exc.text())
        return _back(pk)
    messages.success(request, _("“%(n)s”已移入回收站") % {"n": customer.name})
    return redirect("customers:list")


@page
@require_POST
def customer_reveal(request: AuthedRequest, pk: int) -> HttpResponse:
    data = services.customer_reveal(customer_id=pk, by=request.user)
    return render(request, "customers/partials/_revealed.html", {"data": data})


@page
@require_POST
def customer_merge(request: AuthedRequest, pk: int) -> HttpResponse:
    form = MergeForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("请填写被合并客户的编号"), field="other_code")
        other = selectors.customer_get_by_code(
            actor=request.user, code=form.cleaned_data["other_code"], field="other_code"
        )
        services.customer_merge(keep_id=pk, drop_id=other.pk, by=request.user)
        messages.success(request, _("已将 %(o)s 合并到当前客户") % {"o": other.name})
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk)


@page
@require_POST
def collaborator_add(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        collab = services.collaborator_set(
            customer_id=pk,
            user=request.POST.get("user_id") or "",
            can_edit=request.POST.get("can_edit") == "1",
            by=request.user,
        )
        messages.success(request, _("已添加协作人 %(u)s") % {"u": collab.user.label})
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk, "team")


@page
@require_POST
def collaborator_remove(request: AuthedRequest, pk: int, user_id: int) -> HttpResponse:
    try:
        services.collaborator_remove(customer_id=pk, user=user_id, by=request.user)
        messages.success(request, _("已移除协作人"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk, "team")


@page
def contact_create(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get_editable(customer_id=pk, by=request.user)
    peers = selectors.contact_list(actor=request.user, customer=customer, limit=200).items
    if request.method == "POST":
        form = ContactForm(request.POST, peers=peers)
        if form.is_valid():
            try:
                services.contact_create(customer_id=pk, data=form.service_data(), by=request.user)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("联系人已添加"))
                return _back(pk, "contacts")
    else:
        form = ContactForm(peers=peers)
    return render(request, "customers/contact_form.html", {"form": form, "c": customer, "creating": True})


@page
def contact_edit(request: AuthedRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    customer = contact.customer
    peers = [
        p
        for p in selectors.contact_list(actor=request.user, customer=customer, limit=200).items
        if p.pk != contact.pk
    ]
    conflict = None
    if request.method == "POST":
        form = ContactEditForm(request.POST, peers=peers)
        if form.is_valid():
            try:
                services.contact_update(
                    contact_id=contact_id,
                    version=form.cleaned_data["version"],
                    data=form.service_data(),
                    by=request.user,
                )
            except Conflict as exc:
                conflict = selectors.contact_get(actor=request.user, contact_id=contact_id)
                form = form_after_conflict(
                    ContactEditForm, request.POST, version=conflict.version, error=exc, peers=peers
                )
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("已保存"))
                return _back(customer.pk, "contacts")
    else:
        initial = {k: getattr(contact, k) for k in ContactForm.SERVICE_FIELDS if k != "reports_to"}
        initial["reports_to"] = str(contact.reports_to_id or "")
        initial["birthday"] = contact.birthday.isoformat() if contact.birthday else ""
        initial["version"] = contact.version
        form = ContactEditForm(initial=initial, peers=peers)
    return render(
        request,
        "customers/contact_form.html",
        {"form": form, "c": customer, "contact": contact, "creating": False, "conflict": conflict},
    )


@page
@require_POST
def contact_delete(request: AuthedRequest, contact_id: int) -> HttpResponse:
    contact = selectors.contact_get(actor=request.user, contact_id=contact_id)
    try:
        services.contact_delete(contact_id=contact_id, by=request.user)
        messages.success(request, _("联系人已删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(contact.customer_id, "contacts")


@page
def contacts(request: AuthedRequest) -> HttpResponse:
    q = request.GET.get("q", "")
    result = selectors.contact_list(
        actor=request.user, q=q, limit=request.GET.get("limit"), offset=request.GET.get("offset")
    )
    return render(request, "customers/contacts.html", {"page": result, "q": q})


@page
def recycle_bin(request: AuthedRequest) -> HttpResponse:
    result = selectors.recycle_bin(
        actor=request.user, limit=request.GET.get("limit"), offset=request.GET.get("offset")
    )
    return render(
        request,
        "customers/recycle_bin.html",
        {"page": result, "can_purge": can(request.user, Perm.CUSTOMER_PURGE)},
    )


@page
@require_POST
def customer_restore(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        customer = services.customer_restore(customer_id=pk, by=request.user)
        messages.success(request, _("“%(n)s”已恢复") % {"n": customer.name})
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("customers:recycle_bin")


@page
@require_POST
def customer_purge(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        services.customer_purge(customer_id=pk, by=request.user)
        messages.success(request, _("已彻底删除"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("customers:recycle_bin")


@page
def option_list(request: AuthedRequest) -> HttpResponse:
    groups = selectors.option_groups(actor=request.user)
    form = OptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.option_create(**form.cleaned_data, by=request.user)
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已添加"))
            return redirect("customers:options")
    return render(
        request,
        "customers/options.html",
        {
            "form": form,
            "groups": groups,
        },
    )


@page
@require_POST
def option_toggle(request: AuthedRequest, option_id: int) -> HttpResponse:
    try:
        services.option_update(
            option_id=option_id, is_active=request.POST.get("is_active") == "1", by=request.user
        )
        messages.success(request, _("已保存"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("customers:options")


EXPORT_PAGE_INLINE_ROWS = 10_000  # up to this many the page hands the file over at once; more → a job


@page
def customer_export(request: AuthedRequest) -> HttpResponse:
    """The list as it is filtered now, as .xlsx (the same service as ``GET /api/v1/customers/export``);
    a longer list is exported in the background and the page shows the job's progress and download."""
    filters = query_params(request, _list_filter_keys())
    args: dict[str, Any] = {
        "by": request.user, "scene": request.GET.get("scene") or "all", "filters": dict(filters),
        "sort": request.GET.get("sort") or "-updated_at",
    }  # fmt: skip
    try:
        try:
            data, _count = services.customer_export(**args, max_rows=EXPORT_PAGE_INLINE_ROWS)
        except ValidationError as exc:
            if exc.code != "export_too_big":
                raise
            job = services.customer_export_start(**args)
            return redirect("jobs:detail", pk=job.pk)
    except ValidationError as exc:
        messages.error(request, exc.text())
        return redirect(reverse("customers:list") + "?" + request.GET.urlencode())
    return xlsx_response(data, filename=f"customers-{timezone.localdate():%Y%m%d}.xlsx")


# --- the public pool (CUS-7) -----------------------------------------------------------------------------


@page
@require_POST
def customer_claim(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        customer = pool.customer_claim(customer_id=pk, by=request.user)
        messages.success(request, _("已领取：%(n)s") % {"n": customer.name})
        return _back(pk)
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect(reverse("customers:list") + "?scene=pool")


@page
@require_POST
def customer_release(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        pool.customer_release(customer_id=pk, reason=request.POST.get("reason", ""), by=request.user)
        messages.success(request, _("已退回公海"))
    except KehuError as exc:
        messages.error(request, exc.text())
        return _back(pk, "team")
    return redirect(reverse("customers:list") + "?scene=mine")


@page
@require_POST
def customer_assign(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        customer = pool.customer_assign(
            customer_id=pk, to_user=request.POST.get("to_user", ""), by=request.user
        )
        messages.success(request, _("已分配给 %(u)s") % {"u": customer.owner.label if customer.owner else ""})
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk, "team")


@page
@require_POST
def customer_pool_lock(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        locked = request.POST.get("locked") == "1"
        pool.customer_pool_lock(customer_id=pk, locked=locked, by=request.user)
        messages.success(request, _("已锁定，不会自动退回公海") if locked else _("已解除锁定"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(pk, "team")


@page
def pool_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.POOL_MANAGE)
    return render(request, "customers/pools.html", {"pools": pool.pool_list(actor=request.user)})


@page
def pool_edit(request: AuthedRequest, pool_id: int | None = None) -> HttpResponse:
    """Create (no id) or change a pool: rules, members, admins (``pool.manage``)."""
    from kehu.access.selectors import department_tree

    require(request.user, Perm.POOL_MANAGE)
    existing = (
        next((p for p in pool.pool_list(actor=request.user) if p.pk == pool_id), None) if pool_id else None
    )
    if pool_id and existing is None:
        raise NotFound(_("公海不存在"), field="id")
    departments = department_tree()
    form_class = PoolEditForm if existing else PoolForm
    if request.method == "POST":
        form = form_class(request.POST, departments=departments)
        if form.is_valid():
            try:
                if existing:
                    pool.pool_update(
                        pool_id=existing.pk, version=form.cleaned_data["version"], data=form.service_data(),
                        by=request.user,
                    )  # fmt: skip
                else:
                    pool.pool_create(data=form.service_data(), by=request.user)
            except KehuError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("公海已保存"))
                return redirect("customers:pools")
    else:
        form = form_class(departments=departments, initial=pool_initial(existing) if existing else None)
    return render(request, "customers/pool_form.html", {"form": form, "pool": existing})


@page
@require_POST
def pool_recycle_now(request: AuthedRequest) -> HttpResponse:
    """Starts the return as a background job and shows its progress (it may take a while at scale)."""
    try:
        job = pool.pool_recycle_start(by=request.user)
    except KehuError as exc:
        messages.error(request, exc.text())
        return redirect("customers:pools")
    return redirect("jobs:detail", pk=job.pk)
