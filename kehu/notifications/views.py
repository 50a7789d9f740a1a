"""Pages of notifications: the inbox (with the e-mail switch), marking read, and the bell's count."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from kehu.access.requests import AuthedRequest
from kehu.core.web import page

from . import selectors, services


@page
def inbox(request: AuthedRequest) -> HttpResponse:
    unread = request.GET.get("unread") == "1"
    if request.method == "POST":
        services.notification_setting_update(by_email=request.POST.get("by_email") == "on", by=request.user)
        return redirect("notifications:inbox")
    result = selectors.notification_list(
        actor=request.user, unread=unread, limit=request.GET.get("limit"), offset=request.GET.get("offset")
    )
    return render(
        request,
        "notifications/inbox.html",
        {"page": result, "unread": unread, "by_email": selectors.mail_preference(actor=request.user)},
    )


@page
@require_POST
def read(request: AuthedRequest, pk: int) -> HttpResponse:
    """Marks it read and follows its link (or goes back to the inbox)."""
    notification = services.notification_read(notification_id=pk, by=request.user)
    target = notification.url
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:inbox")


@page
@require_POST
def read_all(request: AuthedRequest) -> HttpResponse:
    services.notifications_read_all(by=request.user)
    return redirect("notifications:inbox")
