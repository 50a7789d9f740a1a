"""Pure rules of customer service (no ORM): which SLA policy applies, where a clock stands, who gets the
next ticket. The working calendar itself is ``sla.py``."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar


class PolicyLike(Protocol):
    pk: Any
    kind: str
    category: str
    value_tier: str
    priority: str
    position: int


P = TypeVar("P", bound=PolicyLike)


def policy_specificity(policy: PolicyLike) -> int:
    """How many of the four conditions a policy sets; the most specific matching policy wins (SVC-5)."""
    return sum(1 for value in (policy.kind, policy.category, policy.value_tier, policy.priority) if value)


def match_policy(
    policies: Iterable[P], *, kind: str, category: str, value_tier: str, priority: str
) -> P | None:
    """The active policy for a new ticket: every condition it sets must equal the ticket's; among those,
    the most specific, then the lowest position, then the oldest. ``None`` when nothing matches (the
    ticket has no deadlines)."""
    wanted = {"kind": kind, "category": category, "value_tier": value_tier, "priority": priority}
    matching = [
        p
        for p in policies
        if all(not getattr(p, key) or getattr(p, key) == value for key, value in wanted.items())
    ]
    if not matching:
        return None
    return min(matching, key=lambda p: (-policy_specificity(p), p.position, p.pk))


@dataclass(frozen=True)
class ClockState:
    """Where one SLA clock stands, for the ticket page, the queue and the dashboard (SVC-2: "the clock,
    the time left and breaches are visible")."""

    due_at: datetime | None
    done_at: datetime | None
    paused: bool
    minutes_left: int | None  # negative: minutes overdue; None: no deadline, or done
    state: str  # "none" | "met" | "breached" | "paused" | "running" | "soon" | "overdue"


def clock_state(
    *,
    due_at: datetime | None,
    done_at: datetime | None,
    paused_at: datetime | None,
    now: datetime,
    soon_minutes: int,
) -> ClockState:
    """The state of a clock: done in time (met) or late (breached); running, soon (within
    ``soon_minutes``) or overdue while not done; paused while waiting for the customer. Minutes left are
    calendar minutes to the deadline — what the agent can act on."""
    if due_at is None:
        return ClockState(due_at, done_at, False, None, "none")
    if done_at is not None:
        return ClockState(due_at, done_at, False, None, "met" if done_at <= due_at else "breached")
    if paused_at is not None:
        left = int((due_at - paused_at).total_seconds() // 60)
        return ClockState(due_at, None, True, left, "paused")
    left = int((due_at - now).total_seconds() // 60)
    if due_at < now:
        return ClockState(due_at, None, False, left, "overdue")
    # The same boundaries as the queues (``selectors.queue_filter``): soon while the deadline is less
    # than ``soon_minutes`` away, so a ticket badged 即将超时 is always in the 即将超时 queue.
    soon = due_at - now < timedelta(minutes=soon_minutes)
    return ClockState(due_at, None, False, left, "soon" if soon else "running")


@dataclass(frozen=True)
class Candidate:
    """An agent who may take a ticket: their id, open tickets now, when they last got one, skills."""

    user_id: int
    open_count: int
    last_assigned_at: datetime | None
    skills: Sequence[str] = ()


def pick_agent(candidates: Sequence[Candidate], *, mode: str, category: str) -> int | None:
    """Who gets the next ticket (SVC-4):

    - round robin: the agent who has waited longest since their last ticket (never-assigned first), so
      joining, leaving and being away do not upset the turns;
    - least open work: the fewest open tickets, then the longest wait;
    - by skill: among agents skilled in the ticket's category (all available agents when nobody is),
      the least open work.

    ``None`` when nobody is available (the ticket waits in the team's unassigned queue)."""
    if not candidates or mode == "manual":
        return None

    def waited(c: Candidate) -> tuple[int, float, int]:
        return (
            (0, 0.0, c.user_id)
            if c.last_assigned_at is None
            else (1, c.last_assigned_at.timestamp(), c.user_id)
        )

    pool = list(candidates)
    if mode == "skill":
        skilled = [c for c in pool if category in c.skills]
        pool = skilled or pool
    if mode == "round_robin":
        return min(pool, key=waited).user_id
    return min(pool, key=lambda c: (c.open_count, *waited(c))).user_id


def normalise_windows(raw: Any) -> list[tuple[str, str]]:
    """Working windows as [["09:00", "12:00"], …]: HH:MM strings, each start before its end, sorted and
    not overlapping. Raises ``ValueError`` with the problem (the service turns it into a field error)."""
    if not isinstance(raw, list | tuple) or not raw:
        raise ValueError("empty")
    out: list[tuple[str, str]] = []
    for item in raw:
        if not isinstance(item, list | tuple) or len(item) != 2:
            raise ValueError("shape")
        start, end = (_hhmm(str(v)) for v in item)
        if start >= end:
            raise ValueError("order")
        out.append((start, end))
    out.sort()
    for (_s1, e1), (s2, _e2) in itertools.pairwise(out):
        if s2 < e1:
            raise ValueError("overlap")
    return out


def _hhmm(text: str) -> str:
    parts = text.strip().split(":")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError("format")
    hours, minutes = int(parts[0]), int(parts[1])
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise ValueError("format")
    return f"{hours:02d}:{minutes:02d}"


# The compound surnames callers commonly have; any other name's surname is its first character.
COMPOUND_SURNAMES = frozenset(
    [
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "长孙",
        "夏侯",
        "轩辕",
        "宇文",
        "司徒",
        "端木",
        "万俟",
        "独孤",
        "南宫",
        "西门",
        "申屠",
        "澹台",
    ]
)


def honorific(name: str, gender: str) -> str:
    """How the agent addresses a caller (SVC-3): 鲁先生 / 欧阳女士 from the name and gender; the full
    name when the gender is unknown (guessing wrong is worse than not guessing)."""
    name = (name or "").strip()
    if not name:
        return ""
    surname = name[:2] if len(name) > 2 and name[:2] in COMPOUND_SURNAMES else name[:1]
    if gender == "male":
        return f"{surname}先生"
    if gender == "female":
        return f"{surname}女士"
    return name
