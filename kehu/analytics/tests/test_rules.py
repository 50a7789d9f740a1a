"""Churn warning and lifecycle stage rules (ANA-4, ANA-5): examples, and property-based checks against a plain
re-reading of the documented rules."""

from __future__ import annotations

import datetime as dt
import itertools
import statistics

import numpy as np
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics import churn, history, lifecycle
from kehu.analytics.lifecycle import Stage

AS_OF = dt.date(2025, 6, 30)


def days_ago(*n: int) -> list[dt.date]:
    return [AS_OF - dt.timedelta(days=d) for d in n]


# ------------------------------------------------------------------------------------------ churn


def test_each_churn_rule_gives_its_reason() -> None:
    assert churn.assess_churn(p_alive=0.9).code == churn.ACTIVE
    low = churn.assess_churn(p_alive=0.2)
    assert low.flagged and [r.code for r in low.reasons] == ["p_alive"]
    with translation.override("zh-hans"):
        assert low.reasons[0].text() == "仍活跃的概率 20% 低于阈值 50%"
    assert low.reasons[0].text("en") == "Probability of still being active 20% is below the threshold of 50%"

    rhythm = churn.assess_churn(days_since_last=61, gaps_days=[30, 20, 40])
    assert [r.code for r in rhythm.reasons] == ["rhythm"]
    assert "61" in rhythm.reasons[0].text("en") and "30" in rhythm.reasons[0].text("en")
    assert not churn.assess_churn(days_since_last=60, gaps_days=[30, 20, 40]).flagged  # not more than 2×
    assert not churn.assess_churn(days_since_last=500, gaps_days=[30]).flagged  # one gap is no rhythm yet

    engagement = churn.assess_churn(engagement_recent=2, engagement_previous=4)
    assert [r.code for r in engagement.reasons] == ["engagement"]
    assert not churn.assess_churn(engagement_recent=3, engagement_previous=4).flagged
    assert not churn.assess_churn(engagement_recent=0, engagement_previous=2).flagged  # too little before

    everything = churn.assess_churn(
        p_alive=0.1, days_since_last=100, gaps_days=[10, 10], engagement_recent=0, engagement_previous=9
    )
    assert [r.code for r in everything.reasons] == ["p_alive", "rhythm", "engagement"]
    assert everything.mask == 7


def test_churn_rules_are_configurable() -> None:
    rules = churn.ChurnRules(p_alive_threshold=0.3, rhythm_factor=3, min_gaps=1, engagement_drop=0.25)
    assert not churn.assess_churn(p_alive=0.35, rules=rules).flagged
    assert churn.assess_churn(days_since_last=91, gaps_days=[30], rules=rules).flagged
    assert churn.assess_churn(engagement_recent=3, engagement_previous=4, rules=rules).flagged
    with pytest.raises(ValueError):
        churn.ChurnRules(p_alive_threshold=2)


optional_count = st.none() | st.integers(0, 40)


@settings(max_examples=300, deadline=None)
@given(
    st.none() | st.floats(0, 1),
    st.none() | st.integers(0, 2000),
    st.lists(st.integers(1, 400), max_size=8),
    optional_count,
    optional_count,
    st.floats(0.05, 0.95),
    st.floats(1.0, 4.0),
)
def test_churn_flag_is_exactly_the_documented_rules(
    p_alive: float | None,
    since: int | None,
    gaps: list[int],
    recent: int | None,
    previous: int | None,
    threshold: float,
    factor: float,
) -> None:
    rules = churn.ChurnRules(p_alive_threshold=threshold, rhythm_factor=factor)
    got = churn.assess_churn(
        p_alive=p_alive,
        days_since_last=since,
        gaps_days=gaps,
        engagement_recent=recent,
        engagement_previous=previous,
        rules=rules,
    )
    expected = []
    if p_alive is not None and p_alive < threshold:
        expected.append("p_alive")
    if since is not None and len(gaps) >= 2 and since > factor * statistics.median(gaps):
        expected.append("rhythm")
    if recent is not None and previous is not None and previous >= 3 and recent <= previous * 0.5:
        expected.append("engagement")
    assert [r.code for r in got.reasons] == expected
    assert got.flagged == bool(expected)
    for reason in got.reasons:
        assert reason.text("en") and reason.text("zh-hans")


def test_churn_flags_on_arrays_match_one_by_one() -> None:
    rng = np.random.default_rng(5)
    n = 500
    p = rng.uniform(0, 1, n)
    since = rng.integers(0, 400, n).astype(float)
    gap = rng.uniform(5, 100, n)
    count = rng.integers(0, 5, n)
    rec = rng.integers(0, 10, n)
    prev = rng.integers(0, 10, n)
    mask = churn.churn_flags(
        p_alive=p,
        days_since_last=since,
        median_gap=gap,
        gap_count=count,
        engagement_recent=rec,
        engagement_previous=prev,
    )
    for i in range(n):
        one = churn.churn_flags(
            p_alive=[p[i]],
            days_since_last=[since[i]],
            median_gap=[gap[i]],
            gap_count=[count[i]],
            engagement_recent=[rec[i]],
            engagement_previous=[prev[i]],
        )
        assert one[0] == mask[i]
    assert 0 < np.count_nonzero(mask) < n


