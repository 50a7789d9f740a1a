"""Reads of the audit log, for auditors (SEC-3)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import ValidationError
from kehu.core.pagination import Page, paginate

from .models import AuditEvent

FILTERS = {"actor", "verb", "subject_type", "subject_id", "customer_id", "date_from", "date_to"}


def _date(value: Any, field: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD"), field=field) from exc


def _int(value: Any, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("必须是整数"), field=field) from exc


def audit_list(
    *, actor: User, filters: dict[str, Any] | None = None, limit: Any = None, offset: Any = None
) -> Page:
    require(actor, Perm.AUDIT_VIEW)
    filters = {k: v for k, v in (filters or {}).items() if v not in (None, "")}
    unknown = set(filters) - FILTERS
    if unknown:
        raise ValidationError(
            _("未知筛选条件：%(f)s"), field=sorted(unknown)[0], params={"f": ", ".join(unknown)}
        )
    qs = AuditEvent.objects.all()
    if "actor" in filters:
        qs = qs.filter(actor_id=_int(filters["actor"], "actor"))
    if "verb" in filters:
        qs = qs.filter(verb=filters["verb"])
    if "subject_type" in filters:
        qs = qs.filter(subject_type=filters["subject_type"])
    if "subject_id" in filters:
        qs = qs.filter(subject_id=_int(filters["subject_id"], "subject_id"))
    if "customer_id" in filters:
        qs = qs.filter(customer_id=_int(filters["customer_id"], "customer_id"))
    if "date_from" in filters:
        qs = qs.filter(at__date__gte=_date(filters["date_from"], "date_from"))
    if "date_to" in filters:
        qs = qs.filter(at__date__lte=_date(filters["date_to"], "date_to"))
    return paginate(qs.order_by("-at", "-id"), limit=limit, offset=offset)


def audit_verbs() -> list[str]:
    return sorted(set(AuditEvent.objects.values_list("verb", flat=True).distinct()))


def audit_subject_types() -> list[str]:
    return sorted(set(AuditEvent.objects.values_list("subject_type", flat=True).distinct()))
