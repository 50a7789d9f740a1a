"""Shared model base: creation/update stamps, an optimistic-lock version and soft delete."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .errors import Conflict


def localized(chinese: str, english: str) -> str:
    """Reference data keeps both names: English when the UI is English and one was given."""
    from django.utils.translation import get_language

    if english and (get_language() or "").startswith("en"):
        return english
    return chinese


class VersionedModel(models.Model):
    """Every editable record carries ``version``; an update based on a stale one is refused (SEC-6)."""

    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    version = models.PositiveIntegerField(_("版本"), default=1)

    class Meta:
        abstract = True

    def save_versioned(self, *, expected_version: int | None, fields: list[str]) -> None:
        """Write ``fields`` only if the row still has ``expected_version``; bump the version.

        One conditional UPDATE, so two concurrent edits of the same version cannot
        both succeed: the second finds no row and gets ``Conflict`` (API 409).
        """
        current = self.version if expected_version is None else expected_version
        self.updated_at = timezone.now()
        values: dict[str, Any] = {}
        for name in fields:
            # Foreign keys are written through their *_id attribute (``attname``).
            attname = getattr(self._meta.get_field(name), "attname", name)
            values[attname] = getattr(self, attname)
        values["updated_at"] = self.updated_at
        values["version"] = current + 1
        updated = type(self)._base_manager.filter(pk=self.pk, version=current).update(**values)
        if updated != 1:
            raise Conflict(
                _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
                field="version",
                code="stale_version",
                params={"version": current},
            )
        self.version = current + 1


class SoftDeleteQuerySet(models.QuerySet):
    def alive(self) -> SoftDeleteQuerySet:
        return self.filter(deleted_at__isnull=True)

    def deleted(self) -> SoftDeleteQuerySet:
        return self.filter(deleted_at__isnull=False)


class SoftDeleteModel(models.Model):
    """Deleted records go to the recycle bin first (SEC-6); ``kehu purge`` removes them later."""

    # No plain index: "deleted_at IS NULL" matches almost every row, and an index on it tempts the
    # planner into walking the whole table. Models add a partial index for the recycle bin instead.
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


from .sequences import Sequence  # noqa: E402,F401  (registers the model with the core app)
