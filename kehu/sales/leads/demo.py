"""Leads' part of ``kehu demo`` (registered into ``customers.extensions``, ADR 0009): a few inquiries in
every state — in the lead pool, being screened, qualified, discarded — and one that the
fraudulent-inquiry check flags (SAL-2), so the lead pages have something to show on a fresh install.

Leads are few (dozens, not a benchmark load), so they go through the real service for their scoring
and audit trail; once per database (a second ``kehu demo`` run adds none)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from kehu.catalog.models import Product
from kehu.customers.extensions import DemoLoad

from .choices import LeadChannel
from .models import Lead
from .services import _write_lead, lead_discard, lead_qualify, lead_screen
from .validation import clean_lead

# fmt: off
LEADS: list[dict[str, Any]] = [
    {"company_name": "苏州恒瑞精密机械有限公司", "contact_name": "周建国", "mobile": "13912345678",
     "email": "zhoujg@hengrui-jx.com", "website": "www.hengrui-jx.com", "province": "江苏", "city": "苏州",
     "content": "我们需要一批数控机床配件，请发一份报价和交货周期。", "source": "trade_show", "_state": "new"},
    {"company_name": "杭州云帆软件有限公司", "contact_name": "林晓", "mobile": "13757112233",
     "email": "linxiao@yunfan-soft.cn", "website": "https://www.yunfan-soft.cn", "province": "浙江",
     "city": "杭州", "content": "想了解贵司CRM软件的授权价格，约50个用户。", "source": "website", "_state": "screening"},
    {"company_name": "", "contact_name": "王女士", "mobile": "15800001111", "province": "上海", "city": "上海",
     "content": "朋友推荐，想咨询一下家用净水设备。", "source": "referral", "_state": "qualified"},
    {"company_name": "广州华通贸易有限公司", "contact_name": "陈先生", "phone": "020-88886666",
     "email": "chen@huatong-trade.com", "province": "广东", "city": "广州",
     "content": "同行了解一下价格。", "source": "inbound", "_state": "discarded"},
    {"company_name": "深圳盛达国际贸易有限公司", "contact_name": "Mr. Smith", "mobile": "+44 7911 123456",
     "email": "shengda.trade@gmail.com", "website": "www.shengda-intl.com", "province": "广东", "city": "深圳",
     "content": "Urgent order! 我们老板急需大量货物，先发货，货款用西联汇款，样品请快递寄20套。", "delivery": "courier",
     "samples_requested": 20, "source": "inbound", "_state": "new", "_big": True},
    {"company_name": "成都蜀光照明工程有限公司", "contact_name": "刘工", "mobile": "13688889999",
     "email": "liug@shuguang-light.com", "province": "四川", "city": "成都",
     "content": "工程项目需要LED灯具，预计下月招标。", "source": "market_research", "_state": "pool"},
    {"company_name": "", "contact_name": "赵先生", "wechat": "zhao_1988", "province": "北京", "city": "北京",
     "content": "在展会上拿了资料，想再了解一下售后服务。", "source": "trade_show", "_state": "pool"},
]
# fmt: on


def contribute(load: DemoLoad) -> dict[str, int]:
    if Lead.objects.exists():
        return {"leads": 0}
    owner = load.users.get("rep_east") or load.users.get("admin")
    manager = load.users.get("manager_east") or load.users.get("admin")
    if owner is None or manager is None:
        return {"leads": 0}
    products = list(Product.objects.filter(is_active=True).order_by("pk")[:2])
    written = 0
    for raw in LEADS:
        data = {k: v for k, v in raw.items() if not k.startswith("_")}
        if raw.get("_big") and products:
            # A huge first order, in kilograms of goods sold by the piece: the risk check flags it.
            data["lines"] = [
                {"product": products[0], "quantity": Decimal("50000"), "unit": "公斤", "samples": 20}
            ]
        cleaned = clean_lead(data)
        state = raw["_state"]
        lead = _write_lead(
            cleaned=cleaned, channel=LeadChannel.MANUAL, owner=None if state == "pool" else owner, by=manager
        )
        if state == "screening":
            lead_screen(lead_id=lead.pk, by=owner)
        elif state == "qualified":
            lead_qualify(lead_id=lead.pk, by=owner)
        elif state == "discarded":
            lead_discard(lead_id=lead.pk, reason="competitor", note="同行询价", by=owner)
        written += 1
    return {"leads": written}
