"""Customer service's part of ``kehu demo`` (ADR 0009): the service team and about three tickets per ten
customers of the run over the last four months — consultations, repairs, complaints with their root
causes and measures — most of them done in time, some late, a few still open and breaching, with their
conversations. Deadlines come from the real SLA policies and working calendar, so the queues, clocks
and the SLA report show what they would in production. ``ticket_rows`` also feeds the benchmark."""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from kehu.core.sequences import next_values
from kehu.customers.extensions import DemoLoad
from kehu.customers.models import Customer

from . import clocks, configuration
from .choices import KIND_CATEGORIES, Priority, RootCause, TicketKind, TicketStatus
from .models import ServiceTeam, SlaPolicy, TeamMember, Ticket, TicketMessage
from .rules import match_policy
from .sla import WorkCalendar, deadline

BATCH = 5000
SHARE = 0.3  # tickets per customer of the run
# fmt: off
KIND_WEIGHTS = {TicketKind.AFTERSALE: 40, TicketKind.PRESALE: 18, TicketKind.INSALE: 14, TicketKind.SUPPORT: 12,
                TicketKind.COMPLAINT: 12, TicketKind.TRAINING: 4}
TITLES = {
    "product_info": ["咨询新款机型的能效等级", "询问产品是否支持远程控制", "咨询工业版与商用版的区别"],
    "price": ["询问批量采购价格", "咨询以旧换新政策", "要求提供正式报价"],
    "order_progress": ["订单什么时候发货", "查询物流进度", "确认安装时间"],
    "delivery_change": ["要求改送货地址", "希望提前交货"],
    "usage": ["不会设置定时功能", "遥控器配对失败", "询问滤网清洗方法"],
    "troubleshooting": ["开机后显示 E4 故障码", "运行时噪音大", "不制冷"],
    "repair": ["空调漏水需要上门维修", "压缩机不启动", "外机异响，需要检修"],
    "return_exchange": ["收到的货外观有划痕，要求换货", "型号发错，申请退货"],
    "technical": ["系统接口对接报错", "控制器固件升级失败"],
    "installation": ["预约安装调试", "安装后试运行不正常"],
    "training": ["新员工操作培训", "维保人员技术培训"],
    "product_quality": ["新买的空调三天就坏了", "同一问题维修三次仍未解决", "产品与宣传不符"],
    "delivery": ["送货延误一周", "运输中外包装破损", "送货员未按约定时间上门"],
    "service_attitude": ["维修师傅态度恶劣", "客服电话多次无人接听", "上门人员未穿工服、未带鞋套"],
    "contract_terms": ["合同约定的保修期与实际不符", "对违约金条款有异议"],
    "billing": ["发票金额与合同不一致", "重复扣款"],
    "other": ["其他问题咨询"],
}
MEASURES = {
    "material": "该批次压缩机全部召回检测，来料检验抽检比例由 5% 提高到 20%",
    "manufacturing": "焊接工序增加气密性全检，责任班组停线整改",
    "transport": "更换承运商，易损件加装防震包装",
    "staff": "涉事人员停岗培训，服务规范纳入月度考核",
    "process": "客服热线增加排队回拨，超过 30 秒未接自动转组长",
    "contract": "合同模板统一保修条款，销售签约前由法务复核",
    "design": "结构设计变更，下批次起更换排水管走向",
    "installation": "安装验收单增加试运行签字项",
    "customer_use": "随机附送图文使用指引，首次上门时现场演示",
    "other": "记录在案，每月复盘",
}
REPLIES = ["您好，已收到您的问题，我们会尽快安排处理。", "师傅明天上午上门，请保持电话畅通。", "已为您查询，预计三天内送达。",
           "麻烦提供一下购买发票或订单号。", "问题已处理完毕，请您确认。"]
NOTES = ["客户情绪较激动，回复时注意措辞。", "备件已从上海仓调拨。", "同一客户上月也报过类似问题。", "已联系销售负责人了解背景。"]
# fmt: on
TICKET_COLUMNS = (
    "number",
    "kind",
    "category",
    "title",
    "description",
    "customer_id",
    "contact_id",
    "product_id",
    "channel",
    "priority",
    "status",
    "team_id",
    "assignee_id",
    "assigned_at",
    "created_by_id",
    "sla_policy_id",
    "basis",
    "first_response_due_at",
    "first_responded_at",
    "resolution_due_at",
    "resolved_at",
    "closed_at",
    "resolution",
    "root_cause",
    "root_cause_detail",
    "corrective_measures",
    "handling_strategy",
    "satisfaction",
    "customer_confirmed_at",
    "created_at",
    "updated_at",
)  # fmt: skip
MESSAGE_COLUMNS = ("ticket_id", "kind", "body", "author_id", "at")


