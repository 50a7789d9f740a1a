"""Analytics pages (ANA-1 … ANA-8): the overview (RFM class map, Pareto curve, CLV
distribution, lifecycle), the scored-customer list and the churn watch list, the funnel, relationship
length/depth/breadth, the settings, the
on-demand refresh, the exports, and the 客户价值 tab of the customer page. Thin: selectors and services do the work."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from kehu.access.perms import Perm, ViewScope
from kehu.access.requests import AuthedRequest
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, KehuError
from kehu.core.pagination import DEFAULT_LIMIT, clean_window, paginate
from kehu.core.periods import Period
from kehu.core.spreadsheet import xlsx_sheets_bytes
from kehu.core.web import form_after_conflict, page, query_params, xlsx_response

from . import selectors, services
from .lifecycle import STAGE_LABELS, Stage
from .models import AnalyticsSettings, LifecycleChoice, RFMClassChoice
from .refresh import settings_get
from .rfm import CLASS_LABELS, RFMClass

EXPORT_MAX_ROWS = 50_000
PARETO_BASES = {"revenue": ("pareto", _("累计收入")), "revenue_12m": ("pareto_12m", _("近 12 个月收入")),
                "profit": ("pareto_profit", _("累计毛利"))}  # fmt: skip


def _scope(request: AuthedRequest) -> str:
    return request.GET.get("scope") or selectors.default_scope(request.user)


def _chart_data(overview: selectors.Overview, basis: str) -> dict[str, Any]:
    figures = overview.figures
    pareto = figures.get(PARETO_BASES[basis][0]) or {}
    return {
        "classes": [
            {"name": str(c["label"]), "value": c["count"], "code": c["class"]} for c in overview.classes
        ],
        "pareto": pareto.get("curve", []),
        "lifecycle": [{"name": str(s["label"]), "value": s["count"]} for s in overview.lifecycle],
        "clv": [{"label": _band(b), "count": b["count"]} for b in figures.get("clv_histogram", [])],
    }


def _trend_chart(points: list[selectors.TrendPoint]) -> dict[str, Any]:
    """The refreshes of a period for the trend chart: each RFM class's customers and the warnings."""
    return {
        "days": [p.as_of.isoformat() for p in points],
        "series": [
            {"name": str(CLASS_LABELS[c]), "data": [p.classes.get(c.value, 0) for p in points]}
            for c in RFMClass
        ]
        + [{"name": str(_("流失预警")), "data": [p.churn for p in points]}],
    }


def _trend_sheet(points: list[selectors.TrendPoint]) -> tuple[str, list[str], list[tuple[Any, ...]]]:
    """The refreshes of a period as rows: the day, customers, buyers, each class and stage, warnings, CLV."""
    header = [str(_("数据截至")), str(_("客户数")), str(_("有成交的客户"))]
    header += [str(CLASS_LABELS[c]) for c in RFMClass] + [str(STAGE_LABELS[s]) for s in Stage]
    header += [str(_("流失预警")), str(_("终身价值合计"))]
    rows = [
        (p.as_of, p.customers, p.buyers, *(p.classes.get(c.value, 0) for c in RFMClass),
         *(p.lifecycle.get(s.value, 0) for s in Stage), p.churn, p.clv_total)
        for p in points
    ]  # fmt: skip
    return str(_("期间刷新趋势")), header, rows


def _band(band: dict[str, Any]) -> str:
    if band["to"] is None:
        return f"≥{band['from']:,}"
    return f"{band['from']:,}–{band['to']:,}"


