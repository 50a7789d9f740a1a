"""Writes of leads (SAL-1, SAL-2, CUS-4): every one opens with ``require`` and ends with an event.

Conversion creates customer + contact + opportunity through the customers and pipeline services in
one transaction, after the duplicate check (查重, CUS-5); a refused conversion writes nothing. A lead
flagged by the risk check cannot be converted nor have samples sent until a lead manager clears it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.access.selectors import user_get_active
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import diff, emit
from kehu.core.identity import normalize_mobile, normalize_phone
from kehu.core.sequences import next_values
from kehu.customers import services as customer_services
from kehu.customers.dedupe import find_duplicates
from kehu.customers.errors import DuplicateFound
from kehu.customers.models import Contact
from kehu.customers.selectors import customer_get
from kehu.notifications.services import notify_handover

from ..services import opportunity_create
from . import risk
from .choices import LEAD_TRANSITIONS, DiscardReason, LeadChannel, LeadStatus
from .events import LeadChanged, LeadSettingsChanged
from .models import Lead, LeadForm, LeadLine, RiskRule
from .rules import lead_search_text
from .validation import clean_lead, source_option

AUDITED = ["company_name", "contact_name", "mobile", "phone", "email", "wechat", "website", "province", "city",
           "content", "delivery", "samples_requested", "source"]  # fmt: skip


def _event(by: User | None, verb: str, lead: Lead, changes: dict[str, Any] | None = None) -> LeadChanged:
    return LeadChanged(
        actor_id=by.pk if by else None, verb=verb, subject_type="lead", subject_id=lead.pk,
        subject_label=str(lead)[:200], customer_id=lead.converted_customer_id, changes=changes or {},
    )  # fmt: skip


def _settings_event(by: User, verb: str, subject: Any, changes: dict[str, Any] | None = None) -> Any:
    return LeadSettingsChanged(
        actor_id=by.pk, verb=verb, subject_type=type(subject).__name__.lower(), subject_id=subject.pk,
        subject_label=str(subject)[:200], changes=changes or {},
    )  # fmt: skip


def _snapshot(lead: Lead) -> dict[str, Any]:
    out = {f: getattr(lead, f) for f in AUDITED if f != "source"}
    out["source"] = str(lead.source) if lead.source_id else None
    out["lines"] = [
        f"{ln.product.code} × {ln.quantity} {ln.unit}" for ln in lead.lines.select_related("product")
    ]
    return out


def _refresh_search(lead: Lead) -> None:
    lead.search_text = lead_search_text(
        code=lead.code, company_name=lead.company_name, contact_name=lead.contact_name, mobile=lead.mobile,
        phone=lead.phone, email=lead.email, wechat=lead.wechat,
    )  # fmt: skip


def _set_lines(lead: Lead, lines: list[dict[str, Any]]) -> None:
    LeadLine.objects.filter(lead=lead).delete()
    LeadLine.objects.bulk_create([LeadLine(lead=lead, **line) for line in lines])


def _tell_owner(lead: Lead, by: User | None) -> None:
    """The new owner learns of a lead someone else (a colleague, a web form, an import) gave them."""
    if lead.owner is None:
        return
    notify_handover(
        recipient=lead.owner, by=by, kind="lead", key=f"lead:{lead.pk}:{lead.owner_id}",
        title=_("新线索：%(n)s") % {"n": lead.display_name}, url=reverse("sales:lead_detail", args=[lead.pk]),
    )  # fmt: skip


def _user(value: Any, *, field: str) -> User:
    if isinstance(value, User):
        if not value.is_active:
            raise ValidationError(_("用户不存在或已停用"), field=field)
        return value
    return user_get_active(user_id=value, field=field)


def _transition(lead: Lead, verb: str) -> str:
    sources, target = LEAD_TRANSITIONS[verb]
    if lead.status not in sources:
        raise Conflict(
            _("线索当前状态为“%(s)s”，不能执行此操作"), field="status", code="invalid_transition",
            params={"s": lead.get_status_display()},
        )  # fmt: skip
    return target


def _lead(lead_id: int, by: User, *, lock: bool = True) -> Lead:
    query = Lead.objects.visible_to(by).filter(pk=lead_id)
    lead = (query.select_for_update(of=("self",)) if lock else query).first()
    if lead is None:
        raise NotFound(_("线索不存在或您无权查看"), field="id", code="lead_not_found")
    return lead


def _editable(lead_id: int, by: User) -> Lead:
    """A lead the actor may work on: their own or a subordinate's (scope); a pool lead only for a lead
    manager — anyone else claims it first."""
    lead = _lead(lead_id, by)
    if lead.owner_id is None and not can(by, Perm.LEAD_MANAGE):
        raise PermissionDenied(_("这条线索在线索池中，请先领取"), field="owner", code="lead_in_pool")
    return lead


def _check_version(lead: Lead, version: int | None) -> None:
    if version is not None and version != lead.version:
        raise Conflict(
            _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version", code="stale_version", params={"version": version},
        )  # fmt: skip


def _write_lead(
    *,
    cleaned: dict[str, Any],
    channel: str,
    owner: User | None,
    by: User | None,
    form: LeadForm | None = None,
    mail_thread_id: int | None = None,
) -> Lead:
    """Write a lead from already cleaned values, score it and emit its event. The callers (create,
    capture, mail, import) have done their own permission checks — this is no entry point."""
    lines = cleaned.pop("lines", [])
    (number,) = next_values("lead")
    lead = Lead(
        code=f"XS{number:08d}", channel=channel, owner=owner, owner_since=timezone.now() if owner else None,
        created_by=by, form=form, mail_thread_id=mail_thread_id, **cleaned,
    )  # fmt: skip
    _refresh_search(lead)
    lead.save()
    _set_lines(lead, lines)
    risk.rescore(lead)
    changes = diff({}, _snapshot(lead))
    changes["owner"] = [None, str(owner) if owner else None]
    changes["risk_score"] = [None, lead.risk_score]
    emit(_event(by, "create" if channel != LeadChannel.WEB_FORM else "capture", lead, changes))
    _tell_owner(lead, by)
    return lead


@transaction.atomic
def lead_create(*, data: dict[str, Any], by: User, channel: str = LeadChannel.MANUAL) -> Lead:
    """Enter a lead (SAL-1). It belongs to the actor unless ``owner`` says otherwise: another user
    (lead managers only) or nobody (``None`` / "" — the lead pool, for those who hand leads on)."""
    require(by, Perm.LEAD_EDIT)
    data = dict(data)
    owner: User | None = by
    if "owner" in data:
        given = data.pop("owner")
        owner = None if given in (None, "") else _user(given, field="owner")
        if owner is not None and owner.pk != by.pk and not can(by, Perm.LEAD_MANAGE):
            raise PermissionDenied(_("您不能把线索分配给他人"), field="owner")
    if channel not in (LeadChannel.MANUAL, LeadChannel.API):
        raise ValidationError(_("渠道“%(v)s”无效"), field="channel", params={"v": channel})
    cleaned = clean_lead(data)
    return _write_lead(cleaned=cleaned, channel=channel, owner=owner, by=by)


@transaction.atomic
def lead_update(*, lead_id: int, version: int | None, data: dict[str, Any], by: User) -> Lead:
    """Edit an open lead; the risk score is computed again (SAL-2)."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    if not lead.is_open:
        raise Conflict(_("已转化或已放弃的线索不能修改"), field="status", code="lead_closed")
    _check_version(lead, version)
    cleaned = clean_lead(data, partial=True)
    if not any(cleaned.get(k, getattr(lead, k)) for k in ("mobile", "phone", "email", "wechat")):
        raise ValidationError(_("请至少留下手机、电话、邮箱或微信中的一项"), field="mobile")
    before = _snapshot(lead)
    lines = cleaned.pop("lines", None)
    for key, value in cleaned.items():
        setattr(lead, key, value)
    _refresh_search(lead)
    lead.updated_at = timezone.now()
    lead.save_versioned(expected_version=lead.version, fields=[*cleaned, "search_text", "updated_at"])
    if lines is not None:
        _set_lines(lead, lines)
    old_score = lead.risk_score
    risk.rescore(lead)
    changes = diff(before, _snapshot(lead))
    if lead.risk_score != old_score:
        changes["risk_score"] = [old_score, lead.risk_score]
    emit(_event(by, "update", lead, changes))
    return lead


