"""The public pool (公海, CUS-7): pools and their rules, claiming, putting back, assigning, locking,
and the nightly return of customers nobody followed up.

Services start with ``require`` and end with an audit event, like ``services.py``; the claim and the
assignment take the customer with one conditional UPDATE (``owner IS NULL``), so of two people
claiming the same customer at the same moment exactly one wins, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import Department, User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import diff, emit, emit_many

from .choices import DealStatus, ValueTier
from .events import CustomerChanged
from .models import LIVE, Customer, Pool, PoolClaim, PoolLevelRule, pool_ids_for
from .rules import POOL_EXEMPT_DEAL_STATUSES, PoolRule, pool_return_on

RULE_FIELDS = (
    "no_follow_up_days",
    "no_deal_days",
    "warn_days",
    "daily_claim_limit",
    "holding_cap",
    "cooldown_days",
)
POOL_FIELDS = {"name", "description", "is_active", "cap_counts_closed", "members", "member_departments", "admins",
               "level_rules", *RULE_FIELDS}  # fmt: skip
MAX_DAYS = 3650


def _event(by: User | None, verb: str, customer: Customer, changes: dict[str, Any]) -> CustomerChanged:
    return CustomerChanged(
        actor_id=by.pk if by else None,
        verb=verb,
        subject_type="customer",
        subject_id=customer.pk,
        subject_label=f"{customer.code} {customer.name}",
        customer_id=customer.pk,
        changes=changes,
    )


# --- pools and their rules ----------------------------------------------------------------------------


def default_pool() -> Pool | None:
    return Pool.objects.filter(is_default=True).first()


def pool_of(customer: Customer) -> Pool | None:
    return customer.pool if customer.pool_id else default_pool()


def _days(data: dict[str, Any], key: str, *, blank_ok: bool = True) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        if blank_ok:
            return None
        raise ValidationError(_("%(f)s 不能为空"), field=key, params={"f": key})
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("%(f)s 必须是整数"), field=key, params={"f": key}) from exc
    if not 0 <= number <= MAX_DAYS:
        raise ValidationError(
            _("%(f)s 必须在 0 到 %(max)s 之间"), field=key, params={"f": key, "max": MAX_DAYS}
        )
    return number


def _ids(model: Any, values: Any, *, field: str) -> list[Any]:
    ids = [int(v) for v in (values or []) if str(v).strip().isdigit()]
    found = list(model.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError(_("%(f)s 中有不存在的项"), field=field, params={"f": field})
    return found


def _clean_pool(data: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    unknown = sorted(set(data) - POOL_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    out: dict[str, Any] = {}
    if "name" in data or not partial:
        name = str(data.get("name") or "").strip()
        if not name:
            raise ValidationError(_("公海名称不能为空"), field="name")
        if len(name) > 60:
            raise ValidationError(_("公海名称不能超过 60 个字符"), field="name")
        out["name"] = name
    if "description" in data:
        out["description"] = str(data.get("description") or "").strip()[:200]
    for key in ("is_active", "cap_counts_closed"):
        if key in data:
            out[key] = bool(data[key]) and str(data[key]).lower() not in ("0", "false", "off", "no")
    for key in RULE_FIELDS:
        if key in data:
            out[key] = (
                _days(data, key) if key != "warn_days" and key != "cooldown_days" else (_days(data, key) or 0)
            )
    if "level_rules" in data:
        rules = data["level_rules"] or {}
        if not isinstance(rules, dict) or set(rules) - set(ValueTier.values):
            raise ValidationError(_("等级规则必须按价值等级给出"), field="level_rules")
        out["level_rules"] = {
            tier: {k: _days(values or {}, k) for k in ("no_follow_up_days", "no_deal_days")}
            for tier, values in rules.items()
        }
    for key, model in (("members", User), ("admins", User), ("member_departments", Department)):
        if key in data:
            out[key] = _ids(model, data[key], field=key)
    return out


def _split_relations(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Take the many-to-many parts (and level rules) out of ``cleaned``: they are set after saving."""
    keys = ("members", "admins", "member_departments", "level_rules")
    return {k: cleaned.pop(k) for k in keys if k in cleaned}


