"""Pure rules of engagement: the ENG-2 urgency buckets and the attachment checks (ENG-1)."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.customers.choices import Urgency
from kehu.customers.rules import urgency_bucket, urgency_window
from kehu.engagement.rules import attachment_content_type, safe_filename

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("days", "bucket"),
    [
        (-30, Urgency.OVERDUE),
        (-1, Urgency.OVERDUE),
        (0, Urgency.URGENT),  # due today
        (7, Urgency.URGENT),  # within a week
        (8, Urgency.SOON),
        (30, Urgency.SOON),  # up to a month
        (31, Urgency.NOT_URGENT),
        (90, Urgency.NOT_URGENT),  # up to three months
        (91, Urgency.SLOW),
        (400, Urgency.SLOW),
    ],
)
def test_a_next_follow_up_date_falls_into_its_urgency_bucket(days: int, bucket: Urgency) -> None:
    assert urgency_bucket(TODAY + timedelta(days=days), today=TODAY) == bucket


def test_no_date_is_not_yet_planned() -> None:
    assert urgency_bucket(None, today=TODAY) == Urgency.NONE
    assert urgency_window(Urgency.NONE, today=TODAY) is None


@given(
    st.integers(min_value=-1000, max_value=1000), st.sampled_from([u for u in Urgency if u != Urgency.NONE])
)
def test_the_filter_window_of_a_bucket_holds_exactly_the_dates_of_that_bucket(
    days: int, bucket: Urgency
) -> None:
    when = TODAY + timedelta(days=days)
    first, last = urgency_window(bucket, today=TODAY)
    inside = (first is None or when >= first) and (last is None or when <= last)
    assert inside == (urgency_bucket(when, today=TODAY) == bucket)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("报价单.pdf", b"%PDF-1.7 ...", "application/pdf"),
        ("传真.TIF", b"II*\x00rest", "image/tiff"),
        ("现场.jpg", b"\xff\xd8\xff\xe0 jfif", "image/jpeg"),
        ("照片.png", b"\x89PNG\r\n\x1a\n....", "image/png"),
        ("合同.docx", _docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("纪要.txt", "会议纪要：下周报价".encode(), "text/plain; charset=utf-8"),
        ("纪要.txt", "会议纪要：下周报价".encode("gb18030"), "text/plain; charset=utf-8"),
        ("旧表.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1....", "application/vnd.ms-excel"),
    ],
)
def test_allowed_files_are_recognised_by_their_content(name: str, data: bytes, expected: str) -> None:
    assert attachment_content_type(name, data) == expected


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("报价单.pdf", b"MZ\x90\x00 this is a windows program"),  # a renamed program
        ("合同.docx", b"%PDF-1.4"),  # a PDF named .docx
        ("合同.xlsx", _docx()),  # a Word file named .xlsx
        ("脚本.html", b"<script>alert(1)</script>"),  # not on the list at all
        ("图.svg", b"<svg onload=alert(1)>"),
        ("无扩展名", b"%PDF-1.4"),
        ("空.pdf", b""),
        ("二进制.txt", b"abc\x00def"),
    ],
)
def test_other_files_are_refused(name: str, data: bytes) -> None:
    assert attachment_content_type(name, data) is None


def test_a_download_name_has_no_path_and_no_control_characters() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\王磊\\报价单.pdf") == "报价单.pdf"
    assert safe_filename('a"b\n<c>.pdf') == "abc.pdf"
    assert safe_filename("") == "attachment"
    long = safe_filename("长" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith(".pdf")
