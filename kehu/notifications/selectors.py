"""Reads of notifications: a user only ever reads their own."""

from __future__ import annotations

from typing import Any

from kehu.access.models import User
from kehu.core.pagination import Page, paginate

from .models import Notification, NotificationSetting


def notification_list(*, actor: User, unread: bool = False, limit: Any = None, offset: Any = None) -> Page:
    qs = Notification.objects.filter(recipient=actor)
    if unread:
        qs = qs.filter(read_at__isnull=True)
    return paginate(qs.order_by("-created_at", "-id"), limit=limit, offset=offset)


def unread_count(*, actor: User) -> int:
    if not getattr(actor, "is_authenticated", False):
        return 0
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).count()


def mail_preference(*, actor: User) -> bool:
    """Whether ``actor`` wants notifications by e-mail too (yes unless they switched it off)."""
    setting = NotificationSetting.objects.filter(user=actor).first()
    return setting is None or setting.by_email
