"""Import batches (CUS-8): an uploaded file, its dry run, the user's choice and what was written."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.access.scope import sees_all

from .choices import BatchStatus, ImportKind, OnDuplicate, ProblemKind, RowAction


def import_storage() -> FileSystemStorage:
    """Uploaded files stay outside the web root, beside the attachments; only their batch reads them."""
    return FileSystemStorage(location=settings.KEHU_ATTACHMENT_ROOT, base_url=None)


class ImportBatchQuerySet(models.QuerySet):
    def visible_to(self, actor) -> ImportBatchQuerySet:
        """A batch is its importer's; users with the 全部 scope see everyone's."""
        if not getattr(actor, "is_authenticated", False):
            return self.none()
        return self if sees_all(actor) else self.filter(created_by=actor)


class ImportBatch(models.Model):
    """One uploaded file of one kind: its dry run (counts and per-row problems), then the commit —
    written chunk by chunk (``chunks`` says which rows each chunk held and what became of it)."""

    kind = models.CharField(_("导入类型"), max_length=20, choices=ImportKind.choices)
    file = models.FileField(_("文件"), storage=import_storage, upload_to="imports/%Y/%m")
    file_name = models.CharField(_("文件名"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.CHECKING
    )
    on_duplicate = models.CharField(_("重复行处理"), max_length=10, choices=OnDuplicate.choices, blank=True)
    total_rows = models.PositiveIntegerField(_("数据行数"), default=0)
    new_rows = models.PositiveIntegerField(_("新记录"), default=0)
    duplicate_rows = models.PositiveIntegerField(_("重复"), default=0)
    error_rows = models.PositiveIntegerField(_("有错误"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    created = models.PositiveIntegerField(_("新建"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("无变化"), default=0)
    skipped = models.PositiveIntegerField(_("跳过"), default=0)
    blocked_rows = models.PositiveIntegerField(_("未写入（所在批次有错误）"), default=0)
    chunks = models.JSONField(_("分批结果"), default=list, blank=True)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("导入人")
    )
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    checked_at = models.DateTimeField(_("检查时间"), null=True, blank=True)
    committed_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    job_id = models.BigIntegerField(_("后台任务"), null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_by", "created_at"], name="import_batch_by")]
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.file_name}"


class ImportProblem(models.Model):
    """A row of the file that will not be (or was not) written as a new record: an error naming the
    field, or a duplicate — of an existing record or of an earlier row — with what happens to it."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="problems")
    row = models.PositiveIntegerField(_("行号"))
    kind = models.CharField(_("类型"), max_length=10, choices=ProblemKind.choices)
    field = models.CharField(_("字段"), max_length=40, blank=True)
    column = models.CharField(_("列"), max_length=40, blank=True)
    code = models.CharField(_("错误代码"), max_length=40, blank=True)
    message = models.CharField(_("说明"), max_length=500)
    message_en = models.CharField(_("英文说明"), max_length=500, blank=True)
    action = models.CharField(_("处理"), max_length=10, choices=RowAction.choices)

    class Meta:
        ordering = ["row", "id"]
        indexes = [models.Index(fields=["batch", "kind", "row"], name="import_problem_batch")]
        verbose_name = _("导入问题")
        verbose_name_plural = _("导入问题")

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.row} {self.field} {self.message}"

    @property
    def text(self) -> str:
        """The message in the active language."""
        from kehu.core.models import localized

        return localized(self.message, self.message_en)
