"""The demo company behind ``kehu demo``: departments, users in every role and realistic customers.

Deterministic for a given ``--seed``: names, codes, credit codes, ID numbers and mobiles come from
seeded permutations of the customer-code number (which starts at 1 on a fresh database), so they are
unique within a run *and* across runs on the same database; everything else comes from a random
stream seeded per batch of ``CHUNK`` customers.

Speed matters (``kehu demo --customers 1000000`` is a benchmark), so customers and contacts are not
written through the per-row services: rows are generated here, with the derived columns the services
would compute, and inserted in bulk in one transaction (a failed or interrupted load leaves nothing
behind). Large loads generate batches in forked worker processes while the main process inserts,
rebuild the secondary indexes once at the end instead of updating them row by row, and on SQLite
skip the per-row foreign-key lookups (the ids all come from the database).

Pinyin is the slow part of a row: company names are composed from word lists whose pinyin is
computed once per word, person names (a finite set) are cached whole. ``tests/test_demo.py`` checks
that ``search_text``/``name_normalized`` equal ``rules.customer_search_text``,
``rules.contact_search_text`` and ``normalize_company_name``, and the classification equals
``rules.derive_all``.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import secrets
import sqlite3
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, timedelta
from decimal import Decimal
from math import gcd
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone

from kehu.access import services as access_services
from kehu.access.events import AccessChanged
from kehu.access.models import Department, Role, User
from kehu.access.perms import DEFAULT_ROLES
from kehu.core import lunar
from kehu.core.errors import ValidationError
from kehu.core.events import DomainEvent, emit
from kehu.core.identity import credit_code_check_char, id_check_char
from kehu.core.pinyin import pinyin_keys, search_keys
from kehu.core.sequences import next_values

from .choices import OptionKind
from .dedupe_rules import normalize_company_name
from .extensions import DemoLoad, demo_contributors
from .models import Contact, Customer, CustomerCollaborator, Option, Pool, Tag
from .rules import (
    LOYAL_MIN_ORDERS,
    OrderFacts,
    derive_deal_status,
    derive_loyalty,
    derive_status,
    derive_value_tier,
    next_solar_birthday,
)
from .services import CODE_SEQUENCE, format_code

# fmt: off
# --- the company -------------------------------------------------------------------------------
# key, name, parent key
DEPARTMENTS = [
    ("hq", "总部", None), ("sales", "销售部", "hq"), ("east", "华东销售部", "sales"),
    ("south", "华南销售部", "sales"), ("north", "华北销售部", "sales"), ("service", "客服中心", "hq"),
    ("marketing", "市场部", "hq"), ("audit", "审计部", "hq"), ("wealth", "理财业务部", "hq"),
]
DEPARTMENT_MANAGERS = {
    "hq": "admin", "east": "manager_east", "south": "manager_south", "north": "manager_north",
    "service": "service_lead",
}  # fmt: skip
# username, display name, role codes, department key, supervisor username, superuser
BASE_USERS = [
    ("admin", "李建国", ["admin"], "hq", None, True),
    ("manager_east", "陈静", ["sales_manager"], "east", None, False),
    ("rep_east", "王磊", ["sales_rep"], "east", "manager_east", False),
    ("rep_east2", "赵敏", ["sales_rep"], "east", "manager_east", False),
    ("manager_south", "黄志强", ["sales_manager"], "south", None, False),
    ("rep_south", "林晓燕", ["sales_rep"], "south", "manager_south", False),
    ("manager_north", "刘洋", ["sales_manager"], "north", None, False),
    ("rep_north", "孙浩", ["sales_rep"], "north", "manager_north", False),
    ("service_lead", "韩冬梅", ["service_manager"], "service", None, False),
    ("agent", "周婷", ["service_agent"], "service", "service_lead", False),
    ("agent2", "何晓", ["service_agent"], "service", "service_lead", False),
    ("marketing", "吴倩", ["marketing"], "marketing", None, False),
    ("rm", "郑凯", ["relationship_manager"], "wealth", None, False),
    ("auditor", "单丽华", ["auditor"], "audit", None, False),
    ("finance", "钱会计", ["finance"], "hq", None, False),  # invoices, payments, receivables (SAL-7)
]
AREAS = ("east", "south", "north")
CUSTOMERS_PER_REP = 2000

# --- places: name prefix, province, sales area, phone area code, districts (name, division code) ----
REGIONS = [
    ("上海", "上海市", "east", "021", [("浦东新区", "310115"), ("徐汇区", "310104"), ("静安区", "310106"), ("闵行区", "310112")]),
    ("杭州", "浙江省", "east", "0571", [("西湖区", "330106"), ("滨江区", "330108"), ("余杭区", "330110")]),
    ("南京", "江苏省", "east", "025", [("玄武区", "320102"), ("鼓楼区", "320106"), ("江宁区", "320115")]),
    ("苏州", "江苏省", "east", "0512", [("姑苏区", "320508"), ("吴中区", "320506"), ("相城区", "320507")]),
    ("宁波", "浙江省", "east", "0574", [("鄞州区", "330212"), ("海曙区", "330203"), ("北仑区", "330206")]),
    ("无锡", "江苏省", "east", "0510", [("梁溪区", "320213"), ("滨湖区", "320211"), ("新吴区", "320214")]),
    ("合肥", "安徽省", "east", "0551", [("蜀山区", "340104"), ("包河区", "340111"), ("庐阳区", "340103")]),
    ("温州", "浙江省", "east", "0577", [("鹿城区", "330302"), ("瓯海区", "330304"), ("龙湾区", "330303")]),
    ("武汉", "湖北省", "east", "027", [("江汉区", "420103"), ("洪山区", "420111"), ("武昌区", "420106")]),
    ("长沙", "湖南省", "east", "0731", [("岳麓区", "430104"), ("芙蓉区", "430102"), ("雨花区", "430111")]),
    ("深圳", "广东省", "south", "0755", [("南山区", "440305"), ("福田区", "440304"), ("宝安区", "440306"), ("龙岗区", "440307")]),
    ("广州", "广东省", "south", "020", [("天河区", "440106"), ("越秀区", "440104"), ("海珠区", "440105"), ("番禺区", "440113")]),
    ("东莞", "广东省", "south", "0769", [("南城街道", "441900"), ("松山湖", "441900"), ("长安镇", "441900")]),
    ("佛山", "广东省", "south", "0757", [("禅城区", "440604"), ("南海区", "440605"), ("顺德区", "440606")]),
    ("厦门", "福建省", "south", "0592", [("思明区", "350203"), ("湖里区", "350206"), ("集美区", "350211")]),
    ("福州", "福建省", "south", "0591", [("鼓楼区", "350102"), ("台江区", "350103"), ("仓山区", "350104")]),
    ("南宁", "广西壮族自治区", "south", "0771", [("青秀区", "450103"), ("兴宁区", "450102"), ("西乡塘区", "450107")]),
    ("海口", "海南省", "south", "0898", [("龙华区", "460106"), ("美兰区", "460108")]),
    ("成都", "四川省", "south", "028", [("武侯区", "510107"), ("锦江区", "510104"), ("成华区", "510108"), ("青羊区", "510105")]),
    ("重庆", "重庆市", "south", "023", [("渝中区", "500103"), ("江北区", "500105"), ("渝北区", "500112")]),
    ("昆明", "云南省", "south", "0871", [("五华区", "530102"), ("盘龙区", "530103"), ("官渡区", "530111")]),
    ("北京", "北京市", "north", "010", [("朝阳区", "110105"), ("海淀区", "110108"), ("东城区", "110101"), ("丰台区", "110106")]),
    ("天津", "天津市", "north", "022", [("和平区", "120101"), ("南开区", "120104"), ("滨海新区", "120116")]),
    ("石家庄", "河北省", "north", "0311", [("长安区", "130102"), ("桥西区", "130104"), ("裕华区", "130108")]),
    ("太原", "山西省", "north", "0351", [("小店区", "140105"), ("迎泽区", "140106"), ("杏花岭区", "140107")]),
    ("济南", "山东省", "north", "0531", [("历下区", "370102"), ("市中区", "370103"), ("槐荫区", "370104")]),
    ("青岛", "山东省", "north", "0532", [("市南区", "370202"), ("市北区", "370203"), ("黄岛区", "370211")]),
    ("沈阳", "辽宁省", "north", "024", [("和平区", "210102"), ("沈河区", "210103"), ("浑南区", "210112")]),
    ("大连", "辽宁省", "north", "0411", [("中山区", "210202"), ("西岗区", "210203"), ("甘井子区", "210211")]),
    ("郑州", "河南省", "north", "0371", [("金水区", "410105"), ("二七区", "410103"), ("中原区", "410102")]),
    ("西安", "陕西省", "north", "029", [("雁塔区", "610113"), ("碑林区", "610103"), ("未央区", "610112")]),
    ("哈尔滨", "黑龙江省", "north", "0451", [("南岗区", "230103"), ("道里区", "230102"), ("香坊区", "230110")]),
]
STREETS = [
    "人民路", "中山路", "解放路", "建设路", "长江路", "黄河路", "科技路", "创业大道", "世纪大道", "滨江大道",
    "南京路", "光明路", "和平路", "新华路", "文化路", "学院路", "工业大道", "金融街", "望京街", "高新路",
]
BRANDS = [
    "华信", "天成", "瑞丰", "宏图", "恒通", "鼎盛", "金桥", "博远", "卓越", "嘉禾", "永泰", "兴业", "盛世", "海纳",
    "中诚", "汇通", "远航", "启明", "锦程", "鸿运", "泰和", "信达", "凯瑞", "安泰", "华瑞", "天润", "德胜", "明远",
    "晨光", "蓝海", "青松", "新元", "联创", "华晟", "众合", "恒源", "佳美", "宏达", "东升", "同创", "百川", "万通",
    "润泽", "瑞祥", "金鼎", "华通", "伟业", "鑫源", "鼎信", "天宇", "华茂", "昌盛", "康达", "荣盛", "星辰", "旭日",
    "正源", "腾飞", "四海", "易达", "源丰", "顺通", "聚力", "祥瑞",
]
# business word -> industry option code (kehu.customers.choices.DEFAULT_INDUSTRIES)
BUSINESSES = [
    ("电子科技", "it"), ("信息技术", "it"), ("网络科技", "it"), ("软件", "it"), ("智能科技", "it"), ("数据科技", "it"),
    ("机械", "manufacturing"), ("精密机械", "manufacturing"), ("汽车零部件", "manufacturing"),
    ("电气设备", "manufacturing"), ("纺织", "manufacturing"), ("包装材料", "manufacturing"),
    ("五金制品", "manufacturing"), ("食品", "manufacturing"),
    ("贸易", "retail"), ("商贸", "retail"), ("电子商务", "retail"), ("进出口", "retail"), ("百货", "retail"),
    ("农业科技", "agriculture"), ("生态农业", "agriculture"), ("水产", "agriculture"), ("种业", "agriculture"),
    ("物流", "logistics"), ("供应链管理", "logistics"), ("国际货运代理", "logistics"), ("仓储", "logistics"),
    ("建材", "construction"), ("建筑工程", "construction"), ("房地产开发", "construction"), ("装饰工程", "construction"),
    ("医疗器械", "healthcare"), ("生物医药", "healthcare"), ("健康管理", "healthcare"), ("医药", "healthcare"),
    ("新能源", "energy"), ("化工", "energy"), ("环保科技", "energy"), ("能源", "energy"),
    ("投资管理", "finance"), ("融资租赁", "finance"), ("保险代理", "finance"), ("资产管理", "finance"),
    ("教育科技", "education"), ("教育咨询", "education"), ("职业培训", "education"),
    ("企业管理咨询", "services"), ("人力资源", "services"), ("广告", "services"), ("酒店管理", "services"),
    ("餐饮管理", "services"), ("文化传播", "services"),
]
# Legal-form suffixes by company size; sole traders (个体工商户) have shop-style names instead.
SUFFIXES_BY_SIZE = {
    "large": ["集团有限公司", "股份有限公司", "股份有限公司"],
    "medium": ["有限公司", "有限公司", "股份有限公司", "有限责任公司"],
    "small": ["有限公司", "有限公司", "有限公司", "有限责任公司"],
    "sole": ["经营部", "商行", "门市部"],
}
GOVERNMENT_BODIES = [
    "政务服务管理局", "公共资源交易中心", "市场监督管理局", "交通运输局", "住房和城乡建设局", "大数据管理局",
    "机关事务管理局", "教育局", "卫生健康委员会",
]
SURNAMES = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高",
    "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁",
    "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔",
    "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "方", "白", "邹", "孟", "熊", "秦", "邱",
    "江", "尹", "薛", "段", "雷", "侯", "龙", "史", "陶", "黎", "贺", "顾", "毛", "郝", "龚", "邵", "万", "钱",
    "严", "覃", "戴", "莫", "孔", "汤", "单", "解", "区", "查", "朴", "仇", "翟", "欧阳", "司马", "诸葛", "上官",
]
GIVEN_MALE = [
    "伟", "强", "磊", "军", "洋", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "飞", "鑫", "波", "斌",
    "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "建国", "建华", "志强", "志明", "国强", "海涛", "晓东",
    "文博", "子轩", "浩然", "宇航", "俊杰", "天佑", "家豪", "明辉", "致远", "博文", "泽宇", "一鸣", "振华",
    "立新", "永刚", "建军", "德明", "国栋", "文涛", "嘉伟", "少华", "建平", "春生",
]
GIVEN_FEMALE = [
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "倩", "颖", "琳", "欣", "洁", "慧",
    "晶", "莉", "秀英", "桂英", "秀兰", "玉兰", "丽娟", "晓燕", "雨萱", "梓涵", "诗琪", "欣怡", "佳怡", "子涵",
    "雅静", "美玲", "雨桐", "婉清", "晓丽", "海燕", "春梅", "丽华", "淑珍", "文静", "梦瑶", "紫萱", "若曦",
    "佳琪", "静怡", "雨欣", "慧敏", "晓琳",
]
BOSS_POSITIONS = [("总经理", "总经办"), ("董事长", "董事会"), ("总裁", "总裁办"), ("执行董事", "董事会")]
STAFF_POSITIONS = [
    ("采购经理", "采购部"), ("技术总监", "技术部"), ("财务经理", "财务部"), ("销售总监", "销售部"),
    ("行政主管", "行政部"), ("项目经理", "项目部"), ("运营总监", "运营部"), ("采购专员", "采购部"),
    ("IT经理", "信息部"), ("人事经理", "人力资源部"), ("副总经理", "总经办"), ("质量经理", "质量部"),
]
FAMILY_POSITIONS = [("配偶", ""), ("子女", ""), ("私人助理", ""), ("家属", ""), ("秘书", "")]
FREE_MAIL = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com"]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "173", "175", "176", "177", "178", "180", "181", "182", "183",
    "184", "185", "186", "187", "188", "189", "191", "198", "199",
]
TAGS = [
    ("重点跟进", "red"), ("老客户推荐", "green"), ("展会客户", "blue"), ("招投标", "purple"), ("价格敏感", "orange"),
    ("决策链长", "gray"), ("长期合作", "green"), ("需要回访", "orange"), ("高潜力", "red"), ("海外业务", "blue"),
    ("政府采购", "purple"), ("已签框架协议", "green"),
]
NEEDS = [
    "计划明年更换生产线设备", "需要年度维保服务", "关注整体解决方案报价", "希望缩短交付周期", "正在评估替代供应商",
    "需要定制化开发", "预算审批中，预计下季度采购", "关注售后响应速度", "希望试用后再决定", "扩建新厂房，需求量大",
]
PREFERENCES = [
    "偏好微信沟通", "只在工作日上午联系", "重视资质与案例", "喜欢当面拜访", "邮件沟通为主，需正式报价单",
    "对价格敏感，关注折扣", "决策需总部审批",
]
NOTES = ["年底有集中采购", "春节前后不宜拜访", "老板是本地商会会员", "曾投诉过发货延迟，已妥善处理", "有意向参加年度客户大会"]
FOLLOW_UP_ACTIONS = [
    "电话确认采购计划", "发送报价单", "预约上门拜访", "跟进样品试用反馈", "邀请参加新品发布会", "确认合同条款",
    "回访售后使用情况", "提交技术方案", "催收尾款", "了解年度预算", "安排技术交流会", "发送节日问候",
]
TRADE_SHOWS = ["中国国际工业博览会", "广交会", "中国国际进口博览会", "高交会", "行业年度峰会"]
# Weighted tables: one entry per percent.
SOURCE_WEIGHTS = {"referral": 20, "trade_show": 12, "website": 15, "inbound": 15, "cold_call": 10,
                  "market_research": 10, "industry_report": 8, "import": 10}
RELATION_WEIGHTS = {"consumer": 50, "intermediary": 20, "partner": 15, "internal": 5, "public": 10}
SIZE_WEIGHTS = {"large": 10, "medium": 30, "small": 45, "sole": 15}
NEED_WEIGHTS = {"target": 40, "potential": 50, "dead": 10}
# Order-history profiles: the facts the classification rules read are drawn per profile.
PROFILE_WEIGHTS = {"none": 30, "screened": 14, "new": 12, "old": 20, "loyal": 8, "lost": 10, "non": 2, "intent": 4}
TIER_WEIGHTS = {"vip": 5, "important": 20, "ordinary": 45, "small": 30}
# fmt: on
PROFILES = list(PROFILE_WEIGHTS)
TIER_OF_PROFILE_FOR_COVERAGE = {"new": "ordinary", "old": "important", "loyal": "vip"}
# The first customers of a run cycle through every value, so even a small demo shows all of them.
COVERAGE = 16
MAX_DAYS_BACK = 4500
CHUNK = 10_000  # customers per batch; the random stream is seeded per batch
PROGRESS_EVERY = 100_000
MAX_CONTACTS = 20
LIVELY_CUSTOMERS = 2000  # the first customers of a run: some of their contacts have a birthday this week
# From this many customers on (and when the tables are not already bigger) the load runs in bulk
# mode: secondary indexes and foreign-key checks are rebuilt/validated once at the end.
BULK_MIN = 20_000
# From this many customers on, batches are generated in worker processes (Linux, several CPUs).
PARALLEL_MIN = 20_000
MAX_WORKERS = 4
_MOBILE_STRIDE = 32  # mobile numbers are indexed code_number * 32 + slot (slot 0: the customer)
_BIRTH_START = date(1955, 1, 1)
_BIRTH_DAYS = (date(2003, 12, 31) - _BIRTH_START).days
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

# Columns each generated row fills, in order; the constant ones are written as literals.
CUSTOMER_COLUMNS = (
    "id", "created_at", "updated_at", "kind", "code", "name", "name_normalized", "search_text", "credit_code",
    "id_number", "mobile", "phone", "phone_key", "email", "website", "wechat", "gender", "birthday", "size", "relation",
    "value_tier", "loyalty", "status", "deal_status", "need_status", "overrides", "screened", "source_detail",
    "needs", "preferences", "notes", "province", "city", "district", "address", "owner_since", "last_contact_at",
    "first_order_date", "last_order_date", "order_count", "revenue_12m", "created_by_id", "owner_id",
    "industry_id", "source_id", "next_follow_up_on", "next_follow_up_action", "birthday_calendar",
    "lunar_birth_month", "lunar_birth_day", "lunar_birth_leap", "birthday_next",
)  # fmt: skip
CUSTOMER_CONSTANTS = {"version": 1, "deleted_at": None, "currency": "CNY", "deleted_by_id": None,
                      "merged_into_id": None}  # fmt: skip
CONTACT_COLUMNS = (
    "id", "created_at", "updated_at", "name", "search_text", "gender", "position", "department", "mobile",
    "phone", "phone_key", "email", "wechat", "birthday", "is_primary", "reports_to_id", "customer_id", "birthday_calendar",
    "lunar_birth_month", "lunar_birth_day", "lunar_birth_leap", "birthday_next",
)  # fmt: skip
_SEARCH_TEXT = CUSTOMER_COLUMNS.index("search_text")
CONTACT_CONSTANTS = {"version": 1, "deleted_at": None, "notes": "", "deleted_by_id": None}
TAG_COLUMNS = ("customer_id", "tag_id")
COLLABORATOR_COLUMNS = ("customer_id", "user_id", "can_edit", "added_at")


def _weighted(weights: dict[str, int]) -> list[str]:
    table = [key for key, weight in weights.items() for _ in range(weight)]
    assert len(table) == 100, weights
    return table


def _affine(modulus: int, rng: random.Random) -> tuple[int, int]:
    """A permutation x -> (a·x + b) mod m of range(m): distinct inputs give distinct outputs."""
    a = rng.randrange(modulus // 3, modulus)
    while gcd(a, modulus) != 1:
        a += 1
    return a, rng.randrange(modulus)


def _weighted_digit_sums(weights: tuple[int, ...]) -> list[int]:
    """Σ digit·weight for every 4-digit number (zero-padded), so a check digit costs two lookups."""
    return [sum(int(d) * w for d, w in zip(f"{n:04d}", weights, strict=True)) for n in range(10_000)]


_ORG_HIGH, _ORG_LOW = _weighted_digit_sums(_ORG_WEIGHTS[:4]), _weighted_digit_sums(_ORG_WEIGHTS[4:])


def org_code(number: int) -> str:
    """A 9-character organisation code (GB 11714): 8 digits and their check character."""
    check = 11 - (_ORG_HIGH[number // 10_000] + _ORG_LOW[number % 10_000]) % 11
    return f"{number:08d}" + ("X" if check == 10 else "0" if check == 11 else str(check))


# ------------------------------------------------------------------------------------------------
# Users and departments (few: through the access services)
# ------------------------------------------------------------------------------------------------


@dataclass
class DemoUser:
    username: str
    display_name: str
    roles: list[str]
    created: bool


@dataclass
class DemoCompany:
    users: dict[str, User]
    listing: list[DemoUser]
    reps_by_area: dict[str, list[int]]
    extra_reps: list[str] = field(default_factory=list)


def rep_count(customers: int) -> int:
    """Sales reps for a demo of ``customers``: the four named ones, then about one per 2,000 customers."""
    return max(4, round(customers / CUSTOMERS_PER_REP))


def check_password(password: str) -> None:
    try:
        validate_password(password)
    except DjangoValidationError as exc:
        raise ValidationError(" ".join(exc.messages), field="password") from exc


@transaction.atomic
def setup_company(*, seed: int, password: str, customers: int) -> DemoCompany:
    """The department tree and the demo users; existing ones (same name/username) are reused."""
    depts: dict[str, Department] = {}
    for key, name, parent_key in DEPARTMENTS:
        parent = depts.get(parent_key) if parent_key else None
        found = Department.objects.filter(name=name, parent=parent).first()
        depts[key] = found or access_services.department_create(name=name, parent=parent, by=None)

    wanted = [u[0] for u in BASE_USERS]
    users = {u.username: u for u in User.objects.filter(username__in=wanted)}
    listing: list[DemoUser] = []
    for username, display, roles, dept_key, supervisor, superuser in BASE_USERS:
        created = username not in users
        if created:
            users[username] = access_services.user_create(
                username=username, password=password, display_name=display, email=f"{username}@kehu.example.com",
                department=depts[dept_key], supervisor=users.get(supervisor) if supervisor else None,
                role_codes=roles, is_superuser=superuser, by=None,
            )  # fmt: skip
        listing.append(DemoUser(username, users[username].display_name, roles, created))

    admin = users["admin"]
    for key, username in DEPARTMENT_MANAGERS.items():
        dept = depts[key]
        if dept.manager_id is None:
            access_services.department_update(
                department=dept, version=None, manager=users[username], by=admin
            )

    reps_by_area = {area: [users[f"rep_{area}"].pk] for area in AREAS}
    reps_by_area["east"].append(users["rep_east2"].pk)
    extra = _extra_reps(seed=seed, password=password, total=rep_count(customers), users=users, depts=depts)
    for area, user in extra:
        reps_by_area[area].append(user.pk)
    return DemoCompany(users=users, listing=listing, reps_by_area=reps_by_area,
                       extra_reps=[u.username for _a, u in extra])  # fmt: skip


def _extra_reps(
    *, seed: int, password: str, total: int, users: dict[str, User], depts: dict[str, Department]
) -> list[tuple[str, User]]:
    """More sales reps for big demos (rep_east3, rep_south2, …), round-robin over the sales areas.

    Created in one batch with one password hash: hashing (Argon2) hundreds of times through
    ``user_create`` would take longer than loading a million customers. They get the same audit
    event ``user_create`` records.
    """
    next_number = {"east": 3, "south": 2, "north": 2}
    names: list[tuple[str, str]] = []
    for i in range(total - 4):
        area = AREAS[i % 3]
        names.append((area, f"rep_{area}{next_number[area]}"))
        next_number[area] += 1
    if not names:
        return []
    existing = {u.username: u for u in User.objects.filter(username__in=[n for _a, n in names])}
    missing = [(area, name) for area, name in names if name not in existing]
    if missing:
        rng = random.Random(f"kehu-demo-reps-{seed}")
        hashed = make_password(password)
        new = []
        for area, name in missing:
            given = GIVEN_MALE if rng.random() < 0.5 else GIVEN_FEMALE
            display = rng.choice(SURNAMES) + rng.choice(given)
            new.append(User(username=name, password=hashed, display_name=display, email=f"{name}@kehu.example.com",
                            department=depts[area], supervisor=users[f"manager_{area}"],
                            name_search=search_keys(display, person_name=True)))  # fmt: skip
        new = User.objects.bulk_create(new, batch_size=500)
        if any(u.pk is None for u in new):  # a backend without RETURNING
            new = list(User.objects.filter(username__in=[n for _a, n in missing]))
        role = Role.objects.get(code="sales_rep")
        through = User.roles.through
        through.objects.bulk_create([through(user_id=u.pk, role_id=role.pk) for u in new], batch_size=1000)
        emit(
            *[
                AccessChanged(
                    actor_id=None,
                    verb="create",
                    subject_type="user",
                    subject_id=u.pk,
                    subject_label=str(u),
                    changes={"roles": [None, ["sales_rep"]]},
                )
                for u in new
            ]
        )
        existing.update({u.username: u for u in new})
    return [(area, existing[name]) for area, name in names]


# ------------------------------------------------------------------------------------------------
# Customers and contacts (many: generated here, inserted in bulk)
# ------------------------------------------------------------------------------------------------


@dataclass
class DemoContext:
    """What the generator needs from the database: ids only, so it also runs without one (tests)."""

    today: date
    industry_ids: dict[str, int]
    source_ids: dict[str, int]
    tag_ids: list[int]
    reps_by_area: dict[str, list[int]]
    managers: dict[str, tuple[int, str]]  # area -> (user id, label): who signs manual classifications
    rm_id: int | None
    utc_suffix: str = ""  # "" for SQLite (naive UTC), "+00" for PostgreSQL


@dataclass
class Chunk:
    """Rows of one batch; every value is a str, int, bool or None (dates and times as ISO text)."""

    customers: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    tags: list[tuple] = field(default_factory=list)
    collaborators: list[tuple] = field(default_factory=list)


class _Derive:
    """The CUS-2 rules, memoised per input: exact, but too slow to call a million times."""

    def __init__(self, today: date) -> None:
        self.today = today
        self.zero = Decimal(0)
        self._tier: dict[int, str] = {}
        self._loyalty: dict[tuple[int, int], str] = {}
        self._status: dict[tuple[int, bool], str] = {}
        self._deal: dict[int, str] = {}

    def _date(self, back: int) -> date | None:
        return self.today - timedelta(days=back) if back >= 0 else None

    def value_tier(self, revenue: int) -> str:
        value = self._tier.get(revenue)
        if value is None:
            facts = OrderFacts(None, None, 0, Decimal(revenue))
            value = self._tier[revenue] = str(derive_value_tier(facts).value)
        return value

    def loyalty(self, first_back: int, count: int) -> str:
        # The rule reads the order count only as "none" / "at least LOYAL_MIN_ORDERS" (the tests
        # compare every row with derive_all), so larger counts share a cache entry.
        key = (first_back, min(count, LOYAL_MIN_ORDERS))
        value = self._loyalty.get(key)
        if value is None:
            facts = OrderFacts(self._date(first_back), None, count, self.zero)
            value = self._loyalty[key] = str(derive_loyalty(facts, today=self.today).value)
        return value

    def status(self, last_back: int, screened: bool) -> str:
        value = self._status.get((last_back, screened))
        if value is None:
            facts = OrderFacts(None, self._date(last_back), 0, self.zero, screened=screened)
            value = self._status[(last_back, screened)] = str(derive_status(facts, today=self.today).value)
        return value

    def deal_status(self, count: int) -> str:
        value = self._deal.get(count)
        if value is None:
            value = self._deal[count] = str(
                derive_deal_status(OrderFacts(None, None, count, self.zero)).value
            )
        return value


class CustomerGenerator:
    """Rows for customers numbered ``numbers`` (code numbers); the same seed gives the same rows."""

    def __init__(self, ctx: DemoContext, *, seed: int, contacts_per_customer: int = 2) -> None:
        if not 0 <= contacts_per_customer <= MAX_CONTACTS:
            raise ValueError("contacts_per_customer")
        self.ctx, self.k, self.seed = ctx, contacts_per_customer, seed
        perm_rng = random.Random(f"kehu-demo-perm-{seed}")
        # Company names: region x business x brand, then region x business x brand pair.
        self.R, self.W, self.B = len(REGIONS), len(BUSINESSES), len(BRANDS)
        self.s1 = self.R * self.W * self.B
        self.s2 = self.s1 * (self.B - 1)
        self.p1, self.p2 = _affine(self.s1, perm_rng), _affine(self.s2, perm_rng)
        self.p_org = _affine(10**8, perm_rng)
        self.p_id = _affine(_BIRTH_DAYS * 1000, perm_rng)
        self.mobile_mod = len(MOBILE_PREFIXES) * 10**8
        self.p_mobile = _affine(self.mobile_mod, perm_rng)
        self.p_gov = _affine(len(REGIONS) * len(GOVERNMENT_BODIES), perm_rng)
        # Pinyin of every word, once.
        self.region_keys = [pinyin_keys(r[0]) for r in REGIONS]
        self.brand_keys = [pinyin_keys(b) for b in BRANDS]
        self.biz_keys = [pinyin_keys(b[0]) for b in BUSINESSES]
        self.suffix_keys = {s: pinyin_keys(s) for ss in SUFFIXES_BY_SIZE.values() for s in ss}
        # What normalize_company_name keeps of each suffix ("" for legal forms, 经营部 for a shop).
        self.suffix_kept = {s: normalize_company_name("甲乙" + s)[2:] for s in self.suffix_keys}
        self.surname_keys = {name: pinyin_keys(name, person_name=True) for name in SURNAMES}
        self.given_keys = {name: pinyin_keys(name) for name in (*GIVEN_MALE, *GIVEN_FEMALE)}
        self.n_people = len(SURNAMES) * (len(GIVEN_MALE) + len(GIVEN_FEMALE))
        self.people: list[tuple[str, str, str, str] | None] = [None] * self.n_people
        self.exact_cache: dict[str, tuple[str, str]] = {}
        self.normalized_cache: dict[str, str] = {}
        self.derive = _Derive(ctx.today)
        # Days back from today as ISO dates, and times of day (09:00-18:59 in Shanghai, stored as UTC).
        self.days = [(ctx.today - timedelta(days=d)).isoformat() for d in range(MAX_DAYS_BACK + 1)]
        self.ahead = [(ctx.today + timedelta(days=d)).isoformat() for d in range(400)]
        # Birthdays (MKT-3): the next celebration of each solar month-day and lunar day, worked out once.
        self._next_solar: dict[tuple[int, int], str] = {}
        self._next_lunar: dict[lunar.LunarDay, str] = {}
        self._lunar_of: dict[date, lunar.LunarDay] = {}
        # The lunar month tables of the birth years, computed here once (before worker processes fork).
        for year in range(_BIRTH_START.year - 1, _BIRTH_START.year + _BIRTH_DAYS // 365 + 2):
            lunar.leap_month(year)
        for year in (ctx.today.year - 1, ctx.today.year, ctx.today.year + 1):
            lunar.leap_month(year)
        time_rng = random.Random(seed)
        self.times = [f"{h:02d}:{m:02d}:{time_rng.randrange(60):02d}{ctx.utc_suffix}"
                      for h in range(1, 11) for m in range(60)]  # fmt: skip
        weighted_sources: list[int | None] = [
            ctx.source_ids[c] for c in _weighted(SOURCE_WEIGHTS) if c in ctx.source_ids
        ]
        self.sources = weighted_sources or [None]
        self.source_codes = {v: k for k, v in ctx.source_ids.items()}
        self.source_cover: list[int | None] = [*ctx.source_ids.values()] or [None]
        self.relations, self.sizes = _weighted(RELATION_WEIGHTS), _weighted(SIZE_WEIGHTS)
        self.needs, self.profiles, self.tiers = (
            _weighted(NEED_WEIGHTS),
            _weighted(PROFILE_WEIGHTS),
            _weighted(TIER_WEIGHTS),
        )

    # --- helpers ---------------------------------------------------------------------------------
    def next_solar(self, born: date) -> str:
        key = (born.month, born.day)
        value = self._next_solar.get(key)
        if value is None:
            value = self._next_solar[key] = next_solar_birthday(born, on=self.ctx.today).isoformat()
        return value

    def next_lunar(self, day: lunar.LunarDay) -> str:
        value = self._next_lunar.get(day)
        if value is None:
            value = self._next_lunar[day] = lunar.next_on_or_after(day, self.ctx.today).isoformat()
        return value

    def lunar_of(self, d: date) -> lunar.LunarDay:
        value = self._lunar_of.get(d)
        if value is None:
            value = self._lunar_of[d] = lunar.from_solar(d)[1]
        return value

    def mobile(self, index: int) -> str:
        a, b = self.p_mobile
        x = (a * index + b) % self.mobile_mod
        return MOBILE_PREFIXES[x // 100_000_000] + f"{x % 100_000_000:08d}"

    def person(self, surname: str, given: str) -> tuple[str, str]:
        """(search keys, full pinyin) of a person name: search_keys(name, person_name=True), composed.

        The surname keeps its surname reading (单 shan); no surname + given name pair of the lists
        forms a phrase read differently (tests check every pair), so the parts' pinyin add up.
        """
        (s_full, s_initials), (g_full, g_initials) = self.surname_keys[surname], self.given_keys[given]
        return f"{s_full}{g_full} {s_initials}{g_initials}", s_full + g_full

    def person_at(self, index: int) -> tuple[str, str, str, str]:
        """Person ``index`` of surname x given name: (name, gender, search keys, full pinyin), cached."""
        surname, given = divmod(index, len(GIVEN_MALE) + len(GIVEN_FEMALE))
        male = given < len(GIVEN_MALE)
        given_name = GIVEN_MALE[given] if male else GIVEN_FEMALE[given - len(GIVEN_MALE)]
        keys, full = self.person(SURNAMES[surname], given_name)
        entry = self.people[index] = (
            SURNAMES[surname] + given_name,
            "male" if male else "female",
            keys,
            full,
        )
        return entry

    def normalized(self, name: str) -> str:
        """normalize_company_name of a name that is not composed (a person's), cached."""
        value = self.normalized_cache.get(name)
        if value is None:
            value = self.normalized_cache[name] = normalize_company_name(name)[:120]
        return value

    def exact(self, name: str) -> tuple[str, str]:
        """(search keys, normalised name) by the real functions, for names that are not composed."""
        cached = self.exact_cache.get(name)
        if cached is None:
            cached = self.exact_cache[name] = (search_keys(name), normalize_company_name(name)[:120])
        return cached

    def company_name(self, number: int) -> tuple[int, str, str, str, str, str, str]:
        """Region index, industry code, core name (no suffix), full pinyin, initials, brand, web domain.

        The core name (region + brand(s) + business) is unique per ``number``.
        """
        t = number - 1
        R, W, B = self.R, self.W, self.B
        if t < self.s1:
            a, b = self.p1
            x = (a * t + b) % self.s1
            region, x = x % R, x // R
            biz, b1 = x % W, x // W
            brand = BRANDS[b1]
            full, initials = self.brand_keys[b1]
        else:
            a, b = self.p2
            x = (a * ((t - self.s1) % self.s2) + b) % self.s2
            region, x = x % R, x // R
            biz, x = x % W, x // W
            b1, b2 = x % B, x // B
            b2 += b2 >= b1
            brand = BRANDS[b1] + BRANDS[b2]
            full = self.brand_keys[b1][0] + self.brand_keys[b2][0]
            initials = self.brand_keys[b1][1] + self.brand_keys[b2][1]
        rk, bk = self.region_keys[region], self.biz_keys[biz]
        return (region, BUSINESSES[biz][1], REGIONS[region][0] + brand + BUSINESSES[biz][0],
                rk[0] + full + bk[0], rk[1] + initials + bk[1], BRANDS[b1], f"{full}{bk[1]}.com")  # fmt: skip

    # --- rows ------------------------------------------------------------------------------------
    def chunk(self, index: int, numbers: range, first_customer_id: int, first_contact_id: int) -> Chunk:
        """Batch ``index`` of the run: customers ``numbers`` with ids from ``first_customer_id``."""
        out = Chunk()
        rng = random.Random(f"kehu-demo-{self.seed}-{index}")
        k = self.k
        for i, number in enumerate(numbers):
            self._customer(out, rng.random, index * CHUNK + i, number, first_customer_id + i,
                           first_contact_id + i * k)  # fmt: skip
        return out

    def _customer(
        self, out: Chunk, r: Callable[[], float], n: int, number: int, cid: int, contact_id: int
    ) -> None:
        ctx, derive, days, times = self.ctx, self.derive, self.days, self.times
        cover = n < COVERAGE
        # Public bodies: customer numbers 5, 105, 205 … (1%), each a different one while the list lasts.
        gov = number % 100 == 5 and number // 100 < len(REGIONS) * len(GOVERNMENT_BODIES)
        company = gov or ((n % 8 != 3) if cover else r() < 0.8)
        profile = PROFILES[n % len(PROFILES)] if cover else self.profiles[int(r() * 100)]
        code = format_code(number)

        # Identity, name, place.
        credit_code = id_number = mobile = phone = phone_key = email = website = wechat = gender = ""
        birthday = industry = None
        calendar, l_month, l_day, l_leap, birthday_next = "solar", None, None, False, None
        size = ""
        if company:
            if gov:
                a, b = self.p_gov
                x = (a * (number // 100) + b) % (len(REGIONS) * len(GOVERNMENT_BODIES))
                region = x % len(REGIONS)
                name = f"{REGIONS[region][0]}市{GOVERNMENT_BODIES[x // len(REGIONS)]}"
                keys, normalized = self.exact(name)
                domain, brand, industry_code, kind_code = (
                    f"{self.region_keys[region][0]}.gov.cn",
                    REGIONS[region][0],
                    "government",
                    "11",
                )
                size = "large" if r() < 0.5 else "medium"
            else:
                region, industry_code, core, full, initials, brand, domain = self.company_name(number)
                size = list(SIZE_WEIGHTS)[n % 4] if cover else self.sizes[int(r() * 100)]
                suffixes = SUFFIXES_BY_SIZE[size]
                suffix = suffixes[int(r() * len(suffixes))]
                sfull, sinitials = self.suffix_keys[suffix]
                name = core + suffix
                keys = f"{full}{sfull} {initials}{sinitials}"
                normalized = core + self.suffix_kept[suffix]
                kind_code = "92" if size == "sole" else "91"
            industry = ctx.industry_ids.get(industry_code)
            city, province, area, area_code, districts = REGIONS[region]
            district, division = districts[int(r() * len(districts))]
            a, b = self.p_org
            body17 = kind_code + division + org_code((a * number + b) % 10**8)
            credit_code = body17 + credit_code_check_char(body17)
            local = f"{int(r() * 7 + 2)}{int(r() * 10**7):07d}"
            phone = f"{area_code}-{local}"
            phone_key = area_code + local  # = rules.phone_key(phone): area code with its 0, 8-digit number
            if r() < 0.6:
                email = ("info@" if r() < 0.5 else "sales@") + domain
            if r() < 0.5 and not gov:
                website = "www." + domain
            address = f"{district}{STREETS[int(r() * len(STREETS))]}{int(r() * 999) + 1}号"
            if r() < 0.5:
                address += f"{brand}大厦{int(r() * 30) + 1}层"
        else:
            region = int(r() * self.R)
            city, province, area, area_code, districts = REGIONS[region]
            district, division = districts[int(r() * len(districts))]
            a, b = self.p_id
            x = (a * number + b) % (_BIRTH_DAYS * 1000)
            born, seq = _BIRTH_START + timedelta(days=x // 1000), x % 1000
            birthday = born.isoformat()
            if r() < 0.3:  # many celebrate the lunar birthday of their (solar) date of birth
                born_lunar = self.lunar_of(born)
                calendar, l_month, l_day, l_leap = "lunar", born_lunar.month, born_lunar.day, born_lunar.leap
                birthday_next = self.next_lunar(born_lunar)
            else:
                birthday_next = self.next_solar(born)
            body17 = f"{division}{birthday[:4]}{birthday[5:7]}{birthday[8:]}{seq:03d}"
            id_number = body17 + id_check_char(body17)
            male = seq % 2 == 1  # the ID number's sequence is odd for men (GB 11643)
            given = GIVEN_MALE if male else GIVEN_FEMALE
            surname, given_name = SURNAMES[int(r() * len(SURNAMES))], given[int(r() * len(given))]
            name = surname + given_name
            gender = "male" if male else "female"
            keys, full = self.person(surname, given_name)
            normalized = self.normalized(name)
            mobile = self.mobile(number * _MOBILE_STRIDE)
            if r() < 0.4:
                email = f"{full}{int(r() * 1000)}@{FREE_MAIL[int(r() * len(FREE_MAIL))]}"
            if r() < 0.5:
                wechat = f"{full}{int(r() * 9000) + 1000}"
            address = (f"{district}{STREETS[int(r() * len(STREETS))]}{int(r() * 999) + 1}号"
                       f"{int(r() * 20) + 1}栋{int(r() * 30) + 1}0{int(r() * 4) + 1}室")  # fmt: skip
            domain = ""
        city_name = province if province.endswith("市") else f"{city}市"

        # Classification that is not derived from facts.
        if cover:
            relation = list(RELATION_WEIGHTS)[n % 5]
            need = list(NEED_WEIGHTS)[n % 3]
            source = self.source_cover[n % len(self.source_cover)]
        else:
            relation = (
                self.relations[int(r() * 100)] if company else ("consumer" if r() < 0.85 else "partner")
            )
            need = self.needs[int(r() * 100)]
            source = self.sources[int(r() * len(self.sources))]
        if gov:
            relation = "public"

        # Order facts per profile, in days back from today (-1: never).
        first_back = last_back = -1
        count = revenue = 0
        screened = profile not in ("none", "non")
        if profile in ("new", "old", "loyal", "lost"):
            if profile == "new":
                first_back = 5 + int(r() * 355)
                count = 1 + int(r() * 4)
                last_back = int(r() * first_back) if count > 1 else first_back
            elif profile == "old":
                first_back = 366 + int(r() * 728)
                count = 2 + int(r() * 18)
                last_back = int(r() * 365)
            elif profile == "loyal":
                first_back = 1095 + int(r() * 2555)
                count = 6 + int(r() * 50)
                last_back = int(r() * 200)
            else:
                first_back = 400 + int(r() * 3250)
                count = 1 + int(r() * 10)
                last_back = 366 + int(r() * (first_back - 365))
            if last_back <= 365:  # revenue of the last 12 months
                tier = (
                    TIER_OF_PROFILE_FOR_COVERAGE.get(profile, "small")
                    if cover
                    else self.tiers[int(r() * 100)]
                )
                if tier == "vip":
                    revenue = 1_000_000 + int(r() * 4000) * 1000
                elif tier == "important":
                    revenue = 200_000 + int(r() * 800) * 1000
                elif tier == "ordinary":
                    revenue = 20_000 + int(r() * 1800) * 100
                else:
                    revenue = 100 + int(r() * 199) * 100
        value_tier = derive.value_tier(revenue)
        loyalty = derive.loyalty(first_back, count)
        status = derive.status(last_back, screened)
        deal_status = derive.deal_status(count)

        # Ownership and times.
        if r() < 0.05:
            owner = None  # the public pool (公海)
        elif not company and ctx.rm_id and r() < 0.4:
            owner = ctx.rm_id
        else:
            reps = ctx.reps_by_area[area]
            owner = reps[int(r() * len(reps))]
        created_back = min(MAX_DAYS_BACK, (first_back if first_back >= 0 else 0) + 10 + int(r() * 400))
        created_at = f"{days[created_back]} {times[int(r() * 600)]}"
        updated_back, updated_time = 1 + int(r() * (created_back - 1)), times[int(r() * 600)]
        updated_at = f"{days[updated_back]} {updated_time}"
        overrides = "{}"
        if profile == "non" or profile == "intent":
            # Not derivable from order facts: a manager classified these by hand, with a reason (CUS-2).
            manager_id, manager_label = ctx.managers[area]
            if profile == "non":
                dim, value, reason = "status", "non", "同行企业，不作为销售对象"
                status = value
            else:
                dim, value, reason = "deal_status", "intent", "正在洽谈，已提交报价"
                deal_status = value
            overrides = json.dumps({dim: {"value": value, "reason": reason, "by": manager_label, "by_id": manager_id,
                                          "at": f"{days[updated_back]}T{updated_time[:8]}+00:00"}},
                                   ensure_ascii=False)  # fmt: skip
        contact_back = -1
        if profile in ("new", "old", "loyal", "intent", "screened"):
            # Active customers: most were contacted lately (a third within the week), some today
            # (in the morning).
            contact_back = int(60 * r() ** 2)
            last_contact = f"{days[contact_back]} {times[int(r() * (60 if contact_back == 0 else 600))]}"
        elif profile == "lost" or r() < 0.4:
            contact_back = min(created_back, 90 + int(r() * 300))
            last_contact = f"{days[contact_back]} {times[int(r() * 600)]}"
        else:
            last_contact = None
        # The next follow-up (ENG-2) agreed at the last contact: a week to three months later, so some
        # are overdue, some due this week, some later (the urgency buckets of the 工作台).
        next_on, next_action = None, ""
        if owner and 0 <= contact_back <= 120:
            due = contact_back - (7 + int(r() * 80))  # days back; negative: days ahead
            next_on = days[due] if due >= 0 else self.ahead[-due]
            next_action = FOLLOW_UP_ACTIONS[int(r() * len(FOLLOW_UP_ACTIONS))]
        source_detail = ""
        source_code = self.source_codes.get(source) if source is not None else None
        if source_code == "trade_show":
            source_detail = f"{ctx.today.year - int(r() * 3)} {TRADE_SHOWS[int(r() * len(TRADE_SHOWS))]}"
        elif source_code == "referral":
            source_detail = "老客户转介绍"
        # = rules.customer_search_text(...), with the pinyin composed above.
        if company:
            search_text = f"{name} {keys} {code.lower()} {credit_code.lower()} {phone.replace('-', '')}"
        else:
            search_text = f"{name} {keys} {code.lower()} {mobile} {id_number.lower()}"
        out.customers.append((
            cid, created_at, updated_at, "company" if company else "individual", code, name, normalized,
            search_text, credit_code, id_number, mobile, phone, phone_key, email, website, wechat, gender, birthday, size,
            relation, value_tier, loyalty, status, deal_status, need, overrides, screened, source_detail,
            NEEDS[int(r() * len(NEEDS))] if r() < 0.5 else "",
            PREFERENCES[int(r() * len(PREFERENCES))] if r() < 0.3 else "",
            NOTES[int(r() * len(NOTES))] if r() < 0.1 else "",
            province, city_name, district, address, created_at if owner else None, last_contact,
            days[first_back] if first_back >= 0 else None, days[last_back] if last_back >= 0 else None,
            count, revenue, owner or ctx.managers[area][0], owner, industry, source, next_on, next_action,
            calendar, l_month, l_day, l_leap, birthday_next,
        ))  # fmt: skip

        tag_ids = ctx.tag_ids
        if tag_ids and r() < 0.4:
            first = int(r() * len(tag_ids))
            out.tags.append((cid, tag_ids[first]))
            if r() < 0.4:
                out.tags.append((cid, tag_ids[(first + 1 + int(r() * (len(tag_ids) - 1))) % len(tag_ids)]))
        if r() < 0.05:
            # A colleague of the same sales area helps (协作人): each rep collaborates on about as many
            # customers at any demo size as a real one would (~100 in a million), not a share of all.
            colleagues = ctx.reps_by_area[area]
            helper, can_edit = colleagues[int(r() * len(colleagues))], r() < 0.3
            if helper != owner:
                out.collaborators.append((cid, helper, can_edit, created_at))

        # Contacts: the first is the primary one and, at a company, the others report to them.
        contacts, people, person_at, n_people = out.contacts, self.people, self.person_at, self.n_people
        ma, mb, mm = self.p_mobile[0], self.p_mobile[1], self.mobile_mod
        mobile_slot = number * _MOBILE_STRIDE + 1
        contact_texts = [search_text]
        for j in range(self.k):
            p = int(r() * n_people)
            cname, cgender, ckeys, cfull = people[p] or person_at(p)
            x = (ma * (mobile_slot + j) + mb) % mm
            cmobile = MOBILE_PREFIXES[x // 100_000_000] + f"{x % 100_000_000:08d}"
            # The search text is rules.contact_search_text(...), built as we go.
            ctext = f"{cname} {ckeys} {cmobile}"
            cphone = cemail = cwechat = ""
            if company:
                position, department = (BOSS_POSITIONS[int(r() * 4)] if j == 0
                                        else STAFF_POSITIONS[int(r() * len(STAFF_POSITIONS))])  # fmt: skip
                if r() < 0.4:
                    cphone = f"{phone}-{800 + j}"  # the company's number and an extension: its key
                    ctext += " " + cphone.replace("-", "")
                if r() < 0.8:
                    cemail = f"{cfull}@{domain}"
                    ctext += " " + cemail
                reports_to = contact_id if j else None
            else:
                position, department = FAMILY_POSITIONS[int(r() * len(FAMILY_POSITIONS))]
                if r() < 0.3:
                    cemail = f"{cfull}{int(r() * 1000)}@{FREE_MAIL[int(r() * len(FREE_MAIL))]}"
                    ctext += " " + cemail
                reports_to = None
            if r() < 0.3:
                cwechat = f"{cfull}{int(r() * 9000) + 1000}"
                ctext += " " + cwechat
            cbirthday = cnext = None
            ccalendar, cl_month, cl_day, cl_leap = "solar", None, None, False
            roll = r()
            if roll < 0.15:
                year = 1960 + int(r() * 36)
                if roll < 0.03 and n < LIVELY_CUSTOMERS:
                    # A birthday this week, so even a small demo's 工作台 has some (solar or lunar); only
                    # among the first customers, so a big demo's week holds no more than a real one's.
                    target = ctx.today + timedelta(days=int(r() * 7))
                    if r() < 0.4:
                        born_lunar = self.lunar_of(target)
                        ccalendar, cl_month, cl_day, cl_leap = (
                            "lunar",
                            born_lunar.month,
                            born_lunar.day,
                            born_lunar.leap,
                        )
                        cnext = target.isoformat()
                    else:
                        leap_day = (target.month, target.day) == (2, 29)
                        cbirthday = f"{1988 if leap_day else year}-{target.month:02d}-{target.day:02d}"
                        cnext = target.isoformat()
                elif r() < 0.3:  # kept in the lunar calendar, the year unknown
                    born_lunar = lunar.LunarDay(1 + int(r() * 12), 1 + int(r() * 30), r() < 0.01)
                    ccalendar, cl_month, cl_day, cl_leap = (
                        "lunar",
                        born_lunar.month,
                        born_lunar.day,
                        born_lunar.leap,
                    )
                    cnext = self.next_lunar(born_lunar)
                else:
                    born = date(year, 1 + int(r() * 12), 1 + int(r() * 28))
                    cbirthday, cnext = born.isoformat(), self.next_solar(born)
            ctext = ctext[:300]
            contact_texts.append(ctext)
            contacts.append((
                contact_id + j, created_at, created_at, cname, ctext, cgender, position, department,
                cmobile, cphone, phone_key if cphone else "", cemail, cwechat, cbirthday, j == 0, reports_to, cid, ccalendar, cl_month, cl_day,
                cl_leap, cnext,
            ))  # fmt: skip
        if self.k:
            # The customer's search text ends with its contacts' (rules.customer_search_text).
            row = out.customers[-1]
            out.customers[-1] = (*row[:_SEARCH_TEXT], " ".join(contact_texts), *row[_SEARCH_TEXT + 1 :])


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    """A table the load writes: the generated columns, then constant ones (literals in the SQL)."""

    name: str
    columns: tuple[str, ...]
    constants: tuple[tuple[str, Any], ...] = ()

    @property
    def all_columns(self) -> tuple[str, ...]:
        return (*self.columns, *(c for c, _v in self.constants))


def _table(model: Any, columns: tuple[str, ...], constants: dict[str, Any] | None = None) -> _Table:
    """The model's table; a column added to the model since (with a plain default) gets its default."""
    fields = {f.column: f for f in model._meta.concrete_fields}
    constants = dict(constants or {})
    unknown = (set(columns) | set(constants)) - set(fields)
    if unknown:
        raise RuntimeError(f"kehu demo: {model.__name__} has no column(s) {sorted(unknown)}")
    for column, f in fields.items():
        if column not in columns and column not in constants and not f.primary_key:
            default = f.get_default()
            if default is not None and not isinstance(default, (str, int, bool)):
                raise RuntimeError(f"kehu demo does not fill the new column {model.__name__}.{column}")
            constants[column] = default
    return _Table(model._meta.db_table, columns, tuple(constants.items()))


def _tables() -> dict[str, _Table]:
    return {
        "customers": _table(Customer, CUSTOMER_COLUMNS, CUSTOMER_CONSTANTS),
        "contacts": _table(Contact, CONTACT_COLUMNS, CONTACT_CONSTANTS),
        "tags": _table(Customer.tags.through, TAG_COLUMNS),
        "collaborators": _table(CustomerCollaborator, COLLABORATOR_COLUMNS),
    }


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if value is True or value is False:
        return "t" if value else "f"
    return str(value)


def _copy_text(rows: list[tuple], table: _Table) -> bytes:
    """Rows in PostgreSQL's COPY text format (generated values never contain tabs, newlines or backslashes)."""
    suffix = "".join("\t" + _copy_value(v) for _c, v in table.constants) + "\n"
    str_ = str
    return "".join([
        "\t".join([v if v.__class__ is str_ else _copy_value(v) for v in row]) + suffix for row in rows
    ]).encode()  # fmt: skip


# A batch on its way to the database: (customers, contacts, payload). The payload is the Chunk itself
# (SQLite, in process), an SQLite database image (SQLite, from a worker) or COPY text (PostgreSQL).
Encoded = tuple[int, int, Any]


def _encode(chunk: Chunk, mode: str, tables: dict[str, _Table]) -> Encoded:
    parts = {"customers": chunk.customers, "contacts": chunk.contacts, "tags": chunk.tags,
             "collaborators": chunk.collaborators}  # fmt: skip
    if mode == "copy":
        payload: Any = {key: _copy_text(rows, tables[key]) for key, rows in parts.items() if rows}
    elif mode == "image":
        # Binding Python values is most of an SQLite insert's cost: the worker does it, into an
        # in-memory database whose image the main process copies over with INSERT … SELECT.
        # All tables are created before any row, so every image has the same schema *and* root pages:
        # the main connection keeps its cached schema of the attached image across batches.
        db = sqlite3.connect(":memory:")
        for key in parts:
            db.execute(f"CREATE TABLE {key} ({', '.join(tables[key].columns)})")
        for key, rows in parts.items():
            db.executemany(f"INSERT INTO {key} VALUES ({', '.join('?' * len(tables[key].columns))})", rows)
        db.commit()
        payload = db.serialize()
        db.close()
    else:
        payload = chunk
    return len(chunk.customers), len(chunk.contacts), payload


class _Writer:
    """Inserts encoded batches into the default database, inside the caller's transaction."""

    SOURCE = "kehu_demo_batch"

    def __init__(self, mode: str, tables: dict[str, _Table]) -> None:
        self.mode, self.tables = mode, tables
        self.attached = False

    def _insert_sql(self, table: _Table, source: str | None = None) -> str:
        columns = ", ".join(f'"{c}"' for c in table.all_columns)
        constants = [_sql_literal(v) for _c, v in table.constants]
        if source is None:
            values = ", ".join(["%s"] * len(table.columns) + constants)
            return f'INSERT INTO "{table.name}" ({columns}) VALUES ({values})'
        select = ", ".join([*table.columns, *constants])
        return f'INSERT INTO "{table.name}" ({columns}) SELECT {select} FROM {source}'

    def write(self, payload: Any, expected: dict[str, int]) -> None:
        with connection.cursor() as cursor:
            if self.mode == "copy":
                for key, data in payload.items():
                    table = self.tables[key]
                    columns = ", ".join(f'"{c}"' for c in table.all_columns)
                    with cursor.cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
                        copy.write(data)
            elif self.mode == "image":
                raw = connection.connection
                if not self.attached:
                    cursor.execute(f"ATTACH DATABASE ':memory:' AS {self.SOURCE}")
                    self.attached = True
                raw.deserialize(payload, name=self.SOURCE)
                for key, table in self.tables.items():
                    cursor.execute(self._insert_sql(table, f"{self.SOURCE}.{key}"))
                    if key in expected and cursor.rowcount != expected[key]:
                        raise RuntimeError(
                            f"kehu demo: copied {cursor.rowcount} {key}, expected {expected[key]}"
                        )
            else:
                for key, rows in (
                    ("customers", payload.customers),
                    ("contacts", payload.contacts),
                    ("tags", payload.tags),
                    ("collaborators", payload.collaborators),
                ):
                    if rows:
                        cursor.executemany(self._insert_sql(self.tables[key]), rows)

    def close(self) -> None:
        """Detach the batch database; inside an outer transaction (tests) that is impossible, so empty it."""
        if not self.attached:
            return
        if connection.in_atomic_block:
            empty = sqlite3.connect(":memory:")
            empty.execute("CREATE TABLE empty_batch (x)")
            connection.connection.deserialize(empty.serialize(), name=self.SOURCE)
            empty.close()
        else:
            with connection.cursor() as cursor:
                cursor.execute(f"DETACH DATABASE {self.SOURCE}")
        self.attached = False


def _plain_rows(model: Any, columns: tuple[str, ...], rows: list[tuple]) -> list[tuple]:
    """``rows`` with their dates and datetimes as the writers take them: ISO dates, UTC timestamps as
    text (naive for SQLite, ``+00`` for PostgreSQL's COPY). Only those columns are touched."""
    from django.db import models

    fields = {f.column: f for f in model._meta.concrete_fields}
    stamps = [i for i, c in enumerate(columns) if isinstance(fields[c], models.DateTimeField)]
    days = [
        i
        for i, c in enumerate(columns)
        if isinstance(fields[c], models.DateField) and not isinstance(fields[c], models.DateTimeField)
    ]
    if not stamps and not days:
        return rows
    suffix = "+00" if connection.vendor == "postgresql" else ""
    utc = UTC
    out = []
    for row in rows:
        values = list(row)
        for i in stamps:
            v = values[i]
            if v is not None:
                if v.tzinfo is not None:
                    v = v.astimezone(utc) if v.utcoffset() else v
                    v = v.replace(tzinfo=None)
                values[i] = v.isoformat(" ") + suffix
        for i in days:
            v = values[i]
            if v is not None:
                values[i] = v.isoformat()
        out.append(tuple(values))
    return out


def bulk_insert(model: Any, columns: tuple[str, ...], rows: list[tuple]) -> int:
    """Insert ``rows`` (tuples of plain values, dates and datetimes, in ``columns`` order) into
    ``model``'s table the way the demo loads customers — one ``executemany`` (SQLite) or ``COPY``
    (PostgreSQL) per call, no per-row ORM work; columns left out get their plain defaults. Used by the
    higher domains' demo contributors (``DemoLoad.insert``): Django's ``bulk_create`` spends several
    times as long per row compiling values (ADR 0009)."""
    if not rows:
        return 0
    table = _table(model, columns)
    prepared = _plain_rows(model, columns, rows)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = ", ".join(f'"{c}"' for c in table.all_columns)
            with cursor.cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                copy.write(_copy_text(prepared, table))
        else:
            cursor.executemany(_Writer("rows", {})._insert_sql(table), prepared)
    return len(rows)


def _reserve_ids(table: str, count: int) -> int:
    """The first of ``count`` consecutive ids nobody else will use (call inside the load's transaction)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The lock keeps other inserts (which would draw from the sequence) out until we commit.
            cursor.execute(f'LOCK TABLE "{table}" IN SHARE ROW EXCLUSIVE MODE')
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            cursor.execute("SELECT nextval(%s)", [sequence])
            first = cursor.fetchone()[0]
            if count > 1:
                cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
            return first
        if connection.vendor == "sqlite":
            # BEGIN IMMEDIATE holds the write lock, so nobody takes these ids meanwhile.
            cursor.execute(
                f'SELECT MAX(COALESCE((SELECT MAX(id) FROM "{table}"), 0), '
                "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))", [table]
            )  # fmt: skip
        else:
            cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
        return cursor.fetchone()[0] + 1


class _BulkMode:
    """For a big load: drop the secondary indexes and (PostgreSQL) the foreign keys of the tables being
    filled, and rebuild/validate them once at the end: building an index from sorted keys is much
    cheaper than inserting a million random keys one by one. Runs inside the load's transaction, so an
    interrupted load rolls back to the intact schema. (SQLite's per-row foreign-key checks are switched
    off outside the transaction instead; see ``load_demo``.)"""

    def __init__(self, tables: list[str], progress: Callable[[str], None]) -> None:
        self.tables, self.progress = tables, progress
        self.indexes: list[str] = []
        self.foreign_keys: list[str] = []

    def _secondary_indexes(self, cursor: Any, table: str) -> list[tuple[str, str]]:
        """(name, definition) of the table's indexes that do not back a constraint (primary key, unique)."""
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)", [table]
            )  # fmt: skip
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                [table],
            )
        else:
            return []
        return list(cursor.fetchall())

    def __enter__(self) -> _BulkMode:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                # A bigger page cache for this connection while loading: index builds sort in it.
                cursor.execute("PRAGMA cache_size")
                self.cache_size = cursor.fetchone()[0]
                cursor.execute("PRAGMA cache_size = -262144")
            if connection.vendor == "postgresql":
                # Checks still queued in this transaction would forbid dropping the constraints.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in self.tables:
                if connection.vendor == "postgresql":
                    cursor.execute(
                        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass AND contype = 'f'", [table]
                    )  # fmt: skip
                    for name, definition in cursor.fetchall():
                        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
                        self.foreign_keys.append(
                            f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}'
                        )
                for name, definition in self._secondary_indexes(cursor, table):
                    cursor.execute(f'DROP INDEX "{name}"')
                    self.indexes.append(definition)
        return self

    def __exit__(self, exc_type: Any, *exc: object) -> None:
        if exc_type is not None:
            if connection.vendor == "sqlite" and hasattr(self, "cache_size"):
                with connection.cursor() as cursor:
                    cursor.execute(f"PRAGMA cache_size = {int(self.cache_size)}")
            return  # the transaction rolls back, indexes and constraints included
        started = time.perf_counter()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")  # GIN (pg_trgm) builds need it
            elif connection.vendor == "sqlite":
                cursor.execute("PRAGMA threads = 4")  # sorting for CREATE INDEX may use helper threads
            for statement in [*self.indexes, *self.foreign_keys]:
                cursor.execute(statement)
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # back to Django's INITIALLY DEFERRED
            if connection.vendor == "sqlite":
                cursor.execute(f"PRAGMA cache_size = {int(self.cache_size)}")
        self.progress(f"  重建索引 / rebuilt {len(self.indexes)} indexes and {len(self.foreign_keys)} "
                      f"foreign keys in {time.perf_counter() - started:.1f} s")  # fmt: skip


# Forked workers find their generator here (set by the parent just before forking).
_WORKER: dict[str, Any] = {}


def _work(task: tuple[int, range, int, int]) -> Encoded:
    return _encode(_WORKER["generator"].chunk(*task), _WORKER["mode"], _WORKER["tables"])


def _produce(
    generator: CustomerGenerator,
    tasks: list[tuple[int, range, int, int]],
    mode: str,
    tables: dict[str, _Table],
    workers: int,
) -> Iterator[Encoded]:
    """Encoded batches in order; generated in ``workers`` forked processes when there are several."""
    if workers <= 1:
        for task in tasks:
            yield _encode(generator.chunk(*task), mode, tables)
        return
    _WORKER.update(generator=generator, mode=mode, tables=tables)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            queue = iter(tasks)
            pending: deque[Any] = deque()
            for task in queue:  # keep a few batches in flight, not all of them in memory
                pending.append(pool.apply_async(_work, (task,)))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                result = pending.popleft().get()
                for task in queue:
                    pending.append(pool.apply_async(_work, (task,)))
                    break
                yield result
    finally:
        _WORKER.clear()


def default_workers(customers: int) -> int:
    """Worker processes for generating: all CPUs for a big load on Linux (fork), else none."""
    if customers < PARALLEL_MIN or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


# ------------------------------------------------------------------------------------------------
# The whole load
# ------------------------------------------------------------------------------------------------


@dataclass
class DemoResult:
    company: DemoCompany
    password: str
    customers: int
    contacts: int
    seconds: float
    extra: dict[str, int] = field(default_factory=dict)  # rows the higher domains added, per kind

    @property
    def rows(self) -> int:
        return self.customers + self.contacts + sum(self.extra.values())

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def demo_password(explicit: str | None, env: dict[str, str]) -> str:
    """``--password``, else ``KEHU_DEMO_PASSWORD``, else a random one (printed at the end)."""
    return explicit or env.get("KEHU_DEMO_PASSWORD") or f"kehu-{secrets.token_urlsafe(9)}"


def demo_role_names() -> dict[str, str]:
    return {code: f"{spec[0]} {spec[1]}" for code, spec in DEFAULT_ROLES.items()}


def build_context(company: DemoCompany, today: date) -> DemoContext:
    users = company.users
    options = list(Option.objects.filter(is_active=True).values_list("kind", "code", "pk"))
    tag_ids = []
    for name, color in TAGS:
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"color": color})
        tag_ids.append(tag.pk)
    return DemoContext(
        today=today,
        industry_ids={code: pk for kind, code, pk in options if kind == OptionKind.INDUSTRY},
        source_ids={code: pk for kind, code, pk in options if kind == OptionKind.SOURCE},
        tag_ids=tag_ids,
        reps_by_area=company.reps_by_area,
        managers={area: (users[f"manager_{area}"].pk, users[f"manager_{area}"].label) for area in AREAS},
        rm_id=users["rm"].pk,
        utc_suffix="+00" if connection.vendor == "postgresql" else "",
    )


