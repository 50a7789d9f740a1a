"""What happens to leads; the audit log records these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class LeadChanged(DomainEvent):
    """create / capture / update / claim / assign / release / screen / qualify / discard / convert /
    review / samples_sent of a lead."""


@dataclass(frozen=True, kw_only=True)
class LeadSettingsChanged(DomainEvent):
    """update of a risk rule or the threshold; create / update of a lead form; rescore of open leads."""