def _apply_relations(pool: Pool, cleaned: dict[str, Any]) -> None:
    for key in ("members", "admins", "member_departments"):
        if key in cleaned:
            getattr(pool, key).set(cleaned[key])
    if "level_rules" in cleaned:
        pool.level_rules.all().delete()
        PoolLevelRule.objects.bulk_create(
            [
                PoolLevelRule(pool=pool, value_tier=tier, **values)
                for tier, values in cleaned["level_rules"].items()
                if any(v is not None for v in values.values())
            ]
        )


@transaction.atomic
def pool_create(*, data: dict[str, Any], by: User) -> Pool:
    """A new pool with its members, admins and return rules (needs ``pool.manage``)."""
    require(by, Perm.POOL_MANAGE)
    cleaned = _clean_pool(data, partial=False)
    if Pool.objects.filter(name=cleaned["name"]).exists():
        raise ValidationError(_("公海“%(n)s”已存在"), field="name", params={"n": cleaned["name"]})
    relations = _split_relations(cleaned)
    pool = Pool.objects.create(**cleaned)
    _apply_relations(pool, relations)
    transaction.on_commit(forget_pools)
    emit(CustomerChanged(actor_id=by.pk, verb="create", subject_type="pool", subject_id=pool.pk,
                         subject_label=pool.name, changes=diff({}, {k: str(v) for k, v in cleaned.items()})))  # fmt: skip
    return pool


@transaction.atomic
def pool_update(*, pool_id: int, version: int | None, data: dict[str, Any], by: User) -> Pool:
    require(by, Perm.POOL_MANAGE)
    pool = Pool.objects.filter(pk=pool_id).first()
    if pool is None:
        raise NotFound(_("公海不存在"), field="id")
    cleaned = _clean_pool(data, partial=True)
    if "name" in cleaned and Pool.objects.filter(name=cleaned["name"]).exclude(pk=pool.pk).exists():
        raise ValidationError(_("公海“%(n)s”已存在"), field="name", params={"n": cleaned["name"]})
    relations = _split_relations(cleaned)
    before = {k: str(getattr(pool, k)) for k in cleaned}
    for key, value in cleaned.items():
        setattr(pool, key, value)
    pool.save_versioned(expected_version=version, fields=list(cleaned))
    _apply_relations(pool, relations)
    transaction.on_commit(forget_pools)
    changes = diff(before, {k: str(v) for k, v in cleaned.items()})
    changes.update({k: [None, "…"] for k in relations})
    emit(CustomerChanged(actor_id=by.pk, verb="update", subject_type="pool", subject_id=pool.pk,
                         subject_label=pool.name, changes=changes))  # fmt: skip
    return pool


def rule_for(pool: Pool | None, value_tier: str) -> PoolRule:
    """The return rule of a customer level in a pool: the level's own days where set, else the pool's."""
    if pool is None:
        return PoolRule(None, None)
    level = next((r for r in pool.level_rules.all() if r.value_tier == value_tier), None)
    return PoolRule(
        no_follow_up_days=level.no_follow_up_days if level and level.no_follow_up_days is not None
        else pool.no_follow_up_days,
        no_deal_days=level.no_deal_days if level and level.no_deal_days is not None else pool.no_deal_days,
        warn_days=pool.warn_days,
    )  # fmt: skip


def _local(moment: datetime | None) -> date | None:
    return timezone.localtime(moment).date() if moment else None


