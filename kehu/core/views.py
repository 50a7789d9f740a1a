"""Site-wide pages: health check, error pages."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

import kehu


def healthz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok", "database": "ok", …}`` when the database answers; 503 otherwise."""
    body: dict[str, Any] = {
        "status": "ok",
        "database": "ok",
        "version": kehu.__version__,
        "database_vendor": connection.vendor,
    }
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any database failure means unhealthy
        body.update(status="error", database="error", detail=type(exc).__name__)
        return JsonResponse(body, status=503)
    return JsonResponse(body)


def bare_json(request: HttpRequest) -> JsonResponse:
    """A bare Django JSON view: the benchmark's floor for what this server can do per request."""
    return JsonResponse({"ok": True})


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/404.html", status=404)


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "errors/403.html", status=403)


def handler500(request: HttpRequest) -> HttpResponse:
    return render(request, "errors/500.html", status=500)
