"""Duplicate check (查重, CUS-5) against the whole archive.

The check looks beyond the actor's data scope on purpose — a rep must learn
that 华为 already belongs to someone — but it tells a user who cannot see the
match only who owns it (or that it sits in the public pool), never its contents.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from kehu.access.perms import Perm
from kehu.access.scope import can
from kehu.core.errors import PermissionDenied
from kehu.core.identity import mask_mobile

from .dedupe_rules import SIMILAR_THRESHOLD, name_similarity, normalize_company_name
from .models import Contact, Customer

MAX_SIMILAR_CANDIDATES = 400


@dataclass(frozen=True)
class DuplicateMatch:
    customer_id: int
    reasons: tuple[str, ...]
    visible: bool
    name: str | None
    code: str | None
    owner_name: str | None
    in_pool: bool
    mobile_masked: str | None
    score: float
    strong: bool
    blocking: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id if self.visible else None,
            "reasons": list(self.reasons),
            "visible": self.visible,
            "name": self.name,
            "code": self.code,
            "owner_name": self.owner_name,
            "in_pool": self.in_pool,
            "mobile_masked": self.mobile_masked,
            "score": round(self.score, 3),
        }


def find_duplicates(
    *,
    actor: Any,
    name: str = "",
    credit_code: str = "",
    mobile: str = "",
    id_number: str = "",
    exclude_id: int | None = None,
    limit: int = 10,
) -> list[DuplicateMatch]:
    """Likely duplicates, strongest first: same credit code (blocking), same ID number, same mobile
    (customer's or a contact's), same normalised name, then similar names (bigram Dice ≥ 0.8).

    Only users who may create or edit customers may ask: the answer names owners across scopes.
    """
    if not (can(actor, Perm.CUSTOMER_CREATE) or can(actor, Perm.CUSTOMER_EDIT)):
        raise PermissionDenied(_("您没有新建或编辑客户的权限，不能查重"), code="permission_denied")
    alive = Customer.objects.filter(deleted_at__isnull=True, merged_into__isnull=True)
    if exclude_id:
        alive = alive.exclude(pk=exclude_id)
    reasons: dict[int, list[str]] = {}
    scores: dict[int, float] = {}
    blocking: set[int] = set()

    def hit(pk: int, reason: str, score: float) -> None:
        reasons.setdefault(pk, [])
        if reason not in reasons[pk]:
            reasons[pk].append(reason)
        scores[pk] = max(scores.get(pk, 0.0), score)

    if credit_code:
        for pk in alive.filter(credit_code=credit_code).values_list("pk", flat=True)[:limit]:
            hit(pk, _("统一社会信用代码相同"), 1.0)
            blocking.add(pk)
    if id_number:
        for pk in alive.filter(id_number=id_number).values_list("pk", flat=True)[:limit]:
            hit(pk, _("身份证号相同"), 1.0)
    if mobile:
        for pk in alive.filter(mobile=mobile).values_list("pk", flat=True)[:limit]:
            hit(pk, _("手机号相同"), 0.99)
        contact_customers = Contact.objects.filter(mobile=mobile, deleted_at__isnull=True).values_list(
            "customer_id", flat=True
        )[:limit]
        for pk in alive.filter(pk__in=list(contact_customers)).values_list("pk", flat=True):
            hit(pk, _("联系人手机号相同"), 0.95)
    normalized = normalize_company_name(name) if name else ""
    if normalized:
        for pk in alive.filter(name_normalized=normalized).values_list("pk", flat=True)[:limit]:
            hit(pk, _("名称相同（忽略公司后缀、括号、全半角）"), 0.98)
        if len(normalized) >= 2:
            probes = {normalized[:2], normalized[-2:]}
            q = Q()
            for probe in probes:
                q |= Q(name_normalized__contains=probe)
            candidates = alive.filter(q).values_list("pk", "name_normalized")[:MAX_SIMILAR_CANDIDATES]
            for pk, other in candidates:
                if pk in reasons:
                    continue
                score = name_similarity(normalized, other)
                if score >= SIMILAR_THRESHOLD:
                    hit(pk, _("名称相似（%(p)s%%）") % {"p": round(score * 100)}, score)
    if not reasons:
        return []
    ranked = sorted(reasons, key=lambda pk: (-scores[pk], pk))[:limit]
    rows = {c.pk: c for c in Customer.objects.filter(pk__in=ranked).select_related("owner")}
    visible_ids = set(Customer.objects.visible_to(actor).filter(pk__in=ranked).values_list("pk", flat=True))
    out = []
    for pk in ranked:
        c = rows[pk]
        visible = pk in visible_ids
        out.append(
            DuplicateMatch(
                customer_id=pk,
                reasons=tuple(reasons[pk]),
                visible=visible,
                name=c.name if visible else None,
                code=c.code if visible else None,
                owner_name=c.owner.label if c.owner else None,
                in_pool=c.owner_id is None,
                mobile_masked=mask_mobile(c.mobile) if (visible and c.mobile) else None,
                score=scores[pk],
                strong=scores[pk] >= 0.95,
                blocking=pk in blocking,
            )
        )
    return out
