"""The public lead capture (SAL-1): web forms on our website post inquiries without signing in.

What keeps robots and floods out, all without an outside service:

- the form's **token** (``LeadForm``): unknown or deactivated → 404;
- a **honeypot** field (``url``) hidden from people: filled in → accepted silently, nothing stored;
- a **minimum fill time**: the form page carries a signed stamp of when it was served; a post sooner
  than the form's ``min_seconds`` after it is dropped silently like the honeypot, a missing, forged or
  day-old stamp is refused (field ``stamp``);
- **rate limits** per IP and per form over a sliding window, counted in ``CaptureAttempt`` rows like
  the log-in throttling counts ``LoginAttempt`` rows → 429.

Silently dropping (instead of an error) gives a robot nothing to learn from.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import NotFound, RateLimited, ValidationError

from .choices import LeadChannel
from .models import CaptureAttempt, Lead, LeadForm
from .services import _write_lead
from .validation import clean_lead

STAMP_SALT = "kehu.leads.capture"
STAMP_MAX_AGE = 24 * 3600
HONEYPOT = "url"
CAPTURE_FIELDS = {
    "company_name", "contact_name", "mobile", "phone", "email", "wechat", "website", "province", "city",
    "content", "delivery", "samples_requested", "lines",
}  # fmt: skip


def _limits() -> tuple[int, int, int]:
    """(posts per IP, posts per form, window seconds); settings may change them."""
    return (
        int(getattr(settings, "KEHU_LEAD_CAPTURE_PER_IP", 5)),
        int(getattr(settings, "KEHU_LEAD_CAPTURE_PER_FORM", 300)),
        int(getattr(settings, "KEHU_LEAD_CAPTURE_WINDOW_SECONDS", 600)),
    )


def capture_form_for(token: str) -> LeadForm:
    """The active form a public token names; anything else looks like nothing at all (404)."""
    form = (
        LeadForm.objects.select_related("source").filter(token=str(token or "")[:40], is_active=True).first()
    )
    if form is None:
        raise NotFound(_("表单不存在或已停用"), field="token", code="form_not_found")
    return form


def capture_stamp(form: LeadForm, *, now: float | None = None) -> str:
    """A signed record of when the form was served, for the minimum fill time."""
    return signing.dumps({"f": form.pk, "t": now if now is not None else time.time()}, salt=STAMP_SALT)


def _stamp_age(form: LeadForm, stamp: str) -> float:
    try:
        value = signing.loads(stamp or "", salt=STAMP_SALT, max_age=STAMP_MAX_AGE)
    except signing.BadSignature:
        raise ValidationError(
            _("表单已过期，请刷新页面后重新提交"), field="stamp", code="bad_stamp"
        ) from None
    if not isinstance(value, dict) or value.get("f") != form.pk:
        raise ValidationError(_("表单已过期，请刷新页面后重新提交"), field="stamp", code="bad_stamp")
    return time.time() - float(value.get("t", 0))


def _throttle(form: LeadForm, ip: str | None) -> None:
    per_ip, per_form, window = _limits()
    since = timezone.now() - timedelta(seconds=window)
    recent = CaptureAttempt.objects.filter(at__gte=since)
    if (ip and recent.filter(ip=ip).count() >= per_ip) or recent.filter(form=form).count() >= per_form:
        raise RateLimited(
            _("提交过于频繁，请 %(m)s 分钟后再试"), field=None, params={"m": max(window // 60, 1)}
        )


@dataclass(frozen=True)
class Captured:
    """What a post came to: the lead, or None when it was dropped as a robot's (honeypot, too fast)."""

    lead: Lead | None
    form: LeadForm


def lead_capture(
    *, token: str, data: dict[str, Any], ip: str | None, stamp: str, honeypot: str = ""
) -> Captured:
    """Store a lead posted to a public web form (SAL-1): see the module docstring for the guards.
    The lead goes to the form's default owner, or to the lead pool, with the form's source; it is
    scored like any other lead (SAL-2)."""
    form = capture_form_for(token)
    _throttle(form, ip)
    # Counted before anything else can fail: a flood of bad posts is throttled too. Outside the lead's
    # transaction on purpose, so a refused post still counts.
    attempt = CaptureAttempt.objects.create(form=form, ip=ip)
    CaptureAttempt.objects.filter(at__lt=timezone.now() - timedelta(days=1)).delete()
    age = _stamp_age(form, stamp)
    if (honeypot or "").strip() or age < form.min_seconds:
        return Captured(lead=None, form=form)
    unknown = sorted(set(data) - CAPTURE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    cleaned = clean_lead({**data, "source": form.source})
    with transaction.atomic():
        lead = _write_lead(
            cleaned=cleaned, channel=LeadChannel.WEB_FORM, owner=form.owner, by=None, form=form
        )
    CaptureAttempt.objects.filter(pk=attempt.pk).update(accepted=True)
    return Captured(lead=lead, form=form)
