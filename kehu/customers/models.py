"""The customer archive: customers, contacts, collaborators, tags and configurable options (CUS-1…3)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.perms import Perm
from kehu.access.scope import can, owner_ids_in_scope, owner_scope_q, sees_all
from kehu.core.models import SoftDeleteModel, VersionedModel, localized

from .choices import (
    BirthdayCalendar,
    CustomerKind,
    DealStatus,
    Gender,
    Loyalty,
    NeedStatus,
    OptionKind,
    Relation,
    Size,
    Status,
    Urgency,
    ValueTier,
)


class Option(models.Model):
    """An entry of an admin-editable list (industry 行业, source 客户来源)."""

    kind = models.CharField(_("类别"), max_length=20, choices=OptionKind.choices)
    code = models.SlugField(_("代码"), max_length=40)
    label = models.CharField(_("名称"), max_length=60)
    label_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    sort_order = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["kind", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="option_kind_code_unique")]
        verbose_name = _("选项")
        verbose_name_plural = _("选项")

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        """The label in the active language: ``label_en`` for English when an admin filled it in."""
        return localized(self.label, self.label_en)


class Tag(models.Model):
    name = models.CharField(_("标签"), max_length=30, unique=True)
    color = models.CharField(_("颜色"), max_length=10, default="blue")

    class Meta:
        ordering = ["name"]
        verbose_name = _("标签")
        verbose_name_plural = _("标签")

    def __str__(self) -> str:
        return self.name


# The rows every list, search and count reads: neither in the recycle bin nor merged away.
LIVE = models.Q(deleted_at__isnull=True, merged_into__isnull=True)


# Up to this many collaborations are listed by id in a query; beyond it, by subquery.
MAX_LISTED_IDS = 2000


def _sees_pool(actor) -> bool:
    return can(actor, Perm.POOL_VIEW) or sees_all(actor)


_POOLS_ATTR = "_kehu_pool_ids"


def pool_ids_for(actor) -> tuple[set[int], bool, bool] | None:
    """The pools whose customers ``actor`` may see and claim, whether the default pool (customers with
    no pool set) is among them, and whether that is every pool there is; ``None`` = every pool
    (全部 scope, or ``pool.manage``).

    A pool with neither member users nor member departments is open to everyone who may view the pool.
    Cached on the actor for the request, like its permissions.
    """
    if sees_all(actor) or can(actor, Perm.POOL_MANAGE):
        return None
    cached = getattr(actor, _POOLS_ATTR, None)
    if cached is not None:
        return cached
    rows = list(
        Pool.objects.annotate(
            n_members=models.Count("members", distinct=True),
            n_departments=models.Count("member_departments", distinct=True),
        ).values_list("pk", "is_active", "is_default", "n_members", "n_departments")
    )
    open_ids = {
        pk for pk, active, _d, members, departments in rows if active and not members and not departments
    }
    joined = set(
        Pool.objects.filter(is_active=True)
        .filter(Q(members=actor) | Q(admins=actor) | Q(member_departments=actor.department_id))
        .values_list("pk", flat=True)
    )
    ids = open_ids | joined
    default = next((pk for pk, _a, is_default, _m, _d in rows if is_default), None)
    every = bool(rows) and ids == {pk for pk, *_rest in rows}
    result = (ids, default is None or default in ids, every)
    setattr(actor, _POOLS_ATTR, result)
    return result


def _pool_q(actor) -> Q:
    """Pool customers (no owner) ``actor`` may see: those of the pools they belong to (CUS-7)."""
    if not _sees_pool(actor):
        return Q(pk__in=[])
    pools = pool_ids_for(actor)
    if pools is None or pools[2]:
        # Every pool (the usual single default pool, open to all): no pool test, so the count of the
        # pool is read from the owner index alone.
        return Q(owner__isnull=True)
    ids, default_too, _every = pools
    in_pools = Q(pool_id__in=sorted(ids))
    if default_too:
        in_pools |= Q(pool__isnull=True)
    return Q(owner__isnull=True) & in_pools


def _collaborations(actor):
    """Ids of the customers ``actor`` collaborates on, as a subquery."""
    return CustomerCollaborator.objects.filter(user=actor).order_by().values("customer_id")


def customer_visible_q(actor, field: str = "customer", *, or_none: bool = False) -> Q:
    """Rows whose ``field`` (a foreign key to ``Customer``) is a customer ``actor`` may see: the rule of
    ``Customer.objects.visible_to`` for what hangs off a customer (contacts, interactions, tickets).
    ``or_none``: rows without a customer pass too (a ticket of an unknown caller).

    For the 全部 scope every live customer is visible, so the test is "not one of the few deleted or
    merged customers" — two partial-index reads — rather than ``IN (every live customer)``, which makes
    SQLite build and PostgreSQL hash a million ids for every list, count and screen pop."""
    if sees_every_customer(actor):
        return live_customer_q(field, or_none=or_none)
    visible = Q(**{f"{field}__in": _visible_ids(actor) if can(actor, Perm.CUSTOMER_VIEW) else []})
    return visible | Q(**{f"{field}__isnull": True}) if or_none else visible


def sees_every_customer(actor) -> bool:
    """Whether ``actor`` sees every live customer (the 全部 data scope with the customer view permission):
    then ``visible_to`` and ``customer_visible_q`` are "live" (:data:`LIVE`, :func:`live_customer_q`), and
    a company-wide figure is this reader's figure."""
    return can(actor, Perm.CUSTOMER_VIEW) and sees_all(actor)


