"""Report periods (ANA-8): 今天 / 本周 / 本月 / 本季度 / 本年 / a custom from–to, as dates in
Asia/Shanghai, and how a chart over a period is bucketed. Pure rules, no database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import ValidationError

MAX_CUSTOM_DAYS = 366 * 3  # a custom period spans at most about three years
DAILY_UP_TO = 62  # a chart over up to this many days has a bar per day, else per month


class Period(models.TextChoices):
    TODAY = "today", _("今天")
    WEEK = "week", _("本周")
    MONTH = "month", _("本月")
    QUARTER = "quarter", _("本季度")
    YEAR = "year", _("本年")
    CUSTOM = "custom", _("自定义")


@dataclass(frozen=True)
class DateRange:
    """The days ``start`` through ``end`` (both included)."""

    period: str
    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def bounds(self) -> tuple[datetime, datetime]:
        """[start 00:00, the day after end 00:00) in the current time zone (Asia/Shanghai)."""
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    @property
    def by_month(self) -> bool:
        """Whether a chart over it has a bar per month (long periods) rather than per day."""
        return self.days > DAILY_UP_TO

    def buckets(self) -> list[date]:
        """The first day of each chart bucket: every day, or every month (its 1st) for long periods."""
        if not self.by_month:
            return [self.start + timedelta(days=n) for n in range(self.days)]
        out, d = [], self.start.replace(day=1)
        while d <= self.end:
            out.append(d)
            d = (d + timedelta(days=32)).replace(day=1)
        return out


def _parse(value: Any, field: str, label: Any) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(
            _("%(label)s不是有效日期（YYYY-MM-DD）"), field=field, params={"label": label}
        ) from exc


def period_range(period: str | None, *, today: date, start: Any = None, end: Any = None) -> DateRange:
    """The dates of ``period`` around ``today``: the week starts on Monday, quarters are Jan–Mar …;
    ``custom`` takes ``start``/``end`` (fields ``from`` and ``to``), at most ``MAX_CUSTOM_DAYS`` apart."""
    period = period or Period.MONTH
    if period not in Period.values:
        raise ValidationError(
            _("统计期间“%(value)s”无效（可选：today, week, month, quarter, year, custom）"),
            field="period",
            params={"value": period},
        )
    if period == Period.TODAY:
        return DateRange(period, today, today)
    if period == Period.WEEK:
        monday = today - timedelta(days=today.weekday())
        return DateRange(period, monday, monday + timedelta(days=6))
    if period == Period.MONTH:
        first = today.replace(day=1)
        return DateRange(period, first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))
    if period == Period.QUARTER:
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return DateRange(period, first, (first + timedelta(days=93)).replace(day=1) - timedelta(days=1))
    if period == Period.YEAR:
        return DateRange(period, date(today.year, 1, 1), date(today.year, 12, 31))
    if start in (None, ""):
        raise ValidationError(_("自定义期间请填写开始日期"), field="from")
    if end in (None, ""):
        raise ValidationError(_("自定义期间请填写结束日期"), field="to")
    first, last = _parse(start, "from", _("开始日期")), _parse(end, "to", _("结束日期"))
    if last < first:
        raise ValidationError(_("结束日期不能早于开始日期"), field="to")
    if (last - first).days >= MAX_CUSTOM_DAYS:
        raise ValidationError(_("自定义期间不能超过 %(n)s 天"), field="to", params={"n": MAX_CUSTOM_DAYS})
    return DateRange(period, first, last)
