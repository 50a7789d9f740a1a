"""The figures an analytics page shows for a set of customers — one function, used by the refresh for the
whole company (stored with the run) and by the pages for a narrower scope (computed from the score rows
the actor may see), so both give the same numbers for the same customers."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from .lifecycle import STAGES
from .rfm import CLASS_BY_INDEX, class_summaries, concentration

# CLV bands (CNY) for the distribution chart: wide at the top, where few customers are.
CLV_EDGES = (0, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000, 500_000, 1_000_000)
_INDEX_OF = {cls.value: i for i, cls in enumerate(CLASS_BY_INDEX)}


def clv_histogram(clv: npt.NDArray[np.float64]) -> list[dict[str, Any]]:
    """Customers per CLV band (customers without a CLV — no purchase yet — are not counted)."""
    values = clv[~np.isnan(clv)]
    edges = np.array((*CLV_EDGES, np.inf))
    counts = (
        np.histogram(np.maximum(values, 0.0), bins=edges)[0] if values.size else np.zeros(len(CLV_EDGES), int)
    )
    out = []
    for lo, hi, count in zip(CLV_EDGES, (*CLV_EDGES[1:], None), counts.tolist(), strict=True):
        out.append({"from": lo, "to": hi, "count": int(count)})
    return out


def concentration_figures(values: npt.NDArray[np.float64]) -> dict[str, Any] | None:
    """The Pareto concentration of ``values`` as the pages and the API show it (None without values)."""
    c = concentration(values)
    if c.n == 0:
        return None
    return {"n": c.n, "total": c.total, "top_share": c.top_share, "top_count": c.top_count,
            "top_value_share": c.top_value_share, "curve": c.curve, "gini": c.gini}  # fmt: skip


def summarize(
    *, rfm_class: npt.NDArray[Any], recency_days: npt.NDArray[np.float64], purchases: npt.NDArray[np.float64],
    revenue: npt.NDArray[np.float64], profit: npt.NDArray[np.float64], revenue_12m: npt.NDArray[np.float64],
    clv: npt.NDArray[np.float64], lifecycle: npt.NDArray[Any], churn: npt.NDArray[np.bool_],
) -> dict[str, Any]:  # fmt: skip
    """JSON-ready figures of customers given as equal-length arrays (NaN: unknown profit / no CLV; ""
    class: no purchase)."""
    n = int(rfm_class.shape[0])
    bought = rfm_class != ""
    idx = np.array([_INDEX_OF[c] for c in rfm_class[bought].tolist()], dtype=np.int64)
    classes = class_summaries(idx, recency_days[bought], purchases[bought], revenue[bought])
    known_profit = bought & ~np.isnan(profit)
    stage_codes = [s.value for s in STAGES]
    return {
        "customers": n,
        "buyers": int(np.count_nonzero(bought)),
        "classes": [
            {
                "class": s.rfm_class.value,
                "count": s.count,
                "share": s.share,
                "mean_recency_days": s.mean_recency_days,
                "mean_frequency": s.mean_frequency,
                "mean_monetary": s.mean_monetary,
                "total_monetary": s.total_monetary,
                "monetary_share": s.monetary_share,
            }
            for s in classes
        ],
        "pareto": concentration_figures(revenue[bought]),
        "pareto_12m": concentration_figures(revenue_12m[revenue_12m > 0]),
        "pareto_profit": concentration_figures(profit[known_profit]) if known_profit.any() else None,
        "lifecycle": {code: int(np.count_nonzero(lifecycle == code)) for code in stage_codes},
        "churn": {"flagged": int(np.count_nonzero(churn))},
        "clv_total": float(np.nansum(clv)) if (~np.isnan(clv)).any() else None,
        "clv_histogram": clv_histogram(clv),
    }