def live_customer_q(field: str = "customer", *, or_none: bool = False) -> Q:
    """``customer_visible_q`` of the 全部 scope: rows whose ``field`` is a live customer (not deleted, not
    merged) — also what a company-wide figure stored for such readers reads (ADR 0019)."""
    deleted = Customer.objects.filter(deleted_at__isnull=False).order_by().values("pk")
    gone = deleted.union(Customer.objects.filter(merged_into__isnull=False).order_by().values("pk"))
    not_gone = ~Q(**{f"{field}__in": gone})  # on a nullable field Django lets NULL through
    return not_gone if or_none else not_gone & Q(**{f"{field}__isnull": False})


def _visible_ids(actor):
    """The ids of the customers ``actor`` sees under a limited scope — ``visible_to``'s rows — as ONE
    union of live customers: owned in scope ∪ collaborated on ∪ in the actor's pools. ``visible_to``'s
    shape, ``id IN (owned ∪ collaborations) OR <pool>``, makes PostgreSQL test the OR row by row through a
    subplan; when the ids do not fit in ``work_mem`` it walks the whole list for every customer (the ANA-6
    report of a department manager with 294,000 customers ran for minutes, issue-5 benchmark). An IN over
    one union is a hashed semi-join."""
    live = Customer.objects.filter(LIVE).order_by()
    parts = [live.filter(pk__in=_collaborations(actor)).values("id")]
    if _sees_pool(actor):
        parts.append(live.filter(_pool_q(actor)).values("id"))
    return live.filter(owner_scope_q(actor)).values("id").union(*parts)


