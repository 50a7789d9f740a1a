"""Writes of sales targets (SAL-8): set, change and remove goals for people and departments in scope."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import owner_ids_in_scope, require
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import diff, emit

from .choices import Metric
from .events import TargetChanged
from .models import ExchangeRate, SalesTarget, department_ids_seen_by
from .rules import clean_period, clean_rate_input, clean_value
from .selectors import target_get


def _event(by: User, verb: str, target: SalesTarget, changes: dict[str, Any] | None = None) -> Any:
    return TargetChanged(
        actor_id=by.pk,
        verb=verb,
        subject_type="sales_target",
        subject_id=target.pk,
        subject_label=str(target)[:200],
        changes=changes or {},
    )


def _snapshot(target: SalesTarget) -> dict[str, Any]:
    return {
        "subject": target.subject_label,
        "metric": target.metric,
        "period": target.period.key,
        "value": str(target.value),
        "notes": target.notes,
    }


def _subject(*, user_id: Any, department_id: Any, by: User) -> tuple[User | None, Department | None]:
    """Exactly one of a person in the actor's data scope or a department the actor oversees."""
    if bool(user_id) == bool(department_id):
        raise ValidationError(_("请选择人员或部门（二选一）"), field="user_id")
    if user_id:
        user = User.objects.filter(pk=user_id, is_active=True).first()
        if user is None:
            raise ValidationError(_("人员不存在或已停用"), field="user_id")
        people = owner_ids_in_scope(by)
        if people is not None and user.pk not in people:
            raise PermissionDenied(_("只能为您数据范围内的人员制定目标"), field="user_id")
        return user, None
    department = Department.objects.filter(pk=department_id, is_active=True).first()
    if department is None:
        raise ValidationError(_("部门不存在或已停用"), field="department_id")
    departments = department_ids_seen_by(by)
    if departments is not None and department.pk not in departments:
        raise PermissionDenied(_("只能为您数据范围内的部门制定目标"), field="department_id")
    return None, department


def _metric(value: Any) -> str:
    if value not in Metric.values:
        raise ValidationError(_("请选择指标"), field="metric")
    return str(value)


@transaction.atomic
def target_create(
    *,
    metric: str,
    period_kind: str,
    year: Any,
    number: Any = 1,
    value: Any,
    user_id: Any = None,
    department_id: Any = None,
    notes: str = "",
    by: User,
) -> SalesTarget:
    """Set a goal for a person or department in the actor's scope (SAL-8). One goal per subject, metric
    and period: a second one is refused naming the period."""
    require(by, Perm.TARGET_MANAGE)
    user, department = _subject(user_id=user_id, department_id=department_id, by=by)
    metric = _metric(metric)
    period = clean_period(period_kind, year, number)
    amount = clean_value(metric, value)
    subject_q = {"user": user} if user else {"department": department}
    if SalesTarget.objects.filter(**subject_q, metric=metric).of_period(period).exists():
        raise Conflict(
            _("%(who)s 在 %(period)s 已有该指标的目标，请修改原目标"),
            field="number",
            code="target_exists",
            params={"who": str(user or department), "period": period.label},
        )
    try:
        with transaction.atomic():
            target = SalesTarget.objects.create(
                user=user,
                department=department,
                metric=metric,
                period_kind=period.kind,
                year=period.year,
                number=period.number,
                value=amount,
                notes=(notes or "").strip()[:200],
                created_by=by,
            )
    except IntegrityError:  # the same goal set concurrently
        raise Conflict(_("该目标已存在，请刷新后修改"), field="number", code="target_exists") from None
    emit(_event(by, "create", target, diff({}, _snapshot(target))))
    return target


@transaction.atomic
def target_update(
    *, target_id: int, version: int | None, value: Any, notes: str | None = None, by: User
) -> SalesTarget:
    """Change a goal's value (and notes); a stale ``version`` is refused (409)."""
    require(by, Perm.TARGET_MANAGE)
    target = target_get(actor=by, target_id=target_id)
    _subject(user_id=target.user_id, department_id=target.department_id, by=by)
    before = _snapshot(target)
    target.value = clean_value(target.metric, value)
    fields = ["value"]
    if notes is not None:
        target.notes = notes.strip()[:200]
        fields.append("notes")
    target.save_versioned(expected_version=version, fields=fields)
    changes = diff(before, _snapshot(target))
    if changes:
        emit(_event(by, "update", target, changes))
    return target


@transaction.atomic
def target_delete(*, target_id: int, by: User) -> None:
    require(by, Perm.TARGET_MANAGE)
    target = target_get(actor=by, target_id=target_id)
    _subject(user_id=target.user_id, department_id=target.department_id, by=by)
    emit(_event(by, "delete", target, diff(_snapshot(target), {})))
    target.delete()


# ---- exchange rates (the CNY value of other currencies, for money targets) ------------------------------


def _rate_event(by: User, verb: str, rate: ExchangeRate, changes: dict[str, Any]) -> Any:
    return TargetChanged(
        actor_id=by.pk, verb=verb, subject_type="exchange_rate", subject_id=rate.pk, subject_label=str(rate)[:200],
        changes=changes,
    )  # fmt: skip


@transaction.atomic
def exchange_rate_set(*, currency: Any, month: Any, rate: Any, by: User) -> ExchangeRate:
    """Enter (or correct) a currency's CNY rate for a month (SAL-8): contracts and payments in that
    currency then count towards the CNY targets from that month on, until a later month's rate."""
    require(by, Perm.TARGET_MANAGE)
    code, first, value = clean_rate_input(currency, month, rate)
    row = ExchangeRate.objects.select_for_update().filter(currency=code, month=first).first()
    if row is None:
        row = ExchangeRate.objects.create(currency=code, month=first, rate=value, created_by=by)
        emit(_rate_event(by, "create", row, {"rate": [None, str(value)]}))
    elif row.rate != value:
        before = str(row.rate)
        row.rate = value
        row.save_versioned(expected_version=None, fields=["rate"])
        emit(_rate_event(by, "update", row, {"rate": [before, str(value)]}))
    return row


@transaction.atomic
def exchange_rate_delete(*, rate_id: int, by: User) -> None:
    require(by, Perm.TARGET_MANAGE)
    row = ExchangeRate.objects.filter(pk=rate_id).first()
    if row is None:
        raise NotFound(_("汇率不存在"), field="rate")
    emit(_rate_event(by, "delete", row, {"rate": [str(row.rate), None]}))
    row.delete()
