"""API authentication: ``Authorization: Bearer <token>`` or the browser session (with CSRF)."""

from __future__ import annotations

from typing import Any

from ninja.security import HttpBearer, SessionAuth

from .services import token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: Any, token: str) -> Any:
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


API_AUTH = [BearerToken(), SessionAuth()]
