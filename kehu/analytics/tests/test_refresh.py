"""The refresh end to end on a known ledger (ANA-1 … ANA-5): every stored figure checked against the
same figures computed by hand, on SQLite and on PostgreSQL (the CI runs this file on both, so the RFM
classes asserted per customer here are the same on both databases)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import Counter
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from kehu.analytics.churn import ChurnRules, assess_churn
from kehu.analytics.lifecycle import LifecycleRules, Stage, lifecycle_stage
from kehu.analytics.lifetime import bgnbd_expected_purchases, bgnbd_p_alive, fit_bgnbd
from kehu.analytics.models import AnalyticsRun, AnalyticsSettings, CustomerScore
from kehu.analytics.refresh import MIN_FIT_BUYERS, refresh
from kehu.analytics.rfm import CLASS_BY_INDEX, class_indices, rfm_scores
from kehu.audit.models import AuditEvent
from kehu.engagement import services as engagement_services
from kehu.engagement.choices import TaskStatus
from kehu.engagement.models import Task

from . import world as W

pytestmark = pytest.mark.django_db


@pytest.fixture
def ledger(cast: SimpleNamespace) -> SimpleNamespace:
    w = W.build(cast)
    # Three interactions 100–170 days ago, none since: the prospect's engagement dropped (90-day windows).
    prospect = w.by_key["prospect"].customer
    now = timezone.now()
    for days in (100, 130, 170):
        engagement_services.interaction_create(
            customer_id=prospect.pk,
            data={"channel": "phone", "occurred_at": now - dt.timedelta(days=days), "summary": f"{days} 天前的通话"},
            by=cast.rep_east,
        )  # fmt: skip
    return w


def _scores() -> dict[int, CustomerScore]:
    return {s.customer_id: s for s in CustomerScore.objects.all()}


def _fit_inputs(as_of: dt.date) -> tuple[list[float], list[float], list[float]]:
    """BG/NBD's x, t_x, T in weeks of the stored buyers, as the refresh fits them."""
    rows = CustomerScore.objects.filter(purchases__gt=0).values_list("purchases", "first_purchase_on",
                                                                    "last_purchase_on")  # fmt: skip
    x = [p - 1.0 for p, _f, _l in rows]
    t_x = [(last - first).days / 7.0 for _p, first, last in rows]
    T = [(as_of - first).days / 7.0 for _p, first, _l in rows]
    return x, t_x, T


def _by_hand_rfm(w: SimpleNamespace) -> tuple[Any, list[int], dict[int, str]]:
    buyers = sorted((b for b in w.buyers if W.expected(b, w.as_of)["purchases"]), key=lambda b: b.customer.pk)
    figures = [W.expected(b, w.as_of) for b in buyers]
    scores = rfm_scores(
        [f["recency_days"] for f in figures], [f["purchases"] for f in figures],
        [float(f["revenue"]) for f in figures], bins=5,
    )  # fmt: skip
    idx = class_indices(scores, threshold="mean")
    classes = {b.customer.pk: CLASS_BY_INDEX[i].value for b, i in zip(buyers, idx.tolist(), strict=True)}
    return scores, [b.customer.pk for b in buyers], classes


