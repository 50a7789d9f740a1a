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
    # The sales chain (SAL-1 … SAL-9). "edit" covers the day-to-day transitions of one's own records;
    # "manage" the configuration (stage groups, risk rules, approval flows) and other owners' records.
    LEAD_VIEW = "lead.view"
    LEAD_EDIT = "lead.edit"
    LEAD_MANAGE = "lead.manage"
    OPPORTUNITY_VIEW = "opportunity.view"
    OPPORTUNITY_EDIT = "opportunity.edit"
    PIPELINE_MANAGE = "pipeline.manage"
    PRODUCT_VIEW = "product.view"
    PRODUCT_MANAGE = "product.manage"
    QUOTE_VIEW = "quote.view"
    QUOTE_EDIT = "quote.edit"
    CONTRACT_VIEW = "contract.view"
    CONTRACT_EDIT = "contract.edit"
    ORDER_VIEW = "order.view"
    ORDER_EDIT = "order.edit"
    INVOICE_EDIT = "invoice.edit"
    PAYMENT_EDIT = "payment.edit"
    RECEIVABLES_VIEW = "receivables.view"
    APPROVAL_MANAGE = "approval.manage"
    TARGET_VIEW = "target.view"
    TARGET_MANAGE = "target.manage"
    # Analytical CRM (ANA-1 … ANA-8): every figure is of the customers the data scope shows.
    ANALYTICS_VIEW = "analytics.view"
    ANALYTICS_MANAGE = "analytics.manage"
    # Customer service and the call centre (SVC-1 … SVC-5). "view" reads tickets of visible customers and
    # takes calls (screen pop); "edit" works tickets (reply, transitions); "manage" works anyone's tickets
    # (reassign, bulk actions, escalate); "settings" configures teams, SLA policies, escalation rules and
    # the working calendar.
    TICKET_VIEW = "ticket.view"
    TICKET_EDIT = "ticket.edit"
    TICKET_MANAGE = "ticket.manage"
    SERVICE_SETTINGS = "service.settings"

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
    Perm.LEAD_VIEW: _("查看线索"),
    Perm.LEAD_EDIT: _("录入、筛选、转化、放弃线索"),
    Perm.LEAD_MANAGE: _("管理线索池与虚盘规则"),
    Perm.OPPORTUNITY_VIEW: _("查看商机"),
    Perm.OPPORTUNITY_EDIT: _("新建、推进商机"),
    Perm.PIPELINE_MANAGE: _("维护销售阶段"),
    Perm.PRODUCT_VIEW: _("查看产品"),
    Perm.PRODUCT_MANAGE: _("维护产品目录"),
    Perm.QUOTE_VIEW: _("查看报价单"),
    Perm.QUOTE_EDIT: _("编制报价单"),
    Perm.CONTRACT_VIEW: _("查看合同"),
    Perm.CONTRACT_EDIT: _("编制合同"),
    Perm.ORDER_VIEW: _("查看订单、出货、发票与回款"),
    Perm.ORDER_EDIT: _("录入订单与出货"),
    Perm.INVOICE_EDIT: _("开具发票"),
    Perm.PAYMENT_EDIT: _("回款计划与回款登记"),
    Perm.RECEIVABLES_VIEW: _("查看应收账款与账龄"),
    Perm.APPROVAL_MANAGE: _("配置审批流程"),
    Perm.TARGET_VIEW: _("查看销售目标"),
    Perm.TARGET_MANAGE: _("制定销售目标"),
    Perm.ANALYTICS_VIEW: _("查看客户分析（价值、RFM、终身价值、流失预警）"),
    Perm.ANALYTICS_MANAGE: _("客户分析设置与手动刷新"),
    Perm.TICKET_VIEW: _("查看服务工单、来电弹屏"),
    Perm.TICKET_EDIT: _("受理、回复、处理服务工单与投诉"),
    Perm.TICKET_MANAGE: _("分派、升级、批量处理他人的工单"),
    Perm.SERVICE_SETTINGS: _("服务设置（客服组、SLA、升级规则、工作日历）"),
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
_SALES_CHAIN = [
    Perm.LEAD_VIEW,
    Perm.LEAD_EDIT,
    Perm.OPPORTUNITY_VIEW,
    Perm.OPPORTUNITY_EDIT,
    Perm.PRODUCT_VIEW,
    Perm.QUOTE_VIEW,
    Perm.QUOTE_EDIT,
    Perm.CONTRACT_VIEW,
    Perm.CONTRACT_EDIT,
    Perm.ORDER_VIEW,
    Perm.ORDER_EDIT,
    Perm.TARGET_VIEW,
    Perm.ANALYTICS_VIEW,
    Perm.TICKET_VIEW,
    Perm.TICKET_EDIT,
]
_SALES_MANAGEMENT = [
    Perm.LEAD_MANAGE,
    Perm.PIPELINE_MANAGE,
    Perm.RECEIVABLES_VIEW,
    Perm.TARGET_MANAGE,
]
_FINANCE = [
    Perm.CUSTOMER_VIEW,
    Perm.PRODUCT_VIEW,
    Perm.CONTRACT_VIEW,
    Perm.ORDER_VIEW,
    Perm.INVOICE_EDIT,
    Perm.PAYMENT_EDIT,
    Perm.RECEIVABLES_VIEW,
    Perm.TARGET_VIEW,
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
            *_SALES_CHAIN,
            *_SALES_MANAGEMENT,
        ],
        DataScope.DEPARTMENT_AND_SUB,
    ),
    "sales_rep": (
        "销售代表",
        "Sales representative",
        [*map(str, _SALES_BASE), *_SALES_CHAIN],
        DataScope.OWN,
    ),
    "service_agent": (
        "客服专员",
        "Service agent",
        [
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_REVEAL,
            Perm.INTERACTION_CREATE,
            Perm.PRODUCT_VIEW,
            Perm.CONTRACT_VIEW,
            Perm.ORDER_VIEW,
            Perm.TICKET_VIEW,
            Perm.TICKET_EDIT,
        ],
        DataScope.ALL,
    ),
    "service_manager": (
        "客服主管",
        "Service manager",
        [
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_REVEAL,
            Perm.INTERACTION_CREATE,
            Perm.PRODUCT_VIEW,
            Perm.CONTRACT_VIEW,
            Perm.ORDER_VIEW,
            Perm.TICKET_VIEW,
            Perm.TICKET_EDIT,
            Perm.TICKET_MANAGE,
            Perm.SERVICE_SETTINGS,
            Perm.ANALYTICS_VIEW,
        ],
        DataScope.ALL,
    ),
    "marketing": (
        "市场专员",
        "Marketing",
        [
            Perm.CUSTOMER_VIEW,
            Perm.CUSTOMER_EXPORT,
            Perm.LEAD_VIEW,
            Perm.LEAD_EDIT,
            Perm.PRODUCT_VIEW,
            Perm.ANALYTICS_VIEW,
        ],
        DataScope.ALL,
    ),
    "relationship_manager": (
        "客户经理",
        "Relationship manager",
        [*map(str, _SALES_BASE), Perm.CUSTOMER_CLASSIFY, *_SALES_CHAIN],
        DataScope.OWN_AND_SUBORDINATES,
    ),
    "auditor": (
        "审计员",
        "Auditor",
        [
            Perm.CUSTOMER_VIEW,
            Perm.AUDIT_VIEW,
            Perm.LEAD_VIEW,
            Perm.OPPORTUNITY_VIEW,
            Perm.PRODUCT_VIEW,
            Perm.QUOTE_VIEW,
            Perm.CONTRACT_VIEW,
            Perm.ORDER_VIEW,
            Perm.RECEIVABLES_VIEW,
            Perm.TARGET_VIEW,
            Perm.ANALYTICS_VIEW,
            Perm.TICKET_VIEW,
        ],
        DataScope.ALL,
    ),
    "finance": ("财务", "Finance", [*map(str, _FINANCE)], DataScope.ALL),
}