@transaction.atomic
def lead_claim(*, lead_id: int, by: User) -> Lead:
    """Take a lead from the lead pool (first come, first served)."""
    require(by, Perm.LEAD_EDIT)
    lead = _lead(lead_id, by)
    if lead.owner_id is not None:
        raise Conflict(_("这条线索已被领取"), field="owner", code="already_claimed")
    if not lead.is_open:
        raise Conflict(_("已转化或已放弃的线索不能领取"), field="status", code="lead_closed")
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk, owner__isnull=True).update(owner=by, owner_since=now, updated_at=now)
    lead.owner, lead.owner_since = by, now
    emit(_event(by, "claim", lead, {"owner": [None, str(by)]}))
    return lead


@transaction.atomic
def lead_assign(*, lead_id: int, to_user: Any, by: User) -> Lead:
    """A lead manager gives a lead (from the pool or from someone) to a user."""
    require(by, Perm.LEAD_MANAGE)
    lead = _lead(lead_id, by)
    user = _user(to_user, field="to_user")
    if not can(user, Perm.LEAD_EDIT):
        raise ValidationError(_("%(u)s 没有处理线索的权限"), field="to_user", params={"u": user.label})
    if not lead.is_open:
        raise Conflict(_("已转化或已放弃的线索不能分配"), field="status", code="lead_closed")
    before = str(lead.owner) if lead.owner_id else None
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(owner=user, owner_since=now, updated_at=now)
    lead.owner, lead.owner_since = user, now
    emit(_event(by, "assign", lead, {"owner": [before, str(user)]}))
    _tell_owner(lead, by)
    return lead


