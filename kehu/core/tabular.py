"""Reading and writing the spreadsheets users import (CUS-8): .xlsx and .csv, headers matched by name.

Pure file handling — no models: each importing domain describes its columns as :class:`Column`
objects, and this module turns a file into ``(row number, {field: text})`` pairs, or a template
workbook into bytes.

- .xlsx is read with openpyxl in read-only mode, values only (streamed, memory stays flat); the
  first sheet is the data sheet, its first non-empty row the header row.
- .csv is read as UTF-8 (with or without the BOM Excel writes) or, when that fails, GB18030 — the
  encoding Excel in a Chinese Windows locale saves "CSV" in (a superset of GBK/GB2312).
- Headers match a column by its Chinese or English name or its field key, ignoring case, spaces,
  full-width forms and a trailing ``*`` (the template marks required columns with it). An unknown
  header is refused rather than silently dropped, so a misspelled column never loses data.
- Cell values come back as text: numbers typed into Excel (a mobile number) without ``.0``, dates
  as ``YYYY-MM-DD`` (``YYYY-MM-DD HH:MM`` when they have a time). A cell holding a formula comes back
  as its formula text and is refused by :func:`formula_problem` (nothing runs, nothing is stripped).
"""

from __future__ import annotations

import codecs
import csv
import html
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO, Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from .errors import ValidationError
from .spreadsheet import FORMULA_STARTS, safe_cell

XLSX_SUFFIX = ".xlsx"
CSV_SUFFIX = ".csv"
SUFFIXES = (XLSX_SUFFIX, CSV_SUFFIX)
# Text cells that a spreadsheet program may run as a formula when the data is opened again.
FORMULA_PREFIXES = FORMULA_STARTS


@dataclass(frozen=True)
class Column:
    """One importable column: the field key the domain's ``clean_*`` reads, its headers, and its notes."""

    key: str
    zh: str
    en: str
    required: bool = False
    note: str | Promise = ""
    example: str = ""
    aliases: tuple[str, ...] = ()
    # Free text (names, notes): a value starting like a formula is refused (see formula_problem).
    text: bool = True
    values: Sequence[tuple[str, str]] = field(default_factory=tuple)  # allowed (code, label) pairs

    @property
    def header(self) -> str:
        return f"{self.zh}*" if self.required else self.zh


def header_key(text: Any) -> str:
    """How a header compares: NFKC, lowercase, no spaces, underscores or trailing required marks."""
    folded = unicodedata.normalize("NFKC", str(text or "")).lower()
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "_-").rstrip("*")


def match_headers(headers: Sequence[Any], columns: Sequence[Column]) -> list[Column | None]:
    """The column each header names (``None`` for a blank header), or a file-level ``ValidationError``
    naming unknown or repeated headers and missing required columns."""
    names: dict[str, Column] = {}
    for column in columns:
        for alias in (column.key, column.zh, column.en, *column.aliases):
            names[header_key(alias)] = column
    found: list[Column | None] = []
    unknown: list[str] = []
    seen: set[str] = set()
    for header in headers:
        key = header_key(header)
        if not key:
            found.append(None)
            continue
        match = names.get(key)
        if match is None:
            unknown.append(str(header).strip())
            found.append(None)
            continue
        if match.key in seen:
            raise ValidationError(
                _("列“%(h)s”出现了两次"), field="file", code="duplicate_column", params={"h": match.zh}
            )
        seen.add(match.key)
        found.append(match)
    if unknown:
        raise ValidationError(
            _("无法识别的列：%(h)s（请使用模板中的列名）"),
            field="file",
            code="unknown_column",
            params={"h": "、".join(unknown)},
        )
    missing = [c.zh for c in columns if c.required and c.key not in seen]
    if missing:
        raise ValidationError(
            _("缺少必填列：%(h)s"), field="file", code="missing_column", params={"h": "、".join(missing)}
        )
    return found


