"""The analytics refresh (ANA-1 … ANA-5): from the ledger to one score row per customer.

Steps, each timed into the run's ``timings``:

0. **sync** — the purchase days of customers whose orders changed written again (``purchases``; every
   customer's after an installation or a bulk change);
1. **read** — live customers, their purchase days up to the day, interaction counts (``facts``; all but
   the purchase days are started before the sync and read beside it);
2. **history** — per customer: purchases (same-day orders merged), first/last day, usual gap, recent and
   previous windows, revenue, profit (orders of known cost), revenue of the last 12 months;
3. **rfm** — R, F, M scores among the customers who bought, the eight classes, class summaries, the
   Pareto concentration of revenue and profit;
4. **lifetime** — BG/NBD and Gamma-Gamma fitted by maximum likelihood on the company's own purchases (in
   weeks; on a seeded sample of 200,000 customers when there are more), then for every buyer the
   expected purchases in the horizon, P(alive), the expected spend per purchase and the discounted CLV
   (margin: the customer's own where its costs are known, else the settings' default);
5. **rules** — churn flags and lifecycle stages with the rule that decided;
6. **write** — every score row replaced, made visible in one transaction with the win-back tasks for
   customers newly at risk (on an SQLite file the scores are written by ADBC in a transaction of their
   own, first; on PostgreSQL into a staged table by several connections, swapped in by that transaction).

Nothing here checks permissions: the job and ``kehu analytics refresh`` run as the system, and
``services.analytics_refresh_start`` checks who may start one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib
import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from kehu.core import heap
from kehu.core.collector import collector_paused

from . import facts as F
from . import pg_binary, pg_staged, purchase_summary, purchases, sqlite_adbc
from .churn import ChurnRules, churn_flags
from .lifecycle import STAGES, LifecycleRules, lifecycle_stages
from .lifetime import (
    BGNBDParams,
    GammaGammaParams,
    bgnbd_expected_purchases,
    bgnbd_p_alive,
    discounted_clv,
    fit_bgnbd,
    fit_gamma_gamma,
    gamma_gamma_expected_spend,
    units_per_month,
)
from .models import QUERIED_SCORE_COLUMNS, AnalyticsRun, AnalyticsSettings, CustomerScore, OwnerFigures
from .rfm import CLASS_BY_INDEX, RFMScores, class_indices, rfm_scores
from .summaries import by_owner, summarize

log = logging.getLogger(__name__)

FIT_SAMPLE = 200_000  # customers the models are fitted on (all of them below this)
MIN_FIT_BUYERS = 30  # fewer buyers (or repeat buyers) than this: no lifetime model, said so in the run
WEEK = 7.0
Array = npt.NDArray[np.float64]
Progress = Callable[[int, str], None]


@dataclass(frozen=True)
class RefreshSettings:
    """The settings a run used (stored with the run, so its reasons read the same later)."""

    rfm_bins: int = 5
    rfm_threshold: str = "mean"
    p_alive_threshold: float = 0.5
    rhythm_factor: float = 2.0
    engagement_window_days: int = 90
    engagement_drop: float = 0.5
    horizon_months: int = 12
    annual_discount_rate: float = 0.10
    default_margin: float = 0.30
    lifecycle_window_days: int = 180
    winback_tasks: bool = True
    winback_due_days: int = 7
    winback_per_owner: int = 10

    @classmethod
    def of(cls, stored: AnalyticsSettings) -> RefreshSettings:
        return cls(**{name: _plain(getattr(stored, name)) for name in cls.__dataclass_fields__})

    @classmethod
    def from_run(cls, values: dict[str, Any]) -> RefreshSettings:
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    @property
    def churn_rules(self) -> ChurnRules:
        return ChurnRules(
            p_alive_threshold=self.p_alive_threshold, rhythm_factor=self.rhythm_factor,
            engagement_window_days=self.engagement_window_days, engagement_drop=self.engagement_drop,
        )  # fmt: skip

    @property
    def lifecycle_rules(self) -> LifecycleRules:
        return LifecycleRules(
            window_days=self.lifecycle_window_days, exploration_days=self.lifecycle_window_days,
            decline_factor=self.rhythm_factor,
        )  # fmt: skip


def _plain(value: Any) -> Any:
    from decimal import Decimal

    return float(value) if isinstance(value, Decimal) else value


def settings_get() -> AnalyticsSettings:
    from .models import SETTINGS_PK

    return AnalyticsSettings.objects.filter(pk=SETTINGS_PK).first() or AnalyticsSettings(pk=SETTINGS_PK)


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._last, 3)
        self._last = now


def refresh(
    *, as_of: dt.date | None = None, started_by: Any = None, progress: Progress | None = None
) -> AnalyticsRun:
    """Recompute every customer's scores as of ``as_of`` (default today, Asia/Shanghai) and return the run."""
    say: Progress = progress or (lambda pct, msg: None)
    as_of = as_of or timezone.localdate()
    # One refresh at a time, however started (the nightly job, the page, the shell): a run marked running
    # in the last two hours means another is at work (an older one died without saying so).
    if AnalyticsRun.objects.filter(
        status=AnalyticsRun.Status.RUNNING, started_at__gte=timezone.now() - dt.timedelta(hours=2)
    ).exists():
        from kehu.core.errors import Conflict

        raise Conflict(gettext("客户分析正在刷新中，请等它完成"), field=None, code="refresh_running")
    options = RefreshSettings.of(settings_get())
    run = AnalyticsRun.objects.create(
        started_at=timezone.now(), as_of=as_of, settings=asdict(options), started_by=started_by
    )
    try:
        with heap.freed_memory_kept():  # its arrays of a million values each reuse freed memory
            _compute(run, options, say)
    except Exception as exc:
        AnalyticsRun.objects.filter(pk=run.pk).update(
            status=AnalyticsRun.Status.FAILED,
            finished_at=timezone.now(),
            error=f"{type(exc).__name__}: {exc}"[:2000],
        )
        raise
    return run


