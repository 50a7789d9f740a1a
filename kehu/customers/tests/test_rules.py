"""Derived classification (CUS-2): each rule gives a value at its boundaries and a reason a user can read."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.customers.rules import (
    ACTIVE_DAYS,
    LOYAL_MIN_ORDERS,
    LOYAL_YEARS,
    OrderFacts,
    area_code_key,
    derive_all,
    derive_deal_status,
    derive_loyalty,
    derive_status,
    derive_value_tier,
    needs_area_code,
    normalize_query,
    phone_key,
)

TODAY = date(2025, 6, 30)


def facts(
    *,
    first: date | None = None,
    last: date | None = None,
    orders: int = 0,
    revenue: str = "0",
    screened: bool = False,
    open_opportunity: bool = False,
) -> OrderFacts:
    return OrderFacts(
        first_order_date=first,
        last_order_date=last,
        order_count=orders,
        revenue_12m=Decimal(revenue),
        screened=screened,
        has_open_opportunity=open_opportunity,
    )


def days_ago(n: int) -> date:
    return TODAY - timedelta(days=n)


@pytest.mark.parametrize(
    ("revenue", "tier"),
    [
        ("0", "small"),
        ("19999.99", "small"),
        ("20000", "ordinary"),
        ("199999.99", "ordinary"),
        ("200000", "important"),
        ("999999.99", "important"),
        ("1000000", "vip"),
        ("250000000", "vip"),
    ],
)
def test_the_value_tier_follows_revenue_of_the_last_twelve_months_at_its_thresholds(
    revenue: str, tier: str
) -> None:
    derived = derive_value_tier(facts(revenue=revenue))
    assert derived.value == tier
    assert derived.reason


def test_the_value_tier_reason_quotes_the_revenue_and_the_threshold() -> None:
    reason = derive_value_tier(facts(revenue="1250000")).reason
    assert "¥1,250,000" in reason and "¥1,000,000" in reason


@pytest.mark.parametrize(
    ("first", "orders", "loyalty"),
    [
        (None, 0, "potential"),  # never ordered
        (days_ago(10), 0, "potential"),  # a date but no order counted
        (days_ago(0), 1, "new"),
        (days_ago(364), 3, "new"),  # just under a year
        (days_ago(365), 1, "old"),  # a full year
        (days_ago(LOYAL_YEARS * 365 - 1), 10, "old"),  # almost three years
        (days_ago(LOYAL_YEARS * 365), LOYAL_MIN_ORDERS - 1, "old"),  # three years but too few orders
        (days_ago(LOYAL_YEARS * 365), LOYAL_MIN_ORDERS, "loyal"),
        (days_ago(10 * 365), 50, "loyal"),
    ],
)
def test_loyalty_follows_tenure_and_order_count(first: date | None, orders: int, loyalty: str) -> None:
    derived = derive_loyalty(facts(first=first, orders=orders), today=TODAY)
    assert derived.value == loyalty
    assert derived.reason


@pytest.mark.parametrize(
    ("last", "screened", "status"),
    [
        (days_ago(0), False, "current"),
        (days_ago(ACTIVE_DAYS), False, "current"),  # still within 365 days
        (days_ago(ACTIVE_DAYS + 1), False, "lost"),
        (days_ago(ACTIVE_DAYS + 1), True, "lost"),  # screening does not revive a lost customer
        (None, True, "target"),
        (None, False, "potential"),
    ],
)
def test_status_is_current_within_a_year_of_the_last_order_and_lost_after(
    last: date | None, screened: bool, status: str
) -> None:
    derived = derive_status(facts(last=last, orders=1 if last else 0, screened=screened), today=TODAY)
    assert derived.value == status
    assert derived.reason


def test_the_lost_reason_says_how_long_the_customer_has_been_idle() -> None:
    assert (
        str(ACTIVE_DAYS + 30)
        in derive_status(facts(last=days_ago(ACTIVE_DAYS + 30), orders=1), today=TODAY).reason
    )


@pytest.mark.parametrize(
    ("orders", "open_opportunity", "deal"),
    [(1, False, "closed"), (7, True, "closed"), (0, True, "intent"), (0, False, "potential")],
)
def test_deal_status_is_closed_after_an_order_and_intent_while_negotiating(
    orders: int, open_opportunity: bool, deal: str
) -> None:
    derived = derive_deal_status(facts(orders=orders, open_opportunity=open_opportunity))
    assert derived.value == deal
    assert derived.reason


def test_derive_all_covers_the_four_derived_dimensions() -> None:
    result = derive_all(
        facts(first=days_ago(800), last=days_ago(30), orders=4, revenue="300000"), today=TODAY
    )
    assert {k: v.value for k, v in result.items()} == {
        "value_tier": "important",
        "loyalty": "old",
        "status": "current",
        "deal_status": "closed",
    }


_TIER_RANK = {"small": 0, "ordinary": 1, "important": 2, "vip": 3}


@given(
    a=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    b=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
)
def test_more_revenue_never_means_a_lower_tier(a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert (
        _TIER_RANK[derive_value_tier(facts(revenue=str(low))).value]
        <= _TIER_RANK[derive_value_tier(facts(revenue=str(high))).value]
    )


@given(
    first_days=st.one_of(st.none(), st.integers(min_value=0, max_value=20 * 365)),
    idle_days=st.integers(min_value=0, max_value=20 * 365),
    orders=st.integers(min_value=0, max_value=500),
    screened=st.booleans(),
    open_opportunity=st.booleans(),
)
def test_every_derived_value_comes_with_a_reason(
    first_days: int | None, idle_days: int, orders: int, screened: bool, open_opportunity: bool
) -> None:
    first = last = None
    if first_days is not None:
        first = days_ago(first_days)
        last = days_ago(min(idle_days, first_days)) if orders else None
    for derived in derive_all(
        facts(first=first, last=last, orders=orders, screened=screened, open_opportunity=open_opportunity),
        today=TODAY,
    ).values():
        assert derived.value
        assert derived.reason.strip()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("  HuaWei ", "huawei"),
        ("１３８", "138"),
        ("138-1234 5678", "13812345678"),
        ("华 为", "华为"),
        ("", ""),
    ],
)
def test_search_input_is_folded_the_way_search_keys_are_stored(typed: str, stored: str) -> None:
    assert normalize_query(typed) == stored


# --- phone keys for finding a caller (SVC-3) ---------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        # Mobiles, as telephony systems and people write them.
        ("13812345678", "13812345678"),
        ("+8613812345678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("(+86) 138 1234 5678", "13812345678"),
        ("013812345678", "13812345678"),  # an exchange's trunk 0 before a mobile from another city
        ("１３８１２３４５６７８", "13812345678"),  # full-width, from a Chinese input method
        # Landlines with their area code: the trunk 0 stays, the country code goes.
        ("010-12345678", "01012345678"),
        ("01012345678", "01012345678"),
        ("(010) 1234 5678", "01012345678"),
        ("（０１０）１２３４５６７８", "01012345678"),
        ("+86 10 1234 5678", "01012345678"),
        ("+86-10-12345678", "01012345678"),
        ("0086 10 12345678", "01012345678"),
        ("861012345678", "01012345678"),
        ("+86 (0)10 1234 5678", "01012345678"),
        ("+86 21 5555 1234", "02155551234"),
        ("021-5555 1234", "02155551234"),
        ("021.5555.1234", "02155551234"),
        ("057188886666", "057188886666"),
        ("0571 8888 6666", "057188886666"),
        ("+86-571-88886666", "057188886666"),
        ("0755-2345678", "07552345678"),  # a 7-digit local number behind a 3-digit area code
        # Extensions are dropped, however they are written.
        ("0571 8888 6666 转 123", "057188886666"),
        ("0571-88886666转123", "057188886666"),
        ("021-55551234 分机 8001", "02155551234"),
        ("021-55551234 ext. 12", "02155551234"),
        ("021-55551234 x12", "02155551234"),
        ("021-55551234#801", "02155551234"),
        ("0571-88886666-123", "057188886666"),  # as normalize_phone stores 转 123
        ("021-51234567-800", "02151234567"),
        ("tel:+86-21-5555-1234;ext=123", "02155551234"),
        # Words around the number, two numbers in one field: the first.
        ("Fax: 021-5555 1234", "02155551234"),
        ("总机 010-12345678", "01012345678"),
        ("021-55551234 / 13812345678", "02155551234"),
        ("021-55551234，021-55551235", "02155551234"),
        # Service numbers stay their digits.
        ("400-820-1234", "4008201234"),
        ("400 820 1234", "4008201234"),
        ("800-820-1234", "8008201234"),
        ("95555", "95555"),
        ("95105105", "95105105"),
        ("10086", "10086"),
        ("+86 95555", "95555"),
        # Local numbers without an area code stay as they are when none is given.
        ("12345678", "12345678"),
        ("5555 1234", "55551234"),
        ("5551234", "5551234"),
        # Another country keeps its country code, so it never equals a mainland number.
        ("+1 415 555 0100", "+14155550100"),
        ("001 415 555 0100", "+14155550100"),
        ("+852 2345 6789", "+85223456789"),
        # Nothing usable.
        ("", ""),
        ("   ", ""),
        ("无", ""),
        ("见备注", ""),
        ("123", ""),
        ("+86 123", ""),
        ("+", ""),
    ],
)
def test_phone_key_gives_the_national_form(raw: str, key: str) -> None:
    assert phone_key(raw) == key


@pytest.mark.parametrize(
    ("raw", "area", "key"),
    [
        ("12345678", "021", "02112345678"),
        ("55551234", "021", "02155551234"),
        ("55551234", "21", "02155551234"),
        ("88886666", "0571", "057188886666"),
        ("5551234", "0755", "07555551234"),
        ("5555 1234 转 8", "021", "02155551234"),
        # A number with its area code, a mobile or a service number ignores the local area code.
        ("010-12345678", "021", "01012345678"),
        ("+86 10 1234 5678", "021", "01012345678"),
        ("13812345678", "021", "13812345678"),
        ("95555", "021", "95555"),
        ("4008201234", "021", "4008201234"),
    ],
)
def test_a_local_number_takes_the_local_area_code(raw: str, area: str, key: str) -> None:
    assert phone_key(raw, local_area_code=area) == key
    # The area code is needed exactly when it changes the key.
    assert needs_area_code(phone_key(raw)) == (phone_key(raw) != key)


@pytest.mark.parametrize("area", ["1", "0", "abc", "01", "00021", "021-1"])
def test_a_malformed_local_area_code_is_refused(area: str) -> None:
    with pytest.raises(ValueError, match="area code"):
        phone_key("55551234", local_area_code=area)


def test_area_code_key_adds_the_trunk_zero() -> None:
    assert [area_code_key(c) for c in ("021", "21", "0571", "571", "010", "")] == [
        "021",
        "021",
        "0571",
        "0571",
        "010",
        "",
    ]


def test_the_caller_and_the_stored_number_meet_in_one_key() -> None:
    stored = ["021-5555 1234", "(021) 5555-1234 转 8", "+86 21 55551234", "021-55551234-801"]
    calling = ["+862155551234", "00862155551234", "02155551234", "+86-21-5555-1234"]
    keys = {phone_key(n) for n in stored + calling} | {phone_key("55551234", local_area_code="021")}
    assert keys == {"02155551234"}


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.sampled_from(["", "+86", "0086", "86", "+86 "]))
def test_every_mobile_gives_its_11_digits_with_or_without_the_country_code(mobile: str, prefix: str) -> None:
    assert phone_key(prefix + mobile) == mobile
    assert phone_key(f"{prefix}{mobile[:3]} {mobile[3:7]} {mobile[7:]}") == mobile


@given(st.text(max_size=40))
def test_phone_key_never_fails_and_gives_digits_at_most_after_a_plus(text: str) -> None:
    key = phone_key(text)
    assert key == "" or (key.lstrip("+").isdigit() and key.isascii() and len(key) <= 16)