@page
def overview(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ANALYTICS_VIEW)
    basis = request.GET.get("basis") or "revenue"
    if basis not in PARETO_BASES:
        basis = "revenue"
    result = selectors.overview(actor=request.user, scope=_scope(request))
    pareto = result.figures.get(PARETO_BASES[basis][0])
    # The value of a period (ANA-1 by period): read only when a period is asked for — it reads the scope's
    # purchase days (a second or two for a million customers), where the rest of the page reads the run.
    value_filters = query_params(request, selectors.VALUE_FILTERS)
    value, value_error = None, None
    trend: list[selectors.TrendPoint] = []
    if value_filters.get("period") and result.run is not None:
        try:
            value = selectors.period_value(actor=request.user, scope=result.scope, filters=value_filters)
            trend = selectors.refresh_trend(
                actor=request.user, scope=result.scope, filters=value_filters
            ).points
        except KehuError as exc:
            value_error = exc.text()
    return render(
        request,
        "analytics/overview.html",
        {
            "value": value, "value_error": value_error, "value_filters": value_filters,
            "value_chart_json": json.dumps((value.pareto or {}).get("curve", []) if value else []),
            "trend": trend, "trend_json": json.dumps(_trend_chart(trend), ensure_ascii=False),
            "periods": [(c, label) for c, label in Period.choices if c != Period.TODAY],
            "o": result, "basis": basis, "bases": [(k, v[1]) for k, v in PARETO_BASES.items()], "pareto": pareto,
            "scopes": [(s, ViewScope(s).label) for s in result.scopes], "scope_label": ViewScope(result.scope).label,
            "chart_json": json.dumps(_chart_data(result, basis), ensure_ascii=False),
            "may_manage": can(request.user, Perm.ANALYTICS_MANAGE),
            "running": selectors.refresh_running(),
        },
    )  # fmt: skip


@page
def overview_export(request: AuthedRequest) -> HttpResponse:
    """The overview's tables as one workbook: classes, Pareto curves, lifecycle, CLV bands."""
    require(request.user, Perm.ANALYTICS_VIEW)
    result = selectors.overview(actor=request.user, scope=_scope(request))
    f = result.figures
    sheets: list[Any] = [
        (str(_("RFM 分类")), [str(h) for h in (_("分类"), _("客户数"), _("占比"), _("平均距今天数"), _("平均购买次数"),
                                               _("平均累计收入"), _("收入合计"), _("收入占比"), _("建议动作"))],
         [(str(c["label"]), c["count"], c["share"], c["mean_recency_days"], c["mean_frequency"], c["mean_monetary"],
           c["total_monetary"], c["monetary_share"], str(c["action_label"])) for c in result.classes]),
    ]  # fmt: skip
    for key, (name, label) in PARETO_BASES.items():
        curve = (f.get(name) or {}).get("curve", [])
        sheets.append((f"Pareto {key}", [str(_("客户占比")), str(_("%(b)s累计占比") % {"b": label})], curve))
    sheets.append((str(_("生命周期")), [str(_("阶段")), str(_("客户数"))],
                   [(str(s["label"]), s["count"]) for s in result.lifecycle]))  # fmt: skip
    sheets.append((str(_("终身价值分布")), [str(_("终身价值区间")), str(_("客户数"))],
                   [(_band(b), b["count"]) for b in f.get("clv_histogram", [])]))  # fmt: skip
    value_filters = query_params(request, selectors.VALUE_FILTERS)
    if value_filters.get("period"):  # the page's period card, when one was chosen
        value = selectors.period_value(actor=request.user, scope=result.scope, filters=value_filters)
        title = f"{value.range.start:%Y-%m-%d}–{value.range.end:%Y-%m-%d}"
        sheets.append((str(_("期间帕累托")), [str(_("客户占比")), str(_("期间收入累计占比（%(p)s）") % {"p": title})],
                       (value.pareto or {}).get("curve", [])))  # fmt: skip
        trend = selectors.refresh_trend(actor=request.user, scope=result.scope, filters=value_filters)
        sheets.append(_trend_sheet(trend.points))
    return xlsx_response(
        xlsx_sheets_bytes(sheets), filename=f"analytics-{result.scope}-{timezone.localdate():%Y%m%d}.xlsx"
    )


