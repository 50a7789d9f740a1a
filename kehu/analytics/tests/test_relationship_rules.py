"""The array rules of the relationship report (``relationship.compute`` → ``tally``) against a plain
per-order pass over the same facts (:func:`_reference`, the rules of the module docstring read order by
order in date order), on seeded random ledgers full of the cases that are easy to get wrong in array
form: several orders of a customer on one day, categories bought before the window and again in it,
equal prices, blank and padded categories, orders of owners outside the scope, a range starting inside a
month, quarters, customers without a creation day, referrals of people without orders."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from kehu.analytics.relationship import (
    Bucket,
    LineFact,
    OrderFact,
    Prior,
    Referral,
    _running_max,
    buckets_of,
    calendar_start,
    compute,
    previous_start,
)
from kehu.core.periods import DateRange


@dataclass
class _State:
    first_day: dt.date | None
    last_day: dt.date | None
    top_price: dict[str, Decimal]
    periods: set[dt.date] = field(default_factory=set)
    day: dt.date | None = None
    day_prices: dict[str, Decimal] = field(default_factory=dict)


def _reference(
    *, buckets: list[Bucket], bucket: str, orders: list[OrderFact], lines: dict[int, list[LineFact]],
    prior: dict[int, Prior], created: dict[int, dt.date], referrals: Iterable[Referral],
    group: Callable[[int | None, int | None], Any], counted: Callable[[int | None], bool], lost_days: int,
    today: dt.date,
) -> dict[tuple[str, Any], dict[str, Any]]:  # fmt: skip
    """Order by order in (day, id) order, each customer's history as of the day being read."""
    cells: dict[tuple[str, Any], dict[str, Any]] = {}

    def cell(b: Bucket, key: Any) -> dict[str, Any]:
        names = ("revenue", "repeat_revenue", "cross_sell", "up_sell", "referrals", "gained", "retained",
                 "won_back", "returning")  # fmt: skip
        return cells.setdefault((b.key, key), {**dict.fromkeys(names, 0), "lengths": []})

    by_start = {b.calendar_start: b for b in buckets}
    states: dict[int, _State] = {}
    seen: set[tuple[int, str]] = set()
    for order in sorted(orders, key=lambda o: (o.day, o.id)):
        p = prior.get(order.customer) or Prior()
        s = states.setdefault(order.customer, _State(p.first_day, p.last_day, dict(p.top_price)))
        if s.day is not None and s.day != order.day:  # the previous day joins the history
            s.first_day = s.first_day or s.day
            s.last_day = s.day
            for category, price in s.day_prices.items():
                s.top_price[category] = max(price, s.top_price.get(category, price))
            s.day_prices = {}
        s.day = order.day
        period = calendar_start(order.day, bucket)
        b = by_start.get(period)
        if b is not None and b.start <= order.day <= b.end:
            key, is_counted = group(order.owner, order.department), counted(order.owner)
            if is_counted:
                c = cell(b, key)
                c["revenue"] += order.amount
                if s.last_day is not None:
                    c["repeat_revenue"] += order.amount
                    for line in lines.get(order.id, []):
                        category = line.category.strip()
                        top = s.top_price.get(category)
                        if category and top is None:
                            c["cross_sell"] += line.total
                        elif category and line.unit_price > top:  # type: ignore[operator]
                            c["up_sell"] += line.total
            if (order.customer, b.key) not in seen:
                seen.add((order.customer, b.key))
                if is_counted:
                    c = cell(b, key)
                    if s.last_day is None:
                        c["gained"] += 1
                    elif (order.day - s.last_day).days > lost_days:
                        c["won_back"] += 1
                    elif previous_start(b.calendar_start, bucket) in s.periods:
                        c["retained"] += 1
                    else:
                        c["returning"] += 1
                    starts = [d for d in (s.first_day, order.day, created.get(order.customer)) if d]
                    c["lengths"].append((min(b.end, today) - min(starts)).days)
        for line in lines.get(order.id, []):
            category = line.category.strip()
            if category:
                s.day_prices[category] = max(line.unit_price, s.day_prices.get(category, line.unit_price))
        s.periods.add(period)
    for r in referrals:
        b = by_start.get(calendar_start(r.day, bucket))
        if b is not None and b.start <= r.day <= b.end:
            cell(b, group(r.owner, r.department))["referrals"] += 1
    return cells


