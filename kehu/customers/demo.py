"""The demo company behind ``kehu demo``: departments, users in every role and realistic customers.

Everything is deterministic for a given ``--seed`` (and customer-code numbers, which start at 1 on a
fresh database): names, codes, credit codes, ID numbers and mobiles come from seeded permutations of
the code number, so they are unique within a run *and* across runs on the same database.

Speed matters (``kehu demo --customers 1000000`` is a benchmark): customers and contacts are not
written through the per-row services but generated here and inserted in batches, with the derived
columns the services would compute. The slow part of a row is pinyin, so company names are composed
from word lists whose pinyin is computed once per word, and person names (a finite set) are cached
whole; ``tests/test_demo.py`` checks the result equals ``rules.customer_search_text`` /
``rules.contact_search_text`` and ``normalize_company_name`` on samples, and that the classification
columns equal ``rules.derive_all``.
"""

from __future__ import annotations

import json
import random
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
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
from kehu.core.errors import ValidationError
from kehu.core.events import DomainEvent, emit
from kehu.core.identity import credit_code_check_char, id_check_char
from kehu.core.pinyin import pinyin_keys, search_keys
from kehu.core.sequences import next_values

from .choices import OptionKind
from .dedupe_rules import normalize_company_name
from .models import Contact, Customer, CustomerCollaborator, Option, Tag
from .rules import OrderFacts, derive_deal_status, derive_loyalty, derive_status, derive_value_tier
from .services import CODE_SEQUENCE, format_code

