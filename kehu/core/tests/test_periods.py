"""Report periods (core.periods): 今天 / 本周 / 本月 / 本季度 / 本年 / from–to, and chart buckets."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.errors import ValidationError
from kehu.core.periods import period_range

TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [
        ("today", date(2026, 12, 1), date(2026, 12, 1)),
        ("week", date(2026, 11, 30), date(2026, 12, 6)),
        ("month", date(2026, 12, 1), date(2026, 12, 31)),
        ("quarter", date(2026, 10, 1), date(2026, 12, 31)),
        ("year", date(2026, 1, 1), date(2026, 12, 31)),
        (None, date(2026, 12, 1), date(2026, 12, 31)),  # the default: this month
    ],
)
def test_named_periods_around_today(period: str | None, start: date, end: date) -> None:
    span = period_range(period, today=TODAY)
    assert (span.start, span.end) == (start, end)


def test_a_custom_period_takes_from_and_to() -> None:
    span = period_range("custom", today=TODAY, start="2026-02-01", end="2026-02-28")
    assert (span.start, span.end, span.days, span.by_month) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
        28,
        False,
    )
    assert len(span.buckets()) == 28


def test_long_periods_are_charted_by_month() -> None:
    span = period_range("year", today=TODAY)
    assert span.by_month and span.buckets()[0] == date(2026, 1, 1) and len(span.buckets()) == 12


@pytest.mark.parametrize(
    ("period", "start", "end", "field"),
    [
        ("fortnight", None, None, "period"),
        ("custom", None, "2026-01-01", "from"),
        ("custom", "2026-01-01", None, "to"),
        ("custom", "2026-13-01", "2026-12-01", "from"),
        ("custom", "2026-02-01", "2026-01-01", "to"),
        ("custom", "2020-01-01", "2026-01-01", "to"),
    ],
)
def test_bad_periods_name_the_field(period: str, start: str | None, end: str | None, field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        period_range(period, today=TODAY, start=start, end=end)
    assert refused.value.field == field


@given(today=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
       period=st.sampled_from(["today", "week", "month", "quarter", "year"]))  # fmt: skip
def test_every_named_period_contains_today_and_its_buckets_cover_it(today: date, period: str) -> None:
    span = period_range(period, today=today)
    assert span.start <= today <= span.end
    buckets = span.buckets()
    assert buckets[0] <= span.start and buckets[-1] <= span.end and buckets == sorted(set(buckets))