@transaction.atomic
def lead_release(*, lead_id: int, reason: str = "", by: User) -> Lead:
    """Return a lead to the lead pool for someone else to pick up."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    if lead.owner_id is None:
        raise Conflict(_("这条线索已在线索池中"), field="owner", code="already_in_pool")
    if lead.owner_id != by.pk and not can(by, Perm.LEAD_MANAGE):
        raise PermissionDenied(_("只能退回自己的线索"), field="owner")
    if not lead.is_open:
        raise Conflict(_("已转化或已放弃的线索不能退回线索池"), field="status", code="lead_closed")
    before = str(lead.owner)
    Lead.objects.filter(pk=lead.pk).update(owner=None, owner_since=None, updated_at=timezone.now())
    lead.owner = None
    emit(_event(by, "release", lead, {"owner": [before, None], "reason": [None, (reason or "")[:200]]}))
    return lead


def _move(lead: Lead, verb: str, by: User, extra: dict[str, Any] | None = None) -> Lead:
    target = _transition(lead, verb)
    before = lead.status
    fields = {"status": target, "updated_at": timezone.now(), **(extra or {})}
    for key, value in fields.items():
        setattr(lead, key, value)
    lead.save_versioned(expected_version=lead.version, fields=list(fields))
    changes = {"status": [before, target], **{k: [None, str(v)] for k, v in (extra or {}).items() if v}}
    emit(_event(by, verb, lead, changes))
    return lead


@transaction.atomic
def lead_screen(*, lead_id: int, version: int | None = None, by: User) -> Lead:
    """Start the initial screening (初步筛选, CUS-4): 待筛选 → 筛选中."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    _check_version(lead, version)
    return _move(lead, "screen", by)


@transaction.atomic
def lead_qualify(*, lead_id: int, version: int | None = None, by: User) -> Lead:
    """The lead passed screening (CUS-4): a real need worth an opportunity."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    _check_version(lead, version)
    return _move(lead, "qualify", by)


@transaction.atomic
def lead_discard(*, lead_id: int, reason: str, note: str = "", version: int | None = None, by: User) -> Lead:
    """Discard a lead with a reason from the list; "other" needs a written note (SAL-1)."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    _check_version(lead, version)
    reason = (reason or "").strip()
    note = (note or "").strip()
    if not reason:
        raise ValidationError(_("请选择放弃原因"), field="reason")
    if reason not in DiscardReason.values:
        raise ValidationError(_("放弃原因“%(v)s”无效"), field="reason", params={"v": reason})
    if reason == DiscardReason.OTHER and not note:
        raise ValidationError(_("放弃原因为“其他”时请填写说明"), field="note")
    if len(note) > 2000:
        raise ValidationError(_("说明不能超过 2000 个字符"), field="note")
    return _move(lead, "discard", by, {"discard_reason": reason, "discard_note": note})


