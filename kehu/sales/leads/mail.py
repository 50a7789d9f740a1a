"""Leads from e-mail (SAL-1): an inquiry mailed by an unknown sender becomes a lead.

The engagement domain, below sales, stores inbound mail and emits ``MailChanged("receive")``; this
module subscribes to that event (wired in ``SalesConfig.ready``) — engagement never imports sales.
A message becomes a lead when it is inbound, matched no customer, is not an automatic reply, and
starts a conversation no lead came from yet (one lead per thread, none for an address that already
has an open lead). The lead lands in the lead pool with the source 主动咨询 (inbound inquiry).

The lead is written in a savepoint inside the mail's own transaction: should it fail, the mail is
still stored (a lost inquiry mail would be worse than a missing lead) and the error is logged.
"""

from __future__ import annotations

import logging

from django.db import transaction

from kehu.customers.choices import OptionKind
from kehu.customers.models import Option
from kehu.engagement.choices import Direction, MailResponse
from kehu.engagement.events import MailChanged
from kehu.engagement.models import MailMessage

from .choices import OPEN_STATUSES, LeadChannel
from .models import Lead
from .services import _write_lead
from .validation import clean_lead

log = logging.getLogger(__name__)
INBOUND_SOURCE = "inbound"  # 主动咨询 in the customers' source list


def lead_from_mail(message: MailMessage) -> Lead | None:
    """The lead an inbound message from an unknown sender makes, or None when it makes none."""
    thread = message.thread
    if message.direction != Direction.INBOUND or thread.customer_id is not None:
        return None
    if message.response == MailResponse.NOT_NEEDED:  # automatic replies, bulk mail, old history
        return None
    address = (message.from_address or "").strip().lower()
    if not address:
        return None
    if Lead.objects.filter(mail_thread_id=thread.pk).exists():
        return None
    if Lead.objects.filter(email__iexact=address, status__in=OPEN_STATUSES).exists():
        return None
    name = (message.from_name or "").strip() or address.split("@", 1)[0]
    content = f"{message.subject}\n\n{message.body}".strip()
    cleaned = clean_lead({"contact_name": name[:60], "email": address, "content": content[:20000]})
    cleaned["source"] = Option.objects.filter(kind=OptionKind.SOURCE, code=INBOUND_SOURCE).first()
    return _write_lead(
        cleaned=cleaned, channel=LeadChannel.EMAIL, owner=None, by=None, mail_thread_id=thread.pk
    )


def on_mail_events(events: list) -> None:
    """Subscriber of ``MailChanged``: each received message may start a lead."""
    for event in events:
        if not isinstance(event, MailChanged) or event.verb != "receive" or event.customer_id is not None:
            continue
        if event.subject_id is None:
            continue
        message = MailMessage.objects.select_related("thread").filter(pk=event.subject_id).first()
        if message is None:
            continue
        try:
            with transaction.atomic():
                lead_from_mail(message)
        except Exception:
            log.exception("lead from mail message %s failed", message.pk)
