"""Pure rules of the job layer: which scheduler slot is due, when a worker counts as gone."""

from __future__ import annotations

from datetime import datetime, timedelta

from .registry import Periodic


def due_slot(job: Periodic, now: datetime) -> str | None:
    """The slot of ``job`` that is due at ``now`` (local, aware), or None before today's daily time.

    Daily jobs have one slot per local day, due from their time on — a scheduler started late in the day
    still runs today's slot once (catch-up), never yesterday's. Interval jobs have one slot per interval
    counted from the epoch, so every scheduler agrees on the slot names.
    """
    if job.at is not None:
        if now.time().replace(tzinfo=None) < job.at:
            return None
        return now.date().isoformat()
    assert job.every is not None
    seconds = int(job.every.total_seconds())
    return f"e{int(now.timestamp()) // seconds}"


def worker_is_gone(seen_at: datetime, now: datetime, *, stale_after: timedelta) -> bool:
    """A worker that has not beaten for ``stale_after`` is gone (killed, or its machine is)."""
    return now - seen_at > stale_after
