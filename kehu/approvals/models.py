"""Approval flows and the requests that run through them (审批, issue 4; ADR 0012)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.perms import Perm
from kehu.access.scope import can, owner_scope_q
from kehu.core.models import VersionedModel

from .choices import ApprovalStatus, StepKind, Verdict


class ApprovalFlow(VersionedModel):
    """How one document type is approved in one department (and its sub-departments, unless they have
    their own flow), or company-wide when ``department`` is empty. With ``min_amount`` the flow applies
    only from that amount on; of a department's flows the one with the highest threshold reached wins."""

    document_type = models.CharField(_("单据类型"), max_length=40)
    department = models.ForeignKey(
        "access.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="approval_flows",
        verbose_name=_("适用部门"),
    )
    name = models.CharField(_("流程名称"), max_length=80)
    min_amount = models.DecimalField(_("起始金额"), max_digits=16, decimal_places=2, null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["document_type", "department_id", "min_amount", "id"]
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")
        indexes = [models.Index(fields=["document_type", "is_active"], name="approvalflow_type_active")]

    def __str__(self) -> str:
        return self.name


class ApprovalStep(models.Model):
    """One step of a flow, decided in ``order``: by the owner's supervisor, any one of ``users`` or all
    of them. Editing a flow replaces its steps; running requests keep the plan copied at submission."""

    flow = models.ForeignKey(ApprovalFlow, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField(_("顺序"))
    kind = models.CharField(_("审批方式"), max_length=20, choices=StepKind.choices)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("审批人")
    )

    class Meta:
        ordering = ["flow_id", "order"]
        verbose_name = _("审批步骤")
        verbose_name_plural = _("审批步骤")
        constraints = [models.UniqueConstraint(fields=["flow", "order"], name="approvalstep_once")]

    def __str__(self) -> str:
        return f"{self.flow_id}#{self.order} {self.get_kind_display()}"


class ApprovalRequestQuerySet(models.QuerySet):
    def visible_to(self, actor) -> ApprovalRequestQuerySet:
        """The only row filter for approval requests (SEC-1): ``approval.manage`` sees every one; anyone
        else the requests they submitted, those they are (or were) an approver of, and those whose
        document owner is in their data scope."""
        if not getattr(actor, "is_authenticated", False):
            return self.none()
        if can(actor, Perm.APPROVAL_MANAGE):
            return self.all()
        approver = ApprovalApprover.objects.filter(request=OuterRef("pk"), user=actor)
        return self.filter(Q(submitted_by=actor) | Exists(approver) | owner_scope_q(actor))


class ApprovalRequest(VersionedModel):
    """One submission of one document for approval. Title, amount, owner and department are copied
    from the document at submission (the approvers decide on what was submitted); ``plan`` is the
    flow's steps with their approvers resolved then, so editing the flow later changes nothing here.
    ``current_step`` counts from 1 (0: no step, the request was approved at once or has ended)."""

    document_type = models.CharField(_("单据类型"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("单据ID"))
    flow = models.ForeignKey(
        ApprovalFlow, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests"
    )
    flow_name = models.CharField(_("审批流程"), max_length=80, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    amount = models.DecimalField(_("金额"), max_digits=16, decimal_places=2, null=True, blank=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    customer_id = models.BigIntegerField(_("客户ID"), null=True, blank=True)
    url = models.CharField(_("单据链接"), max_length=300, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("负责人")
    )
    department = models.ForeignKey(
        "access.Department",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("部门"),
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=ApprovalStatus.choices, default=ApprovalStatus.PENDING
    )
    plan = models.JSONField(_("审批步骤"), default=list, blank=True)
    current_step = models.PositiveSmallIntegerField(_("当前步骤"), default=0)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("提交人")
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = ApprovalRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("审批申请")
        verbose_name_plural = _("审批申请")
        indexes = [
            models.Index(fields=["document_type", "object_id", "-submitted_at"], name="approvalreq_document"),
            models.Index(fields=["submitted_by", "-submitted_at"], name="approvalreq_submitter"),
            models.Index(fields=["owner", "-submitted_at"], name="approvalreq_owner"),
            models.Index(fields=["status", "-submitted_at"], name="approvalreq_status"),
        ]
        constraints = [
            # A document is under review at most once at a time, whatever races the submitters run.
            models.UniqueConstraint(
                fields=["document_type", "object_id"],
                condition=Q(status="pending"),
                name="approvalreq_one_pending",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_pending(self) -> bool:
        return self.status == ApprovalStatus.PENDING

    @property
    def step_count(self) -> int:
        return len(self.plan or [])


class ApprovalApprover(models.Model):
    """Who must decide which step of a request, resolved at submission. ``is_current`` marks the rows of
    the step under review not yet decided by that user: "待我审批" is one index range over them."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="approvers")
    step = models.PositiveSmallIntegerField(_("步骤"))
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    is_current = models.BooleanField(default=False)

    class Meta:
        ordering = ["request_id", "step", "id"]
        constraints = [
            models.UniqueConstraint(fields=["request", "step", "user"], name="approvalapprover_once")
        ]
        indexes = [
            models.Index(fields=["user"], name="approvalapprover_pending", condition=Q(is_current=True)),
            models.Index(fields=["user", "request"], name="approvalapprover_user"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.step} {self.user_id}"


class ApprovalDecision(models.Model):
    """One approver's 同意 / 驳回 on one step of a request, with the comment (required to reject)."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    step = models.PositiveSmallIntegerField(_("步骤"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("审批人")
    )
    verdict = models.CharField(_("意见"), max_length=10, choices=Verdict.choices)
    comment = models.TextField(_("审批意见"), blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("审批意见")
        verbose_name_plural = _("审批意见")
        indexes = [models.Index(fields=["request", "step"], name="approvaldecision_request")]

    def __str__(self) -> str:
        return f"{self.request_id}#{self.step} {self.verdict}"
