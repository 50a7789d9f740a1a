"""What happens in analytics; the audit log records these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AnalyticsChanged(DomainEvent):
    """settings (the knobs changed) / refresh (a refresh was asked for)."""
