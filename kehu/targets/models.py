"""Sales targets per person or department and period (SAL-8)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import can, owner_ids_in_scope, sees_all
from kehu.core.models import VersionedModel

from .choices import Metric, PeriodKind
from .rules import TargetPeriod


def department_ids_seen_by(actor: User) -> set[int] | None:
    """Departments whose targets ``actor`` sees; None = all. Everyone sees the goals of their own
    department and the departments above it (the team goal they contribute to); a manager also sees
    those of every department where someone in their data scope works."""
    if sees_all(actor):
        return None
    ids: set[int] = set()
    department = getattr(actor, "department", None)
    if department is not None:
        ids |= {int(part) for part in department.path.strip("/").split("/") if part}
        ids.add(department.pk)
    people = owner_ids_in_scope(actor) or set()
    if people:
        ids |= set(
            User.objects.filter(pk__in=people, department__isnull=False).values_list(
                "department_id", flat=True
            )
        )
    return ids


class SalesTargetQuerySet(models.QuerySet):
    def visible_to(self, actor) -> SalesTargetQuerySet:
        """The only row filter for targets (SEC-1): a person's targets when the person is in the actor's
        data scope; a department's per ``department_ids_seen_by``."""
        if not can(actor, Perm.TARGET_VIEW):
            return self.none()
        people = owner_ids_in_scope(actor)
        departments = department_ids_seen_by(actor)
        user_q = Q(user__isnull=False) if people is None else Q(user_id__in=sorted(people))
        dept_q = (
            Q(department__isnull=False) if departments is None else Q(department_id__in=sorted(departments))
        )
        return self.filter(user_q | dept_q)

    def of_period(self, period: TargetPeriod) -> SalesTargetQuerySet:
        return self.filter(period_kind=period.kind, year=period.year, number=period.number)


class SalesTarget(VersionedModel):
    """A goal (SAL-8): a person **or** a department, a metric (contract amount, payment amount, new
    customers, deals) and a month, quarter or year. Progress is computed from the records, never stored,
    so it cannot drift from them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
        verbose_name=_("人员"),
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="sales_targets",
        verbose_name=_("部门"),
    )
    metric = models.CharField(_("指标"), max_length=20, choices=Metric.choices)
    period_kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    year = models.PositiveSmallIntegerField(_("年份"))
    number = models.PositiveSmallIntegerField(_("月份/季度"), default=1)
    value = models.DecimalField(_("目标值"), max_digits=16, decimal_places=2, default=Decimal("0"))
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SalesTargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("销售目标")
        verbose_name_plural = _("销售目标")
        ordering = ["year", "period_kind", "number", "metric", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(department__isnull=True))
                | (Q(user__isnull=True) & Q(department__isnull=False)),
                name="target_one_subject",
            ),
            models.UniqueConstraint(
                fields=["user", "metric", "period_kind", "year", "number"],
                condition=Q(user__isnull=False),
                name="target_user_unique",
            ),
            models.UniqueConstraint(
                fields=["department", "metric", "period_kind", "year", "number"],
                condition=Q(department__isnull=False),
                name="target_department_unique",
            ),
        ]
        indexes = [models.Index(fields=["year", "period_kind", "number"], name="target_period")]

    def __str__(self) -> str:
        return f"{self.subject_label} {self.period.label} {self.get_metric_display()}"

    @property
    def period(self) -> TargetPeriod:
        return TargetPeriod(self.period_kind, self.year, self.number)

    @property
    def subject_label(self) -> str:
        return str(self.user or self.department)


class ExchangeRate(VersionedModel):
    """What one unit of a currency was worth in CNY in a month (汇率, e.g. USD 2026-11 → 7.1234), kept by
    those who set targets: a contract or payment in another currency counts towards the CNY targets at
    the rate of its month — or of the latest earlier month with a rate; without any, it does not count,
    and the targets page says how many such documents there are."""

    currency = models.CharField(_("币种"), max_length=3)
    month = models.DateField(_("月份"))  # the month's first day
    rate = models.DecimalField(_("汇率（1 单位折合人民币）"), max_digits=18, decimal_places=6)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["currency", "-month"]
        constraints = [models.UniqueConstraint(fields=["currency", "month"], name="exchange_rate_month")]
        verbose_name = _("汇率")
        verbose_name_plural = _("汇率")

    def __str__(self) -> str:
        return f"{self.currency} {self.month:%Y-%m} {self.rate}"
