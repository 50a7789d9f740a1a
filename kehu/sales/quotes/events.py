"""What happens to quotes; the audit log and the customer's timeline record these."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class QuoteChanged(DomainEvent):
    """create / update / line_add / line_update / line_remove / revise / send / accept / reject / expire /
    approval of a quote (SAL-5)."""


@dataclass(frozen=True, kw_only=True)
class LetterheadChanged(DomainEvent):
    """update / logo of our letterhead."""