def _list_context(request: AuthedRequest, *, churn_only: bool) -> dict[str, Any]:
    filters = query_params(request, selectors.LIST_FILTERS)
    if churn_only:
        filters["churn"] = "1"
    sort = request.GET.get("sort") or "-clv"
    scope = _scope(request)
    if churn_only:
        result = selectors.churn_watch_list(actor=request.user, scope=scope, filters=filters, sort=sort,
                                            limit=request.GET.get("limit"), offset=request.GET.get("offset"))  # fmt: skip
    else:
        result = selectors.scored_page(actor=request.user, scope=scope, filters=filters, sort=sort,
                                       limit=request.GET.get("limit"), offset=request.GET.get("offset"))  # fmt: skip
    from kehu.customers.selectors import owner_filter_choices

    return {
        "page": result, "filters": filters, "sort": sort, "scope": scope, "churn_only": churn_only,
        "scopes": [(s, ViewScope(s).label) for s in selectors.view_scopes(request.user)],
        "f_class": RFMClassChoice.choices, "f_lifecycle": LifecycleChoice.choices,
        "f_owners": owner_filter_choices(actor=request.user), "run": selectors.latest_run(),
    }  # fmt: skip


@page
def customer_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ANALYTICS_VIEW)
    return render(request, "analytics/customers.html", _list_context(request, churn_only=False))


@page
def churn_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ANALYTICS_VIEW)
    return render(request, "analytics/customers.html", _list_context(request, churn_only=True))


@page
def customer_export(request: AuthedRequest) -> HttpResponse:
    """The filtered scored-customer list as .xlsx (at most 50,000 rows)."""
    require(request.user, Perm.ANALYTICS_VIEW)
    filters = query_params(request, selectors.LIST_FILTERS)
    qs = selectors.scored_customers(actor=request.user, scope=_scope(request), filters=filters,
                                    sort=request.GET.get("sort") or "-clv")[:EXPORT_MAX_ROWS]  # fmt: skip
    rows = list(qs)
    selectors.explain_all([c.score for c in rows])
    headers = [str(h) for h in (_("客户编号"), _("客户名称"), _("负责人"), _("RFM 分类"), _("R"), _("F"), _("M"),
                                 _("距上次购买（天）"), _("购买次数"), _("累计收入"), _("累计毛利"), _("仍活跃概率"),
                                 _("预测期内预计购买次数"), _("终身价值（折现）"), _("生命周期"), _("流失风险"),
                                 _("预警原因"), _("阶段依据"))]  # fmt: skip
    data = [
        (c.code, c.name, c.owner.label if c.owner_id else "", c.score.get_rfm_class_display(), c.score.r_score,
         c.score.f_score, c.score.m_score, c.score.recency_days, c.score.purchases, c.score.revenue, c.score.profit,
         c.score.p_alive, c.score.expected_purchases, c.score.clv, c.score.get_lifecycle_stage_display(),
         str(_("是")) if c.score.churn_risk else "", "；".join(c.score.churn_texts), c.score.lifecycle_text)
        for c in rows
    ]  # fmt: skip
    from kehu.core.spreadsheet import xlsx_bytes

    return xlsx_response(xlsx_bytes(title=str(_("客户价值")), headers=headers, rows=data),
                         filename=f"customer-scores-{timezone.localdate():%Y%m%d}.xlsx")  # fmt: skip


# --- the funnel (ANA-7) ---------------------------------------------------------------------------------


def _funnel_filters(request: AuthedRequest) -> dict[str, Any]:
    from .funnel import FUNNEL_FILTERS

    return {k: request.GET.get(k) for k in FUNNEL_FILTERS if request.GET.get(k) not in (None, "")}


def _funnel_chart(result: Any) -> dict[str, Any]:
    return {
        "steps": [{"name": s["label"], "value": s["count"]} for s in result.steps],
        "periods": [r.label for r in result.by_period],
        "series": {k: [getattr(r, k) for r in result.by_period] for k in ("leads", "customers", "won")},
    }


