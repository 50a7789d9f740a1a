"""The permission vocabulary (``Perm``) and the five data scopes (SEC-1)."""

from __future__ import annotations

from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _


class Perm(StrEnum):
    """Every permission Kehu checks. Roles grant sets of these; ``require()`` checks one."""

    CUSTOMER_VIEW = "customer.view"
    CUSTOMER_CREATE = "customer.create"
    CUSTOMER_EDIT = "customer.edit"
    CUSTOMER_DELETE = "customer.delete"
    CUSTOMER_RESTORE = "customer.restore"
    CUSTOMER_PURGE = "customer.purge"
    CUSTOMER_TRANSFER = "customer.transfer"
    CUSTOMER_MERGE = "customer.merge"
    CUSTOMER_EXPORT = "customer.export"
    CUSTOMER_REVEAL = "customer.reveal"
    CUSTOMER_CLASSIFY = "customer.classify"
    POOL_VIEW = "pool.view"
    POOL_CLAIM = "pool.claim"
    POOL_MANAGE = "pool.manage"
    INTERACTION_CREATE = "interaction.create"
    INTERACTION_MANAGE = "interaction.manage"
    DATA_IMPORT = "data.import"
    SETTINGS_EDIT = "settings.edit"
    USER_MANAGE = "user.manage"
    ROLE_MANAGE = "role.manage"
    DEPARTMENT_MANAGE = "department.manage"
    AUDIT_VIEW = "audit.view"
    MAIL_MANAGE = "mail.manage"

    @property
    def label(self) -> str:
        return str(PERM_LABELS[self])


PERM_LABELS = {
    Perm.CUSTOMER_VIEW: _("查看客户"),
    Perm.CUSTOMER_CREATE: _("新建客户"),
    Perm.CUSTOMER_EDIT: _("编辑客户"),
    Perm.CUSTOMER_DELETE: _("删除客户"),
    Perm.CUSTOMER_RESTORE: _("从回收站恢复"),
    Perm.CUSTOMER_PURGE: _("彻底删除"),
    Perm.CUSTOMER_TRANSFER: _("转移客户"),
    Perm.CUSTOMER_MERGE: _("合并客户"),
    Perm.CUSTOMER_EXPORT: _("导出客户"),
    Perm.CUSTOMER_REVEAL: _("查看完整手机号/证件号"),
    Perm.CUSTOMER_CLASSIFY: _("调整客户分类"),
    Perm.POOL_VIEW: _("查看公海客户"),
    Perm.POOL_CLAIM: _("领取公海客户"),
    Perm.POOL_MANAGE: _("管理公海（规则、分配、回收）"),
    Perm.INTERACTION_CREATE: _("记录跟进"),
    Perm.INTERACTION_MANAGE: _("修改/删除他人的跟进记录"),
    Perm.DATA_IMPORT: _("导入数据（客户、联系人、跟进记录）"),
    Perm.SETTINGS_EDIT: _("维护分类选项"),
    Perm.USER_MANAGE: _("用户管理"),
    Perm.ROLE_MANAGE: _("角色管理"),
    Perm.DEPARTMENT_MANAGE: _("部门管理"),
    Perm.AUDIT_VIEW: _("查看审计日志"),
    Perm.MAIL_MANAGE: _("邮箱设置（收信、令牌）"),
}


class DataScope(models.TextChoices):
    """Which owners' records a role sees (SEC-1). A user with several roles sees the union."""

    OWN = "own", _("本人")
    OWN_AND_SUBORDINATES = "own_sub", _("本人及下属")
    DEPARTMENT = "dept", _("本部门")
    DEPARTMENT_AND_SUB = "dept_sub", _("本部门及下属部门")
    ALL = "all", _("全部")


class ViewScope(models.TextChoices):
    """Whose records a report or the home dashboard counts (ANA-8): a narrowing of the data scope the
    user's roles grant, never a widening (``access.scope.view_scopes``)."""

    MINE = "mine", _("本人")
    TEAM = "team", _("本人及下属")
    DEPARTMENT = "dept", _("部门")
    ALL = "all", _("全部")


# Which view scopes each data scope allows: a 本人 role sees only its own numbers; 本人及下属 adds the
# team; a department role also sees its department; 全部 everything.
VIEW_SCOPES_OF: dict[str, tuple[str, ...]] = {
    DataScope.OWN: (ViewScope.MINE,),
    DataScope.OWN_AND_SUBORDINATES: (ViewScope.MINE, ViewScope.TEAM),
    DataScope.DEPARTMENT: (ViewScope.MINE, ViewScope.TEAM, ViewScope.DEPARTMENT),
    DataScope.DEPARTMENT_AND_SUB: (ViewScope.MINE, ViewScope.TEAM, ViewScope.DEPARTMENT),
    DataScope.ALL: (ViewScope.MINE, ViewScope.TEAM, ViewScope.DEPARTMENT, ViewScope.ALL),
}

_ALL = [p.value for p in Perm]
_SALES_BASE = [
    Perm.CUSTOMER_VIEW,
    Perm.CUSTOMER_CREATE,
    Perm.CUSTOMER_EDIT,
    Perm.CUSTOMER_TRANSFER,
    Perm.CUSTOMER_REVEAL,
    Perm.POOL_VIEW,
    Perm.POOL_CLAIM,
    Perm.INTERACTION_CREATE,
]

# code -> (name, English name, permissions, scope). Loaded by a data migration; admins may edit rows later.
DEFAULT_ROLES: dict[str, tuple[str, str, list[str], str]] = {
    "admin": ("系统管理员", "Administrator", _ALL, DataScope.ALL),
    "sales_manager": (
        "销售经理",
        "Sales manager",
        [
            *map(str, _SALES_BASE),
            Perm.CUSTOMER_DELETE,
            Perm.CUSTOMER_RESTORE,
            Perm.CUSTOMER_MERGE,
            Perm.CUSTOMER_EXPORT,
            Perm.CUSTOMER_CLASSIFY,
            Perm.INTERACTION_MANAGE,
            Perm.POOL_MANAGE,
            Perm.DATA_IMPORT,
        ],
        DataScope.DEPARTMENT_AND_SUB,
    ),
    "sales_rep": ("销售代表", "Sales representative", [*map(str, _SALES_BASE)], DataScope.OWN),
    "service_agent": (
        "客服专员",
        "Service agent",
        [Perm.CUSTOMER_VIEW, Perm.CUSTOMER_REVEAL, Perm.INTERACTION_CREATE],
        DataScope.ALL,
    ),
    "marketing": ("市场专员", "Marketing", [Perm.CUSTOMER_VIEW, Perm.CUSTOMER_EXPORT], DataScope.ALL),
    "relationship_manager": (
        "客户经理",
        "Relationship manager",
        [*map(str, _SALES_BASE), Perm.CUSTOMER_CLASSIFY],
        DataScope.OWN_AND_SUBORDINATES,
    ),
    "auditor": ("审计员", "Auditor", [Perm.CUSTOMER_VIEW, Perm.AUDIT_VIEW], DataScope.ALL),
}
