"""Template context: what the signed-in user may do, for showing or hiding buttons and menu items.

Hiding is only convenience; services check again with ``require``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .scope import perms_of


class _PermSet:
    def __init__(self, perms: frozenset[str]) -> None:
        self._perms = perms

    def __getitem__(self, key: str) -> bool:
        return key.replace("_", ".", 1) in self._perms or key in self._perms

    def __contains__(self, key: str) -> bool:
        return self[key]


def access(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    perms = perms_of(user) if user is not None and user.is_authenticated else frozenset()
    return {"kperms": _PermSet(perms)}
