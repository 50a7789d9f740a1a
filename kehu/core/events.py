"""A minimal in-process event bus (architecture.md: lower domains emit, higher ones subscribe).

Services emit a ``DomainEvent`` after their write, inside the same transaction;
subscribers that must be atomic with the write (the audit log) run immediately,
subscribers with side effects outside the database wrap themselves in
``transaction.on_commit``. Subscriptions are wired in each app's ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Handlers take a list so that bulk operations can hand over all their events at once.
Subscriber = Callable[[list["DomainEvent"]], None]
_subscribers: list[tuple[type[DomainEvent], Subscriber]] = []


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """What happened, by whom, to what. ``changes`` maps field -> [old, new]."""

    actor_id: int | None
    verb: str
    subject_type: str
    subject_id: int | None
    subject_label: str = ""
    customer_id: int | None = None
    changes: dict[str, Any] = field(default_factory=dict)
    ip: str | None = None


def subscribe(event_type: type[DomainEvent], handler: Subscriber) -> None:
    if (event_type, handler) not in _subscribers:
        _subscribers.append((event_type, handler))


def emit(*events: DomainEvent) -> None:
    """Hand ``events`` to every subscriber of their type, in one call per subscriber."""
    emit_many(list(events))


def emit_many(events: list[DomainEvent]) -> None:
    for event_type, handler in list(_subscribers):
        mine = [e for e in events if isinstance(e, event_type)]
        if mine:
            handler(mine)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field changes as ``{field: [old, new]}`` for the keys whose value differs."""
    out: dict[str, list[Any]] = {}
    for key in after:
        old, new = before.get(key), after.get(key)
        if old != new:
            out[key] = [_jsonable(old), _jsonable(new)]
    return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    return str(value)
