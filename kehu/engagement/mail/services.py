"""Writes of e-mail (ENG-5): receiving (from IMAP fetching and the HTTP endpoint), replying, 无需回复,
assigning. Mailbox settings and fetching are ``mailboxes``.

Receiving is idempotent: a message is stored once, recognised by its Message-ID (a digest of the bytes
when it has none) and by its mailbox's IMAP UID; fetching or posting it again changes nothing.
Replying sends first and writes after: a refused or failed send leaves nothing written.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import Conflict, KehuError, NotFound, ValidationError
from kehu.core.events import emit
from kehu.customers.models import LIVE, Contact, Customer
from kehu.customers.selectors import customer_get
from kehu.integrations import mail as transport

from ..choices import Direction, MailResponse
from ..events import mail_event as _event
from ..rules import attachment_content_type, mail_subject_key, reply_subject, safe_filename
from .models import MailAttachment, Mailbox, MailMessage, MailThread

SUBJECT_THREAD_DAYS = 30  # a message joins a thread by subject only if the thread spoke within this


class MailSendFailed(KehuError):
    """The SMTP server refused the reply or could not be reached; nothing was recorded."""

    code = "mail_send_failed"
    status = 502


# --- receiving ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    message: MailMessage
    created: bool


def match_address(address: str) -> tuple[Customer | None, Contact | None]:
    """The customer (and contact) an address belongs to: a live contact's e-mail first, then a customer's
    own. An address shared by several customers matches none of them — a person picks (unmatched)."""
    address = (address or "").strip()
    if not address:
        return None, None
    contacts = list(
        Contact.objects.filter(email__iexact=address, deleted_at__isnull=True, customer__deleted_at__isnull=True,
                               customer__merged_into__isnull=True).select_related("customer")[:20]
    )  # fmt: skip
    customers = {c.customer_id for c in contacts}
    if len(customers) == 1:
        chosen = contacts[0]
        return chosen.customer, (chosen if len(contacts) == 1 else None)
    if len(customers) > 1:
        return None, None
    owned = list(Customer.objects.filter(LIVE, email__iexact=address)[:2])
    if len(owned) == 1:
        return owned[0], None
    return None, None


def _our_addresses() -> set[str]:
    return {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}


def _find_thread(
    parsed: transport.ParsedMail, *, counterpart: str, customer: Customer | None
) -> MailThread | None:
    """The thread a message continues: by In-Reply-To/References, else by subject and counterpart."""
    ids = [i for i in [parsed.in_reply_to, *reversed(parsed.references)] if i]
    if ids:
        known = MailMessage.objects.filter(message_id__in=ids).select_related("thread").first()
        if known is not None:
            return known.thread
    key = mail_subject_key(parsed.subject)
    if not key:
        return None
    since = timezone.now() - timedelta(days=SUBJECT_THREAD_DAYS)
    threads = MailThread.objects.filter(subject_key=key, last_message_at__gte=since)
    threads = (
        threads.filter(customer=customer) if customer is not None else threads.filter(counterpart=counterpart)
    )
    return threads.order_by("-last_message_at", "-id").first()


def _store_attachments(message: MailMessage, attachments: list[transport.ParsedAttachment]) -> list[str]:
    """Keep the allowed files (checked by content, size-limited) like interaction attachments; the
    names of the others, and why, go to the message's notes."""
    notes = []
    max_bytes = int(settings.KEHU_ATTACHMENT_MAX_MB) * 1024 * 1024
    for item in attachments:
        name = safe_filename(item.name or "attachment")
        if len(item.data) > max_bytes:
            notes.append(
                str(
                    _("%(name)s：超过 %(n)s MB，未保存")
                    % {"name": name, "n": settings.KEHU_ATTACHMENT_MAX_MB}
                )
            )
            continue
        content_type = attachment_content_type(name, item.data)
        if content_type is None:
            notes.append(str(_("%(name)s：文件类型不允许，未保存") % {"name": name}))
            continue
        digest = hashlib.sha256(item.data).hexdigest()
        attachment = MailAttachment(
            message=message, name=name, content_type=content_type, size=len(item.data), sha256=digest
        )
        attachment.file.save(f"{digest[:16]}-{timezone.now():%H%M%S%f}", ContentFile(item.data), save=False)
        stored, storage = str(attachment.file.name), attachment.file.storage
        try:
            attachment.save()
        except Exception:
            storage.delete(stored)
            raise
    return notes


