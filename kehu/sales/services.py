"""Writes of the sales pipeline (SAL-3): every one opens with ``require`` and ends with an event."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import require
from kehu.core.errors import ValidationError
from kehu.core.events import diff, emit
from kehu.core.sequences import next_values
from kehu.customers.selectors import customer_get

from .events import OpportunityChanged
from .models import Opportunity
from .selectors import first_open_stage, stage_group_for


def _event(by: User | None, verb: str, opp: Opportunity, changes: dict[str, Any] | None = None) -> Any:
    return OpportunityChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="opportunity",
        subject_id=opp.pk,
        subject_label=f"{opp.code} {opp.name}"[:200],
        customer_id=opp.customer_id,
        changes=changes or {},
    )


def _snapshot(opp: Opportunity) -> dict[str, Any]:
    return {
        "name": opp.name,
        "stage": str(opp.stage),
        "status": opp.status,
        "amount": f"{opp.amount} {opp.currency}",
        "expected_close": opp.expected_close.isoformat() if opp.expected_close else None,
        "owner": str(opp.owner),
    }


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ValidationError(_("金额格式不正确"), field=field) from None
    if amount < 0 or not amount.is_finite():
        raise ValidationError(_("金额不能为负数"), field=field)
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def opportunity_create(
    *,
    customer_id: int,
    name: str,
    amount: Any = 0,
    currency: str = "CNY",
    expected_close: date | None = None,
    description: str = "",
    owner: User | None = None,
    by: User,
) -> Opportunity:
    """Open an opportunity on a customer the actor can see (SAL-3). It starts in the first stage of the
    owner's department's stage group; the owner defaults to the actor."""
    require(by, Perm.OPPORTUNITY_EDIT)
    customer = customer_get(actor=by, customer_id=customer_id)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("请填写商机名称"), field="name")
    owner = owner or by
    group = stage_group_for(owner.department)
    (number,) = next_values("opportunity")
    opp = Opportunity.objects.create(
        code=f"SJ{number:08d}",
        name=name[:120],
        customer=customer,
        owner=owner,
        department=owner.department,
        stage_group=group,
        stage=first_open_stage(group),
        amount=_amount(amount, "amount"),
        currency=(currency or "CNY").upper()[:3],
        expected_close=expected_close,
        description=description,
        created_by=by,
    )
    emit(_event(by, "create", opp, diff({}, _snapshot(opp))))
    return opp
