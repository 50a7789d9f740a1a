"""Reads of sales targets and their progress (SAL-8), always starting from ``visible_to``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import can, owner_ids_in_scope, require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_window

from .choices import MONEY_METRICS, Metric, PeriodKind
from .metrics import actual_by_owner
from .models import ExchangeRate, SalesTarget
from .rules import TargetPeriod, completion, period_of, ranked

SORTS = {"percent": "-percent", "-percent": "percent", "name": "name", "-name": "-name"}


@dataclass
class TargetRow:
    """A target with what has been reached so far."""

    target: SalesTarget
    name: str
    actual: Decimal
    percent: Decimal
    rank: int = 0

    @property
    def is_money(self) -> bool:
        return self.target.metric in MONEY_METRICS

    @property
    def bar(self) -> int:
        """Width of the progress bar (0–100)."""
        return int(min(self.percent, Decimal(100)))

    @property
    def remaining(self) -> Decimal:
        return max(self.target.value - self.actual, Decimal(0))


def _members(department: Department) -> list[int]:
    """The people currently in ``department`` and its sub-departments."""
    return list(
        User.objects.filter(department__path__startswith=department.path).values_list("pk", flat=True)
    )


def with_progress(targets: list[SalesTarget]) -> list[TargetRow]:
    """Each target with its actual: one aggregate query per (metric, period) over all the people involved."""
    groups: dict[tuple[str, TargetPeriod], list[SalesTarget]] = {}
    people_of: dict[int, list[int]] = {}
    for target in targets:
        groups.setdefault((target.metric, target.period), []).append(target)
        if target.department is not None:
            people_of[target.pk] = _members(target.department)
        else:
            people_of[target.pk] = [target.user_id] if target.user_id else []
    actual_of: dict[int, Decimal] = {}
    for (metric, period), members in groups.items():
        owners = {pk for t in members for pk in people_of[t.pk]}
        by_owner = actual_by_owner(metric, owners, period.start, period.end)
        for t in members:
            actual_of[t.pk] = sum((by_owner.get(pk, Decimal(0)) for pk in people_of[t.pk]), Decimal(0))
    return [
        TargetRow(
            target=t,
            name=t.subject_label,
            actual=actual_of[t.pk],
            percent=completion(actual_of[t.pk], t.value),
        )
        for t in targets
    ]


def _visible(actor: User, period: TargetPeriod, metric: str | None, subject: str | None) -> Any:
    if metric and metric not in Metric.values:
        raise ValidationError(_("指标“%(m)s”无效"), field="metric", params={"m": metric})
    if subject not in (None, "", "user", "department"):
        raise ValidationError(_("对象只能是 user（人员）或 department（部门）"), field="subject")
    rows = SalesTarget.objects.visible_to(actor).of_period(period).select_related("user", "department")
    if metric:
        rows = rows.filter(metric=metric)
    if subject == "user":
        rows = rows.filter(user__isnull=False)
    elif subject == "department":
        rows = rows.filter(department__isnull=False)
    return rows


def target_progress(
    *,
    actor: User,
    period: TargetPeriod,
    metric: str | None = None,
    subject: str | None = None,
    sort: str = "-percent",
    limit: Any = None,
    offset: Any = None,
) -> Page:
    """The visible targets of one period with their progress, sorted by completion or name."""
    require(actor, Perm.TARGET_VIEW)
    if sort not in SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    targets = list(_visible(actor, period, metric, subject)[:2000])
    rows = with_progress(targets)
    key = sort.lstrip("-")
    rows.sort(key=lambda r: (getattr(r, key), r.target.metric, r.target.pk), reverse=sort.startswith("-"))
    lim, off = clean_window(limit, offset)
    return Page(items=rows[off : off + lim], count=len(rows), limit=lim, offset=off)


def target_ranking(*, actor: User, period: TargetPeriod, metric: str) -> list[TargetRow]:
    """The people with a target for ``metric`` in ``period`` the actor may see, ranked by completion."""
    require(actor, Perm.TARGET_VIEW)
    if not metric:
        raise ValidationError(_("请选择指标"), field="metric")
    rows = with_progress(list(_visible(actor, period, metric, "user")[:2000]))
    return ranked(rows)


def my_targets(*, actor: User, today: date | None = None) -> dict[str, Any]:
    """For the home page: the actor's own targets of this month and quarter, and the month's ranking
    among the people they may see for their first metric."""
    today = today or timezone.localdate()
    if not can(actor, Perm.TARGET_VIEW):
        return {"rows": [], "ranking": [], "period": period_of(PeriodKind.MONTH, today)}
    month, quarter = period_of(PeriodKind.MONTH, today), period_of(PeriodKind.QUARTER, today)
    own = [
        t
        for period in (month, quarter)
        for t in SalesTarget.objects.visible_to(actor)
        .of_period(period)
        .filter(user=actor)
        .select_related("user")
    ]
    rows = with_progress(own)
    ranking: list[TargetRow] = []
    if rows:
        ranking = target_ranking(actor=actor, period=month, metric=rows[0].target.metric)[:5]
    return {"rows": rows, "ranking": ranking, "period": month}


def target_get(*, actor: User, target_id: int) -> SalesTarget:
    found = (
        SalesTarget.objects.visible_to(actor)
        .select_related("user", "department")
        .filter(pk=target_id)
        .first()
    )
    if found is None:
        raise NotFound(_("目标不存在或无权查看"), field="target", code="target_not_found")
    return found


def assignable_people(*, actor: User) -> list[User]:
    """People whose targets ``actor`` may set: active users in their data scope."""
    people = owner_ids_in_scope(actor)
    rows = User.objects.filter(is_active=True).order_by("username")
    if people is not None:
        rows = rows.filter(pk__in=sorted(people))
    return list(rows[:1000])


def assignable_departments(*, actor: User) -> list[Department]:
    from .models import department_ids_seen_by

    ids = department_ids_seen_by(actor)
    rows = Department.objects.filter(is_active=True)
    if ids is not None:
        rows = rows.filter(pk__in=sorted(ids))
    return list(rows)


def exchange_rate_list(*, actor: User) -> list[ExchangeRate]:
    """The rates money targets convert with, by currency and newest month first."""
    require(actor, Perm.TARGET_VIEW)
    return list(ExchangeRate.objects.select_related("created_by").order_by("currency", "-month"))


def currencies_without_rate(*, actor: User, period: TargetPeriod) -> list[str]:
    """The period's currencies whose contracts and payments do not count yet: they have no rate."""
    from .metrics import currencies_without_rate as missing

    require(actor, Perm.TARGET_VIEW)
    return missing(period.start, period.end)
