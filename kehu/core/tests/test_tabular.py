"""Reading import spreadsheets (CUS-8): the fast .xlsx reader agrees with openpyxl; CSV encodings."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from kehu.core.errors import ValidationError
from kehu.core.tabular import (
    Column,
    _xlsx_rows,
    cell_text,
    date_text,
    formula_problem,
    match_headers,
    read_table,
)

COLUMNS = [
    Column("name", "客户名称", "Name", required=True),
    Column("mobile", "手机号", "Mobile", text=False),
]


def _book(write_only: bool) -> bytes:
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("数据") if write_only else wb.active
    ws.append(["名称", "数字", "日期", "时间", "公式", "布尔", "空", "小数", "长号"])
    ws.append(["A & B <x>", 12, dt.date(2024, 5, 6), dt.datetime(2024, 5, 6, 13, 45), "=SUM(B2:B3)", True, None,
               1.5, 13800138000])  # fmt: skip
    ws.append([None, None, "x"])
    ws.append(["  带空格 ", 0, dt.date(1990, 1, 1), None, "@注释", False])
    if not write_only:
        ws["A5"] = CellRichText(["富", TextBlock(InlineFont(b=True), "文本")])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("write_only", [False, True])
def test_the_fast_reader_reads_what_openpyxl_reads(write_only: bool) -> None:
    data = _book(write_only)
    fast = [[cell_text(v) for v in row] for row in _xlsx_rows(io.BytesIO(data))]
    sheet = load_workbook(io.BytesIO(data), read_only=True, rich_text=True).worksheets[0]
    slow = [
        [cell_text(str(v) if isinstance(v, CellRichText) else v) for v in row]
        for row in sheet.iter_rows(values_only=True)
    ]
    assert [[v for v in row] + [""] * (len(s) - len(row)) for row, s in zip(fast, slow, strict=True)] == slow
    assert fast[1][:6] == ["A & B <x>", "12", "2024-05-06", "2024-05-06 13:45", "=SUM(B2:B3)", "是"]


def test_headers_match_in_either_language_and_unknown_ones_are_refused() -> None:
    assert [c.key for c in match_headers(["Name", " 手机号* "], COLUMNS) if c] == ["name", "mobile"]
    with pytest.raises(ValidationError) as refused:
        match_headers(["客户名称", "传真"], COLUMNS)
    assert refused.value.field == "file" and refused.value.code == "unknown_column"
    with pytest.raises(ValidationError) as missing:
        match_headers(["手机号"], COLUMNS)
    assert missing.value.code == "missing_column"


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gb18030"])
def test_csv_in_the_encodings_excel_writes(encoding: str) -> None:
    data = "客户名称,手机号\r\n华东公司,13800138000\r\n,\r\n".encode(encoding)
    _cols, rows = read_table(io.BytesIO(data), name="a.CSV", columns=COLUMNS)
    assert list(rows) == [(2, {"name": "华东公司", "mobile": "13800138000"})]


def test_loose_dates_and_formula_cells() -> None:
    assert date_text("2026/1/5") == "2026-01-05" and date_text("2026年1月5日") == "2026-01-05"
    assert date_text("2026/1/5 9:30") == "2026-01-05 9:30" and date_text("昨天") == "昨天"
    text, coded = COLUMNS
    assert formula_problem(text, "-客户") is not None and formula_problem(coded, "+8613800138000") is None
    assert formula_problem(coded, "=1+1") is not None and formula_problem(text, "客户-1") is None


def test_not_a_workbook_is_refused_naming_the_file() -> None:
    with pytest.raises(ValidationError) as refused:
        read_table(io.BytesIO(b"PK not really"), name="a.xlsx", columns=COLUMNS)
    assert refused.value.field == "file"
    with pytest.raises(ValidationError):
        read_table(io.BytesIO(b""), name="a.pdf", columns=COLUMNS)