# ------------------------------------------------------------------------------------------ history


@st.composite
def order_book(draw: st.DrawFn) -> tuple[list[int], list[dt.date], list[float], int]:
    n = draw(st.integers(1, 6))
    rows = draw(
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(-30, 800), st.floats(0, 1000, allow_nan=False)),
            max_size=40,
        )
    )
    return [r[0] for r in rows], [AS_OF - dt.timedelta(days=r[1]) for r in rows], [r[2] for r in rows], n


@settings(max_examples=100, deadline=None)
@given(order_book())
def test_purchase_history_of_purchases_merged_beforehand_is_that_of_the_orders(
    book: tuple[list[int], list[dt.date], list[float], int],
) -> None:
    codes, dates, amounts, n = book
    days = np.array(dates, dtype="datetime64[D]").astype(np.int64)
    kept = days <= np.datetime64(AS_OF, "D").astype(np.int64)
    code, day, amount = history.daily_purchases(
        np.array(codes, dtype=np.int64)[kept], days[kept], np.array(amounts, dtype=np.float64)[kept]
    )
    merged = history.purchase_history(code, day, amount, n=n, as_of=AS_OF, merged=True)
    plain = history.purchase_history(codes, days, amounts, n=n, as_of=AS_OF)
    for name in history.PurchaseHistory.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(merged, name), getattr(plain, name), err_msg=name)


@settings(max_examples=200, deadline=None)
@given(order_book())
def test_purchase_history_matches_a_plain_computation(
    book: tuple[list[int], list[dt.date], list[float], int],
) -> None:
    codes, dates, amounts, n = book
    h = history.purchase_history(codes, np.array(dates, dtype="datetime64[D]"), amounts, n=n, as_of=AS_OF)
    for c in range(n):
        per_day: dict[dt.date, float] = {}
        for code, d, a in zip(codes, dates, amounts, strict=True):
            if code == c and d <= AS_OF:
                per_day[d] = per_day.get(d, 0.0) + a
        days = sorted(per_day)
        assert h.purchases[c] == len(days)
        if not days:
            assert np.isnan(h.days_since_last[c]) and np.isnan(h.median_gap[c])
            continue
        assert h.days_since_first[c] == (AS_OF - days[0]).days
        assert h.days_since_last[c] == (AS_OF - days[-1]).days
        gaps = [(b - a).days for a, b in itertools.pairwise(days)]
        assert h.gap_count[c] == len(gaps)
        if gaps:
            assert h.median_gap[c] == statistics.median(gaps)
        assert h.recent_purchases[c] == sum((AS_OF - d).days < 180 for d in days)
        assert h.previous_purchases[c] == sum(180 <= (AS_OF - d).days < 360 for d in days)
        half = (len(days) + 1) // 2
        assert h.early_mean_amount[c] == pytest.approx(statistics.fmean(per_day[d] for d in days[:half]))
        if len(days) >= 2:
            assert h.late_mean_amount[c] == pytest.approx(statistics.fmean(per_day[d] for d in days[half:]))


# ------------------------------------------------------------------------------------------ lifecycle


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**62), max_size=60), st.booleans())
def test_sorting_with_the_row_number_packed_in_is_a_stable_argsort(values: list[int], small: bool) -> None:
    # Small keys take the packed path (key and row number share one int64), large ones the argsort.
    key = np.array([v % 50 for v in values] if small else values, dtype=np.int64)
    ordered, order = history.sorted_with_order(key)
    expected = np.argsort(key, kind="stable")
    assert order.tolist() == expected.tolist() and ordered.tolist() == key[expected].tolist()


