"""Purchase summaries kept between refreshes (ADR 0014, addendum "purchase summaries"): what the sync
keeps is, after any changes and any passing of days, exactly what summing every purchase day gives."""

from __future__ import annotations

import datetime as dt
from functools import partial
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from kehu.analytics import facts as F
from kehu.analytics import purchase_summary as S
from kehu.analytics import purchases as P
from kehu.analytics.history import purchase_history
from kehu.analytics.models import CustomerScore, PurchaseDaysStale, PurchaseSummary
from kehu.analytics.refresh import refresh, settings_get
from kehu.orders.choices import OrderStatus
from kehu.orders.models import Order

from . import world as W

WINDOW = 30  # short lifecycle windows, so that days passing move purchases across their edges often


def _days(rows: list[tuple[int, int, int]]) -> P.Days:
    """Purchase days from (customer, day, amount in cents) rows: one order each, two in three costed."""
    customer = np.array([r[0] for r in rows], dtype=np.int64)
    day = np.array([r[1] for r in rows], dtype=np.int64)
    amount = np.array([r[2] for r in rows], dtype=np.int64)
    cost = np.where(np.arange(len(rows)) % 3 == 0, -1, amount // 2)
    return P.merge_orders(customer, day, amount, cost)


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


rows_strategy = st.lists(
    st.tuples(st.integers(1, 6), st.integers(0, 200), st.integers(-5_000, 10**7)), min_size=1, max_size=60
)


@hsettings(max_examples=80, deadline=None)
@given(rows=rows_strategy, end=st.integers(0, 260), window=st.integers(1, 90))
def test_a_summary_gives_the_history_and_totals_of_its_purchase_days(
    rows: list[tuple[int, int, int]], end: int, window: int
) -> None:
    days = _days(rows)
    summary = S.summarize(days, end, window)
    assert list(summary["customer_id"]) == sorted(set(days.customer_id.tolist()))
    n = int(summary.shape[0])
    codes = np.arange(n, dtype=np.int64)
    got = S.per_customer(S.Summaries(summary, end, window, "built", 0), codes, np.ones(n, bool), n)
    code_of = {int(c): i for i, c in enumerate(summary["customer_id"])}
    r = days.records
    counted = r["day"] <= end
    code = np.array([code_of[int(c)] for c in days.customer_id[counted]], dtype=np.int64)
    want = purchase_history(
        code, r["day"][counted].astype(np.int64), r["amount"][counted] / 100.0, n=n,
        as_of=dt.date(1970, 1, 1) + dt.timedelta(days=end), window_days=window, merged=True,
    )  # fmt: skip
    for name in ("purchases", "gap_count", "recent_purchases", "previous_purchases"):
        assert np.array_equal(getattr(got.history, name), getattr(want, name)), name
    for name in ("days_since_first", "days_since_last", "median_gap"):
        assert np.array_equal(getattr(got.history, name), getattr(want, name), equal_nan=True), name
    for name in ("early_mean_amount", "late_mean_amount"):  # sums of cents, against sums of yuan
        assert np.allclose(getattr(got.history, name), getattr(want, name), rtol=1e-12, equal_nan=True), name

    def summed(field: str, where: np.ndarray) -> list[int]:
        return [
            int(r[field][(days.customer_id == c) & where].astype(np.int64).sum())
            for c in summary["customer_id"]
        ]

    for field, mine in (("orders", got.orders), ("costed", got.costed), ("amount", got.amount),
                        ("costed_amount", got.costed_amount), ("cost", got.cost)):  # fmt: skip
        assert mine.tolist() == summed(field, counted), field
    assert got.amount_12m.tolist() == summed("amount", counted & (r["day"] > end - 365))
    first = {
        c: int(r["day"][(days.customer_id == c) & counted].min(initial=10**9)) for c in summary["customer_id"]
    }
    assert got.first_amount.tolist() == [
        int(r["amount"][(days.customer_id == c) & (r["day"] == first[c])].astype(np.int64).sum())
        for c in summary["customer_id"]
    ]


@hsettings(max_examples=80, deadline=None)
@given(rows=rows_strategy, end=st.integers(0, 260), window=st.integers(1, 90), later=st.integers(0, 400))
def test_a_summary_holds_on_every_later_day_until_the_day_it_names(
    rows: list[tuple[int, int, int]], end: int, window: int, later: int
) -> None:
    """Summed again on any day before a customer's ``valid_until``, its summary is the same record."""
    days = _days(rows)
    before = S.summarize(days, end, window)
    after = S.summarize(days, end + later, window)
    for old, new in zip(before, after, strict=True):
        if end + later < int(old["valid_until"]):
            assert _same(np.array([old]), np.array([new]))
        assert int(old["valid_until"]) > end


def _day_about(rng: np.random.Generator, end: int, lo: int, hi: int) -> dt.date:
    """A random date from ``lo`` to ``hi`` − 1 days after day number ``end``."""
    return dt.date(1970, 1, 1) + dt.timedelta(days=end + int(rng.integers(lo, hi)))


def _expected_summary(end: int) -> np.ndarray:
    return S.summarize(P.start_read()(), end, WINDOW)


@pytest.mark.django_db
@pytest.mark.parametrize(("seed", "patch_at"), [(1, 1.0), (2, 1.0), (3, S.PATCH_AT)])
def test_summaries_kept_through_changes_and_passing_days_are_those_summed_from_every_purchase_day(
    cast: SimpleNamespace, seed: int, patch_at: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Forty rounds of random changes to a few customers' orders — new orders (some dated after the
    summary's day), deletions, amounts, cancellations, other days, other customers — each followed by a
    sync on a day from the same to two months later: the summaries kept equal those summed from every
    purchase day, and only the customers changed or reached by the passing days were summed again. With
    ``patch_at`` 1.0 the changes are kept as a patch to the parts (the world is small: with the default
    share, most nights write every part again)."""
    monkeypatch.setattr(S, "PATCH_AT", patch_at)
    w = W.build(cast)
    PurchaseDaysStale.objects.create(customer_id=None)
    rng = np.random.default_rng(seed)
    end = F.day_number(w.as_of) - 300
    keep = partial(S.update, end=end, window=WINDOW)
    assert P.sync(keep=keep).kept is None  # every row built: nothing kept
    S.store(S.Summaries(_expected_summary(end), end, WINDOW, "built", 0))
    customers = [b.customer for b in w.buyers if Order.objects.filter(customer=b.customer).exists()][:6]
    sources = set()
    patched = 0
    for _round in range(40):
        for _change in range(int(rng.integers(0, 4))):
            W.random_order_change(
                rng, customers, tag=f"S{seed}",
                day=partial(_day_about, rng, end, -400, 60), near=partial(_day_about, rng, end, -2, 2),
            )  # fmt: skip
        end += int(rng.choice([0, 1, 1, 2, 7, 29, 61]))
        synced = P.sync(keep=partial(S.update, end=end, window=WINDOW))
        kept = synced.kept
        assert kept is not None and kept.end == end
        sources.add(kept.source)
        expected = _expected_summary(end)
        assert _same(kept.records, expected)
        stored = S.load()
        # Stored as of this day, or of an earlier one when no record had to change (each still names the
        # day it next changes).
        assert stored is not None and _same(stored.records, expected) and stored.window == WINDOW
        assert stored.end == end or (kept.source == "stored" and stored.end < end)
        patched += PurchaseSummary.objects.filter(part=S.PATCH_PART).exists()
    assert "updated" in sources and sources <= {"stored", "updated"}
    if patch_at == 1.0:
        assert patched
    same_day = P.sync(keep=partial(S.update, end=end, window=WINDOW)).kept  # nothing changed, nor the day
    assert same_day is not None and same_day.source == "stored" and _same(same_day.records, expected)


@pytest.mark.django_db
def test_what_the_sync_cannot_bring_up_to_date_is_forgotten(cast: SimpleNamespace) -> None:
    """An earlier day, other windows, every row built again: the summaries are deleted and the refresh
    sums every purchase day."""
    w = W.build(cast)
    end = F.day_number(w.as_of)
    P.sync()
    S.store(S.Summaries(_expected_summary(end), end, WINDOW, "built", 0))
    assert P.sync(keep=partial(S.update, end=end - 1, window=WINDOW)).kept is None
    assert not PurchaseSummary.objects.exists()
    S.store(S.Summaries(_expected_summary(end), end, WINDOW, "built", 0))
    assert P.sync(keep=partial(S.update, end=end, window=WINDOW + 1)).kept is None
    assert not PurchaseSummary.objects.exists()
    S.store(S.Summaries(_expected_summary(end), end, WINDOW, "built", 0))
    PurchaseDaysStale.objects.create(customer_id=None)
    assert P.sync(keep=partial(S.update, end=end, window=WINDOW)).kept is None
    assert not PurchaseSummary.objects.exists()
    # A sync given nothing to keep, after a change: what was kept no longer matches, and is deleted.
    S.store(S.Summaries(_expected_summary(end), end, WINDOW, "built", 0))
    order = Order.objects.filter(customer__isnull=False).exclude(status=OrderStatus.CANCELLED).first()
    assert order is not None
    Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount + 1)
    assert P.sync().mode == "some"
    assert not PurchaseSummary.objects.exists()


@pytest.mark.django_db
def test_summaries_are_stored_in_parts_and_read_back_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S, "PART", 3)
    records = np.zeros(8, S.SUMMARY)
    records["customer_id"] = np.arange(1, 9)
    records["amount"] = np.arange(8) * 10**12  # beyond 32 bits
    S.store(S.Summaries(records, 20_000, 180, "built", 0))
    assert list(PurchaseSummary.objects.order_by("part").values_list("part", "customers")) == [
        (0, 3),
        (1, 3),
        (2, 2),
    ]
    back = S.load()
    assert back is not None and _same(back.records, records) and (back.end, back.window) == (20_000, 180)
    S.store(S.Summaries(np.zeros(0, S.SUMMARY), 20_001, 180, "built", 0))  # none: still stored, as none
    back = S.load()
    assert back is not None and back.records.shape == (0,) and back.end == 20_001
    PurchaseSummary.objects.filter(part=0).update(customers=1)  # parts that do not add up: nothing kept
    assert S.load() is None


@pytest.mark.django_db
def test_a_patch_replaces_adds_and_removes_records_of_the_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(S, "PART", 3)
    records = np.zeros(5, S.SUMMARY)
    records["customer_id"] = [2, 4, 6, 8, 10]
    records["amount"] = [20, 40, 60, 80, 100]
    records["valid_until"] = S.NEVER
    S.store(S.Summaries(records, 20_000, 180, "built", 0))
    changes = np.zeros(3, S.SUMMARY)
    changes["customer_id"] = [4, 5, 8]
    changes["amount"] = [41, 50, 0]
    changes["valid_until"] = [S.NEVER, S.NEVER, S.GONE]  # 4 changed, 5 new, 8 has no purchase day left
    S._store_patch(changes, 20_003, 180)
    back = S.load()
    assert back is not None and (back.end, back.window) == (20_003, 180)
    assert back.records["customer_id"].tolist() == [2, 4, 5, 6, 10]
    assert back.records["amount"].tolist() == [20, 41, 50, 60, 100]
    assert back.parts is not None and _same(back.parts, records)
    assert back.patch is not None and _same(back.patch, changes)
    # A patch older than the parts, or of other windows, does not add up: nothing kept.
    S._store_patch(changes, 19_999, 180)
    assert S.load() is None
    S._store_patch(changes, 20_003, 90)
    assert S.load() is None
    # Written whole again, the parts leave no patch.
    S.store(S.Summaries(records, 20_004, 180, "built", 0))
    assert not PurchaseSummary.objects.filter(part=S.PATCH_PART).exists()


@pytest.mark.django_db
def test_a_refresh_keeps_the_summaries_and_the_next_uses_them(cast: SimpleNamespace) -> None:
    w = W.build(cast)
    settings = settings_get()
    first = refresh(as_of=w.as_of - dt.timedelta(days=1))
    first.refresh_from_db()
    assert first.summary["purchase_summary"]["source"] == "built"
    buyer = next(b for b in w.buyers if b.counted(w.as_of))
    order = Order.objects.filter(customer=buyer.customer, order_date__lte=w.as_of).exclude(
        status="cancelled"
    )[0]
    Order.objects.filter(pk=order.pk).update(total_amount=order.total_amount + 1000)
    second = refresh(as_of=w.as_of)
    second.refresh_from_db()
    assert second.summary["purchase_summary"]["source"] == "updated"
    assert 1 <= second.summary["purchase_summary"]["redone"] < len(w.buyers)
    stored = S.load()
    assert stored is not None
    assert _same(
        stored.records, S.summarize(P.start_read()(), F.day_number(w.as_of), settings.lifecycle_window_days)
    )
    assert (
        CustomerScore.objects.get(customer=buyer.customer).revenue
        == W.expected(buyer, w.as_of)["revenue"] + 1000
    )
