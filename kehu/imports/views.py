"""Pages of imports (CUS-8): upload with templates, the dry run's summary and problem rows, commit."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.requests import AuthedRequest
from kehu.core.errors import KehuError
from kehu.core.web import page, xlsx_response

from . import selectors, services
from .choices import BatchStatus, ImportKind, OnDuplicate, ProblemKind


@page
def import_list(request: AuthedRequest) -> HttpResponse:
    """Upload a file of one kind (its dry run runs at once), download templates, see earlier batches."""
    error = None
    kind = request.POST.get("kind") or request.GET.get("kind") or ImportKind.CUSTOMERS
    if request.method == "POST":
        upload = request.FILES.get("file")
        try:
            batch = services.import_upload(
                kind=kind, name=upload.name or "" if upload else "", data=upload.read() if upload else b"",
                by=request.user,
            )  # fmt: skip
        except KehuError as exc:
            if exc.status == 403:
                raise
            error = exc
        else:
            return redirect("imports:detail", pk=batch.pk)
    batches = selectors.batch_list(actor=request.user, limit=request.GET.get("limit") or 20,
                                   offset=request.GET.get("offset"))  # fmt: skip
    return render(
        request,
        "imports/list.html",
        {"page": batches, "kinds": ImportKind.choices, "kind": kind, "error": error},
        status=422 if error else 200,
    )


@page
def import_template(request: AuthedRequest, kind: str) -> HttpResponse:
    data, name = services.import_template(kind=kind, fmt=request.GET.get("format") or "xlsx", by=request.user)
    if name.endswith(".csv"):
        response = HttpResponse(data, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return xlsx_response(data, filename=name)


@page
def import_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    batch = selectors.batch_get(actor=request.user, batch_id=pk)
    kind = request.GET.get("problems") or ""
    if kind not in ProblemKind.values:
        kind = ""
    problems = selectors.problem_list(actor=request.user, batch_id=pk, kind=kind or None,
                                      limit=request.GET.get("limit") or 50, offset=request.GET.get("offset"))  # fmt: skip
    return render(
        request,
        "imports/detail.html",
        {
            "batch": batch,
            "problems": problems,
            "page": problems,
            "problem_kind": kind,
            "can_commit": batch.status == BatchStatus.CHECKED and batch.created_by_id == request.user.pk,
            "on_duplicate_choices": OnDuplicate.choices,
            "running": batch.status in (BatchStatus.CHECKING, BatchStatus.COMMITTING),
        },
    )


@page
@require_POST
def import_commit(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        batch = services.import_commit_request(
            batch_id=pk, on_duplicate=request.POST.get("on_duplicate") or "", by=request.user
        )
    except KehuError as exc:
        if exc.status in (403, 404):
            raise
        messages.error(request, exc.text())
    else:
        if batch.status == BatchStatus.COMMITTING:
            messages.success(request, _("文件较大，正在后台导入，本页显示进度"))
        elif batch.blocked_rows:
            messages.warning(
                request, _("导入完成，但有 %(n)s 行所在的批次有错误，未写入") % {"n": batch.blocked_rows}
            )
        else:
            messages.success(request, _("导入完成"))
    return redirect(reverse("imports:detail", kwargs={"pk": pk}))
