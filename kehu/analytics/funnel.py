"""The sales funnel and conversion (ANA-7): lead → customer → opportunity → won, per source, owner and
period bucket; the days a lead takes to convert; the days opportunities spend in each pipeline stage; the
reasons deals are lost and to whom. Aggregates in the database (GROUP BY through the ORM); Python only
folds grouped rows and takes medians of the period's own durations.

Definitions (docs/how-to/analytics.md, "Funnel"):

* **Lead cohort.** The leads *created* in the period (``Lead.created_at`` in [from, to], Asia/Shanghai)
  that the reader sees (``Lead.objects.visible_to``) and the view scope counts (the lead's owner is one
  of the scope's people; unowned pool leads only in 全部). Each lead is followed to today:

  1. 线索 — the leads of the cohort;
  2. 转为客户 — those converted (``converted_customer`` set: a new customer, or an existing one the lead
     was attached to);
  3. 有商机 — converted leads whose customer has an opportunity, visible to the reader and not deleted,
     opened on or after the lead's creation (the one the conversion opens counts);
  4. 赢单 — converted leads whose customer has such an opportunity that is won.

  A step's rate is its count over the previous step's; the overall rate is 赢单 / 线索.
* **Days to convert.** ``converted_at − created_at`` of the cohort's converted leads, in days: median
  and mean.
* **Direct customers (直接录入).** Customers created in the period that no lead was converted into
  (entered by hand or imported), among those the scope counts (``selectors.scope_customers``). They have
  no lead step: they are shown as their own rows (customers → with an opportunity → won, by the same
  rules as above, opportunities opened at any time) and are *not* added into the lead funnel. A
  customer that came from a lead the reader cannot see is in neither.
* **Time in stage.** From ``StageChange``: an opportunity enters a stage at a change's ``at`` and leaves
  it at its next change's ``at`` (ordered by time, then id). A stay counts for the period when it *ended*
  in the period; only open stages (not 赢单 / 输单 / 无效). Median and mean days per stage. Stays not
  ended are not in these figures: the open opportunities are counted separately, as of now, per stage
  (``open_now``).
* **Lost.** Opportunities closed as lost (status 输单 now) with ``closed_at`` in the period: counts and
  amounts (per currency) by the reason written (trimmed text) and by the competitor who won.
* **Outcomes.** Opportunities closed in the period by status (won, lost, invalid); win rate = won /
  (won + lost).

Every opportunity read is ``Opportunity.objects.visible_to(reader)``, every customer
``Customer.objects.visible_to(reader)`` (through ``scope_customers``), every lead ``Lead.objects.visible_to``.
Filters: ``source`` (an option code of 客户来源: the lead's source, the direct customer's, the
opportunity's customer's) and ``owner`` (the lead's / customer's / opportunity's owner)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import Lead as NextRow
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm, ViewScope
from kehu.access.scope import require, view_scope_owner_ids, view_scopes
from kehu.core.errors import ValidationError
from kehu.core.pagination import clean_filters, filter_id
from kehu.core.periods import DateRange, Period, period_range
from kehu.customers.choices import OptionKind
from kehu.customers.models import Option
from kehu.sales.choices import OpportunityStatus, StageKind
from kehu.sales.leads.models import Lead
from kehu.sales.models import Opportunity, Stage, StageChange

FUNNEL_FILTERS = frozenset({"period", "from", "to", "scope", "source", "owner", "bucket"})
BUCKETS = {"month": _("按月"), "quarter": _("按季度")}
DEFAULT_PERIOD = Period.YEAR  # conversions take weeks: a month is mostly leads not yet worked
DAY = 86400.0
CENT = Decimal("0.01")

STEP_LABELS = {
    "leads": _("线索"),
    "customers": _("转为客户"),
    "with_opportunity": _("有商机"),
    "won": _("赢单"),
}


def _rate(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def _days(values: list[float]) -> tuple[float | None, float | None]:
    """Median and mean of durations in days (rounded to 0.1), or (None, None) without any."""
    if not values:
        return None, None
    return round(statistics.median(values), 1), round(statistics.fmean(values), 1)


@dataclass
class FunnelRow:
    """One row of a breakdown (or the whole cohort): the four step counts, the rates between them and the
    days to convert. ``leads`` is None for the direct-customer rows (no lead step)."""

    key: str
    label: str
    leads: int | None
    customers: int
    with_opportunity: int
    won: int
    median_days_to_convert: float | None = None
    mean_days_to_convert: float | None = None

    @property
    def customer_rate(self) -> float | None:
        return _rate(self.customers, self.leads)

    @property
    def opportunity_rate(self) -> float | None:
        return _rate(self.with_opportunity, self.customers)

    @property
    def win_rate(self) -> float | None:
        return _rate(self.won, self.with_opportunity)

    @property
    def overall_rate(self) -> float | None:
        return _rate(self.won, self.leads if self.leads is not None else self.customers)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "label": self.label, "leads": self.leads, "customers": self.customers,
            "with_opportunity": self.with_opportunity, "won": self.won, "customer_rate": self.customer_rate,
            "opportunity_rate": self.opportunity_rate, "win_rate": self.win_rate, "overall_rate": self.overall_rate,
            "median_days_to_convert": self.median_days_to_convert, "mean_days_to_convert": self.mean_days_to_convert,
        }  # fmt: skip


@dataclass
class StageTime:
    """Days spent in one open stage: the stays that ended in the period, and how many open opportunities
    stand in it now."""

    stage_id: int
    name: str
    group: str
    default_group: bool
    order: int
    left: int = 0
    median_days: float | None = None
    mean_days: float | None = None
    open_now: int = 0


@dataclass
class LostRow:
    """Lost opportunities of one reason (or one competitor): how many, and their amounts per currency."""

    label: str
    count: int
    amounts: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class Funnel:
    scope: str
    scopes: list[str]
    range: DateRange
    bucket: str
    source: Option | None
    owner: User | None
    total: FunnelRow
    direct: FunnelRow
    by_source: list[FunnelRow]
    by_owner: list[FunnelRow]
    by_period: list[FunnelRow]
    direct_by_source: list[FunnelRow]
    stages: list[StageTime]
    outcomes: dict[str, int]
    lost_reasons: list[LostRow]
    lost_competitors: list[LostRow]

    @property
    def steps(self) -> list[dict[str, Any]]:
        """The four steps of the lead funnel with their counts and the rate from the step before."""
        t = self.total
        counts = [("leads", t.leads or 0, None), ("customers", t.customers, t.customer_rate),
                  ("with_opportunity", t.with_opportunity, t.opportunity_rate), ("won", t.won, t.win_rate)]  # fmt: skip
        return [{"key": k, "label": str(STEP_LABELS[k]), "count": n, "rate": r} for k, n, r in counts]

    @property
    def win_rate(self) -> float | None:
        return _rate(self.outcomes.get("won", 0), self.outcomes.get("won", 0) + self.outcomes.get("lost", 0))

    @property
    def empty(self) -> bool:
        return not (self.total.leads or self.direct.customers or any(self.outcomes.values()) or self.stages)


# --- filters ---------------------------------------------------------------------------------------------


@dataclass
class _Filters:
    scope: str
    owner_ids: set[int] | None  # the scope's people (None: everyone)
    span: DateRange
    start: datetime
    end: datetime
    bucket: str
    source: Option | None
    owner: User | None


def _clean(actor: User, filters: dict[str, Any] | None, today: date, default_scope: str) -> _Filters:
    f = clean_filters(filters, FUNNEL_FILTERS)
    scope = str(f.get("scope") or default_scope)
    owner_ids = view_scope_owner_ids(actor, scope)  # names the field ``scope``
    span = period_range(f.get("period") or DEFAULT_PERIOD, today=today, start=f.get("from"), end=f.get("to"))
    bucket = str(f.get("bucket") or "month")
    if bucket not in BUCKETS:
        raise ValidationError(
            _("分组“%(v)s”无效（可选：month, quarter）"), field="bucket", params={"v": bucket}
        )
    source = None
    if "source" in f:
        source = Option.objects.filter(kind=OptionKind.SOURCE, code=str(f["source"])).first()
        if source is None:
            raise ValidationError(_("来源“%(v)s”不存在"), field="source", params={"v": f["source"]})
    owner = None
    if "owner" in f:
        owner = User.objects.filter(pk=filter_id(f, "owner")).first()
        if owner is None:
            raise ValidationError(_("负责人不存在"), field="owner")
    start, end = span.bounds()
    return _Filters(scope, owner_ids, span, start, end, bucket, source, owner)


def _owned(qs: QuerySet, f: _Filters, owner_field: str = "owner_id") -> QuerySet:
    if f.owner_ids is not None:
        qs = qs.filter(**{f"{owner_field}__in": sorted(f.owner_ids)})
    if f.owner is not None:
        qs = qs.filter(**{owner_field: f.owner.pk})
    return qs


def _opportunities(actor: User) -> QuerySet:
    """Every opportunity the reader sees (visible_to already drops deleted ones)."""
    return Opportunity.objects.visible_to(actor)


# --- the cohorts ----------------------------------------------------------------------------------------


def _bucket_expr(f: _Filters, column: str) -> Any:
    return (TruncMonth if f.bucket == "month" else TruncQuarter)(column)


def _bucket_label(value: Any, bucket: str) -> str:
    if value is None:
        return ""
    day = value.date() if isinstance(value, datetime) else value
    if bucket == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def lead_cohort(actor: User, f: _Filters) -> QuerySet:
    """The cohort's leads with ``has_opp`` / ``has_won`` (EXISTS over the converted customer's visible
    opportunities opened since the lead came in — index ``opp_customer_status``)."""
    leads: QuerySet = Lead.objects.visible_to(actor).filter(created_at__gte=f.start, created_at__lt=f.end)
    leads = _owned(leads, f)
    if f.source is not None:
        leads = leads.filter(source_id=f.source.pk)
    opps = _opportunities(actor).filter(
        customer_id=OuterRef("converted_customer_id"), created_at__gte=OuterRef("created_at")
    )
    return leads.annotate(
        has_opp=Exists(opps), has_won=Exists(opps.filter(status=OpportunityStatus.WON))
    ).order_by()


LEAD_COUNTS = {
    "leads": Count("id"),
    "customers": Count("id", filter=Q(converted_customer_id__isnull=False)),
    "with_opportunity": Count("id", filter=Q(has_opp=True)),
    "won": Count("id", filter=Q(has_won=True)),
}
DIRECT_COUNTS = {
    "customers": Count("id"),
    "with_opportunity": Count("id", filter=Q(has_opp=True)),
    "won": Count("id", filter=Q(has_won=True)),
}


def direct_cohort(actor: User, f: _Filters) -> QuerySet:
    """Customers created in the period of the scope that no lead was converted into."""
    from .selectors import scope_customers

    customers = scope_customers(actor, f.scope).filter(created_at__gte=f.start, created_at__lt=f.end)
    if f.owner is not None:
        customers = customers.filter(owner_id=f.owner.pk)
    if f.source is not None:
        customers = customers.filter(source_id=f.source.pk)
    opps = _opportunities(actor).filter(customer_id=OuterRef("pk"))
    return (
        customers.filter(~Exists(Lead.objects.filter(converted_customer_id=OuterRef("pk"))))
        .annotate(has_opp=Exists(opps), has_won=Exists(opps.filter(status=OpportunityStatus.WON)))
        .order_by()
    )


def _rows(
    grouped: list[dict[str, Any]], labels: dict[Any, str], durations: dict[Any, list[float]], *, direct: bool
) -> list[FunnelRow]:
    out = []
    for r in grouped:
        key = r.get("g")
        median, mean = _days(durations.get(key, []))
        out.append(
            FunnelRow(
                key="" if key is None else str(key), label=labels.get(key, str(_("（未填写）"))),
                leads=None if direct else r["leads"] or 0, customers=r["customers"] or 0,
                with_opportunity=r["with_opportunity"] or 0, won=r["won"] or 0,
                median_days_to_convert=median, mean_days_to_convert=mean,
            )
        )  # fmt: skip
    return out


def _conversion_days(cohort: QuerySet, f: _Filters) -> list[tuple[Any, Any, Any, float]]:
    """(source, owner, bucket, days) of each converted lead of the cohort — only the period's converted
    leads are read, two timestamps each."""
    rows = cohort.filter(converted_at__isnull=False).values_list(
        "source_id", "owner_id", _bucket_expr(f, "created_at"), "created_at", "converted_at"
    )
    return [(s, o, b, (conv - made).total_seconds() / DAY) for s, o, b, made, conv in rows]


def _source_labels(ids: Iterable[Any]) -> dict[Any, str]:
    return {o.pk: o.display for o in Option.objects.filter(pk__in=[i for i in ids if i is not None])}


def _owner_labels(ids: Iterable[Any]) -> dict[Any, str]:
    labels: dict[Any, str] = {
        u.pk: u.label for u in User.objects.filter(pk__in=[i for i in ids if i is not None])
    }
    labels[None] = str(_("线索池（无负责人）"))
    return labels


# --- stages and losses ------------------------------------------------------------------------------------


def _scoped_opportunities(actor: User, f: _Filters) -> QuerySet:
    opps = _owned(_opportunities(actor), f)
    if f.source is not None:
        opps = opps.filter(customer__source_id=f.source.pk)
    return opps


def stage_times(actor: User, f: _Filters) -> list[StageTime]:
    """Days in each open stage (see the module docstring). The window (LEAD over an opportunity's changes
    by time) runs only over the opportunities with a change in the period, up to its end; the open ones
    are one GROUP BY stage over the open opportunities (partial indexes ``opp_board`` / ``opp_open_*``)."""
    opps = _scoped_opportunities(actor, f)
    moved = StageChange.objects.filter(at__gte=f.start, at__lt=f.end).values("opportunity_id")
    # The opportunities are found by the period's changes first (not the scope's every opportunity).
    window_ids = opps.filter(pk__in=moved).values("pk")
    changes = (
        StageChange.objects.filter(opportunity_id__in=window_ids, at__lt=f.end)
        .annotate(left_at=Window(NextRow("at"), partition_by=[F("opportunity_id")], order_by=[F("at").asc(), F("id").asc()]))
        .order_by()
        .values_list("to_stage_id", "at", "left_at")
    )  # fmt: skip
    stays: dict[int, list[float]] = defaultdict(list)
    for stage_id, entered, left in changes:
        if left is not None and left >= f.start:
            stays[stage_id].append((left - entered).total_seconds() / DAY)
    # Grouped by (expected_close, stage) as the weighted forecast is: the covering partial indexes
    # opp_open_close_stage (全部) / opp_open_owner_close (owner IN …) answer it without the table or a
    # sort; the few thousand (date, stage) rows are folded here.
    open_now: dict[int, int] = defaultdict(int)
    for stage_id, n in (
        opps.filter(status=OpportunityStatus.OPEN)
        .order_by()
        .values("expected_close", "stage_id")
        .annotate(n=Count("id"))
        .values_list("stage_id", "n")
    ):
        open_now[stage_id] += n
    out = []
    for stage in Stage.objects.filter(pk__in=set(stays) | set(open_now), kind=StageKind.OPEN).select_related(
        "group"
    ):
        median, mean = _days(stays.get(stage.pk, []))
        out.append(
            StageTime(
                stage_id=stage.pk, name=str(stage), group=str(stage.group), default_group=stage.group.is_default,
                order=stage.order, left=len(stays.get(stage.pk, [])), median_days=median, mean_days=mean,
                open_now=open_now.get(stage.pk, 0),
            )
        )  # fmt: skip
    out.sort(key=lambda s: (not s.default_group, s.group, s.order))
    return out


def closed_in_period(actor: User, f: _Filters) -> tuple[dict[str, int], list[LostRow], list[LostRow]]:
    """The outcomes of the opportunities closed in the period and the lost ones by reason and by
    competitor — one GROUP BY (status, reason, competitor, currency), folded here."""
    outcomes = {str(s): 0 for s in (OpportunityStatus.WON, OpportunityStatus.LOST, OpportunityStatus.INVALID)}
    reasons: dict[str, LostRow] = {}
    competitors: dict[str, LostRow] = {}
    rows = (
        _scoped_opportunities(actor, f)
        .filter(closed_at__gte=f.start, closed_at__lt=f.end)
        .exclude(status=OpportunityStatus.OPEN)
        .order_by()
        .values("status", "close_reason", "lost_to", "currency")
        .annotate(n=Count("id"), amount=Sum("amount"))
    )
    for r in rows:
        outcomes[r["status"]] = outcomes.get(r["status"], 0) + r["n"]
        if r["status"] != OpportunityStatus.LOST:
            continue
        amount = Decimal(r["amount"] or 0).quantize(CENT)  # SQLite's SUM drops the scale
        for into, text in ((reasons, r["close_reason"]), (competitors, r["lost_to"])):
            label = (text or "").strip() or str(_("（未填写）"))
            row = into.setdefault(label, LostRow(label=label, count=0))
            row.count += r["n"]
            row.amounts[r["currency"]] = row.amounts.get(r["currency"], Decimal("0.00")) + amount

    def ordered(rows: dict[str, LostRow]) -> list[LostRow]:
        return sorted(rows.values(), key=lambda x: (-x.count, x.label))

    return outcomes, ordered(reasons), ordered(competitors)


def _sum_rows(rows: list[dict[str, Any]], counts: dict[str, Any]) -> dict[str, Any]:
    """The total of grouped rows: the groups partition the cohort, so the counts add up."""
    return {k: sum(r[k] or 0 for r in rows) for k in counts}


def _fold(rows: list[dict[str, Any]], key: str, counts: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows grouped by (source, owner, bucket) summed into rows by one of them (``g``), in key order."""
    out: dict[Any, dict[str, Any]] = {}
    for r in rows:
        acc = out.setdefault(r[key], {"g": r[key], **dict.fromkeys(counts, 0)})
        for k in counts:
            acc[k] += r[k] or 0
    return sorted(out.values(), key=lambda r: (r["g"] is None, r["g"] if r["g"] is not None else 0))