def refresh_all(
    *, as_of: dt.date | None = None, started_by: Any = None, progress: Progress | None = None
) -> AnalyticsRun:
    """What the nightly job, the refresh button and ``kehu analytics refresh`` run: every customer's scores
    (:func:`refresh`, progress 0–80 %), then the relationship report's stored periods (ANA-6,
    ``relationship.store_periods``, 80–100 %) as of the same day. The second step's counts and time go
    into the run's summary (``relationship``), apart from the scores' timings."""
    from .relationship import store_periods

    say: Progress = progress or (lambda pct, msg: None)
    run = refresh(as_of=as_of, started_by=started_by, progress=lambda pct, msg: say(pct * 80 // 100, msg))
    stored = store_periods(today=run.as_of, progress=lambda pct, msg: say(80 + pct * 20 // 100, msg))
    run.refresh_from_db()
    run.summary = {**run.summary, "relationship": stored}
    run.save(update_fields=["summary"])
    return run


def _compute(run: AnalyticsRun, options: RefreshSettings, say: Progress) -> None:
    clock = _Clock()
    as_of = run.as_of
    end = F.day_number(as_of)

    say(2, gettext("更新客户按日购买汇总"))
    windows = (options.engagement_window_days, options.lifecycle_window_days)
    # The reads are independent: through ADBC (a driver that releases the GIL, or SQLite's child process)
    # they run side by side. Those that do not read the purchase days start before the sync and run
    # beside it; the purchase days' — the longest, and only when no summaries are kept — as soon as the
    # sync has committed. On the refresh's
    # own connection (inside a transaction, an in-memory database) each runs at once in this thread.
    # On an SQLite file the four reads beside the sync share one child process (sqlite_adbc.SharedReads):
    # one child's start, not four (0.2–0.3 s of CPU each, on the two cores the sync needs one of).
    with (
        sqlite_adbc.SharedReads() as shared,
        ThreadPoolExecutor(max_workers=6, thread_name_prefix="analytics-read") as pool,
    ):
        # The fit's optimiser and special functions, imported while this thread waits on the database
        # (lifetime imports neither with the module: _minimize, special).
        pool.submit(importlib.import_module, "scipy.optimize")
        pool.submit(importlib.import_module, "scipy.special")
        with shared.sharing():
            later_customers = F.start_customers(pool)
            later_engagement = F.start_interaction_counts(as_of=as_of, windows=windows, pool=pool)
            # Who was already at risk, and since when (kept while still flagged; today for the newly
            # flagged): hundreds of thousands may be. No other refresh runs meanwhile (see refresh()).
            # SQLite is told to scan the table: through the partial index score_at_risk_clv, its
            # choice, each of 307,000 rows at risk took a lookup (0.9–1.1 s against 0.3–0.4 s).
            scan = " NOT INDEXED" if connection.vendor == "sqlite" else ""
            later_at_risk = F.start_bulk_ints(
                f"SELECT {F.int_sql('customer_id')} AS c, {F.day_sql('COALESCE(churn_since, %s)')} AS d"
                f" FROM {CustomerScore._meta.db_table}{scan} WHERE churn_risk",
                [as_of],
                2,
                pool,
            )
        # Each customer's purchase summary: kept from the last refresh and brought up to date in the
        # sync's transaction, or else summed below from every purchase day (ADR 0014, "purchase summaries").
        window = options.lifecycle_window_days
        synced = purchases.sync(keep=partial(purchase_summary.update, end=end, window=window))
        summaries: purchase_summary.Summaries | None = synced.kept
        if summaries is None:  # every purchase day built again: the memory kept is more than is used next
            heap.trim()
        clock.lap("sync")
        say(5, gettext("读取客户、购买和互动"))
        later_days = purchases.start_read(pool) if summaries is None else None
        customers = later_customers()
        engagement = later_engagement(customers)
        before = later_at_risk()
        days = later_days() if later_days is not None else None
        # A finished read's future holds its result: let go of them, or the purchase days (hundreds of
        # megabytes) stay for the whole refresh.
        del later_days, later_customers, later_engagement, later_at_risk
    eng_recent, eng_previous = engagement[options.engagement_window_days]
    life_recent, life_previous = engagement[options.lifecycle_window_days]
    clock.lap("read")

    if summaries is None:
        say(25, gettext("汇总每位客户的购买历史"))
        box = [days]  # handed over, so that the purchase days are let go as soon as their fields are
        del days
        records = purchase_summary.summarize_taking(box, end, window)  # type: ignore[arg-type]
        summaries = purchase_summary.Summaries(records, end, window, "built", 0)
        heap.trim()  # the purchase days are gone: give their memory back before the next peak
        clock.lap("summarize")
    n = len(customers)
    codes, known = customers.codes(summaries.records["customer_id"], follow_merges=False)  # by keeper already
    totals = purchase_summary.per_customer(summaries, codes, known, n)
    del codes, known
    history = totals.history
    order_count = totals.orders
    costed_count = totals.costed
    costed_revenue = totals.costed_amount / 100.0
    profit = costed_revenue - totals.cost / 100.0
    revenue = totals.amount / 100.0
    revenue_12m = totals.amount_12m / 100.0
    # First-purchase-day amount (Gamma-Gamma's monetary value leaves it out).
    first_amount = totals.first_amount / 100.0
    buyers = history.purchases > 0
    clock.lap("history")

    say(40, gettext("计算 RFM 分档与分类"))
    b = np.flatnonzero(buyers)
    recency = history.days_since_last[b]
    frequency = history.purchases[b].astype(np.float64)
    monetary = revenue[b]
    # Three lanes on the two cores: the RFM scores (needing no model) and the Gamma-Gamma fit each in a
    # thread while this one fits BG/NBD, then the scoring. NumPy's sorts and ufuncs and SciPy's special
    # functions let go of the GIL over whole arrays, so the lanes do run side by side.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="analytics-compute") as pool:
        later_rfm = pool.submit(_rfm, recency, frequency, monetary, options)

        say(55, gettext("拟合 BG/NBD 与 Gamma-Gamma 模型"))
        x = frequency - 1.0
        t_x = (history.days_since_first[b] - recency) / WEEK
        T = history.days_since_first[b] / WEEK
        with np.errstate(invalid="ignore", divide="ignore"):
            repeat_mean = np.where(x > 0, (monetary - first_amount[b]) / np.maximum(x, 1.0), 0.0)
        fitted: dict[str, Any] = {}
        p_alive = expected = spend = clv = None
        repeat_buyers = int(np.count_nonzero(x > 0))
        if b.size >= MIN_FIT_BUYERS and repeat_buyers >= MIN_FIT_BUYERS:
            last = _last_fit(run)
            later_gg = pool.submit(
                fit_gamma_gamma, x, repeat_mean, max_rows=FIT_SAMPLE, start=last.get("gamma_gamma")
            )
            bg = fit_bgnbd(x, t_x, T, max_rows=FIT_SAMPLE, start=last.get("bgnbd"))
            gg = later_gg.result()
            fitted = {
                "unit": "week", "buyers": int(b.size), "repeat_buyers": repeat_buyers, "sample": FIT_SAMPLE,
                "started_from": last.get("run"),
                "bgnbd": {"r": bg.r, "alpha": bg.alpha, "a": bg.a, "b": bg.b, "log_likelihood": bg.log_likelihood, "n": bg.n},
                "gamma_gamma": {"p": gg.p, "q": gg.q, "gamma": gg.gamma, "log_likelihood": gg.log_likelihood, "n": gg.n},
            }  # fmt: skip
            clock.lap("fit")
            say(70, gettext("为每位客户计算 P(活跃) 与终身价值"))
            with np.errstate(invalid="ignore", divide="ignore"):
                own_margin = np.where(
                    (costed_count[b] == order_count[b]) & (costed_revenue[b] > 0),
                    profit[b] / np.maximum(costed_revenue[b], 1e-9), options.default_margin,
                )  # fmt: skip
            # In two halves on the two cores: the second in the pool (whose other thread may still be on RFM).
            inputs = (bg, gg, x, t_x, T, repeat_mean, own_margin, options)
            half = b.size // 2
            second = pool.submit(_lifetime_scores, *inputs, rows=slice(half, None))
            first = _lifetime_scores(*inputs, rows=slice(0, half))
            p_alive, expected, spend, clv = (
                np.concatenate(pair) for pair in zip(first, second.result(), strict=True)
            )
        else:
            fitted = {
                "skipped": gettext("购买客户或复购客户少于 %(n)s 位，不拟合终身价值模型")
                % {"n": MIN_FIT_BUYERS}
            }
        clock.lap("score")
        scores, idx = later_rfm.result()
        clock.lap("rfm")  # what was left of it once the models were fitted and scored

    say(80, gettext("流失预警与生命周期"))
    p_alive_all = np.full(n, np.nan)
    if p_alive is not None:
        p_alive_all[b] = p_alive
    rules = options.churn_rules
    mask = churn_flags(
        p_alive=p_alive_all, days_since_last=history.days_since_last, median_gap=history.median_gap,
        gap_count=history.gap_count, engagement_recent=eng_recent, engagement_previous=eng_previous, rules=rules,
    )  # fmt: skip
    stages = lifecycle_stages(history, life_recent, life_previous, options.lifecycle_rules)
    clock.lap("rules")

    say(88, gettext("写入客户分析指标"))
    rfm_class = np.full(n, "", dtype=object)
    rfm_class[b] = np.array([c.value for c in CLASS_BY_INDEX], dtype=object)[idx]
    class_index = np.full(n, -1, dtype=np.int64)
    class_index[b] = idx
    order = np.argsort(before[:, 0])
    was, was_day = before[order, 0], before[order, 1]
    churn_since = np.where(mask > 0, F.day_number(as_of), -1).astype(np.int64)
    pos = np.minimum(np.searchsorted(was, customers.ids), max(was.shape[0] - 1, 0))
    kept = (
        (mask > 0) & (was.shape[0] > 0) & (was[pos] == customers.ids) if was.shape[0] else np.zeros(n, bool)
    )
    churn_since[kept] = was_day[pos[kept]]
    columns = _columns(
        n=n, b=b, customers=customers, as_of=as_of, end=end, history=history, order_count=order_count,
        revenue=revenue, profit=profit, costed_count=costed_count, revenue_12m=revenue_12m, scores=scores,
        class_index=class_index, expected=expected, p_alive=p_alive, spend=spend, clv=clv, mask=mask, stages=stages,
        eng_recent=eng_recent, eng_previous=eng_previous, life_recent=life_recent, life_previous=life_previous,
        churn_since=churn_since,
    )  # fmt: skip
    clock.lap("prepare")
    # An SQLite file is written by ADBC from Arrow, on a connection of its own and so in a transaction
    # of its own (SQLite has one writer at a time): the scores are committed before the win-back tasks
    # and the run's status. PostgreSQL outside a transaction gets the scores in a table of their own,
    # written by several connections at once and swapped in below (pg_staged). Either way the scores,
    # the tasks and the run then become visible together; in a transaction (tests) the rows are replaced
    # in the live table.
    score_file = F._sqlite_file() if connection.vendor == "sqlite" else None
    staged = None
    clv_all = np.full(n, np.nan)
    if clv is not None:
        clv_all[b] = clv
    # The SQLite file's log is checkpointed by the writer's child while the run is finished (and waited for
    # after it, the checkpoint lap); a failure before kills the child.
    with contextlib.ExitStack() as checkpointing:
        # The run's figures (NumPy only) are worked out in a thread while this one writes the scores: the
        # write leaves part of the two cores idle (SQLite's writers are two processes that end by a copy;
        # PostgreSQL's copy waits on its server processes). On SQLite they start once the score rows are
        # in the writers' hands, so as not to compete with handing them over: the writers wait for that.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="analytics-figures") as pool:
            later: list[Future[tuple[dict[str, Any], list[dict[str, Any]]]]] = []

            def figures() -> None:
                later.append(pool.submit(
                    _figures, rfm_class=rfm_class, history=history, revenue=revenue, costed_count=costed_count,
                    profit=profit, revenue_12m=revenue_12m, clv_all=clv_all, stages=stages, mask=mask,
                    p_alive=p_alive, owner=customers.owner, class_index=class_index,
                ))  # fmt: skip

            if score_file is not None:
                checkpointing.enter_context(
                    _scores_replaced_arrow(score_file, _arrow_slices(columns), handed_over=figures)
                )
            else:
                figures()
                if connection.vendor == "postgresql" and not connection.in_atomic_block:
                    staged = _staged_scores(columns)
            with pg_staged.dropped_on_failure(staged):
                summary, owner_rows = later[0].result()
        with pg_staged.dropped_on_failure(staged), transaction.atomic():
            if staged is not None:
                staged.swap()
            elif score_file is None:
                _replace_scores(columns)
            clock.lap("write")
            tasks = 0
            if options.winback_tasks:
                tasks = _winback_tasks(customers, mask > 0, churn_since, clv, b, revenue, options, as_of)
            clock.lap("tasks")
            summary["churn"]["tasks"] = tasks
            summary["purchase_days"] = synced.counts()
            summary["purchase_summary"] = summaries.counts()
            if summaries.source == "built":  # kept for the next refresh, with the scores it gave
                purchase_summary.store(summaries)
            summary["owners"] = _store_owner_figures(run, owner_rows)
            clock.lap("summary")
            AnalyticsRun.objects.filter(pk=run.pk).update(
                status=AnalyticsRun.Status.DONE, finished_at=timezone.now(), customers=n, buyers=int(b.size),
                orders=int(order_count.sum()), models_fit=fitted, summary=summary, timings=clock.timings,
            )  # fmt: skip
        # What is left of an SQLite file's checkpoint, waited for once the run is committed: a checkpoint
        # takes no write lock, the closing transaction does, and other writers would wait for both.
        checkpointing.close()
        clock.lap("checkpoint")
        AnalyticsRun.objects.filter(pk=run.pk).update(timings=clock.timings, finished_at=timezone.now())
    say(100, gettext("完成"))


def _last_fit(run: AnalyticsRun) -> dict[str, Any]:
    """The parameters the last finished refresh fitted, to start today's search from (``lifetime._minimize``:
    the same maximum, found in a few iterations when the data moved a little): ``bgnbd`` (r, alpha, a, b),
    ``gamma_gamma`` (p, q, gamma) and ``run``, its id — empty when there is none, or it fitted nothing."""
    previous = (
        AnalyticsRun.objects.filter(status=AnalyticsRun.Status.DONE)
        .exclude(pk=run.pk)
        .order_by("-finished_at", "-id")
        .values_list("pk", "models_fit")
        .first()
    )
    if previous is None:
        return {}
    pk, fit = previous
    try:
        return {
            "run": pk,
            "bgnbd": [float(fit["bgnbd"][k]) for k in ("r", "alpha", "a", "b")],
            "gamma_gamma": [float(fit["gamma_gamma"][k]) for k in ("p", "q", "gamma")],
        }
    except (KeyError, TypeError, ValueError):
        return {}  # no model then (too few buyers), or stored by an older version


def _rfm(
    recency: Array, frequency: Array, monetary: Array, options: RefreshSettings
) -> tuple[RFMScores, npt.NDArray[np.int8]]:
    """The buyers' R, F and M scores and each one's class index (``rfm.CLASS_BY_INDEX``)."""
    scores = rfm_scores(recency, frequency, monetary, bins=options.rfm_bins)
    threshold: Any = options.rfm_threshold
    return scores, class_indices(scores, threshold=threshold)


def _lifetime_scores(
    bg: BGNBDParams,
    gg: GammaGammaParams,
    x: Array,
    t_x: Array,
    T: Array,
    repeat_mean: Array,
    margin: Array,
    options: RefreshSettings,
    rows: slice = slice(None),
) -> tuple[Array, Array, Array, Array]:
    """The ``rows`` buyers' P(alive), expected purchases in the horizon, expected spend per purchase and
    discounted CLV. The expected purchases at each month's end are computed once: the last is the
    horizon's (``horizon_months`` months), all of them give the CLV."""
    x, t_x, T, repeat_mean, margin = x[rows], t_x[rows], T[rows], repeat_mean[rows], margin[rows]
    month = units_per_month("week")
    by_month = bgnbd_expected_purchases(bg, month * np.arange(1, options.horizon_months + 1), x, t_x, T)
    expected = by_month[:, -1]  # horizon_months is at least 1 (AnalyticsSettings)
    monthly = (1.0 + options.annual_discount_rate) ** (1.0 / 12.0) - 1.0
    spend = gamma_gamma_expected_spend(gg, x, repeat_mean)
    clv = discounted_clv(
        lambda _: by_month, spend, periods=options.horizon_months, units_per_period=month,
        discount_rate=monthly, margin=margin,
    )  # fmt: skip
    return bgnbd_p_alive(bg, x, t_x, T), expected, spend, clv


def _figures(**a: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run's summary (``summaries.summarize``, and the mean P(alive)) and its figures per owner
    (``summaries.by_owner``), from the refresh's arrays (one element per customer)."""
    history, stages, mask, p_alive = a["history"], a["stages"], a["mask"], a["p_alive"]
    summary = summarize(
        rfm_class=a["rfm_class"], recency_days=np.nan_to_num(history.days_since_last),
        purchases=history.purchases.astype(np.float64), revenue=a["revenue"],
        profit=np.where(a["costed_count"] > 0, a["profit"], np.nan), revenue_12m=a["revenue_12m"],
        clv=np.round(a["clv_all"], 2), lifecycle=np.array([s.value for s in STAGES], dtype=object)[stages.stage],
        churn=mask > 0,
    )  # fmt: skip
    summary["p_alive_mean"] = float(np.nanmean(p_alive)) if p_alive is not None and p_alive.size else None
    owners = by_owner(
        owner=a["owner"], class_index=a["class_index"], stage_index=stages.stage.astype(np.int64), churn=mask > 0,
        clv=a["clv_all"],
    )  # fmt: skip
    return summary, owners


def _store_owner_figures(run: AnalyticsRun, rows: list[dict[str, Any]]) -> int:
    """The run's figures per owner (``summaries.by_owner``) stored, and those of any earlier refresh of the
    same day dropped — a day's trend point is its last refresh, as for 全部. Returns the rows stored (the
    run's summary keeps the count: a day whose last run has it has owner figures, even none)."""
    OwnerFigures.objects.filter(as_of=run.as_of).exclude(run=run).delete()
    OwnerFigures.objects.bulk_create(
        [OwnerFigures(run=run, as_of=run.as_of, **row) for row in rows], batch_size=2_000
    )
    return len(rows)


@dataclass(frozen=True)
class Column:
    """One column of the score table for the bulk write: NumPy values of one kind and where they are NULL."""

    name: str
    kind: str  # int | float | money | date | bool | text
    values: npt.NDArray[Any]  # for text, each row's index in ``labels``
    null: npt.NDArray[np.bool_]
    labels: tuple[str, ...] = ()


def _columns(**a: Any) -> list[Column]:
    """The score table's columns as NumPy arrays (one element per customer), ready for the bulk write."""
    n, b, h = a["n"], a["b"], a["history"]
    nan = np.full(n, np.nan)
    none = np.zeros(n, dtype=bool)

    def spread(values: Array | None) -> Array:
        out = nan.copy()
        if values is not None:
            out[b] = values
        return out

    def num(name: str, kind: str, values: npt.NDArray[Any]) -> Column:
        v = np.asarray(values)
        null = np.isnan(v) if v.dtype.kind == "f" else none
        return Column(name, kind, v, null)

    buyers = h.purchases > 0
    end = a["end"]
    first = np.where(buyers, end - np.nan_to_num(h.days_since_first), 0).astype(np.int64)
    last = np.where(buyers, end - np.nan_to_num(h.days_since_last), 0).astype(np.int64)
    scores = a["scores"]
    classes = tuple(c.value for c in CLASS_BY_INDEX)
    as_of_day = F.day_number(a["as_of"])
    return [
        num("customer_id", "int", a["customers"].ids),
        Column("as_of", "date", np.full(n, as_of_day, dtype=np.int64), none),
        num("orders", "int", a["order_count"]),
        num("purchases", "int", h.purchases),
        Column("first_purchase_on", "date", first, ~buyers),
        Column("last_purchase_on", "date", last, ~buyers),
        num("recency_days", "int", h.days_since_last),
        num("revenue", "money", a["revenue"]),
        num("profit", "money", np.where(a["costed_count"] > 0, a["profit"], np.nan)),
        num("revenue_12m", "money", a["revenue_12m"]),
        num("r_score", "int", spread(scores.r.astype(np.float64))),
        num("f_score", "int", spread(scores.f.astype(np.float64))),
        num("m_score", "int", spread(scores.m.astype(np.float64))),
        # Texts as codes of their few values: a million Python strings took 0.25 s a column to encode.
        Column(
            "rfm_class",
            "text",
            np.where(a["class_index"] < 0, len(classes), a["class_index"]),
            none,
            (*classes, ""),
        ),
        num("expected_purchases", "float", spread(a["expected"])),
        num("p_alive", "float", spread(a["p_alive"])),
        num("expected_spend", "money", spread(a["spend"])),
        num("clv", "money", spread(a["clv"])),
        Column("churn_risk", "bool", a["mask"] > 0, none),
        Column("churn_since", "date", a["churn_since"], a["churn_since"] < 0),
        num("churn_mask", "int", a["mask"].astype(np.int64)),
        Column(
            "lifecycle_stage",
            "text",
            a["stages"].stage.astype(np.int64),
            none,
            tuple(s.value for s in STAGES),
        ),
        num("lifecycle_rule", "int", a["stages"].rule.astype(np.int64)),
        num("median_gap_days", "float", h.median_gap),
        num("purchases_recent", "int", h.recent_purchases),
        num("purchases_previous", "int", h.previous_purchases),
        num("early_mean_amount", "float", h.early_mean_amount),
        num("late_mean_amount", "float", h.late_mean_amount),
        num("engagement_recent", "int", a["eng_recent"]),
        num("engagement_previous", "int", a["eng_previous"]),
        num("interactions_recent", "int", a["life_recent"]),
        num("interactions_previous", "int", a["life_previous"]),
    ]


def _iso_days(
    days: npt.NDArray[Any], null: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[Any], npt.NDArray[np.intp]]:
    """Day numbers as ISO dates without formatting each: the table of every day from the first to the last
    as text, and each value's position in it (0 where NULL)."""
    values = np.asarray(days, dtype=np.int64)
    known = values[~null]
    first = int(known.min()) if known.size else 0
    span = int(known.max()) - first + 1 if known.size else 1
    names = np.datetime_as_string(np.arange(first, first + span).astype("datetime64[D]"), unit="D")
    return names, np.where(null, 0, values - first).astype(np.intp)


def _python(col: Column, lo: int, hi: int) -> list[Any]:
    """Rows ``lo`` … ``hi``−1 of a column as Python values for the SQLite driver (None where NULL; dates as
    ISO text, looked up in a table of the column's days rather than formatted one by one)."""
    values, null = col.values[lo:hi], col.null[lo:hi]
    if col.kind == "date":
        names, at = _iso_days(values, null)
        out = names.astype(object)[at]
    elif col.kind == "money":
        out = np.round(values.astype(np.float64), 2).astype(object)
    elif col.kind == "int":
        out = np.where(null, 0, values).astype(np.int64).astype(object)
    elif col.kind == "text":
        out = np.array(col.labels, dtype=object)[values]
    else:
        out = np.asarray(values).astype(object)
    if null.any():
        out[null] = None
    return list(out.tolist())


def _pg_values(col: Column, pg_type: str) -> pg_binary.Values:
    """A score column for the binary COPY: money as integer cents, the rest as they are (NULL where said)."""
    v = col.values
    if col.kind == "money":
        v = np.round(np.nan_to_num(v.astype(np.float64)) * 100).astype(np.int64)
    elif col.kind in ("int", "date"):
        v = np.nan_to_num(v).astype(np.int64) if v.dtype.kind == "f" else v.astype(np.int64)
    return pg_binary.Values(col.name, pg_type, v, col.null, col.labels if col.kind == "text" else None)


def _staged_scores(columns: list[Column]) -> pg_staged.Staged:
    """PostgreSQL: the score rows in a staged copy of the score table, ready to swap in (:mod:`.pg_staged`)."""
    table = CustomerScore._meta.db_table
    with connection.cursor() as cursor:
        types = pg_binary.column_types(cursor, table)
    return pg_staged.stage(
        table, [_pg_values(c, types[c.name]) for c in columns], analyze=QUERIED_SCORE_COLUMNS
    )


def _replace_scores(columns: list[Column]) -> None:
    """Every score row replaced: delete all, insert all (the caller holds the transaction), with the
    table's secondary indexes (and, on PostgreSQL, its primary key) dropped meanwhile and built again
    after — one sort each instead of a million index insertions (PostgreSQL's "Populating a Database"
    advice). PostgreSQL gets one binary COPY packed by NumPy (:mod:`.pg_binary`); SQLite one prepared
    INSERT per row."""
    table = CustomerScore._meta.db_table
    names = ", ".join(c.name for c in columns)
    with (
        connection.cursor() as cursor,
        _secondary_indexes_rebuilt(cursor.execute, table, _secondary_indexes(cursor, table)),
    ):
        if connection.vendor == "postgresql":
            # TRUNCATE, not DELETE: no dead row per customer to write and vacuum (it holds the table's
            # lock until the refresh commits — seconds, at night).
            cursor.execute(f"TRUNCATE {table}")
            # The primary key too is built once after the rows — one sort — rather than by a million
            # insertions: the INSERT took 4.3–4.5 s with it, 2.5 s without, and building it 0.26 s.
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
                " AND contype = 'p'",
                [table],
            )
            primary = cursor.fetchall()
            for name, _definition in primary:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            # Straight into the table, each value in its column's binary form (one pass on the server;
            # through a temporary table of 8-byte values and an INSERT … SELECT it was two).
            types = pg_binary.column_types(cursor, table)
            pg_binary.copy_into(cursor, table, [_pg_values(c, types[c.name]) for c in columns])
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for name, definition in primary:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        else:
            cursor.execute(f"DELETE FROM {table}")
            marks = ", ".join(["%s"] * len(columns))
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            n = columns[0].values.shape[0]
            # Python values a slice at a time (a million rows of 32 values at once would be ~1 GB of
            # objects), with the cycle collector paused: none of them is garbage until the slice is written.
            with collector_paused():
                for lo in range(0, n, 50_000):
                    hi = min(n, lo + 50_000)
                    cursor.executemany(sql, list(zip(*(_python(c, lo, hi) for c in columns), strict=True)))


def _secondary_indexes(cursor: Any, table: str) -> list[tuple[str, str]]:
    """The table's indexes other than its primary key: name and the definition the database reports."""
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s"
            " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass)",
            [table, table],
        )
    else:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
            [table],
        )
    return [(str(name), str(definition)) for name, definition in cursor.fetchall()]


def _index_drops(indexes: list[tuple[str, str]]) -> list[str]:
    return [f'DROP INDEX "{name}"' for name, _definition in indexes]


def _index_rebuilds(table: str, indexes: list[tuple[str, str]]) -> list[str]:
    """The statements that build ``indexes`` again after the rows are written, then analyse the table."""
    out = []
    if connection.vendor == "postgresql":  # a sort of a million keys: give it the memory to stay off disk
        out.append("SET LOCAL maintenance_work_mem = '256MB'")
    out += [definition for _name, definition in indexes]
    # Fresh statistics for the new rows: with those of the old ones the planner reads the next refresh's
    # 300,000 customers at risk through the index, one random page each (1.7 s instead of a scan). On
    # PostgreSQL, of the columns queries filter on only; SQLite's ANALYZE looks at the indexes alone.
    queried = QUERIED_SCORE_COLUMNS if connection.vendor == "postgresql" else None
    out.append(pg_staged.analyze_statement(table, queried))
    return out


@contextlib.contextmanager
def _secondary_indexes_rebuilt(
    execute: Callable[[str], Any], table: str, indexes: list[tuple[str, str]]
) -> Iterator[None]:
    """``indexes`` (from :func:`_secondary_indexes`) dropped for the block and created again after,
    then the table analysed."""
    for statement in _index_drops(indexes):
        execute(statement)
    yield
    for statement in _index_rebuilds(table, indexes):
        execute(statement)


def _arrow_frame(columns: list[Column]) -> Any:
    """The score columns as a Polars frame of the score table's SQLite storage: integers, reals rounded
    to cents for money, ISO dates, 0/1 flags and text, NULL where the column says. Each column is made in
    a few vectorised steps: formatting a million dates or converting a million Python strings took 1.4 s
    for the four dates and two texts; with the NULLs marked by a mask rather than by position
    (``scatter``) and Polars' own NaN handling, the frame takes 0.15–0.3 s (it took 0.42–0.52 s)."""
    import polars as pl

    series = []
    for col in columns:
        v = col.values
        if col.kind == "date":  # ISO text gathered from the column's days: the driver formats Arrow dates
            # itself, but slowly (0.8 s of a writer's 2.7 s for four date columns of 500,000 rows)
            names, at = _iso_days(v, col.null)
            s = pl.Series(col.name, names.tolist(), dtype=pl.String).gather(pl.Series(at.astype(np.uint32)))
        elif col.kind in ("money", "float"):
            # NULL where the value is NaN (num()); money rounded to cents.
            s = pl.Series(
                col.name, np.round(v.astype(np.float64), 2) if col.kind == "money" else v.astype(np.float64)
            )
        elif col.kind == "int":
            s = pl.Series(col.name, np.where(col.null, 0, np.nan_to_num(v)).astype(np.int64))
        elif col.kind == "bool":
            s = pl.Series(col.name, np.asarray(v, dtype=bool))
        else:  # text: each row's label gathered from the few there are
            s = pl.Series(col.name, col.labels, dtype=pl.String).gather(pl.Series(v.astype(np.uint32)))
        if col.null.any():
            s = s.set(pl.Series(col.null), None)  # type: ignore[arg-type]
        series.append(s)
    return pl.DataFrame(series)


def _arrow_slices(columns: list[Column]) -> sqlite_adbc.FramedSlices:
    """The score rows for :func:`.sqlite_adbc.rows_replaced`, made into Arrow (:func:`_arrow_frame`) a slice
    at a time."""

    def frame_of(lo: int, hi: int) -> Any:
        return _arrow_frame([replace(c, values=c.values[lo:hi], null=c.null[lo:hi]) for c in columns])

    return sqlite_adbc.FramedSlices(frame_of, len(columns[0].values))


def _scores_replaced_arrow(
    path: str, rows: sqlite_adbc.FramedSlices, handed_over: Callable[[], Any]
) -> contextlib.AbstractContextManager[None]:
    """Every score row of an SQLite file replaced by ADBC's bulk ingest from Arrow (``rows``), for the
    block: the rows are bound in C, where ``executemany`` made a Python
    object per value (5.8 s against ≈ 2 s for a million rows of 32 columns), by two processes side by
    side, and committed before the block; the write-ahead log is checkpointed during it
    (:func:`.sqlite_adbc.rows_replaced`). One transaction of the driver's connection — delete, drop the
    secondary indexes, the rows, create them again, analyse — in processes of their own
    (:mod:`.sqlite_adbc`: the driver's copy of SQLite must not share this process with Django's)."""
    table = CustomerScore._meta.db_table
    with connection.cursor() as cursor:
        indexes = _secondary_indexes(cursor, table)
    return sqlite_adbc.rows_replaced(
        path,
        table,
        rows,
        handed_over=handed_over,
        before=_index_drops(indexes),
        after=_index_rebuilds(table, indexes),
    )


def _winback_tasks(
    customers: F.Customers, at_risk: npt.NDArray[np.bool_], churn_since: npt.NDArray[np.int64], clv: Array | None,
    b: npt.NDArray[np.intp], revenue: Array, options: RefreshSettings, as_of: dt.date,
) -> int:  # fmt: skip
    """Win-back tasks (ANA-4): each customer at risk with an owner gets one task per episode at risk — none
    when a win-back task was already made for it on or after the day it was flagged (``churn_since``).
    An owner holds at most ``winback_per_owner`` open win-back tasks: the most valuable customers first
    (highest CLV, then revenue); those left out wait for a later refresh, when the owner has finished some
    — not for ever, as when only the newly flagged were considered."""
    from django.db.models import Count

    from kehu.engagement.choices import TaskStatus
    from kehu.engagement.models import Task
    from kehu.engagement.revisits import SystemTask, system_tasks_create

    candidates = at_risk & (customers.owner > 0)
    if not candidates.any():
        return 0
    winback = Task.objects.filter(source="winback", deleted_at__isnull=True, customer__isnull=False)
    since = F.EPOCH + dt.timedelta(days=int(churn_since[candidates].min()))
    made = np.array(
        [(c, F.day_number(timezone.localdate(at)))
         for c, at in winback.filter(created_at__date__gte=since).values_list("customer_id", "created_at")],
        dtype=np.int64,
    ).reshape(-1, 2)  # fmt: skip
    latest = np.full(len(customers), -1, dtype=np.int64)
    if made.size:
        codes, known = customers.codes(made[:, 0])
        np.maximum.at(latest, codes[known], made[known, 1])
    pick = np.flatnonzero(candidates & (latest < churn_since))
    if not pick.size:
        return 0
    value = np.full(len(customers), -1.0)
    if clv is not None:
        value[b] = np.nan_to_num(clv)
    order = np.lexsort((-revenue[pick], -value[pick], customers.owner[pick]))
    pick = pick[order]
    owners = customers.owner[pick]
    rank = np.arange(pick.size) - np.searchsorted(owners, owners, side="left")
    open_now = dict(
        winback.filter(status=TaskStatus.OPEN)
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    room = np.array([options.winback_per_owner - open_now.get(int(o), 0) for o in owners], dtype=np.int64)
    pick = pick[rank < room]
    due = as_of + dt.timedelta(days=options.winback_due_days)
    title = gettext("流失预警：联系客户，了解原因并设法挽回")
    description = gettext("客户分析（%(day)s）发现该客户有流失风险，原因见客户页的“客户价值”卡片。") % {
        "day": as_of
    }
    return system_tasks_create(
        source="winback",
        tasks=[
            SystemTask(
                customer_id=int(customers.ids[i]),
                owner_id=int(customers.owner[i]),
                title=title,
                description=description,
                due_on=due,
            )
            for i in pick
        ],
    )
