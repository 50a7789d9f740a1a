"""Pages of background jobs: my jobs, one job's progress (polled while it runs), and — for who may change
settings — the periodic jobs with a "run now" button and the live workers."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.requests import AuthedRequest
from kehu.core.errors import ValidationError
from kehu.core.web import page, query_params

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
