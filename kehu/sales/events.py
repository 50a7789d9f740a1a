"""What happens in the sales pipeline; the audit log and the customer timeline record these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OpportunityChanged(DomainEvent):
    """create / update / stage / win / lose / invalidate / reopen / transfer / delete of an opportunity."""


@dataclass(frozen=True, kw_only=True)
class PipelineChanged(DomainEvent):
    """create / update of a stage group and its stages."""
