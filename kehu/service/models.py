"""Customer service and the call centre (SVC-1 … SVC-5): tickets and complaints with their SLA clocks,
the teams that work them, SLA policies, escalation rules and the working calendar."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.models import VersionedModel
from kehu.customers.choices import ValueTier
from kehu.engagement.models import attachment_storage

from .choices import (
    OPEN_STATUSES,
    Category,
    Channel,
    Clock,
    Distribution,
    EscalationAction,
    EscalationWhen,
    HandlingStrategy,
    MessageKind,
    Priority,
    RootCause,
    TicketKind,
    TicketStatus,
    TimeBasis,
)


class ServiceSettings(VersionedModel):
    """The one row of service-wide settings (``pk=1``): working hours for business-hours SLAs, how long
    a resolved ticket may be reopened, what "breaching soon" means, the local area code for callers
    who dial without one, and whether a call that resolved a problem gets a next-day follow-up call."""

    work_windows = models.JSONField(
        _("工作时段"), default=list, help_text=_('如 [["09:00", "12:00"], ["13:00", "18:00"]]')
    )
    reopen_days = models.PositiveSmallIntegerField(_("可重新打开的天数"), default=7)
    soon_minutes = models.PositiveIntegerField(_("即将超时提前量（分钟）"), default=120)
    local_area_code = models.CharField(_("本地区号"), max_length=5, blank=True, default="")
    follow_up_resolved_calls = models.BooleanField(_("来电解决后次日回访"), default=True)
    default_team = models.ForeignKey(
        "ServiceTeam", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("默认客服组"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("服务设置")
        verbose_name_plural = _("服务设置")

    def __str__(self) -> str:
        return "service settings"


class CalendarDay(models.Model):
    """An administrator's entry in the working calendar: a day off or a working day (调休) that the
    ``chinesecalendar`` data and the statutory rule do not know — typically next year's arrangement
    once the State Council publishes it. Wins over both (``sla.WorkCalendar``)."""

    day = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("上班"))
    name = models.CharField(_("说明"), max_length=40, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["day"]
        verbose_name = _("工作日历")
        verbose_name_plural = _("工作日历")

    def __str__(self) -> str:
        return f"{self.day} {'上班' if self.is_workday else '休息'}"


class ServiceTeam(VersionedModel):
    """A team of agents (客服组) with its supervisor and the way new tickets are distributed among the
    members (SVC-4). ``kinds`` lists the ticket kinds the team takes (empty: all); the first active
    team in ``position`` order that takes a kind receives its new tickets. ``last_distributed_at`` is
    written first by every distribution — the row lock that makes concurrent ones take turns."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("主管"),
    )  # fmt: skip
    distribution = models.CharField(
        _("分配方式"), max_length=12, choices=Distribution.choices, default=Distribution.ROUND_ROBIN
    )
    kinds = models.JSONField(_("受理的工单类型"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)
    last_distributed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("客服组")
        verbose_name_plural = _("客服组")

    def __str__(self) -> str:
        return self.name


class TeamMember(models.Model):
    """An agent in a team, with the ticket categories they are skilled in (for distribution by skill)
    and when they were last given a ticket (round robin takes the one waiting longest)."""

    team = models.ForeignKey(ServiceTeam, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="service_teams")
    skills = models.JSONField(_("技能（工单类别）"), default=list, blank=True)
    last_assigned_at = models.DateTimeField(null=True, blank=True)
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="team_member_once")]
        verbose_name = _("客服组成员")
        verbose_name_plural = _("客服组成员")

    def __str__(self) -> str:
        return f"{self.team_id}:{self.user_id}"