def return_on(customer: Customer, pools: dict[int | None, Pool | None] | None = None) -> date | None:
    """When ``customer`` goes back to its pool if nothing happens (for the lists' 距退回公海)."""
    if customer.owner_id is None:
        return None
    pool = (pools or {}).get(customer.pool_id) if pools is not None else pool_of(customer)
    held = _local(customer.owner_since) or _local(customer.created_at) or timezone.localdate()
    return pool_return_on(
        rule_for(pool, customer.value_tier),
        held_since=held,
        last_contact=_local(customer.last_contact_at),
        last_order=customer.last_order_date,
        deal_status=customer.deal_status,
        locked=customer.pool_locked,
    )


# Pools and their rules change a few times a year: a list page reads them from a short per-process
# memory, so the days-to-pool column costs no query. The nightly return always reads them fresh.
_POOLS_CACHE: dict[str, Any] = {"at": 0.0, "pools": None}
POOLS_CACHE_SECONDS = 30.0


def pools_by_id(*, fresh: bool = False) -> dict[int | None, Pool | None]:
    """Every pool with its level rules, keyed by id; ``None`` → the default pool."""
    import time

    now = time.monotonic()
    if not fresh and _POOLS_CACHE["pools"] is not None and now - _POOLS_CACHE["at"] < POOLS_CACHE_SECONDS:
        return _POOLS_CACHE["pools"]
    pools: dict[int | None, Pool | None] = {p.pk: p for p in Pool.objects.prefetch_related("level_rules")}
    pools[None] = next((p for p in pools.values() if p is not None and p.is_default), None)
    _POOLS_CACHE.update(at=now, pools=pools)
    return pools


def forget_pools() -> None:
    """After a pool changes in this process: the next list reads the rules again."""
    _POOLS_CACHE.update(at=0.0, pools=None)


# --- claiming, putting back, assigning ------------------------------------------------------------------


def _pool_customer(*, customer_id: int, by: User) -> Customer:
    """A customer in a pool ``by`` belongs to (CUS-7); NotFound otherwise, as for any unseen row."""
    customer = (
        Customer.objects.visible_to(by, part="pool").filter(pk=customer_id).select_related("pool").first()
    )
    if customer is None:
        raise NotFound(_("公海中没有这个客户，或您不是该公海的成员"), field="id")
    return customer


def _holding(user: User, pool: Pool | None) -> int:
    held = Customer.objects.filter(LIVE, owner=user)
    if pool is not None and not pool.cap_counts_closed:
        held = held.exclude(deal_status=DealStatus.CLOSED)
    return held.count()


def _check_take(customer: Customer, *, to_user: User, claiming: bool) -> Pool | None:
    pool = pool_of(customer)
    if pool is None:
        return None
    now = timezone.now()
    if claiming and pool.daily_claim_limit is not None:
        start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        taken = PoolClaim.objects.filter(user=to_user, at__gte=start).count()
        if taken >= pool.daily_claim_limit:
            raise ValidationError(_("今天已领取 %(n)s 个客户，达到每日上限"), field="id", code="claim_limit",
                                  params={"n": taken})  # fmt: skip
    if pool.holding_cap is not None and _holding(to_user, pool) >= pool.holding_cap:
        raise ValidationError(_("%(u)s 持有的客户已达上限 %(n)s 个"), field="id" if claiming else "to_user",
                              code="holding_cap", params={"u": to_user.label, "n": pool.holding_cap})  # fmt: skip
    if (
        claiming
        and pool.cooldown_days
        and customer.previous_owner_id == to_user.pk
        and customer.released_at
        and customer.released_at > now - timedelta(days=pool.cooldown_days)
    ):
        ready = timezone.localtime(customer.released_at + timedelta(days=pool.cooldown_days)).date()
        raise ValidationError(_("您刚退回这个客户，%(d)s 之后才能再次领取"), field="id", code="cooldown",
                              params={"d": ready.isoformat()})  # fmt: skip
    return pool


