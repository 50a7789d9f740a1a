"""Template helpers of customer service: how long until (or since) a deadline, in words."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration(minutes: Any) -> str:
    """Minutes as 2 天 3 小时 / 3 小时 20 分 / 20 分钟 (the sign is the caller's business)."""
    if minutes in (None, ""):
        return "—"
    total = abs(int(minutes))
    days, rest = divmod(total, 60 * 24)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s 天 %(h)s 小时") % {"d": days, "h": hours}
    if hours:
        return _("%(h)s 小时 %(m)s 分") % {"h": hours, "m": mins}
    return _("%(m)s 分钟") % {"m": mins}
