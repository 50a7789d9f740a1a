"""Reads of import batches (CUS-8): a user's own batches (everyone's for the 全部 scope)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, paginate

from .choices import ProblemKind
from .models import ImportBatch


def batch_list(*, actor: User, limit: Any = None, offset: Any = None) -> Page:
    require(actor, Perm.DATA_IMPORT)
    return paginate(
        ImportBatch.objects.visible_to(actor).select_related("created_by"), limit=limit, offset=offset
    )


def batch_get(*, actor: User, batch_id: int) -> ImportBatch:
    require(actor, Perm.DATA_IMPORT)
    batch = ImportBatch.objects.visible_to(actor).select_related("created_by").filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("导入批次不存在或您无权查看"), field="id")
    return batch


def problem_list(
    *, actor: User, batch_id: int, kind: str | None = None, limit: Any = None, offset: Any = None
) -> Page:
    """The rows with problems, in row order; ``kind`` narrows to ``error`` or ``duplicate``."""
    batch = batch_get(actor=actor, batch_id=batch_id)
    rows = batch.problems.all()
    if kind:
        if kind not in ProblemKind.values:
            raise ValidationError(_("问题类型只能是 error 或 duplicate"), field="kind")
        rows = rows.filter(kind=kind)
    return paginate(rows.order_by("row", "id"), limit=limit, offset=offset)
