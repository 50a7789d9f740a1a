"""Property-based tests of what the pages count: ``summaries.summarize`` and the score filters."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.analytics.lifecycle import STAGES
from kehu.analytics.rfm import CLASS_BY_INDEX
from kehu.analytics.selectors import score_filter_q
from kehu.analytics.summaries import CLV_EDGES, by_owner, summarize
from kehu.core.errors import ValidationError

CLASSES = [c.value for c in CLASS_BY_INDEX]
money = st.floats(min_value=0, max_value=1e7, allow_nan=False)


@st.composite
def customers(draw: Any) -> dict[str, Any]:
    n = draw(st.integers(min_value=0, max_value=60))
    rows = []
    for _ in range(n):
        bought = draw(st.booleans())
        rows.append(
            {
                "cls": draw(st.sampled_from(CLASSES)) if bought else "",
                "recency": float(draw(st.integers(0, 2000))) if bought else 0.0,
                "purchases": float(draw(st.integers(1, 50))) if bought else 0.0,
                "revenue": draw(money) if bought else 0.0,
                "profit": draw(st.one_of(st.just(math.nan), st.floats(-1e6, 1e6))) if bought else math.nan,
                "r12": draw(money) if bought else 0.0,
                "clv": draw(st.one_of(st.just(math.nan), money)) if bought else math.nan,
                "stage": draw(st.sampled_from([s.value for s in STAGES])),
                "churn": draw(st.booleans()),
            }
        )
    return {"rows": rows}


def _arrays(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def col(key: str, dtype: Any = np.float64) -> Any:
        return np.array([r[key] for r in rows], dtype=dtype)

    return {
        "rfm_class": col("cls", object), "recency_days": col("recency"), "purchases": col("purchases"),
        "revenue": col("revenue"), "profit": col("profit"), "revenue_12m": col("r12"), "clv": col("clv"),
        "lifecycle": col("stage", object), "churn": col("churn", bool),
    }  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(customers())
def test_counts_add_up(data: dict[str, Any]) -> None:
    rows = data["rows"]
    s = summarize(**_arrays(rows))
    buyers = sum(1 for r in rows if r["cls"])
    assert (s["customers"], s["buyers"]) == (len(rows), buyers)
    assert sorted(c["class"] for c in s["classes"]) == sorted(CLASSES)  # all eight, always
    assert sum(c["count"] for c in s["classes"]) == buyers
    for c in s["classes"]:
        assert c["count"] == sum(1 for r in rows if r["cls"] == c["class"])
    assert set(s["lifecycle"]) == {st.value for st in STAGES}
    assert sum(s["lifecycle"].values()) == len(rows)
    assert s["churn"]["flagged"] == sum(r["churn"] for r in rows)
    with_clv = [r["clv"] for r in rows if not math.isnan(r["clv"])]
    assert sum(b["count"] for b in s["clv_histogram"]) == len(with_clv)
    assert len(s["clv_histogram"]) == len(CLV_EDGES)
    if with_clv:
        assert s["clv_total"] == pytest.approx(sum(with_clv), rel=1e-9, abs=1e-6)
    else:
        assert s["clv_total"] is None
    if buyers:
        assert s["pareto"]["n"] == buyers
        assert s["pareto"]["total"] == pytest.approx(
            sum(r["revenue"] for r in rows if r["cls"]), rel=1e-9, abs=1e-6
        )
    else:
        assert s["pareto"] is None


GOOD = {
    "rfm_class": st.sampled_from(CLASSES),
    "lifecycle": st.sampled_from([s.value for s in STAGES]),
    "churn": st.sampled_from(["1", "0", "true", "false", "True"]),
    "clv_min": st.floats(-1e9, 1e9).map(str),
    "clv_max": st.integers(-(10**6), 10**6).map(str),
    "p_alive_max": st.floats(0, 1).map(str),
}


@settings(max_examples=150, deadline=None)
@given(customers(), st.lists(st.integers(0, 4), min_size=60, max_size=60), st.sets(st.integers(1, 4)))
def test_owner_figures_add_up_to_the_summary_of_their_customers(
    data: dict[str, Any], owners: list[int], scope: set[int]
) -> None:
    """A narrower scope's trend point is the sum of its owners' figures (``by_owner``); it must equal
    ``summarize`` of the customers they own — the overview of that scope on the day of the refresh."""
    rows = data["rows"]
    owner = np.array(owners[: len(rows)], dtype=np.int64)
    a = _arrays(rows)
    class_index = np.array([CLASSES.index(c) if c else -1 for c in a["rfm_class"].tolist()], dtype=np.int64)
    stage_index = np.array(
        [[s.value for s in STAGES].index(s) for s in a["lifecycle"].tolist()], dtype=np.int64
    )
    clv = np.round(a["clv"], 2)
    figures = by_owner(
        owner=owner, class_index=class_index, stage_index=stage_index, churn=a["churn"], clv=clv
    )
    assert sorted(f["owner_id"] for f in figures) == sorted(set(owner.tolist()) - {0})
    picked = [f for f in figures if f["owner_id"] in scope]
    mine = np.isin(owner, list(scope))
    expected = summarize(**{k: v[mine] for k, v in {**a, "clv": clv}.items()})
    assert sum(f["customers"] for f in picked) == expected["customers"]
    assert sum(f["buyers"] for f in picked) == expected["buyers"]
    assert sum(f["churn"] for f in picked) == expected["churn"]["flagged"]
    for c in expected["classes"]:
        assert sum(f["classes"].get(c["class"], 0) for f in picked) == c["count"]
    for stage, count in expected["lifecycle"].items():
        assert sum(f["lifecycle"].get(stage, 0) for f in picked) == count
    cents = [f["clv_cents"] for f in picked if f["clv_cents"] is not None]
    if expected["clv_total"] is None:
        assert not cents
    else:
        assert sum(cents) / 100 == pytest.approx(expected["clv_total"], abs=0.005)


@settings(max_examples=200, deadline=None)
@given(key=st.sampled_from(sorted(GOOD)), junk=st.text(min_size=1, max_size=12))
def test_score_filters_refuse_junk_naming_the_filter(key: str, junk: str) -> None:
    if junk.strip() == "" and key in ("clv_min", "clv_max", "p_alive_max"):
        return  # float(" ") fails too, but a blank is "no filter" only when empty
    valid = {
        "rfm_class": junk in CLASSES,
        "lifecycle": junk in {s.value for s in STAGES},
        "churn": junk.lower() in ("1", "0", "true", "false"),
    }.get(key)
    if key in ("clv_min", "clv_max", "p_alive_max"):
        try:
            valid = math.isfinite(float(junk))
        except ValueError:
            valid = False
    if valid:
        score_filter_q({key: junk})
        return
    with pytest.raises(ValidationError) as err:
        score_filter_q({key: junk})
    assert err.value.field == key


@pytest.mark.parametrize("junk", ["nan", "NaN", "inf", "-Infinity"])
@pytest.mark.parametrize("key", ["clv_min", "clv_max", "p_alive_max"])
def test_score_filters_refuse_numbers_that_are_not_finite(key: str, junk: str) -> None:
    with pytest.raises(ValidationError) as err:
        score_filter_q({key: junk})
    assert err.value.field == key


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({}, optional=GOOD))
def test_score_filters_accept_good_values(filters: dict[str, str]) -> None:
    q = score_filter_q(filters)
    assert len(q) == len(filters)  # one condition per filter given