def _report_or_defaults(
    report: Any, request: AuthedRequest, filters: dict[str, str]
) -> tuple[Any, str | None]:
    """A report for the page's filters, or — when a filter is refused — the default report and the error
    naming the field, shown above the form."""
    try:
        return report(actor=request.user, filters=filters), None
    except KehuError as exc:
        return report(actor=request.user, filters={}), exc.text()


@page
def funnel(request: AuthedRequest) -> HttpResponse:
    """The funnel page: the lead funnel (ECharts), the breakdowns, time in stage and reasons lost. A bad
    filter is shown above the form (naming the field) over the default figures."""
    from kehu.customers.selectors import owner_filter_choices

    from .funnel import BUCKETS, STEP_LABELS

    require(request.user, Perm.ANALYTICS_VIEW)
    filters = _funnel_filters(request)
    result, error = _report_or_defaults(selectors.funnel_report, request, filters)
    return render(
        request,
        "analytics/funnel.html",
        {
            "f": result, "error": error, "query": urlencode(filters),
            "scopes": [(s, ViewScope(s).label) for s in result.scopes],
            "periods": Period.choices, "buckets": list(BUCKETS.items()), "step_labels": STEP_LABELS,
            "sources": selectors.funnel_sources(),
            "owners": owner_filter_choices(actor=request.user),
            "chart_json": json.dumps(_funnel_chart(result), ensure_ascii=False),
        },
    )  # fmt: skip


def _rate_cell(value: float | None) -> Any:
    return None if value is None else round(value, 4)


@page
def funnel_export(request: AuthedRequest) -> HttpResponse:
    """The funnel page's tables as one workbook (same filters, same selector)."""
    require(request.user, Perm.ANALYTICS_VIEW)
    result = selectors.funnel_report(actor=request.user, filters=_funnel_filters(request))
    row_headers = [str(h) for h in (_("分组"), _("线索"), _("转为客户"), _("有商机"), _("赢单"), _("线索→客户"),
                                     _("客户→商机"), _("商机→赢单"), _("总转化率"), _("转化天数中位数"),
                                     _("转化天数平均值"))]  # fmt: skip

    def rows(items: list[Any]) -> list[tuple[Any, ...]]:
        return [(r.label, r.leads, r.customers, r.with_opportunity, r.won, _rate_cell(r.customer_rate),
                 _rate_cell(r.opportunity_rate), _rate_cell(r.win_rate), _rate_cell(r.overall_rate),
                 r.median_days_to_convert, r.mean_days_to_convert) for r in items]  # fmt: skip

    def lost(items: list[Any]) -> list[tuple[Any, ...]]:
        return [
            (r.label, r.count, "；".join(f"{c} {a}" for c, a in sorted(r.amounts.items()))) for r in items
        ]

    sheets: list[Any] = [
        (str(_("漏斗")), [str(_("步骤")), str(_("数量")), str(_("较上一步"))],
         [(s["label"], s["count"], _rate_cell(s["rate"])) for s in result.steps]),
        (str(_("按来源")), row_headers, rows([result.total, *result.by_source])),
        (str(_("按负责人")), row_headers, rows(result.by_owner)),
        (str(_("按期间")), row_headers, rows(result.by_period)),
        (str(_("直接录入的客户")), row_headers, rows([result.direct, *result.direct_by_source])),
        (str(_("阶段停留")), [str(h) for h in (_("阶段组"), _("阶段"), _("期间内离开"), _("停留天数中位数"),
                                               _("停留天数平均值"), _("当前停留"))],
         [(s.group, s.name, s.left, s.median_days, s.mean_days, s.open_now)
          for s in result.stages]),
        (str(_("输单原因")), [str(_("输单原因")), str(_("商机数")), str(_("金额"))], lost(result.lost_reasons)),
        (str(_("输给的竞争对手")), [str(_("竞争对手")), str(_("商机数")), str(_("金额"))],
         lost(result.lost_competitors)),
    ]  # fmt: skip
    return xlsx_response(
        xlsx_sheets_bytes(sheets),
        filename=f"funnel-{result.scope}-{result.range.start:%Y%m%d}-{result.range.end:%Y%m%d}.xlsx",
    )


