"""Every engine of bench/analytics_engines.py gives the same per-customer facts as a plain-Python
reference, on 20,000 orders in SQLite and PostgreSQL (ADR 0014).

Run by hand (bench/ is not in the suite's testpaths, and the engines are not Kehu requirements)::

    KEHU_ENGINE_TEST_PG=postgresql://postgres@127.0.0.1:5432/kehu_engine_test \\
        .venv/bin/pytest -q bench/test_analytics_engines.py
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from pathlib import Path

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("polars")
pytest.importorskip("duckdb")
pytest.importorskip("adbc_driver_sqlite")
pytest.importorskip("adbc_driver_postgresql")
pytest.importorskip("connectorx")

from bench import analytics_engines as ae  # noqa: E402

ROWS, CUSTOMERS = 20_000, 2_000
PG = os.environ.get("KEHU_ENGINE_TEST_PG", "")


def reference() -> dict[str, np.ndarray]:
    """The facts by the definitions, row by row."""
    data = ae.generate(ROWS, CUSTOMERS)
    cut = (ae.CUT_12M - ae.EPOCH).days
    per: dict[int, dict] = defaultdict(lambda: {"n": 0, "days": defaultdict(int), "rev": 0, "profit": 0,
                                               "ncost": 0, "rev12": 0})  # fmt: skip
    cancelled = ae.STATUSES.index("cancelled")
    for c, d, s, t, k in zip(*(data[x].tolist() for x in ("customer_id", "day", "status", "total", "cost")),
                             strict=True):  # fmt: skip
        if s == cancelled:
            continue
        p = per[c]
        p["n"] += 1
        p["days"][d] += t
        p["rev"] += t
        if k != ae.NULL_CENTS:
            p["profit"] += t - k
            p["ncost"] += 1
        if d >= cut:
            p["rev12"] += t
    out: dict[str, list] = {k: [] for k in ae.FACTS}
    for c in sorted(per):
        p = per[c]
        days = sorted(p["days"])
        repeat = [p["days"][d] for d in days[1:]]
        for key, value in (("customer_id", c), ("n_orders", p["n"]), ("n_days", len(days)),
                           ("first_day", days[0]), ("last_day", days[-1]), ("revenue", p["rev"]),
                           ("profit", p["profit"]), ("n_cost", p["ncost"]), ("revenue_12m", p["rev12"]),
                           ("repeat_mean", sum(repeat) / len(repeat) if repeat else math.nan)):  # fmt: skip
            out[key].append(value)
    return {k: np.array(v) for k, v in out.items()}


@pytest.fixture(scope="module")
def expected() -> dict[str, np.ndarray]:
    ref = reference()
    assert (ref["n_days"] > 1).sum() > 100  # repeat buyers exist
    assert (ref["n_orders"] > ref["n_days"]).any()  # and days with two orders
    assert (ref["n_cost"] < ref["n_orders"]).any() and ref["n_cost"].sum() > 0
    return ref


@pytest.fixture(scope="module")
def sqlite_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("engine") / "orders.sqlite3"
    ae.build_sqlite(Path(path), ROWS, CUSTOMERS, log=lambda *a: None)
    return str(path)


@pytest.fixture(scope="module")
def pg_db() -> str:
    if not PG:
        pytest.skip("KEHU_ENGINE_TEST_PG is not set")
    ae.build_postgres(PG, ROWS, CUSTOMERS, log=lambda *a: None)
    return PG


def assert_same(got: dict[str, np.ndarray], want: dict[str, np.ndarray]) -> None:
    for key in ae.FACTS:
        if key == "repeat_mean":
            np.testing.assert_allclose(got[key], want[key], rtol=1e-12, equal_nan=True, err_msg=key)
        else:
            np.testing.assert_array_equal(got[key], want[key], err_msg=key)


@pytest.mark.parametrize("variant", ["win", "join", "sub"])
def test_sql_sqlite(sqlite_db: str, expected: dict, variant: str) -> None:
    con = ae.sqlite_connect(sqlite_db)
    assert_same(ae.sql_facts(con, "sqlite", variant), expected)


@pytest.mark.parametrize("variant", ["win", "join", "sub"])
def test_sql_postgres(pg_db: str, expected: dict, variant: str) -> None:
    with ae.pg_connect(pg_db) as con:
        assert_same(ae.sql_facts(con, "postgres", variant), expected)


@pytest.mark.parametrize("fetch", sorted(ae.FETCH["sqlite"]))
@pytest.mark.parametrize("agg", sorted(ae.AGG))
def test_fetch_aggregate_sqlite(sqlite_db: str, expected: dict, fetch: str, agg: str) -> None:
    df = ae._normalise(ae.FETCH["sqlite"][fetch](sqlite_db))
    assert_same(ae.AGG[agg](df), expected)


@pytest.mark.parametrize("fetch", sorted(ae.FETCH["postgres"]))
@pytest.mark.parametrize("agg", sorted(ae.AGG))
def test_fetch_aggregate_postgres(pg_db: str, expected: dict, fetch: str, agg: str) -> None:
    df = ae._normalise(ae.FETCH["postgres"][fetch](pg_db))
    assert_same(ae.AGG[agg](df), expected)


def test_rfm_in_sql_matches_in_memory(sqlite_db: str, expected: dict) -> None:
    """NTILE in SQL and the in-memory quintiles put every customer in the same RFM class, on both
    databases; the Pareto share agrees."""
    mem = ae.rfm_numpy(expected)
    cons = [("sqlite", ae.sqlite_connect(sqlite_db))]
    if PG:
        ae.build_postgres(PG, ROWS, CUSTOMERS, log=lambda *a: None)
        cons.append(("postgres", ae.pg_connect(PG)))
    for dialect, con in cons:
        got = ae.rfm_sql(con, dialect)
        np.testing.assert_array_equal(got["customer_id"], expected["customer_id"])
        np.testing.assert_array_equal(got["class"], mem["class"], err_msg=dialect)
        rev = expected["revenue"]
        top = np.sort(rev)[::-1]
        assert got["cum_share"].max() == pytest.approx(1.0)
        share_at_top20 = np.sort(got["cum_share"])[len(rev) // 5 - 1]
        assert share_at_top20 == pytest.approx(top[: len(rev) // 5].sum() / rev.sum())
        assert share_at_top20 == pytest.approx(mem["top20_share"])
        con.close()


@pytest.mark.parametrize("how", ["upsert", "replace"])
def test_write_back_sqlite(sqlite_db: str, how: str) -> None:
    """Last night's rows are replaced, those of customers no longer scored removed."""
    old, new = ae.score_frame(CUSTOMERS, seed=1), ae.score_frame(CUSTOMERS - 100, seed=2)
    ae.write_sqlite(sqlite_db, old, "replace")
    ae.write_sqlite(sqlite_db, new, how)
    con = ae.sqlite_connect(sqlite_db)
    rows = con.execute(
        "SELECT customer_id, rfm_class, churn_reason, clv FROM analytics_score ORDER BY 1"
    ).fetchall()
    assert rows == list(zip(*(new[c].to_list() for c in ("customer_id", "rfm_class", "churn_reason", "clv")),
                            strict=True))  # fmt: skip


