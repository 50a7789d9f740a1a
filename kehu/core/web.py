"""Helpers for thin page views: domain errors become error pages or form errors; htmx detection."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .errors import KehuError, NotFound, PermissionDenied


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: HttpRequest, exc: KehuError) -> HttpResponse:
    status = 404 if isinstance(exc, NotFound) else 403 if isinstance(exc, PermissionDenied) else exc.status
    return render(request, "errors/domain_error.html", {"error": exc, "status": status}, status=status)


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed-in page view; a ``KehuError`` that escapes the view becomes a proper error page."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except KehuError as exc:
            return error_page(request, exc)

    return wrapper


def query_params(request: HttpRequest, keys: set[str] | frozenset[str]) -> dict[str, str]:
    return {k: str(v) for k, v in request.GET.items() if k in keys and v != ""}


def download_response(file: Any, *, name: str, content_type: str) -> Any:
    """A stored file as a download: always ``attachment`` with the user's file name, never sniffed or
    rendered inline by the browser (an uploaded HTML or SVG must not run in our origin)."""
    from django.http import FileResponse

    file.open("rb")
    response = FileResponse(file, as_attachment=True, filename=name, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(data: bytes, *, filename: str) -> Any:
    """An export as a download (pages and API alike)."""
    from django.http import HttpResponse

    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def form_after_conflict(form_class: Any, data: Any, *, version: int, error: KehuError, **kwargs: Any) -> Any:
    """After a save based on a stale version (SEC-6): the user's input again, now resting on the
    stored ``version``, with the conflict shown — saving once more is a deliberate overwrite."""
    refreshed = data.copy()
    refreshed["version"] = str(version)
    form = form_class(refreshed, **kwargs)
    form.is_valid()
    field = (
        error.field if error.field in form.fields and not form.fields[error.field].widget.is_hidden else None
    )
    form.add_error(field, error.text())
    return form
