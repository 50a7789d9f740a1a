"""The home dashboard (工作台, ANA-8 home part): for a view scope (本人 / 本人及下属 / 部门 / 全部, as far as
the user's roles allow) and a period (今天 … 本年, or from–to), the new customers, contacts and
interactions, the urgency buckets and the 遗忘提醒 counts, and interactions per day (or month) by
channel for the chart. Reads only, all through ``visible_to``; the page and
``GET /api/v1/dashboard`` both call ``dashboard()``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone

from kehu.access.models import User
from kehu.access.perms import Perm, ViewScope
from kehu.access.scope import require, view_scope_owner_ids, view_scopes
from kehu.core.periods import DateRange, Period, period_range
from kehu.customers.selectors import follow_up_summary, period_counts, scoped_customers

from .models import Interaction
from .selectors import channels


@dataclass
class Dashboard:
    scope: str
    scopes: list[dict[str, str]]  # the scopes the user may pick: code, label
    range: DateRange
    counts: dict[str, int]  # customers, contacts, interactions (new in the period)
    urgency: list[dict[str, Any]]
    idle: list[dict[str, Any]]
    chart: dict[str, Any] = field(default_factory=dict)  # x (labels), series [{name, data}]


def _interactions(actor: User, owner_ids: set[int] | None, start: Any, end: Any) -> Any:
    """Interactions in [start, end) with the customers of the scope (those its people own, as
    ``visible_to`` lets the actor see them) — the same customers the other counts read."""
    customers = scoped_customers(actor=actor, owner_ids=owner_ids)
    return Interaction.objects.filter(
        customer__in=customers, deleted_at__isnull=True, occurred_at__gte=start, occurred_at__lt=end
    )


def default_scope(actor: User) -> str:
    """本人及下属 for those who lead someone and may see them (a manager's first question is how the
    team is doing), else 本人."""
    from kehu.access.scope import subordinate_ids

    allowed = view_scopes(actor)
    if ViewScope.TEAM in allowed and subordinate_ids(actor):
        return ViewScope.TEAM.value
    return ViewScope.MINE.value


def dashboard(
    *,
    actor: User,
    scope: str | None = None,
    period: str | None = None,
    date_from: Any = None,
    date_to: Any = None,
    today: date | None = None,
) -> Dashboard:
    """The dashboard for ``actor``. ``scope`` defaults to ``default_scope``, ``period`` to 本月; a scope the roles do
    not allow is refused (``PermissionDenied``, field ``scope``), a bad period or date names its field
    (``period``, ``from``, ``to``)."""
    require(actor, Perm.CUSTOMER_VIEW)
    today = today or timezone.localdate()
    scope = scope or default_scope(actor)
    span = period_range(period, today=today, start=date_from, end=date_to)
    owner_ids = view_scope_owner_ids(actor, scope)
    start, end = span.bounds()
    interactions = _interactions(actor, owner_ids, start, end)
    summary = follow_up_summary(actor=actor, owner_ids=owner_ids)
    counts = {
        **period_counts(actor=actor, owner_ids=owner_ids, start=start, end=end),
        "interactions": interactions.count(),
    }
    return Dashboard(
        scope=scope,
        scopes=[{"code": v, "label": str(ViewScope(v).label)} for v in view_scopes(actor)],
        range=span,
        counts=counts,
        urgency=summary["urgency"],
        idle=summary["idle"],
        chart=_chart(interactions, span) if counts["interactions"] else {"x": [], "series": []},
    )


def _chart(interactions: Any, span: DateRange) -> dict[str, Any]:
    """Interactions per bucket (day, or month for long periods) and channel, as ECharts series."""
    tz = timezone.get_current_timezone()
    trunc = TruncMonth("occurred_at", tzinfo=tz) if span.by_month else TruncDate("occurred_at", tzinfo=tz)
    rows = (
        interactions.order_by()
        .annotate(bucket=trunc)
        .values_list("bucket", "channel_id")
        .annotate(n=Count("id"))
    )
    buckets = span.buckets()
    index = {b: i for i, b in enumerate(buckets)}
    labels = {o.pk: o.display for o in channels(include_inactive=True)}
    series: dict[int, list[int]] = {}
    for bucket, channel_id, n in rows:
        day = bucket.date() if hasattr(bucket, "date") and callable(bucket.date) else bucket
        at = index.get(day.replace(day=1) if span.by_month else day)
        if at is None:
            continue
        series.setdefault(channel_id, [0] * len(buckets))[at] += n
    fmt = "%Y-%m" if span.by_month else "%m-%d"
    return {
        "x": [b.strftime(fmt) for b in buckets],
        "series": [
            {"name": labels.get(cid, str(cid)), "data": data}
            for cid, data in sorted(series.items(), key=lambda kv: -sum(kv[1]))
        ],
    }


PERIODS = Period.choices