def _addresses_text(addresses: list[transport.Address]) -> str:
    return ", ".join(f"{a.name} <{a.address}>" if a.name else a.address for a in addresses)[:4000]


def mail_receive(
    *,
    raw: bytes,
    mailbox: Mailbox | None,
    received_at: datetime | None = None,
    imap_uid: int | None = None,
    uidvalidity: int | None = None,
    by: User | None = None,
) -> Received:
    """Store one message as received (ENG-5): parsed, matched to a customer and contact by the sender's
    address, joined to its thread, its files kept. Sent from one of our own mailbox addresses it counts
    as our reply. A message already stored (same Message-ID, or same mailbox UID) is returned as it is.
    Called by fetching (no actor), by the HTTP inbound endpoint (the mailbox's token) and by a person
    with ``mail.manage``."""
    if by is not None:
        require(by, Perm.MAIL_MANAGE)
    if not raw or not raw.strip():
        raise ValidationError(_("邮件内容为空"), field="message")
    if len(raw) > int(settings.KEHU_MAIL_MAX_BYTES):
        raise ValidationError(
            _("邮件超过 %(n)s 字节的上限"), field="message", params={"n": settings.KEHU_MAIL_MAX_BYTES}
        )
    parsed = transport.parse_message(raw)
    if parsed.sender is None:
        raise ValidationError(_("邮件没有发件人（From）"), field="message")
    if imap_uid is not None and mailbox is not None:
        seen = MailMessage.objects.filter(
            mailbox=mailbox, imap_uidvalidity=uidvalidity, imap_uid=imap_uid
        ).first()
        if seen is not None:
            return Received(seen, False)
    existing = MailMessage.objects.filter(message_id=parsed.message_id).first()
    if existing is not None:
        return Received(existing, False)
    try:
        with transaction.atomic():
            return Received(_store(parsed, raw, mailbox, received_at, imap_uid, uidvalidity, by), True)
    except IntegrityError:
        # Someone stored the same message a moment ago (two fetches at once): that one stands.
        existing = MailMessage.objects.filter(message_id=parsed.message_id).first()
        if existing is None:
            raise
        return Received(existing, False)


def _store(parsed: transport.ParsedMail, raw: bytes, mailbox: Mailbox | None, received_at: datetime | None,
           imap_uid: int | None, uidvalidity: int | None, by: User | None) -> MailMessage:  # fmt: skip
    assert parsed.sender is not None
    now = timezone.now()
    arrived = received_at or now
    ours = parsed.sender.address in _our_addresses()
    direction = Direction.OUTBOUND if ours else Direction.INBOUND
    counterpart = (parsed.to[0].address if parsed.to else "") if ours else parsed.sender.address
    customer, contact = match_address(counterpart)
    thread = _find_thread(parsed, counterpart=counterpart, customer=customer)
    if thread is None:
        thread = MailThread.objects.create(
            mailbox=mailbox, customer=customer, contact=contact, subject=parsed.subject[:300],
            subject_key=mail_subject_key(parsed.subject), counterpart=counterpart, last_message_at=arrived,
        )  # fmt: skip
    else:
        updates: dict[str, Any] = {}
        if thread.customer_id is None and customer is not None:
            thread.customer, updates["customer"] = customer, customer
        if (
            thread.contact_id is None
            and contact is not None
            and customer is not None
            and thread.customer_id == customer.pk
        ):
            thread.contact, updates["contact"] = contact, contact
        if arrived > thread.last_message_at:
            thread.last_message_at, updates["last_message_at"] = arrived, arrived
        if updates:
            MailThread.objects.filter(pk=thread.pk).update(**updates)
    response = ""
    reason = ""
    if direction == Direction.INBOUND:
        response = MailResponse.PENDING
        if parsed.auto_submitted:
            response, reason = MailResponse.NOT_NEEDED, str(_("自动回复或群发邮件"))
        elif arrived < now - timedelta(days=int(settings.KEHU_MAIL_HISTORY_DAYS)):
            # A newly connected mailbox brings its history: nobody can answer that within 24 hours now.
            response, reason = MailResponse.NOT_NEEDED, str(_("接入前的历史邮件"))
    message = MailMessage.objects.create(
        thread=thread, mailbox=mailbox, direction=direction, message_id=parsed.message_id[:300],
        in_reply_to=parsed.in_reply_to[:300], references=" ".join(parsed.references)[:8000],
        subject=parsed.subject[:300], from_name=parsed.sender.name[:200], from_address=parsed.sender.address[:254],
        to_addresses=_addresses_text(parsed.to), cc_addresses=_addresses_text(parsed.cc), sent_at=parsed.date,
        received_at=arrived, body=parsed.text, html_only=parsed.html_only, size=len(raw),
        imap_uidvalidity=uidvalidity if imap_uid is not None else None, imap_uid=imap_uid,
        response=response, no_reply_reason=reason,
    )  # fmt: skip
    notes = _store_attachments(message, parsed.attachments)
    if notes:
        message.attachment_notes = "\n".join(notes)
        MailMessage.objects.filter(pk=message.pk).update(attachment_notes=message.attachment_notes)
    if direction == Direction.OUTBOUND:
        _answer_pending(thread, reply=message)
    emit(
        _event(
            "receive", by=by, subject_type="mail_message", subject_id=message.pk,
            label=f"{parsed.sender.address} · {parsed.subject}", customer_id=thread.customer_id,
            changes={"subject": [None, parsed.subject[:200]], "from": [None, parsed.sender.address]},
        )
    )  # fmt: skip
    return message


