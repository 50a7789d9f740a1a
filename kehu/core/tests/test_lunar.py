"""The lunar calendar (core.lunar): known dates from the published calendar, the customs for leap-month
and 30th-day births, and properties over every lunar day of a century of years."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core import lunar
from kehu.core.lunar import LunarDay

lunar_days = st.builds(LunarDay, month=st.integers(1, 12), day=st.integers(1, 30), leap=st.booleans())
solar_dates = st.dates(min_value=date(1950, 1, 1), max_value=date(2090, 12, 31))


@pytest.mark.parametrize(
    ("lunar_year", "day", "expected"),
    [
        (2026, LunarDay(1, 1), date(2026, 2, 17)),  # 春节 2026
        (2025, LunarDay(1, 1), date(2025, 1, 29)),  # 春节 2025
        (2026, LunarDay(8, 15), date(2026, 9, 25)),  # 中秋 2026
        (2025, LunarDay(8, 15), date(2025, 10, 6)),  # 中秋 2025
        (2026, LunarDay(5, 5), date(2026, 6, 19)),  # 端午 2026
        (2025, LunarDay(6, 1, leap=True), date(2025, 7, 25)),  # 闰六月初一 2025
        (2025, LunarDay(6, 1), date(2025, 6, 25)),  # 六月初一 2025, the ordinary month
    ],
)
def test_known_dates_of_the_published_calendar(lunar_year: int, day: LunarDay, expected: date) -> None:
    assert lunar.to_solar(lunar_year, day) == expected
    assert lunar.from_solar(expected) == (lunar_year, day)


def test_a_leap_month_birthday_is_kept_in_the_ordinary_month_when_the_year_has_no_such_leap_month() -> None:
    assert lunar.leap_month(2025) == 6 and lunar.leap_month(2026) == 0
    born = LunarDay(6, 1, leap=True)
    assert lunar.to_solar(2026, born) == lunar.to_solar(2026, LunarDay(6, 1)) == date(2026, 7, 14)


def test_the_30th_in_a_29_day_month_is_its_last_day() -> None:
    assert lunar.month_days(2026, 12) == 29  # 腊月 of 2026 is short: 除夕 is 廿九
    assert lunar.to_solar(2026, LunarDay(12, 30)) == date(2027, 2, 5)  # the eve of 春节 2027 (6 February)
    assert lunar.to_solar(2026, LunarDay(12, 30)) == lunar.to_solar(2026, LunarDay(12, 29))


def test_the_next_celebration_may_be_this_lunar_year_or_the_one_running_into_january() -> None:
    assert lunar.next_on_or_after(LunarDay(8, 15), date(2026, 9, 25)) == date(2026, 9, 25)
    assert lunar.next_on_or_after(LunarDay(8, 15), date(2026, 9, 26)) == date(2027, 9, 15)
    # 腊月初一 of lunar year 2025 falls in January 2026.
    assert lunar.next_on_or_after(LunarDay(12, 1), date(2026, 1, 1)) == date(2026, 1, 19)


def test_labels_are_written_as_on_a_calendar() -> None:
    assert LunarDay(8, 15).label == "农历八月十五"
    assert LunarDay(4, 1, leap=True).label == "农历闰四月初一"
    assert LunarDay(12, 29).label == "农历腊月廿九"


@pytest.mark.parametrize(
    ("text", "expected"),
    [(8, (8, False)), ("8", (8, False)), ("八月", (8, False)), ("闰四月", (4, True)), ("冬月", (11, False)),
     ("腊", (12, False)), ("十二月", (12, False)), ("正月", (1, False)), ("13", None), ("月", None)],
)  # fmt: skip
def test_months_are_read_as_people_write_them(text: object, expected: tuple[int, bool] | None) -> None:
    assert lunar.parse_month(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [(15, 15), ("十五", 15), ("初一", 1), ("廿三", 23), ("三十", 30), ("31", None), ("x", None)],
)
def test_days_are_read_as_people_write_them(text: object, expected: int | None) -> None:
    assert lunar.parse_day(text) == expected


def test_a_month_day_outside_the_calendar_is_refused() -> None:
    with pytest.raises(ValueError):
        LunarDay(13, 1)
    with pytest.raises(ValueError):
        LunarDay(1, 31)


@settings(max_examples=300, deadline=None)
@given(day=lunar_days, lunar_year=st.integers(1950, 2090))
def test_the_solar_date_is_that_lunar_day_or_its_customary_stand_in(day: LunarDay, lunar_year: int) -> None:
    solar = lunar.to_solar(lunar_year, day)
    year, found = lunar.from_solar(solar)
    assert year == lunar_year
    leap = day.leap and lunar.leap_month(lunar_year) == day.month
    assert (found.month, found.leap) == (day.month, leap)
    assert found.day == min(day.day, lunar.month_days(lunar_year, day.month, leap))


@settings(max_examples=300, deadline=None)
@given(day=lunar_days, on=solar_dates)
def test_the_next_celebration_is_the_first_on_or_after_the_day(day: LunarDay, on: date) -> None:
    when = lunar.next_on_or_after(day, on)
    assert on <= when < on + timedelta(days=400)
    year, _found = lunar.from_solar(when)
    assert lunar.to_solar(year, day) == when
    # No celebration lies between: the one before it (the previous lunar year's) is before ``on``.
    assert lunar.to_solar(year - 1, day) < on


@settings(max_examples=200, deadline=None)
@given(solar=solar_dates)
def test_solar_to_lunar_and_back_is_the_same_day(solar: date) -> None:
    from lunar_python import Lunar, Solar

    year, day = lunar.from_solar(solar)
    assert lunar.to_solar(year, day) == solar
    reference = Lunar.fromSolar(Solar.fromYmd(solar.year, solar.month, solar.day))  # lunar-python's own
    assert (reference.getYear(), abs(reference.getMonth()), reference.getDay(), reference.getMonth() < 0) == (
        year,
        day.month,
        day.day,
        day.leap,
    )
