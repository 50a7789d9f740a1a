"""Pages of background jobs: my jobs, one job's progress (polled while it runs), and — for who may change
settings — the periodic jobs with a "run now" button and the live workers."""

from __future__ import annotations

from django.contrib import messages
from django.core.files import File
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.requests import AuthedRequest
from kehu.core.errors import ValidationError
from kehu.core.web import download_response, page, query_params

from . import selectors, services
from .choices import JobStatus


@page
def job_list(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, frozenset(selectors.JOB_FILTERS))
    error = None
    try:
        result = selectors.job_list(
            actor=request.user, filters=dict(filters), limit=request.GET.get("limit"),
            offset=request.GET.get("offset"),
        )  # fmt: skip
    except ValidationError as exc:
        error, filters = exc.text(), {}
        result = selectors.job_list(actor=request.user)
    return render(
        request,
        "jobs/list.html",
        {
            "page": result, "filters": filters, "statuses": JobStatus.choices, "error": error,
            "periodic": selectors.periodic_list(actor=request.user),
            "workers": selectors.worker_list(actor=request.user),
        },
    )  # fmt: skip


@page
def job_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    job = selectors.job_get(actor=request.user, job_id=pk)
    template = "jobs/partials/_progress.html" if request.headers.get("HX-Request") else "jobs/detail.html"
    return render(request, template, {"job": job})


@page
@require_POST
def job_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    services.job_retry(job_id=pk, by=request.user)
    messages.success(request, _("已重新排队"))
    return redirect("jobs:detail", pk=pk)


@page
@require_POST
def periodic_run(request: AuthedRequest, kind: str) -> HttpResponse:
    job = services.periodic_run_now(kind=kind, by=request.user)
    messages.success(request, _("已开始运行"))
    return redirect("jobs:detail", pk=job.pk)


@page
@require_POST
def selftest(request: AuthedRequest) -> HttpResponse:
    job = services.jobs_selftest(by=request.user)
    return redirect("jobs:detail", pk=job.pk)


@page
def job_file(request: AuthedRequest, pk: int) -> HttpResponse:
    path, name = selectors.job_file(actor=request.user, job_id=pk)
    return download_response(
        File(path.open("rb"), name=str(path)), name=name, content_type=content_type_of(name)
    )


def content_type_of(name: str) -> str:
    import mimetypes

    return mimetypes.guess_type(name)[0] or "application/octet-stream"
