"""Idle timeout: a session unused for KEHU_IDLE_TIMEOUT_SECONDS is signed out (issue 2 §2)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

_KEY = "kehu_last_seen"


class IdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last = request.session.get(_KEY)
            if last is not None and now - int(last) > settings.KEHU_IDLE_TIMEOUT_SECONDS:
                logout(request)
                request.session["kehu_idle_logout"] = True
            elif last is None or now - int(last) > 30:
                # Write at most every 30 s, not on every request.
                request.session[_KEY] = now
        return self.get_response(request)
