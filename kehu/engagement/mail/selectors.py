"""Reads of e-mail (ENG-5). Every query starts from ``visible_to(actor)``: a message is seen by those who
see its customer; an unmatched one by those over its mailbox's owner, its team and mail managers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import owner_ids_in_scope, require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, filter_date, filter_id, paginate
from kehu.customers.extensions import TimelineEntry
from kehu.customers.models import Customer

from ..choices import Direction, MailResponse, MailState
from ..rules import first_response_seconds, mail_response_state
from .models import MailAttachment, Mailbox, MailMessage, MailThread

SCENES = {
    "pending": _("待回复"),
    "at_risk": _("即将超时"),
    "missed": _("已超时"),
    "unmatched": _("未匹配客户"),
    "all": _("全部收件"),
}
MESSAGE_FILTERS = {"customer", "responsible", "mailbox", "date_from", "date_to", "q"}
MESSAGE_SORTS = {"received_at", "-received_at"}


def _hours() -> tuple[int, int]:
    return int(settings.KEHU_MAIL_AT_RISK_HOURS), int(settings.KEHU_MAIL_RESPONSE_HOURS)


@dataclass(frozen=True)
class Sla:
    """Where one inbound message stands (for lists and the thread)."""

    state: str
    label: str
    response_seconds: int | None
    deadline: datetime

    @property
    def response_text(self) -> str:
        """The first-response time in words, e.g. "3 小时 12 分"."""
        if self.response_seconds is None:
            return ""
        hours, rest = divmod(self.response_seconds, 3600)
        return str(_("%(h)s 小时 %(m)s 分") % {"h": hours, "m": rest // 60})


def sla_of(message: MailMessage, *, now: datetime | None = None) -> Sla:
    at_risk, limit = _hours()
    state = mail_response_state(
        received_at=message.received_at, replied_at=message.first_response_at,
        not_needed=message.response == MailResponse.NOT_NEEDED, now=now or timezone.now(),
        at_risk_hours=at_risk, limit_hours=limit,
    )  # fmt: skip
    return Sla(
        state=state,
        label=str(MailState(state).label),
        response_seconds=first_response_seconds(message.received_at, message.first_response_at),
        deadline=message.received_at + timedelta(hours=limit),
    )


def _inbound(actor: User) -> Any:
    """Inbound messages ``actor`` may see, with their responsible person: the customer's owner, else the
    mailbox's owner (ENG-5)."""
    return (
        MailMessage.objects.visible_to(actor)
        .filter(direction=Direction.INBOUND)
        .annotate(responsible_id=Coalesce(F("thread__customer__owner_id"), F("mailbox__owner_id")))
    )


def _in_responsibility_scope(qs: Any, actor: User) -> Any:
    """Only what the actor answers for or supervises: the responsible person is in their data scope
    (a rep sees their own, a manager their team's, 全部 everyone's)."""
    ids = owner_ids_in_scope(actor)
    if ids is None:
        return qs
    return qs.filter(responsible_id__in=sorted(ids))


def _scene(qs: Any, scene: str, *, now: datetime) -> Any:
    at_risk, limit = _hours()
    if scene == "pending":
        return qs.filter(response=MailResponse.PENDING)
    if scene == "at_risk":
        return qs.filter(
            response=MailResponse.PENDING,
            received_at__lte=now - timedelta(hours=at_risk),
            received_at__gte=now - timedelta(hours=limit),
        )
    if scene == "missed":
        late = Q(
            response=MailResponse.REPLIED, first_response_at__gt=F("received_at") + timedelta(hours=limit)
        )
        overdue = Q(response=MailResponse.PENDING, received_at__lt=now - timedelta(hours=limit))
        return qs.filter(late | overdue)
    if scene == "unmatched":
        return qs.filter(thread__customer__isnull=True)
    return qs