# The public pool (CUS-7) of the demo: the default pool returns customers nobody followed up, sooner for
# small ones; warns a week ahead; limits daily claims and holdings. Plus a pool of the south area.
DEFAULT_POOL_RULES: dict[str, Any] = {
    "no_follow_up_days": 90, "no_deal_days": None, "warn_days": 7, "daily_claim_limit": 20,
    "holding_cap": 3000, "cap_counts_closed": False, "cooldown_days": 30,
    "level_rules": {"vip": {"no_follow_up_days": 180}, "important": {"no_follow_up_days": 120},
                    "small": {"no_follow_up_days": 60}},
}  # fmt: skip
SOUTH_POOL = "华南公海"


def setup_pools(company: DemoCompany) -> None:
    """Rules for the default pool and a members-only pool for the south area, through the pool services
    (audited like an administrator's edit); a pool an earlier run or an administrator set up is left alone."""
    from .pool import default_pool, pool_create, pool_update

    admin = company.users["admin"]
    pool = default_pool()
    if pool is not None and pool.no_follow_up_days is None and pool.no_deal_days is None:
        pool_update(pool_id=pool.pk, version=pool.version, data=DEFAULT_POOL_RULES, by=admin)
    if not Pool.objects.filter(name=SOUTH_POOL).exists():
        south = company.users["manager_south"]
        pool_create(
            data={
                "name": SOUTH_POOL, "description": "华南销售部的公海客户",
                "member_departments": [south.department_id], "admins": [south.pk],
                "no_follow_up_days": 60, "warn_days": 5, "daily_claim_limit": 10, "cooldown_days": 15,
            },
            by=admin,
        )  # fmt: skip


