"""Files of the sales chain (SAL-7): contract attachments, 签收单, invoice scans, payment proofs.

Stored the way engagement stores interaction attachments (checked by content, a generated name,
outside the web root); kept in one table so the customer's 单据 tab finds any of them at once."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.core.errors import ValidationError
from kehu.core.files import store_with_row
from kehu.engagement.rules import attachment_content_type, safe_filename

from .models import OrderDocument


def checked_file(name: str, data: bytes) -> tuple[str, str]:
    """(safe file name, content type) of an upload, or a ValidationError naming ``file``."""
    filename = safe_filename(name or "")
    if not data:
        raise ValidationError(_("请选择要上传的文件"), field="file")
    if len(data) > int(settings.KEHU_ATTACHMENT_MAX_MB) * 1024 * 1024:
        raise ValidationError(
            _("文件不能超过 %(n)s MB：%(name)s"), field="file",
            params={"n": settings.KEHU_ATTACHMENT_MAX_MB, "name": filename},
        )  # fmt: skip
    content_type = attachment_content_type(filename, data)
    if content_type is None:
        raise ValidationError(
            _("不支持的文件类型，或文件内容与扩展名不符：%(name)s（可上传 PDF、图片、Office 文档、文本）"),
            field="file", params={"name": filename},
        )  # fmt: skip
    return filename, content_type


def store(
    *, kind: str, name: str, data: bytes, by: User, customer_id: int, owner_id: int, number: str, on: date,
    **parent: Any,
) -> OrderDocument:  # fmt: skip
    """Write one checked file; the caller has checked permissions and emits the event."""
    filename, content_type = checked_file(name, data)
    doc = OrderDocument(
        kind=kind, customer_id=customer_id, owner_id=owner_id, number=number[:60], on=on, name=filename,
        content_type=content_type, size=len(data), uploaded_by=by, **parent,
    )  # fmt: skip
    store_with_row(doc, data)
    return doc


def discard(doc: OrderDocument) -> None:
    stored, storage = str(doc.file.name), doc.file.storage
    doc.delete()
    transaction.on_commit(lambda: storage.delete(stored))