# --- the whole -------------------------------------------------------------------------------------------


def funnel(
    *, actor: User, filters: dict[str, Any] | None = None, default_scope: str = ViewScope.MINE.value,
    today: date | None = None,
) -> Funnel:  # fmt: skip
    """The funnel of the leads, customers and opportunities ``actor`` sees in a view scope and period."""
    require(actor, Perm.ANALYTICS_VIEW)
    f = _clean(actor, filters, today or timezone.localdate(), default_scope)
    cohort = lead_cohort(actor, f)
    days = _conversion_days(cohort, f)
    by_key: dict[str, dict[Any, list[float]]] = {"source": defaultdict(list), "owner": defaultdict(list),
                                                 "period": defaultdict(list)}  # fmt: skip
    for s, o, b, d in days:
        by_key["source"][s].append(d)
        by_key["owner"][o].append(d)
        by_key["period"][b].append(d)
    every = [d for *_k, d in days]

    # One pass over the period's leads, grouped by (source, owner, bucket): the three breakdowns and the
    # total are folded from its rows.
    grouped = list(
        cohort.annotate(b=_bucket_expr(f, "created_at"))
        .values("source_id", "owner_id", "b")
        .annotate(**LEAD_COUNTS)
    )
    by_source_g = _fold(grouped, "source_id", LEAD_COUNTS)
    total = _rows(
        [_sum_rows(by_source_g, LEAD_COUNTS)], {None: str(_("全部线索"))}, {None: every}, direct=False
    )[0]
    by_owner_g = _fold(grouped, "owner_id", LEAD_COUNTS)
    by_period_g = _fold(grouped, "b", LEAD_COUNTS)

    direct = direct_cohort(actor, f)
    direct_by_source_g = list(direct.values("source_id").annotate(**DIRECT_COUNTS))
    for r in direct_by_source_g:
        r["g"] = r["source_id"]
    direct_total = _rows(
        [_sum_rows(direct_by_source_g, DIRECT_COUNTS)], {None: str(_("直接录入的客户"))}, {}, direct=True
    )[0]

    sources = _source_labels([r["g"] for r in by_source_g] + [r["g"] for r in direct_by_source_g])
    owners = _owner_labels([r["g"] for r in by_owner_g])
    periods = {r["g"]: _bucket_label(r["g"], f.bucket) for r in by_period_g}

    def by_count(rows: list[FunnelRow]) -> list[FunnelRow]:
        return sorted(rows, key=lambda r: (-(r.leads if r.leads is not None else r.customers), r.label))

    outcomes, lost_reasons, lost_competitors = closed_in_period(actor, f)
    return Funnel(
        scope=f.scope, scopes=view_scopes(actor), range=f.span, bucket=f.bucket, source=f.source, owner=f.owner,
        total=total, direct=direct_total,
        by_source=by_count(_rows(by_source_g, sources, by_key["source"], direct=False)),
        by_owner=by_count(_rows(by_owner_g, owners, by_key["owner"], direct=False)),
        by_period=_rows(by_period_g, periods, by_key["period"], direct=False),
        direct_by_source=by_count(_rows(direct_by_source_g, sources, {}, direct=True)),
        stages=stage_times(actor, f), outcomes=outcomes, lost_reasons=lost_reasons,
        lost_competitors=lost_competitors,
    )  # fmt: skip
