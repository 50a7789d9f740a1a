"""Excel (.xlsx) output shared by every export (CUS-8): streamed rows, safe cells.

A cell whose text starts like a formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) is written
as text with a leading apostrophe, so no cell of an export can run as a formula when opened
(CSV/formula injection) — whatever a customer typed into their name or notes.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value as it may go into a cell: aware times in Asia/Shanghai without tzinfo (Excel has
    none), formula-like text neutralised, everything else unchanged."""
    if isinstance(value, datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_bytes(*, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook: a header row, then ``rows`` (streamed: write-only mode keeps memory flat)."""
    buffer = io.BytesIO()
    xlsx_write(buffer, title=title, headers=headers, rows=rows)
    return buffer.getvalue()


Sheet = tuple[str, Sequence[str], Iterable[Sequence[Any]]]  # title, headers, rows


def xlsx_write(target: Any, *, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write the workbook to ``target`` (a path or a binary file): big exports go straight to disk."""
    xlsx_write_sheets(target, [(title, headers, rows)])


def xlsx_sheets_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of several sheets (a report's tables side by side), each a header row and its rows."""
    buffer = io.BytesIO()
    xlsx_write_sheets(buffer, sheets)
    return buffer.getvalue()


def xlsx_write_sheets(target: Any, sheets: Sequence[Sheet]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        header_cells = []
        for text in headers:
            cell = WriteOnlyCell(sheet, value=safe_cell(str(text)))
            cell.font = bold
            header_cells.append(cell)
        sheet.append(header_cells)
        for row in rows:
            cells = []
            for value in row:
                cell = WriteOnlyCell(sheet, value=safe_cell(value))
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text is text: never a formula
                cells.append(cell)
            sheet.append(cells)
    workbook.save(target)
