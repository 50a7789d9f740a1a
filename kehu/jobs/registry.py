"""Which jobs exist: handlers by kind, and which of them the scheduler starts periodically.

Domains register from their ``apps.ready()`` (via their ``tasks.py``), so this layer never imports them:

    @job_handler("customers.pool_recycle", label=_("公海回收"))
    def pool_recycle_job(job: Job) -> dict: ...

    periodic("customers.pool_recycle", at=time(2, 0))      # daily at 02:00 Asia/Shanghai
    periodic("engagement.fetchmail", every=timedelta(minutes=5))

A handler receives the :class:`~kehu.jobs.models.Job` and its ``params`` as keyword arguments. It must be
idempotent: a worker that dies mid-job has the job run again from the start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

Handler = Callable[..., Any]


@dataclass(frozen=True)
class JobKind:
    kind: str
    run: Handler
    label: Any  # a lazy translation
    max_attempts: int = 3


@dataclass(frozen=True)
class Periodic:
    kind: str
    at: time | None = None  # daily at this local time …
    every: timedelta | None = None  # … or every so often
    # Asked before starting a slot: False → nothing to do, no job this time (no mailbox to poll, no
    # notification to mail), so frequent jobs do not fill the job list with empty runs.
    needed: Callable[[], bool] | None = None


_KINDS: dict[str, JobKind] = {}
_PERIODIC: dict[str, Periodic] = {}


def job_handler(kind: str, *, label: Any, max_attempts: int = 3) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        _KINDS[kind] = JobKind(kind=kind, run=fn, label=label, max_attempts=max_attempts)
        return fn

    return register


def periodic(
    kind: str,
    *,
    at: time | None = None,
    every: timedelta | None = None,
    needed: Callable[[], bool] | None = None,
) -> None:
    if (at is None) == (every is None):
        raise ValueError("periodic(): give exactly one of at= or every=")
    if every is not None and every < timedelta(minutes=1):
        raise ValueError("periodic(): every= must be at least a minute")
    _PERIODIC[kind] = Periodic(kind=kind, at=at, every=every, needed=needed)


def job_kind(kind: str) -> JobKind | None:
    return _KINDS.get(kind)


def job_kinds() -> dict[str, JobKind]:
    return dict(_KINDS)


def periodic_jobs() -> list[Periodic]:
    return sorted(_PERIODIC.values(), key=lambda p: p.kind)