def cell_text(value: Any) -> str:
    """A cell as the text a user typed: ``13800138000`` not ``13800138000.0``, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        if value.time() == time(0, 0):
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def formula_problem(column: Column, value: str) -> ValidationError | None:
    """Formula injection on the way in (CUS-8): a free-text value starting with ``= + - @`` (or a tab or
    carriage return) would run as a formula when an export of it is opened elsewhere, and a cell that
    *is* a formula (``=…``) has no value we could trust. Such values are refused with an error naming
    the field — never silently stripped. Coded fields (phones, dates, codes) have their own validators,
    which accept ``+86 …`` and refuse anything else that is not a number."""
    if not value:
        return None
    if value.startswith("=") or (column.text and value.startswith(FORMULA_PREFIXES)):
        return ValidationError(
            _("%(label)s以“%(c)s”开头，可能被电子表格当作公式执行；请删除开头的符号或在前面加上文字"),
            field=column.key,
            code="formula",
            params={"label": column.zh, "c": value[:1]},
        )
    return None


def date_text(value: str) -> str:
    """``2026/1/5`` and ``2026.1.5`` (how dates are typed in a Chinese Excel CSV) as ``2026-01-05``;
    anything else unchanged, for the field's own validator to judge."""
    match = _LOOSE_DATE.fullmatch(value)
    if match is None:
        return value
    year, month, day, rest = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}{rest or ''}"


_LOOSE_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?((?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?)")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError(
        _("无法识别CSV文件的编码（请保存为 UTF-8 或 GB18030）"), field="file", code="encoding"
    )


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = _decode(data)
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text, newline=""), dialect)


def _xlsx_rows(stream: IO[bytes]) -> Iterator[Sequence[Any]]:
    """The first sheet's rows as lists of cell values (text, numbers, dates, ``=formula`` text).

    A streaming reader of the sheet's XML with regular expressions over decompressed chunks — some
    ten times faster than openpyxl's read-only mode, which builds an object per cell; imports of
    100,000 rows spend most of their time reading otherwise. It reads what Excel, WPS and openpyxl
    write: shared and inline strings, numbers, booleans, dates (by the cell's number format), and
    formulas (returned as their text, which :func:`formula_problem` refuses).
    """
    try:
        archive = zipfile.ZipFile(stream)
        sheet_path = _first_sheet(archive)
        strings = _shared_strings(archive)
        date_styles = _date_styles(archive)
        sheet = archive.open(sheet_path)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ValidationError(
            _("无法读取该 Excel 文件（请上传 .xlsx 格式）"), field="file", code="unreadable"
        ) from exc
    with sheet:
        buffer = ""
        decoder = codecs.getincrementaldecoder("utf-8")()
        while True:
            block = sheet.read(1 << 20)
            buffer += decoder.decode(block, final=not block)
            end = buffer.rfind("</row>")
            if end < 0 and block:
                continue
            text, buffer = (buffer[: end + 6], buffer[end + 6 :]) if end >= 0 else (buffer, "")
            for row in _XML_ROW.finditer(text):
                yield _xml_row(row.group(1) or "", strings, date_styles)
            if not block:
                break


