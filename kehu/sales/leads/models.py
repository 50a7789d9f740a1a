"""Leads (线索, SAL-1), what they asked for, the risk rules (SAL-2) and the public capture forms."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kehu.access.perms import Perm
from kehu.access.scope import can, owner_scope_q
from kehu.catalog.models import Product
from kehu.core.models import VersionedModel
from kehu.customers.choices import OptionKind
from kehu.customers.models import Contact, Customer, Option

from .choices import Delivery, LeadChannel, LeadStatus, RiskRuleKind


class LeadQuerySet(models.QuerySet):
    def visible_to(self, actor) -> LeadQuerySet:
        """The only row filter for leads (SEC-1): the owner is in the actor's data scope, or the lead is
        in the lead pool (no owner), which every holder of ``lead.view`` sees."""
        if not can(actor, Perm.LEAD_VIEW):
            return self.none()
        return self.filter(owner_scope_q(actor) | Q(owner__isnull=True))

    def in_pool(self) -> LeadQuerySet:
        return self.filter(owner__isnull=True)


class LeadForm(VersionedModel):
    """A public web form that feeds leads (SAL-1): embedded on our website by its URL or posted to the
    capture API with its token. The token identifies the form (it is public, in the page's HTML); the
    honeypot, the minimum fill time and the rate limits keep robots out."""

    name = models.CharField(_("表单名称"), max_length=60)
    token = models.CharField(_("表单令牌"), max_length=40, unique=True)
    source = models.ForeignKey(
        Option, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("线索来源"),
        limit_choices_to={"kind": OptionKind.SOURCE},
    )  # fmt: skip
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("默认负责人"), help_text=_("留空则进入线索池"),
    )  # fmt: skip
    title = models.CharField(_("页面标题"), max_length=120, blank=True)
    thanks = models.CharField(_("提交后提示"), max_length=200, blank=True)
    min_seconds = models.PositiveIntegerField(_("最短填写时间（秒）"), default=3)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("线索表单")
        verbose_name_plural = _("线索表单")

    def __str__(self) -> str:
        return self.name


class Lead(VersionedModel):
    """An inbound inquiry (询盘, SAL-1, CUS-4): who asked, what for, from which source; screened, then
    converted into customer + contact + opportunity or discarded with a reason. ``owner`` empty means
    the lead waits in the lead pool (线索池). The risk score and its reasons (SAL-2) are stored so the
    list can filter and sort by them; they are recomputed whenever the lead changes."""

    code = models.CharField(_("线索编号"), max_length=20, unique=True)
    channel = models.CharField(
        _("渠道"), max_length=10, choices=LeadChannel.choices, default=LeadChannel.MANUAL
    )
    source = models.ForeignKey(
        Option, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("线索来源"),
        limit_choices_to={"kind": OptionKind.SOURCE},
    )  # fmt: skip
    form = models.ForeignKey(LeadForm, null=True, blank=True, on_delete=models.SET_NULL, related_name="leads")
    company_name = models.CharField(_("公司名称"), max_length=120, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=60)
    mobile = models.CharField(_("手机号"), max_length=30, blank=True, db_index=True)
    phone = models.CharField(_("电话"), max_length=30, blank=True)
    email = models.CharField(_("邮箱"), max_length=254, blank=True, db_index=True)
    wechat = models.CharField(_("微信"), max_length=60, blank=True)
    website = models.CharField(_("公司网址"), max_length=200, blank=True)
    province = models.CharField(_("省份"), max_length=20, blank=True)
    city = models.CharField(_("城市"), max_length=30, blank=True)
    content = models.TextField(_("询盘内容"), blank=True)
    products = models.ManyToManyField(Product, through="LeadLine", blank=True, related_name="leads")
    delivery = models.CharField(_("要求的交付方式"), max_length=12, choices=Delivery.choices, blank=True)
    samples_requested = models.PositiveIntegerField(_("索要样品数"), default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="leads",
        verbose_name=_("负责人"),
    )  # fmt: skip
    owner_since = models.DateTimeField(_("领取/分配时间"), null=True, blank=True)
    status = models.CharField(_("状态"), max_length=10, choices=LeadStatus.choices, default=LeadStatus.NEW)
    risk_score = models.PositiveIntegerField(_("风险分"), default=0)
    # [{"kind", "points", "zh", "en"}]: the reasons in both languages, as computed (SAL-2).
    risk_reasons = models.JSONField(_("风险原因"), default=list, blank=True)
    flagged_for_review = models.BooleanField(_("待风险审核"), default=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("审核人"),
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_comment = models.TextField(_("审核意见"), blank=True)
    # The score a reviewer cleared: a later edit that raises it above this asks for a new review.
    reviewed_score = models.PositiveIntegerField(null=True, blank=True)
    samples_sent_at = models.DateTimeField(_("样品寄出时间"), null=True, blank=True)
    discard_reason = models.CharField(_("放弃原因"), max_length=12, blank=True)
    discard_note = models.TextField(_("放弃说明"), blank=True)
    converted_customer = models.ForeignKey(
        Customer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("客户"),
    )
    converted_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("联系人")
    )
    converted_opportunity = models.ForeignKey(
        "sales.Opportunity", null=True, blank=True, on_delete=models.SET_NULL, related_name="leads",
        verbose_name=_("商机"),
    )  # fmt: skip
    converted_at = models.DateTimeField(_("转化时间"), null=True, blank=True)
    # Company and contact names with pinyin and initials, mobile, phone, e-mail, code (core.pinyin).
    search_text = models.TextField(editable=False, default="")
    # Where an e-mail lead came from (its mail thread), so one conversation makes one lead.
    mail_thread_id = models.BigIntegerField(null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("创建人"),
    )  # fmt: skip

    objects = LeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("线索")
        verbose_name_plural = _("线索")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status", "created_at"], name="lead_owner_status"),
            # The lead pool: unowned open leads, newest first.
            models.Index(fields=["owner", "created_at"], name="lead_pool", condition=Q(owner__isnull=True)),
            models.Index(
                fields=["flagged_for_review", "created_at"],
                name="lead_flagged",
                condition=Q(flagged_for_review=True),
            ),
            models.Index(fields=["status", "created_at"], name="lead_status_created"),
            # "All leads" newest first for those who see everyone (全部 scope).
            models.Index(fields=["created_at", "id"], name="lead_created"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.company_name or self.contact_name}".strip()

    @property
    def display_name(self) -> str:
        return self.company_name or self.contact_name

    @property
    def is_open(self) -> bool:
        return self.status in (LeadStatus.NEW, LeadStatus.SCREENING, LeadStatus.QUALIFIED)

    @property
    def held_for_review(self) -> bool:
        return self.flagged_for_review

    @property
    def estimated_amount(self) -> Decimal:
        return sum((line.amount for line in self.lines.all()), Decimal("0"))


class LeadLine(models.Model):
    """A product the inquiry asks about, with the quantity and the unit *as asked* (SAL-2 compares the
    unit with the product's ``unit_kind``) and the samples wanted of it."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="lead_lines", verbose_name=_("产品")
    )
    quantity = models.DecimalField(_("数量"), max_digits=14, decimal_places=3, default=Decimal("0"))
    unit = models.CharField(_("询盘单位"), max_length=20, blank=True)
    samples = models.PositiveIntegerField(_("样品数"), default=0)

    class Meta:
        ordering = ["id"]
        verbose_name = _("询盘产品")
        verbose_name_plural = _("询盘产品")
        constraints = [models.UniqueConstraint(fields=["lead", "product"], name="lead_line_once")]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity} {self.unit}"

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.product.price).quantize(Decimal("0.01"))


