"""The request type of signed-in views and endpoints: ``request.user`` is a real ``User``.

Page views are wrapped by ``login_required`` and API endpoints by token/session auth, so by the
time they run the user is authenticated; this type says so to the type checker.
"""

from __future__ import annotations

from django.http import HttpRequest

from .models import User


class AuthedRequest(HttpRequest):
    user: User  # type: ignore[assignment]
