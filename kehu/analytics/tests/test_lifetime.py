"""The lifetime-value models reproduce the published CDNOW results (issue 5, ANA-3) and behave as probabilities should."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.special import gammaln

from kehu.analytics import lifetime as L

from .cdnow import sample, summary, summary_with_transactions


def sig3(value: float) -> float:
    return float(f"{value:.3g}")


def same_to_3_significant_figures(actual: float, published: float) -> bool:
    return sig3(actual) == sig3(published)


@pytest.fixture(scope="module")
def cdnow_summary() -> L.Summary:
    customers, dates, amounts = sample()
    return L.summarize_transactions(customers, dates, amounts, until=dt.date(1997, 9, 30), unit="week")


# ------------------------------------------------------------------------------------------ summary


def test_summary_of_the_sample_transactions_is_the_published_summary(cdnow_summary: L.Summary) -> None:
    """x, t_x, T (weeks) and the repeat-purchase mean z̄ equal Hardie's summary file (rounded to 0.01)."""
    ref = summary_with_transactions()
    assert len(cdnow_summary) == 2357
    assert int(np.count_nonzero(cdnow_summary.x > 0)) == 946
    assert np.array_equal(cdnow_summary.customers, ref["ID"].astype(np.int64))
    assert np.array_equal(cdnow_summary.x, ref["x"])
    assert np.max(np.abs(cdnow_summary.t_x - ref["t_x"])) <= 0.005
    assert np.max(np.abs(cdnow_summary.T - ref["T"])) <= 0.005
    assert np.max(np.abs(cdnow_summary.monetary - ref["zbar"])) <= 0.005 + 1e-9
    assert np.array_equal(ref["x"], summary()["frequency"])


def test_summary_merges_same_day_purchases_and_cuts_at_the_calibration_end() -> None:
    days = np.array(["2024-01-01", "2024-01-01", "2024-01-08", "2024-01-15", "2024-03-01", "2024-01-05"])
    s = L.summarize_transactions(
        ["a", "a", "a", "a", "a", "b"], days, [10, 5, 30, 60, 999, 7], until=dt.date(2024, 1, 29), unit="week"
    )
    assert list(s.customers) == ["a", "b"]
    assert list(s.x) == [2, 0]  # 01-01 (two orders, one purchase), 01-08, 01-15; 03-01 is after the end
    assert list(s.t_x) == [2.0, 0.0]
    assert s.T[0] == 4.0 and s.T[1] == pytest.approx(24 / 7)
    assert list(s.monetary) == [45.0, 0.0]  # mean of 30 and 60: the first purchase (15) is left out
    days_unit = L.summarize_transactions(["a", "a"], ["2024-01-01", "2024-01-03"], [1, 2], unit="day")
    assert (days_unit.x[0], days_unit.t_x[0], days_unit.T[0]) == (1, 2.0, 2.0)


def test_summary_drops_customers_whose_first_purchase_is_after_the_end() -> None:
    s = L.summarize_transactions(["a", "b"], ["2024-01-01", "2024-02-01"], [1, 1], until=dt.date(2024, 1, 15))
    assert list(s.customers) == ["a"]


# ------------------------------------------------------------------------------------------ BG/NBD


def test_bgnbd_reproduces_fader_hardie_lee_2005(cdnow_summary: L.Summary) -> None:
    """r = 0.243, α = 4.414, a = 0.793, b = 2.426, LL = −9582.4 (Marketing Science 24(2), 2005)."""
    p = L.fit_bgnbd(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T)
    for actual, published in ((p.r, 0.243), (p.alpha, 4.414), (p.a, 0.793), (p.b, 2.426)):
        assert same_to_3_significant_figures(actual, published), (actual, published)
        assert actual == pytest.approx(published, abs=0.0005)  # to the published three decimals
    assert p.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert p.n == 2357


def test_bgnbd_on_the_published_summary_file_agrees() -> None:
    ref = summary()
    p = L.fit_bgnbd(ref["frequency"], ref["recency"], ref["T"])
    assert (sig3(p.r), sig3(p.alpha), sig3(p.a), sig3(p.b)) == (0.243, 4.41, 0.793, 2.43)
    assert p.log_likelihood == pytest.approx(-9582.4, abs=0.05)


