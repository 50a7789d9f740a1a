"""Mailboxes (ENG-5): their settings (``mail.manage``), the HTTP inbound token, and fetching over IMAP —
``mailbox_fetch_all`` is what ``kehu fetchmail`` and the periodic job run. Each fetched message goes
through ``services.mail_receive``."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.events import diff, emit
from kehu.integrations import mail as transport

from ..events import mail_event as _event
from .models import Mailbox
from .services import mail_receive

TOKEN_PREFIX = "kmb_"
MAILBOX_FIELDS = {
    "name", "address", "imap_host", "imap_port", "imap_ssl", "imap_username", "imap_password",
    "imap_folder", "owner", "team", "is_active",
}  # fmt: skip

# --- mailboxes ------------------------------------------------------------------------------------


def _clean_mailbox(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    from django.core.validators import validate_email

    unknown = sorted(set(data) - MAILBOX_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("请填写邮箱名称"), field="name")
        out["name"] = name[:60]
    if "address" in data or not partial:
        address = str(data.get("address") or "").strip().lower()
        try:
            validate_email(address)
        except Exception as exc:
            raise ValidationError(_("邮箱地址“%(v)s”无效"), field="address", params={"v": address}) from exc
        out["address"] = address
    for key, limit in (("imap_host", 200), ("imap_username", 200), ("imap_folder", 200)):
        if key in data:
            out[key] = str(data.get(key) or "").strip()[:limit]
    if "imap_folder" in out and not out["imap_folder"]:
        out["imap_folder"] = "INBOX"
    if "imap_password" in data and data["imap_password"] not in (None, ""):
        # An empty password in an edit means "keep the stored one" (it is never shown back).
        out["imap_password"] = str(data["imap_password"])[:200]
    if "imap_port" in data:
        try:
            port = int(data["imap_port"])
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("IMAP 端口必须是 1–65535 之间的整数"), field="imap_port") from exc
        if not 1 <= port <= 65535:
            raise ValidationError(_("IMAP 端口必须是 1–65535 之间的整数"), field="imap_port")
        out["imap_port"] = port
    for key in ("imap_ssl", "is_active"):
        if key in data:
            out[key] = bool(data[key])
    if "owner" in data:
        owner_id = data["owner"]
        owner = None
        if owner_id not in (None, ""):
            owner = User.objects.filter(pk=_int(owner_id, "owner"), is_active=True).first()
            if owner is None:
                raise ValidationError(_("负责人不存在或已停用"), field="owner")
        out["owner"] = owner
    if "team" in data:
        team_id = data["team"]
        team = None
        if team_id not in (None, ""):
            team = Department.objects.filter(pk=_int(team_id, "team")).first()
            if team is None:
                raise ValidationError(_("团队（部门）不存在"), field="team")
        out["team"] = team
    host = out.get("imap_host")
    if host and not partial and not out.get("imap_username"):
        raise ValidationError(_("填写了 IMAP 服务器时也要填写 IMAP 用户名"), field="imap_username")
    return out


def _int(value: Any, field_name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("%(f)s 必须是数字ID"), field=field_name, params={"f": field_name}) from exc


def _mailbox_snapshot(mailbox: Mailbox) -> dict[str, Any]:
    return {
        "name": mailbox.name,
        "address": mailbox.address,
        "imap_host": mailbox.imap_host,
        "imap_port": mailbox.imap_port,
        "imap_ssl": mailbox.imap_ssl,
        "imap_username": mailbox.imap_username,
        "imap_folder": mailbox.imap_folder,
        "owner": mailbox.owner.label if mailbox.owner_id and mailbox.owner else None,
        "team": mailbox.team.name if mailbox.team_id and mailbox.team else None,
        "is_active": mailbox.is_active,
    }


@transaction.atomic
def mailbox_create(*, data: dict[str, Any], by: User) -> Mailbox:
    """A mailbox to read (``mail.manage``). The IMAP password is stored, never shown back."""
    require(by, Perm.MAIL_MANAGE)
    cleaned = _clean_mailbox(data, partial=False)
    if Mailbox.objects.filter(name=cleaned["name"]).exists():
        raise ValidationError(_("邮箱“%(n)s”已存在"), field="name", params={"n": cleaned["name"]})
    mailbox = Mailbox.objects.create(**cleaned)
    changes = diff({}, _mailbox_snapshot(mailbox))
    if mailbox.imap_password:
        changes["imap_password"] = [None, "******"]
    emit(
        _event(
            "create",
            by=by,
            subject_type="mailbox",
            subject_id=mailbox.pk,
            label=mailbox.name,
            changes=changes,
        )
    )
    return mailbox


@transaction.atomic
def mailbox_update(*, mailbox_id: int, version: int | None, data: dict[str, Any], by: User) -> Mailbox:
    require(by, Perm.MAIL_MANAGE)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).select_related("owner", "team").first()
    if mailbox is None:
        raise NotFound(_("邮箱不存在"), field="id")
    cleaned = _clean_mailbox(data, partial=True)
    if "name" in cleaned and Mailbox.objects.filter(name=cleaned["name"]).exclude(pk=mailbox.pk).exists():
        raise ValidationError(_("邮箱“%(n)s”已存在"), field="name", params={"n": cleaned["name"]})
    before = _mailbox_snapshot(mailbox)
    old_password = mailbox.imap_password
    for key, value in cleaned.items():
        setattr(mailbox, key, value)
    if {"imap_host", "imap_username", "imap_folder"} & {k for k in cleaned if cleaned[k] != before.get(k)}:
        # Another server or folder: its UIDs are not the old ones.
        mailbox.uidvalidity, mailbox.last_uid = None, 0
        cleaned["uidvalidity"], cleaned["last_uid"] = None, 0
    mailbox.save_versioned(expected_version=version, fields=list(cleaned))
    changes = diff(before, _mailbox_snapshot(mailbox))
    if mailbox.imap_password != old_password:
        changes["imap_password"] = ["******", "******（已更换）"]
    if changes:
        emit(
            _event(
                "update",
                by=by,
                subject_type="mailbox",
                subject_id=mailbox.pk,
                label=mailbox.name,
                changes=changes,
            )
        )
    return mailbox


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def mailbox_token_rotate(*, mailbox_id: int, by: User) -> str:
    """A new token for the HTTP inbound endpoint (the old one stops working); returned once."""
    require(by, Perm.MAIL_MANAGE)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("邮箱不存在"), field="id")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    Mailbox.objects.filter(pk=mailbox.pk).update(token_hash=_token_hash(token), updated_at=timezone.now())
    emit(_event("token", by=by, subject_type="mailbox", subject_id=mailbox.pk, label=mailbox.name))
    return token


def mailbox_for_token(token: str) -> Mailbox | None:
    """The active mailbox a token belongs to (the HTTP inbound endpoint's authentication)."""
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    digest = _token_hash(token)
    mailbox = Mailbox.objects.filter(token_hash=digest, is_active=True).first()
    if mailbox is None or not secrets.compare_digest(mailbox.token_hash, digest):
        return None
    return mailbox


@dataclass
class FetchResult:
    mailbox: str
    fetched: int = 0
    stored: int = 0
    error: str = ""


@dataclass
class FetchAllResult:
    results: list[FetchResult] = field(default_factory=list)

    @property
    def stored(self) -> int:
        return sum(r.stored for r in self.results)

    @property
    def failed(self) -> list[FetchResult]:
        return [r for r in self.results if r.error]


def _account(mailbox: Mailbox) -> transport.ImapAccount:
    return transport.ImapAccount(
        host=mailbox.imap_host, port=mailbox.imap_port, ssl=mailbox.imap_ssl, username=mailbox.imap_username,
        password=mailbox.imap_password, folder=mailbox.imap_folder or "INBOX",
    )  # fmt: skip


def _fetch(mailbox: Mailbox, *, by: User | None) -> FetchResult:
    result = FetchResult(mailbox=mailbox.name)
    more = True
    while more:
        try:
            batch = transport.imap_fetch_new(
                _account(mailbox), after_uid=mailbox.last_uid, uidvalidity=mailbox.uidvalidity
            )
        except transport.MailTransportError as exc:
            result.error = str(exc)[:2000]
            Mailbox.objects.filter(pk=mailbox.pk).update(
                last_error=result.error, last_fetched_at=timezone.now()
            )
            return result
        more = batch.more and bool(batch.messages)
        for item in batch.messages:
            received = mail_receive(
                raw=item.raw, mailbox=mailbox, received_at=item.internal_date, imap_uid=item.uid,
                uidvalidity=batch.uidvalidity,
            )  # fmt: skip
            result.fetched += 1
            result.stored += int(received.created)
            # The mark moves after each stored message: an interrupted fetch resumes where it stopped.
            mailbox.last_uid, mailbox.uidvalidity = item.uid, batch.uidvalidity
            Mailbox.objects.filter(pk=mailbox.pk).update(last_uid=item.uid, uidvalidity=batch.uidvalidity)
        if not batch.messages:
            mailbox.uidvalidity = batch.uidvalidity
            Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=batch.uidvalidity)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_error="", last_fetched_at=timezone.now())
    if by is not None and result.stored:
        emit(_event("fetch", by=by, subject_type="mailbox", subject_id=mailbox.pk, label=mailbox.name,
                    changes={"stored": [None, result.stored]}))  # fmt: skip
    return result