@dataclass(frozen=True)
class TicketSource:
    """What the generator needs: the customers (id, value tier, first contact id), the agents, the team,
    the products, the policies and calendar, the window the tickets fall in and the random source."""

    customers: Sequence[tuple[int, str, int | None]]
    agents: Sequence[int]
    team_id: int | None
    products: Sequence[int]
    policies: Sequence[SlaPolicy]
    calendar: WorkCalendar
    start: datetime
    end: datetime
    now: datetime
    rng: random.Random
    # Of the tickets, this share came in during the last ``recent_days`` days: the open work of the queues.
    recent_share: float = 0.2
    recent_days: int = 5


def _kinds() -> list[str]:
    return [k for k, w in KIND_WEIGHTS.items() for _ in range(w)]


def ticket_rows(source: TicketSource, numbers: Iterator[int]) -> Iterator[tuple[tuple, list[tuple]]]:
    """One ticket row (``TICKET_COLUMNS``) per customer given, with its messages as
    (kind, body, author, at) — the caller inserts both. Tickets created early are mostly done (some
    late); recent ones are open, some past their deadlines."""
    rng, r = source.rng, source.rng.random
    kinds = _kinds()
    span = (source.end - source.start).total_seconds()
    for customer_id, tier, contact_id in source.customers:
        kind = kinds[int(r() * len(kinds))]
        category = rng.choice(KIND_CATEGORIES[kind])
        priority = Priority.HIGH if kind == TicketKind.COMPLAINT and r() < 0.4 else (
            Priority.URGENT if r() < 0.04 else Priority.NORMAL
        )  # fmt: skip
        if r() < source.recent_share:
            created = source.now - timedelta(days=r() * source.recent_days)
        else:
            created = source.start + timedelta(seconds=r() * span)
        # Working hours mostly: most calls come in during the day.
        created = timezone.localtime(created).replace(hour=8 + int(r() * 11), minute=int(r() * 60))
        if created > source.now:
            created = source.now - timedelta(minutes=5 + int(r() * 300))
        policy = match_policy(
            source.policies, kind=kind, category=category, value_tier=tier, priority=priority
        )
        business = policy is not None and policy.basis == "business"
        first_due = resolution_due = None
        if policy is not None:
            first_due = deadline(
                created, policy.first_response_minutes, business_hours=business, calendar=source.calendar
            )
            resolution_due = deadline(
                created, policy.resolution_minutes, business_hours=business, calendar=source.calendar
            )
        age_days = (source.now - created).total_seconds() / 86400
        # Work older than the recent days is nearly all done; the recent days hold the open queue.
        done = r() < (0.99 if age_days > source.recent_days else 0.15 + 0.15 * age_days)
        late = r() < 0.12
        assignee = source.agents[int(r() * len(source.agents))] if source.agents and r() < 0.95 else None
        status = TicketStatus.NEW
        responded = resolved = closed = confirmed = None
        resolution = cause = cause_detail = measures = strategy = ""
        satisfaction = None
        if first_due is not None and (done or r() < 0.7):
            window = (first_due - created) * (1.4 if late else 0.6 * r())
            responded = min(created + window, source.now)
            status = TicketStatus.ACKNOWLEDGED if kind == TicketKind.COMPLAINT else TicketStatus.OPEN
            if kind == TicketKind.COMPLAINT and r() < 0.6:
                status = TicketStatus.INVESTIGATING
        if done and resolution_due is not None:
            window = (resolution_due - created) * (1.3 if late else 0.2 + 0.7 * r())
            resolved = min(created + window, source.now)
            responded = min(responded or resolved, resolved)
            resolution = "已处理：" + rng.choice(
                ["更换配件", "远程指导解决", "上门维修完成", "补发货物", "已退款", "已解释说明"]
            )
            status = TicketStatus.RESOLVED
            if kind == TicketKind.COMPLAINT:
                cause = rng.choice(RootCause.values)
                cause_detail = "经调查，" + rng.choice(
                    ["属批次质量问题", "为运输途中受损", "为服务人员未按规范操作", "系客户使用不当"]
                )
                measures = MEASURES[cause]
                strategy = (
                    "direct"
                    if r() < 0.8
                    else rng.choice(["change_handler", "compromise", "set_aside", "hold_line"])
                )
            if r() < 0.85 and resolved + timedelta(days=2) < source.now:
                closed = resolved + timedelta(hours=2 + int(r() * 40))
                confirmed = closed if r() < 0.7 else None
                satisfaction = (
                    rng.choice([5, 5, 5, 4, 4, 4, 3, 2])
                    if confirmed or kind == TicketKind.COMPLAINT
                    else None
                )
                status = TicketStatus.CLOSED
        title = rng.choice(TITLES.get(category, TITLES["other"]))
        product = (
            source.products[int(r() * len(source.products))]
            if source.products and kind in (TicketKind.AFTERSALE, TicketKind.COMPLAINT, TicketKind.SUPPORT)
            else None
        )
        number = next(numbers)
        row = (
            f"GD{number:08d}", kind, category, title, "", customer_id, contact_id if r() < 0.6 else None, product,
            rng.choice(["phone", "phone", "phone", "wechat", "email", "web"]), priority, status, source.team_id,
            assignee, created if assignee else None, assignee, policy.pk if policy else None,
            policy.basis if policy else "calendar", first_due, responded, resolution_due, resolved, closed,
            resolution, cause, cause_detail, measures, strategy, satisfaction, confirmed, created,
            closed or resolved or responded or created,
        )  # fmt: skip
        messages: list[tuple] = []
        if responded is not None:
            messages.append(("reply", rng.choice(REPLIES), assignee, responded))
            if r() < 0.3:
                messages.append(("note", rng.choice(NOTES), assignee, responded + timedelta(minutes=10)))
        yield row, messages


