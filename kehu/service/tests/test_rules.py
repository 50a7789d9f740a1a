"""The pure rules of customer service: the state of an SLA clock (SVC-2, SVC-5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kehu.service.rules import clock_state

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 13, 30, tzinfo=SH)


@pytest.mark.parametrize(
    ("due_in", "state"),
    [
        (timedelta(minutes=-1), "overdue"),
        (timedelta(seconds=-1), "overdue"),
        (timedelta(0), "soon"),  # due this instant: not yet late
        (timedelta(minutes=59, seconds=59), "soon"),
        (timedelta(minutes=60), "running"),  # exactly soon_minutes away: the 即将超时 queue does not hold it
        (timedelta(minutes=60, seconds=30), "running"),
        (timedelta(hours=5), "running"),
    ],
)
def test_the_badge_uses_the_queues_boundaries(due_in: timedelta, state: str) -> None:
    got = clock_state(due_at=NOW + due_in, done_at=None, paused_at=None, now=NOW, soon_minutes=60)
    assert got.state == state


def test_done_paused_and_without_deadline() -> None:
    due = NOW + timedelta(hours=1)
    assert clock_state(due_at=due, done_at=due, paused_at=None, now=NOW, soon_minutes=60).state == "met"
    late = clock_state(
        due_at=due, done_at=due + timedelta(seconds=1), paused_at=None, now=NOW, soon_minutes=60
    )
    assert late.state == "breached"
    paused = clock_state(
        due_at=due, done_at=None, paused_at=NOW - timedelta(minutes=30), now=NOW, soon_minutes=60
    )
    assert paused.state == "paused" and paused.minutes_left == 90
    assert clock_state(due_at=None, done_at=None, paused_at=None, now=NOW, soon_minutes=60).state == "none"
