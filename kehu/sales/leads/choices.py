"""Vocabularies and state tables of leads (SAL-1, SAL-2, CUS-4)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LeadStatus(models.TextChoices):
    NEW = "new", _("待筛选")
    SCREENING = "screening", _("筛选中")
    QUALIFIED = "qualified", _("有效线索")
    CONVERTED = "converted", _("已转化")
    DISCARDED = "discarded", _("已放弃")


OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.SCREENING, LeadStatus.QUALIFIED)

# verb -> (from statuses, to status): one service per transition (house style 2).
LEAD_TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "screen": ((LeadStatus.NEW,), LeadStatus.SCREENING),
    "qualify": ((LeadStatus.NEW, LeadStatus.SCREENING), LeadStatus.QUALIFIED),
    "discard": (OPEN_STATUSES, LeadStatus.DISCARDED),
    "convert": (OPEN_STATUSES, LeadStatus.CONVERTED),
}


class LeadChannel(models.TextChoices):
    """How the lead reached us (the business source — 展会, 官网 … — is the customers' source list)."""

    MANUAL = "manual", _("手工录入")
    WEB_FORM = "web_form", _("网页表单")
    EMAIL = "email", _("邮件")
    IMPORT = "import", _("导入")
    API = "api", _("接口")


class Delivery(models.TextChoices):
    """The delivery the inquirer asks for; insisting on courier for electronic goods is a SAL-2 signal."""

    ANY = "", _("未说明")
    COURIER = "courier", _("快递")
    ELECTRONIC = "electronic", _("电子交付")
    PICKUP = "pickup", _("自提")
    FREIGHT = "freight", _("物流/货运")


class DiscardReason(models.TextChoices):
    SPAM = "spam", _("垃圾信息")
    FRAUD = "fraud", _("疑似虚假询盘")
    NO_NEED = "no_need", _("无实际需求")
    UNREACHABLE = "unreachable", _("联系不上")
    DUPLICATE = "duplicate", _("重复线索")
    COMPETITOR = "competitor", _("同行/竞争对手")
    OTHER = "other", _("其他")


class RiskRuleKind(models.TextChoices):
    """The fraudulent-inquiry rules (SAL-2); each row of ``RiskRule`` sets one kind's points and params."""

    BIG_FIRST_ORDER = "big_first_order", _("首次询盘金额过大")
    UNIT_MISMATCH = "unit_mismatch", _("计量单位与产品不符")
    COURIER_FOR_ELECTRONIC = "courier_for_electronic", _("坚持快递可电子交付的产品")
    SAMPLES = "samples", _("索要样品过多")
    FREE_MAIL = "free_mail", _("企业线索使用免费邮箱")
    DOMAIN_MISMATCH = "domain_mismatch", _("邮箱域名与公司网址不符")
    BAD_NUMBER = "bad_number", _("手机/电话号码格式异常")
    URGENT_PAYMENT = "urgent_payment", _("催促付款或异常付款方式")
    FOREIGN_CODE = "foreign_code", _("国家区号与所在地不符")
    NO_CONTACT_WAY = "no_contact_way", _("没有可核实的联系方式")
