"""RFM scores and classes, concentration (ANA-1, ANA-2): the documented rules, and property-based checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics import rfm

values = st.lists(st.integers(0, 50), min_size=1, max_size=60)
money = st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=60)


@st.composite
def customers(draw: st.DrawFn) -> tuple[list[int], list[int], list[float]]:
    n = draw(st.integers(1, 60))
    r = draw(st.lists(st.integers(0, 400), min_size=n, max_size=n))
    f = draw(st.lists(st.integers(1, 30), min_size=n, max_size=n))
    m = draw(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=n, max_size=n))
    return r, f, m


def test_quintiles_of_distinct_values() -> None:
    assert rfm.quantile_scores(list(range(10))).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert rfm.quantile_scores([10, 0, 5, 5, 20]).tolist() == [4, 1, 2, 2, 5]  # ties take the lower rank
    assert rfm.quantile_scores([3, 3, 3]).tolist() == [1, 1, 1]
    assert rfm.quantile_scores([7, 1, 4], bins=3).tolist() == [3, 1, 2]
    # Recency: fewer days is better.
    assert rfm.quantile_scores([1, 100, 30], bins=3, higher_is_better=False).tolist() == [3, 1, 2]


def test_the_eight_classes_follow_the_textbook_table() -> None:
    # Two customers per axis so the mean score sits between low (1) and high (2).
    table = {
        (True, True, True): rfm.RFMClass.IMPORTANT_VALUE,
        (True, False, True): rfm.RFMClass.IMPORTANT_DEVELOP,
        (False, True, True): rfm.RFMClass.IMPORTANT_KEEP,
        (False, False, True): rfm.RFMClass.IMPORTANT_WIN_BACK,
        (True, True, False): rfm.RFMClass.GENERAL_VALUE,
        (True, False, False): rfm.RFMClass.GENERAL_DEVELOP,
        (False, True, False): rfm.RFMClass.GENERAL_KEEP,
        (False, False, False): rfm.RFMClass.GENERAL_WIN_BACK,
    }
    keys = list(table)
    recency = [5 if r else 300 for r, _, _ in keys]
    frequency = [9 if f else 1 for _, f, _ in keys]
    monetary = [900.0 if m else 10.0 for _, _, m in keys]
    scores = rfm.rfm_scores(recency, frequency, monetary, bins=2)
    assert rfm.rfm_classes(scores) == [table[k] for k in keys]
    with translation.override("zh-hans"):
        assert str(rfm.CLASS_LABELS[rfm.RFMClass.IMPORTANT_KEEP]) == "重要保持客户"
    assert rfm.CLASS_ACTIONS[rfm.RFMClass.IMPORTANT_VALUE] == rfm.Action.MAINTAIN
    assert rfm.CLASS_ACTIONS[rfm.RFMClass.GENERAL_DEVELOP] == rfm.Action.DEVELOP
    assert rfm.CLASS_ACTIONS[rfm.RFMClass.IMPORTANT_KEEP] == rfm.Action.KEEP_ACTIVE
    assert rfm.CLASS_ACTIONS[rfm.RFMClass.GENERAL_WIN_BACK] == rfm.Action.WIN_BACK


def test_threshold_options() -> None:
    scores = rfm.RFMScores(
        r=np.array([1, 2, 3, 4, 5]), f=np.array([1, 1, 1, 1, 5]), m=np.array([3, 3, 3, 3, 3])
    )
    mean = rfm.class_indices(
        scores
    )  # R mean 3 → 4, 5 high; F mean 1.8 → only 5 high; M all equal → none high
    assert mean.tolist() == [0, 0, 0, 4, 6]
    median = rfm.class_indices(scores, threshold="median")
    assert median.tolist() == [0, 0, 0, 4, 6]
    fixed = rfm.class_indices(scores, threshold=2)
    assert fixed.tolist() == [1, 1, 5, 5, 7]  # M = 3 > 2: everyone high on M


@settings(max_examples=200, deadline=None)
@given(customers(), st.integers(2, 10), st.sampled_from(["mean", "median", 3]))
def test_every_customer_gets_exactly_one_class(
    data: tuple[list[int], list[int], list[float]], bins: int, threshold: rfm.Threshold
) -> None:
    r, f, m = data
    scores = rfm.rfm_scores(r, f, m, bins=bins)
    for s in (scores.r, scores.f, scores.m):
        assert s.min() >= 1 and s.max() <= bins
    classes = rfm.rfm_classes(scores, threshold=threshold)
    assert len(classes) == len(r) and all(isinstance(c, rfm.RFMClass) for c in classes)
    summaries = rfm.class_summaries(rfm.class_indices(scores, threshold=threshold), r, f, m)
    assert [s.rfm_class for s in summaries] == list(rfm.RFMClass)
    assert sum(s.count for s in summaries) == len(r)
    for s in summaries:
        assert s.count == classes.count(s.rfm_class)


@settings(max_examples=200, deadline=None)
@given(money, st.data(), st.integers(1, 10))
def test_raising_a_value_never_lowers_its_score(m: list[float], data: st.DataObject, bins: int) -> None:
    i = data.draw(st.integers(0, len(m) - 1))
    bump = data.draw(st.floats(0, 1e6, allow_nan=False))
    before = rfm.quantile_scores(m, bins)[i]
    raised = list(m)
    raised[i] += bump
    assert rfm.quantile_scores(raised, bins)[i] >= before
    # And for recency, fewer days never lowers the R score.
    days = [int(v) for v in m]
    sooner = list(days)
    sooner[i] = max(0, sooner[i] - int(bump))
    r_before = rfm.quantile_scores(days, bins, higher_is_better=False)[i]
    assert rfm.quantile_scores(sooner, bins, higher_is_better=False)[i] >= r_before


@settings(max_examples=200, deadline=None)
@given(customers(), st.randoms(use_true_random=False))
def test_scores_and_classes_do_not_depend_on_the_order_of_customers(
    data: tuple[list[int], list[int], list[float]], random: object
) -> None:
    r, f, m = data
    perm = list(range(len(r)))
    random.shuffle(perm)  # type: ignore[attr-defined]
    scores = rfm.rfm_scores(r, f, m)
    shuffled = rfm.rfm_scores([r[i] for i in perm], [f[i] for i in perm], [m[i] for i in perm])
    assert shuffled.r.tolist() == scores.r[perm].tolist()
    assert shuffled.f.tolist() == scores.f[perm].tolist()
    assert shuffled.m.tolist() == scores.m[perm].tolist()
    classes = rfm.rfm_classes(scores)
    assert rfm.rfm_classes(shuffled) == [classes[i] for i in perm]


@settings(max_examples=100, deadline=None)
@given(values)
def test_equal_values_get_equal_scores(v: list[int]) -> None:
    scores = rfm.quantile_scores(v)
    for a in range(len(v)):
        for b in range(len(v)):
            if v[a] == v[b]:
                assert scores[a] == scores[b]
            elif v[a] < v[b]:
                assert scores[a] <= scores[b]


def test_concentration_of_a_known_distribution() -> None:
    c = rfm.concentration([50, 20, 10, 10, 5, 5, 0, 0, 0, 0])
    assert c.total == 100 and c.top_count == 2
    assert c.top_value_share == pytest.approx(0.7)
    assert c.curve[0] == (0.0, 0.0) and c.curve[-1] == (1.0, 1.0)
    assert len(c.curve) == 11  # one point per customer when there are fewer than 100
    asc = np.sort(np.array([50, 20, 10, 10, 5, 5, 0, 0, 0, 0], dtype=float))
    mean_abs_diff = np.abs(asc[:, None] - asc[None, :]).mean()
    assert c.gini == pytest.approx(mean_abs_diff / (2 * asc.mean()))
    assert rfm.concentration([5, 5, 5, 5]).gini == pytest.approx(0.0)
    assert rfm.concentration([0, 0, 0, 7]).gini == pytest.approx(0.75)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=500))
def test_the_concentration_curve_is_a_concave_share_curve(v: list[float]) -> None:
    c = rfm.concentration(v)
    if c.total == 0:
        assert c.curve == [] and c.top_value_share is None
        return
    xs = [p[0] for p in c.curve]
    ys = [p[1] for p in c.curve]
    assert len(c.curve) <= 101 and xs[0] == 0 and xs[-1] == 1
    assert ys[-1] == pytest.approx(1.0)
    assert all(b >= a - 1e-9 for a, b in itertools.pairwise(ys))  # rising
    assert all(y >= x - 1e-6 for x, y in zip(xs, ys, strict=True))  # above the diagonal (largest first)
    assert c.top_value_share is not None and 0.2 - 1e-9 <= c.top_value_share <= 1 + 1e-9
    assert c.gini is not None and -1e-9 <= c.gini <= 1


def test_pareto_analysis_with_profit() -> None:
    revenue = [100.0] * 8 + [1000.0, 2000.0]
    profit = [-10.0] * 8 + [300.0, 500.0]
    p = rfm.pareto_analysis(revenue, profit)
    assert p.revenue.top_value_share == pytest.approx(3000 / 3800)
    assert p.profit is not None and p.profit.top_value_share == pytest.approx(800 / 720)
    assert p.profit.gini is None  # negative profits: no Gini
    big = rfm.concentration(np.arange(1, 10_001, dtype=float))
    assert len(big.curve) == 101
    assert big.curve[20][1] == pytest.approx(big.top_value_share, abs=1e-4)