def message_list(
    *,
    actor: User,
    scene: str = "pending",
    filters: dict[str, Any] | None = None,
    sort: str = "received_at",
    limit: Any = None,
    offset: Any = None,
    now: datetime | None = None,
) -> Page:
    """Inbound messages by scene (ENG-5): 待回复, 即将超时 (no reply after ``KEHU_MAIL_AT_RISK_HOURS``),
    已超时 (no reply within ``KEHU_MAIL_RESPONSE_HOURS``, or a late reply), 未匹配客户, 全部 — limited
    to the messages whose responsible person is in the actor's data scope (unmatched: all visible)."""
    filters = clean_filters(filters, MESSAGE_FILTERS)
    if scene not in SCENES:
        raise ValidationError(_("场景“%(s)s”无效"), field="scene", params={"s": scene})
    if sort not in MESSAGE_SORTS:
        raise ValidationError(_("排序字段“%(s)s”无效"), field="sort", params={"s": sort})
    now = now or timezone.now()
    qs = _inbound(actor)
    if scene != "unmatched":
        qs = _in_responsibility_scope(qs, actor)
    qs = _scene(qs, scene, now=now)
    if "customer" in filters:
        qs = qs.filter(thread__customer_id=filter_id(filters, "customer"))
    if "responsible" in filters:
        qs = qs.filter(responsible_id=filter_id(filters, "responsible"))
    if "mailbox" in filters:
        qs = qs.filter(mailbox_id=filter_id(filters, "mailbox"))
    for key, lookup in (("date_from", "received_at__date__gte"), ("date_to", "received_at__date__lte")):
        if key in filters:
            qs = qs.filter(**{lookup: filter_date(filters, key)})
    if "q" in filters:
        text = str(filters["q"]).strip()
        qs = qs.filter(
            Q(subject__icontains=text) | Q(from_address__icontains=text) | Q(from_name__icontains=text)
        )
    rows = qs.select_related(
        "thread", "thread__customer", "thread__customer__owner", "mailbox", "mailbox__owner"
    )
    tie = "-id" if sort.startswith("-") else "id"
    page = paginate(rows.order_by(sort, tie), limit=limit, offset=offset)
    _attach_responsible(page.items)
    return page


def _attach_responsible(messages: list[MailMessage]) -> None:
    ids: set[int] = {int(getattr(m, "responsible_id", 0) or 0) for m in messages} - {0}
    users = {u.pk: u for u in User.objects.filter(pk__in=sorted(ids))}
    for m in messages:
        m.responsible = users.get(int(getattr(m, "responsible_id", 0) or 0))  # type: ignore[attr-defined]


@dataclass
class PersonCounts:
    user_id: int | None
    label: str
    pending: int = 0
    at_risk: int = 0
    missed: int = 0


def response_counts(*, actor: User, now: datetime | None = None) -> list[PersonCounts]:
    """Per responsible person in the actor's scope: messages waiting, at risk and that missed the rule
    (the rep sees their own line, a manager the team's)."""
    now = now or timezone.now()
    base = _in_responsibility_scope(_inbound(actor), actor)
    rows: dict[int | None, PersonCounts] = {}
    for scene in ("pending", "at_risk", "missed"):
        for item in _scene(base, scene, now=now).order_by().values("responsible_id").annotate(n=Count("id")):
            key = item["responsible_id"]
            rows.setdefault(key, PersonCounts(user_id=key, label=""))
            setattr(rows[key], scene, item["n"])
    users = {u.pk: u.label for u in User.objects.filter(pk__in=[k for k in rows if k])}
    for key, counts in rows.items():
        counts.label = users.get(key, "") if key else str(_("（无负责人）"))
    return sorted(rows.values(), key=lambda c: (-c.missed, -c.at_risk, -c.pending, c.label))


@dataclass(frozen=True)
class Attention:
    """What the 待办 list shows of the actor's own mail (ENG-5)."""

    pending: int
    at_risk: int
    missed: int


def mail_attention(*, actor: User, now: datetime | None = None) -> Attention:
    """The actor's own unanswered mail (they are its responsible person): waiting, at risk, overdue."""
    now = now or timezone.now()
    at_risk, limit = _hours()
    mine = _inbound(actor).filter(responsible_id=actor.pk, response=MailResponse.PENDING)
    counts = mine.aggregate(
        pending=Count("id"),
        at_risk=Count("id", filter=Q(received_at__lte=now - timedelta(hours=at_risk), received_at__gte=now - timedelta(hours=limit))),
        missed=Count("id", filter=Q(received_at__lt=now - timedelta(hours=limit))),
    )  # fmt: skip
    return Attention(
        pending=counts["pending"] or 0, at_risk=counts["at_risk"] or 0, missed=counts["missed"] or 0
    )


