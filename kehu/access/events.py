"""What happens to users, roles, departments and tokens (feeds the audit log)."""

from __future__ import annotations

from dataclasses import dataclass

from kehu.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AccessChanged(DomainEvent):
    """A user, role, department or API token was created, changed or revoked."""
