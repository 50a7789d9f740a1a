"""Thin REST endpoints: my notifications, marking them read, and whether they also come by e-mail."""

from __future__ import annotations

from typing import Any

from ninja import Query, Router, Schema

from kehu.access.requests import AuthedRequest
from kehu.core.schemas import ERRORS

from . import selectors, services
from .schemas import (
    NotificationListOut,
    NotificationOut,
    NotificationSettingIn,
    NotificationSettingOut,
    notification_out,
)

router = Router(tags=["notifications"])


class NotificationFilters(Schema):
    unread: bool = False
    limit: int | None = None
    offset: int | None = None


@router.get("/notifications", response={200: NotificationListOut, **ERRORS}, summary="My notifications")
def list_notifications(request: AuthedRequest, filters: Query[NotificationFilters]) -> Any:
    page = selectors.notification_list(
        actor=request.user, unread=filters.unread, limit=filters.limit, offset=filters.offset
    )
    return {
        "items": [notification_out(n) for n in page.items], "count": page.count,
        "unread": selectors.unread_count(actor=request.user),
    }  # fmt: skip


@router.post(
    "/notifications/read-all", response={200: dict, **ERRORS}, summary="Mark all my notifications read"
)
def read_all(request: AuthedRequest) -> Any:
    return {"read": services.notifications_read_all(by=request.user)}


@router.post("/notifications/{notification_id}/read", response={200: NotificationOut, **ERRORS})
def read_one(request: AuthedRequest, notification_id: int) -> Any:
    return notification_out(services.notification_read(notification_id=notification_id, by=request.user))


@router.get("/notifications/settings", response={200: NotificationSettingOut, **ERRORS})
def get_settings(request: AuthedRequest) -> Any:
    return {"by_email": selectors.mail_preference(actor=request.user), "email": request.user.email}


@router.put("/notifications/settings", response={200: NotificationSettingOut, **ERRORS})
def put_settings(request: AuthedRequest, payload: NotificationSettingIn) -> Any:
    setting = services.notification_setting_update(by_email=payload.by_email, by=request.user)
    return {"by_email": setting.by_email, "email": request.user.email}