def my_pending_rows(*, actor: User) -> Any:
    """The actor's own unanswered messages, oldest first (the 待办 section 邮件待回复)."""
    return (
        _inbound(actor).filter(responsible_id=actor.pk, response=MailResponse.PENDING)
        .select_related("thread", "thread__customer").order_by("received_at", "id")
    )  # fmt: skip


def response_deadline(message: MailMessage) -> datetime:
    return message.received_at + timedelta(hours=_hours()[1])


# --- threads --------------------------------------------------------------------------------------


def _messages_of(thread: MailThread) -> list[MailMessage]:
    return list(
        thread.messages.select_related("sent_by", "first_response", "handled_by")
        .prefetch_related("attachments")
        .order_by("received_at", "id")
    )


def thread_get(*, actor: User, thread_id: int) -> tuple[MailThread, list[MailMessage]]:
    thread = (
        MailThread.objects.visible_to(actor)
        .select_related("customer", "contact", "mailbox")
        .filter(pk=thread_id)
        .first()
    )
    if thread is None:
        raise NotFound(_("邮件会话不存在或您无权查看"), field="id")
    return thread, _messages_of(thread)


def customer_threads(
    *, actor: User, customer: Customer, limit: int = 20
) -> list[tuple[MailThread, list[MailMessage]]]:
    """The customer's threads (newest first), each with its messages in time order — ours included."""
    threads = list(
        MailThread.objects.visible_to(actor).filter(customer=customer).select_related("contact", "mailbox")
        .order_by("-last_message_at", "-id")[:limit]
    )  # fmt: skip
    return [(t, _messages_of(t)) for t in threads]


def customer_mail_count(actor: User, customer: Customer) -> int:
    """Unanswered inbound mail of the customer (the badge of its 邮件 tab)."""
    return (
        MailMessage.objects.visible_to(actor)
        .filter(thread__customer=customer, direction=Direction.INBOUND, response=MailResponse.PENDING)
        .count()
    )


def message_get(*, actor: User, message_id: int) -> MailMessage:
    message = (
        MailMessage.objects.visible_to(actor)
        .select_related("thread", "thread__customer", "mailbox", "sent_by")
        .prefetch_related("attachments")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        raise NotFound(_("邮件不存在或您无权查看"), field="id")
    return message


def attachment_get(*, actor: User, attachment_id: int) -> MailAttachment:
    attachment = (
        MailAttachment.objects.filter(pk=attachment_id, message__in=MailMessage.objects.visible_to(actor))
        .select_related("message")
        .first()
    )
    if attachment is None:
        raise NotFound(_("附件不存在或您无权查看"), field="id")
    return attachment


def timeline_entries(actor: User, customer_ids: list[int], limit: int) -> list[TimelineEntry]:
    """Inbound e-mail on the customer's 360° timeline (our replies are there as interactions)."""
    rows = (
        MailMessage.objects.filter(thread__customer_id__in=customer_ids, direction=Direction.INBOUND)
        .select_related("thread")
        .order_by("-received_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            at=m.received_at,
            template="engagement/mail/_timeline_mail.html",
            item=m,
            kind="mail",
            data={
                "actor": m.from_name or m.from_address,
                "verb": "mail_receive",
                "subject_type": "mail_message",
                "subject_id": m.pk,
                "subject_label": m.subject,
                "summary": m.body[:500],
                "changes": {},
            },
        )
        for m in rows
    ]


# --- mailboxes ------------------------------------------------------------------------------------


def mailbox_list(*, actor: User) -> list[Mailbox]:
    require(actor, Perm.MAIL_MANAGE)
    return list(Mailbox.objects.select_related("owner", "team").order_by("name"))


def mailbox_get(*, actor: User, mailbox_id: int) -> Mailbox:
    require(actor, Perm.MAIL_MANAGE)
    mailbox = Mailbox.objects.select_related("owner", "team").filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("邮箱不存在"), field="id")
    return mailbox
