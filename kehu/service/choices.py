"""The vocabulary of customer service (SVC-1 … SVC-5) and the ticket state machines.

Two tracks share one status set: an ordinary service ticket (consultation, order progress, after-sale
service, technical support, training) and a complaint, whose process the sources spell out — acknowledge,
investigate, resolve with measures that prevent recurrence, revisit, close with the customer's
satisfaction. ``TRANSITIONS`` says which verb moves which track from where to where; one service per verb.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class TicketKind(models.TextChoices):
    PRESALE = "presale", _("售前咨询")
    INSALE = "insale", _("售中服务")
    AFTERSALE = "aftersale", _("售后服务")
    SUPPORT = "support", _("技术支持")
    TRAINING = "training", _("培训")
    COMPLAINT = "complaint", _("投诉")


class Category(models.TextChoices):
    PRODUCT_INFO = "product_info", _("产品咨询")
    PRICE = "price", _("价格与方案咨询")
    ORDER_PROGRESS = "order_progress", _("订单进度")
    DELIVERY_CHANGE = "delivery_change", _("交付变更")
    USAGE = "usage", _("使用指导")
    TROUBLESHOOTING = "troubleshooting", _("故障排除")
    REPAIR = "repair", _("维修")
    RETURN_EXCHANGE = "return_exchange", _("退换货")
    INSTALLATION = "installation", _("安装调试")
    TECHNICAL = "technical", _("技术问题")
    TRAINING = "training", _("培训")
    PRODUCT_QUALITY = "product_quality", _("产品质量")
    DELIVERY = "delivery", _("交付与运输")
    SERVICE_ATTITUDE = "service_attitude", _("服务态度")
    CONTRACT_TERMS = "contract_terms", _("合同条款")
    BILLING = "billing", _("价格与账单")
    OTHER = "other", _("其他")


# Which categories each kind offers (the form narrows the select; the service refuses a mismatch).
KIND_CATEGORIES: dict[str, tuple[str, ...]] = {
    TicketKind.PRESALE: (Category.PRODUCT_INFO, Category.PRICE, Category.OTHER),
    TicketKind.INSALE: (Category.ORDER_PROGRESS, Category.DELIVERY_CHANGE, Category.OTHER),
    TicketKind.AFTERSALE: (
        Category.USAGE,
        Category.TROUBLESHOOTING,
        Category.REPAIR,
        Category.RETURN_EXCHANGE,
        Category.OTHER,
    ),
    TicketKind.SUPPORT: (Category.TECHNICAL, Category.INSTALLATION, Category.OTHER),
    TicketKind.TRAINING: (Category.TRAINING, Category.OTHER),
    TicketKind.COMPLAINT: (
        Category.PRODUCT_QUALITY,
        Category.DELIVERY,
        Category.SERVICE_ATTITUDE,
        Category.CONTRACT_TERMS,
        Category.BILLING,
        Category.OTHER,
    ),
}


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    EMAIL = "email", _("邮件")
    WEB = "web", _("网站/在线客服")
    WECHAT = "wechat", _("微信")
    VISIT = "visit", _("上门/到店")
    LETTER = "letter", _("信函")
    API = "api", _("系统对接")


class Priority(models.TextChoices):
    URGENT = "urgent", _("紧急")
    HIGH = "high", _("高")
    NORMAL = "normal", _("普通")
    LOW = "low", _("低")


PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}


class TicketStatus(models.TextChoices):
    NEW = "new", _("新建")
    OPEN = "open", _("处理中")
    ACKNOWLEDGED = "acknowledged", _("已受理")
    INVESTIGATING = "investigating", _("调查中")
    WAITING = "waiting", _("等待客户")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")
    CANCELLED = "cancelled", _("已取消")


# Work is still owed on these (queues, least-open-work counts, SLA clocks running unless waiting).
OPEN_STATUSES = (
    TicketStatus.NEW,
    TicketStatus.OPEN,
    TicketStatus.ACKNOWLEDGED,
    TicketStatus.INVESTIGATING,
    TicketStatus.WAITING,
)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED, TicketStatus.CANCELLED)

TICKET, COMPLAINT = "ticket", "complaint"
S = TicketStatus

# verb -> {track: (from statuses, to status)}. A verb missing for a track is not allowed on it.
TRANSITIONS: dict[str, dict[str, tuple[tuple[str, ...], str]]] = {
    "start": {TICKET: ((S.NEW,), S.OPEN)},
    "acknowledge": {COMPLAINT: ((S.NEW,), S.ACKNOWLEDGED)},
    "investigate": {COMPLAINT: ((S.ACKNOWLEDGED,), S.INVESTIGATING)},
    # Waiting for the customer pauses the SLA clocks; resume returns to where the work was.
    "wait": {
        TICKET: ((S.OPEN,), S.WAITING),
        COMPLAINT: ((S.ACKNOWLEDGED, S.INVESTIGATING), S.WAITING),
    },
    "resume": {TICKET: ((S.WAITING,), S.OPEN), COMPLAINT: ((S.WAITING,), S.INVESTIGATING)},
    "resolve": {
        TICKET: ((S.NEW, S.OPEN, S.WAITING), S.RESOLVED),
        COMPLAINT: ((S.INVESTIGATING,), S.RESOLVED),
    },
    # An ordinary ticket closes on the customer's confirmation (or the agent's close after no answer);
    # a complaint closes only through the revisit, which records the customer's satisfaction.
    "confirm": {TICKET: ((S.RESOLVED,), S.CLOSED)},
    "close": {TICKET: ((S.RESOLVED,), S.CLOSED)},
    "revisit": {COMPLAINT: ((S.RESOLVED,), S.CLOSED)},
    "reopen": {
        TICKET: ((S.RESOLVED, S.CLOSED), S.OPEN),
        COMPLAINT: ((S.RESOLVED, S.CLOSED), S.INVESTIGATING),
    },
    "cancel": {
        TICKET: ((S.NEW, S.OPEN, S.WAITING), S.CANCELLED),
        COMPLAINT: ((S.NEW,), S.CANCELLED),
    },
}

VERB_LABELS = {
    "start": _("开始处理"),
    "acknowledge": _("受理"),
    "investigate": _("开始调查"),
    "wait": _("等待客户"),
    "resume": _("继续处理"),
    "resolve": _("解决"),
    "confirm": _("客户确认"),
    "close": _("关闭"),
    "revisit": _("回访并关闭"),
    "reopen": _("重新打开"),
    "cancel": _("取消"),
}


def track_of(kind: str) -> str:
    return COMPLAINT if kind == TicketKind.COMPLAINT else TICKET


def allowed_verbs(kind: str, status: str) -> list[str]:
    """The verbs a ticket of ``kind`` in ``status`` may undergo, in table order (buttons, API hints)."""
    track = track_of(kind)
    return [verb for verb, tracks in TRANSITIONS.items() if track in tracks and status in tracks[track][0]]


class MessageKind(models.TextChoices):
    REPLY = "reply", _("回复客户")
    NOTE = "note", _("内部备注")
    CUSTOMER = "customer", _("客户来信")


class RootCause(models.TextChoices):
    """Where a complaint's cause lay, found objectively by the investigation (SVC-2)."""

    DESIGN = "design", _("设计缺陷")
    MATERIAL = "material", _("原材料/零部件")
    MANUFACTURING = "manufacturing", _("生产制造")
    TRANSPORT = "transport", _("运输与仓储")
    INSTALLATION = "installation", _("安装调试")
    STAFF = "staff", _("人员服务")
    PROCESS = "process", _("流程制度")
    CONTRACT = "contract", _("合同与承诺")
    CUSTOMER_USE = "customer_use", _("客户使用不当")
    OTHER = "other", _("其他")


