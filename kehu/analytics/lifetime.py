"""Customer lifetime value (客户终身价值, ANA-3): BG/NBD, Pareto/NBD and Gamma-Gamma, written with NumPy/SciPy.

Pure computation on arrays — no database. The refresh job turns orders into a :class:`Summary` with
:func:`summarize_transactions`, fits the models with :func:`fit_bgnbd` / :func:`fit_pareto_nbd` /
:func:`fit_gamma_gamma` and scores every customer with the ``*_expected_purchases``, ``*_p_alive``,
:func:`gamma_gamma_expected_spend` and :func:`discounted_clv` functions (:func:`score_customers` does
all four with BG/NBD + Gamma-Gamma). Every function takes whole arrays (one element per customer) and runs in vectorised NumPy; nothing loops over customers.

The summary of one customer, in the chosen time unit (day, or week = 7 days, fractional):

* ``x`` (frequency) — the number of *repeat* purchases: purchase days after the first one. Several
  transactions of a customer on the same day count as one purchase (their amounts are added).
* ``t_x`` (recency) — the time from the first purchase to the last one (0 when ``x = 0``).
* ``T`` (age) — the time from the first purchase to the end of the calibration period.
* ``monetary`` — the mean amount of the repeat purchases (the first purchase is left out, as in
  Fader, Hardie & Lee 2005, "RFM and CLV"); 0 when ``x = 0``.

The models (all parameters positive):

* **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer
  buys as a Poisson process with rate λ ~ Gamma(r, α); after each purchase they drop out with
  probability p ~ Beta(a, b). Log-likelihood of one customer (the paper's equation 6)::

      ln L = lnΓ(r+x) − lnΓ(r) + r ln α + lnB(a, b+x) − lnB(a, b)
             + ln[ (α+T)^−(r+x) + δ(x>0) · a/(b+x−1) · (α+t_x)^−(r+x) ]

* **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987), in the form of Fader & Hardie's 2005 note
  "A note on deriving the Pareto/NBD model": purchases Poisson(λ), λ ~ Gamma(r, α); lifetime
  exponential(μ), μ ~ Gamma(s, β)::

      L = Γ(r+x) α^r β^s / Γ(r) · [ 1/((α+T)^(r+x) (β+T)^s) + s/(r+s+x) · A₀ ]
      A₀ = F(t_x) − F(T),  F(t) = ₂F₁(r+s+x, k; r+s+x+1; |α−β|/(m+t)) / (m+t)^(r+s+x)

  with m = max(α, β) and k = s+1 when α ≥ β, k = r+x otherwise. ₂F₁(a, k; a+1; z) is evaluated through
  Euler's transformation (1−z)^(1−k) · ₂F₁(1, a+1−k; a+1; z), which stays finite for large x, and
  the difference A₀ through ``log1p`` so that t_x close to T loses no precision.

* **Gamma-Gamma** (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves"; Fader & Hardie 2013
  note "The Gamma-Gamma model of monetary value"): each transaction value ~ Gamma(p, ν), ν ~ Gamma(q, γ).
  For a customer with x repeat purchases of mean z̄::

      ln L = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln z̄ + px ln x − (px+q) ln(γ + x z̄)

  It is fitted on the repeat buyers (x > 0, z̄ > 0) only.

Fitting: maximum likelihood with ``scipy.optimize.minimize`` over the logarithms of the parameters —
L-BFGS-B with analytic gradients for BG/NBD and Gamma-Gamma, BFGS with central-difference gradients for
Pareto/NBD. The log-likelihood terms that depend on x alone are computed once per distinct x, and BG/NBD
and Pareto/NBD pool customers with equal (x, t_x, T) (frequent when times are whole days), so a fit on a
million customers costs a few vectorised passes per iteration (bench/analytics_models.py: about 2 s for
BG/NBD on 1 000 000 customers, 2 s for Gamma-Gamma on their 430 000 repeat buyers). ``max_rows`` fits on a
seeded random subsample instead (0.4–0.5 s each with 100 000 rows); its estimates move by a few per cent
(on 1 000 000 simulated customers, BG/NBD b 2.56 against 2.48, Gamma-Gamma γ 14.8 against 15.5), so use
it only when the full fit does not fit the time budget. Scoring always covers every customer.
Pareto/NBD has no analytic gradient here and is the slow one (≈ 1–2 s per 20 000 distinct rows).

Discounted CLV (:func:`discounted_clv`) follows the discrete-period sum used by the ``lifetimes`` package:
for periods m = 1 … M (months by default, each ``units_per_period`` time units long)::

    CLV = margin · E[spend] · Σ_m ( E[Y(m·k)] − E[Y((m−1)·k)] ) / (1 + d)^m

where E[Y(t)] is the conditional expected number of purchases in the next t time units, k the period
length in time units and d the discount rate per period.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .history import daily_purchases

Array = npt.NDArray[np.float64]
Unit = Literal["day", "week"]


class _SciPySpecial:
    """``scipy.special``, imported at its first use rather than with this module. Every Django process
    imports this module at start (the analytics app's jobs need the refresh), and scipy.special with
    the parts of NumPy it brings took 0.3 s of that start; the refresh imports it in a thread while it
    waits on the database (refresh._compute)."""

    def __getattr__(self, name: str) -> Any:
        import scipy.special

        return getattr(scipy.special, name)


special = _SciPySpecial()

UNIT_DAYS: dict[str, int] = {"day": 1, "week": 7}
# Average month length in days (365.25 / 12), for CLV periods.
DAYS_PER_MONTH = 30.4375


# --------------------------------------------------------------------------------------------------
# Transactions → summary
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Per-customer RFM summary in one time unit (see the module docstring). Arrays of equal length."""

    customers: npt.NDArray[Any]
    x: Array
    t_x: Array
    T: Array
    monetary: Array
    first: npt.NDArray[np.datetime64]
    last: npt.NDArray[np.datetime64]
    unit: str

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def repeat_buyers(self) -> npt.NDArray[np.bool_]:
        return self.x > 0


def _as_days(dates: Sequence[dt.date] | npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    arr = np.asarray(dates)
    if arr.dtype == object:
        arr = np.array([d.date() if isinstance(d, dt.datetime) else d for d in arr], dtype="datetime64[D]")
    return arr.astype("datetime64[D]")


def _customer_codes(cust: npt.NDArray[Any]) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64]]:
    """Sorted distinct customer ids and each row's index into them (O(n) for compact integer ids)."""
    if cust.dtype.kind in "iu" and cust.size:
        lo, hi = int(cust.min()), int(cust.max())
        if hi - lo <= 4 * cust.size + 1024:
            present = np.bincount((cust - lo).astype(np.int64), minlength=hi - lo + 1) > 0
            index = np.cumsum(present) - 1
            return np.flatnonzero(present) + lo, index[cust - lo].astype(np.int64)
    ids, inv = np.unique(cust, return_inverse=True)
    return ids, inv.reshape(-1).astype(np.int64)


