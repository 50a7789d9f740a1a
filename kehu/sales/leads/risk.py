"""The fraudulent-inquiry check (SAL-2) against the database: the configured rules, the facts of a
lead (its products, the sender's history) and storing the score. The rules themselves are pure
functions in ``rules``."""

from __future__ import annotations

from django.db.models import Q

from kehu.customers.models import LIVE, Contact, Customer
from kehu.engagement.models import Interaction

from . import rules
from .choices import LeadStatus
from .models import Lead, LeadLine, RiskRule, RiskSettings


def risk_settings() -> RiskSettings:
    """The one settings row (made with the defaults the first time it is asked for)."""
    found = RiskSettings.objects.order_by("pk").first()
    if found is None:
        found = RiskSettings.objects.create(threshold=rules.DEFAULT_THRESHOLD)
    return found


def active_rules() -> list[rules.RuleSpec]:
    return [
        rules.RuleSpec(kind=r.kind, points=r.points, params=r.params or {})
        for r in RiskRule.objects.filter(is_active=True).order_by("id")
    ]


def _known_sender(lead: Lead) -> bool:
    """The sender already has history with us: a live customer or contact with the same mobile or
    e-mail that has interactions, or an earlier lead of theirs that was converted."""
    keys = Q()
    if lead.mobile:
        keys |= Q(mobile=lead.mobile)
    if lead.email:
        keys |= Q(email__iexact=lead.email)
    if not keys:
        return False
    customer_ids = set(Customer.objects.filter(LIVE).filter(keys).values_list("pk", flat=True)[:20])
    customer_ids |= set(
        Contact.objects.filter(keys, deleted_at__isnull=True).values_list("customer_id", flat=True)[:20]
    )
    if (
        customer_ids
        and Interaction.objects.filter(customer_id__in=customer_ids, deleted_at__isnull=True).exists()
    ):
        return True
    return Lead.objects.filter(keys, status=LeadStatus.CONVERTED).exclude(pk=lead.pk).exists()


def _asked_before(lead: Lead) -> set[int]:
    """Products this sender asked about in an earlier lead (same mobile or e-mail)."""
    keys = Q()
    if lead.mobile:
        keys |= Q(lead__mobile=lead.mobile)
    if lead.email:
        keys |= Q(lead__email__iexact=lead.email)
    if not keys:
        return set()
    return set(
        LeadLine.objects.filter(keys, lead__created_at__lt=lead.created_at)
        .exclude(lead_id=lead.pk)
        .values_list("product_id", flat=True)[:200]
    )


def lead_facts(lead: Lead) -> rules.LeadFacts:
    earlier = _asked_before(lead)
    lines = [
        rules.LineFacts(
            product=str(line.product),
            price=line.product.price,
            unit_kind=line.product.unit_kind,
            electronic_delivery=line.product.electronic_delivery,
            sample_limit=line.product.sample_limit,
            quantity=line.quantity,
            unit=line.unit,
            samples=line.samples,
            asked_before=line.product_id in earlier,
        )
        for line in lead.lines.select_related("product").order_by("id")
    ]
    return rules.LeadFacts(
        company_name=lead.company_name, email=lead.email, website=lead.website, mobile=lead.mobile,
        phone=lead.phone, wechat=lead.wechat, province=lead.province, content=lead.content,
        delivery=lead.delivery, samples_requested=lead.samples_requested, lines=lines,
        known_sender=_known_sender(lead),
    )  # fmt: skip


def rescore(lead: Lead) -> bool:
    """Compute and store the lead's score, reasons and review flag (no new version: the score is
    derived, not something a user edits). Returns whether the lead is now flagged for review."""
    hits = rules.evaluate(lead_facts(lead), active_rules())
    lead.risk_score = rules.score(hits)
    lead.risk_reasons = [h.as_dict() for h in hits]
    lead.flagged_for_review = rules.needs_review(
        score=lead.risk_score, threshold=risk_settings().threshold, reviewed_score=lead.reviewed_score
    )
    Lead.objects.filter(pk=lead.pk).update(
        risk_score=lead.risk_score, risk_reasons=lead.risk_reasons, flagged_for_review=lead.flagged_for_review
    )
    return lead.flagged_for_review
