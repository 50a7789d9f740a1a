"""Lifecycle stage (客户生命周期, ANA-5): exploration 考察期, formation 形成期, stability 稳定期, decline 退化期.

Derived from the order and interaction history on a given day by these rules, tried in order — the first
that applies decides the stage and is given as the reason. A *purchase* is a day with at least one order
(several orders on one day are one purchase). The *window* is ``window_days`` days (default 180): the
recent window is the last 180 days, the previous window the 180 days before.

No purchase yet:

1. There were interactions in the previous window but none in the recent one → **退化期** (the prospect
   has gone quiet).
2. Otherwise → **考察期** (not a customer yet; still getting to know each other).

Exactly one purchase:

3. The first purchase is at most ``exploration_days`` (default 180) days ago → **考察期** (first order only,
   testing the relationship).
4. Otherwise → **退化期** (bought once and never again).

Two purchases or more:

5. The days since the last purchase exceed ``decline_factor`` (default 2) times the customer's usual gap —
   the median number of days between consecutive purchases → **退化期** (rhythm broken).
6. At least 4 purchases, and the mean amount of the later half of the purchases is more than ``fall_share``
   (default 30 %) below the mean of the earlier half → **退化期** (spend falling).
7. The number of purchases in the recent window exceeds the previous window's by more than ``rise_share``
   (default 20 %), or (at least 4 purchases) the later half's mean amount is more than ``rise_share``
   above the earlier half's → **形成期** (buying more often or more).
8. Fewer than ``min_stable_purchases`` (default 3) purchases → **形成期** (repeat buying has begun).
9. Otherwise → **稳定期** (steady repeat purchases at the usual rhythm).

(The earlier half of k purchases is the first ⌈k/2⌉, the later half the last ⌊k/2⌋.)

:func:`lifecycle_stages` applies the rules to whole arrays (:class:`~kehu.analytics.history.PurchaseHistory`
plus interaction counts) and returns stage and rule numbers; :func:`lifecycle_stage` does one customer from
plain dates and amounts and returns the stage with its reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .churn import Reason
from .history import PurchaseHistory, purchase_history


class Stage(StrEnum):
    EXPLORATION = "exploration"
    FORMATION = "formation"
    STABILITY = "stability"
    DECLINE = "decline"


STAGE_LABELS: dict[Stage, Promise] = {
    Stage.EXPLORATION: _("考察期"),
    Stage.FORMATION: _("形成期"),
    Stage.STABILITY: _("稳定期"),
    Stage.DECLINE: _("退化期"),
}

# Stage codes in the arrays :func:`lifecycle_stages` returns.
STAGES: tuple[Stage, ...] = (Stage.EXPLORATION, Stage.FORMATION, Stage.STABILITY, Stage.DECLINE)
_EXP, _FORM, _STAB, _DEC = range(4)

# Rule number (1 … 9, as in the module docstring) → stage code.
RULE_STAGE: dict[int, int] = {
    1: _DEC,
    2: _EXP,
    3: _EXP,
    4: _DEC,
    5: _DEC,
    6: _DEC,
    7: _FORM,
    8: _FORM,
    9: _STAB,
}


@dataclass(frozen=True)
class LifecycleRules:
    window_days: int = 180
    exploration_days: int = 180
    decline_factor: float = 2.0
    fall_share: float = 0.3
    rise_share: float = 0.2
    min_stable_purchases: int = 3

    def __post_init__(self) -> None:
        if self.window_days < 1 or self.exploration_days < 0 or self.decline_factor <= 0:
            raise ValueError("window_days ≥ 1, exploration_days ≥ 0 and decline_factor > 0 are needed")
        if not 0 <= self.fall_share < 1 or self.rise_share < 0 or self.min_stable_purchases < 2:
            raise ValueError("fall_share in [0, 1), rise_share ≥ 0 and min_stable_purchases ≥ 2 are needed")


@dataclass(frozen=True)
class StageArrays:
    stage: npt.NDArray[np.int8]  # index into STAGES
    rule: npt.NDArray[np.int8]  # 1 … 9


def lifecycle_stages(
    history: PurchaseHistory,
    interactions_recent: npt.ArrayLike,
    interactions_previous: npt.ArrayLike,
    rules: LifecycleRules | None = None,
) -> StageArrays:
    """Stage and rule number of every customer (``history`` built with the same ``window_days``)."""
    rules = rules or LifecycleRules()
    h = history
    n = len(h)
    ir = np.asarray(interactions_recent, dtype=np.float64)
    ip = np.asarray(interactions_previous, dtype=np.float64)
    if ir.shape != (n,) or ip.shape != (n,):
        raise ValueError("interaction counts must have one element per customer")
    k = h.purchases
    with np.errstate(invalid="ignore"):
        four = k >= 4
        falling = four & (h.late_mean_amount < h.early_mean_amount * (1.0 - rules.fall_share))
        rising_spend = four & (h.late_mean_amount > h.early_mean_amount * (1.0 + rules.rise_share))
        rising_count = h.recent_purchases > h.previous_purchases * (1.0 + rules.rise_share)
        broken = h.days_since_last > rules.decline_factor * h.median_gap
    conditions = [
        (k == 0) & (ip > 0) & (ir == 0),  # 1
        k == 0,  # 2
        (k == 1) & (h.days_since_first <= rules.exploration_days),  # 3
        k == 1,  # 4
        broken,  # 5 (k ≥ 2 from here on)
        falling,  # 6
        rising_count | rising_spend,  # 7
        k < rules.min_stable_purchases,  # 8
    ]
    rule = np.select(conditions, list(range(1, 9)), default=9).astype(np.int8)
    lookup = np.array([0] + [RULE_STAGE[i] for i in range(1, 10)], dtype=np.int8)
    return StageArrays(stage=lookup[rule], rule=rule)


_RULE_MESSAGES: dict[int, tuple[str, Promise]] = {
    1: ("prospect_quiet", _("尚未成交，近 %(window)d 天没有互动（之前 %(window)d 天有 %(previous)d 次）")),
    2: ("no_purchase", _("尚未成交，仍在考察")),
    3: ("first_purchase", _("只有首单（%(days)d 天前），仍在考察")),
    4: ("no_repeat", _("首单后 %(days)d 天未再购买")),
    5: ("rhythm_broken", _("距上次购买 %(days)d 天，超过平常间隔 %(gap)d 天的 %(factor)s 倍")),
    6: ("spend_falling", _("近期平均每次消费 %(late).2f，比早期的 %(early).2f 下降超过 %(share)d%%")),
    7: ("rising", _("购买次数或金额上升（近 %(window)d 天 %(recent)d 次，之前 %(previous)d 次）")),
    8: ("early_repeat", _("已开始复购（共 %(purchases)d 次购买）")),
    9: ("steady", _("按平常节奏稳定复购（共 %(purchases)d 次购买，平均间隔 %(gap)d 天）")),
}


@dataclass(frozen=True)
class LifecycleResult:
    stage: Stage
    rule: int
    reasons: list[Reason]

    @property
    def label(self) -> Promise:
        return STAGE_LABELS[self.stage]


def explain(
    rule: int, history: PurchaseHistory, i: int, interactions_previous: float, rules: LifecycleRules
) -> Reason:
    """The reason of customer ``i`` of ``history`` whose stage was decided by rule number ``rule``."""
    code, message = _RULE_MESSAGES[rule]
    h = history

    def num(a: npt.NDArray[np.float64] | npt.NDArray[np.int64]) -> float:
        v = float(a[i])
        return 0.0 if np.isnan(v) else v

    params: dict[str, object] = {
        "window": rules.window_days,
        "previous": int(interactions_previous) if rule == 1 else int(h.previous_purchases[i]),
        "recent": int(h.recent_purchases[i]),
        "days": round(num(h.days_since_last)),
        "gap": round(num(h.median_gap)),
        "factor": rules.decline_factor,
        "late": num(h.late_mean_amount),
        "early": num(h.early_mean_amount),
        "share": round(100 * rules.fall_share),
        "purchases": int(h.purchases[i]),
    }
    return Reason(code, message, params)


def lifecycle_stage(
    order_dates: Sequence[dt.date],
    order_amounts: Sequence[float],
    *,
    as_of: dt.date,
    interactions_recent: int = 0,
    interactions_previous: int = 0,
    rules: LifecycleRules | None = None,
) -> LifecycleResult:
    """The stage of one customer from its orders (dates and amounts, any order) and interaction counts.

    ``interactions_recent`` / ``interactions_previous``: interactions in the recent and the previous window.
    """
    rules = rules or LifecycleRules()
    if len(order_dates) != len(order_amounts):
        raise ValueError("order_dates and order_amounts must have the same length")
    history = purchase_history(
        np.zeros(len(order_dates), dtype=np.int64),
        np.array(list(order_dates), dtype="datetime64[D]"),
        np.asarray(order_amounts, dtype=np.float64),
        n=1,
        as_of=as_of,
        window_days=rules.window_days,
    )
    arrays = lifecycle_stages(history, [interactions_recent], [interactions_previous], rules)
    rule = int(arrays.rule[0])
    return LifecycleResult(
        stage=STAGES[int(arrays.stage[0])],
        rule=rule,
        reasons=[explain(rule, history, 0, interactions_previous, rules)],
    )