_XML_ROW = re.compile(r"<row\b[^>]*?(?:/>|>(.*?)</row>)", re.S)
_XML_CELL = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_XML_REF = re.compile(r'\br="([A-Z]+)')
_XML_TYPE = re.compile(r'\bt="(\w+)"')
_XML_STYLE = re.compile(r'\bs="(\d+)"')
_XML_VALUE = re.compile(r"<v>(.*?)</v>", re.S)
_XML_FORMULA = re.compile(r"<f\b[^>]*?(?:/>|>(.*?)</f>)", re.S)
_XML_TEXT = re.compile(r"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_XML_PHONETIC = re.compile(r"<rPh\b.*?</rPh>", re.S)
_EXCEL_EPOCH = datetime(1899, 12, 30)
# Built-in number formats that show a date or time (ECMA-376 18.8.30, and the CJK ones).
_DATE_FORMAT_IDS = {*range(14, 23), *range(27, 37), 45, 46, 47, *range(50, 59)}


def _xml_text(value: str) -> str:
    return html.unescape(value) if "&" in value else value


def _column_index(letters: str) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


# The cells nearly every writer produces — a value or an inline string, no formula, no rich text — in
# one pass; a row with any other cell takes the general path below.
_XML_SIMPLE_CELL = re.compile(
    r'<c r="([A-Z]+)\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?: s="(\d+)")?'
    r"(?:/>|><v>([^<]*)</v></c>|><is><t(?: [^>]*)?>([^<]*)</t></is></c>)"
)


def _xml_row(xml: str, strings: list[str], date_styles: set[int]) -> list[Any]:
    simple = _XML_SIMPLE_CELL.findall(xml)
    if len(simple) == xml.count("<c "):
        cells: list[Any] = []
        for letters, style, kind, style2, value, inline in simple:
            position = _column_index(letters)
            while len(cells) < position:
                cells.append(None)
            if kind == "s":
                cells.append(strings[int(value)])
            elif kind == "inlineStr":
                cells.append(_xml_text(inline))
            elif kind in ("str", "e"):
                cells.append(_xml_text(value))
            elif value == "" and not inline:
                cells.append(None)
            else:
                attributes = f' s="{style or style2}"' if (style or style2) else ""
                cells.append(
                    _xml_cell(f'{attributes} t="{kind or "n"}"', f"<v>{value}</v>", strings, date_styles)
                )
        return cells
    cells = []
    for match in _XML_CELL.finditer(xml):
        attributes, body = match.group(1), match.group(2) or ""
        ref = _XML_REF.search(attributes)
        position = _column_index(ref.group(1)) if ref else len(cells)
        while len(cells) < position:
            cells.append(None)
        cells.append(_xml_cell(attributes, body, strings, date_styles))
    return cells


def _xml_cell(attributes: str, body: str, strings: list[str], date_styles: set[int]) -> Any:
    formula = _XML_FORMULA.search(body) if "<f" in body else None
    if formula is not None:
        return "=" + _xml_text(formula.group(1) or "")
    kind_match = _XML_TYPE.search(attributes)
    kind = kind_match.group(1) if kind_match else "n"
    if kind == "inlineStr":
        return _xml_text("".join(t or "" for t in _XML_TEXT.findall(_XML_PHONETIC.sub("", body))))
    value_match = _XML_VALUE.search(body)
    if value_match is None:
        return None
    value = value_match.group(1)
    if kind == "s":
        return strings[int(value)]
    if kind in ("str", "e"):
        return _xml_text(value)
    if kind == "b":
        return value == "1"
    if kind == "d":
        return datetime.fromisoformat(value)
    number = float(value) if any(ch in value for ch in ".eE") else int(value)
    style = _XML_STYLE.search(attributes)
    if style is not None and int(style.group(1)) in date_styles:
        moment = _EXCEL_EPOCH + timedelta(seconds=round(float(number) * 86400))
        return moment.date() if moment.time() == time(0, 0) else moment
    return number


def _first_sheet(archive: zipfile.ZipFile) -> str:
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    sheet = re.search(r"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook)
    if sheet is None:
        raise ValueError("no sheet")
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    for rel in re.finditer(r"<Relationship\b[^>]*>", rels):
        tag = rel.group(0)
        if f'Id="{sheet.group(1)}"' in tag:
            target = re.search(r'Target="([^"]+)"', tag)
            if target is None:
                break
            path = target.group(1)
            return path.lstrip("/") if path.startswith("/") else "xl/" + path
    raise ValueError("sheet not found")


def _shared_strings(archive: zipfile.ZipFile) -> list[str]:
    try:
        xml = archive.read("xl/sharedStrings.xml").decode("utf-8")
    except KeyError:
        return []
    out = []
    for item in re.finditer(r"<si\b[^>]*?(?:/>|>(.*?)</si>)", xml, re.S):
        body = item.group(1) or ""
        if "<rPh" in body:
            body = _XML_PHONETIC.sub("", body)
        out.append(_xml_text("".join(t or "" for t in _XML_TEXT.findall(body))))
    return out


def _date_styles(archive: zipfile.ZipFile) -> set[int]:
    """Indexes of the cell styles whose number format shows a date or a time."""
    try:
        xml = archive.read("xl/styles.xml").decode("utf-8")
    except KeyError:
        return set()
    custom = set()
    for fmt in re.finditer(r"<numFmt\b[^>]*?numFmtId=\"(\d+)\"[^>]*?formatCode=\"([^\"]*)\"", xml):
        code = re.sub(r'"[^"]*"|\[[^\]]*\]|\\.', "", html.unescape(fmt.group(2))).lower()
        if any(ch in code for ch in "ymdh"):
            custom.add(int(fmt.group(1)))
    cell_xfs = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.S)
    if cell_xfs is None:
        return set()
    dates = set()
    for index, xf in enumerate(re.finditer(r"<xf\b[^>]*?(?:/>|>.*?</xf>)", cell_xfs.group(1), re.S)):
        number_format = re.search(r'numFmtId="(\d+)"', xf.group(0))
        if number_format and (
            int(number_format.group(1)) in _DATE_FORMAT_IDS or int(number_format.group(1)) in custom
        ):
            dates.add(index)
    return dates


def suffix_of(name: str) -> str:
    lowered = (name or "").lower()
    for suffix in SUFFIXES:
        if lowered.endswith(suffix):
            return suffix
    raise ValidationError(_("只支持 .xlsx 和 .csv 文件"), field="file", code="file_type")


def read_table(
    stream: IO[bytes], *, name: str, columns: Sequence[Column]
) -> tuple[list[Column | None], Iterator[tuple[int, dict[str, str]]]]:
    """The matched columns and an iterator of ``(row number as the spreadsheet shows it, values)`` for
    every non-blank data row. Values are keyed by column key; cells of blank headers are ignored."""
    suffix = suffix_of(name)
    raw: Iterator[Sequence[Any]] = _xlsx_rows(stream) if suffix == XLSX_SUFFIX else _csv_rows(stream.read())
    number = 0
    headers: Sequence[Any] | None = None
    for row in raw:
        number += 1
        if any(cell_text(v) for v in row):
            headers = row
            break
    if headers is None:
        raise ValidationError(_("文件中没有表头和数据"), field="file", code="empty")
    matched = match_headers(headers, columns)
    width = len(matched)
    keyed = [(i, c.key) for i, c in enumerate(matched) if c is not None]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        current = number
        for row in raw:
            current += 1
            texts = [cell_text(v) for v in row[:width]]
            if not any(texts):
                continue
            values = {key: texts[i] if i < len(texts) else "" for i, key in keyed}
            yield current, values

    return matched, rows()


def template_xlsx(
    *, title: str, columns: Sequence[Column], example: Sequence[str], notes_title: str, notes: Sequence[str]
) -> bytes:
    """A template workbook: the data sheet (Chinese headers, required ones marked ``*``, one example
    row) and a notes sheet describing each column, its allowed values and formats."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append([c.header for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append([safe_cell(v) for v in example])
    for cell in sheet[2]:
        cell.data_type = "s"  # an example mobile stays text, not a number in scientific notation
    for index, column in enumerate(columns, 1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = max(12, len(column.zh) * 3)
    info = workbook.create_sheet(notes_title[:31])
    info.append([str(_("列名")), str(_("英文列名")), str(_("必填")), str(_("说明")), str(_("可填的值"))])
    for cell in info[1]:
        cell.font = Font(bold=True)
    for column in columns:
        allowed = "；".join(f"{code} = {label}" if code != label else label for code, label in column.values)
        info.append(
            [column.zh, column.en, str(_("是")) if column.required else "", str(column.note), allowed]
        )
    for line in notes:
        info.append([])
        info.append([str(line)])
    for letter, width in zip("ABCDE", (16, 22, 8, 60, 60), strict=True):
        info.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv(*, columns: Sequence[Column], example: Sequence[str]) -> bytes:
    """The same template as CSV: UTF-8 with the BOM, so Excel opens the Chinese headers correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([c.header for c in columns])
    writer.writerow([safe_cell(v) for v in example])
    return buffer.getvalue().encode("utf-8-sig")
