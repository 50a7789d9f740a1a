"""Classification dimensions of CUS-2 and other fixed vocabularies of the customer archive."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CustomerKind(models.TextChoices):
    COMPANY = "company", _("企业客户")
    INDIVIDUAL = "individual", _("个人客户")


class Size(models.TextChoices):
    LARGE = "large", _("大型企业")
    MEDIUM = "medium", _("中型企业")
    SMALL = "small", _("小型企业")
    SOLE_TRADER = "sole", _("个体工商户")


class Relation(models.TextChoices):
    CONSUMER = "consumer", _("消费者客户")
    INTERMEDIARY = "intermediary", _("中间客户")
    INTERNAL = "internal", _("内部客户")
    PUBLIC_INTEREST = "public", _("公利客户")
    PARTNER = "partner", _("合作伙伴")


class ValueTier(models.TextChoices):
    VIP = "vip", _("贵宾客户")
    IMPORTANT = "important", _("重要客户")
    ORDINARY = "ordinary", _("普通客户")
    SMALL = "small", _("小客户")


class Loyalty(models.TextChoices):
    POTENTIAL = "potential", _("潜在客户")
    NEW = "new", _("新客户")
    OLD = "old", _("老客户")
    LOYAL = "loyal", _("忠诚客户")


class Status(models.TextChoices):
    NON_CUSTOMER = "non", _("非客户")
    POTENTIAL = "potential", _("潜在客户")
    TARGET = "target", _("目标客户")
    CURRENT = "current", _("现实客户")
    LOST = "lost", _("流失客户")


class DealStatus(models.TextChoices):
    CLOSED = "closed", _("成交客户")
    INTENT = "intent", _("意向客户")
    POTENTIAL = "potential", _("潜在客户")


class NeedStatus(models.TextChoices):
    TARGET = "target", _("目标客户（现时需求）")
    POTENTIAL = "potential", _("潜在客户（未来需求）")
    DEAD = "dead", _("死亡客户（无需求）")


class Gender(models.TextChoices):
    UNKNOWN = "", _("未知")
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class BirthdayCalendar(models.TextChoices):
    """Which calendar a birthday is kept in (MKT-3): lunar ones are stored as lunar month-days."""

    SOLAR = "solar", _("公历")
    LUNAR = "lunar", _("农历")


class OptionKind(models.TextChoices):
    """Lists the spec calls configurable: an admin edits their entries."""

    INDUSTRY = "industry", _("行业")
    SOURCE = "source", _("客户来源")
    CHANNEL = "channel", _("沟通渠道")


class Urgency(models.TextChoices):
    """When a customer must next be handled (ENG-2), from its next follow-up date."""

    OVERDUE = "overdue", _("已逾期")
    URGENT = "urgent", _("紧急")  # within a week
    SOON = "soon", _("缓急")  # a week to a month
    NOT_URGENT = "not_urgent", _("不紧急")  # one to three months
    SLOW = "slow", _("可慢反应")  # after three months
    NONE = "none", _("未安排")


# Dimensions a user may override with a reason (CUS-2); the derived ones say how they were derived.
CLASSIFICATION_DIMENSIONS: dict[str, type[models.TextChoices]] = {
    "value_tier": ValueTier,
    "loyalty": Loyalty,
    "status": Status,
    "deal_status": DealStatus,
    "need_status": NeedStatus,
}
DERIVED_DIMENSIONS = ("value_tier", "loyalty", "status", "deal_status")

DEFAULT_INDUSTRIES = [
    ("manufacturing", "制造业", "Manufacturing"),
    ("services", "服务业", "Services"),
    ("government", "政府部门", "Government"),
    ("finance", "金融业", "Finance"),
    ("it", "信息技术", "Information technology"),
    ("retail", "批发零售", "Wholesale and retail"),
    ("construction", "建筑与房地产", "Construction and real estate"),
    ("education", "教育", "Education"),
    ("healthcare", "医疗健康", "Healthcare"),
    ("energy", "能源化工", "Energy and chemicals"),
    ("logistics", "交通物流", "Transport and logistics"),
    ("agriculture", "农林牧渔", "Agriculture"),
]

# Interaction channels of ENG-1 (admin-editable like the other lists).
DEFAULT_CHANNELS = [
    ("phone", "电话", "Phone"),
    ("email", "邮件", "Email"),
    ("chat", "在线客服", "Online chat"),
    ("wechat", "微信", "WeChat"),
    ("visit", "拜访", "Visit"),
    ("meeting", "会议", "Meeting"),
    ("fax", "传真", "Fax"),
    ("event", "客户活动", "Customer event"),
    ("letter", "信函", "Letter"),
]

DEFAULT_SOURCES = [
    ("market_research", "市场调研", "Market research"),
    ("industry_report", "行业报告", "Industry report"),
    ("referral", "客户推荐", "Customer referral"),
    ("trade_show", "展会", "Trade show"),
    ("inbound", "主动咨询", "Inbound inquiry"),
    ("import", "数据导入", "Import"),
    ("website", "官网", "Website"),
    ("cold_call", "陌生拜访", "Cold call"),
]