def test_bgnbd_maximum_is_a_maximum(cdnow_summary: L.Summary) -> None:
    s = cdnow_summary
    p = L.fit_bgnbd(s.x, s.t_x, s.T)
    best = L.bgnbd_log_likelihood(p, s.x, s.t_x, s.T)
    assert best == pytest.approx(p.log_likelihood)
    for i in range(4):
        for step in (0.97, 1.03):
            moved = [p.r, p.alpha, p.a, p.b]
            moved[i] *= step
            assert L.bgnbd_log_likelihood(moved, s.x, s.t_x, s.T) < best


def test_bgnbd_conditional_expectation_matches_the_paper() -> None:
    """The paper's worked example: E[Y(39) | x = 2, t_x = 30.43, T = 38.86] = 1.226."""
    params = (0.243, 4.414, 0.793, 2.426)
    assert L.bgnbd_expected_purchases(params, 39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=5e-4)


def test_bgnbd_unconditional_expectation_matches_a_simulation() -> None:
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    rng = np.random.default_rng(7)
    n, t = 200_000, 39.0
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    # Purchases until dropout: each purchase ends the life with probability p (BG/NBD's story).
    count = np.zeros(n)
    clock = np.zeros(n)
    alive = np.ones(n, dtype=bool)
    while alive.any():
        clock[alive] += rng.exponential(1 / np.maximum(lam[alive], 1e-300))
        bought = alive & (clock <= t)
        count[bought] += 1
        alive = bought & (rng.random(n) >= p)
    assert L.bgnbd_expected_purchases_new((r, alpha, a, b), t) == pytest.approx(count.mean(), rel=0.02)


# ------------------------------------------------------------------------------------------ Gamma-Gamma


def test_gamma_gamma_reproduces_fader_hardie_lee_2005(cdnow_summary: L.Summary) -> None:
    """p = 6.25, q = 3.74, γ = 15.44 on the 946 repeat buyers (JMR 42(4), 2005); z̄ = mean repeat purchase."""
    g = L.fit_gamma_gamma(cdnow_summary.x, cdnow_summary.monetary)
    assert g.n == 946
    assert (sig3(g.p), sig3(g.q), sig3(g.gamma)) == (6.25, 3.74, 15.4)
    assert g.p == pytest.approx(6.25, abs=0.005)
    assert g.q == pytest.approx(3.74, abs=0.005)
    assert g.gamma == pytest.approx(15.44, abs=0.005)
    assert g.log_likelihood == pytest.approx(
        L.gamma_gamma_log_likelihood(g, cdnow_summary.x, cdnow_summary.monetary)
    )