class CustomerQuerySet(models.QuerySet):
    def visible_to(self, actor, *, part: str = "all", owners: set[int] | None = None) -> CustomerQuerySet:
        """The only row filter for customers (SEC-1): owner in scope, collaborator, or public pool.

        ``part`` narrows it for list scenes without repeating the rule: ``"owned"`` (customers with an
        owner the actor may see), ``"pool"`` (the public pool, for those who may see it), ``"all"``.
        For a limited scope the owned part is one ``id IN (owned UNION collaborations)`` subquery,
        which the database answers from the owner index — an OR of the two makes it scan the table —
        and, on PostgreSQL, ``"all"`` one ``id IN (owned UNION collaborations UNION pool)``
        (:func:`_visible_ids`).
        ``visible_parts`` splits the same rows into disjoint pieces for lists and counts.

        ``owners`` narrows the owned part to customers of those owners (a view scope: the actor's own,
        the team's): owners within the actor's data scope by the owner index alone, any other only
        where the actor collaborates — the same rows as ``visible_to(actor, part="owned")`` of those
        owners, without the subquery.
        """
        if not can(actor, Perm.CUSTOMER_VIEW):
            return self.none()
        live = self.filter(LIVE)
        if owners is not None:
            if part != "owned":
                raise ValueError("owners= narrows the owned part only")
            in_scope = owner_ids_in_scope(actor)
            direct = set(owners) if in_scope is None else set(owners) & in_scope
            rest = set(owners) - direct
            owners_q = Q(owner_id__in=sorted(direct)) if direct else Q(pk__in=[])
            if len(direct) == 1:
                owners_q = Q(owner_id=next(iter(direct)))
            if rest:
                owners_q |= Q(owner_id__in=sorted(rest), pk__in=_collaborations(actor))
            return live.filter(owners_q)
        pool_q = _pool_q(actor)
        if part == "pool":
            return live.filter(pool_q)
        if sees_all(actor):
            owned_q = Q(owner__isnull=False)
            return live.filter(owned_q) if part == "owned" else live.filter(owned_q | pool_q)
        owned = Customer.objects.filter(owner_scope_q(actor), LIVE).order_by().values("id")
        owned_q = Q(pk__in=owned.union(_collaborations(actor)))
        if part == "owned":
            return live.filter(owned_q)
        in_scope = owner_ids_in_scope(actor)
        if connections[self.db].vendor == "postgresql" and (in_scope is None or len(in_scope) > 1):
            # A team's or department's customers: one IN over one union (owned ∪ collaborations ∪ pool),
            # not "IN (owned ∪ collaborations) OR pool". Beside the OR, PostgreSQL tests a subplan row
            # by row, walking the whole list when it does not fit in work_mem. For a department manager
            # with 323,000 visible customers (issue-5 benchmark data) a count ran over 20 s (cancelled),
            # a customer's page took 0.1 s, the customer picker 1.2 s; in this form 1.0 s, 6 ms, 0.3 s.
            # One owner's customers (a rep's) stay in the OR form: the list is small, and the picker
            # finds its first rows among the pool's at once (6 ms, against 0.45 s in this form).
            # SQLite plans the OR form better in both cases.
            return live.filter(pk__in=_visible_ids(actor))
        return live.filter(owned_q | pool_q)

    def visible_parts(self, actor, *, part: str = "all") -> list[CustomerQuerySet]:
        """``visible_to(actor, part)`` as disjoint querysets whose union is exactly those rows.

        Each piece is one an index serves on its own — customers of the owners in scope (the
        ``customer_live_owner`` index, already in ``updated_at`` order), customers the actor only
        collaborates on (a handful), the public pool — so a list sorts and counts each piece apart
        and touches only the rows it shows, where ``id IN (owned UNION collaborations)`` makes the
        database fetch and sort every visible row for each page.
        """
        if not can(actor, Perm.CUSTOMER_VIEW):
            return []
        live = self.filter(LIVE)
        pool_visible = _sees_pool(actor)
        parts: list[CustomerQuerySet] = []
        if part in ("all", "owned"):
            if sees_all(actor):
                parts.append(live.filter(owner__isnull=False))
            else:
                scope = owner_scope_q(actor)
                parts.append(live.filter(scope))
                # The ids themselves, not a subquery: with a subquery PostgreSQL, misjudging how many
                # rows a trigram search matches, hashes all the matches instead of probing a few ids.
                ids = list(_collaborations(actor).values_list("customer_id", flat=True)[: MAX_LISTED_IDS + 1])
                if ids:
                    ids_q = Q(pk__in=_collaborations(actor)) if len(ids) > MAX_LISTED_IDS else Q(pk__in=ids)
                    collaborating = live.filter(ids_q).exclude(scope)
                    if part == "all" and pool_visible:
                        collaborating = collaborating.filter(owner__isnull=False)  # the pool piece has them
                    parts.append(collaborating)
        if part in ("all", "pool") and pool_visible:
            parts.append(live.filter(_pool_q(actor)))
        return parts

    def editable_by(self, actor) -> CustomerQuerySet:
        """Rows ``actor`` may change: in scope (not only read-only collaboration)."""
        if not can(actor, Perm.CUSTOMER_EDIT):
            return self.none()
        q = owner_scope_q(actor) | Q(
            pk__in=CustomerCollaborator.objects.filter(user=actor, can_edit=True).values("customer_id")
        )
        if can(actor, Perm.POOL_VIEW):
            q |= _pool_q(actor)
        return self.filter(q, deleted_at__isnull=True, merged_into__isnull=True)

    def recycled_visible_to(self, actor) -> CustomerQuerySet:
        """Soft-deleted customers in the recycle bin, by the same owner scope."""
        if not can(actor, Perm.CUSTOMER_RESTORE):
            return self.none()
        return self.filter(owner_scope_q(actor) | Q(owner__isnull=True), deleted_at__isnull=False)


