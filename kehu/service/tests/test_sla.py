"""The business-hours calendar (service.sla, SVC-5): the published 2026 arrangement as chinesecalendar
has it, the statutory estimate for 2027, overrides, working windows with a lunch break, and the two
directions of working time (add minutes / measure minutes) checked against each other and against a
minute-by-minute reference. No database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core import lunar
from kehu.core.lunar import LunarDay
from kehu.service import sla
from kehu.service.sla import TIME_ZONE, DayKind, WorkCalendar, deadline, minutes_between, statutory_holidays

CAL = WorkCalendar()


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    """A moment in Asia/Shanghai."""
    return datetime(y, m, d, hh, mm, tzinfo=TIME_ZONE)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def reference_add(calendar: WorkCalendar, start: datetime, minutes: int) -> datetime:
    """Minute by minute: the slow, obviously right answer (start on whole minutes)."""
    t = start.astimezone(TIME_ZONE)
    while minutes:
        if calendar.is_workday(t.date()) and any(b <= t.time() < e for b, e in calendar.windows):
            minutes -= 1
        t += timedelta(minutes=1)
    return t


# -- the 2026 arrangement (chinesecalendar) ------------------------------------------------------------


def test_2026_february_14_a_saturday_is_an_adjusted_working_day() -> None:
    assert date(2026, 2, 14).weekday() == 5
    assert CAL.day_kind(date(2026, 2, 14)) == DayKind(True, "调休上班", "package")
    assert CAL.day_kind(date(2026, 2, 28)) == DayKind(True, "调休上班", "package")
    assert CAL.day_kind(date(2026, 3, 7)) == DayKind(False, "周末", "package")  # a plain Saturday
    assert CAL.day_kind(date(2026, 3, 9)) == DayKind(True, "", "package")


def test_2026_spring_festival_is_nine_days_off_from_15_to_23_february() -> None:
    for day in days(date(2026, 2, 15), date(2026, 2, 23)):
        assert CAL.day_kind(day) == DayKind(False, "春节", "package"), day
    assert CAL.is_workday(date(2026, 2, 13)) and CAL.is_workday(date(2026, 2, 24))


def test_2026_mid_autumn_and_national_day_as_the_package_has_them() -> None:
    # 中秋 falls on Friday 25 September 2026: 25–27 off; 国庆 1–7 October, with Sunday 20 September and
    # Saturday 10 October worked.
    assert [CAL.day_kind(d).name for d in days(date(2026, 9, 25), date(2026, 9, 27))] == ["中秋节"] * 3
    assert [CAL.day_kind(d).name for d in days(date(2026, 10, 1), date(2026, 10, 7))] == ["国庆节"] * 7
    assert not any(CAL.is_workday(d) for d in days(date(2026, 9, 25), date(2026, 9, 27)))
    assert not any(CAL.is_workday(d) for d in days(date(2026, 10, 1), date(2026, 10, 7)))
    assert all(CAL.is_workday(d) for d in days(date(2026, 9, 28), date(2026, 9, 30)))
    assert CAL.day_kind(date(2026, 9, 20)) == DayKind(True, "调休上班", "package")
    assert CAL.day_kind(date(2026, 10, 10)) == DayKind(True, "调休上班", "package")
    assert CAL.is_workday(date(2026, 10, 8))


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        # A complaint on the afternoon of 中秋 (a holiday): counted from Monday 28 September 9:00.
        (at(2026, 9, 25, 17), 8 * 60, at(2026, 9, 28, 18)),
        # Thursday 17:00: one hour that day, then Monday 9:00–12:00, 13:00–17:00.
        (at(2026, 9, 24, 17), 8 * 60, at(2026, 9, 28, 17)),
        # The last hour before 国庆, then 8 October.
        (at(2026, 9, 30, 17), 8 * 60, at(2026, 10, 8, 17)),
        # Friday 13 February 17:00: one hour, then the 调休 Saturday 14 February.
        (at(2026, 2, 13, 17), 8 * 60, at(2026, 2, 14, 17)),
        # The last working hour before the nine-day Spring Festival and two hours across it.
        (at(2026, 2, 14, 17), 2 * 60, at(2026, 2, 24, 10)),
        # 24 working hours (three working days) from the first holiday morning.
        (at(2026, 2, 15, 10), 24 * 60, at(2026, 2, 26, 18)),
    ],
)
def test_business_minutes_across_the_2026_holidays(start: datetime, minutes: int, expected: datetime) -> None:
    result = CAL.add_business_minutes(start, minutes)
    assert result == expected
    assert result.tzinfo == TIME_ZONE
    assert reference_add(CAL, start, minutes) == expected
    assert CAL.business_minutes_between(start, result) == minutes


def test_package_years_and_its_festival_days_agree_with_the_lunar_computation() -> None:
    years = sla.PACKAGE_YEARS
    assert (years.start, years.stop) == (2004, 2027)  # chinesecalendar 1.11.0; a new release changes this
    # Since the 2008 revision 清明, 端午 and 中秋 are holidays: the package has them where lunar-python puts them.
    for year in range(2008, 2027):
        for day, name in statutory_holidays(year).items():
            if name in ("清明节", "端午节", "中秋节"):
                assert chinese_calendar.is_holiday(day), (year, day, name)
    # In force from 2025 (除夕 and the second day of 劳动节 added): every statutory day is off.
    for year in (2025, 2026):
        for day in statutory_holidays(year):
            assert not CAL.is_workday(day), day
            assert CAL.day_kind(day).source == "package"


# -- years the package does not cover: the statutory estimate ------------------------------------------


def test_2027_statutory_holidays() -> None:
    assert lunar.from_solar(date(2027, 2, 6)) == (2027, LunarDay(1, 1))  # 正月初一
    assert lunar.from_solar(date(2027, 2, 5)) == (2026, LunarDay(12, 29))  # 腊月廿九 is 除夕 (29-day 腊月)
    assert lunar.month_days(2026, 12) == 29
    assert statutory_holidays(2027) == {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节",
        date(2027, 2, 6): "春节",
        date(2027, 2, 7): "春节",
        date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节",
        date(2027, 10, 2): "国庆节",
        date(2027, 10, 3): "国庆节",
    }


def test_statutory_holidays_of_other_years() -> None:
    h2026 = statutory_holidays(2026)
    assert [d for d, n in h2026.items() if n == "春节"] == days(date(2026, 2, 16), date(2026, 2, 19))
    assert [d for d, n in h2026.items() if n == "清明节"] == [date(2026, 4, 5)]
    assert len(h2026) == 13
    assert [d for d, n in statutory_holidays(2025).items() if n == "清明节"] == [date(2025, 4, 4)]
    # 中秋 on 3 October 2028 and 1 October 2031: one day, both names (12 days, not 13).
    h2028 = statutory_holidays(2028)
    assert h2028[date(2028, 10, 3)] == "中秋节、国庆节" and len(h2028) == 12
    assert statutory_holidays(2031)[date(2031, 10, 1)] == "中秋节、国庆节"
    h2028[date(2028, 10, 4)] = "changed"  # the caller's copy: the cache is not touched
    assert date(2028, 10, 4) not in statutory_holidays(2028)


def test_2027_days_are_estimated_from_the_law_with_make_up_days_for_weekends() -> None:
    assert 2027 not in sla.PACKAGE_YEARS, "chinesecalendar now has 2027: move these cases to a later year"
    kind = CAL.day_kind
    assert kind(date(2027, 2, 5)) == DayKind(False, "春节", "statutory")  # Friday, 除夕
    assert kind(date(2027, 2, 8)) == DayKind(False, "春节", "statutory")  # Monday, 初三
    # 初一 and 初二 are Saturday and Sunday: 第六条 gives Tuesday 9 and Wednesday 10 February instead.
    assert kind(date(2027, 2, 9)) == DayKind(False, "春节补假", "statutory")
    assert kind(date(2027, 2, 10)) == DayKind(False, "春节补假", "statutory")
    assert kind(date(2027, 2, 11)) == DayKind(True, "", "weekday")
    assert kind(date(2027, 5, 3)) == kind(date(2027, 5, 4)) == DayKind(False, "劳动节补假", "statutory")
    assert kind(date(2027, 10, 4)) == kind(date(2027, 10, 5)) == DayKind(False, "国庆节补假", "statutory")
    assert kind(date(2027, 10, 6)) == DayKind(True, "", "weekday")
    assert kind(date(2027, 4, 5)) == DayKind(False, "清明节", "statutory")  # a Monday: no make-up day
    assert kind(date(2027, 3, 6)) == DayKind(False, "周末", "weekday")
    assert kind(date(2027, 3, 8)) == DayKind(True, "", "weekday")
    # Friday 4 February 2027 17:00 + 8 working hours: one hour, then 5–10 February off, then Thursday.
    assert CAL.add_business_minutes(at(2027, 2, 4, 17), 480) == at(2027, 2, 11, 17)


def test_an_override_beats_the_package_and_the_rule() -> None:
    cal = WorkCalendar(
        overrides={
            date(2026, 2, 14): (False, "公司年会"),  # the package's 调休 Saturday, closed
            date(2026, 10, 2): (True, "值班"),  # in the package's 国庆
            date(2027, 2, 5): (True, ""),  # 除夕 2027 (statutory), worked
            date(2027, 2, 20): (True, "调休上班"),  # a 2027 Saturday, as the State Council may decide
            date(2027, 3, 9): (False, ""),  # a plain 2027 Tuesday, closed without a name
        }
    )
    assert cal.day_kind(date(2026, 2, 14)) == DayKind(False, "公司年会", "override")
    assert cal.day_kind(date(2026, 10, 2)) == DayKind(True, "值班", "override")
    assert cal.day_kind(date(2027, 2, 5)) == DayKind(True, "", "override")
    assert cal.day_kind(date(2027, 2, 20)) == DayKind(True, "调休上班", "override")
    assert cal.day_kind(date(2027, 3, 9)) == DayKind(False, "休息日", "override")
    assert cal.day_kind(date(2026, 2, 28)) == DayKind(True, "调休上班", "package")  # others unchanged
    # Working time follows: Friday 13 February 2026 17:00 + 2 hours now lands after Spring Festival.
    assert cal.add_business_minutes(at(2026, 2, 13, 17), 120) == at(2026, 2, 24, 10)
    assert CAL.add_business_minutes(at(2026, 2, 13, 17), 120) == at(2026, 2, 14, 10)
    assert cal.add_business_minutes(at(2026, 10, 1, 17), 120) == at(2026, 10, 2, 11)  # 1 October is off
    assert cal.business_minutes_between(at(2026, 10, 1), at(2026, 10, 8)) == 480


def test_overrides_must_be_keyed_by_dates() -> None:
    with pytest.raises(ValueError, match="override keys must be dates"):
        WorkCalendar(overrides={at(2026, 2, 14): (False, "x")})  # type: ignore[dict-item]


# -- working windows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (at(2026, 3, 10, 9), 180, at(2026, 3, 10, 12)),  # ends at the end of a window, not after lunch
        (at(2026, 3, 10, 9), 181, at(2026, 3, 10, 13, 1)),
        (at(2026, 3, 10, 11, 50), 20, at(2026, 3, 10, 13, 10)),  # across lunch
        (at(2026, 3, 10, 12, 30), 30, at(2026, 3, 10, 13, 30)),  # starting inside lunch
        (at(2026, 3, 10, 12), 1, at(2026, 3, 10, 13, 1)),
        (at(2026, 3, 10, 8), 60, at(2026, 3, 10, 10)),  # before hours
        (at(2026, 3, 10, 18), 1, at(2026, 3, 11, 9, 1)),  # at closing time
        (at(2026, 3, 10, 19), 60, at(2026, 3, 11, 10)),  # after hours
        (at(2026, 3, 13, 17, 30), 60, at(2026, 3, 16, 9, 30)),  # Friday evening → Monday
        (at(2026, 3, 14, 10), 60, at(2026, 3, 16, 10)),  # on a Saturday
        (at(2026, 10, 3, 10), 60, at(2026, 10, 8, 10)),  # on a holiday
        (at(2026, 3, 10, 9), 480, at(2026, 3, 10, 18)),  # a whole day
        (at(2026, 3, 10, 9), 481, at(2026, 3, 11, 9, 1)),
        # A working week from Tuesday 13:00 is used up at 12:00 next Tuesday: the earliest such moment.
        (at(2026, 3, 10, 13), 5 * 480, at(2026, 3, 17, 12)),
    ],
)
def test_add_business_minutes_in_the_default_windows(
    start: datetime, minutes: int, expected: datetime
) -> None:
    assert CAL.add_business_minutes(start, minutes) == expected
    assert reference_add(CAL, start, minutes) == expected


def test_other_windows() -> None:
    one = WorkCalendar(windows=[(time(8, 30), time(17, 30))])
    assert one.add_business_minutes(at(2026, 3, 10, 12), 60) == at(2026, 3, 10, 13)
    assert one.add_business_minutes(at(2026, 3, 10, 17), 60) == at(2026, 3, 11, 9)
    assert one.business_minutes_between(at(2026, 3, 10), at(2026, 3, 12)) == 2 * 540
    shifts = WorkCalendar(windows=[(time(8), time(11, 30)), (time(12), time(12, 15)), (time(14), time(20))])
    assert shifts.add_business_minutes(at(2026, 3, 10, 11), 40) == at(2026, 3, 10, 12, 10)
    assert shifts.add_business_minutes(at(2026, 3, 10, 11), 50) == at(2026, 3, 10, 14, 5)
    assert shifts.business_minutes_between(at(2026, 3, 10), at(2026, 3, 11)) == 210 + 15 + 360
    touching = WorkCalendar(windows=[(time(9), time(12)), (time(12), time(13))])  # adjacent is allowed
    assert touching.add_business_minutes(at(2026, 3, 10, 11), 120) == at(2026, 3, 10, 13)


@pytest.mark.parametrize(
    ("windows", "message"),
    [
        ([], "at least one window"),
        ([(time(12), time(9))], r"working window 1 \(12:00–09:00\): must end after it starts"),
        ([(time(9), time(9))], "must end after it starts"),
        ([(time(9), time(12)), (time(11), time(18))], r"working window 2 \(11:00–18:00\): overlaps"),
        ([(time(13), time(18)), (time(9), time(12))], "must be sorted"),
        ([(time(9, tzinfo=UTC), time(12, tzinfo=UTC))], "no tzinfo"),
        ([(9, 12)], "expected a pair of datetime.time"),
        ([(time(9), time(12), time(13))], "expected a pair of datetime.time"),
    ],
)
def test_windows_are_validated(windows: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkCalendar(windows=windows)


# -- moments: time zones, zero, naive, negative ------------------------------------------------------


def test_moments_in_utc_are_read_in_shanghai() -> None:
    # 17:00 UTC on Friday 13 February 2026 is 01:00 on the 调休 Saturday in Shanghai.
    start = datetime(2026, 2, 13, 17, tzinfo=UTC)
    result = CAL.add_business_minutes(start, 60)
    assert result == at(2026, 2, 14, 10) and result.utcoffset() == timedelta(hours=8)
    assert CAL.business_minutes_between(start, datetime(2026, 2, 14, 2, tzinfo=UTC)) == 60  # 10:00 local
    assert deadline(start, 60, business_hours=False, calendar=CAL) == at(2026, 2, 14, 2)
    assert deadline(start, 60, business_hours=False, calendar=CAL).tzinfo == TIME_ZONE


def test_zero_minutes_give_the_start_back_even_outside_working_time() -> None:
    for start in (at(2026, 2, 16, 3, 7), at(2026, 3, 10, 10, 30), datetime(2026, 3, 10, 1, tzinfo=UTC)):
        assert CAL.add_business_minutes(start, 0) == start
        assert deadline(start, 0, business_hours=True, calendar=CAL) == start


def test_naive_datetimes_are_refused() -> None:
    naive, aware = datetime(2026, 3, 10, 10), at(2026, 3, 10, 10)
    with pytest.raises(ValueError, match="start is a naive datetime"):
        CAL.add_business_minutes(naive, 60)
    with pytest.raises(ValueError, match="start is a naive datetime"):
        CAL.business_minutes_between(naive, aware)
    with pytest.raises(ValueError, match="end is a naive datetime"):
        CAL.business_minutes_between(aware, naive)
    for business_hours in (True, False):
        with pytest.raises(ValueError, match="naive"):
            deadline(naive, 60, business_hours=business_hours, calendar=CAL)
        with pytest.raises(ValueError, match="naive"):
            minutes_between(aware, naive, business_hours=business_hours, calendar=CAL)
        with pytest.raises(ValueError, match="naive"):
            minutes_between(naive, aware, business_hours=business_hours, calendar=CAL)


def test_minutes_must_be_a_non_negative_int() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        CAL.add_business_minutes(at(2026, 3, 10, 10), -1)
    with pytest.raises(ValueError, match="must not be negative"):
        deadline(at(2026, 3, 10, 10), -1, business_hours=False, calendar=CAL)
    with pytest.raises(TypeError):
        CAL.add_business_minutes(at(2026, 3, 10, 10), 1.5)  # type: ignore[arg-type]


def test_business_minutes_between() -> None:
    assert CAL.business_minutes_between(at(2026, 3, 10, 8), at(2026, 3, 10, 20)) == 480
    assert CAL.business_minutes_between(at(2026, 3, 10, 11, 30), at(2026, 3, 10, 13, 30)) == 60
    assert CAL.business_minutes_between(at(2026, 3, 10, 12, 10), at(2026, 3, 10, 12, 50)) == 0  # lunch
    assert CAL.business_minutes_between(at(2026, 3, 10, 10), at(2026, 3, 10, 10)) == 0
    # The week of 9 March 2026: five working days.
    assert CAL.business_minutes_between(at(2026, 3, 9), at(2026, 3, 16)) == 5 * 480
    # 14 February (调休 Saturday) to 24 February 2026: only the Saturday counts.
    assert CAL.business_minutes_between(at(2026, 2, 14), at(2026, 2, 24)) == 480
    # Seconds: [10:00:30, 10:02:00) is one and a half working minutes → 1.
    assert (
        CAL.business_minutes_between(at(2026, 3, 10, 10) + timedelta(seconds=30), at(2026, 3, 10, 10, 2)) == 1
    )


def test_negative_when_the_end_is_earlier() -> None:
    a, b = at(2026, 9, 24, 17), at(2026, 10, 8, 10, 30)
    assert CAL.business_minutes_between(a, b) == 60 + 3 * 480 + 90
    assert CAL.business_minutes_between(b, a) == -(60 + 3 * 480 + 90)
    assert minutes_between(b, a, business_hours=True, calendar=CAL) == -(60 + 3 * 480 + 90)
    # Calendar time: whole minutes toward zero, both ways.
    c, d = at(2026, 3, 10, 10), at(2026, 3, 10, 11, 30) + timedelta(seconds=59)
    assert minutes_between(c, d, business_hours=False, calendar=CAL) == 90
    assert minutes_between(d, c, business_hours=False, calendar=CAL) == -90
    assert minutes_between(c, datetime(2026, 3, 10, 3, tzinfo=UTC), business_hours=False, calendar=CAL) == 60


def test_deadline_on_calendar_time_ignores_holidays() -> None:
    start = at(2026, 9, 30, 17)
    assert deadline(start, 24 * 60, business_hours=False, calendar=CAL) == at(2026, 10, 1, 17)
    # Business: 1 hour on 30 September, 8 + 8 on 8 and 9 October, 7 on the 调休 Saturday 10 October.
    assert deadline(start, 24 * 60, business_hours=True, calendar=CAL) == at(2026, 10, 10, 17)
    assert minutes_between(start, at(2026, 10, 1, 17), business_hours=False, calendar=CAL) == 1440
    assert minutes_between(start, at(2026, 10, 1, 17), business_hours=True, calendar=CAL) == 60


# -- the two directions agree ---------------------------------------------------------------------------

DURATIONS = (1, 59, 60, 179, 180, 181, 479, 480, 481, 1000, 2400, 5000, 12345)


def test_measuring_what_was_added_gives_the_minutes_back() -> None:
    # Every 47 minutes from 10 February to 28 February 2026 (调休 Saturdays, the nine-day Spring Festival)
    # and from 18 September to 12 October 2026 (中秋, 国庆): lunch, evenings and holidays included.
    starts: list[datetime] = []
    for first, last in ((at(2026, 2, 10), at(2026, 2, 28)), (at(2026, 9, 18), at(2026, 10, 12))):
        t = first
        while t < last:
            starts.append(t)
            t += timedelta(minutes=47)
    assert len(starts) > 1000
    for start in starts:
        for minutes in DURATIONS:
            end = CAL.add_business_minutes(start, minutes)
            assert CAL.business_minutes_between(start, end) == minutes, (start, minutes)
            assert CAL.business_minutes_between(end, start) == -minutes
            # The moment is the earliest one: a minute earlier, a minute is missing.
            assert CAL.business_minutes_between(start, end - timedelta(minutes=1)) == minutes - 1


def test_against_the_minute_by_minute_reference_across_2026_and_2027() -> None:
    t = at(2026, 12, 28, 7, 13)
    while t < at(2027, 2, 15):
        for minutes in (1, 200, 481, 1500):
            assert CAL.add_business_minutes(t, minutes) == reference_add(CAL, t, minutes), (t, minutes)
        t += timedelta(hours=5, minutes=31)


@settings(max_examples=200, deadline=None)
@given(
    start=st.datetimes(
        min_value=datetime(2025, 12, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
    ),
    minutes=st.integers(0, 30 * 24 * 60),
)
def test_add_then_measure_is_the_identity(start: datetime, minutes: int) -> None:
    end = CAL.add_business_minutes(start, minutes)
    assert end >= start
    assert CAL.business_minutes_between(start, end) == minutes
    assert minutes_between(end, start, business_hours=True, calendar=CAL) == -minutes


@settings(max_examples=100, deadline=None)
@given(
    a=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(TIME_ZONE)
    ),
    span=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=60)),
)
def test_measure_then_add_never_passes_the_end(a: datetime, span: timedelta) -> None:
    b = a + span
    minutes = CAL.business_minutes_between(a, b)
    assert 0 <= minutes <= span // timedelta(minutes=1)
    assert CAL.add_business_minutes(a, minutes) <= b


def test_thirty_days_of_minutes_skip_whole_days(monkeypatch: pytest.MonkeyPatch) -> None:
    cal = WorkCalendar()
    walked: list[date] = []
    windows_on = cal._windows_on

    def counting(day: date) -> list[tuple[datetime, datetime]]:
        walked.append(day)
        return windows_on(day)

    monkeypatch.setattr(cal, "_windows_on", counting)
    # 30 × 24 × 60 minutes are 90 working days of 480: from Monday 1 March 2027 9:00 the 90th working
    # day (counted here day by day) ends at 18:00.
    start = at(2027, 3, 1, 9)
    workdays = [d for d in days(date(2027, 3, 1), date(2027, 12, 31)) if cal.is_workday(d)]
    assert cal.add_business_minutes(start, 30 * 24 * 60) == datetime.combine(
        workdays[89], time(18), TIME_ZONE
    )
    assert walked == [date(2027, 3, 1), workdays[89]]  # only the first and the last day walk windows