# --- relationship length, depth and breadth (ANA-6) ----------------------------------------------------


def _relationship_filters(request: AuthedRequest) -> dict[str, Any]:
    from .relationship import RELATIONSHIP_FILTERS

    return {k: request.GET.get(k) for k in RELATIONSHIP_FILTERS if request.GET.get(k) not in (None, "")}


def _money_cell(value: Any) -> float:
    return float(value)


def _relationship_chart(result: Any) -> dict[str, Any]:
    from .relationship import BANDS, BREADTH_LABELS, DEPTH_LABELS

    periods = result.periods
    return {
        "periods": [p.label for p in periods],
        "depth": [{"name": str(label), "data": [_money_cell(getattr(p, key)) for p in periods]}
                  for key, label in DEPTH_LABELS.items()],
        "breadth": [{"name": str(label), "data": [getattr(p, key) for p in periods]}
                    for key, label in BREADTH_LABELS.items()],
        "referrals": [p.referrals for p in periods],
        "bands": [{"name": str(label), "data": [p.bands[key] for p in periods]} for key, label, *_r in BANDS],
    }  # fmt: skip


@page
def relationship(request: AuthedRequest) -> HttpResponse:
    """关系长度·深度·广度: depth revenue and breadth counts per period (ECharts), the relationship length, and
    the tables per person or department. A bad filter is shown above the form (naming the field) over the
    default figures."""

    from .relationship import BUCKETS, GROUPS

    require(request.user, Perm.ANALYTICS_VIEW)
    filters = _relationship_filters(request)
    result, error = _report_or_defaults(selectors.relationship_report, request, filters)
    # The period × group detail a page at a time (a year by person at 10M orders is 6,000 rows; the
    # export has them all); ``limit``/``offset`` as in every list.
    try:
        limit, offset = clean_window(request.GET.get("limit"), request.GET.get("offset"))
    except KehuError as exc:
        limit, offset, error = DEFAULT_LIMIT, 0, error or exc.text()
    cells_page = paginate(result.cells, limit=limit, offset=offset, count=len(result.cells))
    return render(
        request,
        "analytics/relationship.html",
        {
            "r": result, "error": error, "query": urlencode(filters),
            "cells_page": cells_page,
            "live_query": urlencode({**filters, "live": "1"}),
            "stored_query": urlencode({k: v for k, v in filters.items() if k != "live"}),
            "scopes": [(s, ViewScope(s).label) for s in result.scopes],
            "periods": Period.choices, "buckets": list(BUCKETS.items()), "groups": list(GROUPS.items()),
            "group_label": GROUPS[result.group], "group_header": _("负责人") if result.group == "owner" else _("部门"),
            "chart_json": json.dumps(_relationship_chart(result), ensure_ascii=False),
        },
    )  # fmt: skip


def relationship_rows(items: list[Any], *, with_period: bool = False) -> list[tuple[Any, ...]]:
    """Rows of the export (and nothing else): the figures of each row in the header order."""
    from .relationship import BANDS

    out = []
    for item in items:
        first, r = ((item[0].label,), item[1]) if with_period else ((), item)
        out.append((*first, r.label, r.revenue, r.first_revenue,
                    r.repeat_revenue, r.cross_sell, r.up_sell, r.other_repeat_revenue, r.referrals, r.active,
                    r.gained, r.retained, r.won_back, r.returning, r.mean_days, r.median_days,
                    *(r.bands[k] for k, *_r in BANDS)))  # fmt: skip
    return out


