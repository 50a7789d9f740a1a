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


def by_owner(
    *, owner: npt.NDArray[np.int64], class_index: npt.NDArray[np.int64], stage_index: npt.NDArray[np.int64],
    churn: npt.NDArray[np.bool_], clv: npt.NDArray[np.float64],
) -> list[dict[str, Any]]:  # fmt: skip
    """The figures of each owner's customers, given as equal-length arrays (owner 0: none, left out;
    class index −1: no purchase; CLV NaN: none): one dict per owner, ready for ``OwnerFigures``. The same
    counts as :func:`summarize` gives for those customers, in a form that adds up over owners."""
    held = owner > 0
    owners, code = np.unique(owner[held], return_inverse=True)
    k = int(owners.shape[0])
    if not k:
        return []
    cls, stage, churned, value = class_index[held], stage_index[held], churn[held], clv[held]
    n_classes, n_stages = len(CLASS_BY_INDEX), len(STAGES)
    bought = cls >= 0
    customers = np.bincount(code, minlength=k)
    buyers = np.bincount(code[bought], minlength=k)
    classes = np.bincount(code[bought] * n_classes + cls[bought], minlength=k * n_classes).reshape(
        k, n_classes
    )
    stages = np.bincount(code * n_stages + stage, minlength=k * n_stages).reshape(k, n_stages)
    warned = np.bincount(code[churned], minlength=k)
    has_clv = ~np.isnan(value)
    # Each customer's CLV in cents first (as its score row stores it), so the sum is exact.
    clv_cents = np.bincount(code[has_clv], weights=np.round(value[has_clv] * 100), minlength=k)
    with_clv = np.bincount(code[has_clv], minlength=k)
    class_codes = [c.value for c in CLASS_BY_INDEX]
    stage_codes = [s.value for s in STAGES]
    return [
        {
            "owner_id": int(owners[i]),
            "customers": int(customers[i]),
            "buyers": int(buyers[i]),
            "churn": int(warned[i]),
            "classes": {c: int(v) for c, v in zip(class_codes, classes[i].tolist(), strict=True) if v},
            "lifecycle": {s: int(v) for s, v in zip(stage_codes, stages[i].tolist(), strict=True) if v},
            "clv_cents": int(clv_cents[i]) if with_clv[i] else None,
        }
        for i in range(k)
    ]
