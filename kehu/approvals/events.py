"""What happens in the approval engine; the audit log records these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ApprovalChanged(DomainEvent):
    """submit / approve / reject / withdraw of an approval request (subject_type ``approval_request``)."""


@dataclass(frozen=True, kw_only=True)
class ApprovalFlowChanged(DomainEvent):
    """create / update / deactivate of an approval flow (subject_type ``approval_flow``)."""
