"""Users, the department tree, roles with data scopes, API tokens and log-in attempts (SEC-1)."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from kehu.core.models import VersionedModel, localized

from .perms import DataScope


class Department(VersionedModel):
    """A node of the company's department tree. ``path`` ("/1/4/9/") makes subtree queries one LIKE."""

    name = models.CharField(_("部门名称"), max_length=80)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级部门"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="/")
    manager = models.ForeignKey(
        "User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("部门负责人"),
    )
    sort_order = models.IntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["path", "sort_order", "id"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)


class Role(VersionedModel):
    """A named set of permissions plus one data scope. Default roles come from a data migration."""

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("角色名称"), max_length=60)
    name_en = models.CharField(_("英文名称"), max_length=60, blank=True)
    permissions = models.JSONField(_("权限"), default=list, blank=True)
    data_scope = models.CharField(
        _("数据范围"), max_length=10, choices=DataScope.choices, default=DataScope.OWN
    )
    is_system = models.BooleanField(_("系统内置"), default=False)
    description = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("角色")
        verbose_name_plural = _("角色")

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        return localized(self.name, self.name_en)


class KehuUserManager(UserManager["User"]):
    pass


class User(AbstractUser, VersionedModel):
    """A person who signs in. ``supervisor`` (上级) drives the 本人及下属 scope; ``department`` the others."""

    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    name_search = models.CharField(max_length=200, blank=True, editable=False)
    mobile = models.CharField(_("手机号"), max_length=20, blank=True)
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
        verbose_name=_("部门"),
    )
    supervisor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subordinates",
        verbose_name=_("直属上级"),
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("角色"))
    language = models.CharField(_("界面语言"), max_length=10, blank=True)

    objects: ClassVar[KehuUserManager] = KehuUserManager()  # type: ignore[assignment]

    class Meta:
        ordering = ["id"]
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def label(self) -> str:
        return self.display_name or self.username


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=60)
    prefix = models.CharField(max_length=12, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("过期时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API 令牌")
        verbose_name_plural = _("API 令牌")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class LoginAttempt(models.Model):
    """Failed and successful sign-ins, counted per username and per IP for throttling."""

    username = models.CharField(max_length=150, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.username}@{self.ip} {'ok' if self.succeeded else 'failed'}"
