"""The product catalogue (SAL-9): what is sold, at what list price and cost."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.access.perms import Perm
from kehu.access.scope import can
from kehu.core.models import VersionedModel

from .choices import RiskLevel, UnitKind


class ProductQuerySet(models.QuerySet):
    def visible_to(self, actor) -> ProductQuerySet:
        """The catalogue is company-wide: everyone who may see products sees all of them (SAL-9)."""
        if not can(actor, Perm.PRODUCT_VIEW):
            return self.none()
        return self.all()

    def active(self) -> ProductQuerySet:
        return self.filter(is_active=True)


class Product(VersionedModel):
    """A product or service we sell (SAL-9). Quotes and orders copy its name, model, specification,
    unit and price at the time, so a later change of the catalogue never rewrites a signed document.

    Products are never deleted once used; ``is_active`` takes them out of new quotes and orders."""

    code = models.CharField(_("产品编号"), max_length=30, unique=True)
    name = models.CharField(_("产品名称"), max_length=120)
    # Name, pinyin and initials, code and model (core.pinyin.search_keys), for "find by hw".
    search_text = models.TextField(editable=False, default="")
    model = models.CharField(_("型号"), max_length=80, blank=True)
    specification = models.CharField(_("规格"), max_length=200, blank=True)
    category = models.CharField(_("产品类别"), max_length=60, blank=True)
    unit = models.CharField(_("单位"), max_length=20, default="件")
    unit_kind = models.CharField(
        _("计量方式"), max_length=10, choices=UnitKind.choices, default=UnitKind.PIECE
    )
    price = models.DecimalField(_("标准单价"), max_digits=14, decimal_places=2, default=Decimal("0"))
    cost = models.DecimalField(_("成本单价"), max_digits=14, decimal_places=2, default=Decimal("0"))
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    picture = models.ImageField(_("图片"), upload_to="products/%Y/%m/", blank=True)
    packaging = models.CharField(_("包装"), max_length=200, blank=True)
    features = models.TextField(_("产品特点"), blank=True)
    # Goods that can be delivered electronically (software licences, reports, e-books): an inquiry that
    # insists on courier delivery of them is a fraud signal (SAL-2).
    electronic_delivery = models.BooleanField(_("可电子交付"), default=False)
    # Free samples we hand out at most per inquiry; asking for many more is a fraud signal (SAL-2).
    sample_limit = models.PositiveIntegerField(_("样品上限"), default=0)
    risk_level = models.CharField(_("风险等级"), max_length=2, choices=RiskLevel.choices, blank=True)
    is_active = models.BooleanField(_("在售"), default=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        verbose_name = _("产品")
        verbose_name_plural = _("产品")
        ordering = ["code"]
        indexes = [
            models.Index(fields=["is_active", "name"], name="product_active_name"),
            models.Index(fields=["category", "code"], name="product_category_code"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.model}".strip()

    @property
    def margin(self) -> Decimal | None:
        """Gross margin of the list price, as a fraction (None when there is no price)."""
        if not self.price:
            return None
        return (self.price - self.cost) / self.price