class Pool(VersionedModel):
    """A public pool (公海, CUS-7): who may see and claim its customers, who runs it, and its rules.

    Customers without an owner sit in a pool (``Customer.pool``; none = the default pool). An owned
    customer returns to its pool when nobody followed it up for ``no_follow_up_days`` or it has not
    closed a deal for ``no_deal_days`` (per customer level, ``PoolLevelRule``), unless exempt.
    """

    name = models.CharField(_("公海名称"), max_length=60, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    is_default = models.BooleanField(_("默认公海"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="pools", verbose_name=_("成员")
    )
    member_departments = models.ManyToManyField(
        "access.Department", blank=True, related_name="pools", verbose_name=_("成员部门")
    )
    admins = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="administered_pools", verbose_name=_("管理员")
    )
    no_follow_up_days = models.PositiveIntegerField(_("未跟进退回天数"), null=True, blank=True)
    no_deal_days = models.PositiveIntegerField(_("未成交退回天数"), null=True, blank=True)
    warn_days = models.PositiveIntegerField(_("提前提醒天数"), default=3)
    daily_claim_limit = models.PositiveIntegerField(_("每人每日领取上限"), null=True, blank=True)
    holding_cap = models.PositiveIntegerField(_("每人持有上限"), null=True, blank=True)
    cap_counts_closed = models.BooleanField(_("成交客户计入持有上限"), default=False)
    cooldown_days = models.PositiveIntegerField(_("原负责人再次领取间隔天数"), default=0)

    class Meta:
        ordering = ["-is_default", "name"]
        verbose_name = _("公海")
        verbose_name_plural = _("公海")

    def __str__(self) -> str:
        return self.name


class PoolLevelRule(models.Model):
    """Return rules of one customer level (value tier) in a pool; empty fields fall back to the pool's."""

    pool = models.ForeignKey(Pool, on_delete=models.CASCADE, related_name="level_rules")
    value_tier = models.CharField(_("价值等级"), max_length=12, choices=ValueTier.choices)
    no_follow_up_days = models.PositiveIntegerField(_("未跟进退回天数"), null=True, blank=True)
    no_deal_days = models.PositiveIntegerField(_("未成交退回天数"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "value_tier"], name="pool_level_once")]
        verbose_name = _("公海等级规则")
        verbose_name_plural = _("公海等级规则")

    def __str__(self) -> str:
        return f"{self.pool_id}:{self.value_tier}"


