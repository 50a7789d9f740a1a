"""Churn warning (流失预警, ANA-4): pure rules on plain numbers.

A customer is flagged **at risk of churning** (流失风险) when at least one of these holds; every rule that
holds is given as a reason:

1. **Low probability of being active.** P(alive) from the lifetime model is below the threshold
   (default 0.5: the customer is more likely gone than still buying).
2. **Purchase rhythm broken.** The days since the last order exceed ``rhythm_factor`` (default 2) times
   the customer's own usual gap — the median number of days between consecutive purchases. Only for
   customers with at least ``min_gaps`` (default 2) gaps, i.e. three purchase days; same-day orders count
   as one purchase.
3. **Engagement dropped.** Engagement = the contacts counted in the last ``engagement_window_days`` days
   — interactions (跟进记录) and the tickets and complaints the customer raised — (default 90) against the
   same number of days before that. Flagged when
   the earlier window had at least ``engagement_min_previous`` (default 3) and the recent one fell by at
   least ``engagement_drop`` (default 50 %) of it: recent ≤ previous × (1 − drop).

A missing input (no P(alive), no order history, no engagement counts) simply does not trigger its rule.

:func:`churn_flags` applies the rules to whole arrays and returns a bit mask per customer
(:class:`ChurnReason` values); :func:`assess_churn` applies them to one customer and returns the code and
the human-readable reasons (Chinese first, English through gettext).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntFlag
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

CHURN_RISK = "churn_risk"
ACTIVE = "active"


class ChurnReason(IntFlag):
    P_ALIVE = 1
    RHYTHM = 2
    ENGAGEMENT = 4


@dataclass(frozen=True)
class ChurnRules:
    p_alive_threshold: float = 0.5
    rhythm_factor: float = 2.0
    min_gaps: int = 2
    engagement_window_days: int = 90
    engagement_drop: float = 0.5
    engagement_min_previous: int = 3

    def __post_init__(self) -> None:
        if not 0 <= self.p_alive_threshold <= 1:
            raise ValueError("p_alive_threshold must be in [0, 1]")
        if self.rhythm_factor <= 0 or self.min_gaps < 1:
            raise ValueError("rhythm_factor must be > 0 and min_gaps ≥ 1")
        if not 0 < self.engagement_drop <= 1 or self.engagement_min_previous < 1:
            raise ValueError("engagement_drop must be in (0, 1] and engagement_min_previous ≥ 1")


def churn_flags(
    *,
    p_alive: npt.ArrayLike | None = None,
    days_since_last: npt.ArrayLike | None = None,
    median_gap: npt.ArrayLike | None = None,
    gap_count: npt.ArrayLike | None = None,
    engagement_recent: npt.ArrayLike | None = None,
    engagement_previous: npt.ArrayLike | None = None,
    rules: ChurnRules | None = None,
) -> npt.NDArray[np.int8]:
    """Bit mask of :class:`ChurnReason` per customer (0 = not flagged). NaN inputs never trigger a rule."""
    rules = rules or ChurnRules()
    arrays = [
        a for a in (p_alive, days_since_last, median_gap, gap_count, engagement_recent) if a is not None
    ]
    if not arrays:
        raise ValueError("give at least one input")
    n = np.asarray(arrays[0]).shape[0]
    mask = np.zeros(n, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        if p_alive is not None:
            pa = np.asarray(p_alive, dtype=np.float64)
            mask |= np.where(pa < rules.p_alive_threshold, int(ChurnReason.P_ALIVE), 0).astype(np.int8)
        if days_since_last is not None and median_gap is not None and gap_count is not None:
            since = np.asarray(days_since_last, dtype=np.float64)
            gap = np.asarray(median_gap, dtype=np.float64)
            count = np.asarray(gap_count, dtype=np.float64)
            hit = (count >= rules.min_gaps) & (gap > 0) & (since > rules.rhythm_factor * gap)
            mask |= np.where(hit, int(ChurnReason.RHYTHM), 0).astype(np.int8)
        if engagement_recent is not None and engagement_previous is not None:
            rec = np.asarray(engagement_recent, dtype=np.float64)
            prev = np.asarray(engagement_previous, dtype=np.float64)
            hit = (prev >= rules.engagement_min_previous) & (rec <= prev * (1.0 - rules.engagement_drop))
            mask |= np.where(hit, int(ChurnReason.ENGAGEMENT), 0).astype(np.int8)
    return mask


@dataclass(frozen=True)
class Reason:
    """One reason: a stable ``code``, a lazy message and its parameters (store code + params, render later)."""

    code: str
    message: Promise
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str | None = None) -> str:
        if language is None:
            return str(self.message) % self.params
        with translation.override(language):
            return str(self.message) % self.params


@dataclass(frozen=True)
class ChurnAssessment:
    code: str  # CHURN_RISK or ACTIVE
    reasons: list[Reason]
    mask: int

    @property
    def flagged(self) -> bool:
        return self.code == CHURN_RISK


def churn_reasons(
    mask: int,
    *,
    p_alive: float | None = None,
    days_since_last: float | None = None,
    median_gap: float | None = None,
    engagement_recent: float | None = None,
    engagement_previous: float | None = None,
    rules: ChurnRules | None = None,
) -> list[Reason]:
    """The human-readable reasons of a :func:`churn_flags` bit mask, with the numbers that triggered them."""
    rules = rules or ChurnRules()
    out: list[Reason] = []
    if mask & ChurnReason.P_ALIVE:
        out.append(
            Reason(
                "p_alive",
                _("仍活跃的概率 %(p_alive).0f%% 低于阈值 %(threshold).0f%%"),
                {"p_alive": 100 * (p_alive or 0.0), "threshold": 100 * rules.p_alive_threshold},
            )
        )
    if mask & ChurnReason.RHYTHM:
        out.append(
            Reason(
                "rhythm",
                _("距上次下单已 %(days)d 天，超过其平常购买间隔 %(gap)d 天的 %(factor)s 倍"),
                {
                    "days": int(days_since_last or 0),
                    "gap": round(median_gap or 0),
                    "factor": rules.rhythm_factor,
                },
            )
        )
    if mask & ChurnReason.ENGAGEMENT:
        out.append(
            Reason(
                "engagement",
                _("近 %(window)d 天跟进与服务往来 %(recent)d 次，之前 %(window)d 天为 %(previous)d 次"),
                {
                    "window": rules.engagement_window_days,
                    "recent": int(engagement_recent or 0),
                    "previous": int(engagement_previous or 0),
                },
            )
        )
    return out


def assess_churn(
    *,
    p_alive: float | None = None,
    days_since_last: float | None = None,
    gaps_days: Sequence[float] = (),
    engagement_recent: int | None = None,
    engagement_previous: int | None = None,
    rules: ChurnRules | None = None,
) -> ChurnAssessment:
    """Apply the churn rules to one customer. ``gaps_days``: days between consecutive purchase days."""
    rules = rules or ChurnRules()
    gaps = [float(g) for g in gaps_days]
    median_gap = float(np.median(gaps)) if gaps else float("nan")
    nan = float("nan")
    mask = int(
        churn_flags(
            p_alive=[nan if p_alive is None else p_alive],
            days_since_last=[nan if days_since_last is None else days_since_last],
            median_gap=[median_gap],
            gap_count=[len(gaps)],
            engagement_recent=[nan if engagement_recent is None else engagement_recent],
            engagement_previous=[nan if engagement_previous is None else engagement_previous],
            rules=rules,
        )[0]
    )
    reasons = churn_reasons(
        mask,
        p_alive=p_alive,
        days_since_last=days_since_last,
        median_gap=median_gap if gaps else None,
        engagement_recent=engagement_recent,
        engagement_previous=engagement_previous,
        rules=rules,
    )
    return ChurnAssessment(code=CHURN_RISK if mask else ACTIVE, reasons=reasons, mask=mask)