class AgentPresence(models.Model):
    """Whether an agent is away (离开: no new tickets are distributed to them) — set by the agent."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="service_presence"
    )
    is_away = models.BooleanField(_("离开"), default=False)
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("客服在线状态")
        verbose_name_plural = _("客服在线状态")

    def __str__(self) -> str:
        return f"{self.user_id} {'away' if self.is_away else 'available'}"


class SlaPolicy(VersionedModel):
    """A service commitment (服务承诺, SVC-5): first-response and resolution targets for tickets of a
    kind, category, customer value tier and priority (each blank = any), on calendar time or on business
    hours. The most specific active policy matching a new ticket applies; ties go to the lower position."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    kind = models.CharField(_("工单类型"), max_length=12, choices=TicketKind.choices, blank=True)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices, blank=True)
    value_tier = models.CharField(_("客户价值等级"), max_length=12, choices=ValueTier.choices, blank=True)
    priority = models.CharField(_("优先级"), max_length=8, choices=Priority.choices, blank=True)
    first_response_minutes = models.PositiveIntegerField(_("首次响应时限（分钟）"))
    resolution_minutes = models.PositiveIntegerField(_("解决时限（分钟）"))
    basis = models.CharField(
        _("计时方式"), max_length=10, choices=TimeBasis.choices, default=TimeBasis.CALENDAR
    )
    position = models.PositiveSmallIntegerField(_("顺序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("SLA 策略")
        verbose_name_plural = _("SLA 策略")

    def __str__(self) -> str:
        return self.name


class EscalationRule(VersionedModel):
    """What happens when a clock nears or passes its deadline (SVC-2): ``minutes`` before or after the
    first-response or resolution deadline of open tickets of ``kind`` (blank = any), notify the handler,
    reassign within the team, or escalate to the team's supervisor or the department manager. Each rule
    fires at most once per ticket and deadline (``TicketEscalation``)."""

    name = models.CharField(_("名称"), max_length=60, unique=True)
    kind = models.CharField(_("工单类型"), max_length=12, choices=TicketKind.choices, blank=True)
    clock = models.CharField(_("时钟"), max_length=16, choices=Clock.choices)
    when = models.CharField(_("时机"), max_length=8, choices=EscalationWhen.choices)
    minutes = models.PositiveIntegerField(_("分钟"), default=0)
    action = models.CharField(_("动作"), max_length=12, choices=EscalationAction.choices)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("升级规则")
        verbose_name_plural = _("升级规则")

    def __str__(self) -> str:
        return self.name


class TicketQuerySet(models.QuerySet):
    def visible_to(self, actor: Any) -> TicketQuerySet:
        """Tickets of customers the actor may see (``Customer.objects.visible_to``, the one row rule),
        tickets without a customer yet (an unknown caller) for anyone who may read tickets, and the
        tickets assigned to the actor.

        For the 全部 scope (agents, the service lead, the admin) ``customer_visible_q`` tests "the customer
        is not deleted or merged" rather than ``customer_id IN (every live customer)``."""
        from kehu.access.perms import Perm
        from kehu.access.scope import can
        from kehu.customers.models import customer_visible_q

        if actor is None or not getattr(actor, "is_authenticated", False) or not can(actor, Perm.TICKET_VIEW):
            return self.none()
        return self.filter(customer_visible_q(actor, or_none=True) | Q(assignee=actor))

    def open(self) -> TicketQuerySet:
        return self.filter(status__in=OPEN_STATUSES)


class Ticket(VersionedModel):
    """A service request or complaint (服务工单 / 投诉, SVC-1, SVC-2) with its two SLA clocks (SVC-5).

    The clocks: ``first_response_due_at`` / ``resolution_due_at`` come from the SLA policy when the
    ticket is created; the first reply to the customer (or a complaint's acknowledgement) stamps
    ``first_responded_at``, resolving stamps ``resolved_at``. While waiting for the customer
    (``paused_at`` set) the clocks stop: resuming pushes the open deadlines back by the paused time."""

    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=12, choices=TicketKind.choices)
    category = models.CharField(_("类别"), max_length=20, choices=Category.choices)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("问题描述"), blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="tickets",
        verbose_name=_("客户"),
    )  # fmt: skip
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
        verbose_name=_("联系人"),
    )  # fmt: skip
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
        verbose_name=_("相关订单"),
    )  # fmt: skip
    product = models.ForeignKey(
        "catalog.Product", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
        verbose_name=_("相关产品"),
    )  # fmt: skip
    # An unknown caller's name and number, until the ticket is linked to a customer.
    caller_name = models.CharField(_("来电人"), max_length=60, blank=True)
    caller_phone = models.CharField(_("来电号码"), max_length=30, blank=True)
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.PHONE)
    priority = models.CharField(_("优先级"), max_length=8, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(
        _("状态"), max_length=14, choices=TicketStatus.choices, default=TicketStatus.NEW
    )
    team = models.ForeignKey(
        ServiceTeam, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
        verbose_name=_("客服组"),
    )  # fmt: skip
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets",
        verbose_name=_("处理人"),
    )  # fmt: skip
    assigned_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("登记人"),
    )  # fmt: skip
    sla_policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets",
        verbose_name=_("SLA 策略"),
    )  # fmt: skip
    basis = models.CharField(
        _("计时方式"), max_length=10, choices=TimeBasis.choices, default=TimeBasis.CALENDAR
    )
    first_response_due_at = models.DateTimeField(_("首次响应期限"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    resolution_due_at = models.DateTimeField(_("解决期限"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    paused_at = models.DateTimeField(_("暂停计时于"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    resolution = models.TextField(_("处理结果"), blank=True)
    # The complaint process (SVC-2): the cause found objectively, the measures against recurrence, how it
    # was handled, and the revisit.
    root_cause = models.CharField(_("根本原因"), max_length=16, choices=RootCause.choices, blank=True)
    root_cause_detail = models.TextField(_("原因分析"), blank=True)
    corrective_measures = models.TextField(_("纠正与预防措施"), blank=True)
    handling_strategy = models.CharField(
        _("处理策略"), max_length=16, choices=HandlingStrategy.choices, blank=True
    )
    customer_confirmed_at = models.DateTimeField(_("客户确认时间"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(_("客户满意度"), null=True, blank=True)
    revisit_note = models.TextField(_("回访记录"), blank=True)
    revisit_task = models.ForeignKey(
        "engagement.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("回访任务"),
    )  # fmt: skip
    reopened_count = models.PositiveSmallIntegerField(_("重新打开次数"), default=0)
    escalation_level = models.PositiveSmallIntegerField(_("升级级别"), default=0)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["assignee", "status", "resolution_due_at"], name="ticket_assignee_queue"),
            models.Index(fields=["team", "status", "resolution_due_at"], name="ticket_team_queue"),
            models.Index(fields=["status", "first_response_due_at"], name="ticket_status_response"),
            models.Index(fields=["customer", "created_at"], name="ticket_customer"),
            models.Index(fields=["kind", "product", "root_cause"], name="ticket_kind_product"),
            # The customer too: the analytics refresh's year of tickets per customer is read from the
            # index alone (SQLite: 0.14 s for 300,000 tickets, against 0.87 s through created_at alone
            # and a lookup of each ticket's row).
            models.Index(fields=["created_at", "customer"], name="ticket_created_customer"),
            # Status and resolution deadline first (the queues' order), then every other column the
            # queue tabs count by: counting them is one index-only pass over the open statuses' ranges
            # (SVC-1). Not partial: Django binds the statuses as parameters, and SQLite does not use a
            # partial index whose condition it cannot prove from the statement's text.
            models.Index(
                fields=[
                    "status",
                    "resolution_due_at",
                    "first_response_due_at",
                    "first_responded_at",
                    "resolved_at",
                    "paused_at",
                    "customer",
                    "assignee",
                    "team",
                    "id",
                ],
                name="ticket_queue_clocks",
            ),
        ]
        verbose_name = _("服务工单")
        verbose_name_plural = _("服务工单")

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_complaint(self) -> bool:
        return self.kind == TicketKind.COMPLAINT

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketMessage(models.Model):
    """One entry of a ticket's conversation: a reply to the customer, an internal note the customer
    never sees, or what the customer wrote (SVC-1)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("类型"), max_length=10, choices=MessageKind.choices)
    body = models.TextField(_("内容"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ticket", "at"], name="ticket_message_at")]
        verbose_name = _("工单沟通记录")
        verbose_name_plural = _("工单沟通记录")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.kind}"


class TicketAttachment(models.Model):
    """A file on a ticket (photo of the fault, invoice, report), checked by content and stored outside
    the web root like every attachment; served only to those who see the ticket."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    message = models.ForeignKey(
        TicketMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="attachments"
    )
    file = models.FileField(_("文件"), storage=attachment_storage, upload_to="tickets/%Y/%m/", max_length=200)
    name = models.CharField(_("文件名"), max_length=120)
    content_type = models.CharField(_("类型"), max_length=120)
    size = models.PositiveIntegerField(_("大小（字节）"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("工单附件")
        verbose_name_plural = _("工单附件")

    def __str__(self) -> str:
        return self.name


class TicketEscalation(models.Model):
    """An escalation that happened (SVC-2): by a rule (``rule`` set, the system) or by a person, with the
    clock it concerned, what was done, from whom to whom and why. Every escalation is kept."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="escalations")
    rule = models.ForeignKey(
        EscalationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    clock = models.CharField(_("时钟"), max_length=16, choices=Clock.choices, blank=True)
    action = models.CharField(_("动作"), max_length=12, choices=EscalationAction.choices)
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    # Which deadline the rule fired for: a reopened or resumed ticket gets new deadlines, and the rule may
    # fire again for those.
    deadline = models.DateTimeField(null=True, blank=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "rule", "deadline"],
                condition=Q(rule__isnull=False),
                name="escalation_rule_once",
            )
        ]
        verbose_name = _("升级记录")
        verbose_name_plural = _("升级记录")

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.action}"


class IncomingCall(models.Model):
    """A call ringing at an agent's extension, reported by the telephony system (CTI) so the agent's
    browser can pop the caller's screen (SVC-3). Shown once (``seen_at``), then kept as the ring log."""

    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="incoming_calls"
    )
    number = models.CharField(_("来电号码"), max_length=40)
    rang_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-rang_at", "-id"]
        indexes = [models.Index(fields=["agent", "seen_at", "rang_at"], name="incoming_call_agent")]
        verbose_name = _("来电")
        verbose_name_plural = _("来电")

    def __str__(self) -> str:
        return f"{self.agent_id} {self.number}"