@page
def relationship_export(request: AuthedRequest) -> HttpResponse:
    """The relationship page's tables as one workbook (same filters, same selector): per period, per
    person or department, and per period × person or department."""
    from .relationship import BANDS, GROUPS

    require(request.user, Perm.ANALYTICS_VIEW)
    result = selectors.relationship_report(actor=request.user, filters=_relationship_filters(request))
    group_title = str(_("负责人")) if result.group == "owner" else str(_("部门"))
    figures = [str(h) for h in (_("收入合计"), _("首购收入"), _("重复购买收入"), _("交叉销售收入"), _("向上销售收入"),
                                 _("其他重复购买收入"), _("转介绍客户"), _("活跃客户"), _("新客户"), _("老客户保留"),
                                 _("流失挽回"), _("其他回头客"), _("平均关系长度（天）"), _("关系长度中位数（天）"))]  # fmt: skip
    figures += [str(label) for _k, label, *_r in BANDS]
    sheets: list[Any] = [
        (str(_("按期间")), [str(_("期间")), *figures], relationship_rows([*result.periods, result.total])),
        (str(GROUPS[result.group]), [group_title, *figures], relationship_rows([*result.groups, result.total])),
        (str(_("明细")), [str(_("期间")), group_title, *figures], relationship_rows(result.cells, with_period=True)),
    ]  # fmt: skip
    return xlsx_response(
        xlsx_sheets_bytes(sheets),
        filename=f"relationship-{result.scope}-{result.range.start:%Y%m%d}-{result.range.end:%Y%m%d}.xlsx",
    )


class SettingsForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = AnalyticsSettings
        fields = list(services.SETTINGS_FIELDS)


@page
@require_http_methods(["GET", "POST"])
def settings_edit(request: AuthedRequest) -> HttpResponse:
    require(request.user, Perm.ANALYTICS_MANAGE)
    current = settings_get()
    form = SettingsForm(request.POST or None, instance=current, initial={"version": current.version})
    if request.method == "POST" and form.is_valid():
        data = {k: form.cleaned_data[k] for k in services.SETTINGS_FIELDS}
        try:
            services.analytics_settings_update(
                data=data, version=form.cleaned_data.get("version"), by=request.user
            )
        except KehuError as exc:
            if isinstance(exc, Conflict):
                fresh = settings_get()
                form = form_after_conflict(
                    SettingsForm, request.POST, version=fresh.version, error=exc, instance=fresh
                )
            else:
                form.add_error(exc.field if exc.field in form.fields else None, exc.text())
        else:
            messages.success(request, _("客户分析设置已保存，下次刷新时生效"))
            return redirect("analytics:settings")
    return render(request, "analytics/settings.html", {"form": form})


@page
@require_POST
def refresh_now(request: AuthedRequest) -> HttpResponse:
    job = services.analytics_refresh_start(by=request.user)
    messages.success(
        request, _("已开始刷新客户分析（后台任务 #%(id)s），完成后本页数字随之更新") % {"id": job.pk}
    )
    scope = request.POST.get("scope")
    return redirect(reverse("analytics:overview") + (f"?{urlencode({'scope': scope})}" if scope else ""))


def customer_value_tab(request: AuthedRequest, customer: Any) -> str:
    """The 客户价值 tab of the customer page (registered in apps.py): RFM class, CLV, P(alive), lifecycle and
    the churn flag with their reasons."""
    score = selectors.customer_score(actor=request.user, customer=customer)
    action = None
    if score is not None and score.rfm_class:
        from .rfm import ACTION_LABELS, CLASS_ACTIONS

        action = ACTION_LABELS[CLASS_ACTIONS[RFMClass(score.rfm_class)]]
    return render_to_string(
        "analytics/partials/_customer_tab.html",
        {"c": customer, "score": score, "action": action, "may_view": can(request.user, Perm.ANALYTICS_VIEW),
         "class_label": CLASS_LABELS.get(RFMClass(score.rfm_class)) if score and score.rfm_class else None},
        request=request,
    )  # fmt: skip
