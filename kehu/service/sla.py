"""The business-hours calendar behind service commitments (SVC-5): which days are working days in
mainland China, and how many working minutes lie between two moments. Pure rules, no database.

A day is a working day by the first of these that has an answer:

1. an **override** entered by an administrator (date → working or not, with a name) — how a year's
   arrangement gets in before a new ``chinesecalendar`` release carries it, and how a company records
   its own closures;
2. the **chinesecalendar** package, for the years it has the State Council's published arrangement
   (放假安排, with its adjusted working days 调休 on weekends): 2004–2026 in 1.11.0;
3. an **estimate** from the law, for other years: the days of 《全国年节及纪念日放假办法》
   (:func:`statutory_holidays`), the make-up day it requires when one of them falls on a weekend
   (its 第六条: 适逢周六、周日，应当在工作日补假), and Saturday/Sunday off. No 调休 can be guessed:
   the State Council decides those each year.

Working time is the calendar's windows (by default 9:00–12:00 and 13:00–18:00) on working days, in
Asia/Shanghai local time. Asia/Shanghai has had no daylight saving time since 1991, so wall-clock
arithmetic within a day is exact.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar
from chinese_calendar.constants import holidays as _package_holidays
from lunar_python import Solar

from kehu.core import lunar
from kehu.core.lunar import LunarDay

TIME_ZONE = ZoneInfo("Asia/Shanghai")

# The years the installed chinesecalendar has published arrangements for (it raises outside them).
PACKAGE_YEARS = range(min(_package_holidays).year, max(_package_holidays).year + 1)

DEFAULT_WINDOWS: tuple[tuple[time, time], ...] = ((time(9), time(12)), (time(13), time(18)))

# add_business_minutes gives up after this many days without finding the working time it needs (only
# overrides closing years on end could do that; the rule-based calendar has ~250 working days a year).
_MAX_DAYS = 3660
_MINUTE = timedelta(minutes=1)

# chinesecalendar names holidays in English (its Holiday enum's values); we show the names people use.
_PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}

WEEKEND = "周末"
ADJUSTED_WORKDAY = "调休上班"
DAY_OFF = "休息日"  # an override closing a day without saying why


@dataclass(frozen=True)
class DayKind:
    """Whether a day is a working day, and why.

    ``name`` is the holiday ("春节", "国庆节补假"), "调休上班" for a weekend made a working day, "周末",
    or "" for a plain working day. ``source`` says where the answer came from: "override" (an
    administrator), "package" (chinesecalendar's published arrangement for that year), "statutory"
    (a day of the law, or its make-up day, in a year with no published arrangement — an estimate) or
    "weekday" (the day of the week alone, in such a year)."""

    is_workday: bool
    name: str
    source: str


def statutory_holidays(year: int) -> dict[date, str]:
    """The days off fixed by 《全国年节及纪念日放假办法》 as revised in force from 2025: 元旦 1 day (1 Jan),
    春节 4 days (农历除夕 and 正月初一 to 初三), 清明节 1 day (the 清明 solar term), 劳动节 2 days (1–2 May),
    端午节 1 day (农历五月初五), 中秋节 1 day (农历八月十五), 国庆节 3 days (1–3 Oct). Used for years the
    package does not cover, before the State Council publishes the year's arrangement (no 调休 known).

    When two festivals fall on the same day (中秋 on 1–3 October, as in 2028 and 2031) the day carries
    both names ("中秋节、国庆节"). Lunar dates come from lunar-python (years 1901–2099; ValueError
    outside)."""
    return dict(_statutory_holidays(year))


@lru_cache(maxsize=64)
def _statutory_holidays(year: int) -> tuple[tuple[date, str], ...]:
    new_year = lunar.to_solar(year, LunarDay(1, 1))  # 正月初一 falls between 21 January and 20 February
    days: list[tuple[date, str]] = [
        (date(year, 1, 1), "元旦"),
        *((new_year + timedelta(days=n), "春节") for n in range(-1, 3)),  # 除夕, 初一 … 初三
        (_qingming(year), "清明节"),
        (date(year, 5, 1), "劳动节"),
        (date(year, 5, 2), "劳动节"),
        (lunar.to_solar(year, LunarDay(5, 5)), "端午节"),
        (lunar.to_solar(year, LunarDay(8, 15)), "中秋节"),
        *((date(year, 10, d), "国庆节") for d in (1, 2, 3)),
    ]
    out: dict[date, str] = {}
    for day, name in days:
        out[day] = f"{out[day]}、{name}" if day in out else name
    return tuple(sorted(out.items()))


def _qingming(year: int) -> date:
    """The day of the 清明 solar term (4 or 5 April, Beijing time)."""
    # The lunar year that contains 1 April of ``year`` is lunar year ``year``; its table has its 清明.
    term = Solar.fromYmd(year, 4, 1).getLunar().getJieQiTable()["清明"]
    day = date(term.getYear(), term.getMonth(), term.getDay())
    if day.year != year:  # pragma: no cover - a guard on lunar-python's table layout
        raise AssertionError(f"清明 of {year} computed as {day}")
    return day


@lru_cache(maxsize=64)
def _estimated_days_off(year: int) -> Mapping[date, str]:
    """The statutory days of ``year`` and the make-up days (补假) the law requires for those on a
    Saturday or Sunday: each takes the next weekday that is not already a holiday."""
    days = statutory_holidays(year)
    for day, name in sorted(days.items()):
        if day.weekday() >= 5:
            make_up = day + timedelta(days=1)
            while make_up.weekday() >= 5 or make_up in days:
                make_up += timedelta(days=1)
            days[make_up] = f"{name.split('、')[-1]}补假"
    return days


def _local(moment: datetime, what: str) -> datetime:
    """``moment`` in Asia/Shanghai; naive datetimes are refused (the app keeps aware datetimes only)."""
    if not isinstance(moment, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} is a naive datetime ({moment.isoformat()}); give it a time zone")
    return moment.astimezone(TIME_ZONE)


def _check_minutes(minutes: int) -> None:
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise TypeError(f"minutes must be an int, not {type(minutes).__name__}")
    if minutes < 0:
        raise ValueError(f"minutes must not be negative ({minutes})")


def _validated_windows(windows: Sequence[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    out = tuple(tuple(w) for w in windows)
    if not out:
        raise ValueError("working windows: at least one window is needed")
    previous_end: time | None = None
    for n, window in enumerate(out, start=1):
        if len(window) != 2 or not all(isinstance(t, time) for t in window):
            raise ValueError(f"working window {n}: expected a pair of datetime.time, got {window!r}")
        begin, end = window
        label = f"working window {n} ({begin:%H:%M}–{end:%H:%M})"
        if begin.tzinfo is not None or end.tzinfo is not None:
            raise ValueError(f"{label}: times must be local (no tzinfo); the calendar is in Asia/Shanghai")
        if not begin < end:
            raise ValueError(f"{label}: must end after it starts")
        if previous_end is not None and begin < previous_end:
            raise ValueError(
                f"{label}: overlaps or comes before the previous window (ending {previous_end:%H:%M}); "
                "windows must be sorted and must not overlap"
            )
        previous_end = end
    return out  # type: ignore[return-value]


class WorkCalendar:
    """Working days and working hours (SVC-5). Build one per use with the administrator's overrides;
    day kinds are computed once per calendar."""

    def __init__(
        self,
        *,
        overrides: Mapping[date, tuple[bool, str]] | None = None,
        windows: Sequence[tuple[time, time]] = DEFAULT_WINDOWS,
    ) -> None:
        self._overrides: dict[date, tuple[bool, str]] = {}
        for day, (is_workday, name) in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"override keys must be dates, got {day!r}")
            self._overrides[day] = (bool(is_workday), name)
        self.windows = _validated_windows(windows)
        self._day_length = sum(
            (datetime.combine(date.min, e) - datetime.combine(date.min, b) for b, e in self.windows),
            timedelta(0),
        )
        self._kinds: dict[date, DayKind] = {}

    # -- days ---------------------------------------------------------------------------------------

    def day_kind(self, day: date) -> DayKind:
        """Override, else chinesecalendar for the years it covers (including its 调休 working days on
        weekends), else the statutory estimate and weekends."""
        if isinstance(day, datetime):
            raise TypeError("day_kind takes a date; convert the moment to Asia/Shanghai first")
        kind = self._kinds.get(day)
        if kind is None:
            kind = self._kinds[day] = self._compute_day_kind(day)
        return kind

    def _compute_day_kind(self, day: date) -> DayKind:
        if day in self._overrides:
            is_workday, name = self._overrides[day]
            return DayKind(is_workday, name or ("" if is_workday else DAY_OFF), "override")
        if day.year in PACKAGE_YEARS:
            is_holiday, english = chinese_calendar.get_holiday_detail(day)
            weekend = day.weekday() >= 5
            if not is_holiday:
                # A weekday is a plain working day; a weekend the package lists as working is 调休.
                return DayKind(True, ADJUSTED_WORKDAY if weekend else "", "package")
            name = _PACKAGE_NAMES.get(english, english) if english else WEEKEND
            return DayKind(False, name, "package")
        estimated = _estimated_days_off(day.year)
        if day in estimated:
            return DayKind(False, estimated[day], "statutory")
        if day.weekday() >= 5:
            return DayKind(False, WEEKEND, "weekday")
        return DayKind(True, "", "weekday")

    def is_workday(self, day: date) -> bool:
        return self.day_kind(day).is_workday

    def _windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working windows of ``day`` as aware moments (none on a day off)."""
        if not self.is_workday(day):
            return []
        return [
            (datetime.combine(day, b, tzinfo=TIME_ZONE), datetime.combine(day, e, tzinfo=TIME_ZONE))
            for b, e in self.windows
        ]

    # -- working time -------------------------------------------------------------------------------

    def add_business_minutes(self, start: datetime, minutes: int) -> datetime:
        """The moment when ``minutes`` working minutes have passed since ``start``, in Asia/Shanghai.

        Outside working time the count starts at the next working window. Ending exactly at the end of
        a window gives that end (9:00 + 180 minutes is 12:00, not 13:00). ``minutes == 0`` gives
        ``start`` itself (in Asia/Shanghai). Whole working days are skipped at once."""
        local = _local(start, "start")
        _check_minutes(minutes)
        if minutes == 0:
            return local
        remaining = timedelta(minutes=minutes)
        day = local.date()
        for _ in range(_MAX_DAYS):
            if not self.is_workday(day):
                pass
            elif day > local.date() and remaining > self._day_length:
                remaining -= self._day_length
            else:
                for begin, end in self._windows_on(day):
                    begin = max(begin, local)
                    if begin >= end:
                        continue
                    if begin + remaining <= end:
                        return begin + remaining
                    remaining -= end - begin
            day += timedelta(days=1)
        raise ValueError(f"no {minutes} working minutes within {_MAX_DAYS} days after {local.isoformat()}")

    def business_minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole working minutes in [start, end); negative (same magnitude) when ``end`` is before
        ``start``. The inverse of :meth:`add_business_minutes`."""
        lo, hi = _local(start, "start"), _local(end, "end")
        if hi < lo:
            return -self.business_minutes_between(end, start)
        total = timedelta(0)
        day, last = lo.date(), hi.date()
        while day <= last:
            if lo.date() < day < last:
                if self.is_workday(day):
                    total += self._day_length
            else:
                for begin, finish in self._windows_on(day):
                    overlap = min(finish, hi) - max(begin, lo)
                    if overlap > timedelta(0):
                        total += overlap
            day += timedelta(days=1)
        return total // _MINUTE


def deadline(start: datetime, minutes: int, *, business_hours: bool, calendar: WorkCalendar) -> datetime:
    """When a commitment of ``minutes`` made at ``start`` falls due (SVC-5): on calendar time
    ``start + minutes``, on business hours after that many working minutes. Aware, in Asia/Shanghai."""
    if business_hours:
        return calendar.add_business_minutes(start, minutes)
    local = _local(start, "start")
    _check_minutes(minutes)
    return local + timedelta(minutes=minutes)


def minutes_between(start: datetime, end: datetime, *, business_hours: bool, calendar: WorkCalendar) -> int:
    """Minutes from ``start`` to ``end`` (negative when ``end`` is earlier): on calendar time whole
    minutes, rounded toward zero; on business hours the working minutes in between."""
    if business_hours:
        return calendar.business_minutes_between(start, end)
    delta = _local(end, "end") - _local(start, "start")
    whole = abs(delta) // _MINUTE
    return whole if delta >= timedelta(0) else -whole