def summarize_transactions(
    customers: npt.ArrayLike,
    dates: npt.ArrayLike,
    amounts: npt.ArrayLike,
    *,
    until: dt.date | None = None,
    unit: Unit = "week",
) -> Summary:
    """Summarise transactions ``(customer, date, amount)`` — one element each — up to ``until``.

    Transactions after ``until`` (inclusive end; default: the last date present) are ignored, so
    customers whose first purchase is later do not appear. Same-day transactions of a customer merge
    into one purchase whose amount is their sum. Customers are returned in sorted order of their ids.
    Times are in ``unit``: days, or weeks of 7 days (fractional, as in the CDNOW papers).
    """
    if unit not in UNIT_DAYS:
        raise ValueError(f"unit must be one of {sorted(UNIT_DAYS)}")
    cust = np.asarray(customers)
    day = _as_days(dates)
    amount = np.asarray(amounts, dtype=np.float64)
    if not (cust.shape == day.shape == amount.shape):
        raise ValueError("customers, dates and amounts must have the same length")
    end = day.max() if until is None and day.size else np.datetime64(until, "D")
    keep = day <= end
    if not keep.all():  # copy only when some orders are after the end
        cust, day, amount = cust[keep], day[keep], amount[keep]

    ids, code = _customer_codes(cust)
    p_code, p_day, p_amount = daily_purchases(code, day.astype(np.int64), amount)

    n = ids.shape[0]
    purchases = np.bincount(p_code, minlength=n)
    first_idx = np.searchsorted(p_code, np.arange(n), side="left")
    last_idx = np.searchsorted(p_code, np.arange(n), side="right") - 1
    first_day = p_day[first_idx]
    last_day = p_day[last_idx]
    total = np.bincount(p_code, weights=p_amount, minlength=n)
    x = (purchases - 1).astype(np.float64)
    repeat_total = total - p_amount[first_idx]
    with np.errstate(invalid="ignore", divide="ignore"):
        monetary = np.where(x > 0, repeat_total / np.maximum(x, 1), 0.0)
    per = float(UNIT_DAYS[unit])
    end_i = end.astype(np.int64)
    return Summary(
        customers=ids,
        x=x,
        t_x=(last_day - first_day) / per,
        T=(end_i - first_day) / per,
        monetary=monetary,
        first=first_day.astype("datetime64[D]"),
        last=last_day.astype("datetime64[D]"),
        unit=unit,
    )