def test_lifecycle_examples() -> None:
    stage = lifecycle.lifecycle_stage
    assert stage([], [], as_of=AS_OF).stage == Stage.EXPLORATION
    quiet = stage([], [], as_of=AS_OF, interactions_recent=0, interactions_previous=4)
    assert (quiet.stage, quiet.rule) == (Stage.DECLINE, 1)
    assert stage(days_ago(30), [100], as_of=AS_OF).stage == Stage.EXPLORATION
    once = stage(days_ago(400), [100], as_of=AS_OF)
    assert (once.stage, once.rule) == (Stage.DECLINE, 4)
    with translation.override("zh-hans"):
        assert once.reasons[0].text() == "首单后 400 天未再购买"
        assert str(once.label) == "退化期"
    assert once.reasons[0].text("en") == "No purchase in the 400 days since the first order"

    monthly = days_ago(*range(0, 720, 30))  # two years of monthly purchases, last one today
    steady = stage(monthly, [100] * len(monthly), as_of=AS_OF)
    assert (steady.stage, steady.rule) == (Stage.STABILITY, 9)
    assert "30" in steady.reasons[0].text("en")
    lapsed = stage(days_ago(*range(100, 820, 30)), [100] * len(monthly), as_of=AS_OF)
    assert (lapsed.stage, lapsed.rule) == (Stage.DECLINE, 5)
    falling = stage(monthly, [50.0] * 12 + [200.0] * 12, as_of=AS_OF)  # newest first: recent spend is 50
    assert (falling.stage, falling.rule) == (Stage.DECLINE, 6)
    rising = stage(monthly, [300.0] * 12 + [100.0] * 12, as_of=AS_OF)
    assert (rising.stage, rising.rule) == (Stage.FORMATION, 7)
    speeding_up = days_ago(0, 20, 40, 60, 80, 100, 120, 140, 160, 250, 340)
    assert stage(speeding_up, [100] * 11, as_of=AS_OF).rule == 7
    two = stage(days_ago(200, 100), [100, 100], as_of=AS_OF)
    assert (two.stage, two.rule) == (Stage.FORMATION, 8)
    for result in (quiet, once, steady, lapsed, falling, rising, two):
        assert len(result.reasons) == 1 and result.reasons[0].text("en") != result.reasons[0].text("zh-hans")


def reference_stage(
    dates: list[dt.date], amounts: list[float], ir: int, ip: int, rules: lifecycle.LifecycleRules
) -> int:
    """The rule number, read straight from the module docstring."""
    per_day: dict[dt.date, float] = {}
    for d, a in zip(dates, amounts, strict=True):
        if d <= AS_OF:
            per_day[d] = per_day.get(d, 0.0) + a
    days = sorted(per_day)
    k = len(days)
    if k == 0:
        return 1 if ip > 0 and ir == 0 else 2
    if k == 1:
        return 3 if (AS_OF - days[0]).days <= rules.exploration_days else 4
    gaps = [(b - a).days for a, b in itertools.pairwise(days)]
    if (AS_OF - days[-1]).days > rules.decline_factor * statistics.median(gaps):
        return 5
    half = (k + 1) // 2
    early = statistics.fmean(per_day[d] for d in days[:half])
    late = statistics.fmean(per_day[d] for d in days[half:])
    if k >= 4 and late < early * (1 - rules.fall_share):
        return 6
    w = rules.window_days
    recent = sum((AS_OF - d).days < w for d in days)
    previous = sum(w <= (AS_OF - d).days < 2 * w for d in days)
    if recent > previous * (1 + rules.rise_share) or (k >= 4 and late > early * (1 + rules.rise_share)):
        return 7
    if k < rules.min_stable_purchases:
        return 8
    return 9


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-10, 900), st.integers(0, 500)), max_size=25),
    st.integers(0, 5),
    st.integers(0, 5),
    st.sampled_from(
        [lifecycle.LifecycleRules(), lifecycle.LifecycleRules(window_days=90, decline_factor=1.5)]
    ),
)
def test_lifecycle_stage_is_exactly_the_documented_rules(
    orders: list[tuple[int, int]], ir: int, ip: int, rules: lifecycle.LifecycleRules
) -> None:
    dates = [AS_OF - dt.timedelta(days=o[0]) for o in orders]
    amounts = [float(o[1]) for o in orders]
    result = lifecycle.lifecycle_stage(
        dates, amounts, as_of=AS_OF, interactions_recent=ir, interactions_previous=ip, rules=rules
    )
    expected = reference_stage(dates, amounts, ir, ip, rules)
    assert result.rule == expected
    assert result.stage == lifecycle.STAGES[lifecycle.RULE_STAGE[expected]]
    assert result.reasons[0].text("en") and result.reasons[0].text("zh-hans")


def test_lifecycle_on_arrays() -> None:
    codes = [0, 1, 1, 2, 2, 2, 2]
    dates = np.array(days_ago(5, 400, 300, 90, 60, 30, 0), dtype="datetime64[D]")
    h = history.purchase_history(codes, dates, [10.0] * 7, n=4, as_of=AS_OF)
    arrays = lifecycle.lifecycle_stages(h, [0, 0, 0, 1], [0, 0, 0, 0])
    assert [lifecycle.STAGES[i] for i in arrays.stage] == [
        Stage.EXPLORATION,
        Stage.DECLINE,
        Stage.FORMATION,  # all four purchases are in the recent window: buying more than before
        Stage.EXPLORATION,
    ]
