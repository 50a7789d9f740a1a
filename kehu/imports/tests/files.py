"""Real spreadsheet files for the import tests: .xlsx written by openpyxl, CSV as Excel writes it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any


def xlsx(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8-sig") -> bytes:
    """``utf-8-sig`` is Excel's "CSV UTF-8"; ``gb18030`` is its plain "CSV" on a Chinese Windows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(list(headers))
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue().encode(encoding)