# --------------------------------------------------------------------------------------------------
# Fitting helpers
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Data:
    """x, t_x, T as float arrays, plus the distinct x values and each row's index into them."""

    x: Array
    t_x: Array
    T: Array
    ux: Array
    inv: npt.NDArray[np.intp]

    @classmethod
    def of(cls, x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike) -> _Data:
        xa = np.asarray(x, dtype=np.float64)
        ta = np.asarray(t_x, dtype=np.float64)
        Ta = np.asarray(T, dtype=np.float64)
        if not (xa.shape == ta.shape == Ta.shape):
            raise ValueError("x, t_x and T must have the same length")
        if xa.size and (np.any(xa < 0) or np.any(ta < 0) or np.any(ta > Ta + 1e-9)):
            raise ValueError("need x ≥ 0 and 0 ≤ t_x ≤ T")
        ux, inv = np.unique(xa, return_inverse=True)
        return cls(xa, ta, Ta, ux, inv.reshape(-1))


def _subsample(n: int, max_rows: int | None, seed: int) -> npt.NDArray[np.intp] | None:
    if max_rows is None or n <= max_rows:
        return None
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def _picked(
    x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike, *, max_rows: int | None, seed: int
) -> tuple[Array, Array, Array]:
    """x, t_x, T as float arrays, reduced to a seeded random subsample of ``max_rows`` when there are more."""
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t_x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    if not (xa.shape == ta.shape == Ta.shape):
        raise ValueError("x, t_x and T must have the same length")
    if xa.shape[0] == 0:
        raise ValueError("no customers to fit")
    pick = _subsample(xa.shape[0], max_rows, seed)
    if pick is None:
        return xa, ta, Ta
    return xa[pick], ta[pick], Ta[pick]


def _minimize(
    fun: Callable[[Array], tuple[float, Array]] | Callable[[Array], float],
    x0: Array,
    *,
    jac: bool,
    start: Sequence[float] | None = None,
) -> Array:
    """Minimise over log-parameters: L-BFGS-B with the analytic gradient, else BFGS with central differences.

    ``start``: parameters to start from instead of ``x0`` (the last refresh's fit, which today's data moves
    only a little: a handful of iterations instead of dozens). The maximum is the same; only the way there
    is shorter. Should that search end somewhere not even as likely as ``x0`` (a start from data unlike
    today's), the fit starts again from ``x0``. A search that stops because its line search can make no
    more progress is taken, from either start: at a maximum on a ridge, as some ledgers have, that is how
    L-BFGS-B stops."""
    if start is not None and len(start) == len(x0) and all(math.isfinite(v) and v > 0 for v in start):
        res = _search(fun, np.log(np.asarray(start, dtype=np.float64)), jac=jac)
        at_x0 = fun(x0)
        worst = float(at_x0[0] if isinstance(at_x0, tuple) else at_x0)
        if np.all(np.isfinite(res.x)) and math.isfinite(float(res.fun)) and float(res.fun) <= worst:
            return np.asarray(res.x, dtype=np.float64)
    best = np.asarray(_search(fun, x0, jac=jac).x, dtype=np.float64)
    if not np.all(np.isfinite(best)):
        raise FloatingPointError("the likelihood maximisation did not converge")
    return best


def _search(fun: Callable[[Array], Any], x0: Array, *, jac: bool) -> Any:
    # Imported here, not with the module: scipy.optimize brings scipy.linalg and the rest along (0.8–0.9 s
    # of CPU), and every Django process imports this module when it starts (the analytics app's jobs).
    # The refresh imports it beside its first reads (``refresh._compute``).
    from scipy.optimize import minimize

    if jac:
        return minimize(
            fun, x0, jac=True, method="L-BFGS-B", options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-9}
        )
    return minimize(fun, x0, jac="3-point", method="BFGS", options={"gtol": 1e-9, "maxiter": 2000})


# --------------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BGNBDParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "a": self.a,
            "b": self.b,
            "log_likelihood": self.log_likelihood,
        }


_STEPWISE_MAX_X = 100_000  # the largest count whose beta terms are summed step by step (below)


def _beta_terms(a: float, b: float, ux: Array) -> tuple[Array, Array, Array]:
    """For each distinct count x: ln B(a, b + x) − ln B(a, b) and its derivatives by a and by b.

    As differences of ``betaln`` and ``digamma`` values these lose their precision when a and b are large —
    at 10¹¹ a log-gamma is 10¹² and its last bit 10⁻⁴, so the log-likelihood of a few hundred customers was
    off by tenths. Some ledgers' maximum lies on a ridge where a and b grow together without end, and a
    search that went far along it found a likelihood that was not there (a fit started from yesterday's
    parameters "beat" a fresh fit by 0.27). For whole counts the same terms are sums over k < x, each term
    small and exact: ln B(a, b + x) − ln B(a, b) = −Σ ln(1 + a/(b + k)); by a, −Σ 1/(a + b + k); by b,
    Σ a / ((b + k)(a + b + k))."""
    top = float(ux[-1]) if ux.size else 0.0
    if not (top <= _STEPWISE_MAX_X and np.all(ux == np.floor(ux))):
        ab = special.digamma(a + b) - special.digamma(a + b + ux)
        return (
            special.betaln(a, b + ux) - special.betaln(a, b),
            ab,
            special.digamma(b + ux) - special.digamma(b) + ab,
        )
    k = np.arange(int(top), dtype=np.float64)
    at = ux.astype(np.intp)

    def summed(terms: Array) -> Array:
        return np.concatenate(([0.0], np.cumsum(terms)))[at]

    return (
        summed(-np.log1p(a / (b + k))),
        summed(-1.0 / (a + b + k)),
        summed(a / ((b + k) * (a + b + k))),
    )


