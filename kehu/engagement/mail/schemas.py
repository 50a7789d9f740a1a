"""API schemas of e-mail (ENG-5). The IMAP password goes in, never out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import MailAttachment, Mailbox, MailMessage, MailThread
from .selectors import PersonCounts, sla_of


class MailboxFields(StrictIn):
    name: str | None = None
    address: str | None = None
    imap_host: str | None = None
    imap_port: int | None = None
    imap_ssl: bool | None = None
    imap_username: str | None = None
    imap_password: str | None = None
    imap_folder: str | None = None
    owner: int | None = None
    team: int | None = None
    is_active: bool | None = None


class MailboxCreateIn(MailboxFields):
    name: str
    address: str


class MailboxPatchIn(MailboxFields):
    version: int


class MailboxOut(BaseModel):
    id: int
    name: str
    address: str
    imap_host: str
    imap_port: int
    imap_ssl: bool
    imap_username: str
    imap_folder: str
    has_password: bool
    has_token: bool
    owner: dict[str, Any] | None
    team: dict[str, Any] | None
    is_active: bool
    last_uid: int
    last_fetched_at: datetime | None
    last_error: str
    version: int


class MailboxTokenOut(BaseModel):
    token: str


class FetchOut(BaseModel):
    mailbox: str
    fetched: int
    stored: int
    error: str


class InboundOut(BaseModel):
    id: int
    created: bool
    thread: int
    customer: int | None


class MailAttachmentOut(BaseModel):
    id: int
    name: str
    content_type: str
    size: int
    url: str


class MailMessageOut(BaseModel):
    id: int
    thread: int
    direction: str
    message_id: str
    subject: str
    from_name: str
    from_address: str
    to: str
    cc: str
    sent_at: datetime | None
    received_at: datetime
    body: str
    html_only: bool
    customer: dict[str, Any] | None
    mailbox: dict[str, Any] | None
    response: str
    response_state: str | None
    response_label: str | None
    response_seconds: int | None
    response_due_at: datetime | None
    first_response_at: datetime | None
    no_reply_reason: str
    sent_by: dict[str, Any] | None
    responsible: dict[str, Any] | None
    attachments: list[MailAttachmentOut]
    attachment_notes: str


class MailMessageListOut(BaseModel):
    items: list[MailMessageOut]
    count: int


class MailThreadOut(BaseModel):
    id: int
    subject: str
    counterpart: str
    customer: dict[str, Any] | None
    contact: dict[str, Any] | None
    mailbox: dict[str, Any] | None
    last_message_at: datetime
    messages: list[MailMessageOut]


class ReplyIn(StrictIn):
    text: str
    cc: list[str] = []


class NoReplyIn(StrictIn):
    reason: str


class AssignIn(StrictIn):
    customer: int
    contact: int | None = None


class PersonCountsOut(BaseModel):
    user_id: int | None
    label: str
    pending: int
    at_risk: int
    missed: int


def _user(u: Any) -> dict[str, Any] | None:
    return {"id": u.pk, "label": u.label} if u is not None else None


def mailbox_out(m: Mailbox) -> dict[str, Any]:
    return {
        "id": m.pk, "name": m.name, "address": m.address, "imap_host": m.imap_host, "imap_port": m.imap_port,
        "imap_ssl": m.imap_ssl, "imap_username": m.imap_username, "imap_folder": m.imap_folder,
        "has_password": bool(m.imap_password), "has_token": bool(m.token_hash),
        "owner": _user(m.owner) if m.owner_id else None,
        "team": {"id": m.team.pk, "name": m.team.name} if m.team_id and m.team else None,
        "is_active": m.is_active, "last_uid": m.last_uid, "last_fetched_at": m.last_fetched_at,
        "last_error": m.last_error, "version": m.version,
    }  # fmt: skip


def mail_attachment_out(a: MailAttachment) -> dict[str, Any]:
    return {
        "id": a.pk, "name": a.name, "content_type": a.content_type, "size": a.size,
        "url": reverse("api:download_mail_attachment", args=[a.pk]),
    }  # fmt: skip


def message_out(m: MailMessage) -> dict[str, Any]:
    thread = m.thread
    customer = thread.customer if thread.customer_id else None
    sla = sla_of(m) if m.is_inbound else None
    return {
        "id": m.pk, "thread": m.thread_id, "direction": m.direction, "message_id": m.message_id,
        "subject": m.subject, "from_name": m.from_name, "from_address": m.from_address, "to": m.to_addresses,
        "cc": m.cc_addresses, "sent_at": m.sent_at, "received_at": m.received_at, "body": m.body,
        "html_only": m.html_only,
        "customer": {"id": customer.pk, "name": customer.name} if customer else None,
        "mailbox": {"id": m.mailbox.pk, "name": m.mailbox.name} if m.mailbox_id and m.mailbox else None,
        "response": m.response,
        "response_state": sla.state if sla else None, "response_label": sla.label if sla else None,
        "response_seconds": sla.response_seconds if sla else None,
        "response_due_at": sla.deadline if sla else None,
        "first_response_at": m.first_response_at, "no_reply_reason": m.no_reply_reason,
        "sent_by": _user(m.sent_by) if m.sent_by_id else None,
        "responsible": _user(getattr(m, "responsible", None)),
        "attachments": [mail_attachment_out(a) for a in m.attachments.all()],
        "attachment_notes": m.attachment_notes,
    }  # fmt: skip


def thread_out(t: MailThread, messages: list[MailMessage]) -> dict[str, Any]:
    for m in messages:
        m.thread = t
    return {
        "id": t.pk, "subject": t.subject, "counterpart": t.counterpart,
        "customer": {"id": t.customer.pk, "name": t.customer.name} if t.customer_id and t.customer else None,
        "contact": {"id": t.contact.pk, "name": t.contact.name} if t.contact_id and t.contact else None,
        "mailbox": {"id": t.mailbox.pk, "name": t.mailbox.name} if t.mailbox_id and t.mailbox else None,
        "last_message_at": t.last_message_at, "messages": [message_out(m) for m in messages],
    }  # fmt: skip


def counts_out(c: PersonCounts) -> dict[str, Any]:
    return {
        "user_id": c.user_id,
        "label": c.label,
        "pending": c.pending,
        "at_risk": c.at_risk,
        "missed": c.missed,
    }