class HandlingStrategy(models.TextChoices):
    """How a difficult complaint was handled, as the sources name the strategies (SVC-2)."""

    DIRECT = "direct", _("直接解决")
    SET_ASIDE = "set_aside", _("暂时搁置，择机再处理")
    CHANGE_HANDLER = "change_handler", _("更换处理人")
    HOLD_LINE = "hold_line", _("坚持原则")
    COMPROMISE = "compromise", _("折中妥协")


class Distribution(models.TextChoices):
    """How a team's new tickets find an agent (SVC-4)."""

    ROUND_ROBIN = "round_robin", _("轮流分配")
    LEAST_OPEN = "least_open", _("最少待办优先")
    SKILL = "skill", _("按技能（工单类别）")
    MANUAL = "manual", _("手动分派")


class Clock(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("首次响应")
    RESOLUTION = "resolution", _("解决")


class EscalationWhen(models.TextChoices):
    BEFORE = "before", _("到期前")
    AFTER = "after", _("超时后")


class EscalationAction(models.TextChoices):
    NOTIFY = "notify", _("提醒处理人")
    REASSIGN = "reassign", _("改派给组内其他客服")
    SUPERVISOR = "supervisor", _("升级给客服组主管")
    MANAGER = "manager", _("升级给部门经理")


class TimeBasis(models.TextChoices):
    CALENDAR = "calendar", _("自然时间")
    BUSINESS = "business", _("工作时间（含法定节假日与调休）")
