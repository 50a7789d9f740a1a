"""E-mail adapters (ENG-5): RFC 822 parsing, IMAP fetching, SMTP sending. No business rules here —
which customer a message belongs to, threads and response times are the engagement domain's.

Chinese mail in the wild: subjects and names as RFC 2047 encoded-words (often ``gb2312`` declared but
GBK or GB18030 characters used), bodies in GBK/GB2312/GB18030 or UTF-8, raw 8-bit headers from older
clients, HTML-only messages. Every declared Chinese charset is read as GB18030 (their superset), and a
body that does not decode as declared is tried as UTF-8 and GB18030 before being read with
replacement characters — a message is never lost for its encoding.
"""

from __future__ import annotations

import contextlib
import email
import email.header
import email.utils
import hashlib
import html
import imaplib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from html.parser import HTMLParser
from typing import Any

# Charsets whose text is a subset of GB18030: read them as GB18030 so GBK-only characters in a
# message labelled gb2312 (the common case) decode instead of failing.
_GB_ALIASES = {"gb2312", "gb_2312", "gb_2312-80", "gbk", "x-gbk", "cp936", "ms936", "euc-cn", "x-euc-cn", "hz-gb-2312"}  # fmt: skip


class MailTransportError(Exception):
    """The IMAP or SMTP server refused, or could not be reached; ``str()`` says why."""


@dataclass(frozen=True)
class Address:
    name: str
    address: str  # lower-cased


