"""Analytics actions: change the settings, start a refresh (ANA-1 … ANA-5). Pages and API call these."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import Conflict, ValidationError
from kehu.core.events import diff, emit

from .events import AnalyticsChanged
from .models import AnalyticsSettings
from .refresh import settings_get

SETTINGS_FIELDS = (
    "rfm_bins", "rfm_threshold", "p_alive_threshold", "rhythm_factor", "engagement_window_days", "engagement_drop",
    "horizon_months", "annual_discount_rate", "default_margin", "lifecycle_window_days", "winback_tasks",
    "winback_due_days", "winback_per_owner",
)  # fmt: skip
REFRESH_JOB = "analytics.refresh"


def _snapshot(s: AnalyticsSettings) -> dict[str, Any]:
    return {
        k: str(v) if isinstance(v, Decimal) else v
        for k in SETTINGS_FIELDS
        if (v := getattr(s, k)) is not None
    }


def _clean(key: str, value: Any) -> Any:
    field: Any = AnalyticsSettings._meta.get_field(key)
    label = str(field.verbose_name)
    if isinstance(value, str):
        value = value.strip()
    if value in (None, ""):
        raise ValidationError(_("请填写“%(f)s”"), field=key, params={"f": label})
    if field.get_internal_type() == "BooleanField":
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("1", "true", "on", "yes"):
            return True
        if str(value).lower() in ("0", "false", "off", "no"):
            return False
        raise ValidationError(_("“%(f)s”应为是或否"), field=key, params={"f": label})
    try:
        if field.get_internal_type() == "DecimalField":
            value = Decimal(str(value))
            if not value.is_finite():
                raise InvalidOperation
        cleaned = field.clean(value, None)
    except (InvalidOperation, DjangoValidationError):
        lo = next((v.limit_value for v in field.validators if getattr(v, "code", "") == "min_value"), None)
        hi = next((v.limit_value for v in field.validators if getattr(v, "code", "") == "max_value"), None)
        if field.choices:
            allowed = "、".join(str(c) for c, _label in field.choices)
            raise ValidationError(
                _("“%(f)s”无效（可选：%(allowed)s）"), field=key, params={"f": label, "allowed": allowed}
            ) from None
        raise ValidationError(
            _("“%(f)s”必须是 %(lo)s 到 %(hi)s 之间的数"), field=key, params={"f": label, "lo": lo, "hi": hi}
        ) from None
    return cleaned


@transaction.atomic
def analytics_settings_update(*, data: dict[str, Any], version: int | None, by: User) -> AnalyticsSettings:
    """Change the knobs of RFM, lifetime value, churn warning and lifecycle. Stored once (the first save
    creates it); a stale version is refused; takes effect at the next refresh."""
    require(by, Perm.ANALYTICS_MANAGE)
    unknown = sorted(set(data) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": unknown[0]})
    cleaned = {key: _clean(key, value) for key, value in data.items()}
    current = settings_get()
    creating = current._state.adding
    before = {} if creating else _snapshot(current)
    for key, value in cleaned.items():
        setattr(current, key, value)
    if creating:
        if version not in (None, 0, 1):
            raise Conflict(_("设置已被他人修改，请刷新后再试"), field="version", code="stale")
        current.save()
    else:
        current.save_versioned(expected_version=version, fields=list(cleaned))
    changes = diff(before, _snapshot(current))
    if changes:
        emit(AnalyticsChanged(actor_id=by.pk, verb="settings", subject_type="analytics_settings",
                              subject_id=current.pk, subject_label=str(_("客户分析设置")), changes=changes))  # fmt: skip
    return current


def analytics_refresh_start(*, by: User) -> Any:
    """Ask for a refresh now (besides the nightly one): a background job with progress. Refused while one
    is already waiting or running."""
    from kehu.jobs.models import Job
    from kehu.jobs.services import job_start

    require(by, Perm.ANALYTICS_MANAGE)
    busy = Job.objects.filter(kind=REFRESH_JOB, status__in=("queued", "running")).first()
    if busy is not None:
        raise Conflict(_("客户分析正在刷新中，请等它完成"), field=None, code="refresh_running")
    job = job_start(kind=REFRESH_JOB, by=by)
    emit(AnalyticsChanged(actor_id=by.pk, verb="refresh", subject_type="analytics_run", subject_id=job.pk,
                          subject_label=str(_("客户分析刷新")), changes={}))  # fmt: skip
    return job