def test_refresh_stores_the_figures_computed_by_hand(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    w = ledger
    run = refresh(as_of=w.as_of)
    run.refresh_from_db()
    scores = _scores()
    assert len(scores) == len(w.buyers)  # every live customer has a row, buyers or not

    for b in w.buyers:
        s, exp = scores[b.customer.pk], W.expected(b, w.as_of)
        got = {k: getattr(s, k) for k in exp}
        assert got == exp, b.key
        assert s.as_of == w.as_of

    merge = scores[w.by_key["merge"].customer.pk]
    # Two orders on one day are one purchase; the cancelled order and the one after as_of do not count.
    assert (merge.orders, merge.purchases, merge.recency_days) == (5, 4, 10)
    assert (merge.revenue, merge.profit, merge.revenue_12m) == (
        Decimal("1650.00"),
        Decimal("240.00"),
        Decimal("650.00"),
    )
    assert scores[w.by_key["nocost"].customer.pk].profit is None
    prospect = scores[w.by_key["prospect"].customer.pk]
    assert (prospect.orders, prospect.rfm_class, prospect.r_score, prospect.clv, prospect.p_alive) == (
        0,
        "",
        None,
        None,
        None,
    )

    # RFM: the module applied by hand to the same figures gives the same scores and class per customer.
    hand_scores, ids, by_hand = _by_hand_rfm(w)
    for pos, pk in enumerate(ids):
        s = scores[pk]
        assert (s.r_score, s.f_score, s.m_score) == (
            int(hand_scores.r[pos]), int(hand_scores.f[pos]), int(hand_scores.m[pos])
        )  # fmt: skip
        assert s.rfm_class == by_hand[pk]
    assert len({s.rfm_class for s in scores.values() if s.rfm_class}) >= 4  # the ledger spreads over classes

    # Lifetime model: fitted, P(alive) a probability, CLV never negative, for every buyer.
    assert run.models_fit["buyers"] == 50 and run.models_fit["repeat_buyers"] == 47
    assert {"r", "alpha", "a", "b", "log_likelihood"} <= set(run.models_fit["bgnbd"])
    for b in w.buyers:
        s = scores[b.customer.pk]
        if s.purchases:
            assert 0.0 <= s.p_alive <= 1.0 and s.clv >= 0 and s.expected_purchases >= 0, b.key
            assert s.expected_spend is not None and s.expected_spend > 0

    # Lifecycle and churn: the rule modules applied by hand to each customer give the stored codes.
    for b in w.buyers:
        s = scores[b.customer.pk]
        rows = b.counted(w.as_of)
        life = lifecycle_stage(
            [d for d, _a, _c in rows], [float(a) for _d, a, _c in rows], as_of=w.as_of,
            interactions_recent=s.interactions_recent, interactions_previous=s.interactions_previous,
            rules=LifecycleRules(window_days=180, exploration_days=180, decline_factor=2.0),
        )  # fmt: skip
        assert (s.lifecycle_stage, s.lifecycle_rule) == (life.stage.value, life.rule), b.key
        days = sorted({d for d, _a, _c in rows})
        churn = assess_churn(
            p_alive=s.p_alive, days_since_last=s.recency_days,
            gaps_days=[(y - x).days for x, y in itertools.pairwise(days)],
            engagement_recent=s.engagement_recent, engagement_previous=s.engagement_previous, rules=ChurnRules(),
        )  # fmt: skip
        assert (s.churn_mask, s.churn_risk) == (churn.mask, churn.flagged), b.key
        assert (s.churn_since == w.as_of) == s.churn_risk
    assert prospect.lifecycle_stage == Stage.EXPLORATION and prospect.lifecycle_rule == 2
    assert (prospect.engagement_previous, prospect.engagement_recent, prospect.churn_mask) == (3, 0, 4)
    lapsed = scores[w.by_key["regular4"].customer.pk]  # 212 days since its last purchase, usual gap 63
    assert lapsed.churn_mask & 2 and lapsed.lifecycle_stage == Stage.DECLINE and lapsed.lifecycle_rule == 5
    assert (
        scores[w.by_key["oneoff_older"].customer.pk].lifecycle_stage == Stage.DECLINE
    )  # bought once, long ago
    assert scores[w.by_key["oneoff_recent"].customer.pk].lifecycle_stage == Stage.EXPLORATION

    # The run: done, with counts, the company summary, timings and the settings it used.
    assert run.status == AnalyticsRun.Status.DONE and run.finished_at is not None and run.error == ""
    assert (run.customers, run.buyers, run.orders) == (
        len(w.buyers),
        50,
        sum(len(b.counted(w.as_of)) for b in w.buyers),
    )
    assert (
        set(run.timings)
        == {
            "sync",
            "read",
            "summarize",  # the first refresh sums every purchase day
            "history",
            "rfm",
            "fit",
            "score",
            "rules",
            "prepare",
            "write",
            "tasks",
            "summary",
            "checkpoint",  # an SQLite file's log, after the run's commit (nothing here: written in the test's transaction)
        }
    )
    assert run.settings["rfm_bins"] == 5 and run.settings["winback_per_owner"] == 10
    summary = run.summary
    assert {k: v for k, v in summary["purchase_summary"].items() if k != "seconds"} == {
        "source": "built", "customers": 50, "redone": 0,
    }  # fmt: skip
    assert summary["customers"] == len(w.buyers) and summary["buyers"] == 50
    counts = Counter(s.rfm_class for s in scores.values() if s.rfm_class)
    assert {c["class"]: c["count"] for c in summary["classes"]} == {
        c.value: counts.get(c.value, 0) for c in CLASS_BY_INDEX
    }
    stages = Counter(s.lifecycle_stage for s in scores.values())
    assert summary["lifecycle"] == {st.value: stages.get(st.value, 0) for st in Stage}
    assert summary["churn"]["flagged"] == sum(s.churn_risk for s in scores.values())
    total = sum(float(s.revenue) for s in scores.values())
    assert summary["pareto"]["total"] == pytest.approx(total)
    assert summary["clv_total"] == pytest.approx(
        sum(float(s.clv) for s in scores.values() if s.clv is not None), abs=0.05
    )


def test_a_second_refresh_replaces_the_rows_and_keeps_churn_since(ledger: SimpleNamespace) -> None:
    w = ledger
    refresh(as_of=w.as_of)
    first = _scores()
    flagged = {pk for pk, s in first.items() if s.churn_risk}
    assert flagged
    later = w.as_of + dt.timedelta(days=30)
    before = AnalyticsRun.objects.get()
    run = refresh(as_of=later)
    second = _scores()
    # The fit starts from the first refresh's parameters and finds the maximum a fresh start finds.
    run.refresh_from_db()
    assert before.models_fit["started_from"] is None and run.models_fit["started_from"] == before.pk
    inputs = _fit_inputs(run.as_of)
    fresh, warm = fit_bgnbd(*inputs), [run.models_fit["bgnbd"][k] for k in ("r", "alpha", "a", "b")]
    assert run.models_fit["bgnbd"]["log_likelihood"] == pytest.approx(fresh.log_likelihood, abs=1e-4)
    # This ledger's maximum lies on a ridge (a and b grow together without end), so a and b themselves
    # stop wherever the search does; what the customers are told — P(alive), expected purchases — agrees.
    assert bgnbd_p_alive(warm, *inputs) == pytest.approx(bgnbd_p_alive(fresh, *inputs), rel=1e-3)
    assert bgnbd_expected_purchases(warm, 52, *inputs) == pytest.approx(
        bgnbd_expected_purchases(fresh, 52, *inputs), rel=1e-3
    )
    assert CustomerScore.objects.count() == len(w.buyers) == len(second)  # replaced, not added
    # The watch list's index, dropped for the bulk write, is there again, as the migrations made it.
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, CustomerScore._meta.db_table)
    assert constraints["score_at_risk_clv"]["columns"] == ["clv"]
    assert constraints["score_at_risk_clv"]["index"] and not constraints["score_at_risk_clv"]["unique"]
    # So is the primary key (on PostgreSQL it too is built after the rows), under its own name.
    primary = [(name, c["columns"]) for name, c in constraints.items() if c["primary_key"]]
    assert primary == [(primary[0][0], ["customer_id"])]
    if connection.vendor == "postgresql":
        assert primary[0][0] == f"{CustomerScore._meta.db_table}_pkey"
    assert AnalyticsRun.objects.filter(status="done").count() == 2
    assert {s.as_of for s in second.values()} == {later}
    still = {pk for pk, s in second.items() if s.churn_risk} & flagged
    assert still
    for pk, s in second.items():
        if pk in still:
            assert s.churn_since == w.as_of  # flagged since the first refresh
        elif s.churn_risk:
            assert s.churn_since == later  # newly flagged now
        else:
            assert s.churn_since is None
    run.refresh_from_db()
    newly_owned = {
        pk for pk, s in second.items() if s.churn_risk and pk not in flagged and s.customer.owner_id
    }
    assert run.summary["churn"]["tasks"] == len(newly_owned & {t.customer_id for t in _winback()})


