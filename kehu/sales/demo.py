"""The pipeline's part of ``kehu demo`` (registered into ``customers.extensions``, ADR 0009): opportunities
across the stages of each department's stage group, some won, lost or invalid, with their stage history,
buying centres (so the SAL-4 warnings show on some) and competitors.

About one owned customer in six has an opportunity (a few two). Deterministic for a given seed; inserted
in batches through the demo's bulk writer (``DemoLoad.insert``)."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kehu.access.models import Department, User
from kehu.core.sequences import next_values
from kehu.customers.extensions import DemoLoad
from kehu.customers.models import Customer

from .choices import BuyingRole, OpportunityStatus, PricePosition, StageKind, Stance
from .models import Competitor, Opportunity, OpportunityContact, Stage, StageChange
from .selectors import stage_group_for

BATCH = 5000
# fmt: off
NAMES = ["二期产线自动化改造", "年度设备采购", "仓储系统升级", "办公楼智能化项目", "新厂区配套设备", "检测设备更新",
         "售后服务年度合同", "ERP 系统实施", "包装线扩建", "节能改造项目", "备品备件框架协议", "实验室仪器采购"]
COMPETITORS = [("西门子", "品牌知名度高，方案成熟", "价格高，交期长", PricePosition.HIGHER),
               ("本地小厂", "价格低，响应快", "质量不稳定，售后弱", PricePosition.LOWER),
               ("某日系品牌", "精度高", "定制能力弱", PricePosition.SIMILAR)]
LOSS_REASONS = ["价格高于竞争对手", "客户预算取消", "技术方案不满足要求"]
# fmt: on
OPP_COLUMNS = (
    "code",
    "name",
    "customer_id",
    "owner_id",
    "department_id",
    "stage_group_id",
    "stage_id",
    "status",
    "amount",
    "currency",
    "amount_from_lines",
    "expected_close",
    "rank",
    "closed_at",
    "close_reason",
    "lost_to",
    "description",
    "created_by_id",
    "created_at",
    "updated_at",
    "version",
)  # fmt: skip
CHANGE_COLUMNS = ("opportunity_id", "from_stage_id", "to_stage_id", "by_id", "at", "note")
MEMBER_COLUMNS = ("opportunity_id", "contact_id", "roles", "stance", "influence", "notes")
COMPETITOR_COLUMNS = ("opportunity_id", "name", "strengths", "weaknesses", "price_position", "notes")


def contribute(load: DemoLoad) -> dict[str, int]:
    rng = random.Random(f"kehu-demo-sales-{load.seed}-{load.first_customer_id}")
    r = rng.random
    now = timezone.now()
    today = load.today
    department_of = dict(User.objects.filter(department__isnull=False).values_list("pk", "department_id"))
    departments = {d.pk: d for d in Department.objects.all()}
    plans: dict[Any, tuple[list[Stage], dict[str, Stage]]] = {}

    def plan_for(department_id: int | None) -> tuple[list[Stage], dict[str, Stage]]:
        if department_id not in plans:
            group = stage_group_for(departments.get(department_id) if department_id else None)
            stages = list(group.stages.order_by("order"))
            plans[department_id] = (
                [s for s in stages if s.kind == StageKind.OPEN],
                {s.kind: s for s in stages if s.kind != StageKind.OPEN},
            )
        return plans[department_id]

    owned = (
        Customer.objects.filter(
            pk__gte=load.first_customer_id, pk__lt=load.first_customer_id + load.customers
        )
        .filter(owner__isnull=False)
        .order_by("pk")
        .values_list("pk", "owner_id", "created_at")
    )
    picked: list[tuple[int, int, Any]] = []
    for pk, owner_id, created_at in owned.iterator(chunk_size=BATCH):
        roll = r()
        if roll < 0.17:
            picked.append((pk, owner_id, created_at))
            if roll < 0.02:
                picked.append((pk, owner_id, created_at))
    if not picked:
        return {"opportunities": 0}
    numbers = next_values("opportunity", len(picked))
    codes = [f"SJ{n:08d}" for n in numbers]
    rows: list[tuple] = []
    facts: dict[str, tuple] = {}  # code -> (customer, owner, open stages walked, end stage or None, status)
    for code, (pk, owner_id, created_at) in zip(codes, picked, strict=True):
        dept = department_of.get(owner_id)
        open_stages, ends = plan_for(dept)
        if not open_stages:
            continue
        roll = r()
        status = (OpportunityStatus.OPEN if roll < 0.7 else OpportunityStatus.WON if roll < 0.82
                  else OpportunityStatus.LOST if roll < 0.95 else OpportunityStatus.INVALID)  # fmt: skip
        reached = 1 + int(r() * len(open_stages))
        walked = open_stages[:reached]
        end = ends.get(status) if status != OpportunityStatus.OPEN else None
        stage = end or walked[-1]
        amount = Decimal(rng.choice([2, 5, 8, 12, 20, 30, 50, 80, 120, 200])) * 10000 + Decimal(
            int(r() * 100) * 100
        )
        opened = max(created_at, now - timedelta(days=20 + int(r() * 200)))
        closed = opened + timedelta(days=10 + int(r() * 60)) if end else None
        if closed and closed > now:
            closed = now - timedelta(hours=int(r() * 48) + 1)
        expected = (
            today + timedelta(days=int(r() * 180) - 20) if not end else (closed.date() if closed else None)
        )
        lost_to = rng.choice(COMPETITORS)[0] if status == OpportunityStatus.LOST else ""
        reason = (rng.choice(LOSS_REASONS) if status == OpportunityStatus.LOST
                  else "重复录入" if status == OpportunityStatus.INVALID
                  else "方案与价格均获认可" if status == OpportunityStatus.WON else "")  # fmt: skip
        rows.append((
            code, rng.choice(NAMES), pk, owner_id, dept, stage.group_id, stage.pk, status, amount, "CNY", False,
            expected, int(r() * 100000), closed, reason, lost_to, "", owner_id, opened, closed or opened, 1,
        ))  # fmt: skip
        facts[code] = (pk, owner_id, walked, end, status, opened, closed, reason)
    written = {"opportunities": 0, "stage_changes": 0, "buying_centre": 0, "competitors": 0}
    for start in range(0, len(rows), BATCH):
        written["opportunities"] += load.insert(Opportunity, OPP_COLUMNS, rows[start : start + BATCH])

    ids = Opportunity.objects.filter(code__gte=codes[0], code__lte=codes[-1]).values_list("code", "pk")
    changes: list[tuple] = []
    members: list[tuple] = []
    competitors: list[tuple] = []
    k = load.contacts_per_customer

    def flush(force: bool = False) -> None:
        for key, model, columns, batch in (
            ("stage_changes", StageChange, CHANGE_COLUMNS, changes),
            ("buying_centre", OpportunityContact, MEMBER_COLUMNS, members),
            ("competitors", Competitor, COMPETITOR_COLUMNS, competitors),
        ):
            if batch and (force or len(batch) >= BATCH):
                written[key] += load.insert(model, columns, batch)
                batch.clear()

    for code, opp_id in ids.iterator(chunk_size=BATCH):
        if code not in facts:
            continue
        customer_id, owner_id, walked, end, status, opened, closed, reason = facts[code]
        at, previous = opened, None
        for stage in walked:
            changes.append((opp_id, previous, stage.pk, owner_id, at, ""))
            previous, at = stage.pk, at + timedelta(days=3 + int(r() * 20))
        if end is not None:
            changes.append((opp_id, previous, end.pk, owner_id, closed or at, reason))
        if k:
            first_contact = load.first_contact_id + (customer_id - load.first_customer_id) * k
            people = rng.sample(range(k), min(k, 1 + int(r() * 3)))
            for n, offset in enumerate(people):
                roles = [BuyingRole.DECIDER.value] if n == 0 else [rng.choice([BuyingRole.USER, BuyingRole.INFLUENCER,
                                                                               BuyingRole.BUYER, BuyingRole.GATEKEEPER]).value]  # fmt: skip
                if n == 0 and r() < 0.4:
                    roles.append(BuyingRole.BUYER.value)
                stance = rng.choice(
                    [Stance.SUPPORTER, Stance.SUPPORTER, Stance.NEUTRAL, Stance.OPPONENT]
                ).value
                members.append(
                    (opp_id, first_contact + offset, json.dumps(roles), stance, 1 + int(r() * 5), "")
                )
        if r() < 0.4:
            name, strengths, weaknesses, position = rng.choice(COMPETITORS)
            competitors.append((opp_id, name, strengths, weaknesses, position.value, ""))
        flush()
    flush(force=True)
    return written
