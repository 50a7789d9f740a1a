"""The approval vocabulary (审批): statuses every approvable document carries, step kinds, decisions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ApprovalStatus(models.TextChoices):
    """Where a document stands in its approval. A document under review or approved is locked: its
    domain refuses edits (``LOCKED``) until it is withdrawn or rejected."""

    DRAFT = "draft", _("未提交")
    PENDING = "pending", _("审批中")
    APPROVED = "approved", _("通过")
    REJECTED = "rejected", _("驳回")
    WITHDRAWN = "withdrawn", _("撤回")


LOCKED = frozenset({ApprovalStatus.PENDING, ApprovalStatus.APPROVED})