def test_a_refresh_after_orders_change_rewrites_only_their_customers_purchase_days(
    ledger: SimpleNamespace,
) -> None:
    from kehu.analytics.models import PurchaseDaysStale
    from kehu.orders.models import Order

    w = ledger
    PurchaseDaysStale.objects.create(customer_id=None)  # as a new installation: every row to build
    first = refresh(as_of=w.as_of)
    first.refresh_from_db()
    assert first.summary["purchase_days"]["mode"] == "all"
    assert not PurchaseDaysStale.objects.exists()
    buyer = next(b for b in w.buyers if b.counted(w.as_of))
    live = Order.objects.filter(order_date__lte=w.as_of).exclude(status="cancelled")
    order = live.filter(customer=buyer.customer).first()
    assert order is not None
    Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount + 1000)
    second = refresh(as_of=w.as_of)
    second.refresh_from_db()
    # The change's delta: one row summed per customer and day on PostgreSQL, the old order out and the new
    # one in on SQLite.
    deltas = 1 if connection.vendor == "postgresql" else 2
    assert second.summary["purchase_days"] == {
        "mode": "some",
        "customers": 1,
        "stale_rows": 0,
        "delta_rows": deltas,
    }
    score = CustomerScore.objects.get(customer=buyer.customer)
    assert score.revenue == W.expected(buyer, w.as_of)["revenue"] + 1000
    assert second.summary["purchase_days"] != first.summary["purchase_days"]