# fmt: off
# --- the company -------------------------------------------------------------------------------
# key, name, parent key
DEPARTMENTS = [
    ("hq", "总部", None), ("sales", "销售部", "hq"), ("east", "华东销售部", "sales"),
    ("south", "华南销售部", "sales"), ("north", "华北销售部", "sales"), ("service", "客服中心", "hq"),
    ("marketing", "市场部", "hq"), ("audit", "审计部", "hq"), ("wealth", "理财业务部", "hq"),
]
DEPARTMENT_MANAGERS = {"hq": "admin", "east": "manager_east", "south": "manager_south", "north": "manager_north"}
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
    ("agent", "周婷", ["service_agent"], "service", None, False),
    ("marketing", "吴倩", ["marketing"], "marketing", None, False),
    ("rm", "郑凯", ["relationship_manager"], "wealth", None, False),
    ("auditor", "单丽华", ["auditor"], "audit", None, False),
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
    "文博", "子轩", "浩然", "宇航", "俊杰", "天佑", "家豪", "明辉", "思远", "博文", "泽宇", "一鸣", "振华",
    "立新", "永刚", "建军", "德明", "国栋", "文涛", "嘉伟", "少华", "建平", "春生",
]
GIVEN_FEMALE = [
    "芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "燕", "玲", "婷", "雪", "倩", "颖", "琳", "欣", "洁", "慧",
    "晶", "莉", "秀英", "桂英", "秀兰", "玉兰", "丽娟", "晓燕", "雨萱", "梓涵", "诗琪", "欣怡", "佳怡", "子涵",
    "雅静", "美玲", "思琪", "婉清", "晓丽", "海燕", "春梅", "丽华", "淑珍", "文静", "梦瑶", "紫萱", "若曦",
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
GOVERNMENT_SHARE = 0.01
MAX_DAYS_BACK = 4500
CHUNK = 10_000
PROGRESS_EVERY = 100_000
MAX_CONTACTS = 20
_MOBILE_STRIDE = 32  # mobile numbers are indexed code_number * 32 + slot (slot 0: the customer)
_BIRTH_START = date(1955, 1, 1)
_BIRTH_DAYS = (date(2003, 12, 31) - _BIRTH_START).days
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

CUSTOMER_COLUMNS = (
    "id", "created_at", "updated_at", "version", "deleted_at", "kind", "code", "name", "name_normalized",
    "search_text", "credit_code", "id_number", "mobile", "phone", "email", "website", "wechat", "gender",
    "birthday", "size", "relation", "value_tier", "loyalty", "status", "deal_status", "need_status", "overrides",
    "screened", "source_detail", "needs", "preferences", "notes", "province", "city", "district", "address",
    "owner_since", "last_contact_at", "first_order_date", "last_order_date", "order_count", "revenue_12m",
    "currency", "created_by_id", "deleted_by_id", "merged_into_id", "owner_id", "industry_id", "source_id",
)  # fmt: skip
CONTACT_COLUMNS = (
    "id", "created_at", "updated_at", "version", "deleted_at", "name", "search_text", "gender", "position",
    "department", "mobile", "phone", "email", "wechat", "birthday", "is_primary", "notes", "deleted_by_id",
    "reports_to_id", "customer_id",
)  # fmt: skip


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


def org_code(number: int) -> str:
    """A 9-character organisation code (GB 11714): 8 digits and their check character."""
    body = f"{number:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(body, _ORG_WEIGHTS, strict=True)) % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def _keys(text: str) -> tuple[str, str]:
    """(full, initials) pinyin of a word of a company name (not a person name)."""
    return pinyin_keys(text)


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


def _person_names(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        given = GIVEN_MALE if rng.random() < 0.5 else GIVEN_FEMALE
        out.append(rng.choice(SURNAMES) + rng.choice(given))
    return out


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
            )
        listing.append(DemoUser(username, users[username].display_name, roles, created))

    admin = users["admin"]
    for key, username in DEPARTMENT_MANAGERS.items():
        dept = depts[key]
        if dept.manager_id is None:
            access_services.department_update(department=dept, version=None, manager=users[username], by=admin)

    reps_by_area = {area: [users[f"rep_{area}"].pk] for area in AREAS}
    reps_by_area["east"].append(users["rep_east2"].pk)
    extra = _extra_reps(seed=seed, password=password, total=rep_count(customers), users=users, depts=depts)
    for area, user in extra:
        reps_by_area[area].append(user.pk)
    return DemoCompany(users=users, listing=listing, reps_by_area=reps_by_area,
                       extra_reps=[u.username for _a, u in extra])


def _extra_reps(*, seed: int, password: str, total: int, users: dict[str, User],
                depts: dict[str, Department]) -> list[tuple[str, User]]:
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
        displays = _person_names(rng, len(missing))
        hashed = make_password(password)
        new = User.objects.bulk_create([
            User(username=name, password=hashed, display_name=display, email=f"{name}@kehu.example.com",
                 department=depts[area], supervisor=users[f"manager_{area}"],
                 name_search=search_keys(display, person_name=True))
            for (area, name), display in zip(missing, displays, strict=True)
        ], batch_size=500)
        if any(u.pk is None for u in new):  # a backend without RETURNING
            new = list(User.objects.filter(username__in=[n for _a, n in missing]))
        role = Role.objects.get(code="sales_rep")
        User.roles.through.objects.bulk_create([User.roles.through(user_id=u.pk, role_id=role.pk) for u in new],
                                               batch_size=1000)
        emit(*[AccessChanged(actor_id=None, verb="create", subject_type="user", subject_id=u.pk,
                             subject_label=str(u), changes={"roles": [None, ["sales_rep"]]}) for u in new])
        existing.update({u.username: u for u in new})
    return [(area, existing[name]) for area, name in names]


# ------------------------------------------------------------------------------------------------
# Customers and contacts (many: generated here, inserted in batches)
# ------------------------------------------------------------------------------------------------


@dataclass
class DemoContext:
    """What the generator needs from the database: ids only, so it can run without one (tests)."""

    today: date
    industry_ids: dict[str, int]
    source_ids: dict[str, int]
    tag_ids: list[int]
    reps_by_area: dict[str, list[int]]
    managers: dict[str, tuple[int, str]]  # area -> (user id, label): who signs manual classifications
    rm_id: int | None
    helper_ids: list[int]  # who may be added as a collaborator
    sqlite: bool = True  # dates and times as ISO text (SQLite) or Python objects (PostgreSQL)


@dataclass
class Chunk:
    customers: list[tuple] = field(default_factory=list)
    contacts: list[tuple] = field(default_factory=list)
    tags: list[tuple[int, int]] = field(default_factory=list)
    collaborators: list[tuple] = field(default_factory=list)


class _Derive:
    """The CUS-2 rules, memoised per input: the rules are exact but too slow to call a million times."""

    def __init__(self, today: date, dates: list[date]) -> None:
        self.today, self.dates = today, dates
        self.zero = Decimal(0)
        self._tier: dict[int, str] = {}
        self._loyalty: dict[tuple[int, int], str] = {}
        self._status: dict[tuple[int, bool], str] = {}
        self._deal: dict[int, str] = {}

    def value_tier(self, revenue: int) -> str:
        value = self._tier.get(revenue)
        if value is None:
            facts = OrderFacts(None, None, 0, Decimal(revenue))
            value = self._tier[revenue] = str(derive_value_tier(facts).value)
        return value

    def loyalty(self, first_back: int, count: int) -> str:
        value = self._loyalty.get((first_back, count))
        if value is None:
            first = self.dates[first_back] if first_back >= 0 else None
            facts = OrderFacts(first, None, count, self.zero)
            value = self._loyalty[(first_back, count)] = str(derive_loyalty(facts, today=self.today).value)
        return value

    def status(self, last_back: int, screened: bool) -> str:
        value = self._status.get((last_back, screened))
        if value is None:
            last = self.dates[last_back] if last_back >= 0 else None
            facts = OrderFacts(None, last, 0, self.zero, screened=screened)
            value = self._status[(last_back, screened)] = str(derive_status(facts, today=self.today).value)
        return value

    def deal_status(self, count: int) -> str:
        value = self._deal.get(count)
        if value is None:
            value = self._deal[count] = str(derive_deal_status(OrderFacts(None, None, count, self.zero)).value)
        return value


class CustomerGenerator:
    """Rows for customers ``code_numbers`` in order; the same seed and numbers give the same rows."""

    def __init__(self, ctx: DemoContext, *, seed: int, contacts_per_customer: int = 2) -> None:
        if not 0 <= contacts_per_customer <= MAX_CONTACTS:
            raise ValueError("contacts_per_customer")
        self.ctx, self.k = ctx, contacts_per_customer
        self.rng = random.Random(f"kehu-demo-{seed}")
        perm_rng = random.Random(f"kehu-demo-perm-{seed}")
        self.n = 0  # customers generated so far in this run
        self.now_iso = timezone.now().isoformat()
        # Name spaces: region x business x brand, then region x business x brand pair.
        self.R, self.W, self.B = len(REGIONS), len(BUSINESSES), len(BRANDS)
        self.s1 = self.R * self.W * self.B
        self.s2 = self.s1 * (self.B - 1)
        self.p1, self.p2 = _affine(self.s1, perm_rng), _affine(self.s2, perm_rng)
        self.p_org = _affine(10**8, perm_rng)
        self.p_id = _affine(_BIRTH_DAYS * 1000, perm_rng)
        self.mobile_mod = len(MOBILE_PREFIXES) * 10**8
        self.p_mobile = _affine(self.mobile_mod, perm_rng)
        # Pinyin of every word, once.
        self.region_keys = [_keys(r[0]) for r in REGIONS]
        self.brand_keys = [_keys(b) for b in BRANDS]
        self.biz_keys = [_keys(b[0]) for b in BUSINESSES]
        self.biz_initials = [k[1] for k in self.biz_keys]
        self.suffix_keys = {s: _keys(s) for ss in SUFFIXES_BY_SIZE.values() for s in ss}
        # What normalize_company_name keeps of each suffix ("" for legal forms, 经营部 for a shop).
        self.suffix_kept = {s: normalize_company_name("甲乙" + s)[2:] for s in self.suffix_keys}
        self.person_keys: dict[str, str] = {}
        self.exact_cache: dict[str, tuple[str, str]] = {}
        self.normalized_cache: dict[str, str] = {}
        # Dates "days back" from today, as stored.
        today = ctx.today
        self.dates = [today - timedelta(days=d) for d in range(MAX_DAYS_BACK + 1)]
        self.date_values: list[Any] = [d.isoformat() for d in self.dates] if ctx.sqlite else self.dates
        midnight = [datetime(d.year, d.month, d.day, tzinfo=UTC) for d in self.dates]
        self.midnight = midnight
        self.derive = _Derive(today, self.dates)
        self.sources = [ctx.source_ids[c] for c in _weighted(SOURCE_WEIGHTS) if c in ctx.source_ids] or [None]
        self.source_codes = {v: k for k, v in ctx.source_ids.items()}
        self.source_cover = list(ctx.source_ids.values())
        self.relations = _weighted(RELATION_WEIGHTS)
        self.sizes = _weighted(SIZE_WEIGHTS)
        self.needs = _weighted(NEED_WEIGHTS)
        self.profiles = _weighted(PROFILE_WEIGHTS)
        self.tiers = _weighted(TIER_WEIGHTS)
        self.government_names = [(ri, body) for ri in range(len(REGIONS)) for body in GOVERNMENT_BODIES]
        self.rng.shuffle(self.government_names)
        self.government_used = 0

    # --- small helpers ---------------------------------------------------------------------------
    def _dt(self, back: int, seconds: int) -> Any:
        """A time on day ``back`` days ago, ``seconds`` after 00:00 UTC (kept within office hours)."""
        if self.ctx.sqlite:
            return f"{self.date_values[back]} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        return self.midnight[back] + timedelta(seconds=seconds)

    def mobile(self, index: int) -> str:
        a, b = self.p_mobile
        x = (a * index + b) % self.mobile_mod
        return MOBILE_PREFIXES[x // 100_000_000] + f"{x % 100_000_000:08d}"

    def person_search_keys(self, name: str) -> str:
        keys = self.person_keys.get(name)
        if keys is None:
            keys = self.person_keys[name] = search_keys(name, person_name=True)
        return keys

    def person_normalized(self, name: str) -> str:
        value = self.normalized_cache.get(name)
        if value is None:
            value = self.normalized_cache[name] = normalize_company_name(name)[:120]
        return value

    def _exact(self, name: str) -> tuple[str, str]:
        """(search keys, normalised name) by the real functions, for the few names not composed."""
        cached = self.exact_cache.get(name)
        if cached is None:
            cached = self.exact_cache[name] = (search_keys(name), normalize_company_name(name)[:120])
        return cached

    def _person(self, male: bool | None = None) -> tuple[str, str]:
        r = self.rng.random
        if male is None:
            male = r() < 0.5
        given = GIVEN_MALE if male else GIVEN_FEMALE
        return SURNAMES[int(r() * len(SURNAMES))] + given[int(r() * len(given))], "male" if male else "female"

    def _company_name(self, number: int) -> tuple[int, str, str, str, str, str, str]:
        """Region index, industry code, core name, core pinyin (full, initials), domain, brand — unique per number."""
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
        core = REGIONS[region][0] + brand + BUSINESSES[biz][0]
        domain = f"{full}{self.biz_initials[biz]}.com"
        return (region, BUSINESSES[biz][1], core, rk[0] + full + bk[0], rk[1] + initials + bk[1], domain,
                BRANDS[b1])

    # --- rows -----------------------------------------------------------------------------------
    def chunk(self, numbers: Sequence[int], customer_ids: Sequence[int], contact_ids: Sequence[int]) -> Chunk:
        out = Chunk()
        for i, number in enumerate(numbers):
            cid = customer_ids[i]
            self._customer(out, number, cid, contact_ids[i * self.k:(i + 1) * self.k])
        return out

    def _customer(self, out: Chunk, number: int, cid: int, contact_ids: Sequence[int]) -> None:
        ctx, r, derive = self.ctx, self.rng.random, self.derive
        n = self.n
        self.n += 1
        cover = n < COVERAGE
        company = (n % 8 != 3) if cover else r() < 0.8
        profile = PROFILES[n % len(PROFILES)] if cover else self.profiles[int(r() * 100)]
        code = format_code(number)
        gov = company and ((n == 5) if cover else r() < GOVERNMENT_SHARE) and self.government_used < len(
            self.government_names)

        # Identity, name, place.
        credit_code = id_number = mobile = phone = email = website = wechat = gender = ""
        birthday = None
        size = ""
        industry = None
        if company:
            if gov:
                region, body = self.government_names[self.government_used]
                self.government_used += 1
                city = REGIONS[region][0]
                name = f"{city}市{body}"
                keys, normalized = self._exact(name)
                domain, brand, industry_code, kind_code = f"{self.region_keys[region][0]}.gov.cn", city, "government", "11"
                size = "large" if r() < 0.5 else "medium"
            else:
                region, industry_code, core, full, initials, domain, brand = self._company_name(number)
                size = list(SIZE_WEIGHTS)[n % 4] if cover else self.sizes[int(r() * 100)]
                suffixes = SUFFIXES_BY_SIZE[size]
                suffix = suffixes[int(r() * len(suffixes))]
                sk = self.suffix_keys[suffix]
                name = core + suffix
                keys = f"{full}{sk[0]} {initials}{sk[1]}"
                normalized = core + self.suffix_kept[suffix]
                kind_code = "92" if size == "sole" else "91"
            industry = ctx.industry_ids.get(industry_code)
            city, province, area, area_code, districts = REGIONS[region]
            district, division = districts[int(r() * len(districts))]
            a, b = self.p_org
            body17 = kind_code + division + org_code((a * number + b) % 10**8)
            credit_code = body17 + credit_code_check_char(body17)
            phone = f"{area_code}-{int(r() * 7 + 2)}{int(r() * 10**7):07d}"
            if r() < 0.6:
                email = ("info@" if r() < 0.5 else "sales@") + domain
            if r() < 0.5 and not gov:
                website = "www." + domain
            address = f"{district}{STREETS[int(r() * len(STREETS))]}{int(r() * 999) + 1}号"
            if r() < 0.5:
                address += f"{brand}大厦{int(r() * 30) + 1}层"
            person = False
        else:
            region = int(r() * self.R)
            city, province, area, area_code, districts = REGIONS[region]
            district, division = districts[int(r() * len(districts))]
            a, b = self.p_id
            x = (a * number + b) % (_BIRTH_DAYS * 1000)
            born, seq = _BIRTH_START + timedelta(days=x // 1000), x % 1000
            body17 = f"{division}{born:%Y%m%d}{seq:03d}"
            id_number = body17 + id_check_char(body17)
            name, gender = self._person(male=seq % 2 == 1)
            keys = self.person_search_keys(name)
            normalized = self.person_normalized(name)
            birthday = born.isoformat() if ctx.sqlite else born
            mobile = self.mobile(number * _MOBILE_STRIDE)
            if r() < 0.4:
                email = f"{keys.split()[0]}{int(r() * 1000)}@{FREE_MAIL[int(r() * len(FREE_MAIL))]}"
            if r() < 0.5:
                wechat = f"{keys.split()[0]}{int(r() * 9000) + 1000}"
            address = (f"{district}{STREETS[int(r() * len(STREETS))]}{int(r() * 999) + 1}号"
                       f"{int(r() * 20) + 1}栋{int(r() * 30) + 1}0{int(r() * 4) + 1}室")
            domain = ""
            person = True
        city_name = province if province.endswith("市") else f"{city}市"

        # Classification not derived from facts.
        if cover:
            relation = list(RELATION_WEIGHTS)[n % 5]
            need = list(NEED_WEIGHTS)[n % 3]
            source = self.source_cover[n % len(self.source_cover)] if self.source_cover else None
        else:
            relation = "public" if gov else self.relations[int(r() * 100)] if company else (
                "consumer" if r() < 0.85 else "partner")
            need = self.needs[int(r() * 100)]
            source = self.sources[int(r() * len(self.sources))]
        if gov:
            relation = "public"

        # Order facts per profile ("days back" from today; -1 = never).
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
            if last_back <= 365:
                tier = TIER_OF_PROFILE_FOR_COVERAGE.get(profile, "small") if cover else self.tiers[int(r() * 100)]
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
        overrides = "{}"
        if profile in ("non", "intent"):
            manager_id, manager_label = ctx.managers[area]
            if profile == "non":
                dim, value, reason = "status", "non", "同行企业，不作为销售对象"
                status = value
            else:
                dim, value, reason = "deal_status", "intent", "正在洽谈，已提交报价"
                deal_status = value
            overrides = json.dumps({dim: {"value": value, "reason": reason, "by": manager_label, "by_id": manager_id,
                                          "at": self.now_iso}}, ensure_ascii=False)

        # Ownership and times.
        if r() < 0.05:
            owner = None
        elif person and ctx.rm_id and r() < 0.4:
            owner = ctx.rm_id
        else:
            reps = ctx.reps_by_area[area]
            owner = reps[int(r() * len(reps))]
        created_back = min(MAX_DAYS_BACK, (first_back if first_back >= 0 else 0) + 10 + int(r() * 400))
        created_at = self._dt(created_back, 3600 + int(r() * 36000))
        updated_at = self._dt(1 + int(r() * (created_back - 1)), 3600 + int(r() * 36000))
        if profile in ("new", "old", "loyal", "intent", "screened"):
            last_contact = self._dt(1 + int(r() * 60), 3600 + int(r() * 36000))
        elif profile == "lost" or r() < 0.4:
            last_contact = self._dt(min(created_back, 90 + int(r() * 300)) or 1, 3600 + int(r() * 36000))
        else:
            last_contact = None
        source_code = self.source_codes.get(source)
        source_detail = ""
        if source_code == "trade_show":
            source_detail = f"{2025 - int(r() * 3)} {TRADE_SHOWS[int(r() * len(TRADE_SHOWS))]}"
        elif source_code == "referral":
            source_detail = "老客户转介绍"
        search_text = " ".join(p for p in (name, keys, code.lower(), credit_code.lower(), mobile,
                                           phone.replace("-", ""), id_number.lower()) if p)[:600]
        out.customers.append((
            cid, created_at, updated_at, 1, None, "company" if company else "individual", code, name, normalized,
            search_text, credit_code, id_number, mobile, phone, email, website, wechat, gender, birthday, size,
            relation, value_tier, loyalty, status, deal_status, need, overrides, screened, source_detail,
            NEEDS[int(r() * len(NEEDS))] if r() < 0.5 else "",
            PREFERENCES[int(r() * len(PREFERENCES))] if r() < 0.3 else "",
            NOTES[int(r() * len(NOTES))] if r() < 0.1 else "",
            province, city_name, district, address, created_at if owner else None, last_contact,
            self.date_values[first_back] if first_back >= 0 else None,
            self.date_values[last_back] if last_back >= 0 else None, count, revenue, "CNY",
            owner or ctx.managers[area][0], None, None, owner, industry, source,
        ))  # fmt: skip

        if r() < 0.4 and ctx.tag_ids:
            tags = ctx.tag_ids
            first = int(r() * len(tags))
            out.tags.append((cid, tags[first]))
            if r() < 0.4:
                out.tags.append((cid, tags[(first + 1 + int(r() * (len(tags) - 1))) % len(tags)]))
        if r() < 0.05 and ctx.helper_ids:
            helper = ctx.helper_ids[int(r() * len(ctx.helper_ids))]
            if helper != owner:
                out.collaborators.append((cid, helper, r() < 0.3, created_at))

        # Contacts: the first is the primary one and, at a company, everyone reports to them.
        boss_id = contact_ids[0] if contact_ids else None
        for j, contact_id in enumerate(contact_ids):
            cname, cgender = self._person()
            ckeys = self.person_search_keys(cname)
            cmobile = self.mobile(number * _MOBILE_STRIDE + 1 + j)
            pinyin = ckeys.split(" ", 1)[0]
            if company:
                position, department = BOSS_POSITIONS[int(r() * 4)] if j == 0 else STAFF_POSITIONS[
                    int(r() * len(STAFF_POSITIONS))]
                cemail = f"{pinyin}@{domain}" if r() < 0.8 else ""
                cphone = f"{phone}-{800 + j}" if r() < 0.4 else ""
                reports_to = boss_id if j else None
            else:
                position, department = FAMILY_POSITIONS[int(r() * len(FAMILY_POSITIONS))]
                cemail = f"{pinyin}{int(r() * 1000)}@{FREE_MAIL[int(r() * len(FREE_MAIL))]}" if r() < 0.3 else ""
                cphone = ""
                reports_to = None
            cwechat = f"{pinyin}{int(r() * 9000) + 1000}" if r() < 0.3 else ""
            cbirthday = None
            if r() < 0.15:
                born = date(1960 + int(r() * 36), 1 + int(r() * 12), 1 + int(r() * 28))
                cbirthday = born.isoformat() if ctx.sqlite else born
            ctext = " ".join(p for p in (cname, ckeys, cmobile, cphone.replace("-", ""), cemail, cwechat) if p)
            out.contacts.append((
                contact_id, created_at, created_at, 1, None, cname, ctext[:300], cgender, position, department,
                cmobile, cphone, cemail, cwechat, cbirthday, j == 0, "", None, reports_to, cid,
            ))  # fmt: skip


# ------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------


class _Writer:
    """Batch inserts: executemany on SQLite, COPY on PostgreSQL; ids reserved up front."""

    def __init__(self) -> None:
        self.vendor = connection.vendor
        self.customer_sql = self._prepare(Customer, CUSTOMER_COLUMNS)
        self.contact_sql = self._prepare(Contact, CONTACT_COLUMNS)
        self.tag_table = Customer.tags.through._meta.db_table
        self.collab_table = CustomerCollaborator._meta.db_table

    def _prepare(self, model: Any, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], tuple]:
        """Columns to write: ours, plus the model's default for any column added since (with a default)."""
        model_columns = {f.column: f for f in model._meta.concrete_fields}
        unknown = set(columns) - set(model_columns)
        if unknown:
            raise RuntimeError(f"kehu demo: {model.__name__} has no column(s) {sorted(unknown)}")
        extra = [f for c, f in model_columns.items() if c not in columns]
        defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in extra)
        return model._meta.db_table, (*columns, *(f.column for f in extra)), defaults

    def reserve_ids(self, table: str, count: int) -> Sequence[int]:
        if count == 0:
            return []
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
                )
                return [row[0] for row in cursor.fetchall()]
            if self.vendor == "sqlite":
                # The write lock is held (BEGIN IMMEDIATE), so nobody takes these ids meanwhile.
                cursor.execute(
                    f'SELECT MAX(COALESCE((SELECT MAX(id) FROM "{table}"), 0), '
                    f"COALESCE((SELECT seq FROM sqlite_sequence WHERE name = %s), 0))", [table]
                )
            else:
                cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            start = cursor.fetchone()[0] + 1
        return range(start, start + count)

    def insert(self, table: str, columns: Sequence[str], rows: list[tuple], defaults: tuple = ()) -> None:
        if not rows:
            return
        if defaults:
            rows = [row + defaults for row in rows]
        cols = ", ".join(f'"{c}"' for c in columns)
        with connection.cursor() as cursor:
            if self.vendor == "postgresql":
                with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                cursor.executemany(f'INSERT INTO "{table}" ({cols}) VALUES ({", ".join(["%s"] * len(columns))})',
                                   rows)

    def write(self, chunk: Chunk) -> None:
        table, columns, defaults = self.customer_sql
        self.insert(table, columns, chunk.customers, defaults)
        table, columns, defaults = self.contact_sql
        self.insert(table, columns, chunk.contacts, defaults)
        self.insert(self.tag_table, ("customer_id", "tag_id"), chunk.tags)
        self.insert(self.collab_table, ("customer_id", "user_id", "can_edit", "added_at"), chunk.collaborators)


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

    @property
    def rows(self) -> int:
        return self.customers + self.contacts

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def demo_password(explicit: str | None, env: dict[str, str]) -> str:
    """``--password``, else ``KEHU_DEMO_PASSWORD``, else a random one (printed at the end)."""
    return explicit or env.get("KEHU_DEMO_PASSWORD") or f"kehu-{secrets.token_urlsafe(9)}"