@transaction.atomic
def lead_review_clear(*, lead_id: int, comment: str, by: User) -> Lead:
    """A lead manager checked a flagged lead and clears it (SAL-2): conversion and samples may go on.
    The comment says what was checked; the cleared score is kept, a higher one flags the lead again."""
    require(by, Perm.LEAD_MANAGE)
    lead = _lead(lead_id, by)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError(_("请填写审核意见"), field="comment")
    if not lead.flagged_for_review:
        raise Conflict(_("这条线索不需要风险审核"), field="flagged_for_review", code="not_flagged")
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(
        flagged_for_review=False, reviewed_by=by, reviewed_at=now, review_comment=comment[:2000],
        reviewed_score=lead.risk_score, updated_at=now,
    )  # fmt: skip
    lead.refresh_from_db()
    emit(_event(by, "review", lead, {"flagged_for_review": [True, False], "comment": [None, comment[:200]]}))
    return lead


def _not_held(lead: Lead) -> None:
    if lead.flagged_for_review:
        raise Conflict(
            _("该线索风险分 %(s)s 分，已标记为疑似虚假询盘，需线索管理员审核通过后才能继续"),
            field="flagged_for_review", code="risk_review_required", params={"s": lead.risk_score},
        )  # fmt: skip


@transaction.atomic
def lead_samples_send(*, lead_id: int, by: User) -> Lead:
    """Record that the requested samples went out — refused while the lead is held for review (SAL-2)."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    _not_held(lead)
    if not lead.is_open:
        raise Conflict(_("已转化或已放弃的线索不能寄样"), field="status", code="lead_closed")
    if lead.samples_sent_at is not None:
        raise Conflict(_("样品已寄出"), field="samples_sent_at", code="samples_already_sent")
    now = timezone.now()
    Lead.objects.filter(pk=lead.pk).update(samples_sent_at=now, updated_at=now)
    lead.samples_sent_at = now
    emit(_event(by, "samples_sent", lead, {"samples_sent_at": [None, now.isoformat()]}))
    return lead


def _valid_mobile(value: str) -> str:
    try:
        return normalize_mobile(value)
    except ValidationError:
        return ""


def _valid_phone(value: str) -> str:
    try:
        return normalize_phone(value)
    except ValidationError:
        return ""


def _customer_data(lead: Lead) -> dict[str, Any]:
    data: dict[str, Any] = {
        "kind": "company" if lead.company_name else "individual",
        "name": lead.company_name or lead.contact_name,
        "source": lead.source,
        "source_detail": str(_("线索 %(c)s") % {"c": lead.code}),
        "needs": lead.content[:2000],
        "province": lead.province,
        "city": lead.city,
        "website": lead.website,
        "screened": True,  # the lead passed the initial screening (CUS-4)
    }
    if not lead.company_name:
        data.update(mobile=_valid_mobile(lead.mobile), phone=_valid_phone(lead.phone), email=lead.email,
                    wechat=lead.wechat)  # fmt: skip
    return {k: v for k, v in data.items() if v not in ("", None)}


def _contact_for(customer_id: int, lead: Lead, by: User) -> Contact:
    mobile = _valid_mobile(lead.mobile)
    existing = Contact.objects.filter(customer_id=customer_id, deleted_at__isnull=True)
    match = None
    if mobile:
        match = existing.filter(mobile=mobile).first()
    if match is None and lead.email:
        match = existing.filter(email__iexact=lead.email).first()
    if match is not None:
        return match
    data = {"name": lead.contact_name, "mobile": mobile, "phone": _valid_phone(lead.phone), "email": lead.email,
            "wechat": lead.wechat}  # fmt: skip
    return customer_services.contact_create(
        customer_id=customer_id, data={k: v for k, v in data.items() if v}, by=by
    )


@transaction.atomic
def lead_convert(
    *,
    lead_id: int,
    by: User,
    customer_id: int | None = None,
    confirm_new: bool = False,
    opportunity_name: str = "",
    amount: Any = None,
    version: int | None = None,
) -> Lead:
    """Convert a lead in one step into customer + contact + opportunity (SAL-1).

    The duplicate check (查重, CUS-5) runs first: with likely duplicates and neither ``customer_id``
    (attach the lead to that existing customer) nor ``confirm_new`` the conversion is refused with the
    matches (``DuplicateFound``). A lead held for risk review (SAL-2), a pool lead, or an actor lacking
    any of the permissions involved (customer create/edit, opportunity edit) is refused as well — all
    inside one transaction, so a refused conversion writes nothing."""
    require(by, Perm.LEAD_EDIT)
    lead = _editable(lead_id, by)
    _check_version(lead, version)
    _transition(lead, "convert")
    status_before = lead.status
    if lead.owner_id is None:
        raise PermissionDenied(_("这条线索在线索池中，请先领取"), field="owner", code="lead_in_pool")
    _not_held(lead)
    owner = lead.owner
    assert owner is not None
    if customer_id:
        customer = customer_get(actor=by, customer_id=customer_id)
    else:
        matches = find_duplicates(
            actor=by, name=lead.company_name or lead.contact_name, mobile=_valid_mobile(lead.mobile)
        )
        if matches and not confirm_new:
            raise DuplicateFound(matches, blocking=False)
        data = _customer_data(lead)
        if owner.pk != by.pk:
            data["owner"] = owner
        customer = customer_services.customer_create(data=data, by=by, confirm_duplicates=True)
    contact = _contact_for(customer.pk, lead, by)
    estimated = sum((ln.amount for ln in lead.lines.select_related("product")), Decimal("0"))
    opportunity = opportunity_create(
        customer_id=customer.pk,
        name=(opportunity_name or "").strip() or str(_("%(n)s 的询盘") % {"n": lead.display_name})[:120],
        amount=estimated if amount in (None, "") else amount,
        description=lead.content[:4000],
        owner=owner,
        by=by,
    )
    now = timezone.now()
    lead.status = LeadStatus.CONVERTED
    lead.converted_customer, lead.converted_contact, lead.converted_opportunity = (
        customer,
        contact,
        opportunity,
    )
    lead.converted_at = lead.updated_at = now
    lead.save_versioned(
        expected_version=lead.version,
        fields=["status", "converted_customer", "converted_contact", "converted_opportunity", "converted_at",
                "updated_at"],
    )  # fmt: skip
    emit(
        _event(by, "convert", lead, {
            "status": [status_before, LeadStatus.CONVERTED], "customer": [None, customer.name],
            "contact": [None, contact.name], "opportunity": [None, opportunity.code],
        })
    )  # fmt: skip
    return lead


# --- settings: risk rules, threshold, capture forms ------------------------------------------------


@transaction.atomic
def risk_rule_update(*, rule_id: int, version: int | None, data: dict[str, Any], by: User) -> RiskRule:
    """Change a risk rule's points, parameters or active flag (SAL-2). Open leads keep their score
    until edited or rescored (``leads_rescore``)."""
    require(by, Perm.LEAD_MANAGE)
    rule = RiskRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("规则不存在"), field="id")
    unknown = sorted(set(data) - {"points", "params", "is_active"})
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    before = {"points": rule.points, "params": rule.params, "is_active": rule.is_active}
    if "points" in data:
        try:
            points = int(data["points"])
        except (TypeError, ValueError):
            raise ValidationError(_("分值必须是整数"), field="points") from None
        if not 0 <= points <= 1000:
            raise ValidationError(_("分值必须在 0 到 1000 之间"), field="points")
        rule.points = points
    if "params" in data:
        if not isinstance(data["params"], dict):
            raise ValidationError(_("参数必须是 JSON 对象"), field="params")
        rule.params = data["params"]
    if "is_active" in data:
        rule.is_active = bool(data["is_active"])
    rule.updated_at = timezone.now()
    rule.save_versioned(expected_version=version, fields=["points", "params", "is_active", "updated_at"])
    after = {"points": rule.points, "params": rule.params, "is_active": rule.is_active}
    emit(_settings_event(by, "update", rule, diff(before, after)))
    return rule


@transaction.atomic
def risk_threshold_update(*, threshold: Any, version: int | None = None, by: User) -> Any:
    """Set the score at which a lead is held for review (SAL-2)."""
    require(by, Perm.LEAD_MANAGE)
    settings_row = risk.risk_settings()
    try:
        value = int(threshold)
    except (TypeError, ValueError):
        raise ValidationError(_("审核阈值必须是整数"), field="threshold") from None
    if not 1 <= value <= 10000:
        raise ValidationError(_("审核阈值必须在 1 到 10000 之间"), field="threshold")
    before = settings_row.threshold
    settings_row.threshold = value
    settings_row.updated_at = timezone.now()
    settings_row.save_versioned(expected_version=version, fields=["threshold", "updated_at"])
    emit(_settings_event(by, "update", settings_row, {"threshold": [before, value]}))
    return settings_row


RESCORE_JOB = "leads.rescore"


def leads_rescore_start(*, by: User) -> Any:
    """Ask for every open lead to be scored again (after the rules or the threshold changed): a
    background job with progress (``leads_rescore``), since tens of thousands of open leads take longer
    than a request may. Refused while one is already waiting or running."""
    from kehu.jobs.models import Job
    from kehu.jobs.services import job_start

    require(by, Perm.LEAD_MANAGE)
    if Job.objects.filter(kind=RESCORE_JOB, status__in=("queued", "running")).exists():
        raise Conflict(_("线索正在重新评分，请等它完成"), field=None, code="rescore_running")
    return job_start(kind=RESCORE_JOB, by=by)


def leads_rescore(*, by: User, progress: Callable[[int, int], None] | None = None) -> int:
    """Score every open lead again with the current rules — the work of the job ``leads_rescore_start``
    queues. Returns how many leads were scored; each is its own small write, so a long run holds no
    long lock; ``progress(done, total)`` is told every 500 leads."""
    require(by, Perm.LEAD_MANAGE)
    count = 0
    open_ids = Lead.objects.filter(status__in=[LeadStatus.NEW, LeadStatus.SCREENING, LeadStatus.QUALIFIED])
    total = open_ids.count()
    for lead in open_ids.order_by("pk").iterator(chunk_size=500):
        with transaction.atomic():
            risk.rescore(lead)
        count += 1
        if progress is not None and count % 500 == 0:
            progress(count, total)
    if progress is not None:
        progress(count, max(total, count))
    settings_row = risk.risk_settings()
    emit(_settings_event(by, "rescore", settings_row, {"leads": [None, count]}))
    return count


def _clean_form(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - {"name", "source", "owner", "title", "thanks", "min_seconds", "is_active"})
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("请填写表单名称"), field="name")
        out["name"] = name[:60]
    if "source" in data:
        out["source"] = source_option(data.get("source"))
    if "owner" in data:
        out["owner"] = None if data["owner"] in (None, "") else _user(data["owner"], field="owner")
    for key, size in (("title", 120), ("thanks", 200)):
        if key in data:
            out[key] = str(data.get(key) or "").strip()[:size]
    if "min_seconds" in data:
        try:
            seconds = int(data["min_seconds"])
        except (TypeError, ValueError):
            raise ValidationError(_("最短填写时间必须是整数"), field="min_seconds") from None
        if not 0 <= seconds <= 600:
            raise ValidationError(_("最短填写时间必须在 0 到 600 秒之间"), field="min_seconds")
        out["min_seconds"] = seconds
    if "is_active" in data:
        out["is_active"] = bool(data["is_active"])
    return out


@transaction.atomic
def lead_form_create(*, data: dict[str, Any], by: User) -> LeadForm:
    """A new public capture form with its own token (SAL-1)."""
    require(by, Perm.LEAD_MANAGE)
    cleaned = _clean_form(data, partial=False)
    form = LeadForm.objects.create(token=secrets.token_urlsafe(18), **cleaned)
    emit(_settings_event(by, "create", form, {k: [None, str(v)] for k, v in cleaned.items()}))
    return form


@transaction.atomic
def lead_form_update(*, form_id: int, version: int | None, data: dict[str, Any], by: User) -> LeadForm:
    require(by, Perm.LEAD_MANAGE)
    form = LeadForm.objects.filter(pk=form_id).first()
    if form is None:
        raise NotFound(_("线索表单不存在"), field="id")
    cleaned = _clean_form(data, partial=True)
    before = {k: str(getattr(form, k)) for k in cleaned}
    for key, value in cleaned.items():
        setattr(form, key, value)
    form.updated_at = timezone.now()
    form.save_versioned(expected_version=version, fields=[*cleaned, "updated_at"])
    emit(_settings_event(by, "update", form, diff(before, {k: str(getattr(form, k)) for k in cleaned})))
    return form