def _bgnbd_ll_grad(theta: Array, d: _Data, weight: Array | None = None) -> tuple[float, Array]:
    """Total log-likelihood and its gradient with respect to the log-parameters.

    ``weight``: how many customers each row stands for (rows with equal (x, t_x, T) pooled); default 1 each.
    """
    r, alpha, a, b = np.exp(theta)
    ux = d.ux
    # Terms that depend on x only: computed once per distinct x.
    beta_x, g_a_x, g_b_x = _beta_terms(a, b, ux)
    c_x = special.gammaln(r + ux) - special.gammaln(r) + beta_x
    g_r_x = special.digamma(r + ux) - special.digamma(r)
    pos_u = ux > 0
    log_ab_u = np.where(pos_u, np.log(a) - np.log(np.where(pos_u, b + ux - 1, 1.0)), -np.inf)
    inv_b_u = np.where(pos_u, 1.0 / np.where(pos_u, b + ux - 1, 1.0), 0.0)

    x, inv = d.x, d.inv
    wt = np.ones_like(x) if weight is None else weight
    n = float(np.sum(wt))
    rx = r + x
    la_T = np.log(alpha + d.T)
    la_t = np.log(alpha + d.t_x)
    A3 = -rx * la_T
    A4 = log_ab_u[inv] - rx * la_t
    tail = np.logaddexp(A3, A4)
    w = np.exp(A4 - tail)  # weight of the "dropped out after the last purchase" branch; 0 when x = 0
    counts = np.bincount(inv, weights=wt, minlength=ux.shape[0])
    ll = float(counts @ c_x + n * r * np.log(alpha) + wt @ tail)

    d_r = counts @ g_r_x + n * np.log(alpha) - wt @ ((1 - w) * la_T + w * la_t)
    d_alpha = n * r / alpha - wt @ (rx * ((1 - w) / (alpha + d.T) + w / (alpha + d.t_x)))
    d_a = counts @ g_a_x + (wt @ w) / a
    d_b = counts @ g_b_x - wt @ (w * inv_b_u[inv])
    grad = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return ll, grad


def bgnbd_log_likelihood(
    params: BGNBDParams | Sequence[float], x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> float:
    """Total BG/NBD log-likelihood of the customers at ``params`` (r, alpha, a, b)."""
    p = _bgnbd_tuple(params)
    return _bgnbd_ll_grad(np.log(np.asarray(p)), _Data.of(x, t_x, T))[0]


def fit_bgnbd(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    max_rows: int | None = None,
    seed: int = 0,
    start: Sequence[float] | None = None,
) -> BGNBDParams:
    """Maximum-likelihood BG/NBD parameters. ``max_rows``: fit on a seeded random subsample of that size;
    ``start``: (r, alpha, a, b) to start the search from (see :func:`_minimize`)."""
    d = _Data.of(*_picked(x, t_x, T, max_rows=max_rows, seed=seed))
    n = len(d.x)
    # Start: r = 1, alpha from the mean purchase rate, a = 1, b = 3 (a mildly "sticky" population).
    rate = max(float(np.sum(d.x)) / max(float(np.sum(d.T)), 1e-9), 1e-6)
    x0 = np.log(np.array([1.0, 1.0 / rate, 1.0, 3.0]))
    # Customers with equal (x, t_x, T) — common when times are whole days — are pooled with a weight.
    (px, pt, pT), inv = _unique_rows(d.x, d.t_x, d.T)
    weight = np.bincount(inv, minlength=px.shape[0]).astype(np.float64)
    pooled = _Data.of(px, pt, pT)

    def fun(theta: Array) -> tuple[float, Array]:
        theta = np.clip(theta, -30, 30)
        ll, g = _bgnbd_ll_grad(theta, pooled, weight)
        return -ll / n, -g / n

    theta = _minimize(fun, x0, jac=True, start=start)
    r, alpha, a, b = (float(v) for v in np.exp(theta))
    ll = _bgnbd_ll_grad(theta, pooled, weight)[0]
    return BGNBDParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=float(ll), n=n)