def _answer_pending(thread: MailThread, *, reply: MailMessage) -> int:
    """Our ``reply`` is the first response of every still-pending inbound message of the thread that had
    arrived by then (ENG-5)."""
    return MailMessage.objects.filter(
        thread=thread,
        direction=Direction.INBOUND,
        response=MailResponse.PENDING,
        received_at__lte=reply.received_at,
    ).update(response=MailResponse.REPLIED, first_response_at=reply.received_at, first_response=reply)


# --- replying and handling ------------------------------------------------------------------------


def _message_for(*, message_id: int, by: User) -> MailMessage:
    message = (
        MailMessage.objects.visible_to(by)
        .select_related("thread", "thread__customer", "mailbox")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound(_("邮件不存在或您无权查看"), field="id")
    return message


def mail_reply(*, message_id: int, text: str, by: User, cc: list[str] | None = None) -> MailMessage:
    """Answer a message of a customer's thread from Kehu (ENG-5): sent by SMTP from the thread's mailbox
    with In-Reply-To/References, then recorded in the thread, as an interaction (channel 邮件, which
    updates the customer's last contact) and as the first response of the thread's pending messages."""
    from django.core.validators import validate_email

    from .. import services as engagement_services
    from ..validation import clean_interaction

    require(by, Perm.INTERACTION_CREATE)
    original = _message_for(message_id=message_id, by=by)
    thread = original.thread
    body = (text or "").strip()
    if not body:
        raise ValidationError(_("请填写回复内容"), field="text")
    if len(body) > 100_000:
        raise ValidationError(_("回复内容太长"), field="text")
    if thread.customer_id is None:
        raise ValidationError(_("请先为这封邮件指定客户，再回复"), field="customer", code="unmatched")
    customer = customer_get(actor=by, customer_id=thread.customer_id)  # still visible to the one replying
    copies = []
    for address in cc or []:
        address = address.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except Exception as exc:
            raise ValidationError(_("抄送地址“%(v)s”无效"), field="cc", params={"v": address}) from exc
        copies.append(address)
    to = original.from_address if original.is_inbound else thread.counterpart
    if not to:
        raise ValidationError(_("这封邮件没有可回复的地址"), field="to")
    mailbox = thread.mailbox or original.mailbox
    from_address = mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL
    subject = reply_subject(original.subject)
    references = [r for r in original.references.split() if r] + [original.message_id]
    message_id_header = transport.make_message_id(from_address.rsplit("@", 1)[-1])
    interaction_data = {
        "channel": "email", "direction": Direction.OUTBOUND, "occurred_at": timezone.now(),
        "summary": str(_("回复邮件：%(s)s") % {"s": subject}) + "\n\n" + body[:3000],
        **({"contact": thread.contact_id} if thread.contact_id else {}),
    }  # fmt: skip
    clean_interaction(dict(interaction_data), customer=customer)  # refuse before sending, not after
    try:
        raw = transport.smtp_send(
            from_address=from_address, from_name=by.label, to=[to], cc=copies, subject=subject, text=body,
            message_id=message_id_header, in_reply_to=original.message_id, references=references[-20:],
        )  # fmt: skip
    except transport.MailTransportError as exc:
        raise MailSendFailed(_("邮件发送失败：%(e)s"), field=None, params={"e": str(exc)[:300]}) from exc
    with transaction.atomic():
        now = timezone.now()
        interaction_data["occurred_at"] = now
        interaction = engagement_services.interaction_create(
            customer_id=customer.pk, data=interaction_data, by=by
        )
        reply = MailMessage.objects.create(
            thread=thread, mailbox=mailbox, direction=Direction.OUTBOUND, message_id=message_id_header[:300],
            in_reply_to=original.message_id, references=" ".join(references)[:8000], subject=subject[:300],
            from_name=by.label[:200], from_address=from_address, to_addresses=to,
            cc_addresses=", ".join(copies), sent_at=now, received_at=now, body=body, size=len(raw),
            sent_by=by, interaction=interaction,
        )  # fmt: skip
        MailThread.objects.filter(pk=thread.pk).update(last_message_at=now)
        answered = _answer_pending(thread, reply=reply)
        emit(
            _event("reply", by=by, subject_type="mail_message", subject_id=reply.pk, label=f"{to} · {subject}",
                   customer_id=thread.customer_id, changes={"to": [None, to], "answered": [None, answered]})
        )  # fmt: skip
    return reply


@transaction.atomic
def mail_mark_no_reply(*, message_id: int, reason: str, by: User) -> MailMessage:
    """无需回复: an inbound message that needs no answer (a thank-you, an out-of-office) leaves the
    24-hour rule, with the reason and who decided."""
    require(by, Perm.INTERACTION_CREATE)
    message = _message_for(message_id=message_id, by=by)
    if not message.is_inbound:
        raise ValidationError(_("只有收到的邮件才需要回复"), field="id")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("请说明无需回复的原因"), field="reason")
    if message.response != MailResponse.PENDING:
        raise Conflict(
            _("这封邮件当前为“%(s)s”，不能再标记为无需回复"), field="response", code="invalid_transition",
            params={"s": message.get_response_display()},
        )  # fmt: skip
    updated = MailMessage.objects.filter(pk=message.pk, response=MailResponse.PENDING).update(
        response=MailResponse.NOT_NEEDED, no_reply_reason=reason[:200], handled_by=by
    )
    if not updated:
        raise Conflict(_("这封邮件刚刚已被处理"), field="response", code="invalid_transition")
    emit(
        _event("no_reply", by=by, subject_type="mail_message", subject_id=message.pk, label=message.subject,
               customer_id=message.thread.customer_id, changes={"response": [MailResponse.PENDING, MailResponse.NOT_NEEDED], "reason": [None, reason[:200]]})
    )  # fmt: skip
    message.refresh_from_db()
    return message


