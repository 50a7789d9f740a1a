"""The refresh's lifetime scores as it computes them — in two halves side by side, the expected purchases
of every month's end at once — against the lifetime module's functions called one by one (ANA-3)."""

from __future__ import annotations

import numpy as np
import pytest

from kehu.analytics.lifetime import (
    BGNBDParams,
    GammaGammaParams,
    bgnbd_expected_purchases,
    bgnbd_p_alive,
    discounted_clv,
    gamma_gamma_expected_spend,
    units_per_month,
)
from kehu.analytics.refresh import RefreshSettings, _lifetime_scores

BG = BGNBDParams(r=0.243, alpha=4.414, a=0.793, b=2.426, log_likelihood=0.0, n=0)
GG = GammaGammaParams(p=6.25, q=3.74, gamma=15.44, log_likelihood=0.0, n=0)


def _buyers(n: int, seed: int = 7) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 300, n) / 7.0  # weeks since the first purchase, from whole days
    x = rng.poisson(2.0, n).astype(np.float64)
    t_x = np.where(x > 0, np.floor(rng.random(n) * T * 7.0) / 7.0, 0.0)
    repeat_mean = np.where(x > 0, np.round(rng.lognormal(4.0, 0.8, n), 2), 0.0)
    margin = np.where(rng.random(n) < 0.3, rng.random(n), 0.3)
    return x, t_x, T, repeat_mean, margin


@pytest.mark.parametrize("horizon_months", [1, 12])
def test_the_scores_are_the_lifetime_functions_results(horizon_months: int) -> None:
    options = RefreshSettings(horizon_months=horizon_months, annual_discount_rate=0.1)
    x, t_x, T, repeat_mean, margin = _buyers(5_001)
    p_alive, expected, spend, clv = _lifetime_scores(BG, GG, x, t_x, T, repeat_mean, margin, options)
    month = units_per_month("week")
    monthly = 1.1 ** (1.0 / 12.0) - 1.0
    np.testing.assert_array_equal(p_alive, bgnbd_p_alive(BG, x, t_x, T))
    np.testing.assert_allclose(
        expected, bgnbd_expected_purchases(BG, horizon_months * month, x, t_x, T), rtol=1e-12, atol=0
    )
    np.testing.assert_array_equal(spend, gamma_gamma_expected_spend(GG, x, repeat_mean))
    by_itself = discounted_clv(
        lambda h: bgnbd_expected_purchases(BG, h, x, t_x, T), spend, periods=horizon_months,
        units_per_period=month, discount_rate=monthly, margin=margin,
    )  # fmt: skip
    np.testing.assert_allclose(clv, by_itself, rtol=1e-12, atol=0)
    assert np.all(np.isfinite(clv)) and np.all(clv >= 0) and np.all(expected >= 0)


@pytest.mark.parametrize("n, half", [(5_001, 2_500), (2, 1), (1, 0), (40, 0), (40, 40)])
def test_two_halves_give_what_the_whole_gives(n: int, half: int) -> None:
    """The refresh scores the buyers in two halves, one per core, and joins them: the same numbers as
    scoring them all at once, an empty half included — to the last bit but for the CLV's sum over the
    months (a matrix product, whose summing order may differ with the number of rows by one unit in the
    last place; the CLV is stored in cents)."""
    options = RefreshSettings()
    inputs = (BG, GG, *_buyers(n, seed=n))
    whole = _lifetime_scores(*inputs, options)
    first = _lifetime_scores(*inputs, options, rows=slice(0, half))
    second = _lifetime_scores(*inputs, options, rows=slice(half, None))
    for name, all_at_once, a, b in zip(
        ("p_alive", "expected", "spend", "clv"), whole, first, second, strict=True
    ):
        assert a.shape == (half,) and b.shape == (n - half,), name
        joined = np.concatenate([a, b])
        if name == "clv":
            np.testing.assert_allclose(joined, all_at_once, rtol=1e-12, atol=0, err_msg=name)
        else:
            np.testing.assert_array_equal(joined, all_at_once, err_msg=name)
