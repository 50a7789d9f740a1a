"""Pure rules of SAL-6/SAL-7: aging buckets, matching, amounts, the tax number."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import uscc

from kehu.core.errors import ValidationError
from kehu.orders.choices import AgingBucket, OrderStatus
from kehu.orders.rules import (
    aging_bucket,
    check_matches,
    line_total,
    money,
    normalize_tax_number,
    order_status_after_shipping,
    plan_fits,
    tax_of,
)

TODAY = date(2026, 12, 1)
D = Decimal


@pytest.mark.parametrize(
    ("days_overdue", "bucket"),
    [(-10, AgingBucket.CURRENT), (0, AgingBucket.CURRENT), (1, AgingBucket.D1_30), (30, AgingBucket.D1_30),
     (31, AgingBucket.D31_60), (60, AgingBucket.D31_60), (61, AgingBucket.D61_90), (90, AgingBucket.D61_90),
     (91, AgingBucket.D90_PLUS), (400, AgingBucket.D90_PLUS)],
)  # fmt: skip
def test_an_instalment_falls_into_its_aging_bucket_by_days_past_due(days_overdue: int, bucket: str) -> None:
    assert aging_bucket(TODAY - timedelta(days=days_overdue), TODAY) == bucket


@given(st.integers(min_value=-1000, max_value=1000), st.integers(min_value=0, max_value=1000))
def test_buckets_never_get_younger_as_time_passes(offset: int, later: int) -> None:
    order = [b.value for b in AgingBucket]
    due = TODAY + timedelta(days=offset)
    assert order.index(aging_bucket(due, TODAY)) <= order.index(
        aging_bucket(due, TODAY + timedelta(days=later))
    )


def test_matches_within_room_and_payment_pass() -> None:
    check_matches(payment_amount=D("100"), matches={1: D("60"), 2: D("40")}, room={1: D("60"), 2: D("50")})


@pytest.mark.parametrize(
    ("matches", "room", "amount"),
    [({1: D("61")}, {1: D("60")}, D("100")),  # more than the instalment still lacks
     ({1: D("60"), 2: D("50")}, {1: D("60"), 2: D("50")}, D("100")),  # more than the payment
     ({1: D("0")}, {1: D("60")}, D("100")),  # nothing
     ({9: D("10")}, {1: D("60")}, D("100"))],  # another contract's instalment
)  # fmt: skip
def test_over_matching_and_foreign_instalments_are_refused_naming_matches(
    matches: dict[int, Decimal], room: dict[int, Decimal], amount: Decimal
) -> None:
    with pytest.raises(ValidationError) as err:
        check_matches(payment_amount=amount, matches=matches, room=room)
    assert err.value.field == "matches"


def test_a_plan_may_ask_for_the_contract_amount_but_not_more() -> None:
    assert plan_fits(D("100"), [D("30"), D("70")])
    assert not plan_fits(D("100"), [D("30"), D("70.01")])


def test_amounts_are_two_decimal_non_negative_numbers() -> None:
    assert money("1,234.5", field="amount") == D("1234.50")
    for bad in ("abc", "-1", "", None, "1e20"):
        with pytest.raises(ValidationError) as err:
            money(bad, field="amount")
        assert err.value.field == "amount"
    with pytest.raises(ValidationError):
        money("0", field="amount", allow_zero=False)


def test_line_total_and_vat_inside_a_tax_inclusive_amount() -> None:
    assert line_total(D("12.50"), D("3")) == D("37.50")
    assert tax_of(D("113.00"), D("13")) == D("13.00")


@pytest.mark.parametrize(
    ("lines", "delivered", "status"),
    [([(D("5"), D("0"))], False, OrderStatus.IN_PRODUCTION), ([(D("5"), D("2"))], False, OrderStatus.PARTLY_SHIPPED),
     ([(D("5"), D("5")), (D("1"), D("0"))], False, OrderStatus.PARTLY_SHIPPED),
     ([(D("5"), D("5"))], False, OrderStatus.SHIPPED), ([(D("5"), D("5"))], True, OrderStatus.DELIVERED)],
)  # fmt: skip
def test_order_progress_follows_what_was_shipped_and_signed_for(
    lines: list, delivered: bool, status: str
) -> None:
    assert order_status_after_shipping(OrderStatus.IN_PRODUCTION, lines, delivered) == status


def test_the_tax_number_is_checked_as_a_unified_social_credit_code() -> None:
    valid = "91330100" + "MA2XXXXX0"
    valid = valid + uscc.calc_check_digit(valid)
    assert normalize_tax_number(f" {valid.lower()} ") == valid
    wrong = valid[:-1] + ("0" if valid[-1] != "0" else "1")
    with pytest.raises(ValidationError) as err:
        normalize_tax_number(wrong)
    assert err.value.field == "tax_number"


def test_older_15_and_20_character_tax_numbers_pass_and_odd_lengths_do_not() -> None:
    assert normalize_tax_number("330106123456789") == "330106123456789"
    assert normalize_tax_number("") == ""
    with pytest.raises(ValidationError):
        normalize_tax_number("12345")