@dataclass(frozen=True)
class ParsedAttachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class ParsedMail:
    """What Kehu keeps of one RFC 822 message."""

    message_id: str  # "<…>"; a digest of the bytes when the message has none
    in_reply_to: str
    references: list[str]
    subject: str
    sender: Address | None
    to: list[Address]
    cc: list[Address]
    date: datetime | None
    text: str  # the text/plain part, else the HTML part as text
    html_only: bool
    attachments: list[ParsedAttachment] = field(default_factory=list)
    auto_submitted: bool = False  # auto-replies and bulk mail (RFC 3834, Precedence: bulk)


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip('"').lower()
    return "gb18030" if name in _GB_ALIASES else name


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of ``data`` in its declared ``charset``; else UTF-8, GB18030; else with replacements."""
    tried = []
    for candidate in (_codec(charset), "utf-8", "gb18030"):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return (
        data.decode(_codec(charset) or "utf-8", errors="replace")
        if _known(charset)
        else data.decode("utf-8", errors="replace")
    )


def _known(charset: str | None) -> bool:
    import codecs

    try:
        codecs.lookup(_codec(charset) or "")
    except LookupError:
        return False
    return True


def _raw_header_text(value: Any) -> str:
    """A header as the parser handed it over: 8-bit bytes (smuggled as surrogates) decoded too."""
    if isinstance(value, email.header.Header):  # raw 8-bit bytes in the header
        return "".join(
            decode_bytes(chunk, None if charset in (None, "unknown-8bit") else charset)
            if isinstance(chunk, bytes)
            else chunk
            for chunk, charset in email.header.decode_header(value)
        )
    text = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        return decode_bytes(text.encode("ascii", "surrogateescape"), None)
    return text


_ENCODED_WORD_GAP = re.compile(r"(\?=)\s+(=\?)")


def decode_header(value: Any) -> str:
    """RFC 2047 encoded-words (any charset, GB ones read as GB18030) and raw 8-bit headers → text."""
    if value is None:
        return ""
    text = _raw_header_text(value)
    # Some clients split one encoded-word badly across lines; whitespace between words is not text.
    text = _ENCODED_WORD_GAP.sub(r"\1\2", text)
    try:
        parts = email.header.decode_header(text)
    except (email.errors.HeaderParseError, ValueError):
        return " ".join(text.split())
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return " ".join("".join(out).split())


def _addresses(msg: Message, name: str) -> list[Address]:
    found = []
    for value in msg.get_all(name, []):
        raw = _raw_header_text(value)
        pairs = [(n, a) for n, a in email.utils.getaddresses([raw]) if "@" in a]
        if not pairs:
            # Some mailers encode the whole header, address included, as one encoded-word.
            pairs = [(n, a) for n, a in email.utils.getaddresses([decode_header(raw)]) if "@" in a]
        for display, address in pairs:
            found.append(
                Address(
                    name=decode_header(display).strip('"').strip(),
                    address=address.strip().strip("<>").lower(),
                )
            )
    return found


_MSGID = re.compile(r"<[^<>\s]+>")


def _ids(value: Any) -> list[str]:
    return _MSGID.findall(_raw_header_text(value)) if value else []


class _TextOfHtml(HTMLParser):
    """HTML → plain text: tags dropped, scripts and styles skipped, block ends as line breaks."""

    BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "hr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "title"):
            self.skip = max(self.skip - 1, 0)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body; nothing of it is ever rendered as HTML."""
    parser = _TextOfHtml()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # a broken document still yields what was read so far
        pass
    lines = [" ".join(line.split()) for line in html.unescape("".join(parser.parts)).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _part_text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    return decode_bytes(payload, part.get_content_charset())


def _filename(part: Message) -> str:
    raw: Any = part.get_filename()
    if raw is None:
        raw = part.get_param("name")
        if isinstance(raw, tuple):  # RFC 2231 value
            raw = email.utils.collapse_rfc2231_value(raw)
    return decode_header(raw) if raw else ""


def parse_message(raw: bytes) -> ParsedMail:
    """Parse one RFC 822 message (bytes as received)."""
    msg = email.message_from_bytes(raw)
    text_parts: list[str] = []
    html_parts: list[str] = []
    attachments: list[ParsedAttachment] = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
        name = _filename(part)
        if (
            disposition == "attachment"
            or (name and content_type not in ("text/plain", "text/html"))
            or (content_type not in ("text/plain", "text/html") and part is not msg)
        ):
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                attachments.append(
                    ParsedAttachment(name=name or f"attachment-{len(attachments) + 1}", content_type=content_type, data=data)
                )  # fmt: skip
            continue
        if content_type == "text/html":
            html_parts.append(_part_text(part))
        else:
            text_parts.append(_part_text(part))
    text = "\n\n".join(t.strip() for t in text_parts if t.strip())
    html_only = not text and bool(html_parts)
    if html_only:
        text = "\n\n".join(html_to_text(h) for h in html_parts)
    message_id = (_ids(msg.get("Message-ID")) or [""])[0]
    if not message_id:
        message_id = f"<{hashlib.sha256(raw).hexdigest()[:40]}@no-message-id.kehu.invalid>"
    date = None
    if msg.get("Date"):
        try:
            date = email.utils.parsedate_to_datetime(_raw_header_text(msg["Date"]))
        except (TypeError, ValueError, IndexError):
            date = None
        if date is not None and date.tzinfo is None:
            date = date.replace(tzinfo=UTC)
    senders = _addresses(msg, "From") or _addresses(msg, "Sender")
    auto = (msg.get("Auto-Submitted") or "no").strip().lower() != "no" or (
        msg.get("Precedence") or ""
    ).strip().lower() in ("bulk", "junk", "list")
    return ParsedMail(
        message_id=message_id,
        in_reply_to=(_ids(msg.get("In-Reply-To")) or [""])[0],
        references=_ids(msg.get("References")),
        subject=decode_header(msg.get("Subject")),
        sender=senders[0] if senders else None,
        to=_addresses(msg, "To"),
        cc=_addresses(msg, "Cc"),
        date=date,
        text=text.replace("\r\n", "\n"),
        html_only=html_only,
        attachments=attachments,
        auto_submitted=auto,
    )


# --- IMAP -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    ssl: bool
    username: str
    password: str
    folder: str = "INBOX"
    timeout: float = 30.0


@dataclass(frozen=True)
class FetchedMessage:
    uid: int
    internal_date: datetime | None
    raw: bytes


@dataclass(frozen=True)
class ImapBatch:
    uidvalidity: int
    messages: list[FetchedMessage]
    more: bool  # more new messages wait beyond this batch


_FETCH_HEAD = re.compile(rb"UID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _internal_date(head: bytes) -> datetime | None:
    found = _INTERNALDATE.search(head)
    if not found:
        return None
    try:
        return datetime.strptime(found.group(1).decode(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


def imap_fetch_new(
    account: ImapAccount, *, after_uid: int, uidvalidity: int | None, limit: int = 200
) -> ImapBatch:
    """Messages of ``account.folder`` with a UID above ``after_uid`` (all of them when the folder's
    UIDVALIDITY is not ``uidvalidity`` any more: the old UIDs mean nothing then), oldest first, at most
    ``limit``. Read-only: flags (\\Seen) are left as they are, so people reading the same mailbox in their
    own client see no change."""
    try:
        client: imaplib.IMAP4 = (
            imaplib.IMAP4_SSL(account.host, account.port, timeout=account.timeout)
            if account.ssl
            else imaplib.IMAP4(account.host, account.port, timeout=account.timeout)
        )
    except (OSError, imaplib.IMAP4.error) as exc:
        raise MailTransportError(f"IMAP {account.host}:{account.port}: {exc}") from exc
    try:
        try:
            client.login(account.username, account.password)
        except imaplib.IMAP4.error as exc:
            raise MailTransportError(f"IMAP login refused for {account.username}: {exc}") from exc
        status, _data = client.select(_quote(account.folder), readonly=True)
        if status != "OK":
            raise MailTransportError(f"IMAP folder {account.folder!r} cannot be opened")
        validity_raw = client.response("UIDVALIDITY")[1]
        current_validity = int(validity_raw[0]) if validity_raw and validity_raw[0] else 0
        start = after_uid if uidvalidity == current_validity else 0
        status, data = client.uid("SEARCH", f"UID {start + 1}:*")
        if status != "OK":
            raise MailTransportError("IMAP UID SEARCH failed")
        # "n:*" always matches the last message, even below n: keep only the new ones.
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > start)
        chosen = uids[:limit]
        messages: list[FetchedMessage] = []
        for uid in chosen:
            status, parts = client.uid("FETCH", str(uid), "(UID INTERNALDATE BODY.PEEK[])")
            if status != "OK":
                raise MailTransportError(f"IMAP FETCH of UID {uid} failed")
            for part in parts:
                if isinstance(part, tuple) and len(part) == 2:
                    head, body = part
                    found = _FETCH_HEAD.search(head)
                    if found and int(found.group(1)) == uid:
                        messages.append(FetchedMessage(uid=uid, internal_date=_internal_date(head), raw=body))
        return ImapBatch(uidvalidity=current_validity, messages=messages, more=len(uids) > len(chosen))
    except (TimeoutError, OSError, imaplib.IMAP4.error) as exc:
        raise MailTransportError(f"IMAP {account.host}:{account.port}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _quote(folder: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9_./-]+", folder):
        return folder
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --- SMTP -----------------------------------------------------------------------------------------


def make_message_id(domain: str) -> str:
    return email.utils.make_msgid(domain=domain or "kehu.localdomain")


def smtp_send(
    *,
    from_address: str,
    from_name: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
    subject: str,
    text: str,
    message_id: str,
    in_reply_to: str = "",
    references: Sequence[str] = (),
    attachments: Sequence[tuple[str, bytes, str]] = (),
) -> bytes:
    """Send one plain-text message through Django's e-mail backend (``KEHU_MAIL_BACKEND``, SMTP by
    default, configured by ``KEHU_SMTP_*``). Returns the bytes sent. Raises ``MailTransportError``."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection

    headers = {"Message-ID": message_id}
    if in_reply_to:
        headers["In-Reply-To"] = in_reply_to
    if references:
        headers["References"] = " ".join(references)
    sender = email.utils.formataddr((from_name, from_address)) if from_name else from_address
    message = EmailMessage(
        subject=subject, body=text, from_email=sender, to=list(to), cc=list(cc), headers=headers
    )
    message.encoding = "utf-8"
    for name, data, content_type in attachments:
        message.attach(name, data, content_type)
    try:
        connection = get_connection(settings.KEHU_MAIL_BACKEND, fail_silently=False)
        sent = connection.send_messages([message])
    except Exception as exc:  # smtplib errors, refused connections, TLS failures
        raise MailTransportError(f"SMTP: {exc}") from exc
    if sent != 1:
        raise MailTransportError("SMTP: the message was not accepted")
    return bytes(message.message().as_bytes())