def _service_team(load: DemoLoad) -> tuple[int | None, list[int]]:
    admin, lead = load.users.get("admin"), load.users.get("service_lead")
    agents = [u.pk for name, u in load.users.items() if name in ("agent", "agent2")]
    team = ServiceTeam.objects.filter(name="客服一组").first()
    if team is None and admin is not None:
        team = configuration.team_create(
            data={
                "name": "客服一组",
                "supervisor_id": lead.pk if lead else None,
                "distribution": "round_robin",
            },
            by=admin,
        )
        for user_id, skills in zip(agents, (["repair", "troubleshooting", "usage"], ["product_quality", "delivery"]),
                                   strict=False):  # fmt: skip
            configuration.team_member_set(team_id=team.pk, user_id=user_id, skills=skills, by=admin)
        settings = clocks.settings_get()
        configuration.service_settings_update(
            version=settings.version, data={"default_team_id": team.pk, "local_area_code": "021"}, by=admin
        )
    if team is not None:
        agents = list(TeamMember.objects.filter(team=team).values_list("user_id", flat=True)) or agents
    return (team.pk if team else None), agents


def insert_tickets(source: TicketSource, insert: Any, count: int, progress: Any = None) -> dict[str, int]:
    """Generate tickets for ``source.customers`` and write them with their messages in batches; the
    ticket ids are read back by number so messages can point at them."""
    numbers = iter(next_values("ticket", count))
    written = {"tickets": 0, "ticket_messages": 0}
    rows: list[tuple] = []
    pending: list[tuple[str, list[tuple]]] = []

    def flush() -> None:
        if not rows:
            return
        written["tickets"] += insert(Ticket, TICKET_COLUMNS, rows)
        ids = dict(Ticket.objects.filter(number__in=[n for n, _m in pending]).values_list("number", "pk"))
        messages = [(ids[n], *m) for n, ms in pending for m in ms]
        written["ticket_messages"] += insert(TicketMessage, MESSAGE_COLUMNS, messages)
        rows.clear()
        pending.clear()
        if progress is not None:
            progress(f"工单 {written['tickets']:,}")

    for row, messages in ticket_rows(source, numbers):
        rows.append(row)
        pending.append((row[0], messages))
        if len(rows) >= BATCH:
            flush()
    flush()
    return written


def contribute(load: DemoLoad) -> dict[str, int]:
    rng = random.Random(f"kehu-demo-service-{load.seed}-{load.first_customer_id}")
    team_id, agents = _service_team(load)
    customers = list(
        Customer.objects.filter(
            pk__gte=load.first_customer_id, pk__lt=load.first_customer_id + load.customers
        )
        .order_by("pk")
        .values_list("pk", "value_tier")
    )
    k = load.contacts_per_customer
    picked = [
        (pk, tier, load.first_contact_id + (pk - load.first_customer_id) * k if k else None)
        for pk, tier in customers
        if rng.random() < SHARE
    ]
    from kehu.catalog.models import Product

    now = timezone.now()
    today = load.today
    source = TicketSource(
        customers=picked, agents=agents, team_id=team_id,
        products=list(Product.objects.order_by("pk").values_list("pk", flat=True)[:50]),
        policies=list(SlaPolicy.objects.filter(is_active=True)), calendar=clocks.work_calendar(),
        start=timezone.make_aware(datetime.combine(today - timedelta(days=120), datetime.min.time())),
        end=now, now=now, rng=rng,
    )  # fmt: skip
    return insert_tickets(source, load.insert, len(picked), load.progress)
