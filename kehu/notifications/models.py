"""In-app notifications and their e-mail copies (issue 3: "In-app notifications, and email notifications
through SMTP").

A notification is addressed to one user; ``key`` makes generators idempotent (the daily digest of a day,
the warning about one customer on one day exist once however often the job runs).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """One message to one user: shown under the bell in the top bar, and mailed if they want mail."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    kind = models.CharField(_("类型"), max_length=40)
    key = models.CharField(_("去重键"), max_length=120)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    url = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    # Set when mailed, or when there was nothing to mail (no address, mail switched off): never tried twice.
    mailed_at = models.DateTimeField(_("邮件发送时间"), null=True, blank=True)
    mail_error = models.CharField(_("邮件错误"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "key"], name="notification_once")]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient"], name="notification_unread_idx", condition=Q(read_at__isnull=True)
            ),
            models.Index(
                fields=["created_at"], name="notification_unmailed_idx", condition=Q(mailed_at__isnull=True)
            ),
        ]

    def __str__(self) -> str:
        return self.title


class NotificationSetting(models.Model):
    """A user's choice whether notifications also come by e-mail (to the address on their account)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_setting",
        primary_key=True,
    )  # fmt: skip
    by_email = models.BooleanField(_("同时发送邮件"), default=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return f"{self.user_id}: {'email' if self.by_email else 'in-app'}"
