"""What happens to sales targets; the audit log records these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class TargetChanged(DomainEvent):
    """create / update / delete of a sales target."""
