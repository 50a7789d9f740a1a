"""The append-only audit log (SEC-3). The database itself refuses UPDATE and DELETE on it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    def for_customer(self, customer_ids: list[int]) -> AuditEventQuerySet:
        return self.filter(customer_id__in=customer_ids)


class AuditEvent(models.Model):
    """Who did what to which record, when, with the field changes. Never edited, never deleted.

    ``customer_id`` is a plain integer, not a foreign key, so that purging a
    customer from the recycle bin keeps its history (and merging keeps both).
    """

    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("操作人"),
    )
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    verb = models.CharField(_("动作"), max_length=40, db_index=True)
    subject_type = models.CharField(_("对象类型"), max_length=40)
    subject_id = models.BigIntegerField(_("对象ID"), null=True, blank=True)
    subject_label = models.CharField(_("对象"), max_length=200, blank=True)
    customer_id = models.BigIntegerField(_("客户ID"), null=True, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["customer_id", "at"], name="audit_customer_at"),
            models.Index(fields=["subject_type", "subject_id"], name="audit_subject"),
            models.Index(fields=["actor", "at"], name="audit_actor_at"),
        ]
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.verb} {self.subject_type}#{self.subject_id}"