class RiskRule(VersionedModel):
    """One configurable rule of the fraudulent-inquiry check (SAL-2): its points and its parameters
    (thresholds, word and domain lists). The rule itself is a pure function in ``rules``."""

    kind = models.CharField(_("规则"), max_length=30, choices=RiskRuleKind.choices, unique=True)
    points = models.PositiveIntegerField(_("分值"), default=20)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("虚盘识别规则")
        verbose_name_plural = _("虚盘识别规则")

    def __str__(self) -> str:
        return str(self.get_kind_display())


class RiskSettings(VersionedModel):
    """The one row of lead-risk settings: a lead whose score reaches ``threshold`` is flagged for
    review; conversion and sample sending wait for a lead manager to clear it (SAL-2)."""

    threshold = models.PositiveIntegerField(_("审核阈值（分）"), default=50)

    class Meta:
        verbose_name = _("虚盘识别设置")
        verbose_name_plural = _("虚盘识别设置")

    def __str__(self) -> str:
        return f"≥ {self.threshold}"


class CaptureAttempt(models.Model):
    """One post to the public capture endpoint, counted per IP and per form for the rate limits."""

    form = models.ForeignKey(LeadForm, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    ip = models.GenericIPAddressField(null=True, blank=True)
    accepted = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)  # old attempts are swept by age

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["ip", "at"], name="capture_ip_at"),
            models.Index(fields=["form", "at"], name="capture_form_at"),
        ]

    def __str__(self) -> str:
        return f"{self.ip} {self.at:%Y-%m-%d %H:%M}"
