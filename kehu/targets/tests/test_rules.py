"""Periods, values, completion and ranking of sales targets (SAL-8)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.core.errors import ValidationError
from kehu.targets.rules import (
    TargetPeriod,
    clean_period,
    clean_value,
    completion,
    parse_period_key,
    period_of,
    ranked,
)


def test_a_quarter_runs_from_its_first_to_its_last_day() -> None:
    q4 = TargetPeriod("quarter", 2026, 4)
    assert (q4.start, q4.end, q4.key) == (date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
    feb = TargetPeriod("month", 2028, 2)
    assert feb.end == date(2028, 2, 29)  # a leap year
    assert TargetPeriod("year", 2026, 1).end == date(2026, 12, 31)


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    st.sampled_from(["month", "quarter", "year"]),
)
def test_the_period_of_a_day_contains_it_and_its_key_reads_back(day: date, kind: str) -> None:
    period = period_of(kind, day)
    assert period.start <= day <= period.end
    assert parse_period_key(period.key) == period


@pytest.mark.parametrize(
    ("kind", "year", "number", "field"),
    [("week", 2026, 1, "period_kind"), ("month", "二〇二六", 1, "year"), ("month", 1999, 1, "year"),
     ("month", 2026, 13, "number"), ("quarter", 2026, 5, "number"), ("month", 2026, "x", "number")],
)  # fmt: skip
def test_a_bad_period_names_the_field_at_fault(kind: str, year: object, number: object, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        clean_period(kind, year, number)
    assert caught.value.field == field


def test_a_year_target_ignores_the_number_given() -> None:
    assert clean_period("year", 2026, 7) == TargetPeriod("year", 2026, 1)


def test_a_malformed_period_key_is_refused_naming_period() -> None:
    for key in ("2026-13", "2026-Q0", "abc", ""):
        with pytest.raises(ValidationError) as caught:
            parse_period_key(key)
        assert caught.value.field == "period"


def test_money_targets_keep_cents_and_counts_must_be_whole() -> None:
    assert clean_value("contract_amount", "1,250,000.456") == Decimal("1250000.46")
    assert clean_value("deals", "12") == Decimal("12")
    for metric, value in (("deals", "2.5"), ("deals", "0"), ("payment_amount", "-1"), ("deals", "十")):
        with pytest.raises(ValidationError) as caught:
            clean_value(metric, value)
        assert caught.value.field == "value"


def test_completion_is_a_percentage_with_one_decimal() -> None:
    assert completion(Decimal("1"), Decimal("3")) == Decimal("33.3")
    assert completion(Decimal("150"), Decimal("100")) == Decimal("150.0")
    assert completion(Decimal("5"), Decimal("0")) == Decimal("0")


@dataclass
class Row:
    name: str
    percent: Decimal
    rank: int = 0


def test_equal_completion_shares_a_rank_and_the_next_one_skips() -> None:
    rows = ranked(
        [Row("甲", Decimal(50)), Row("乙", Decimal(80)), Row("丙", Decimal(50)), Row("丁", Decimal(10))]
    )
    assert [(r.name, r.rank) for r in rows] == [("乙", 1), ("丙", 2), ("甲", 2), ("丁", 4)]
