"""Timing of the analytics core (issue 5) on synthetic customers: fit and score, RFM, Pareto, rules.

    nice python -m bench.analytics_models [--customers 1000000] [--orders 10000000] [--fit-rows 100000]

Customers are drawn from the models themselves (BG/NBD purchases with the CDNOW parameters in weeks,
Gamma-Gamma spend), so the fits have a known truth to come back to. ``--orders`` also times the
transactions → summary step on that many order rows (0 to skip). Prints one line per step and a JSON
summary; nothing is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import time
from collections.abc import Callable
from typing import Any

import numpy as np

TRUE_BG = (0.243, 4.414, 0.793, 2.426)
TRUE_GG = (6.25, 3.74, 15.44)


def synthetic_summary(n: int, seed: int = 1) -> dict[str, np.ndarray]:
    """x, t_x, T (weeks, whole days) and mean repeat spend of ``n`` customers simulated from BG/NBD and Gamma-Gamma."""
    rng = np.random.default_rng(seed)
    r, alpha, a, b = TRUE_BG
    T = rng.integers(7, 729, n) / 7.0  # whole days, as summaries of real orders are
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    events = rng.poisson(lam * T)  # purchases in (0, T] had the customer never dropped out
    dropout_after = rng.geometric(np.clip(p, 1e-12, 1.0))  # the repeat purchase after which they leave
    x = np.minimum(events, dropout_after)
    # The x-th of `events` uniform purchase times in (0, T] is Beta(x, events − x + 1) · T.
    t_x = np.where(x > 0, rng.beta(np.maximum(x, 1), np.maximum(events - x + 1, 1)) * T, 0.0)
    t_x = np.floor(t_x * 7.0) / 7.0
    pp, q, g = TRUE_GG
    nu = rng.gamma(q, 1.0 / g, n)
    zbar = np.where(x > 0, rng.gamma(pp * np.maximum(x, 1), 1.0 / (nu * np.maximum(x, 1))), 0.0)
    return {"x": x.astype(np.float64), "t_x": t_x, "T": T, "monetary": zbar}


def timed(label: str, results: dict[str, Any], fn: Callable[[], Any]) -> Any:
    """Run ``fn``; record wall and CPU seconds (CPU time is what a shared, busy machine does not inflate)."""
    start, cpu = time.perf_counter(), time.process_time()
    value = fn()
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    results[label] = {"wall": round(seconds, 3), "cpu": round(cpu_seconds, 3)}
    print(f"{label:<48} {seconds:8.3f} s wall {cpu_seconds:8.3f} s CPU", flush=True)
    return value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders", type=int, default=10_000_000)
    parser.add_argument("--fit-rows", type=int, default=100_000)
    parser.add_argument("--skip-full-fit", action="store_true", help="only fit on the subsample")
    args = parser.parse_args(argv)

    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from kehu.analytics import churn, history, lifecycle, lifetime, rfm

    n = args.customers
    t: dict[str, Any] = {}
    s = timed(f"simulate {n:,} customers", t, lambda: synthetic_summary(n))
    x, t_x, T, m = s["x"], s["t_x"], s["T"], s["monetary"]
    print(f"  repeat buyers: {int(np.count_nonzero(x > 0)):,}")

    fits: dict[str, Any] = {}
    if not args.skip_full_fit:
        bg = timed("fit BG/NBD (all customers)", t, lambda: lifetime.fit_bgnbd(x, t_x, T))
        gg = timed("fit Gamma-Gamma (all repeat buyers)", t, lambda: lifetime.fit_gamma_gamma(x, m))
        fits["bgnbd_all"] = bg.as_dict()
        fits["gamma_gamma_all"] = gg.as_dict()
    bg_s = timed(
        f"fit BG/NBD ({args.fit_rows:,} subsample)",
        t,
        lambda: lifetime.fit_bgnbd(x, t_x, T, max_rows=args.fit_rows),
    )
    gg_s = timed(
        f"fit Gamma-Gamma ({args.fit_rows:,} subsample)",
        t,
        lambda: lifetime.fit_gamma_gamma(x, m, max_rows=args.fit_rows),
    )
    fits["bgnbd_subsample"] = bg_s.as_dict()
    fits["gamma_gamma_subsample"] = gg_s.as_dict()
    pn_rows = min(args.fit_rows, 20_000)
    pn = timed(
        f"fit Pareto/NBD ({pn_rows:,} subsample)",
        t,
        lambda: lifetime.fit_pareto_nbd(x, t_x, T, max_rows=pn_rows),
    )
    fits["pareto_nbd_subsample"] = pn.as_dict()
    bg = bg_s if args.skip_full_fit else bg
    gg = gg_s if args.skip_full_fit else gg

    alive = timed("score P(alive)", t, lambda: lifetime.bgnbd_p_alive(bg, x, t_x, T))
    month = lifetime.units_per_month("week")
    timed(
        "score expected purchases (next 3 months)",
        t,
        lambda: lifetime.bgnbd_expected_purchases(bg, 3 * month, x, t_x, T),
    )
    spend = timed("score expected spend", t, lambda: lifetime.gamma_gamma_expected_spend(gg, x, m))
    timed(
        "score discounted CLV (12 months, 1 %/month)",
        t,
        lambda: lifetime.discounted_clv(
            lambda h: lifetime.bgnbd_expected_purchases(bg, h, x, t_x, T),
            spend,
            periods=12,
            units_per_period=month,
        ),
    )
    summary = lifetime.Summary(
        customers=np.arange(n),
        x=x,
        t_x=t_x,
        T=T,
        monetary=m,
        first=np.zeros(n, dtype="datetime64[D]"),
        last=np.zeros(n, dtype="datetime64[D]"),
        unit="week",
    )
    timed("score_customers (all four scores together)", t, lambda: lifetime.score_customers(summary, bg, gg))
    recency_days = (T - t_x) * 7
    frequency = x + 1
    scores = timed(
        "RFM scores (quintiles)", t, lambda: rfm.rfm_scores(recency_days, frequency, m * frequency)
    )
    idx = timed("RFM classes", t, lambda: rfm.class_indices(scores))
    timed("RFM class summaries", t, lambda: rfm.class_summaries(idx, recency_days, frequency, m))
    timed(
        "Pareto (revenue + profit) with curve and Gini",
        t,
        lambda: rfm.pareto_analysis(m * frequency, 0.3 * m * frequency),
    )
    rng = np.random.default_rng(2)
    timed(
        "churn flags",
        t,
        lambda: churn.churn_flags(
            p_alive=alive,
            days_since_last=recency_days,
            median_gap=np.where(x > 0, t_x * 7 / np.maximum(x, 1), np.nan),
            gap_count=x,
            engagement_recent=rng.poisson(2, n),
            engagement_previous=rng.poisson(2, n),
        ),
    )

    if args.orders:
        k = args.orders
        codes = rng.integers(0, n, k)
        days = (np.datetime64("2023-01-01") + rng.integers(0, 900, k)).astype("datetime64[D]")
        amounts = rng.gamma(2.0, 50.0, k)
        as_of = dt.date(2025, 6, 30)
        timed(
            f"summary from {k:,} orders (lifetime)",
            t,
            lambda: lifetime.summarize_transactions(codes, days, amounts, until=as_of, unit="week"),
        )
        h = timed(
            f"purchase history from {k:,} orders",
            t,
            lambda: history.purchase_history(codes, days, amounts, n=n, as_of=as_of),
        )
        timed(
            "lifecycle stages",
            t,
            lambda: lifecycle.lifecycle_stages(h, rng.poisson(1, n), rng.poisson(1, n)),
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak memory (RSS)':<48} {peak_mb:8.0f} MB")
    print(
        json.dumps(
            {"customers": n, "orders": args.orders, "seconds": t, "peak_rss_mb": round(peak_mb), "fits": fits}
        )
    )


if __name__ == "__main__":
    main()
