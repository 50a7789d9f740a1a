"""Reads of leads, always starting from ``Lead.objects.visible_to``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import NotFound, ValidationError
from kehu.core.pagination import Page, clean_filters, filter_id, paginate
from kehu.customers.dedupe import find_duplicates
from kehu.customers.rules import normalize_query

from .choices import LeadChannel, LeadStatus
from .models import Lead, LeadForm, RiskRule
from .risk import risk_settings

LEAD_FILTERS = frozenset({"status", "source", "owner", "pool", "flagged", "channel", "q", "mine"})
LEAD_SORTS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "risk_score": ("risk_score", "id"),
    "-risk_score": ("-risk_score", "-id"),
    "company_name": ("company_name", "id"),
    "-company_name": ("-company_name", "-id"),
    "status": ("status", "-created_at", "-id"),
    "-status": ("-status", "-created_at", "-id"),
}
_TRUE = {"1", "true", "yes", "on"}


def lead_list(
    *, actor: User, filters: dict[str, Any] | None = None, sort: str | None = None, limit: Any = None,
    offset: Any = None,
) -> Page:  # fmt: skip
    """Leads the actor sees, filtered and sorted; ``pool=1`` is the lead pool (unowned open leads)."""
    f = clean_filters(filters, LEAD_FILTERS)
    query = Lead.objects.visible_to(actor)
    if "status" in f:
        if f["status"] not in LeadStatus.values:
            raise ValidationError(_("筛选值“%(v)s”无效"), field="status", params={"v": f["status"]})
        query = query.filter(status=f["status"])
    if "channel" in f:
        if f["channel"] not in LeadChannel.values:
            raise ValidationError(_("筛选值“%(v)s”无效"), field="channel", params={"v": f["channel"]})
        query = query.filter(channel=f["channel"])
    if "source" in f:
        query = query.filter(source__code=str(f["source"]))
    if "owner" in f:
        query = query.filter(owner_id=filter_id(f, "owner"))
    if str(f.get("mine", "")).lower() in _TRUE:
        query = query.filter(owner=actor)
    if "pool" in f:
        pool = str(f["pool"]).lower() in _TRUE
        query = query.filter(owner__isnull=pool)
        if pool and "status" not in f:
            query = query.filter(status__in=[LeadStatus.NEW, LeadStatus.SCREENING, LeadStatus.QUALIFIED])
    if "flagged" in f:
        query = query.filter(flagged_for_review=str(f["flagged"]).lower() in _TRUE)
    if f.get("q"):
        text = normalize_query(str(f["q"]))
        if text:
            query = query.filter(Q(search_text__contains=text))
    order = LEAD_SORTS.get(sort or "-created_at")
    if order is None:
        raise ValidationError(_("排序字段“%(v)s”无效"), field="sort", params={"v": sort})
    query = (
        query.select_related("owner", "source", "reviewed_by")
        .prefetch_related("lines__product")
        .order_by(*order)
    )
    return paginate(query, limit=limit, offset=offset)


def lead_get(*, actor: User, lead_id: int) -> Lead:
    """One lead the actor may see; otherwise ``NotFound`` (never says it exists)."""
    lead = (
        Lead.objects.visible_to(actor)
        .select_related(
            "owner",
            "source",
            "form",
            "reviewed_by",
            "converted_customer",
            "converted_contact",
            "converted_opportunity",
            "created_by",
        )
        .prefetch_related("lines__product")
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("线索不存在或您无权查看"), field="id", code="lead_not_found")
    return lead


def lead_duplicates(*, actor: User, lead_id: int) -> list[Any]:
    """The likely duplicates (CUS-5) of the customer converting this lead would create."""
    from .services import _valid_mobile

    lead = lead_get(actor=actor, lead_id=lead_id)
    return find_duplicates(
        actor=actor, name=lead.company_name or lead.contact_name, mobile=_valid_mobile(lead.mobile)
    )


def risk_rules(*, actor: User) -> list[RiskRule]:
    require(actor, Perm.LEAD_MANAGE)
    return list(RiskRule.objects.order_by("id"))


def risk_threshold(*, actor: User) -> Any:
    require(actor, Perm.LEAD_VIEW)
    return risk_settings()


def lead_forms(*, actor: User) -> list[LeadForm]:
    require(actor, Perm.LEAD_MANAGE)
    return list(LeadForm.objects.select_related("source", "owner").order_by("name", "id"))


def lead_form_get(*, actor: User, form_id: int) -> LeadForm:
    require(actor, Perm.LEAD_MANAGE)
    form = LeadForm.objects.select_related("source", "owner").filter(pk=form_id).first()
    if form is None:
        raise NotFound(_("线索表单不存在"), field="id")
    return form


def risk_rule_get(*, actor: User, rule_id: int) -> RiskRule:
    require(actor, Perm.LEAD_MANAGE)
    rule = RiskRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(_("规则不存在"), field="id")
    return rule


def product_choices(*, actor: User) -> list[Any]:
    """Active products for the lead form's product picker (the catalogue is company-wide)."""
    from kehu.catalog.models import Product

    return list(Product.objects.visible_to(actor).active().order_by("name", "id")[:1000])
