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


class StepKind(models.TextChoices):
    """Who decides one step of a flow (issue 4, 审批): the document owner's supervisor (the manager of
    the owner's department; the parent department's manager when the owner is that manager), any one
    of the named users (或签), or every one of them (会签)."""

    SUPERVISOR = "supervisor", _("负责人的上级")
    ANY_OF = "any_of", _("任一人审批")
    ALL_OF = "all_of", _("所有人审批")


class Verdict(models.TextChoices):
    """One approver's decision on one step."""

    APPROVE = "approve", _("同意")
    REJECT = "reject", _("驳回")


# Statuses a request ends in; a document may be submitted again after the last two.
FINAL = frozenset({ApprovalStatus.APPROVED, ApprovalStatus.REJECTED, ApprovalStatus.WITHDRAWN})
RESUBMITTABLE = frozenset({ApprovalStatus.DRAFT, ApprovalStatus.REJECTED, ApprovalStatus.WITHDRAWN})
