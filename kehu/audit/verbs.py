"""What each audit verb reads as in the log and on the customer timeline ("王经理 推进了阶段 …").

The verbs come from every domain's services; the audit app only knows their words, not the domains, so
nothing is imported upward. A verb missing here is shown as it is stored."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

VERB_LABELS = {
    "create": _("创建了"),
    "update": _("修改了"),
    "delete": _("删除了"),
    "restore": _("恢复了"),
    "purge": _("彻底删除了"),
    "transfer": _("转移了"),
    "classify": _("调整了分类"),
    "reclassify": _("按成交数据重新分类"),
    "merge": _("合并了客户"),
    "merged_into": _("将客户合并到"),
    "reveal": _("查看了完整号码"),
    "collaborator_add": _("添加了协作人"),
    "collaborator_update": _("修改了协作人"),
    "collaborator_remove": _("移除了协作人"),
    "login": _("登录了系统"),
    "revoke": _("撤销了"),
    "set_password": _("重设了密码"),
    "import": _("导入了"),
    "demo_load": _("载入了演示数据"),
    # the public pool and leads
    "claim": _("领取了"),
    "assign": _("分配了"),
    "release": _("退回了"),
    # leads (SAL-1, SAL-2)
    "capture": _("收到网页线索"),
    "screen": _("开始筛选"),
    "qualify": _("筛选通过"),
    "discard": _("放弃了"),
    "convert": _("转化了"),
    "review": _("复核了风险"),
    "samples_sent": _("寄出了样品"),
    "rescore": _("重新评分了"),
    # opportunities (SAL-3, SAL-4)
    "stage": _("推进了阶段"),
    "rank": _("调整了看板顺序"),
    "won": _("赢单"),
    "lost": _("输单"),
    "invalidate": _("标记为无效"),
    "reopen": _("重新打开了"),
    "line_add": _("添加了产品明细"),
    "line_update": _("修改了产品明细"),
    "line_remove": _("移除了产品明细"),
    "buying_centre_add": _("添加了采购中心成员"),
    "buying_centre_update": _("修改了采购中心成员"),
    "buying_centre_remove": _("移除了采购中心成员"),
    "competitor_add": _("添加了竞争对手"),
    "competitor_update": _("修改了竞争对手"),
    "competitor_remove": _("移除了竞争对手"),
    # products and quotes (SAL-9, SAL-5)
    "deactivate": _("停用了"),
    "reactivate": _("重新启用了"),
    "picture": _("更换了图片"),
    "revise": _("修订了"),
    "send": _("发送了"),
    "accept": _("标记客户接受"),
    "reject": _("驳回/拒绝了"),
    "expire": _("标记为过期"),
    # contracts, orders, payments (SAL-6, SAL-7)
    "put_in_force": _("使合同生效"),
    "complete": _("完成了"),
    "terminate": _("终止了"),
    "cancel": _("取消了"),
    "start_production": _("开始生产"),
    "ship": _("发货了"),
    "deliver": _("确认签收了"),
    "attachment_add": _("添加了附件"),
    "attachment_remove": _("移除了附件"),
    "proof_add": _("上传了凭证"),
    "instalment_add": _("添加了回款计划"),
    "instalment_update": _("修改了回款计划"),
    "instalment_delete": _("删除了回款计划"),
    # approvals (审批)
    "submit": _("提交了审批"),
    "approve": _("审批通过了"),
    "withdraw": _("撤回了"),
    "approval": _("审批状态变为"),
}


def verb_label(verb: str) -> str:
    label = VERB_LABELS.get(verb)
    return str(label) if label is not None else verb
