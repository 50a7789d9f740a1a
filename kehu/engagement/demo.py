"""Engagement's part of ``kehu demo`` (registered into ``customers.extensions``, ADR 0009): the follow-up
history behind each contacted customer, open and overdue P&A tasks, and the regular revisit plans.

Each contacted customer of the run gets one to five interactions whose latest is exactly its
``last_contact_at`` with its next follow-up (so timeline, urgency and pool countdown agree); earlier
ones go back from there, never before the customer was created. About one owned customer in twelve
has an open task (some overdue), some more a done one. Deterministic for a given seed; inserted in
batches through the demo's bulk writer (``DemoLoad.insert``).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.utils import timezone

from kehu.customers.choices import OptionKind
from kehu.customers.extensions import DemoLoad
from kehu.customers.models import Customer, Option

from .choices import Direction, TaskStatus
from .models import Interaction, RevisitPlan, Task
from .revisits import revisit_plan_create

BATCH = 5000  # rows per insert
# fmt: off
CHANNEL_WEIGHTS = {"phone": 30, "wechat": 25, "visit": 14, "email": 12, "meeting": 6, "chat": 6, "event": 3,
                   "letter": 2, "fax": 2}
SUMMARIES = {
    "phone": ["电话沟通采购计划，对方预计下季度启动招标", "电话回访，客户反馈设备运行稳定", "电话确认报价细节，对方希望再让 3 个点",
              "致电了解需求变化，客户正在做年度预算", "电话跟进付款进度，财务已走审批流程"],
    "wechat": ["微信发送产品资料和案例，对方已读并表示感兴趣", "微信沟通交货时间，客户要求提前一周", "微信群里答复了技术问题",
               "微信问候并约下周见面", "客户微信咨询售后政策"],
    "visit": ["上门拜访，参观了生产线，了解二期扩建需求", "拜访采购经理，递交了新版报价单", "拜访总经理，介绍了整体解决方案",
              "现场调研设备使用情况，记录了改进建议"],
    "email": ["邮件发送正式报价单和合同草稿", "邮件答复技术参数问题", "收到客户邮件询价，已转技术部评估", "邮件发送会议纪要"],
    "meeting": ["双方技术交流会，确定了方案框架", "参加客户项目启动会", "线上会议演示新版系统，客户反馈良好"],
    "chat": ["客户在官网在线客服咨询价格", "在线客服答复了物流查询"],
    "event": ["客户参加了我司年度客户大会", "邀请客户参加新品发布会，现场洽谈"],
    "letter": ["寄送年度合作感谢信及台历"],
    "fax": ["传真发送盖章版报价单"],
}
OUTCOMES = ["客户有意向，等待内部审批", "需要补充技术资料", "价格仍有分歧", "已确认需求，准备报价", "客户满意", "暂无采购计划",
            "对方决策人出差，下周再谈", ""]
NEXT_STEPS = ["发送报价单", "预约上门拜访", "安排技术交流", "跟进审批进度", "寄送样品", "电话回访"]
TASKS = ["准备投标文件", "发送修改后的报价单", "安排工程师上门调试", "整理客户需求清单", "确认合同条款并盖章", "催收二期款项",
         "提交样品测试报告", "邀请客户参观工厂", "准备年度合作方案", "回访售后问题处理结果"]
TASK_RESULTS = ["已完成，客户确认", "已发送，客户已回复", "已处理完毕"]
REVISIT_PLANS = [
    {"name": "潜在客户每月回访", "status": "potential", "every_days": 30, "due_in_days": 5,
     "task_title": "潜在客户月度回访"},
    {"name": "重要客户每两周回访", "value_tier": "important", "every_days": 14, "due_in_days": 3,
     "task_title": "重要客户定期回访"},
    {"name": "VIP 客户每周回访", "value_tier": "vip", "every_days": 7, "due_in_days": 2,
     "task_title": "VIP 客户每周回访"},
]
# fmt: on
COUNT_WEIGHTS = [1] * 35 + [2] * 30 + [3] * 20 + [4] * 10 + [5] * 5
INTERACTION_COLUMNS = (
    "customer_id", "contact_id", "channel_id", "direction", "occurred_at", "summary", "outcome", "next_step",
    "next_follow_up_on", "created_by_id", "created_at", "updated_at",
)  # fmt: skip
TASK_COLUMNS = (
    "title", "customer_id", "owner_id", "due_on", "status", "result", "done_at", "created_by_id", "created_at",
    "updated_at",
)  # fmt: skip


def _weighted(weights: dict[str, int], present: dict[str, int]) -> list[int]:
    return [present[code] for code, weight in weights.items() if code in present for _ in range(weight)]


def contribute(load: DemoLoad) -> dict[str, int]:
    """Interactions and tasks for the run's customers, and the revisit plans (once per database)."""
    rng = random.Random(f"kehu-demo-engagement-{load.seed}-{load.first_customer_id}")
    r = rng.random
    channel_ids = dict(
        Option.objects.filter(kind=OptionKind.CHANNEL, is_active=True).values_list("code", "pk")
    )
    channels = _weighted(CHANNEL_WEIGHTS, channel_ids)
    code_of = {pk: code for code, pk in channel_ids.items()}
    today = load.today
    now = timezone.now()
    k = load.contacts_per_customer
    rows = (
        Customer.objects.filter(
            pk__gte=load.first_customer_id, pk__lt=load.first_customer_id + load.customers
        )
        .order_by("pk")
        .values_list(
            "pk", "owner_id", "created_by_id", "created_at", "last_contact_at", "next_follow_up_on",
            "next_follow_up_action",
        )
    )  # fmt: skip
    interactions: list[tuple] = []
    tasks: list[tuple] = []
    written = {"interactions": 0, "tasks": 0}

    def flush(force: bool = False) -> None:
        if interactions and (force or len(interactions) >= BATCH):
            written["interactions"] += load.insert(Interaction, INTERACTION_COLUMNS, interactions)
            interactions.clear()
        if tasks and (force or len(tasks) >= BATCH):
            written["tasks"] += load.insert(Task, TASK_COLUMNS, tasks)
            tasks.clear()

    for pk, owner_id, created_by_id, created_at, last_contact, next_on, next_action in rows.iterator(
        chunk_size=BATCH
    ):
        author = owner_id or created_by_id
        first_contact = load.first_contact_id + (pk - load.first_customer_id) * k
        if last_contact is not None and author is not None and channels:
            when: datetime = last_contact
            for n in range(COUNT_WEIGHTS[int(r() * len(COUNT_WEIGHTS))]):
                channel = channels[int(r() * len(channels))]
                latest = n == 0
                interactions.append((
                    pk, first_contact + int(r() * k) if k and r() < 0.8 else None, channel,
                    Direction.INBOUND.value if r() < 0.25 else Direction.OUTBOUND.value, when,
                    rng.choice(SUMMARIES.get(code_of[channel], SUMMARIES["phone"])), rng.choice(OUTCOMES),
                    next_action if latest else rng.choice(NEXT_STEPS), next_on if latest else None,
                    author, when, when,
                ))  # fmt: skip
                when = when - timedelta(days=5 + int(r() * 40), hours=int(r() * 6))
                if when < created_at:
                    break
        if owner_id is not None:
            roll = r()
            if roll < 0.08:  # an open task, due from ten days ago to three weeks ahead
                due = today + timedelta(days=int(r() * 31) - 10)
                tasks.append((rng.choice(TASKS), pk, owner_id, due, TaskStatus.OPEN.value, "", None, owner_id,
                              now, now))  # fmt: skip
            elif roll < 0.12:  # one done lately
                due = today - timedelta(days=1 + int(r() * 30))
                done_at = timezone.make_aware(datetime.combine(due, datetime.min.time())) + timedelta(
                    hours=15
                )
                tasks.append((rng.choice(TASKS), pk, owner_id, due, TaskStatus.DONE.value,
                              rng.choice(TASK_RESULTS), done_at, owner_id, now, now))  # fmt: skip
        flush()
    flush(force=True)

    admin = load.users.get("admin")
    for plan in REVISIT_PLANS:
        if admin is not None and not RevisitPlan.objects.filter(name=plan["name"]).exists():
            revisit_plan_create(data=plan, by=admin)
    return written
