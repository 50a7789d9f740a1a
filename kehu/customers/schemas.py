"""API schemas of the customer archive. Mobile and ID numbers always leave masked (SEC-2);
``POST /customers/{id}/reveal`` returns them in full and is audited."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import BaseModel, Field

from kehu.core.identity import mask_id_number, mask_mobile
from kehu.core.schemas import StrictIn

from .models import Contact, Customer


class CustomerFields(StrictIn):
    kind: str | None = None
    name: str | None = None
    credit_code: str | None = None
    id_number: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    wechat: str | None = None
    gender: str | None = None
    birthday: date | None = None
    birthday_calendar: str | None = Field(None, description="solar (公历, default) or lunar (农历)")
    lunar_birth_month: int | None = Field(
        None, description="lunar birthday: month 1-12 (birthday_calendar=lunar)"
    )
    lunar_birth_day: int | None = Field(None, description="lunar birthday: day 1-30")
    lunar_birth_leap: bool | None = Field(None, description="lunar birthday in a leap month (闰月)")
    industry: str | None = Field(None, description="industry option code (GET /options?kind=industry)")
    size: str | None = None
    relation: str | None = None
    need_status: str | None = None
    source: str | None = Field(None, description="source option code (GET /options?kind=source)")
    source_detail: str | None = None
    needs: str | None = None
    preferences: str | None = None
    notes: str | None = None
    province: str | None = None
    city: str | None = None
    district: str | None = None
    address: str | None = None
    tags: list[str] | None = None
    screened: bool | None = None


class CustomerCreateIn(CustomerFields):
    name: str
    owner: int | None = Field(None, description="owner user id; defaults to the caller")
    confirm_duplicates: bool = Field(
        False, description="save although likely (non-blocking) duplicates exist"
    )


class CustomerPatchIn(CustomerFields):
    version: int
    confirm_duplicates: bool = False


class OwnerOut(BaseModel):  # built from dicts: plain pydantic, no Django getter
    id: int
    name: str


class OverrideOut(Schema):
    value: str
    reason: str
    by: str
    at: str


class CustomerOut(Schema):
    id: int
    code: str
    kind: str
    name: str
    credit_code: str
    id_number_masked: str
    mobile_masked: str
    phone: str
    email: str
    website: str
    wechat: str
    gender: str
    birthday: date | None
    birthday_calendar: str
    lunar_birth_month: int | None
    lunar_birth_day: int | None
    lunar_birth_leap: bool
    birthday_next: date | None = Field(description="next celebration of the birthday, as a solar date")
    lunar_birthday_label: str = Field(description="e.g. 农历八月十五 (9月25日); empty for solar birthdays")
    industry: str | None
    industry_label: str | None
    size: str
    relation: str
    value_tier: str
    loyalty: str
    status: str
    deal_status: str
    need_status: str
    overrides: dict[str, Any]
    screened: bool
    source: str | None
    source_detail: str
    needs: str
    preferences: str
    notes: str
    province: str
    city: str
    district: str
    address: str
    tags: list[str]
    owner: OwnerOut | None
    in_pool: bool
    last_contact_at: datetime | None
    next_follow_up_on: date | None
    next_follow_up_action: str
    urgency: str
    pool: dict[str, Any] | None
    pool_locked: bool
    first_order_date: date | None
    order_count: int
    revenue_12m: Decimal
    currency: str
    created_at: datetime
    updated_at: datetime
    version: int


def customer_out(c: Customer, *, tags: list[str] | None = None) -> dict[str, Any]:
    return {
        "id": c.pk,
        "code": c.code,
        "kind": c.kind,
        "name": c.name,
        "credit_code": c.credit_code,
        "id_number_masked": mask_id_number(c.id_number),
        "mobile_masked": mask_mobile(c.mobile),
        "phone": c.phone,
        "email": c.email,
        "website": c.website,
        "wechat": c.wechat,
        "gender": c.gender,
        "birthday": c.birthday,
        "birthday_calendar": c.birthday_calendar,
        "lunar_birth_month": c.lunar_birth_month,
        "lunar_birth_day": c.lunar_birth_day,
        "lunar_birth_leap": c.lunar_birth_leap,
        "birthday_next": c.birthday_next,
        "lunar_birthday_label": c.lunar_birthday_label,
        "industry": c.industry.code if c.industry_id and c.industry else None,
        "industry_label": c.industry.label if c.industry_id and c.industry else None,
        "size": c.size,
        "relation": c.relation,
        "value_tier": c.value_tier,
        "loyalty": c.loyalty,
        "status": c.status,
        "deal_status": c.deal_status,
        "need_status": c.need_status,
        "overrides": {
            k: {kk: vv for kk, vv in v.items() if kk != "by_id"} for k, v in (c.overrides or {}).items()
        },
        "screened": c.screened,
        "source": c.source.code if c.source_id and c.source else None,
        "source_detail": c.source_detail,
        "needs": c.needs,
        "preferences": c.preferences,
        "notes": c.notes,
        "province": c.province,
        "city": c.city,
        "district": c.district,
        "address": c.address,
        "tags": tags if tags is not None else [t.name for t in c.tags.all()],
        "owner": {"id": c.owner_id, "name": c.owner.label} if c.owner_id and c.owner else None,
        "in_pool": c.owner_id is None,
        "last_contact_at": c.last_contact_at,
        "next_follow_up_on": c.next_follow_up_on,
        "next_follow_up_action": c.next_follow_up_action,
        "urgency": c.urgency,
        "pool": {"id": c.pool_id, "name": c.pool.name} if c.pool_id and c.pool else None,
        "pool_locked": c.pool_locked,
        "first_order_date": c.first_order_date,
        "order_count": c.order_count,
        "revenue_12m": c.revenue_12m,
        "currency": c.currency,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "version": c.version,
    }


class CustomerListItemOut(BaseModel):  # built from dicts: plain pydantic, no Django getter
    id: int
    code: str
    kind: str
    name: str
    mobile_masked: str
    industry_label: str | None
    value_tier: str
    status: str
    deal_status: str
    owner: OwnerOut | None
    last_contact_at: datetime | None
    next_follow_up_on: date | None
    urgency: str
    pool_return_on: date | None = None
    updated_at: datetime
    version: int


def customer_list_item(c: Customer) -> dict[str, Any]:
    return {
        "id": c.pk,
        "code": c.code,
        "kind": c.kind,
        "name": c.name,
        "mobile_masked": mask_mobile(c.mobile),
        "industry_label": c.industry.label if c.industry_id and c.industry else None,
        "value_tier": c.value_tier,
        "status": c.status,
        "deal_status": c.deal_status,
        "owner": {"id": c.owner_id, "name": c.owner.label} if c.owner_id and c.owner else None,
        "last_contact_at": c.last_contact_at,
        "next_follow_up_on": c.next_follow_up_on,
        "urgency": c.urgency,
        "pool_return_on": c.pool_return_on,
        "updated_at": c.updated_at,
        "version": c.version,
    }


class CustomerListOut(BaseModel):  # built from dicts: plain pydantic, no Django getter
    items: list[CustomerListItemOut]
    count: int


class RevealOut(Schema):
    mobile: str
    id_number: str
    contacts: dict[int, str]


class TransferIn(StrictIn):
    to_user: int
    reason: str


class ClassifyIn(StrictIn):
    dimension: str
    value: str | None = Field(None, description="null returns the dimension to its derived value")
    reason: str = ""
    version: int


class MergeIn(StrictIn):
    keep_id: int
    drop_id: int


class CollaboratorIn(StrictIn):
    user_id: int
    can_edit: bool = False


class CollaboratorOut(Schema):
    user_id: int
    name: str
    can_edit: bool


class DuplicateCheckIn(StrictIn):
    name: str = ""
    credit_code: str = ""
    mobile: str = ""
    id_number: str = ""
    exclude_id: int | None = None


class DuplicateOut(Schema):
    customer_id: int | None
    reasons: list[str]
    visible: bool
    name: str | None
    code: str | None
    owner_name: str | None
    in_pool: bool
    mobile_masked: str | None
    score: float


class DuplicateCheckOut(Schema):
    matches: list[DuplicateOut]
    blocking: bool
    errors: dict[str, str]


class ContactFields(StrictIn):
    name: str | None = None
    gender: str | None = None
    position: str | None = None
    department: str | None = None
    mobile: str | None = None
    phone: str | None = None
    email: str | None = None
    wechat: str | None = None
    birthday: date | None = None
    birthday_calendar: str | None = Field(None, description="solar (公历, default) or lunar (农历)")
    lunar_birth_month: int | None = Field(
        None, description="lunar birthday: month 1-12 (birthday_calendar=lunar)"
    )
    lunar_birth_day: int | None = Field(None, description="lunar birthday: day 1-30")
    lunar_birth_leap: bool | None = Field(None, description="lunar birthday in a leap month (闰月)")
    is_primary: bool | None = None
    reports_to: int | None = None
    notes: str | None = None


class ContactCreateIn(ContactFields):
    name: str


class ContactPatchIn(ContactFields):
    version: int


class ContactOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    name: str
    gender: str
    position: str
    department: str
    mobile_masked: str
    phone: str
    email: str
    wechat: str
    birthday: date | None
    birthday_calendar: str
    lunar_birth_month: int | None
    lunar_birth_day: int | None
    lunar_birth_leap: bool
    birthday_next: date | None = Field(description="next celebration of the birthday, as a solar date")
    lunar_birthday_label: str = Field(description="e.g. 农历八月十五 (9月25日); empty for solar birthdays")
    is_primary: bool
    reports_to: int | None
    notes: str
    version: int
    updated_at: datetime


def contact_out(c: Contact) -> dict[str, Any]:
    return {
        "id": c.pk,
        "customer_id": c.customer_id,
        "customer_name": c.customer.name,
        "name": c.name,
        "gender": c.gender,
        "position": c.position,
        "department": c.department,
        "mobile_masked": mask_mobile(c.mobile),
        "phone": c.phone,
        "email": c.email,
        "wechat": c.wechat,
        "birthday": c.birthday,
        "birthday_calendar": c.birthday_calendar,
        "lunar_birth_month": c.lunar_birth_month,
        "lunar_birth_day": c.lunar_birth_day,
        "lunar_birth_leap": c.lunar_birth_leap,
        "birthday_next": c.birthday_next,
        "lunar_birthday_label": c.lunar_birthday_label,
        "is_primary": c.is_primary,
        "reports_to": c.reports_to_id,
        "notes": c.notes,
        "version": c.version,
        "updated_at": c.updated_at,
    }


class ContactListOut(Schema):
    items: list[ContactOut]
    count: int


class TimelineItemOut(Schema):
    """An entry of the 360° timeline: an audit event (``kind`` "audit") or a record another domain
    adds (``kind`` "interaction", …) with its own ``subject_type``/``subject_id`` and ``summary``."""

    at: datetime
    kind: str
    actor: str
    verb: str
    subject_type: str
    subject_id: int | None = None
    subject_label: str
    summary: str = ""
    changes: dict[str, Any] = {}


class OptionOut(Schema):
    id: int
    kind: str
    code: str
    label: str
    label_en: str
    sort_order: int
    is_active: bool


class OptionIn(StrictIn):
    kind: str
    code: str
    label: str
    label_en: str = ""
    sort_order: int = 0


class OptionPatchIn(StrictIn):
    label: str | None = None
    label_en: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None


class PoolIn(StrictIn):
    name: str | None = None
    description: str | None = None
    is_active: bool | None = None
    no_follow_up_days: int | None = None
    no_deal_days: int | None = None
    warn_days: int | None = None
    daily_claim_limit: int | None = None
    holding_cap: int | None = None
    cap_counts_closed: bool | None = None
    cooldown_days: int | None = None
    members: list[int] | None = None
    member_departments: list[int] | None = None
    admins: list[int] | None = None
    level_rules: dict[str, dict[str, int | None]] | None = None


class PoolPatchIn(PoolIn):
    version: int


class PoolOut(BaseModel):
    id: int
    name: str
    description: str
    is_default: bool
    is_active: bool
    no_follow_up_days: int | None
    no_deal_days: int | None
    warn_days: int
    daily_claim_limit: int | None
    holding_cap: int | None
    cap_counts_closed: bool
    cooldown_days: int
    members: list[int]
    member_departments: list[int]
    admins: list[int]
    level_rules: dict[str, dict[str, int | None]]
    version: int


def pool_out(p: Any) -> dict[str, Any]:
    return {
        "id": p.pk,
        "name": p.name,
        "description": p.description,
        "is_default": p.is_default,
        "is_active": p.is_active,
        "no_follow_up_days": p.no_follow_up_days,
        "no_deal_days": p.no_deal_days,
        "warn_days": p.warn_days,
        "daily_claim_limit": p.daily_claim_limit,
        "holding_cap": p.holding_cap,
        "cap_counts_closed": p.cap_counts_closed,
        "cooldown_days": p.cooldown_days,
        "members": [u.pk for u in p.members.all()],
        "member_departments": [d.pk for d in p.member_departments.all()],
        "admins": [u.pk for u in p.admins.all()],
        "level_rules": {
            r.value_tier: {"no_follow_up_days": r.no_follow_up_days, "no_deal_days": r.no_deal_days}
            for r in p.level_rules.all()
        },
        "version": p.version,
    }


class ReleaseIn(StrictIn):
    reason: str


class AssignIn(StrictIn):
    to_user: int


class LockIn(StrictIn):
    locked: bool


class RecycleOut(BaseModel):
    returned: int
    seconds: float