class PoolClaim(models.Model):
    """One claim from a pool: counted for the daily claim limit (CUS-7)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("Customer", on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "at"], name="pool_claim_user_at")]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.customer_id}"


class BirthdayFields(models.Model):
    """A birthday kept in the solar or the lunar calendar (MKT-3) and when it is next celebrated.

    A lunar birthday is stored as lunar (month, day, leap month); ``birthday`` keeps a solar date of
    birth when one is known. ``birthday_next`` is the solar date of the next celebration on or after
    the day it was computed — set on every save by the services and moved on by the daily
    ``birthday_refresh`` — so "birthdays in the next 7 days" is one index range.
    """

    birthday = models.DateField(_("生日"), null=True, blank=True)
    birthday_calendar = models.CharField(
        _("生日历法"), max_length=6, choices=BirthdayCalendar.choices, default=BirthdayCalendar.SOLAR
    )
    lunar_birth_month = models.PositiveSmallIntegerField(_("农历生日（月）"), null=True, blank=True)
    lunar_birth_day = models.PositiveSmallIntegerField(_("农历生日（日）"), null=True, blank=True)
    lunar_birth_leap = models.BooleanField(_("闰月"), default=False)
    birthday_next = models.DateField(_("下次生日（公历）"), null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def birthday_value(self) -> Any:
        """The birthday as ``rules.Birthday``."""
        from .rules import birthday_of

        return birthday_of(
            calendar=self.birthday_calendar,
            solar=self.birthday,
            month=self.lunar_birth_month,
            day=self.lunar_birth_day,
            leap=self.lunar_birth_leap,
        )

    @property
    def lunar_birthday_label(self) -> str:
        """农历八月十五 (and its solar date this year), or "" for a solar birthday."""
        from django.utils import timezone

        from .rules import birthday_label

        return birthday_label(self.birthday_value, on=timezone.localdate())

    @property
    def birthday_text(self) -> str:
        """The birthday as pages show it: 1980-09-23, or 农历八月十五 (9月25日) for a lunar one."""
        return self.lunar_birthday_label or (self.birthday.isoformat() if self.birthday else "")


class Customer(VersionedModel, SoftDeleteModel, BirthdayFields):
    """A company (企业客户) or individual (个人客户) and its archive (CUS-1, CUS-2).

    Classification columns hold the *effective* value; for derived dimensions
    ``overrides`` keeps who set a manual value, when and why.
    """

    kind = models.CharField(
        _("客户类型"), max_length=12, choices=CustomerKind.choices, default=CustomerKind.COMPANY
    )
    code = models.CharField(_("客户编号"), max_length=20, unique=True)
    name = models.CharField(_("客户名称"), max_length=120)
    name_normalized = models.CharField(max_length=120, db_index=True, editable=False)
    # Name, pinyin, initials, codes, numbers and the live contacts' keys (rules.customer_search_text).
    search_text = models.TextField(editable=False, default="")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True, db_index=True)
    id_number = models.CharField(_("身份证号"), max_length=18, blank=True, db_index=True)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, db_index=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    # rules.phone_key(phone), kept by every write of phone: a caller is found by one indexed equality
    # lookup on it or on mobile (SVC-3). Index customer_phone_key below.
    phone_key = models.CharField(max_length=20, blank=True, default="", editable=False)
    email = models.EmailField(_("邮箱"), blank=True)
    website = models.CharField(_("网址"), max_length=200, blank=True)
    wechat = models.CharField(_("微信"), max_length=60, blank=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True, default="")

    industry = models.ForeignKey(
        Option,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("行业"),
        limit_choices_to={"kind": OptionKind.INDUSTRY},
    )
    size = models.CharField(_("规模"), max_length=12, choices=Size.choices, blank=True)
    relation = models.CharField(
        _("客户关系"), max_length=12, choices=Relation.choices, default=Relation.CONSUMER
    )
    value_tier = models.CharField(
        _("价值等级"), max_length=12, choices=ValueTier.choices, default=ValueTier.SMALL
    )
    loyalty = models.CharField(_("忠诚度"), max_length=12, choices=Loyalty.choices, default=Loyalty.POTENTIAL)
    status = models.CharField(_("客户状态"), max_length=12, choices=Status.choices, default=Status.POTENTIAL)
    deal_status = models.CharField(
        _("成交状态"), max_length=12, choices=DealStatus.choices, default=DealStatus.POTENTIAL
    )
    need_status = models.CharField(
        _("需求状态"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.POTENTIAL
    )
    overrides = models.JSONField(_("人工调整"), default=dict, blank=True)
    screened = models.BooleanField(_("已通过初步筛选"), default=False)

    source = models.ForeignKey(
        Option,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("客户来源"),
        limit_choices_to={"kind": OptionKind.SOURCE},
    )
    source_detail = models.CharField(_("来源说明"), max_length=200, blank=True)
    needs = models.TextField(_("需求"), blank=True)
    preferences = models.TextField(_("偏好"), blank=True)
    notes = models.TextField(_("备注"), blank=True)
    province = models.CharField(_("省份"), max_length=20, blank=True)
    city = models.CharField(_("城市"), max_length=30, blank=True)
    district = models.CharField(_("区县"), max_length=30, blank=True)
    address = models.CharField(_("详细地址"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="customers", verbose_name=_("标签"))

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_customers",
        verbose_name=_("负责人"),
        db_index=False,  # served by the customer_live_owner index below
    )
    owner_since = models.DateTimeField(_("领取/分配时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    last_contact_at = models.DateTimeField(_("最近联系时间"), null=True, blank=True)
    # ENG-2: set from the latest interaction's next step; the urgency bucket is derived from the date.
    next_follow_up_on = models.DateField(_("下次跟进日期"), null=True, blank=True)
    next_follow_up_action = models.CharField(_("下次跟进事项"), max_length=200, blank=True)
    # Facts kept up to date by the sales chain (issue 4); classification rules read them.
    first_order_date = models.DateField(_("首次成交日期"), null=True, blank=True)
    last_order_date = models.DateField(_("最近成交日期"), null=True, blank=True)
    order_count = models.PositiveIntegerField(_("成交次数"), default=0)
    revenue_12m = models.DecimalField(
        _("近12个月成交额"), max_digits=16, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    # Kept by the sales pipeline: an open opportunity makes a customer without orders 意向客户 (CUS-2).
    has_open_opportunity = models.BooleanField(_("有进行中的商机"), default=False)
    # The public pool (CUS-7): which pool the customer belongs to (none = the default pool), whether it
    # is locked against automatic return, and who held it last (for the cool-down before reclaiming).
    pool = models.ForeignKey(
        Pool,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="customers",
        verbose_name=_("所属公海"),
    )
    pool_locked = models.BooleanField(_("锁定（不自动退回公海）"), default=False)
    previous_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("原负责人"),
    )
    released_at = models.DateTimeField(_("退回公海时间"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="merged_from",
        verbose_name=_("已合并到"),
        db_index=False,  # partial index customer_merged_from below
    )

    objects = CustomerQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        # Lists read live customers only, so the list indexes are partial: they hold just the live rows,
        # count by owner without touching the table, and give the updated_at order directly.
        indexes = [
            # Also read alone, by name, by the analytics refresh (analytics.facts.start_customers).
            models.Index(fields=["owner", "updated_at", "id"], name="customer_live_owner", condition=LIVE),
            models.Index(fields=["updated_at", "id"], name="customer_live_updated", condition=LIVE),
            models.Index(
                fields=["owner", "next_follow_up_on"], name="customer_live_follow_up", condition=LIVE
            ),
            models.Index(fields=["owner", "last_contact_at"], name="customer_live_contacted", condition=LIVE),
            # Birthdays in the next days (MKT-3), per owner: one range over the next celebration dates.
            models.Index(
                fields=["owner", "birthday_next"],
                name="customer_live_birthday",
                condition=LIVE & Q(birthday_next__isnull=False),
            ),
            # New customers in a period per owner (the home dashboard, ANA-8).
            models.Index(fields=["owner", "created_at"], name="customer_live_created", condition=LIVE),
            # New customers in a period across every owner (全部: the funnel's direct customers, ANA-7):
            # without it a period of 1M customers is a scan of the whole table.
            models.Index(fields=["created_at"], name="customer_live_created_at", condition=LIVE),
            # Pool customers by pool, for members who see only some pools. It leads with owner (always NULL
            # here) so that "owner IS NULL AND pool …" matches two of its columns: otherwise SQLite, which
            # has no statistics unless ANALYZE ran, takes any (owner, …) index above and reads ~50,000
            # rows of the table to count the pool (130 ms instead of 4 ms at 1M customers).
            models.Index(
                fields=["owner", "pool"],
                name="customer_in_pool_by_pool",
                condition=LIVE & Q(owner__isnull=True),
            ),
            models.Index(
                fields=["owner", "deleted_at"],
                name="customer_recycled",
                condition=models.Q(deleted_at__isnull=False),
            ),
            models.Index(
                fields=["merged_into"],
                name="customer_merged_from",
                condition=models.Q(merged_into__isnull=False),
            ),
            # The caller's number (SVC-3): equality only. A Meta index, not db_index=True, which on
            # PostgreSQL adds a second (varchar_pattern_ops) index for LIKE that no query here uses.
            models.Index(fields=["phone_key"], name="customer_phone_key"),
        ]
        verbose_name = _("客户")
        verbose_name_plural = _("客户")

    def __str__(self) -> str:
        return self.name

    # Labels for list rows: an enum lookup, where get_FOO_display rebuilds the choices dict per call.
    @property
    def value_tier_label(self) -> str:
        return (
            str(ValueTier(self.value_tier).label) if self.value_tier in ValueTier.values else self.value_tier
        )

    @property
    def status_label(self) -> str:
        return str(Status(self.status).label) if self.status in Status.values else self.status

    # Set by the list selector for owned rows (距退回公海); None when the customer never returns.
    pool_return_on: date | None = None
    pool_due_soon = False  # within the pool's warning period

    @property
    def days_to_pool(self) -> int | None:
        from django.utils import timezone

        return (self.pool_return_on - timezone.localdate()).days if self.pool_return_on else None

    @property
    def urgency(self) -> str:
        """The ENG-2 bucket of the next follow-up date, as of today in Asia/Shanghai."""
        from django.utils import timezone

        from .rules import urgency_bucket

        return urgency_bucket(self.next_follow_up_on, today=timezone.localdate())

    @property
    def urgency_label(self) -> str:
        return str(Urgency(self.urgency).label)


class CustomerCollaborator(models.Model):
    """A user who works on a customer they do not own: read-only or read-write (issue 2)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="collaborators")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="collaborations"
    )
    can_edit = models.BooleanField(_("可编辑"), default=False)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="collaborator_unique")]
        indexes = [models.Index(fields=["user", "customer"], name="collaborator_user")]

    def __str__(self) -> str:
        return f"{self.user_id}→{self.customer_id} ({'rw' if self.can_edit else 'ro'})"