def _bgnbd_tuple(params: BGNBDParams | Sequence[float]) -> tuple[float, float, float, float]:
    if isinstance(params, BGNBDParams):
        return params.r, params.alpha, params.a, params.b
    r, alpha, a, b = (float(v) for v in params)
    return r, alpha, a, b


def bgnbd_p_alive(
    params: BGNBDParams | Sequence[float], x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> Array:
    """P(alive | x, t_x, T) under BG/NBD (equation 13 of the 2005 paper). 1 for customers with x = 0."""
    r, alpha, a, b = _bgnbd_tuple(params)
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t_x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    pos = xa > 0
    log_odds = (
        np.log(a)
        - np.log(np.where(pos, b + xa - 1, 1.0))
        + (r + xa) * (np.log(alpha + Ta) - np.log(alpha + ta))
    )
    return np.where(pos, 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0))), 1.0)


def _unique_rows(*cols: Array) -> tuple[list[Array], npt.NDArray[np.intp]]:
    """Distinct rows of the given columns, and each row's index into them (for expensive special functions)."""
    order = np.lexsort(cols[::-1])
    n = order.shape[0]
    change = np.zeros(n, dtype=bool)
    if n:
        change[0] = True
    for c in cols:
        sc = c[order]
        change[1:] |= sc[1:] != sc[:-1]
    group = np.cumsum(change) - 1
    inv = np.empty(n, dtype=np.intp)
    inv[order] = group
    firsts = order[change]
    return [c[firsts] for c in cols], inv


def _horizons(t: float | npt.ArrayLike) -> tuple[Array, bool]:
    """Horizons as a 1-D array, and whether a single number was given."""
    ta = np.asarray(t, dtype=np.float64)
    if ta.ndim > 1:
        raise ValueError("t must be a number or a 1-D array of horizons")
    return np.atleast_1d(ta), ta.ndim == 0


