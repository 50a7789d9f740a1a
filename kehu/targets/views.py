"""Pages of sales targets (SAL-8): progress and ranking of a period, setting and changing goals, and the
home-page card."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from kehu.access.perms import Perm
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, KehuError, NotFound
from kehu.core.web import form_after_conflict, page

from . import forms, selectors, services
from .choices import Metric, PeriodKind
from .rules import PERIOD_NUMBERS, TargetPeriod, parse_period_key, period_of


def _form_error(form: Any, exc: KehuError) -> None:
    field = exc.field if exc.field in form.fields and not form.fields[exc.field].widget.is_hidden else None
    form.add_error(field, exc.text())


def _period(request: AuthedRequest) -> TargetPeriod:
    key = request.GET.get("period")
    if key:
        return parse_period_key(key)
    kind = request.GET.get("kind") or PeriodKind.MONTH
    if kind not in PeriodKind.values:
        kind = PeriodKind.MONTH
    return period_of(kind, timezone.localdate())


def _neighbours(period: TargetPeriod) -> tuple[str, str]:
    """The keys of the previous and next period of the same kind."""
    per_year = PERIOD_NUMBERS[PeriodKind(period.kind)]
    index = period.year * per_year + period.number - 1
    before, after = index - 1, index + 1
    return (
        TargetPeriod(period.kind, before // per_year, before % per_year + 1).key,
        TargetPeriod(period.kind, after // per_year, after % per_year + 1).key,
    )


@page
def target_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.TARGET_VIEW)
    period = _period(request)
    metric = request.GET.get("metric") or None
    subject = request.GET.get("subject") or None
    sort = request.GET.get("sort") or "-percent"
    result = selectors.target_progress(
        actor=request.user,
        period=period,
        metric=metric,
        subject=subject,
        sort=sort,
        limit=request.GET.get("limit"),
        offset=request.GET.get("offset"),
    )
    ranking_metric = metric or Metric.CONTRACT_AMOUNT
    previous, following = _neighbours(period)
    return render(
        request,
        "targets/list.html",
        {
            "page": result,
            "period": period,
            "previous": previous,
            "following": following,
            "metric": metric or "",
            "subject": subject or "",
            "sort": sort,
            "metrics": Metric.choices,
            "kinds": PeriodKind.choices,
            "ranking": selectors.target_ranking(actor=request.user, period=period, metric=ranking_metric),
            "ranking_metric": Metric(ranking_metric).label,
            "can_manage": can(request.user, Perm.TARGET_MANAGE),
            "missing_rates": selectors.currencies_without_rate(actor=request.user, period=period),
        },
    )


@page
@require_http_methods(["GET", "POST"])
def target_create(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.TARGET_MANAGE)
    today = timezone.localdate()
    form = forms.TargetForm(
        request.POST or None,
        people=selectors.assignable_people(actor=request.user),
        departments=selectors.assignable_departments(actor=request.user),
        initial={"year": today.year, "number": today.month},
    )
    if request.method == "POST" and form.is_valid():
        try:
            target = services.target_create(**form.service_kwargs(), by=request.user)
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("目标已保存：%(t)s") % {"t": str(target)})
            return redirect(f"{_list_url()}?period={target.period.key}")
    return render(request, "targets/form.html", {"form": form})


def _list_url() -> str:
    from django.urls import reverse

    return reverse("targets:list")


@page
@require_http_methods(["GET", "POST"])
def target_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, Perm.TARGET_MANAGE)
    target = selectors.target_get(actor=request.user, target_id=pk)
    form = forms.TargetEditForm(
        request.POST or None,
        initial={"version": target.version, "value": target.value, "notes": target.notes},
    )
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.target_update(
                target_id=pk,
                version=form.cleaned_data["version"],
                value=form.cleaned_data["value"],
                notes=form.cleaned_data["notes"],
                by=request.user,
            )
        except Conflict as exc:
            conflict = selectors.target_get(actor=request.user, target_id=pk)
            form = form_after_conflict(
                forms.TargetEditForm, request.POST, version=conflict.version, error=exc
            )
        except KehuError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect(f"{_list_url()}?period={target.period.key}")
    return render(request, "targets/edit.html", {"form": form, "target": target, "conflict": conflict})


@page
@require_POST
def target_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    target = selectors.target_get(actor=request.user, target_id=pk)
    period = target.period.key
    services.target_delete(target_id=pk, by=request.user)
    messages.success(request, _("目标已删除"))
    return redirect(f"{_list_url()}?period={period}")


def home_panel(request: AuthedRequest) -> str:
    """The home page's 目标进度 card (registered in apps.py); nothing for those without targets."""
    if not can(request.user, Perm.TARGET_VIEW):
        return ""
    data = selectors.my_targets(actor=request.user)
    if not data["rows"] and not data["ranking"]:
        return ""
    return render_to_string("targets/partials/_home_panel.html", data, request=request)


@page
@require_http_methods(["GET", "POST"])
def exchange_rates(request: AuthedRequest) -> HttpResponse:
    """The CNY rates money targets convert with: the table, and for target managers entering one."""
    require(request.user, Perm.TARGET_VIEW)
    error: KehuError | None = None
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                services.exchange_rate_delete(rate_id=int(request.POST["delete"]), by=request.user)
                messages.success(request, _("汇率已删除"))
            else:
                row = services.exchange_rate_set(
                    currency=request.POST.get("currency"), month=request.POST.get("month"),
                    rate=request.POST.get("rate"), by=request.user,
                )  # fmt: skip
                messages.success(request, _("汇率已保存：%(r)s") % {"r": str(row)})
            return redirect("targets:rates")
        except ValueError:  # a tampered delete id
            error = NotFound(_("汇率不存在"), field="rate")
        except KehuError as exc:
            error = exc
    period = period_of(PeriodKind.MONTH, timezone.localdate())
    return render(
        request,
        "targets/rates.html",
        {
            "rates": selectors.exchange_rate_list(actor=request.user), "can_manage": can(request.user, Perm.TARGET_MANAGE),
            "error": error, "posted": request.POST if error else {},
            "missing": selectors.currencies_without_rate(actor=request.user, period=period), "period": period,
        },
        status=422 if error else 200,
    )  # fmt: skip
