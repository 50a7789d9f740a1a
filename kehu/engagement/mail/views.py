"""Thin pages over the e-mail services and selectors (ENG-5): the mail lists (待回复 / 即将超时 / 已超时 /
未匹配), a thread, replying, 无需回复, assigning, the mailbox settings and the customer's 邮件 tab."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kehu.access.requests import AuthedRequest
from kehu.access.selectors import department_tree, user_choices
from kehu.core.errors import Conflict, KehuError, ValidationError
from kehu.core.web import download_response, form_after_conflict, page, query_params
from kehu.customers.selectors import customer_list

from . import mailboxes as mailbox_services
from . import selectors, services
from .forms import MailboxEditForm, MailboxForm


def _back(request: AuthedRequest, fallback: str) -> HttpResponse:
    """Back where the form was (the customer's 邮件 tab or the thread page), never off-site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback)


def customer_mail_tab(request: AuthedRequest, customer: Any) -> str:
    """The 邮件 tab of the 360° page (registered in apps.py): the customer's threads, each in time
    order with our replies, and a reply form under the newest message from the customer."""
    threads = selectors.customer_threads(actor=request.user, customer=customer)
    items = []
    for thread, thread_messages in threads:
        inbound = [m for m in thread_messages if m.is_inbound]
        items.append(
            {
                "thread": thread,
                "messages": [(m, selectors.sla_of(m) if m.is_inbound else None) for m in thread_messages],
                "reply_to": inbound[-1] if inbound else thread_messages[-1] if thread_messages else None,
            }
        )
    return render_to_string(
        "engagement/mail/_customer_tab.html",
        {"c": customer, "threads": items, "next": request.get_full_path()},
        request=request,
    )


@page
def inbox(request: AuthedRequest) -> HttpResponse:
    filters = query_params(request, frozenset(selectors.MESSAGE_FILTERS))
    scene = request.GET.get("scene") or "pending"
    sort = request.GET.get("sort") or "received_at"
    error = None
    try:
        result = selectors.message_list(
            actor=request.user, scene=scene, filters=dict(filters), sort=sort,
            limit=request.GET.get("limit"), offset=request.GET.get("offset"),
        )  # fmt: skip
    except ValidationError as exc:
        error = exc.text()
        scene, sort, filters = "pending", "received_at", {}
        result = selectors.message_list(actor=request.user)
    rows = [(m, selectors.sla_of(m)) for m in result.items]
    return render(
        request,
        "engagement/mail/inbox.html",
        {
            "page": result, "rows": rows, "scene": scene, "scenes": selectors.SCENES, "filters": filters,
            "sort": sort, "error": error, "counts": selectors.response_counts(actor=request.user),
        },
    )  # fmt: skip


@page
def thread(request: AuthedRequest, pk: int) -> HttpResponse:
    the_thread, thread_messages = selectors.thread_get(actor=request.user, thread_id=pk)
    inbound = [m for m in thread_messages if m.is_inbound]
    # An unmatched thread: the customers matching what the user typed, to assign it to one of them.
    q = str(request.GET.get("q") or "").strip()
    candidates = []
    if q and the_thread.customer_id is None:
        candidates = customer_list(actor=request.user, filters={"q": q}, limit=10).items
    return render(
        request,
        "engagement/mail/thread.html",
        {
            "q": q,
            "candidates": candidates,
            "thread": the_thread,
            "messages": [(m, selectors.sla_of(m) if m.is_inbound else None) for m in thread_messages],
            "reply_to": inbound[-1] if inbound else (thread_messages[-1] if thread_messages else None),
            "next": request.get_full_path(),
        },
    )


@page
@require_POST
def reply(request: AuthedRequest, pk: int) -> HttpResponse:
    message = selectors.message_get(actor=request.user, message_id=pk)
    cc = [a for a in request.POST.get("cc", "").replace("；", ",").replace(";", ",").split(",") if a.strip()]
    try:
        services.mail_reply(message_id=pk, text=request.POST.get("text", ""), cc=cc, by=request.user)
        messages.success(request, _("回复已发送"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(request, reverse("engagement:mail_thread", args=[message.thread_id]))


@page
@require_POST
def no_reply(request: AuthedRequest, pk: int) -> HttpResponse:
    message = selectors.message_get(actor=request.user, message_id=pk)
    try:
        services.mail_mark_no_reply(message_id=pk, reason=request.POST.get("reason", ""), by=request.user)
        messages.success(request, _("已标记为无需回复"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return _back(request, reverse("engagement:mail_thread", args=[message.thread_id]))


@page
@require_POST
def assign(request: AuthedRequest, pk: int) -> HttpResponse:
    selectors.thread_get(actor=request.user, thread_id=pk)
    raw_customer = str(request.POST.get("customer") or "").strip()
    raw_contact = str(request.POST.get("contact") or "").strip()
    try:
        if not raw_customer.isdigit():
            raise ValidationError(_("请填写客户ID"), field="customer")
        services.mail_thread_assign(
            thread_id=pk, customer_id=int(raw_customer),
            contact_id=int(raw_contact) if raw_contact.isdigit() else None, by=request.user,
        )  # fmt: skip
        messages.success(request, _("已指定客户"))
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("engagement:mail_thread", pk=pk)


@page
def attachment_download(request: AuthedRequest, mail_attachment_id: int) -> Any:
    a = selectors.attachment_get(actor=request.user, attachment_id=mail_attachment_id)
    return download_response(a.file, name=a.name, content_type=a.content_type)


# --- mailboxes (mail.manage) ----------------------------------------------------------------------


def _form_kwargs() -> dict[str, Any]:
    return {"users": list(user_choices()), "departments": department_tree()}


@page
def mailboxes(request: AuthedRequest, mailbox_id: int | None = None) -> HttpResponse:
    """The mailbox list, with the form for a new mailbox or the one chosen."""
    boxes = selectors.mailbox_list(actor=request.user)
    mailbox = selectors.mailbox_get(actor=request.user, mailbox_id=mailbox_id) if mailbox_id else None
    form_class = MailboxEditForm if mailbox else MailboxForm
    if request.method == "POST":
        form = form_class(request.POST, **_form_kwargs())
        if form.is_valid():
            try:
                if mailbox:
                    mailbox_services.mailbox_update(
                        mailbox_id=mailbox.pk, version=form.cleaned_data["version"], data=form.service_data(),
                        by=request.user,
                    )  # fmt: skip
                else:
                    mailbox_services.mailbox_create(data=form.service_data(), by=request.user)
            except Conflict as exc:
                assert mailbox is not None
                fresh = selectors.mailbox_get(actor=request.user, mailbox_id=mailbox.pk)
                form = form_after_conflict(
                    form_class, request.POST, version=fresh.version, error=exc, **_form_kwargs()
                )
            except KehuError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, exc.text())
            else:
                messages.success(request, _("邮箱已保存"))
                return redirect("engagement:mailboxes")
    else:
        initial = None
        if mailbox:
            initial = {k: getattr(mailbox, k) for k in (
                "name", "address", "imap_host", "imap_port", "imap_ssl", "imap_username", "imap_folder",
                "is_active", "version")}  # fmt: skip
            initial["owner"] = str(mailbox.owner_id or "")
            initial["team"] = str(mailbox.team_id or "")
        form = form_class(initial=initial, **_form_kwargs())
    return render(
        request, "engagement/mail/mailboxes.html", {"mailboxes": boxes, "mailbox": mailbox, "form": form}
    )


@page
@require_POST
def mailbox_fetch(request: AuthedRequest, mailbox_id: int) -> HttpResponse:
    try:
        result = mailbox_services.mailbox_fetch(mailbox_id=mailbox_id, by=request.user)
        if result.error:
            messages.error(request, _("收信失败：%(e)s") % {"e": result.error})
        else:
            messages.success(request, _("收到新邮件 %(n)s 封") % {"n": result.stored})
    except KehuError as exc:
        messages.error(request, exc.text())
    return redirect("engagement:mailboxes")


@page
@require_POST
def mailbox_token(request: AuthedRequest, mailbox_id: int) -> HttpResponse:
    token = mailbox_services.mailbox_token_rotate(mailbox_id=mailbox_id, by=request.user)
    mailbox = selectors.mailbox_get(actor=request.user, mailbox_id=mailbox_id)
    return render(request, "engagement/mail/token.html", {"mailbox": mailbox, "token": token})
