"""The audit page for auditors (SEC-3)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from kehu.access.requests import AuthedRequest
from kehu.access.selectors import user_choices
from kehu.core.errors import ValidationError
from kehu.core.web import page, query_params

from .selectors import FILTERS, audit_list, audit_subject_types, audit_verbs


@page
def audit_page(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, FILTERS)
    error = None
    try:
        result = audit_list(
            actor=request.user,
            filters=filters,
            limit=request.GET.get("limit") or 50,
            offset=request.GET.get("offset"),
        )
    except ValidationError as exc:
        error = exc.text()
        filters = {}
        result = audit_list(actor=request.user, limit=50)
    return render(
        request,
        "audit/list.html",
        {
            "page": result,
            "filters": filters,
            "error": error,
            "verbs": audit_verbs(),
            "subject_types": audit_subject_types(),
            "users": user_choices(),
        },
    )