def _take(customer: Customer, to_user: User) -> None:
    """Owner NULL → ``to_user`` in one conditional UPDATE: of two at once, exactly one wins."""
    now = timezone.now()
    taken = Customer.objects.filter(pk=customer.pk, owner__isnull=True, deleted_at__isnull=True).update(
        owner=to_user, owner_since=now, version=F("version") + 1, updated_at=now
    )
    if taken != 1:
        raise Conflict(_("该客户刚被他人领取"), field="id", code="already_taken")
    customer.owner, customer.owner_since = to_user, now


def _serialize_user(user: User) -> None:
    """Serialise one user's claims (the daily limit and the cap count what they already took)."""
    if connection.vendor == "postgresql":
        User.objects.select_for_update().filter(pk=user.pk).first()


@transaction.atomic
def customer_claim(*, customer_id: int, by: User) -> Customer:
    """领取: take a customer from a pool one belongs to, within the daily limit, the holding cap and the
    cool-down after putting it back (CUS-7)."""
    require(by, Perm.POOL_CLAIM)
    customer = _pool_customer(customer_id=customer_id, by=by)
    _serialize_user(by)
    _check_take(customer, to_user=by, claiming=True)
    _take(customer, by)
    PoolClaim.objects.create(user=by, customer=customer)
    emit(_event(by, "claim", customer, {"owner": [None, by.label]}))
    return customer


def can_assign(*, actor: User, customer: Customer) -> bool:
    """May ``actor`` assign this pool customer (``pool.manage``, or an admin of its pool)?"""
    if not can(actor, Perm.POOL_CLAIM):
        return False
    if can(actor, Perm.POOL_MANAGE):
        return True
    pool = pool_of(customer)
    return pool is not None and pool.admins.filter(pk=actor.pk).exists()


@transaction.atomic
def customer_assign(*, customer_id: int, to_user: User | int | str, by: User) -> Customer:
    """分配: a pool admin (or ``pool.manage``) gives a pool customer to someone (within the holding cap)."""
    require(by, Perm.POOL_CLAIM)
    customer = _pool_customer(customer_id=customer_id, by=by)
    if not can_assign(actor=by, customer=customer):
        raise PermissionDenied(_("只有公海管理员可以分配客户"), code="not_pool_admin")
    try:
        target = to_user if isinstance(to_user, User) else User.objects.get(pk=int(to_user), is_active=True)
    except (User.DoesNotExist, TypeError, ValueError) as exc:
        raise ValidationError(_("接收人不存在或已停用"), field="to_user") from exc
    _serialize_user(target)
    _check_take(customer, to_user=target, claiming=False)
    _take(customer, target)
    emit(_event(by, "assign", customer, {"owner": [None, target.label]}))
    _tell_new_owner(customer, target, by)
    return customer


def _tell_new_owner(customer: Customer, owner: User, by: User) -> None:
    from django.urls import reverse

    from kehu.notifications.services import notify_handover

    notify_handover(
        recipient=owner, by=by, kind="customer_assigned", key=f"customer:{customer.pk}:v{customer.version}",
        title=_("%(who)s 把客户“%(name)s”分配给您") % {"who": by.label, "name": customer.name},
        url=reverse("customers:detail", args=[customer.pk]),
    )  # fmt: skip


@transaction.atomic
def customer_release(*, customer_id: int, reason: str, by: User) -> Customer:
    """退回公海: the owner (or someone who may edit the customer) puts it back, saying why."""
    from .selectors import customer_get_editable

    require(by, Perm.POOL_CLAIM)
    customer = customer_get_editable(customer_id=customer_id, by=by)
    if customer.owner_id is None:
        raise Conflict(_("该客户已在公海中"), field="id", code="already_in_pool")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("退回公海必须填写原因"), field="reason")
    old = customer.owner
    customer.previous_owner, customer.released_at = old, timezone.now()
    customer.owner, customer.owner_since = None, None
    customer.save_versioned(
        expected_version=None, fields=["owner", "owner_since", "previous_owner", "released_at"]
    )
    emit(
        _event(
            by,
            "release",
            customer,
            {"owner": [old.label if old else None, None], "reason": [None, reason[:200]]},
        )
    )
    return customer