def test_a_merged_customers_orders_and_contacts_count_for_the_customer_it_was_merged_into(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    from kehu.customers.services import customer_merge

    w = ledger
    buyers = [b for b in w.buyers if W.expected(b, w.as_of)["purchases"]]
    keep, drop = buyers[0], buyers[1]
    for days in (3, 5):  # contacts of the merged customer, in the engagement window
        engagement_services.interaction_create(
            customer_id=drop.customer.pk,
            data={"channel": "phone", "occurred_at": timezone.now() - dt.timedelta(days=days), "summary": "电话"},
            by=cast.admin,
        )  # fmt: skip
    refresh(as_of=w.as_of)
    alone = CustomerScore.objects.get(customer=keep.customer)
    customer_merge(keep_id=keep.customer.pk, drop_id=drop.customer.pk, by=cast.admin)
    run = refresh(as_of=w.as_of)
    merged = CustomerScore.objects.get(customer=keep.customer)
    figures = W.expected(keep, w.as_of), W.expected(drop, w.as_of)
    assert (
        merged.revenue
        == figures[0]["revenue"] + figures[1]["revenue"]
        == alone.revenue + figures[1]["revenue"]
    )
    assert merged.orders == alone.orders + len(drop.counted(w.as_of))
    assert merged.engagement_recent == alone.engagement_recent + 2
    assert not CustomerScore.objects.filter(
        customer=drop.customer
    ).exists()  # no longer a customer of its own
    run.refresh_from_db()
    assert run.customers == len(w.buyers) - 1


def _winback() -> list[Task]:
    return list(Task.objects.filter(source="winback").select_related("customer"))


def test_winback_tasks_go_once_to_owners_of_newly_flagged_customers(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    w = ledger
    AnalyticsSettings.objects.create(pk=1, winback_per_owner=2, winback_due_days=5)
    audit_before = AuditEvent.objects.filter(subject_type="task", verb="create").count()
    run = refresh(as_of=w.as_of)
    run.refresh_from_db()
    scores = _scores()
    tasks = _winback()
    flagged_by_owner: dict[int, list[CustomerScore]] = {}
    for b in w.buyers:
        s = scores[b.customer.pk]
        if s.churn_risk and b.owner:
            flagged_by_owner.setdefault(b.customer.owner_id, []).append(s)
    assert len(flagged_by_owner) == 3  # rep_east, rep_west, rep_east2 each have customers at risk
    per_owner = Counter(t.owner_id for t in tasks)
    for owner_id, flagged in flagged_by_owner.items():
        assert per_owner[owner_id] == min(2, len(flagged))
        # The most valuable of them: highest CLV (no CLV counts lowest), then revenue.
        ranked = sorted(
            flagged, key=lambda s: (-(float(s.clv) if s.clv is not None else -1.0), -float(s.revenue))
        )
        assert {t.customer_id for t in tasks if t.owner_id == owner_id} == {s.customer_id for s in ranked[:2]}
    assert all(t.customer.owner_id is not None for t in tasks)  # the pool customer gets none
    assert w.by_key["pool"].customer.pk not in {t.customer_id for t in tasks}
    for t in tasks:
        assert (t.status, t.due_on, t.created_by_id, t.owner_id) == (
            TaskStatus.OPEN,
            w.as_of + dt.timedelta(days=5),
            t.customer.owner_id,
            t.customer.owner_id,
        )
    assert run.summary["churn"]["tasks"] == len(tasks)
    events = AuditEvent.objects.filter(
        subject_type="task", verb="create", subject_id__in=[t.pk for t in tasks]
    )
    assert (
        events.count()
        == len(tasks)
        == AuditEvent.objects.filter(subject_type="task", verb="create").count() - audit_before
    )
    assert not events.exclude(actor__isnull=True).exists()  # the system acted, no person

    # Refreshing again: the same customers are not new, so no new task.
    refresh(as_of=w.as_of)
    assert len(_winback()) == len(tasks)
    # Even if they looked new (no earlier flag), an open win-back task of the customer is not duplicated.
    CustomerScore.objects.update(churn_risk=False)
    run = refresh(as_of=w.as_of)
    run.refresh_from_db()
    assert len(_winback()) == len(tasks) and run.summary["churn"]["tasks"] == 0


def test_customers_left_out_by_the_cap_get_their_task_once_the_owner_has_room(
    ledger: SimpleNamespace, cast: SimpleNamespace
) -> None:
    """The cap is on open win-back tasks per owner, not on the refresh that first flags a customer: those
    it left out get a task on a later refresh, once the owner has finished one — and a customer already
    given a task while at risk does not get another."""
    w = ledger
    AnalyticsSettings.objects.create(pk=1, winback_per_owner=1)
    refresh(as_of=w.as_of)
    flagged = {
        s.customer_id for s in _scores().values() if s.churn_risk and s.customer.owner_id == cast.rep_east.pk
    }
    assert len(flagged) >= 2
    first = [t for t in _winback() if t.owner_id == cast.rep_east.pk]
    assert len(first) == 1
    refresh(as_of=w.as_of)  # no room: the owner's one open task is still open
    assert [t.pk for t in _winback() if t.owner_id == cast.rep_east.pk] == [first[0].pk]
    first[0].status = TaskStatus.DONE
    first[0].save(update_fields=["status"])
    refresh(as_of=w.as_of)
    mine = [t for t in _winback() if t.owner_id == cast.rep_east.pk]
    assert len(mine) == 2 and mine[1].status == TaskStatus.OPEN
    assert mine[1].customer_id in flagged and mine[1].customer_id != first[0].customer_id
    mine[1].status = TaskStatus.DONE
    mine[1].save(update_fields=["status"])
    refresh(as_of=w.as_of)
    served = {t.customer_id for t in _winback() if t.owner_id == cast.rep_east.pk}
    assert len(served) == min(3, len(flagged))  # a third customer if there is one; never one served again
    assert len(_winback()) == len({(t.customer_id, t.owner_id) for t in _winback()})


def test_no_winback_tasks_when_switched_off(ledger: SimpleNamespace) -> None:
    AnalyticsSettings.objects.create(pk=1, winback_tasks=False)
    run = refresh(as_of=ledger.as_of)
    run.refresh_from_db()
    assert CustomerScore.objects.filter(churn_risk=True).exists()
    assert _winback() == [] and run.summary["churn"]["tasks"] == 0


def test_too_few_buyers_skip_the_lifetime_models(cast: SimpleNamespace) -> None:
    buyers = W.spec()[:5] + [b for b in W.spec() if b.key == "prospect"]
    w = W.build(cast, buyers=buyers)
    run = refresh(as_of=w.as_of)
    run.refresh_from_db()
    assert run.status == "done" and set(run.models_fit) == {"skipped"}
    assert str(MIN_FIT_BUYERS) in run.models_fit["skipped"]
    assert "fit" not in run.timings
    scores = _scores()
    assert len(scores) == 6
    assert all(s.clv is None and s.p_alive is None and s.expected_purchases is None for s in scores.values())
    assert sum(1 for s in scores.values() if s.rfm_class) == 5  # RFM classes need no model
    assert run.summary["clv_total"] is None and run.summary["p_alive_mean"] is None
    # Without P(alive) the churn flags come from the rhythm rule only (regular0 and regular4 lapsed).
    masks = {b.key: scores[b.customer.pk].churn_mask for b in w.buyers}
    assert masks["regular0"] == 0  # two purchases: one gap only, too few for a rhythm
    assert masks["regular4"] == 2


def test_a_failed_refresh_is_recorded(ledger: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> None:
    from kehu.analytics import refresh as R

    def broken(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("模型出错")

    monkeypatch.setattr(R, "lifecycle_stages", broken)
    with pytest.raises(RuntimeError):
        refresh(as_of=ledger.as_of)
    run = AnalyticsRun.objects.get()
    assert run.status == "failed" and "模型出错" in run.error and run.finished_at is not None
    assert not CustomerScore.objects.exists()


def test_deleted_customers_are_not_scored(ledger: SimpleNamespace, cast: SimpleNamespace) -> None:
    from kehu.customers.services import customer_delete

    gone = ledger.by_key["regular1"].customer
    customer_delete(customer_id=gone.pk, by=cast.admin)
    run = refresh(as_of=ledger.as_of)
    run.refresh_from_db()
    assert not CustomerScore.objects.filter(customer_id=gone.pk).exists()
    assert run.customers == len(ledger.buyers) - 1
    assert np.isclose(run.summary["customers"], len(ledger.buyers) - 1)


def test_a_refresh_is_refused_while_another_runs_and_an_abandoned_one_stops_blocking(admin: Any) -> None:
    from kehu.core.errors import Conflict

    running = AnalyticsRun.objects.create(started_at=timezone.now(), as_of=timezone.localdate())
    with pytest.raises(Conflict) as err:
        refresh()
    assert err.value.code == "refresh_running"
    assert AnalyticsRun.objects.count() == 1  # nothing started
    # A run that died hours ago (still marked running) no longer blocks the next one.
    AnalyticsRun.objects.filter(pk=running.pk).update(started_at=timezone.now() - dt.timedelta(hours=3))
    run = refresh()
    run.refresh_from_db()
    assert run.status == AnalyticsRun.Status.DONE


def test_tickets_and_complaints_count_as_engagement(cast: SimpleNamespace) -> None:
    """A customer who raised two tickets 100–150 days ago and one complaint 160 days ago, and nothing
    since, has three contacts in the earlier window: the engagement rule sees the drop (ANA-4, SVC-1)."""
    from kehu.customers.tests.factories import make_customer
    from kehu.service.models import Ticket
    from kehu.service.services import ticket_create

    customer = make_customer(cast.rep_east, name="工单活跃度验证有限公司")
    now = timezone.now()
    for days, kind, category in ((100, "aftersale", "repair"), (150, "support", "technical"),
                                 (160, "complaint", "delivery")):  # fmt: skip
        ticket = ticket_create(data={"kind": kind, "category": category, "title": f"{days} 天前", "customer_id": customer.pk},
                               by=cast.agent)  # fmt: skip
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - dt.timedelta(days=days))
    ticket_create(data={"kind": "presale", "category": "price", "title": "别的客户", "caller_phone": "13800000000"},
                  by=cast.agent)  # no customer: not counted for anyone  # fmt: skip
    refresh()
    score = CustomerScore.objects.get(customer=customer)
    assert (score.engagement_previous, score.engagement_recent) == (3, 0)
    assert score.churn_mask & 4


@pytest.mark.skipif(
    "sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="SQLite files are written through ADBC"
)
def test_scores_written_to_an_sqlite_file_through_arrow_are_those_written_by_the_connection(
    ledger: SimpleNamespace, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kehu.analytics import facts

    w = ledger
    table = CustomerScore._meta.db_table
    refresh(as_of=w.as_of)  # the test's in-memory database: the connection writes the rows itself
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} ORDER BY customer_id")
        written = cursor.fetchall()
        cursor.execute(f"DELETE FROM {table}")  # the file starts without scores, as the first run did
    assert len(written) == len(w.buyers)
    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    path.write_bytes(connection.connection.serialize())
    monkeypatch.setattr(facts, "_sqlite_file", lambda: str(path))  # as if the database were that file
    from django.db import connections

    from kehu.analytics import sqlite_adbc

    # As a refresh outside a transaction: the reads, too, go to the file (whose rows are the connection's).
    monkeypatch.setattr(connections["default"], "in_atomic_block", False)
    # The rows made into Arrow a few at a time (sqlite_adbc.FramedSlices): slices with every date NULL, and not.
    monkeypatch.setattr(sqlite_adbc, "CHUNK_ROWS", 7)
    requests: list[str] = []
    real_submit = sqlite_adbc.SharedReads.submit
    monkeypatch.setattr(
        sqlite_adbc.SharedReads,
        "submit",
        lambda self, path, sql, params: requests.append(sql) or real_submit(self, path, sql, params),
    )
    run = refresh(as_of=w.as_of)
    run.refresh_from_db()
    assert run.status == AnalyticsRun.Status.DONE
    # The reads beside the sync (customers, interactions, tickets, who was at risk) went to one child.
    assert len(requests) == 4
    import sqlite3

    with sqlite3.connect(path) as copy:
        in_file = copy.execute(f"SELECT * FROM {table} ORDER BY customer_id").fetchall()
        index = copy.execute("SELECT sql FROM sqlite_master WHERE name = 'score_at_risk_clv'").fetchone()
    assert [_comparable(r) for r in in_file] == [_comparable(r) for r in written]
    assert index is not None and "churn_risk" in index[0]


@pytest.mark.skipif("sqlite" not in settings.DATABASES["default"]["ENGINE"], reason="SQLite's rowid")
def test_the_score_tables_key_is_sqlites_rowid_with_no_index_of_its_own() -> None:
    # Declared "integer", the customer is the rowid: the nightly rewrite fills one B-tree, not two.
    table = CustomerScore._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA table_info({table})")
        keys = [(name, kind.lower()) for _cid, name, kind, _notnull, _default, pk in cursor.fetchall() if pk]
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = %s", [table])
        indexes = [name for (name,) in cursor.fetchall()]
    assert keys == [("customer_id", "integer")]
    assert indexes == ["score_at_risk_clv"]  # no sqlite_autoindex_… of the key


def _comparable(row: tuple[Any, ...]) -> tuple[Any, ...]:
    # Django's cursor hands back dates and decimals typed; sqlite3 hands back what is stored.
    return tuple(
        str(v)
        if isinstance(v, dt.date)
        else float(v)
        if isinstance(v, Decimal)
        else int(v)
        if isinstance(v, bool)
        else v
        for v in row
    )


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the staged write is PostgreSQL's"
)
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_scores_staged_and_swapped_in_on_postgresql_are_those_written_into_the_live_table(
    ledger: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = ledger
    table = CustomerScore._meta.db_table

    def catalogue() -> tuple[list[Any], list[Any]]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s ORDER BY 1", [table]
            )
            indexes = cursor.fetchall()
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass"
                " ORDER BY 1",
                [table],
            )
            return indexes, cursor.fetchall()

    def rows() -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT * FROM {table} ORDER BY customer_id")
            return cursor.fetchall()

    before = catalogue()
    with transaction.atomic():
        refresh(as_of=w.as_of)  # in a transaction: the rows replaced in the live table by this connection
        written = rows()
        transaction.set_rollback(True)
    assert len(written) == len(w.buyers) and rows() == []
    run = refresh(as_of=w.as_of)  # outside one: staged by other connections, swapped in
    run.refresh_from_db()
    assert run.status == AnalyticsRun.Status.DONE
    assert rows() == written
    assert catalogue() == before  # the primary key, the partial index and the CHECK constraints
    assert "score_at_risk_clv" in str(before[0]) and any("PRIMARY KEY" in d for _n, d in before[1])
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{table}__next"])
        assert cursor.fetchone()[0] is None
    # The next refresh finds the swapped-in table as it found the first (churn_since kept, the same rows).
    again = refresh(as_of=w.as_of)
    again.refresh_from_db()
    assert again.status == AnalyticsRun.Status.DONE and rows() == written
    # A refresh that fails after the swap, in its transaction: the live rows stay, the staged copy is gone.
    from kehu.analytics import refresh as refresh_module

    def fail(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("the tasks failed")

    monkeypatch.setattr(refresh_module, "_winback_tasks", fail)
    with pytest.raises(RuntimeError, match="the tasks failed"):
        refresh(as_of=w.as_of)
    assert rows() == written and catalogue() == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [f"{table}__next"])
        assert cursor.fetchone()[0] is None