@pytest.mark.parametrize("how", ["copy_upsert", "truncate_copy", "copy_update"])
def test_write_back_postgres(pg_db: str, how: str) -> None:
    old = ae.score_frame(CUSTOMERS, seed=1)
    new = ae.score_frame(CUSTOMERS - (0 if how == "copy_update" else 100), seed=2)
    ae.write_postgres(pg_db, old, "truncate_copy")
    ae.write_postgres(pg_db, new, how)
    with ae.pg_connect(pg_db) as con:
        rows = con.execute(
            "SELECT customer_id, rfm_class, churn_reason, clv::float8, churn_flag FROM analytics_score ORDER BY 1"
        ).fetchall()
    want = zip(*(new[c].to_list() for c in ("customer_id", "rfm_class", "churn_reason", "clv", "churn_flag")),
               strict=True)  # fmt: skip
    assert rows == list(want)


def test_scores_from_facts_written_back(sqlite_db: str, expected: dict) -> None:
    """The end-to-end path writes one row per customer with the RFM class of its scores."""
    rfm = ae.rfm_numpy(expected)
    ae.write_sqlite(sqlite_db, ae.scores_from_facts(expected, rfm), "replace")
    con = ae.sqlite_connect(sqlite_db)
    rows = dict(con.execute("SELECT rfm_class, COUNT(*) FROM analytics_score GROUP BY 1").fetchall())
    high_value = ((rfm["r"] > 3) & (rfm["f"] > 3) & (rfm["m"] > 3)).sum()
    assert rows["重要价值"] == high_value > 0
    assert sum(rows.values()) == len(expected["customer_id"])