@transaction.atomic
def customer_pool_lock(*, customer_id: int, locked: bool, by: User) -> Customer:
    """Lock a customer against automatic return to the pool (or unlock it): ``pool.manage``."""
    from .selectors import customer_get

    require(by, Perm.POOL_MANAGE)
    customer = customer_get(actor=by, customer_id=customer_id)
    if customer.pool_locked != locked:
        customer.pool_locked = locked
        customer.save_versioned(expected_version=None, fields=["pool_locked"])
        emit(
            _event(
                by, "pool_lock" if locked else "pool_unlock", customer, {"pool_locked": [not locked, locked]}
            )
        )
    return customer


# --- the nightly return --------------------------------------------------------------------------------


def _day_end(day: date) -> datetime:
    """The first moment after ``day`` in Asia/Shanghai: "on or before ``day``" is "< this" — a plain
    comparison an index can serve, where ``__date`` makes the database convert every row."""
    return timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))


def _held_since_q(cut: date) -> Q:
    """Held by the owner since on or before ``cut`` (owner_since, or creation when unknown)."""
    end = _day_end(cut)
    return Q(owner_since__lt=end) | Q(owner_since__isnull=True, created_at__lt=end)


def due_q(rule: PoolRule, *, on: date) -> Q | None:
    """Owned customers whose return date (``rules.pool_return_on``) is ``on`` or earlier — in SQL."""
    parts = []
    if rule.no_follow_up_days:
        cut = on - timedelta(days=rule.no_follow_up_days)
        contacted = Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=_day_end(cut))
        parts.append(_held_since_q(cut) & contacted)
    if rule.no_deal_days:
        cut = on - timedelta(days=rule.no_deal_days)
        parts.append(_held_since_q(cut) & (Q(last_order_date__isnull=True) | Q(last_order_date__lte=cut)))
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def _in_pool_q(pool: Pool) -> Q:
    return Q(pool=pool) | (Q(pool__isnull=True) if pool.is_default else Q(pk__in=[]))


def _due_in_pool(pool: Pool, on: date) -> Q | None:
    """The customers of ``pool`` due on ``on``, each level by its own rule (one condition per pool)."""
    levels = [
        Q(value_tier=tier) & condition
        for tier in ValueTier.values
        if (condition := due_q(rule_for(pool, tier), on=on)) is not None
    ]
    if not levels:
        return None
    q = levels[0]
    for level in levels[1:]:
        q |= level
    return _in_pool_q(pool) & q


def _returnable(rows: QuerySet | None = None) -> QuerySet:
    """Owned customers the nightly return may take back (not locked, not closed or negotiating)."""
    rows = Customer.objects.filter(LIVE) if rows is None else rows
    return rows.filter(owner__isnull=False, pool_locked=False).exclude(
        deal_status__in=POOL_EXEMPT_DEAL_STATUSES
    )


@dataclass(frozen=True)
class RecycleResult:
    returned: int
    seconds: float


