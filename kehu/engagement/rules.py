"""Pure rules of engagement (no ORM). The urgency rule of ENG-2 sits with the customer's next follow-up
date, in ``customers.rules.urgency_bucket``."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta

# extension -> (content type, family). Attachments are checked by content, not by name: the name
# only has to agree with what the bytes are.
ALLOWED_TYPES: dict[str, tuple[str, str]] = {
    "pdf": ("application/pdf", "pdf"),
    "png": ("image/png", "png"),
    "jpg": ("image/jpeg", "jpeg"),
    "jpeg": ("image/jpeg", "jpeg"),
    "gif": ("image/gif", "gif"),
    "tif": ("image/tiff", "tiff"),  # scanned faxes
    "tiff": ("image/tiff", "tiff"),
    "webp": ("image/webp", "webp"),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "ooxml:word/"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "ooxml:xl/"),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "ooxml:ppt/"),
    "doc": ("application/msword", "ole"),
    "xls": ("application/vnd.ms-excel", "ole"),
    "ppt": ("application/vnd.ms-powerpoint", "ole"),
    "txt": ("text/plain; charset=utf-8", "text"),
    "csv": ("text/csv; charset=utf-8", "text"),
    "eml": ("message/rfc822", "text"),
}

_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
)


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _family(data: bytes) -> str | None:
    for magic, family in _MAGIC:
        if data.startswith(magic):
            return family
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04"):
        try:
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
        except zipfile.BadZipFile:
            return None
        if "[Content_Types].xml" in names:
            for prefix in ("word/", "xl/", "ppt/"):
                if any(n.startswith(prefix) for n in names):
                    return f"ooxml:{prefix}"
        return None
    if b"\x00" not in data:
        for encoding in ("utf-8", "gb18030"):  # Chinese text files are often GBK
            try:
                data.decode(encoding)
                return "text"
            except UnicodeDecodeError:
                continue
    return None


def attachment_content_type(name: str, data: bytes) -> str | None:
    """The content type to store and serve ``data`` under, or ``None`` when it is not allowed: the
    extension must be on the list *and* the bytes must be that kind of file (a renamed .exe is not a
    .pdf)."""
    allowed = ALLOWED_TYPES.get(extension(name))
    if allowed is None or not data:
        return None
    content_type, family = allowed
    return content_type if _family(data) == family else None


def safe_filename(name: str) -> str:
    """The name a download is offered under: no path, no control characters, at most 120 characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?').strip(" .")
    if len(base) > 120:
        ext = extension(base)
        base = base[: 119 - len(ext)] + "." + ext if ext else base[:120]
    return base or "attachment"


# --- e-mail response times (ENG-5) ----------------------------------------------------------------

_REPLY_PREFIX = re.compile(
    r"^\s*(?:(?:re|fw|fwd|aw|wg|sv|vs|回复|答复|回覆|转发|轉寄|转寄)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I
)


def mail_subject_key(subject: str) -> str:
    """The subject a thread is recognised by: reply/forward prefixes (Re:, Fwd:, 回复：, 转发：…) dropped,
    spaces collapsed, case folded. "Re: 回复：报价单" and "报价单" are one thread."""
    text = _REPLY_PREFIX.sub("", subject or "")
    return " ".join(text.split()).casefold()[:300]


def reply_subject(subject: str) -> str:
    """Our reply's subject: the original with one "Re: " in front (never "Re: Re: …")."""
    text = (subject or "").strip()
    return text if re.match(r"^\s*re\s*[:：]", text, re.I) else f"Re: {text}".strip()


def first_response_seconds(received_at: datetime, replied_at: datetime | None) -> int | None:
    """Seconds from arrival to our first reply (None while unanswered); a reply stamped before the
    arrival (clock skew between servers) counts as immediate."""
    if replied_at is None:
        return None
    return max(int((replied_at - received_at).total_seconds()), 0)


def mail_response_state(
    *,
    received_at: datetime,
    replied_at: datetime | None,
    not_needed: bool,
    now: datetime,
    at_risk_hours: int = 20,
    limit_hours: int = 24,
) -> str:
    """ENG-5's 24-hour rule for one inbound message, in plain hours (no working-hours calendar):
    answered within ``limit_hours`` → in_time, later → late; unanswered and younger than
    ``at_risk_hours`` → waiting, then at_risk until ``limit_hours``, then missed. A message marked
    无需回复 is out of the rule."""
    if not_needed:
        return "not_needed"
    limit = timedelta(hours=limit_hours)
    if replied_at is not None:
        return "in_time" if replied_at - received_at <= limit else "late"
    age = now - received_at
    if age > limit:
        return "missed"
    if age >= timedelta(hours=at_risk_hours):
        return "at_risk"
    return "waiting"