def build_context(company: DemoCompany, today: date) -> DemoContext:
    users = company.users
    options = Option.objects.filter(is_active=True).values_list("kind", "code", "pk")
    tag_ids = []
    for name, color in TAGS:
        tag, _created = Tag.objects.get_or_create(name=name, defaults={"color": color})
        tag_ids.append(tag.pk)
    managers = {area: (users[f"manager_{area}"].pk, users[f"manager_{area}"].label) for area in AREAS}
    helpers = [users[u].pk for u in ("rep_east", "rep_east2", "rep_south", "rep_north", "rm", "agent",
                                     "manager_east", "manager_south", "manager_north")]
    return DemoContext(
        today=today,
        industry_ids={code: pk for kind, code, pk in options if kind == OptionKind.INDUSTRY},
        source_ids={code: pk for kind, code, pk in options if kind == OptionKind.SOURCE},
        tag_ids=tag_ids, reps_by_area=company.reps_by_area, managers=managers, rm_id=users["rm"].pk,
        helper_ids=helpers, sqlite=connection.vendor != "postgresql",
    )


def load_demo(*, customers: int, contacts_per_customer: int = 2, seed: int = 1, password: str,
              progress: Callable[[str], None] = lambda _m: None) -> DemoResult:
    """Create the demo company and ``customers`` customers with ``contacts_per_customer`` contacts each."""
    if not 0 <= contacts_per_customer <= MAX_CONTACTS:
        raise ValidationError("每个客户的联系人数应在 0 到 %(max)s 之间", field="contacts_per_customer",
                              params={"max": MAX_CONTACTS})
    if customers < 0:
        raise ValidationError("客户数量不能为负数", field="customers")
    check_password(password)
    company = setup_company(seed=seed, password=password, customers=customers)
    with transaction.atomic():
        ctx = build_context(company, timezone.localdate())
    generator = CustomerGenerator(ctx, seed=seed, contacts_per_customer=contacts_per_customer)
    writer = _Writer()
    numbers = next_values(CODE_SEQUENCE, customers) if customers else range(0)
    started = time.perf_counter()
    done_customers = done_contacts = 0
    next_report = PROGRESS_EVERY
    with _fast_sqlite():
        for start in range(0, customers, CHUNK):
            batch = numbers[start:start + CHUNK]
            with transaction.atomic():
                customer_ids = writer.reserve_ids(Customer._meta.db_table, len(batch))
                contact_ids = writer.reserve_ids(Contact._meta.db_table, len(batch) * contacts_per_customer)
                chunk = generator.chunk(batch, customer_ids, contact_ids)
                writer.write(chunk)
            done_customers += len(chunk.customers)
            done_contacts += len(chunk.contacts)
            rows = done_customers + done_contacts
            if rows >= next_report:
                elapsed = time.perf_counter() - started
                progress(f"  {rows:>12,} 行 / rows  {elapsed:7.1f} s  {rows / elapsed:>9,.0f} rows/s")
                while next_report <= rows:
                    next_report += PROGRESS_EVERY
    seconds = time.perf_counter() - started
    with transaction.atomic():
        emit(DomainEvent(actor_id=None, verb="demo_load", subject_type="system", subject_id=None,
                         subject_label="kehu demo", changes={
                             "customers": [None, done_customers], "contacts": [None, done_contacts],
                             "seed": [None, seed], "users": [None, len(company.listing) + len(company.extra_reps)],
                         }))
    return DemoResult(company=company, password=password, customers=done_customers, contacts=done_contacts,
                      seconds=seconds)


class _fast_sqlite:
    """A bigger page cache while loading (index inserts of random keys thrash the default one)."""

    def __enter__(self) -> None:
        self.sqlite = connection.vendor == "sqlite"
        if self.sqlite:
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                self.previous = cursor.fetchone()[0]
                cursor.execute("PRAGMA cache_size=-262144")

    def __exit__(self, *exc: object) -> None:
        if self.sqlite:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size={int(self.previous)}")


def demo_role_names() -> dict[str, str]:
    return {code: f"{spec[0]} {spec[1]}" for code, spec in DEFAULT_ROLES.items()}


__all__ = ["CustomerGenerator", "DemoContext", "demo_password", "load_demo", "rep_count", "setup_company"]