def pool_recycle(
    *, by: User | None = None, today: date | None = None, batch: int = 5000,
    progress: Callable[[int, int], None] | None = None,
) -> RecycleResult:  # fmt: skip
    """Return every owned customer whose time is up (CUS-7): nobody followed it up for N days, or no deal
    for M days, by its pool's rule for its level; locked, closed and negotiating customers stay. Each
    return is audited (actor: system, or ``by``) and shows on the customer's timeline.

    One scan per pool finds the due ids; they are returned in batches, each its own transaction, and
    each batch checks the rule again in its UPDATE (a customer contacted or claimed meanwhile stays).
    Safe to run twice: a returned customer has no owner any more.
    """
    import time

    if by is not None:
        require(by, Perm.POOL_MANAGE)
    started = time.monotonic()
    today = today or timezone.localdate()
    labels = {
        pk: display or username
        for pk, display, username in User.objects.values_list("pk", "display_name", "username")
    }
    returned = 0
    work = []
    for pool in Pool.objects.filter(is_active=True).prefetch_related("level_rules"):
        condition = _due_in_pool(pool, today)
        if condition is None:
            continue
        due = _returnable().filter(condition)
        work.append((pool, due, list(due.order_by("id").values_list("id", flat=True))))
    total = sum(len(ids) for _pool, _due, ids in work)
    if progress:
        progress(0, total)
    checked = 0  # due customers looked at so far (some may have been contacted meanwhile and stay)
    for pool, due, ids in work:
        for start in range(0, len(ids), batch):
            with transaction.atomic():
                # Locked for the batch on PostgreSQL (SQLite serialises writers anyway).
                rows = list(
                    due.filter(pk__in=ids[start : start + batch])
                    .select_for_update()
                    .values_list("id", "code", "name", "owner_id")
                )
                if not rows:
                    continue
                now = timezone.now()
                due.filter(pk__in=[r[0] for r in rows]).update(
                    previous_owner_id=F("owner_id"), owner=None, owner_since=None, released_at=now,
                    version=F("version") + 1, updated_at=now,
                )  # fmt: skip
                emit_many(
                    [
                        CustomerChanged(
                            actor_id=by.pk if by else None,
                            verb="pool_return",
                            subject_type="customer",
                            subject_id=pk,
                            subject_label=f"{code} {name}",
                            customer_id=pk,
                            changes={"owner": [labels.get(owner_id), None], "pool": [None, pool.name]},
                        )
                        for pk, code, name, owner_id in rows
                    ]
                )
                returned += len(rows)
            if progress:
                progress(checked + min(start + batch, len(ids)), total)
        checked += len(ids)
    return RecycleResult(returned=returned, seconds=round(time.monotonic() - started, 3))


def pool_recycle_start(*, by: User) -> Any:
    """Start the return to the pool now, as a background job with progress (the nightly run's job)."""
    from kehu.jobs.services import job_start

    require(by, Perm.POOL_MANAGE)
    return job_start(kind="customers.pool_recycle", by=by)


def pool_warning_q(*, today: date | None = None) -> Q:
    """Owned customers that return to their pool within its warning period (not yet due), as one
    condition — so a count of them can share an aggregate with other counts (the 待办 badges)."""
    today = today or timezone.localdate()
    soon = Q(pk__in=[])
    for pool in Pool.objects.filter(is_active=True).prefetch_related("level_rules"):
        due_later = _due_in_pool(pool, today + timedelta(days=pool.warn_days))
        if due_later is None:
            continue
        due_now = _due_in_pool(pool, today)
        soon |= due_later & ~due_now if due_now is not None else due_later
    returnable = Q(owner__isnull=False, pool_locked=False) & ~Q(deal_status__in=POOL_EXEMPT_DEAL_STATUSES)
    return returnable & soon


def pool_warnings(*, actor: User, today: date | None = None) -> QuerySet:
    """The actor's customers that return to the pool within the warning period (not yet due)."""
    mine = Customer.objects.visible_to(actor, part="owned", owners={actor.pk})
    return mine.filter(pool_warning_q(today=today))


def pool_list(*, actor: User) -> list[Pool]:
    """The pools ``actor`` belongs to (all of them for ``pool.manage``), with their rules."""
    pools = Pool.objects.prefetch_related("members", "admins", "member_departments", "level_rules")
    if not (can(actor, Perm.POOL_VIEW) or can(actor, Perm.POOL_MANAGE)):
        return []
    visible = pool_ids_for(actor)
    return list(pools) if visible is None else list(pools.filter(pk__in=sorted(visible[0])))