class ContactQuerySet(models.QuerySet):
    def visible_to(self, actor) -> ContactQuerySet:
        """Contacts are visible exactly when their customer is."""
        return self.filter(customer_visible_q(actor), deleted_at__isnull=True)


class Contact(VersionedModel, SoftDeleteModel, BirthdayFields):
    """A person at a customer (CUS-3): one of them is primary; ``reports_to`` builds the org chart."""

    customer = models.ForeignKey(
        Customer,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("客户"),
        db_index=False,  # served by contact_customer below
    )
    name = models.CharField(_("姓名"), max_length=60)
    search_text = models.CharField(max_length=300, editable=False, default="")
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True, default="")
    position = models.CharField(_("职务"), max_length=60, blank=True)
    department = models.CharField(_("部门"), max_length=60, blank=True)
    mobile = models.CharField(_("手机号"), max_length=11, blank=True, db_index=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    phone_key = models.CharField(max_length=20, blank=True, default="", editable=False)  # SVC-3, indexed
    email = models.EmailField(_("邮箱"), blank=True)
    wechat = models.CharField(_("微信"), max_length=60, blank=True)
    is_primary = models.BooleanField(_("主要联系人"), default=False)
    reports_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reports",
        verbose_name=_("汇报对象"),
    )
    notes = models.TextField(_("备注"), blank=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["-is_primary", "id"]
        indexes = [
            models.Index(fields=["customer", "deleted_at"], name="contact_customer"),
            # Birthdays in the next days (MKT-3): the few contacts celebrating soon, then their customers.
            models.Index(
                fields=["birthday_next", "customer"],
                name="contact_birthday",
                condition=Q(deleted_at__isnull=True, birthday_next__isnull=False),
            ),
            models.Index(fields=["phone_key"], name="contact_phone_key"),  # the caller's number (SVC-3)
        ]
        verbose_name = _("联系人")
        verbose_name_plural = _("联系人")

    def __str__(self) -> str:
        return self.name
