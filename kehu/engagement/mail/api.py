"""Thin REST endpoints over the e-mail services and selectors (ENG-5)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from ninja import Query, Router, Schema, Status
from ninja.security import HttpBearer

from kehu.access.requests import AuthedRequest
from kehu.core.errors import ValidationError
from kehu.core.schemas import ERRORS, ErrorOut
from kehu.core.web import download_response

from . import mailboxes, selectors, services
from .schemas import (
    AssignIn,
    FetchOut,
    InboundOut,
    MailboxCreateIn,
    MailboxOut,
    MailboxPatchIn,
    MailboxTokenOut,
    MailMessageListOut,
    MailMessageOut,
    MailThreadOut,
    NoReplyIn,
    PersonCountsOut,
    ReplyIn,
    counts_out,
    mailbox_out,
    message_out,
    thread_out,
)

router = Router(tags=["mail"])


class MailboxToken(HttpBearer):
    """``Authorization: Bearer kmb_…``: a mailbox's inbound token (not a user's API token)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        return mailboxes.mailbox_for_token(token)


@router.post(
    "/mail/inbound",
    auth=MailboxToken(),
    response={200: InboundOut, 201: InboundOut, **ERRORS},
    summary="Deliver one raw RFC 822 message (Content-Type: message/rfc822) to the token's mailbox",
)
def inbound(request: HttpRequest) -> Any:
    content_type = (request.content_type or "").lower()
    if content_type != "message/rfc822":
        raise ValidationError(_("请以 Content-Type: message/rfc822 发送原始邮件"), field="content_type")
    limit = int(settings.KEHU_MAIL_MAX_BYTES)
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > limit:
        raise ValidationError(_("邮件超过 %(n)s 字节的上限"), field="message", params={"n": limit})
    raw = request.read(limit + 1)
    received = services.mail_receive(raw=raw, mailbox=request.auth)  # type: ignore[attr-defined]
    m = received.message
    body = {"id": m.pk, "created": received.created, "thread": m.thread_id, "customer": m.thread.customer_id}
    return Status(201 if received.created else 200, body)


class MessageFilters(Schema):
    scene: str = "pending"
    customer: int | None = None
    responsible: int | None = None
    mailbox: int | None = None
    date_from: str | None = None
    date_to: str | None = None
    q: str | None = None
    sort: str = "received_at"
    limit: int | None = None
    offset: int | None = None


@router.get(
    "/mail/messages",
    response={200: MailMessageListOut, **ERRORS},
    summary="Inbound mail by scene: pending, at_risk, missed, unmatched, all",
)
def list_messages(request: AuthedRequest, filters: Query[MessageFilters]) -> Any:
    f = filters.dict()
    scene, sort, limit, offset = f.pop("scene"), f.pop("sort"), f.pop("limit"), f.pop("offset")
    page = selectors.message_list(
        actor=request.user, scene=scene, filters=f, sort=sort, limit=limit, offset=offset
    )
    return {"items": [message_out(m) for m in page.items], "count": page.count}


@router.get(
    "/mail/response-counts",
    response={200: list[PersonCountsOut], **ERRORS},
    summary="Per responsible person: mail waiting, at risk of and past the 24-hour rule",
)
def response_counts(request: AuthedRequest) -> Any:
    return [counts_out(c) for c in selectors.response_counts(actor=request.user)]


@router.get("/mail/messages/{message_id}", response={200: MailMessageOut, **ERRORS})
def get_message(request: AuthedRequest, message_id: int) -> Any:
    return message_out(selectors.message_get(actor=request.user, message_id=message_id))


@router.post(
    "/mail/messages/{message_id}/reply",
    response={201: MailMessageOut, **ERRORS, 502: ErrorOut},
    summary="Reply by SMTP from the thread's mailbox",
)
def reply(request: AuthedRequest, message_id: int, payload: ReplyIn) -> Any:
    sent = services.mail_reply(message_id=message_id, text=payload.text, cc=payload.cc, by=request.user)
    return Status(201, message_out(selectors.message_get(actor=request.user, message_id=sent.pk)))


