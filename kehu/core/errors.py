"""Domain errors with stable codes (architecture.md, house style 3).

Every error a user can cause is a ``KehuError`` carrying a stable ``code``,
the ``field`` at fault (or ``None``) and a message that exists in Chinese and
English. The API maps them once to ``{code, message, field}`` with a 4xx
status; pages show them as a form error or a toast. Raising one means nothing
was written (services raise before writing, or inside a transaction).
"""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.functional import Promise


class KehuError(Exception):
    """Base of all domain errors. ``status`` is the HTTP status the API uses."""

    code = "error"
    status = 400

    def __init__(
        self,
        message: str | Promise,
        *,
        field: str | None = None,
        code: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        self.message = message
        self.field = field
        self.params = params or {}
        if code is not None:
            self.code = code
        super().__init__(self.text())

    def text(self, language: str | None = None) -> str:
        """The message in ``language`` (default: the active language)."""
        if language is None:
            raw = str(self.message)
        else:
            with translation.override(language):
                raw = str(self.message)
        try:
            return raw % self.params if self.params else raw
        except (KeyError, TypeError, ValueError):
            return raw

    def as_dict(self) -> dict[str, Any]:
        """The API error body: interfaces.md's ``{code, message, field}`` plus both languages."""
        return {
            "code": self.code,
            "message": self.text(),
            "field": self.field,
            "messages": {"zh-hans": self.text("zh-hans"), "en": self.text("en")},
        }


class ValidationError(KehuError):
    """Bad input: names the field, writes nothing."""

    code = "invalid"
    status = 422


class PermissionDenied(KehuError):
    """The actor lacks the permission (``require``) or the record is outside their scope."""

    code = "forbidden"
    status = 403


class NotFound(KehuError):
    """The record does not exist *for this actor* (outside ``visible_to`` looks the same)."""

    code = "not_found"
    status = 404


class Conflict(KehuError):
    """A stale ``version`` or a state that forbids the action; nothing was overwritten."""

    code = "conflict"
    status = 409


class RateLimited(KehuError):
    code = "rate_limited"
    status = 429
