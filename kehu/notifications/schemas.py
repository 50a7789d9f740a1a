"""API schemas of notifications."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone
from pydantic import BaseModel

from kehu.core.schemas import StrictIn

from .models import Notification


class NotificationOut(BaseModel):
    id: int
    kind: str
    title: str
    body: str
    url: str
    created_at: datetime
    read_at: datetime | None


class NotificationListOut(BaseModel):
    items: list[NotificationOut]
    count: int
    unread: int


class NotificationSettingIn(StrictIn):
    by_email: bool


class NotificationSettingOut(BaseModel):
    by_email: bool
    email: str


def notification_out(n: Notification) -> dict[str, Any]:
    return {
        "id": n.pk, "kind": n.kind, "title": n.title, "body": n.body, "url": n.url,
        "created_at": timezone.localtime(n.created_at),
        "read_at": timezone.localtime(n.read_at) if n.read_at else None,
    }  # fmt: skip