def mailbox_fetch(*, mailbox_id: int, by: User | None = None) -> FetchResult:
    """Fetch one mailbox's new messages over IMAP now (a person with ``mail.manage``, or a job)."""
    if by is not None:
        require(by, Perm.MAIL_MANAGE)
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        raise NotFound(_("邮箱不存在"), field="id")
    if not mailbox.polls:
        raise ValidationError(
            _("邮箱“%(n)s”未启用或没有设置 IMAP 服务器"), field="imap_host", params={"n": mailbox.name}
        )
    return _fetch(mailbox, by=by)


def mailbox_fetch_all(*, name: str | None = None, by: User | None = None) -> FetchAllResult:
    """Fetch every active IMAP mailbox (or the one named): what ``kehu fetchmail`` and the periodic
    job run. One mailbox failing does not stop the others; its error is kept on the mailbox."""
    if by is not None:
        require(by, Perm.MAIL_MANAGE)
    boxes = Mailbox.objects.filter(is_active=True).exclude(imap_host="").exclude(imap_username="")
    if name is not None:
        boxes = Mailbox.objects.filter(name=name)
        if not boxes.exists():
            raise NotFound(_("邮箱“%(n)s”不存在"), field="mailbox", params={"n": name})
        if not boxes.first().polls:  # type: ignore[union-attr]
            raise ValidationError(
                _("邮箱“%(n)s”未启用或没有设置 IMAP 服务器"), field="mailbox", params={"n": name}
            )
    out = FetchAllResult()
    for mailbox in boxes.order_by("name"):
        out.results.append(_fetch(mailbox, by=by))
    return out