@router.post(
    "/mail/messages/{message_id}/no-reply",
    response={200: MailMessageOut, **ERRORS},
    summary="Mark 无需回复, with the reason",
)
def no_reply(request: AuthedRequest, message_id: int, payload: NoReplyIn) -> Any:
    services.mail_mark_no_reply(message_id=message_id, reason=payload.reason, by=request.user)
    return message_out(selectors.message_get(actor=request.user, message_id=message_id))


@router.get("/mail/threads/{thread_id}", response={200: MailThreadOut, **ERRORS})
def get_thread(request: AuthedRequest, thread_id: int) -> Any:
    thread, messages = selectors.thread_get(actor=request.user, thread_id=thread_id)
    return thread_out(thread, messages)


@router.post(
    "/mail/threads/{thread_id}/assign",
    response={200: MailThreadOut, **ERRORS},
    summary="Give an unmatched thread to a customer",
)
def assign(request: AuthedRequest, thread_id: int, payload: AssignIn) -> Any:
    services.mail_thread_assign(
        thread_id=thread_id, customer_id=payload.customer, contact_id=payload.contact, by=request.user
    )
    thread, messages = selectors.thread_get(actor=request.user, thread_id=thread_id)
    return thread_out(thread, messages)


@router.get(
    "/mail/attachments/{mail_attachment_id}",
    response={200: None, **ERRORS},
    url_name="download_mail_attachment",
)
def download_attachment(request: AuthedRequest, mail_attachment_id: int) -> Any:
    a = selectors.attachment_get(actor=request.user, attachment_id=mail_attachment_id)
    return download_response(a.file, name=a.name, content_type=a.content_type)


# --- mailboxes (mail.manage) ----------------------------------------------------------------------


@router.get("/mailboxes", response={200: list[MailboxOut], **ERRORS}, summary="Mailboxes (mail.manage)")
def list_mailboxes(request: AuthedRequest) -> Any:
    return [mailbox_out(m) for m in selectors.mailbox_list(actor=request.user)]


@router.post("/mailboxes", response={201: MailboxOut, **ERRORS}, summary="Add a mailbox")
def create_mailbox(request: AuthedRequest, payload: MailboxCreateIn) -> Any:
    mailbox = mailboxes.mailbox_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, mailbox_out(selectors.mailbox_get(actor=request.user, mailbox_id=mailbox.pk)))


@router.get("/mailboxes/{mailbox_id}", response={200: MailboxOut, **ERRORS})
def get_mailbox(request: AuthedRequest, mailbox_id: int) -> Any:
    return mailbox_out(selectors.mailbox_get(actor=request.user, mailbox_id=mailbox_id))


@router.patch("/mailboxes/{mailbox_id}", response={200: MailboxOut, **ERRORS})
def update_mailbox(request: AuthedRequest, mailbox_id: int, payload: MailboxPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    mailboxes.mailbox_update(mailbox_id=mailbox_id, version=version, data=data, by=request.user)
    return mailbox_out(selectors.mailbox_get(actor=request.user, mailbox_id=mailbox_id))


@router.post(
    "/mailboxes/{mailbox_id}/token",
    response={201: MailboxTokenOut, **ERRORS},
    summary="A new inbound token (shown once; the old one stops working)",
)
def rotate_token(request: AuthedRequest, mailbox_id: int) -> Any:
    return Status(201, {"token": mailboxes.mailbox_token_rotate(mailbox_id=mailbox_id, by=request.user)})


@router.post(
    "/mailboxes/{mailbox_id}/fetch",
    response={200: FetchOut, **ERRORS},
    summary="Fetch new mail over IMAP now",
)
def fetch(request: AuthedRequest, mailbox_id: int) -> Any:
    result = mailboxes.mailbox_fetch(mailbox_id=mailbox_id, by=request.user)
    return {
        "mailbox": result.mailbox,
        "fetched": result.fetched,
        "stored": result.stored,
        "error": result.error,
    }
