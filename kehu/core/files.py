"""Keeping an uploaded file with its row: one rule for every domain that stores files."""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.files.base import ContentFile
from django.utils import timezone


def store_with_row(record: Any, data: bytes) -> None:
    """Write ``data`` as ``record.file`` under a generated name — what the user called the file never
    becomes a path on the server — set ``record.sha256``, and save the row; if the row cannot be saved,
    the file is removed again (no orphan on disk). The caller has checked the file (type by content,
    size) and permissions."""
    digest = hashlib.sha256(data).hexdigest()
    record.sha256 = digest
    record.file.save(f"{digest[:16]}-{timezone.now():%H%M%S%f}", ContentFile(data), save=False)
    stored = str(record.file.name)
    try:
        record.save()
    except Exception:
        record.file.storage.delete(stored)
        raise