@transaction.atomic
def mail_thread_assign(
    *, thread_id: int, customer_id: int, contact_id: int | None = None, by: User
) -> MailThread:
    """Give an unmatched thread (a sender no contact or customer has as e-mail) to a customer the actor
    can see, optionally to one of its contacts; its messages then show on that customer."""
    require(by, Perm.INTERACTION_CREATE)
    thread = MailThread.objects.visible_to(by).filter(pk=thread_id).first()
    if thread is None:
        raise NotFound(_("邮件会话不存在或您无权查看"), field="id")
    if thread.customer_id is not None:
        raise Conflict(_("这个邮件会话已经属于一个客户"), field="customer", code="already_assigned")
    customer = customer_get(actor=by, customer_id=customer_id)
    contact = None
    if contact_id:
        contact = Contact.objects.filter(pk=contact_id, customer=customer, deleted_at__isnull=True).first()
        if contact is None:
            raise ValidationError(_("联系人不属于该客户"), field="contact")
    updated = MailThread.objects.filter(pk=thread.pk, customer__isnull=True).update(
        customer=customer, contact=contact
    )
    if not updated:
        raise Conflict(_("这个邮件会话已经属于一个客户"), field="customer", code="already_assigned")
    emit(
        _event("assign", by=by, subject_type="mail_thread", subject_id=thread.pk, label=thread.subject,
               customer_id=customer.pk, changes={"customer": [None, customer.name], "contact": [None, contact.name if contact else None]})
    )  # fmt: skip
    thread.refresh_from_db()
    return thread
