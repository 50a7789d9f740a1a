"""Vocabularies of imports (CUS-8): what is imported, where a batch stands, what a row did."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("客户")
    CONTACTS = "contacts", _("联系人")
    INTERACTIONS = "interactions", _("跟进记录")
    PRODUCTS = "products", _("产品")
    LEADS = "leads", _("线索")


class BatchStatus(models.TextChoices):
    CHECKING = "checking", _("检查中")
    CHECKED = "checked", _("已检查（待导入）")
    COMMITTING = "committing", _("导入中")
    DONE = "done", _("已导入")
    FAILED = "failed", _("失败")


# The allowed transitions, one service each (house style 2): verb -> (from states, to state).
BATCH_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "check": ((BatchStatus.CHECKING,), BatchStatus.CHECKED),
    # A commit killed half-way (a worker that died) runs again from its last written chunk.
    "commit": ((BatchStatus.CHECKED, BatchStatus.COMMITTING), BatchStatus.DONE),
}


class OnDuplicate(models.TextChoices):
    SKIP = "skip", _("跳过重复行")
    UPDATE = "update", _("用文件中的值更新已有记录")


class ProblemKind(models.TextChoices):
    ERROR = "error", _("错误")
    DUPLICATE = "duplicate", _("重复")


class RowAction(models.TextChoices):
    ERROR = "error", _("有错误，不导入")
    UPDATE = "update", _("更新已有记录")
    UNCHANGED = "unchanged", _("与已有记录相同，无需更改")
    SKIP = "skip", _("跳过")


class ChunkStatus(models.TextChoices):
    WRITTEN = "written", _("已写入")
    BLOCKED = "blocked", _("有错误，整批未写入")