def _ledger(rng: random.Random) -> dict[str, Any]:
    scale = rng.choice([1, 1, 10**12])  # ids far apart: the sorts and look-ups that cannot pack them
    customers = range(scale, scale * rng.randint(2, 40), scale)
    start = dt.date(2025, 12, 1)
    prices = [Decimal(p) for p in ("10.00", "12.50", "12.50", "20.00", "99.99", "100.00")]
    categories = ["A", "B", "C", "", " B ", "  "]
    orders, lines = [], {}
    step = 1 if scale == 1 else 5 * 10**16  # order ids up to 8e18: not even (day, id) packs
    for i in range(step, step * rng.randint(1, 160), step):
        day = start + dt.timedelta(days=rng.choice([0, 5, 5, 31, 36, 40, 59, 60, 70, 90, 119, 120]))
        owner = rng.choice([1, 2, 3, 4])
        orders.append(OrderFact(i, rng.choice(customers), day, Decimal(rng.randint(0, 50000)) / 100, owner,
                                rng.choice([None, 10 + owner % 2])))  # fmt: skip
        lines[i] = [LineFact(rng.choice(categories), rng.choice(prices), Decimal(rng.randint(1, 9999)) / 100)
                    for _ in range(rng.randint(0, 3))]  # fmt: skip
    prior = {}
    for c in customers:
        if rng.random() < 0.5:
            first = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randint(0, 500))
            last = first + dt.timedelta(days=rng.randint(0, 480))
            tops = {rng.choice(["A", "B", "C"]): rng.choice(prices) for _ in range(rng.randint(0, 3))}
            prior[c] = Prior(first, last, tops)
    created = {c: dt.date(2022, 6, 1) + dt.timedelta(days=rng.randint(0, 1400)) for c in customers
               if rng.random() < 0.7}  # fmt: skip
    referrals = [Referral(start + dt.timedelta(days=rng.randint(0, 125)), rng.choice([1, 5, None]), None)
                 for _ in range(rng.randint(0, 4))]  # fmt: skip
    return {"orders": orders, "lines": lines, "prior": prior, "created": created, "referrals": referrals}


@pytest.mark.parametrize("seed", range(60))
def test_the_array_rules_match_an_order_by_order_pass(seed: int) -> None:
    rng = random.Random(seed)
    bucket = rng.choice(["month", "quarter"])
    span = DateRange("custom", rng.choice([dt.date(2026, 1, 1), dt.date(2026, 1, 6), dt.date(2026, 2, 1)]),
                     rng.choice([dt.date(2026, 3, 31), dt.date(2026, 3, 15)]))  # fmt: skip
    by_department = rng.random() < 0.3
    scope = rng.choice([None, {1, 2}, {3}])
    args: dict[str, Any] = {
        **_ledger(rng), "buckets": buckets_of(span, bucket), "bucket": bucket,
        "group": (lambda owner, dept: dept) if by_department else (lambda owner, dept: owner),
        "counted": lambda owner: scope is None or owner in scope,
        "lost_days": rng.choice([30, 45, 365]), "today": rng.choice([dt.date(2026, 3, 31), dt.date(2026, 3, 20)]),
    }  # fmt: skip
    args["orders"] = [o for o in args["orders"] if o.day <= args["today"]]
    expected = _reference(**args)
    got = compute(**args)
    assert list(got) == list(expected)  # the same cells, made in the same order
    for key, want in expected.items():
        c = got[key]
        assert (c.revenue, c.repeat_revenue, c.cross_sell, c.up_sell) == (
            want["revenue"], want["repeat_revenue"], want["cross_sell"], want["up_sell"]), key  # fmt: skip
        assert (c.referrals, c.gained, c.retained, c.won_back, c.returning) == (
            want["referrals"], want["gained"], want["retained"], want["won_back"], want["returning"]), key  # fmt: skip
        assert sorted(c.lengths.tolist()) == sorted(want["lengths"]), key


def test_the_running_maximum_of_values_too_wide_to_lift() -> None:
    """Values whose range times the groups does not fit in 62 bits are ranked first: the same maxima."""
    rng = np.random.default_rng(3)
    group = np.sort(rng.integers(0, 2000, 5000))
    for values in (rng.integers(0, 1000, 5000), rng.integers(-(2**60), 2**60, 5000)):
        expected = np.concatenate([np.maximum.accumulate(values[group == g]) for g in np.unique(group)])
        assert (_running_max(group, values) == expected).all()
