"""Input shaping shared by the services: text, dates and ids named by their field."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError


def text(
    data: dict[str, Any], key: str, *, max_length: int, required: bool = False, label: Any = None
) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise ValidationError(_("请填写%(f)s"), field=key, params={"f": label or key})
    if len(value) > max_length:
        raise ValidationError(
            _("%(f)s不能超过 %(n)s 个字符"), field=key, params={"f": label or key, "n": max_length}
        )
    return value


def day(data: dict[str, Any], key: str, *, required: bool = False, label: Any = None) -> date | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise ValidationError(_("请填写%(f)s"), field=key, params={"f": label or key})
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError(_("日期格式应为 YYYY-MM-DD"), field=key) from None


def moment(data: dict[str, Any], key: str, *, default: datetime | None = None) -> datetime | None:
    from django.utils import timezone

    value = data.get(key)
    if value in (None, ""):
        return default
    if isinstance(value, datetime):
        parsed = value
    else:
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            raise ValidationError(_("时间格式应为 YYYY-MM-DD HH:MM"), field=key) from None
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def ident(data: dict[str, Any], key: str, *, required: bool = False) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        if required:
            raise ValidationError(_("请选择%(f)s"), field=key, params={"f": key})
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(_("%(f)s 必须是数字ID"), field=key, params={"f": key}) from None


def currency(data: dict[str, Any], key: str = "currency") -> str:
    value = str(data.get(key) or "CNY").strip().upper()
    if len(value) != 3 or not value.isalpha():
        raise ValidationError(_("币种应为 3 位字母代码，如 CNY"), field=key)
    return value


def only(data: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
