"""The Chinese lunar calendar (农历), on lunar-python: converting lunar month-days to solar dates.

Birthdays and festivals are often kept in the lunar calendar (architecture.md: dates that are lunar are
stored as lunar — month, day and whether the month is a leap month 闰月). What a reminder needs is the
solar date such a day falls on in a given year. Two cases have no literal answer and follow custom:

- born in a leap month (闰四月) — most years have no such leap month, so the birthday is kept in the
  ordinary month of the same number (四月);
- born on the 30th of a month — lunar months have 29 or 30 days, so in a 29-day month the birthday is
  kept on its last day (廿九).

Pure functions, no database. Each lunar year's month table is computed once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from lunar_python import LunarYear, Solar

# Names as written in Chinese (lunar-python's tables): 正月 … 冬月 腊月, 初一 … 三十.
MONTH_NAMES = ("", "正", "二", "三", "四", "五", "六", "七", "八", "九", "十", "冬", "腊")
DAY_NAMES = (
    "", "初一", "初二", "初三", "初四", "初五", "初六", "初七", "初八", "初九", "初十",
    "十一", "十二", "十三", "十四", "十五", "十六", "十七", "十八", "十九", "二十",
    "廿一", "廿二", "廿三", "廿四", "廿五", "廿六", "廿七", "廿八", "廿九", "三十",
)  # fmt: skip
# Other ways people write the months (十一月 for 冬月, 十二月 for 腊月, 一月 for 正月).
_MONTH_ALIASES = {"一": 1, "十一": 11, "十二": 12, "元": 1}
_DAY_ALIASES = {"二十": 20, "廿": 20, "三十": 30, "卅": 30}

# lunar-python covers these lunar years; birthdays and reminders stay well inside.
FIRST_YEAR, LAST_YEAR = 1901, 2099


@dataclass(frozen=True)
class LunarDay:
    """A day of the lunar calendar without a year: month 1–12, day 1–30, ``leap`` for a 闰月."""

    month: int
    day: int
    leap: bool = False

    def __post_init__(self) -> None:
        if not (1 <= self.month <= 12 and 1 <= self.day <= 30):
            raise ValueError(f"not a lunar month-day: {self.month}-{self.day}")

    @property
    def label(self) -> str:
        """As written: 农历八月十五, 农历闰四月初一, 农历腊月廿九."""
        return f"农历{'闰' if self.leap else ''}{MONTH_NAMES[self.month]}月{DAY_NAMES[self.day]}"


@lru_cache(maxsize=256)
def _months(lunar_year: int) -> dict[int, tuple[date, int]]:
    """Lunar year → {month: (solar date of its first day, days)}; leap months have negative numbers."""
    if not FIRST_YEAR <= lunar_year <= LAST_YEAR:
        raise ValueError(f"lunar year {lunar_year} outside {FIRST_YEAR}–{LAST_YEAR}")
    table: dict[int, tuple[date, int]] = {}
    for m in LunarYear(lunar_year).getMonthsInYear():
        first = Solar.fromJulianDay(m.getFirstJulianDay())
        table[m.getMonth()] = (date(first.getYear(), first.getMonth(), first.getDay()), m.getDayCount())
    return table


def leap_month(lunar_year: int) -> int:
    """The leap month of ``lunar_year`` (e.g. 6 for 闰六月 in 2025), 0 when it has none."""
    return next((-m for m in _months(lunar_year) if m < 0), 0)


def month_days(lunar_year: int, month: int, leap: bool = False) -> int:
    """Days (29 or 30) of that month; ``leap`` asks for the leap month, which must exist."""
    return _months(lunar_year)[-month if leap else month][1]


def to_solar(lunar_year: int, day: LunarDay) -> date:
    """The solar date of ``day`` in ``lunar_year``, by the customs above: a leap-month day falls in the
    ordinary month when the year has no such leap month; day 30 of a 29-day month is its 29th."""
    months = _months(lunar_year)
    key = -day.month if day.leap and -day.month in months else day.month
    first, days = months[key]
    return first + timedelta(days=min(day.day, days) - 1)


def from_solar(d: date) -> tuple[int, LunarDay]:
    """The lunar year and day of a solar date (2026-02-17 → 2026, 正月初一)."""
    for lunar_year in (d.year, d.year - 1):  # 正月初一 is never before 21 January
        for month, (first, days) in _months(lunar_year).items():
            if first <= d < first + timedelta(days=days):
                return lunar_year, LunarDay(abs(month), (d - first).days + 1, month < 0)
    raise AssertionError(f"{d} is in no lunar month")  # pragma: no cover - the calendar is contiguous


def in_solar_year(solar_year: int, day: LunarDay) -> date:
    """This year's lunar ``day``: its date in the lunar year that begins in ``solar_year`` (so 腊月
    days of that lunar year may fall in January of the next solar year)."""
    return to_solar(solar_year, day)


def next_on_or_after(day: LunarDay, on: date) -> date:
    """The first solar date on or after ``on`` that is ``day`` in the lunar calendar."""
    # Lunar year Y-1 runs into January/February of Y; lunar year Y+1 starts after any date of Y.
    for lunar_year in (on.year - 1, on.year, on.year + 1):
        candidate = to_solar(lunar_year, day)
        if candidate >= on:
            return candidate
    raise AssertionError("unreachable: lunar year Y+1 starts after every date of solar year Y")


def parse_month(value: object) -> tuple[int, bool] | None:
    """A lunar month as people write it: 8, "8", "八", "八月", "闰四月", "冬月", "腊月", "十一月".
    Returns (month, leap) or None when it is not one."""
    text = str(value).strip()
    leap = text.startswith("闰")
    text = text.removeprefix("闰").removesuffix("月").strip()
    if text.isdigit():
        month = int(text)
    elif text in _MONTH_ALIASES:
        month = _MONTH_ALIASES[text]
    elif text in MONTH_NAMES[1:]:
        month = MONTH_NAMES.index(text)
    else:
        return None
    return (month, leap) if 1 <= month <= 12 else None


def parse_day(value: object) -> int | None:
    """A lunar day: 15, "15", "十五", "初一", "廿三", "三十"; None when it is not one."""
    text = str(value).strip().removesuffix("日")
    if text.isdigit():
        day = int(text)
    elif text in DAY_NAMES[1:]:
        day = DAY_NAMES.index(text)
    elif text in _DAY_ALIASES:
        day = _DAY_ALIASES[text]
    else:
        return None
    return day if 1 <= day <= 30 else None