@pytest.mark.parametrize(
    "bg_start, gg_start",
    [
        ([0.5, 10.0, 3.0, 1.0], [2.0, 10.0, 50.0]),  # far from the maximum
        ([0.2431, 4.41, 0.79, 2.43], [6.2, 3.7, 15.5]),  # near it, as yesterday's fit is
        ([float("nan"), 1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]),  # unusable: the usual start instead
        ([1.0, 1.0], [1.0]),  # the wrong number of parameters: likewise
    ],
)
def test_a_fit_started_elsewhere_finds_the_same_published_maximum(
    cdnow_summary: L.Summary, bg_start: list[float], gg_start: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The nightly refresh starts from the last refresh's parameters (``start``): the maximum, and so the
    published figures, must not depend on it — only the number of steps to reach it."""
    s = cdnow_summary
    cold = L.fit_bgnbd(s.x, s.t_x, s.T)
    steps: list[int] = []
    real = L._bgnbd_ll_grad

    def counted(*args: Any, **kwargs: Any) -> Any:
        steps.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(L, "_bgnbd_ll_grad", counted)
    warm = L.fit_bgnbd(s.x, s.t_x, s.T, start=bg_start)
    for actual, published in ((warm.r, 0.243), (warm.alpha, 4.414), (warm.a, 0.793), (warm.b, 2.426)):
        assert actual == pytest.approx(published, abs=0.0005)
    assert warm.log_likelihood == pytest.approx(cold.log_likelihood, abs=1e-6)
    g = L.fit_gamma_gamma(s.x, s.monetary, start=gg_start)
    assert (g.p, g.q, g.gamma) == (
        pytest.approx(6.25, abs=0.005), pytest.approx(3.74, abs=0.005), pytest.approx(15.44, abs=0.005),
    )  # fmt: skip
    if bg_start[0] == 0.2431:  # from near the maximum the search is short
        cold_steps = len(steps)
        steps.clear()
        L.fit_bgnbd(s.x, s.t_x, s.T)
        assert cold_steps < len(steps)


# Fifty customers of the refresh tests' ledger, as of 2026-12-05 (weeks): the likelihood keeps rising,
# ever more slowly, as a and b grow together without end (a ridge), so a search stops somewhere along it.
RIDGE_X = [1, 2, 3, 4, 5] * 8 + [1, 2, 3, 4, 4, 1, 0, 0, 0, 1]
# fmt: off
RIDGE_T_X_DAYS = [
    15, 54, 117, 204, 315, 75, 30, 81, 156, 255, 63, 150, 45, 108, 195, 51, 126, 225, 60, 135, 39, 102,
    189, 300, 75, 27, 78, 153, 252, 375, 15, 54, 117, 204, 315, 75, 30, 81, 156, 255, 63, 150, 45, 108,
    403, 70, 0, 0, 0, 20,
]
RIDGE_T_DAYS = [
    245, 88, 152, 240, 557, 113, 69, 121, 410, 297, 106, 194, 311, 154, 242, 99, 404, 275, 111, 187,
    329, 156, 244, 356, 377, 85, 137, 213, 566, 437, 78, 118, 443, 270, 382, 143, 368, 151, 227, 327,
    413, 224, 120, 184, 430, 120, 60, 280, 530, 350,
]
# fmt: on
RIDGE_T_X = [d / 7 for d in RIDGE_T_X_DAYS]  # weeks, as the refresh fits them
RIDGE_T = [d / 7 for d in RIDGE_T_DAYS]


@pytest.mark.parametrize("a, b", [(0.793, 2.426), (3.5, 40.0), (2.2e11, 1.06e12), (1e13, 4e13)])
def test_the_beta_terms_keep_their_precision_however_large_a_and_b(a: float, b: float) -> None:
    from decimal import Decimal, getcontext

    from scipy.special import betaln

    getcontext().prec = 50
    ux = np.array([0.0, 1.0, 2.0, 5.0, 30.0])
    beta, by_a, by_b = L._beta_terms(a, b, ux)
    for x, got, got_a, got_b in zip(ux.astype(int), beta, by_a, by_b, strict=True):
        da, db = Decimal(a), Decimal(b)  # exact in 50 digits: sums of ln((b + k) / (a + b + k)), k < x
        exact = sum(((db + k) / (da + db + k)).ln() for k in range(x)) if x else Decimal(0)
        exact_a = -sum(1 / (da + db + k) for k in range(x)) if x else Decimal(0)
        exact_b = sum(da / ((db + k) * (da + db + k)) for k in range(x)) if x else Decimal(0)
        assert got == pytest.approx(float(exact), rel=1e-12, abs=1e-300)
        assert got_a == pytest.approx(float(exact_a), rel=1e-12, abs=1e-300)
        assert got_b == pytest.approx(float(exact_b), rel=1e-12, abs=1e-300)
    if a < 100:  # where the library's differences are still precise, the two agree
        assert beta == pytest.approx(betaln(a, b + ux) - betaln(a, b), rel=1e-10, abs=1e-12)
    # Counts that are not whole numbers take the library's differences.
    fractional = L._beta_terms(a, b, np.array([0.5, 2.0]))[0]
    assert fractional[1] == pytest.approx(beta[2], rel=1e-6) if a < 100 else math.isfinite(fractional[1])


def test_on_a_ridge_a_fit_from_far_along_it_finds_what_a_fresh_fit_finds() -> None:
    """Started from yesterday's parameters, 10¹¹ along the ridge, the fit must not report a likelihood a
    fresh fit cannot reach: with the library's beta differences it did, 0.27 above (their rounding)."""
    fresh = L.fit_bgnbd(RIDGE_X, RIDGE_T_X, RIDGE_T)
    warm = L.fit_bgnbd(RIDGE_X, RIDGE_T_X, RIDGE_T, start=[9.05, 70.36, 1.884e11, 1.253e12])
    assert warm.log_likelihood == pytest.approx(fresh.log_likelihood, abs=1e-6)
    assert fresh.a > 1e6 and fresh.b / fresh.a == pytest.approx(warm.b / warm.a, rel=1e-3)
    assert L.bgnbd_p_alive(warm, RIDGE_X, RIDGE_T_X, RIDGE_T) == pytest.approx(
        L.bgnbd_p_alive(fresh, RIDGE_X, RIDGE_T_X, RIDGE_T), rel=1e-6
    )


def test_gamma_gamma_expected_spend_and_clv_match_lifetimes_documentation() -> None:
    """lifetimes' README on the same summary: expected spend 24.6586 / 18.9115 / 35.1710 and 12-month
    CLV 140.0962 / 18.9435 / 38.1806 for customers 1, 2, 3 (its CLV treats a month as 30 time units)."""
    ref = summary_with_transactions()
    bg = L.fit_bgnbd(ref["x"], ref["t_x"], ref["T"])
    gg = L.fit_gamma_gamma(ref["x"], ref["zbar"])
    x, t_x, T, z = ref["x"][:3], ref["t_x"][:3], ref["T"][:3], ref["zbar"][:3]
    spend = L.gamma_gamma_expected_spend(gg, x, z)
    assert spend == pytest.approx([24.658616, 18.911480, 35.171002], rel=1e-5)
    assert spend[2] == pytest.approx(gg.population_mean)  # x = 0: the population mean
    clv = L.discounted_clv(
        lambda h: L.bgnbd_expected_purchases(bg, h, x, t_x, T), spend, periods=12, units_per_period=30
    )
    assert clv == pytest.approx([140.096211, 18.943467, 38.180574], rel=1e-5)


def test_undiscounted_clv_telescopes_to_expected_purchases_times_spend() -> None:
    params = (0.243, 4.414, 0.793, 2.426)
    x, t_x, T = np.array([0.0, 3, 10]), np.array([0.0, 20, 37]), np.array([38.0, 38, 38])
    spend = np.array([30.0, 40, 50])
    k = L.units_per_month("week")
    flat = L.discounted_clv(
        lambda h: L.bgnbd_expected_purchases(params, h, x, t_x, T),
        spend,
        periods=6,
        units_per_period=k,
        discount_rate=0.0,
        margin=0.25,
    )
    assert flat == pytest.approx(0.25 * spend * L.bgnbd_expected_purchases(params, 6 * k, x, t_x, T))
    discounted = L.discounted_clv(
        lambda h: L.bgnbd_expected_purchases(params, h, x, t_x, T), spend, periods=6, units_per_period=k
    )
    assert np.all(discounted < 4 * flat)


# ------------------------------------------------------------------------------------------ Pareto/NBD


def test_pareto_nbd_reproduces_the_published_cdnow_fit(cdnow_summary: L.Summary) -> None:
    """r = 0.55, α = 10.58, s = 0.61, β = 11.67, LL = −9595.0 (Fader & Hardie's Pareto/NBD notes; lifetimes docs)."""
    p = L.fit_pareto_nbd(cdnow_summary.x, cdnow_summary.t_x, cdnow_summary.T)
    assert (sig3(p.r), sig3(p.alpha), sig3(p.s), sig3(p.beta)) == (0.553, 10.6, 0.606, 11.7)
    assert p.r == pytest.approx(0.55, abs=0.005)
    assert p.alpha == pytest.approx(10.58, abs=0.005)
    assert p.s == pytest.approx(0.61, abs=0.005)
    assert p.beta == pytest.approx(11.67, abs=0.005)
    assert p.log_likelihood == pytest.approx(-9595.0, abs=0.05)


def _pareto_nbd_likelihood_by_integration(params: tuple[float, ...], x: float, t_x: float, T: float) -> float:
    """Alive through T, or dead at τ ∈ (t_x, T] (Pareto II density), with the NBD of x purchases by then."""
    r, alpha, s, beta = params

    def nbd(tau: float) -> float:
        return math.exp(gammaln(r + x) - gammaln(r) + r * math.log(alpha) - (r + x) * math.log(alpha + tau))

    alive = (beta / (beta + T)) ** s * nbd(T)
    dead = quad(lambda tau: nbd(tau) * s * beta**s / (beta + tau) ** (s + 1), t_x, T, epsabs=0, epsrel=1e-11)[
        0
    ]
    return alive + dead


@pytest.mark.parametrize(
    "params", [(0.55, 10.58, 0.61, 11.67), (0.55, 20.0, 0.61, 3.0), (2.0, 1.0, 1.5, 1.0)]
)
@pytest.mark.parametrize(
    ("x", "t_x", "T"), [(0, 0, 38.86), (2, 30.43, 38.86), (5, 38.86, 38.86), (40, 12.0, 70.0)]
)
def test_pareto_nbd_likelihood_equals_direct_integration(
    params: tuple[float, ...], x: float, t_x: float, T: float
) -> None:
    ll = L.pareto_nbd_log_likelihood(params, [x], [t_x], [T])
    assert ll == pytest.approx(math.log(_pareto_nbd_likelihood_by_integration(params, x, t_x, T)), abs=1e-7)


def test_pareto_nbd_p_alive_equals_the_alive_share_of_the_likelihood() -> None:
    params = (0.55, 10.58, 0.61, 11.67)
    r, alpha, s, beta = params
    x, t_x, T = 2.0, 30.43, 38.86
    total = _pareto_nbd_likelihood_by_integration(params, x, t_x, T)
    alive = (beta / (beta + T)) ** s * math.exp(
        gammaln(r + x) - gammaln(r) + r * math.log(alpha) - (r + x) * math.log(alpha + T)
    )
    assert L.pareto_nbd_p_alive(params, [x], [t_x], [T])[0] == pytest.approx(alive / total, rel=1e-9)


# ------------------------------------------------------------------------------------------ properties

params_bg = st.tuples(st.floats(0.05, 5), st.floats(0.5, 50), st.floats(0.1, 5), st.floats(0.2, 10)).filter(
    lambda p: abs(p[2] - 1) > 1e-3
)
params_pn = st.tuples(st.floats(0.05, 5), st.floats(0.5, 50), st.floats(0.05, 5), st.floats(0.5, 50))


@st.composite
def customers(draw: st.DrawFn) -> tuple[float, float, float]:
    T = draw(st.floats(0.5, 200))
    x = draw(st.integers(0, 60))
    t_x = 0.0 if x == 0 else draw(st.floats(0.0, 1.0)) * T
    return float(x), t_x, T


@settings(max_examples=150, deadline=None)
@given(params_bg, params_pn, st.lists(customers(), min_size=1, max_size=20))
# Found by a fresh run: with a + b = 1 a customer without repeat purchases hit the hypergeometric's pole.
@example(bg=(1.0, 1.0, 0.5, 0.5), pn=(1.0, 1.0, 1.0, 1.0), rows=[(0.0, 0.0, 1.0)])
def test_p_alive_is_a_probability_and_expected_purchases_grow_with_the_horizon(
    bg: tuple[float, ...], pn: tuple[float, ...], rows: list[tuple[float, float, float]]
) -> None:
    x, t_x, T = (np.array(c) for c in zip(*rows, strict=True))
    for p_alive in (L.bgnbd_p_alive(bg, x, t_x, T), L.pareto_nbd_p_alive(pn, x, t_x, T)):
        assert np.all((p_alive >= 0) & (p_alive <= 1))
    assert np.all(L.bgnbd_p_alive(bg, x, t_x, T)[x == 0] == 1.0)
    previous_bg = np.zeros_like(x)
    previous_pn = np.zeros_like(x)
    for horizon in (1.0, 10.0, 52.0, 200.0):
        e_bg = L.bgnbd_expected_purchases(bg, horizon, x, t_x, T)
        e_pn = L.pareto_nbd_expected_purchases(pn, horizon, x, t_x, T)
        assert np.all(np.isfinite(e_bg)) and np.all(np.isfinite(e_pn))
        assert np.all(e_bg >= previous_bg * (1 - 1e-9)) and np.all(e_pn >= previous_pn * (1 - 1e-9))
        previous_bg, previous_pn = e_bg, e_pn
    assert np.all(previous_bg > 0) and np.all(previous_pn > 0)


@settings(max_examples=60, deadline=None)
@given(params_bg, customers(), st.floats(0.5, 30))
def test_a_later_last_purchase_means_more_likely_alive(
    bg: tuple[float, ...], row: tuple[float, float, float], shift: float
) -> None:
    x, t_x, T = row
    if x == 0:
        return
    later = min(T, t_x + shift)
    assert L.bgnbd_p_alive(bg, [x], [later], [T])[0] >= L.bgnbd_p_alive(bg, [x], [t_x], [T])[0] - 1e-12


def test_fitting_on_a_subsample_is_seeded_and_close() -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    T = rng.uniform(10, 60, n)
    lam = rng.gamma(0.8, 1 / 6.0, n)
    x = rng.poisson(lam * T * 0.6).astype(float)
    t_x = np.where(x > 0, T * rng.uniform(0.3, 1.0, n), 0.0)
    full = L.fit_bgnbd(x, t_x, T)
    a = L.fit_bgnbd(x, t_x, T, max_rows=10_000, seed=1)
    b = L.fit_bgnbd(x, t_x, T, max_rows=10_000, seed=1)
    assert a == b and a.n == 10_000 and full.n == n
    assert a.r == pytest.approx(full.r, rel=0.15)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        L.fit_bgnbd([1], [5], [3])  # t_x > T
    with pytest.raises(ValueError):
        L.fit_gamma_gamma([0, 0], [0, 0])
    with pytest.raises(ValueError):
        L.summarize_transactions(["a"], ["2024-01-01"], [1], unit="month")  # type: ignore[arg-type]


def test_many_horizons_at_once_equal_one_at_a_time() -> None:
    ref = summary_with_transactions()
    x, t_x, T = ref["x"], ref["t_x"], ref["T"]
    horizons = np.array([0.0, 4.3, 13.0, 52.0])
    bg, pn = (0.243, 4.414, 0.793, 2.426), (0.553, 10.58, 0.606, 11.67)
    many_bg = L.bgnbd_expected_purchases(bg, horizons, x, t_x, T)
    many_pn = L.pareto_nbd_expected_purchases(pn, horizons, x, t_x, T)
    assert many_bg.shape == many_pn.shape == (len(x), 4)
    for j, h in enumerate(horizons):
        assert np.array_equal(many_bg[:, j], L.bgnbd_expected_purchases(bg, float(h), x, t_x, T))
        assert np.allclose(
            many_pn[:, j], L.pareto_nbd_expected_purchases(pn, float(h), x, t_x, T), rtol=1e-14
        )
    assert np.all(many_bg[:, 0] == 0) and np.all(many_pn[:, 0] == 0)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5000), st.integers(0, 400), st.floats(0, 500, allow_nan=False)),
        min_size=1,
        max_size=50,
    ),
    st.sampled_from([0, 10**12]),
)
def test_integer_and_text_customer_ids_summarise_alike(
    rows: list[tuple[int, int, float]], offset: int
) -> None:
    """Compact integer ids take an O(n) path, sparse ones and text np.unique: the summaries agree."""
    ids = np.array([r[0] + offset for r in rows], dtype=np.int64)
    days = np.datetime64("2024-01-01") + np.array([r[1] for r in rows])
    amounts = [r[2] for r in rows]
    as_int = L.summarize_transactions(ids, days, amounts, unit="day")
    as_text = L.summarize_transactions([f"c{i:020d}" for i in ids], days, amounts, unit="day")
    assert [f"c{i:020d}" for i in as_int.customers] == list(as_text.customers)
    for name in ("x", "t_x", "T", "monetary"):
        assert np.array_equal(getattr(as_int, name), getattr(as_text, name))


def test_score_customers_bundles_the_scores(cdnow_summary: L.Summary) -> None:
    s = cdnow_summary
    bg = L.fit_bgnbd(s.x, s.t_x, s.T)
    gg = L.fit_gamma_gamma(s.x, s.monetary)
    scores = L.score_customers(
        s, bg, gg, horizon_months=6, clv_months=24, monthly_discount_rate=0.02, margin=0.3
    )
    month = L.DAYS_PER_MONTH / 7
    assert np.array_equal(scores.p_alive, L.bgnbd_p_alive(bg, s.x, s.t_x, s.T))
    assert np.allclose(scores.expected_purchases, L.bgnbd_expected_purchases(bg, 6 * month, s.x, s.t_x, s.T))
    assert np.array_equal(scores.expected_spend, L.gamma_gamma_expected_spend(gg, s.x, s.monetary))
    expected_clv = L.discounted_clv(
        lambda h: L.bgnbd_expected_purchases(bg, h, s.x, s.t_x, s.T),
        scores.expected_spend,
        periods=24,
        units_per_period=month,
        discount_rate=0.02,
        margin=0.3,
    )
    assert np.allclose(scores.clv, expected_clv)
    assert np.all(scores.clv > 0) and len(scores.clv) == 2357
