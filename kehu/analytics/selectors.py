"""Reading the analytics (ANA-1 … ANA-5, ANA-8): the figures of a view scope, the churn watch list, one
customer's scores with their reasons. Every number is of customers ``visible_to`` the actor: the 全部
scope (only for roles that see every customer) reads the company-wide summary the last refresh stored;
a narrower scope is summarised from its own score rows by the same function (``summaries.summarize``)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm, ViewScope
from kehu.access.scope import require, view_scope_owner_ids, view_scopes

__all__ = ["view_scopes"]  # the pages read the scopes through here
from kehu.core.errors import ValidationError
from kehu.core.pagination import Page, clean_filters, filter_date, filter_id, paginate
from kehu.core.periods import DateRange, Period, period_range
from kehu.customers.models import LIVE, Customer, sees_every_customer

from .churn import churn_reasons
from .facts import day_number
from .lifecycle import _RULE_MESSAGES
from .models import AnalyticsRun, CustomerScore, LifecycleChoice, OwnerFigures, RFMClassChoice
from .refresh import RefreshSettings
from .rfm import ACTION_LABELS, CLASS_ACTIONS, CLASS_LABELS, RFMClass
from .summaries import summarize

SUMMARY_COLUMNS = ("rfm_class", "recency_days", "purchases", "revenue", "profit", "revenue_12m", "clv",
                   "lifecycle_stage", "churn_risk")  # fmt: skip


def refresh_running() -> bool:
    """Whether a refresh job is waiting or running (the page then shows it instead of the button)."""
    from kehu.jobs.models import Job

    return Job.objects.filter(kind="analytics.refresh", status__in=("queued", "running")).exists()


def latest_run() -> AnalyticsRun | None:
    return (
        AnalyticsRun.objects.filter(status=AnalyticsRun.Status.DONE).order_by("-finished_at", "-id").first()
    )


def run_list(*, actor: User, limit: Any = None, offset: Any = None) -> Page:
    require(actor, Perm.ANALYTICS_VIEW)
    return paginate(AnalyticsRun.objects.select_related("started_by").order_by("-started_at", "-id"), limit=limit,
                    offset=offset)  # fmt: skip


def default_scope(actor: User) -> str:
    scopes = view_scopes(actor)
    return scopes[-1] if scopes else ViewScope.MINE.value


def scope_customers(actor: User, scope: str) -> QuerySet:
    """The customers a view scope counts: 全部 = every customer the actor sees (the public pool too —
    lost customers are the ones to win back); a narrower scope = those its people own."""
    owner_ids = view_scope_owner_ids(actor, scope)
    if owner_ids is None:
        return Customer.objects.visible_to(actor)
    return Customer.objects.visible_to(actor, part="owned", owners=owner_ids)


@dataclass
class Overview:
    scope: str
    scopes: list[str]
    run: AnalyticsRun | None
    figures: dict[str, Any]  # summaries.summarize(...) of the scope's customers

    @property
    def classes(self) -> list[dict[str, Any]]:
        """The eight classes with their labels and suggested actions, for the table and the class map."""
        out = []
        for row in self.figures.get("classes", []):
            cls = RFMClass(row["class"])
            out.append({**row, "label": CLASS_LABELS[cls], "action": CLASS_ACTIONS[cls].value,
                        "action_label": ACTION_LABELS[CLASS_ACTIONS[cls]]})  # fmt: skip
        return out

    @property
    def lifecycle(self) -> list[dict[str, Any]]:
        counts = self.figures.get("lifecycle", {})
        return [
            {"stage": c.value, "label": c.label, "count": counts.get(c.value, 0)} for c in LifecycleChoice
        ]


def overview(*, actor: User, scope: str | None = None) -> Overview:
    """The figures of the customers in ``scope`` as of the last refresh (empty figures before the first)."""
    require(actor, Perm.ANALYTICS_VIEW)
    scope = scope or default_scope(actor)
    customers = scope_customers(actor, scope)  # checks the scope
    run = latest_run()
    if run is None:
        return Overview(scope=scope, scopes=view_scopes(actor), run=None, figures={})
    if scope == ViewScope.ALL:
        return Overview(scope=scope, scopes=view_scopes(actor), run=run, figures=run.summary)
    rows = list(CustomerScore.objects.filter(customer__in=customers).values_list(*SUMMARY_COLUMNS))
    return Overview(scope=scope, scopes=view_scopes(actor), run=run, figures=summarize_rows(rows))


def summarize_rows(rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    """``summarize`` over score rows read as ``SUMMARY_COLUMNS``."""

    def floats(i: int) -> Any:
        return np.array([np.nan if r[i] is None else float(r[i]) for r in rows], dtype=np.float64)

    return summarize(
        rfm_class=np.array([r[0] for r in rows], dtype=object), recency_days=np.nan_to_num(floats(1)),
        purchases=floats(2), revenue=floats(3), profit=floats(4), revenue_12m=floats(5), clv=floats(6),
        lifecycle=np.array([r[7] for r in rows], dtype=object), churn=np.array([bool(r[8]) for r in rows], dtype=bool),
    )  # fmt: skip


# --- value and Pareto over a period (ANA-1) ---------------------------------------------------------

VALUE_FILTERS = frozenset({"period", "from", "to"})


@dataclass
class PeriodValue:
    """The value of a scope's customers over a span of days: what they bought then and how concentrated it
    is (the Pareto curve of revenue, and of profit where the orders' cost is known)."""

    scope: str
    range: DateRange
    as_of: date | None  # the purchase days are those of the last refresh
    revenue: Decimal
    buyers: int
    profit: Decimal | None  # of the orders of known cost
    pareto: dict[str, Any] | None
    pareto_profit: dict[str, Any] | None


def period_value(
    *, actor: User, scope: str | None = None, filters: dict[str, Any] | None = None
) -> PeriodValue:
    """Revenue per customer of the scope in a period (本月 / 本季度 / 本年 / … / custom ``from``–``to``,
    default 本年) and its Pareto concentration, from the customers' purchase days as of the last refresh
    (all of a customer's orders, not cancelled, as in its scores). Days after the refresh are not yet in."""
    from .purchases import Days, period_totals, start_read
    from .summaries import concentration_figures

    require(actor, Perm.ANALYTICS_VIEW)
    scope = scope or default_scope(actor)
    customers = scope_customers(actor, scope)  # checks the scope
    f = clean_filters(filters, VALUE_FILTERS)
    run = latest_run()
    today = timezone.localdate()
    span = period_range(f.get("period") or Period.YEAR, today=today, start=f.get("from"), end=f.get("to"))
    if scope == ViewScope.ALL and sees_every_customer(actor):
        # Every live customer: all purchase days less the few deleted or merged customers' — rather than
        # ``IN`` a million ids, which SQLite builds into a temporary index first (9 s against 3 s).
        gone = np.fromiter(Customer.objects.exclude(LIVE).values_list("pk", flat=True), dtype=np.int64)
        days = start_read()()
        keep = ~np.isin(days.customer_id, gone)
        days = Days(days.customer_id[keep], days.records[keep])
    else:
        days = start_read(customers=customers)()
    totals = period_totals(days, day_number(span.start), day_number(span.end))
    revenue = totals.amount / 100.0
    costed = totals.costed > 0
    profit = totals.profit[costed] / 100.0
    return PeriodValue(
        scope=scope, range=span, as_of=run.as_of if run else None,
        revenue=Decimal(int(totals.amount.sum())).scaleb(-2), buyers=int(totals.customer_id.shape[0]),
        profit=Decimal(int(totals.profit[costed].sum())).scaleb(-2) if costed.any() else None,
        pareto=concentration_figures(revenue[revenue > 0]),
        pareto_profit=concentration_figures(profit) if costed.any() else None,
    )  # fmt: skip


@dataclass
class TrendPoint:
    """The figures of one day's refresh for a scope: the run's own summary for 全部, the sum of the scope's
    owners' figures (``OwnerFigures``) for a narrower one."""

    as_of: date
    customers: int
    buyers: int
    classes: dict[str, int]  # RFM class code → customers
    lifecycle: dict[str, int]  # stage code → customers
    churn: int
    clv_total: float | None
    top_value_share: float | None  # 全部 only: a concentration is not a sum over owners


@dataclass
class Trend:
    scope: str
    range: DateRange
    points: list[TrendPoint]


def refresh_trend(*, actor: User, scope: str | None = None, filters: dict[str, Any] | None = None) -> Trend:
    """How the RFM classes, lifecycle stages, churn warnings and CLV of a scope's customers moved over a
    period (default 本年): one point per day with a finished refresh, its last. 全部 reads each run's
    summary; a narrower scope (the customers its people own, as its overview counts them) sums the
    figures its owners' customers had at each refresh — days before the refresh kept them have no point."""
    require(actor, Perm.ANALYTICS_VIEW)
    scope = scope or default_scope(actor)
    owner_ids = view_scope_owner_ids(actor, scope)  # checks the scope
    f = clean_filters(filters, VALUE_FILTERS)
    span = period_range(f.get("period") or Period.YEAR, today=timezone.localdate(), start=f.get("from"),
                        end=f.get("to"))  # fmt: skip
    runs = (
        AnalyticsRun.objects.filter(
            status=AnalyticsRun.Status.DONE, as_of__gte=span.start, as_of__lte=span.end
        )
        .order_by("as_of", "finished_at", "id")
        .values_list("as_of", "id", "summary")
    )
    by_day: dict[date, tuple[int, dict[str, Any]]] = {}
    for as_of, run_id, summary in runs:  # the day's last refresh wins
        by_day[as_of] = (run_id, summary or {})
    if owner_ids is None:
        points = [_summary_point(day, s) for day, (_run, s) in by_day.items()]
    else:
        days = {run_id: day for day, (run_id, s) in by_day.items() if "owners" in s}
        points_of = {day: TrendPoint(as_of=day, customers=0, buyers=0, classes={}, lifecycle={}, churn=0,
                                     clv_total=None, top_value_share=None) for day in days.values()}  # fmt: skip
        clv_cents: dict[date, int] = {}
        rows = OwnerFigures.objects.filter(run_id__in=list(days), owner_id__in=sorted(owner_ids)).values_list(
            "run_id", "customers", "buyers", "churn", "classes", "lifecycle", "clv_cents"
        )
        for run_id, customers, buyers, churn, classes, lifecycle, cents in rows:
            p = points_of[days[run_id]]
            p.customers += customers
            p.buyers += buyers
            p.churn += churn
            for code, count in classes.items():
                p.classes[code] = p.classes.get(code, 0) + count
            for code, count in lifecycle.items():
                p.lifecycle[code] = p.lifecycle.get(code, 0) + count
            if cents is not None:
                clv_cents[p.as_of] = clv_cents.get(p.as_of, 0) + cents
        for day, cents in clv_cents.items():
            points_of[day].clv_total = cents / 100.0
        points = [points_of[day] for day in sorted(points_of)]
    return Trend(scope=scope, range=span, points=points)


def _summary_point(day: date, s: dict[str, Any]) -> TrendPoint:
    return TrendPoint(
        as_of=day,
        customers=int(s.get("customers", 0)),
        buyers=int(s.get("buyers", 0)),
        classes={c["class"]: int(c["count"]) for c in s.get("classes", [])},
        lifecycle={k: int(v) for k, v in (s.get("lifecycle") or {}).items()},
        churn=int((s.get("churn") or {}).get("flagged", 0)),
        clv_total=s.get("clv_total"),
        top_value_share=(s.get("pareto") or {}).get("top_value_share"),
    )


# --- lists: the churn watch list and customers by class / stage -------------------------------------

LIST_FILTERS = frozenset({"rfm_class", "lifecycle", "churn", "owner", "warned_from", "warned_to"})
LIST_SORTS = {
    "-clv": ("-score__clv", "pk"), "clv": ("score__clv", "pk"), "-revenue": ("-score__revenue", "pk"),
    "recency": ("score__recency_days", "pk"), "-recency": ("-score__recency_days", "pk"),
    "p_alive": ("score__p_alive", "pk"), "-churn_since": ("-score__churn_since", "pk"), "name": ("name", "pk"),
}  # fmt: skip


def scored_customers(
    *, actor: User, scope: str | None = None, filters: dict[str, Any] | None = None, sort: str = "-clv"
) -> QuerySet:
    """Customers of the scope with their scores, filtered by RFM class, lifecycle stage, churn flag, owner and
    the day of the first warning (``warned_from`` / ``warned_to``, YYYY-MM-DD)."""
    require(actor, Perm.ANALYTICS_VIEW)
    scope = scope or default_scope(actor)
    cleaned = clean_filters(filters, LIST_FILTERS)
    qs = scope_customers(actor, scope).filter(score__isnull=False)
    q = score_filter_q(cleaned)
    if "owner" in cleaned:
        q &= Q(owner_id=filter_id(cleaned, "owner"))
    # First warned (churn_since) in a span of days: the customers who became at risk this week or month.
    if "warned_from" in cleaned:
        q &= Q(score__churn_since__gte=filter_date(cleaned, "warned_from"))
    if "warned_to" in cleaned:
        q &= Q(score__churn_since__lte=filter_date(cleaned, "warned_to"))
    if sort not in LIST_SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    return qs.filter(q).select_related("score", "owner").order_by(*LIST_SORTS[sort])


def score_filter_q(filters: dict[str, Any]) -> Q:
    """The score filters the analytics lists and the customer list share (MKT-1 segments will reuse them):
    ``rfm_class``, ``lifecycle``, ``churn`` (1/0), ``clv_min``, ``clv_max``, ``p_alive_max``."""
    q = Q()
    if filters.get("rfm_class"):
        if filters["rfm_class"] not in RFMClassChoice.values:
            raise ValidationError(
                _("RFM 分类“%(v)s”无效"), field="rfm_class", params={"v": filters["rfm_class"]}
            )
        q &= Q(score__rfm_class=filters["rfm_class"])
    if filters.get("lifecycle"):
        if filters["lifecycle"] not in LifecycleChoice.values:
            raise ValidationError(
                _("生命周期“%(v)s”无效"), field="lifecycle", params={"v": filters["lifecycle"]}
            )
        q &= Q(score__lifecycle_stage=filters["lifecycle"])
    if filters.get("churn") not in (None, ""):
        flag = str(filters["churn"]).lower()
        if flag not in ("1", "0", "true", "false"):
            raise ValidationError(_("流失风险筛选应为 1 或 0"), field="churn")
        q &= Q(score__churn_risk=flag in ("1", "true"))
    for key, lookup in (
        ("clv_min", "score__clv__gte"),
        ("clv_max", "score__clv__lte"),
        ("p_alive_max", "score__p_alive__lte"),
    ):
        if filters.get(key) not in (None, ""):
            try:
                value = float(filters[key])
            except (TypeError, ValueError):
                raise ValidationError(_("请填写数字"), field=key) from None
            if not math.isfinite(value):  # "nan" / "inf" parse as floats but compare with nothing
                raise ValidationError(_("请填写数字"), field=key)
            q &= Q(**{lookup: value})
    return q


def scored_page(
    *, actor: User, scope: str | None = None, filters: dict[str, Any] | None = None, sort: str = "-clv",
    limit: Any = None, offset: Any = None,
) -> Page:  # fmt: skip
    """A page of the scope's scored customers (filters as ``scored_customers``), with their reasons."""
    page = paginate(
        scored_customers(actor=actor, scope=scope, filters=filters, sort=sort), limit=limit, offset=offset
    )
    explain_all([c.score for c in page.items])
    return page


def churn_watch_list(
    *, actor: User, scope: str | None = None, filters: dict[str, Any] | None = None, sort: str = "-clv",
    limit: Any = None, offset: Any = None,
) -> Page:  # fmt: skip
    """The customers at risk of churning (ANA-4), most valuable first, with their reasons."""
    qs = scored_customers(actor=actor, scope=scope, filters={**(filters or {}), "churn": "1"}, sort=sort)
    page = paginate(qs, limit=limit, offset=offset)
    explain_all([c.score for c in page.items])
    return page


# --- one customer -------------------------------------------------------------------------------------


def _settings_of(score: CustomerScore, runs: dict[Any, RefreshSettings]) -> RefreshSettings:
    if score.as_of not in runs:
        run = (
            AnalyticsRun.objects.filter(status=AnalyticsRun.Status.DONE, as_of=score.as_of)
            .order_by("-id")
            .first()
        )
        runs[score.as_of] = RefreshSettings.from_run(run.settings) if run else RefreshSettings()
    return runs[score.as_of]


def explain_all(scores: list[CustomerScore]) -> None:
    """Attach ``churn_texts`` and ``lifecycle_text`` (the reasons, in the reader's language, rendered from
    the numbers the rules looked at and the settings of the run that scored them)."""
    runs: dict[Any, RefreshSettings] = {}
    for score in scores:
        options = _settings_of(score, runs)
        score.churn_texts = [  # type: ignore[attr-defined]
            r.text()
            for r in churn_reasons(
                score.churn_mask,
                p_alive=score.p_alive,
                days_since_last=score.recency_days,
                median_gap=score.median_gap_days,
                engagement_recent=score.engagement_recent,
                engagement_previous=score.engagement_previous,
                rules=options.churn_rules,
            )
        ]
        rules = options.lifecycle_rules
        _code, message = _RULE_MESSAGES[score.lifecycle_rule]
        params = {
            "window": rules.window_days,
            "previous": score.interactions_previous
            if score.lifecycle_rule == 1
            else score.purchases_previous,
            "recent": score.purchases_recent,
            "days": score.recency_days or 0,
            "gap": round(score.median_gap_days or 0),
            "factor": rules.decline_factor,
            "late": score.late_mean_amount or 0.0,
            "early": score.early_mean_amount or 0.0,
            "share": round(100 * rules.fall_share),
            "purchases": score.purchases,
        }
        score.lifecycle_text = str(message) % params  # type: ignore[attr-defined]


def customer_score(*, actor: User, customer: Customer) -> CustomerScore | None:
    """The customer's scores with reasons (the caller already showed the customer is visible), or None
    before the first refresh or without the right to see analytics."""
    from kehu.access.scope import can

    if not can(actor, Perm.ANALYTICS_VIEW):
        return None
    score = CustomerScore.objects.filter(customer_id=customer.pk).first()
    if score is not None:
        explain_all([score])
    return score


# --- the funnel (ANA-7) ----------------------------------------------------------------------------------


def funnel_report(*, actor: User, filters: dict[str, Any] | None = None) -> Any:
    """The funnel and conversion figures (ANA-7, ``funnel.funnel``) of a view scope — by default the widest
    the reader's roles allow, as on the overview — and a period (default 本年); the page, its export and
    ``GET /api/v1/analytics/funnel`` all read it here."""
    from .funnel import funnel

    require(actor, Perm.ANALYTICS_VIEW)
    return funnel(actor=actor, filters=filters, default_scope=default_scope(actor))


def funnel_sources() -> list[Any]:
    """The 客户来源 options the funnel's source filter offers (its value is the option's code)."""
    from kehu.customers.choices import OptionKind
    from kehu.customers.models import Option

    return list(Option.objects.filter(kind=OptionKind.SOURCE, is_active=True))


# --- relationship length, depth and breadth (ANA-6) -----------------------------------------------------


def relationship_report(*, actor: User, filters: dict[str, Any] | None = None) -> Any:
    """Relationship length, depth and breadth (ANA-6, ``relationship.relationship``) of a view scope — by
    default the widest the reader's roles allow — and a period (default 本年), per month or quarter and per
    person or department; the page, its export and ``GET /api/v1/analytics/relationship`` read it here."""
    from .relationship import relationship

    require(actor, Perm.ANALYTICS_VIEW)
    return relationship(actor=actor, filters=filters, default_scope=default_scope(actor))
