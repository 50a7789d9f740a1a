"""Writing notifications, reading them as done, and mailing them.

``notify`` is for other services (they already decided who is told what); the user-facing services
(mark read, settings) act only on the caller's own notifications — there is no one else's to touch.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core.errors import NotFound

from .models import Notification, NotificationSetting

logger = logging.getLogger("kehu.notifications")


def notify(
    *, recipient: User, kind: str, key: str, title: Any, body: Any = "", url: str = ""
) -> Notification | None:
    """Tell ``recipient`` something once per ``key``; returns None when they were already told."""
    if not recipient.is_active:
        return None
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient,
                kind=kind,
                key=key[:120],
                title=str(title)[:200],
                body=str(body),
                url=url[:300],
            )
    except IntegrityError:
        return None


def notify_handover(*, recipient: User, by: User | None, kind: str, key: str, title: Any, url: str) -> None:
    """Tell someone a colleague handed them something (a customer, a task) — not when they did it themselves."""
    if by is not None and recipient.pk == by.pk:
        return
    notify(recipient=recipient, kind=kind, key=key, title=title, url=url)


def notification_read(*, notification_id: int, by: User) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, recipient=by).first()
    if notification is None:
        raise NotFound(_("通知不存在"), field="notification")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=notification.read_at
        )
    return notification


def notifications_read_all(*, by: User) -> int:
    return Notification.objects.filter(recipient=by, read_at__isnull=True).update(read_at=timezone.now())


def notification_setting_update(*, by_email: bool, by: User) -> NotificationSetting:
    setting, _created = NotificationSetting.objects.update_or_create(user=by, defaults={"by_email": by_email})
    return setting


def wants_email(user: User) -> bool:
    from .selectors import mail_preference

    return bool(user.email) and mail_preference(actor=user)


def notifications_mail(*, limit: int = 500) -> dict[str, int]:
    """Mail the notifications not yet mailed (oldest first) to those who want mail; one SMTP connection.

    A notification is marked either way, so a failing address is not retried for ever; the error is kept.
    """
    pending = list(
        Notification.objects.filter(mailed_at__isnull=True)
        .select_related("recipient")
        .order_by("created_at")[:limit]
    )
    sent = skipped = failed = 0
    if not pending:
        return {"sent": 0, "skipped": 0, "failed": 0}
    base_url = getattr(settings, "KEHU_BASE_URL", "").rstrip("/")
    with get_connection(fail_silently=False) as connection:
        for n in pending:
            now = timezone.now()
            if not wants_email(n.recipient):
                Notification.objects.filter(pk=n.pk).update(mailed_at=now)
                skipped += 1
                continue
            with translation.override(n.recipient.language or "zh-hans"):
                link = f"\n\n{base_url}{n.url}" if n.url and base_url else (f"\n\n{n.url}" if n.url else "")
                message = EmailMessage(
                    subject=f"[Kehu] {n.title}", body=f"{n.body}{link}".strip() or n.title,
                    to=[n.recipient.email], connection=connection,
                )  # fmt: skip
            try:
                message.send()
            except Exception as exc:  # SMTP refused this address; keep going with the others
                logger.warning("mailing notification %s failed: %s", n.pk, exc)
                Notification.objects.filter(pk=n.pk).update(mailed_at=now, mail_error=str(exc)[:300])
                failed += 1
            else:
                Notification.objects.filter(pk=n.pk).update(mailed_at=now)
                sent += 1
    return {"sent": sent, "skipped": skipped, "failed": failed}
