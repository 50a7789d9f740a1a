"""The morning 待办 reminder (issue 3, "In-app notifications, and email notifications"): one notification
per user and day with the counts of their work list; the 24-hour e-mails come from the notification layer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.access.models import User
from kehu.notifications.services import notify

from .worklist import work_list


def reminder_text(sections: list[Any]) -> tuple[str, str] | None:
    """Title and body of a user's reminder, or None when there is nothing to do (pure: no database)."""
    counted = [s for s in sections if s.count]
    if not counted:
        return None
    total = sum(s.count for s in counted)
    title = _("今日待办 %(n)s 项") % {"n": total}
    body = "\n".join(f"{s.label}：{s.count}" for s in counted)
    return title, body


def reminders_send(
    *, today: date | None = None, progress: Callable[[int, int], None] | None = None
) -> dict[str, int]:
    """Notify every active user whose 待办 is not empty, once per day (run by the 08:00 job)."""
    today = today or timezone.localdate()
    users = list(User.objects.filter(is_active=True, roles__isnull=False).distinct().order_by("pk"))
    sent = 0
    for done, user in enumerate(users, 1):
        with translation.override(user.language or "zh-hans"):
            text = reminder_text(work_list(actor=user, today=today))
            if text and notify(
                recipient=user, kind="digest", key=f"digest:{today.isoformat()}", title=text[0], body=text[1],
                url=reverse("home"),
            ):  # fmt: skip
                sent += 1
        if progress:
            progress(done, len(users))
    return {"users": len(users), "notified": sent}
