"""Pure rules of quotations (SAL-5): amounts, discounts, margins, 大写 and meaningful titles."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.core.errors import ValidationError
from kehu.sales.quotes.rules import (
    LineFigures,
    amount_in_words,
    check_title,
    clean_components,
    discount_needs_approval,
    effective_discount,
    line_amount,
    margin_of,
    quote_totals,
    unit_cost_of,
)


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("12000", "人民币壹万贰仟元整"),
        ("12345.67", "人民币壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100.05", "人民币壹佰元零伍分"),
        ("1000000", "人民币壹佰万元整"),
        ("0", "人民币零元整"),
    ],
)
def test_amounts_in_words_are_written_rmb_style(amount: str, words: str) -> None:
    assert amount_in_words(D(amount)) == words


@pytest.mark.parametrize(
    "title", ["报价单", " 报价单 ", "报价单2026-03", "Quotation No.3", "报价", "价格表（第2版）", ""]
)
def test_a_title_that_only_says_quote_is_refused(title: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_title(title)
    assert caught.value.field == "title"


@pytest.mark.parametrize("title", ["二期产线伺服电机报价", "华为 PLC 改造报价单", "Servo motors for line 2"])
def test_a_title_naming_what_is_offered_is_kept(title: str) -> None:
    assert check_title(title) == title


def test_line_amount_applies_the_discount_and_rounds_half_up() -> None:
    assert line_amount(unit_price=D("1000"), quantity=D("12"), discount=D("0")) == D("12000.00")
    assert line_amount(unit_price=D("99.99"), quantity=D("3"), discount=D("5")) == D("284.97")
    assert line_amount(unit_price=D("0.05"), quantity=D("1"), discount=D("10")) == D("0.05")  # 0.045 → 0.05


def test_unit_cost_is_the_sum_of_components_else_the_catalogue_cost() -> None:
    assert unit_cost_of({"material": D("50"), "freight": D("2.5"), "duty": D("1.25")}, D("10")) == D("53.75")
    assert unit_cost_of({}, D("10")) == D("10.00")
    with pytest.raises(ValidationError):
        clean_components({"bribes": "1"})
    with pytest.raises(ValidationError):
        clean_components({"material": "-1"})


def test_margin_is_a_fraction_of_the_amount_and_none_for_a_free_line() -> None:
    assert margin_of(amount=D("1000"), cost=D("600")) == D("0.4000")
    assert margin_of(amount=D("1000"), cost=D("1200")) == D("-0.2000")
    assert margin_of(amount=D("0"), cost=D("10")) is None


def test_a_price_below_list_counts_as_a_discount_for_approval() -> None:
    assert effective_discount(list_price=D("100"), unit_price=D("80"), discount=D("0")) == D("20.00")
    assert effective_discount(list_price=D("100"), unit_price=D("100"), discount=D("15")) == D("15.00")
    assert effective_discount(list_price=D("100"), unit_price=D("120"), discount=D("5")) == D("5")
    assert discount_needs_approval(max_discount=D("10.01"), threshold=D("10"))
    assert not discount_needs_approval(max_discount=D("10"), threshold=D("10"))


def test_quote_totals() -> None:
    totals = quote_totals([
        LineFigures(list_price=D("100"), unit_price=D("100"), quantity=D("12"), discount=D("5"), unit_cost=D("60")),
        LineFigures(list_price=D("2500"), unit_price=D("2500"), quantity=D("2"), discount=D("0"), unit_cost=D("1550")),
    ])  # fmt: skip
    assert totals.subtotal == D("6200.00")
    assert totals.total == D("6140.00")
    assert totals.discount_amount == D("60.00")
    assert totals.cost_total == D("3820.00")
    assert totals.margin == D("0.3779")
    assert totals.max_discount == D("5.00")


@settings(deadline=None)  # a loaded test machine must not turn a slow example into a failure
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value=0, max_value=10**6, places=2),
            st.decimals(min_value=D("0.001"), max_value=10**4, places=3),
            st.decimals(min_value=0, max_value=100, places=2),
        ),
        max_size=8,
    )
)
def test_the_total_is_the_sum_of_line_amounts_and_never_above_the_subtotal(
    lines: list[tuple[D, D, D]],
) -> None:
    figures = [
        LineFigures(list_price=p, unit_price=p, quantity=q, discount=d, unit_cost=D("0")) for p, q, d in lines
    ]
    totals = quote_totals(figures)
    assert totals.total == sum(
        (line_amount(unit_price=p, quantity=q, discount=d) for p, q, d in lines), D("0")
    )
    assert totals.total <= totals.subtotal + D("0.01") * len(lines)
    assert totals.discount_amount == totals.subtotal - totals.total