def bgnbd_expected_purchases(
    params: BGNBDParams | Sequence[float],
    t: float | npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    """E[purchases in the next ``t`` time units | x, t_x, T] under BG/NBD (equation 10 of the 2005 paper).

    ``t`` is one horizon (result: one value per customer) or a 1-D array of H horizons (result: shape
    (customers, H)). The hypergeometric factor depends on (x, T) only and is computed once per distinct pair.
    """
    r, alpha, a, b = _bgnbd_tuple(params)
    xa = np.asarray(x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    horizons, single = _horizons(t)
    if abs(a - 1.0) < 1e-9:  # the formula's 0/0 limit: nudge a (the expectation is continuous in a)
        a = 1.0 + 1e-9
    if abs(a + b - 1.0) < 1e-9:  # for x = 0 the hypergeometric's c = a + b - 1 is 0 (a pole, times a zero
        b = 1.0 - a + 1e-9  # scale): nudge b, in which the expectation is continuous
    (ux, uT), inv = _unique_rows(xa, Ta)
    alive = bgnbd_p_alive((r, alpha, a, b), xa, t_x, Ta)
    out = np.zeros((xa.shape[0], horizons.shape[0]))
    scale = (a + b + ux - 1) / (a - 1)
    for j, h in enumerate(horizons.tolist()):
        if h <= 0:
            continue
        hyp = special.hyp2f1(r + ux, b + ux, a + b + ux - 1, h / (alpha + uT + h))
        head = 1.0 - np.exp((r + ux) * np.log((alpha + uT) / (alpha + uT + h))) * hyp
        out[:, j] = (scale * head)[inv] * alive
    return out[:, 0] if single else out


def bgnbd_expected_purchases_new(params: BGNBDParams | Sequence[float], t: npt.ArrayLike) -> Array:
    """E[X(t)]: expected purchases in ``t`` time units of a customer just acquired (equation 9)."""
    r, alpha, a, b = _bgnbd_tuple(params)
    if abs(a - 1.0) < 1e-9:  # the limits of bgnbd_expected_purchases, nudged the same way
        a = 1.0 + 1e-9
    if abs(a + b - 1.0) < 1e-9:
        b = 1.0 - a + 1e-9
    ta = np.asarray(t, dtype=np.float64)
    head = 1.0 - (alpha / (alpha + ta)) ** r * special.hyp2f1(r, b, a + b - 1, ta / (alpha + ta))
    return (a + b - 1) / (a - 1) * head


# --------------------------------------------------------------------------------------------------
# Pareto/NBD
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParetoNBDParams:
    r: float
    alpha: float
    s: float
    beta: float
    log_likelihood: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {
            "r": self.r,
            "alpha": self.alpha,
            "s": self.s,
            "beta": self.beta,
            "log_likelihood": self.log_likelihood,
        }


def _pnbd_tuple(params: ParetoNBDParams | Sequence[float]) -> tuple[float, float, float, float]:
    if isinstance(params, ParetoNBDParams):
        return params.r, params.alpha, params.s, params.beta
    r, alpha, s, beta = (float(v) for v in params)
    return r, alpha, s, beta


def _log_hyp_a_k(a: Array, k: Array, z: Array) -> Array:
    """ln ₂F₁(a, k; a+1; z) for 0 ≤ z < 1 through Euler's transformation (1−z)^(1−k) ₂F₁(1, a+1−k; a+1; z)."""
    return (1.0 - k) * np.log1p(-z) + np.log(special.hyp2f1(1.0, a + 1.0 - k, a + 1.0, z))


def _pnbd_log_A0(r: float, alpha: float, s: float, beta: float, x: Array, t_x: Array, T: Array) -> Array:
    """ln A₀ (see the module docstring); −inf where t_x = T (A₀ = 0)."""
    rsx = r + s + x
    if alpha >= beta:
        m, k = alpha, np.full_like(x, s + 1.0)
    else:
        m, k = beta, r + x
    gap = abs(alpha - beta)
    log_f_tx = _log_hyp_a_k(rsx, k, gap / (m + t_x)) - rsx * np.log(m + t_x)
    log_f_T = _log_hyp_a_k(rsx, k, gap / (m + T)) - rsx * np.log(m + T)
    diff = np.minimum(log_f_T - log_f_tx, 0.0)
    with np.errstate(divide="ignore"):
        return log_f_tx + np.log(-np.expm1(diff))


def _pnbd_ll_rows(r: float, alpha: float, s: float, beta: float, x: Array, t_x: Array, T: Array) -> Array:
    rsx = r + s + x
    A1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    first = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    second = np.log(s) - np.log(rsx) + _pnbd_log_A0(r, alpha, s, beta, x, t_x, T)
    return A1 + np.logaddexp(first, second)


def pareto_nbd_log_likelihood(
    params: ParetoNBDParams | Sequence[float], x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> float:
    """Total Pareto/NBD log-likelihood at ``params`` (r, alpha, s, beta)."""
    d = _Data.of(x, t_x, T)
    return float(np.sum(_pnbd_ll_rows(*_pnbd_tuple(params), d.x, d.t_x, d.T)))


def fit_pareto_nbd(
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
    *,
    max_rows: int | None = None,
    seed: int = 0,
) -> ParetoNBDParams:
    """Maximum-likelihood Pareto/NBD parameters (numeric gradient; rows with equal (x, t_x, T) are pooled)."""
    d = _Data.of(*_picked(x, t_x, T, max_rows=max_rows, seed=seed))
    n = len(d.x)
    (ux, ut, uT), inv = _unique_rows(d.x, d.t_x, d.T)
    weight = np.bincount(inv, minlength=ux.shape[0]).astype(np.float64)
    rate = max(float(np.sum(d.x)) / max(float(np.sum(d.T)), 1e-9), 1e-6)
    x0 = np.log(np.array([1.0, 1.0 / rate, 1.0, float(np.mean(d.T)) or 1.0]))

    def fun(theta: Array) -> float:
        r, alpha, s, beta = np.exp(np.clip(theta, -30, 30))
        with np.errstate(all="ignore"):
            ll = float(weight @ _pnbd_ll_rows(r, alpha, s, beta, ux, ut, uT))
        return -ll / n if np.isfinite(ll) else 1e300

    theta = _minimize(fun, x0, jac=False)
    r, alpha, s, beta = (float(v) for v in np.exp(theta))
    with np.errstate(all="ignore"):
        ll = float(weight @ _pnbd_ll_rows(r, alpha, s, beta, ux, ut, uT))
    return ParetoNBDParams(r=r, alpha=alpha, s=s, beta=beta, log_likelihood=ll, n=n)


def pareto_nbd_p_alive(
    params: ParetoNBDParams | Sequence[float], x: npt.ArrayLike, t_x: npt.ArrayLike, T: npt.ArrayLike
) -> Array:
    """P(alive | x, t_x, T) under Pareto/NBD: 1 / (1 + s/(r+s+x) · (α+T)^(r+x) (β+T)^s · A₀)."""
    r, alpha, s, beta = _pnbd_tuple(params)
    xa = np.asarray(x, dtype=np.float64)
    ta = np.asarray(t_x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    log_odds = (
        np.log(s)
        - np.log(r + s + xa)
        + (r + xa) * np.log(alpha + Ta)
        + s * np.log(beta + Ta)
        + _pnbd_log_A0(r, alpha, s, beta, xa, ta, Ta)
    )
    return 1.0 / (1.0 + np.exp(np.minimum(log_odds, 700.0)))


def pareto_nbd_expected_purchases(
    params: ParetoNBDParams | Sequence[float],
    t: float | npt.ArrayLike,
    x: npt.ArrayLike,
    t_x: npt.ArrayLike,
    T: npt.ArrayLike,
) -> Array:
    """E[purchases in the next ``t`` | x, t_x, T] under Pareto/NBD (``t``: a number or a 1-D array, as BG/NBD).

    (r+x)(β+T) / ((α+T)(s−1)) · [1 − ((β+T)/(β+T+t))^(s−1)] · P(alive), with the s → 1 limit taken care of.
    """
    r, alpha, s, beta = _pnbd_tuple(params)
    xa = np.asarray(x, dtype=np.float64)
    Ta = np.asarray(T, dtype=np.float64)
    horizons, single = _horizons(t)
    h = np.maximum(horizons, 0.0)[None, :]
    log_k = np.log((beta + Ta)[:, None] / (beta + Ta[:, None] + h))
    factor = -log_k if abs(s - 1.0) < 1e-12 else -np.expm1((s - 1.0) * log_k) / (s - 1.0)
    base = (r + xa) * (beta + Ta) / (alpha + Ta) * pareto_nbd_p_alive(params, xa, t_x, Ta)
    out = base[:, None] * factor
    return out[:, 0] if single else out


# --------------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    log_likelihood: float
    n: int

    def as_dict(self) -> dict[str, float]:
        return {"p": self.p, "q": self.q, "gamma": self.gamma, "log_likelihood": self.log_likelihood}

    @property
    def population_mean(self) -> float:
        """E[Z] = pγ/(q−1), the mean transaction value of the population (infinite when q ≤ 1)."""
        return self.p * self.gamma / (self.q - 1) if self.q > 1 else float("inf")


def _gg_ll_grad(theta: Array, x: Array, z: Array) -> tuple[float, Array]:
    p, q, g = np.exp(theta)
    px = p * x
    lz = np.log(z)
    lx = np.log(x)
    lgz = np.log(g + x * z)
    ll = np.sum(
        special.gammaln(px + q) - special.gammaln(px) + (px - 1) * lz + px * lx - (px + q) * lgz
    ) + len(x) * (q * np.log(g) - special.gammaln(q))
    psi = special.digamma(px + q)
    d_p = np.sum(x * (psi - special.digamma(px) + lz + lx - lgz))
    d_q = np.sum(psi - lgz) + len(x) * (np.log(g) - special.digamma(q))
    d_g = len(x) * q / g - np.sum((px + q) / (g + x * z))
    return float(ll), np.array([d_p * p, d_q * q, d_g * g])


def _gg_rows(x: npt.ArrayLike, monetary: npt.ArrayLike) -> tuple[Array, Array]:
    xa = np.asarray(x, dtype=np.float64)
    za = np.asarray(monetary, dtype=np.float64)
    if xa.shape != za.shape:
        raise ValueError("x and monetary must have the same length")
    keep = (xa > 0) & (za > 0)
    return xa[keep], za[keep]


def gamma_gamma_log_likelihood(
    params: GammaGammaParams | Sequence[float], x: npt.ArrayLike, monetary: npt.ArrayLike
) -> float:
    """Total Gamma-Gamma log-likelihood of the repeat buyers (x > 0, monetary > 0) at (p, q, gamma)."""
    if isinstance(params, GammaGammaParams):
        p, q, g = params.p, params.q, params.gamma
    else:
        p, q, g = (float(v) for v in params)
    xa, za = _gg_rows(x, monetary)
    return _gg_ll_grad(np.log(np.array([p, q, g])), xa, za)[0]


def fit_gamma_gamma(
    x: npt.ArrayLike,
    monetary: npt.ArrayLike,
    *,
    max_rows: int | None = None,
    seed: int = 0,
    start: Sequence[float] | None = None,
) -> GammaGammaParams:
    """Maximum-likelihood Gamma-Gamma parameters on the repeat buyers (x > 0 and monetary > 0); ``start``:
    (p, q, gamma) to start the search from (see :func:`_minimize`)."""
    xa, za = _gg_rows(x, monetary)
    if len(xa) == 0:
        raise ValueError("no repeat buyers with a positive mean spend to fit")
    pick = _subsample(len(xa), max_rows, seed)
    if pick is not None:
        xa, za = xa[pick], za[pick]
    n = len(xa)
    # Method-of-moments-flavoured start: p from the spread of z̄, q = 3, gamma matching the mean.
    mean = float(np.mean(za))
    cv2 = float(np.var(za) / mean**2) if n > 1 and mean > 0 else 0.5
    p0 = min(max(1.0 / max(cv2, 1e-3), 0.5), 50.0)
    x0 = np.log(np.array([p0, 3.0, 2.0 * mean / p0]))

    def fun(theta: Array) -> tuple[float, Array]:
        theta = np.clip(theta, -30, 30)
        ll, g = _gg_ll_grad(theta, xa, za)
        return -ll / n, -g / n

    theta = _minimize(fun, x0, jac=True, start=start)
    p, q, g = (float(v) for v in np.exp(theta))
    return GammaGammaParams(p=p, q=q, gamma=g, log_likelihood=_gg_ll_grad(theta, xa, za)[0], n=n)


def gamma_gamma_expected_spend(
    params: GammaGammaParams | Sequence[float], x: npt.ArrayLike, monetary: npt.ArrayLike
) -> Array:
    """E[spend per purchase | x, z̄] = (γ + x z̄) p / (px + q − 1).

    A weighted mean of the population mean pγ/(q−1) and the customer's own mean z̄; customers with no
    repeat purchase get the population mean.
    """
    if isinstance(params, GammaGammaParams):
        p, q, g = params.p, params.q, params.gamma
    else:
        p, q, g = (float(v) for v in params)
    xa = np.asarray(x, dtype=np.float64)
    za = np.where(xa > 0, np.asarray(monetary, dtype=np.float64), 0.0)
    return (g + xa * za) * p / (p * xa + q - 1)


# --------------------------------------------------------------------------------------------------
# CLV
# --------------------------------------------------------------------------------------------------

ExpectedPurchases = Callable[[Array], Array]


def discounted_clv(
    expected_purchases: ExpectedPurchases,
    expected_spend: npt.ArrayLike,
    *,
    periods: int = 12,
    units_per_period: float,
    discount_rate: float = 0.01,
    margin: float | npt.ArrayLike = 1.0,
) -> Array:
    """Discounted CLV over ``periods`` periods (see the module docstring for the formula).

    ``expected_purchases(horizons)`` returns every customer's conditional expected purchases in the next
    ``h`` time units for each horizon, shape (customers, len(horizons)) — e.g.
    ``lambda h: bgnbd_expected_purchases(params, h, x, t_x, T)``; it is called once. ``units_per_period``
    is the length of one period in those units (a month in weeks is ``units_per_month("week")``);
    ``discount_rate`` is per period; ``margin`` the profit share of revenue (1 = revenue CLV).
    """
    if periods < 0 or units_per_period <= 0 or discount_rate <= -1:
        raise ValueError("need periods ≥ 0, units_per_period > 0 and discount_rate > −1")
    spend = np.asarray(expected_spend, dtype=np.float64)
    if periods == 0:
        return np.zeros_like(spend)
    horizons = units_per_period * np.arange(1, periods + 1, dtype=np.float64)
    cumulative = np.asarray(expected_purchases(horizons), dtype=np.float64).reshape(spend.shape[0], periods)
    per_period = np.diff(cumulative, axis=1, prepend=0.0)
    discount = (1.0 + discount_rate) ** -np.arange(1, periods + 1, dtype=np.float64)
    return np.asarray(margin, dtype=np.float64) * spend * (per_period @ discount)


def units_per_month(unit: str) -> float:
    """Length of an average month in ``unit`` (day or week)."""
    return DAYS_PER_MONTH / UNIT_DAYS[unit]


@dataclass(frozen=True)
class CustomerScores:
    """Per-customer lifetime-value scores (arrays aligned with the summary's customers)."""

    p_alive: Array
    expected_purchases: Array  # in the next ``horizon`` time units
    expected_spend: Array  # per purchase (Gamma-Gamma)
    clv: Array  # discounted, over ``periods`` months, times ``margin``


def score_customers(
    summary: Summary,
    bgnbd: BGNBDParams,
    gamma_gamma: GammaGammaParams,
    *,
    horizon_months: float = 3.0,
    clv_months: int = 12,
    monthly_discount_rate: float = 0.01,
    margin: float = 1.0,
) -> CustomerScores:
    """P(alive), expected purchases in the next ``horizon_months``, expected spend and discounted CLV.

    CLV uses monthly periods (a month is 30.4375 days in the summary's unit) discounted at
    ``monthly_discount_rate``; ``margin`` turns revenue into profit (1 = revenue CLV).
    """
    month = units_per_month(summary.unit)
    x, t_x, T = summary.x, summary.t_x, summary.T
    spend = gamma_gamma_expected_spend(gamma_gamma, x, summary.monetary)
    clv = discounted_clv(
        lambda h: bgnbd_expected_purchases(bgnbd, h, x, t_x, T),
        spend,
        periods=clv_months,
        units_per_period=month,
        discount_rate=monthly_discount_rate,
        margin=margin,
    )
    return CustomerScores(
        p_alive=bgnbd_p_alive(bgnbd, x, t_x, T),
        expected_purchases=bgnbd_expected_purchases(bgnbd, horizon_months * month, x, t_x, T),
        expected_spend=spend,
        clv=clv,
    )