def load_demo(
    *,
    customers: int,
    contacts_per_customer: int = 2,
    seed: int = 1,
    password: str,
    workers: int | None = None,
    progress: Callable[[str], None] = lambda _m: None,
) -> DemoResult:
    """Create the demo company and ``customers`` customers with ``contacts_per_customer`` contacts each."""
    if customers < 0:
        raise ValidationError("客户数量不能为负数", field="customers")
    if not 0 <= contacts_per_customer <= MAX_CONTACTS:
        raise ValidationError("每个客户的联系人数应在 0 到 %(max)s 之间", field="contacts_per_customer",
                              params={"max": MAX_CONTACTS})  # fmt: skip
    check_password(password)
    company = setup_company(seed=seed, password=password, customers=customers)
    with transaction.atomic():
        ctx = build_context(company, timezone.localdate())
    generator = CustomerGenerator(ctx, seed=seed, contacts_per_customer=contacts_per_customer)
    workers = default_workers(customers) if workers is None else max(1, workers)
    bulk = customers >= BULK_MIN and customers >= Customer.objects.count()
    # SQLite: an image built without indexes or constraints and copied with INSERT … SELECT costs less
    # than binding every value straight into the real tables, even in one process.
    vendor = connection.vendor
    mode = (
        "copy"
        if vendor == "postgresql"
        else "image"
        if vendor == "sqlite" and (bulk or workers > 1)
        else "rows"
    )
    tables = _tables()
    writer = _Writer(mode, tables)
    numbers = next_values(CODE_SEQUENCE, customers) if customers else range(0)

    started = time.perf_counter()
    done_customers = done_contacts = 0
    next_report = PROGRESS_EVERY
    # SQLite checks foreign keys row by row; the switch only works outside a transaction (no-op inside one).
    with connection.constraint_checks_disabled() if bulk else nullcontext(), transaction.atomic():
        first_customer = _reserve_ids(Customer._meta.db_table, customers)
        first_contact = _reserve_ids(Contact._meta.db_table, customers * contacts_per_customer)
        tasks = [(i, numbers[start:start + CHUNK], first_customer + start,
                  first_contact + start * contacts_per_customer)
                 for i, start in enumerate(range(0, customers, CHUNK))]  # fmt: skip
        with _BulkMode([t.name for t in tables.values()], progress) if bulk else nullcontext():
            for n_customers, n_contacts, payload in _produce(generator, tasks, mode, tables, workers):
                writer.write(payload, {"customers": n_customers, "contacts": n_contacts})
                done_customers += n_customers
                done_contacts += n_contacts
                rows = done_customers + done_contacts
                if rows >= next_report:
                    elapsed = time.perf_counter() - started
                    progress(f"  {rows:>12,} 行 / rows  {elapsed:7.1f} s  {rows / elapsed:>9,.0f} rows/s")
                    while next_report <= rows:
                        next_report += PROGRESS_EVERY
        setup_pools(company)
        # The domains above add theirs (interactions, tasks, …) through customers.extensions (ADR 0009).
        load = DemoLoad(first_customer_id=first_customer, customers=done_customers, first_contact_id=first_contact,
                        contacts_per_customer=contacts_per_customer, users=company.users, today=ctx.today,
                        seed=seed, progress=progress, insert=bulk_insert)  # fmt: skip
        extra: dict[str, int] = {}
        for contributor in demo_contributors():
            for kind, rows in contributor.contribute(load).items():
                extra[kind] = extra.get(kind, 0) + rows
        emit(DomainEvent(actor_id=None, verb="demo_load", subject_type="system", subject_id=None,
                         subject_label="kehu demo", changes={
                             "customers": [None, done_customers], "contacts": [None, done_contacts],
                             **{kind: [None, rows] for kind, rows in extra.items()},
                             "seed": [None, seed], "users": [None, len(company.listing) + len(company.extra_reps)],
                         }))  # fmt: skip
    writer.close()
    seconds = time.perf_counter() - started
    return DemoResult(company=company, password=password, customers=done_customers, contacts=done_contacts,
                      seconds=seconds, extra=extra)  # fmt: skip


__all__ = ["CustomerGenerator", "DemoContext", "demo_password", "load_demo", "rep_count", "setup_company"]
