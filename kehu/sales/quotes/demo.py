"""The catalogue's and the quotes' part of ``kehu demo`` (registered into ``customers.extensions`` from
``sales/apps.py``, ADR 0009 — the catalogue sits beside customers and may not import it): a small catalogue
of industrial products and services, some with pictures, one off sale, a few financial products with risk
levels (SUI-1), and our letterhead. Products already there (a second run) are left alone."""

from __future__ import annotations

import io
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from kehu.catalog.models import Product
from kehu.catalog.rules import product_search_text
from kehu.customers.extensions import DemoLoad

from .models import LETTERHEAD_PK, Letterhead

# fmt: off
# code, name, model, specification, category, unit, price, cost, packaging, features, risk level
# (no tabs, newlines or backslashes: the demo's PostgreSQL writer sends rows as COPY text)
PRODUCTS = [
    ("SM-100", "伺服电机", "SM-100", "1.0 kW / 220 V", "电机", "台", "1680.00", "1050.00", "纸箱，每箱 1 台", "高精度编码器；低噪音、低发热", ""),
    ("SM-200", "伺服电机", "SM-200", "2.0 kW / 380 V", "电机", "台", "2980.00", "1920.00", "纸箱，每箱 1 台", "过载能力 300%；IP65 防护", ""),
    ("SD-100", "伺服驱动器", "SD-100", "匹配 SM-100", "驱动器", "台", "1280.00", "760.00", "纸箱，每箱 1 台", "EtherCAT 总线；自整定", ""),
    ("PLC-X1", "可编程控制器", "X1-32", "32 点 I/O", "控制器", "台", "3600.00", "2300.00", "纸箱，每箱 1 台", "双网口；支持 Modbus TCP", ""),
    ("HMI-7", "触摸屏", "HMI-7", "7 英寸 800×480", "人机界面", "台", "1450.00", "900.00", "纸箱，每箱 1 台", "IP65 前面板；组态软件免费", ""),
    ("SEN-P1", "压力传感器", "P1-10", "0–10 MPa，4–20 mA", "传感器", "只", "420.00", "230.00", "彩盒，每箱 20 只", "精度 0.25% FS", ""),
    ("SEN-T1", "温度传感器", "PT100", "-50–200 ℃", "传感器", "只", "180.00", "85.00", "彩盒，每箱 50 只", "不锈钢探头", ""),
    ("CAB-5", "编码器电缆", "CAB-5", "5 米", "配件", "根", "95.00", "40.00", "每袋 10 根", "耐弯折 500 万次", ""),
    ("GBX-10", "行星减速机", "PLX-60-10", "速比 10:1", "传动", "台", "1350.00", "820.00", "木箱", "背隙 ≤ 5 弧分", ""),
    ("CNV-1", "输送线模组", "CNV-1", "长 2 m，宽 300 mm", "整机", "套", "18800.00", "12600.00", "木箱", "模块化拼接；含电控", ""),
    ("SVC-INS", "现场安装调试", "", "每人天", "服务", "人天", "1200.00", "600.00", "", "工程师上门，含差旅", ""),
    ("SVC-TRN", "操作培训", "", "每场 ≤ 20 人", "服务", "场", "3000.00", "1200.00", "", "提供培训教材和证书", ""),
    ("SVC-MNT", "年度维保服务", "", "12 个月", "服务", "年", "9800.00", "4500.00", "", "两次巡检；4 小时响应", ""),
    ("LIC-SCADA", "SCADA 软件授权", "V5", "500 点", "软件", "套", "26000.00", "3000.00", "电子交付", "永久授权；一年免费升级", ""),
    ("OLD-SM-50", "伺服电机（停产）", "SM-50", "0.5 kW", "电机", "台", "980.00", "700.00", "纸箱", "已由 SM-100 替代", ""),
    ("FP-MM01", "现金管理理财", "天天盈", "T+0 赎回", "理财", "份", "1.00", "0.00", "", "低波动", "R1"),
    ("FP-BD03", "债券型基金", "稳健债 3 号", "持有 90 天", "理财", "份", "1.00", "0.00", "", "以债券为主", "R2"),
    ("FP-EQ05", "股票型基金", "成长精选", "", "理财", "份", "1.00", "0.00", "", "高波动，适合进取型投资者", "R4"),
]
# fmt: on
PICTURE_COLOURS = {
    "SM-100": (31, 78, 121),
    "SM-200": (46, 117, 182),
    "SD-100": (84, 130, 53),
    "PLC-X1": (191, 144, 0),
    "HMI-7": (112, 48, 160),
    "CNV-1": (197, 90, 17),
}  # fmt: skip


def _picture(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (160, 120), (245, 245, 245))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((20, 20, 140, 100), radius=12, fill=colour)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def contribute(load: DemoLoad) -> dict[str, int]:
    existing = set(Product.objects.values_list("code", flat=True))
    now = timezone.now()
    rows = []
    for code, name, model, spec, category, unit, price, cost, packaging, features, risk in PRODUCTS:
        if code in existing:
            continue
        picture = ""
        if code in PICTURE_COLOURS:
            picture = default_storage.save(
                f"products/demo/{code.lower()}.png", ContentFile(_picture(PICTURE_COLOURS[code]))
            )
        rows.append((
            code, name, product_search_text(name=name, code=code, model=model), model, spec, category, unit,
            "service" if category == "服务" else "piece", Decimal(price), Decimal(cost), "CNY", picture, packaging,
            features, code == "LIC-SCADA", 3 if category not in ("服务", "软件", "理财") else 0, risk,
            not code.startswith("OLD-"), now, now, 1,
        ))  # fmt: skip
    columns = ("code", "name", "search_text", "model", "specification", "category", "unit", "unit_kind", "price",
               "cost", "currency", "picture", "packaging", "features", "electronic_delivery", "sample_limit",
               "risk_level", "is_active", "created_at", "updated_at", "version")  # fmt: skip
    written = load.insert(Product, columns, rows) if rows else 0
    load.progress(f"产品目录：{written} 个产品")
    if not Letterhead.objects.filter(pk=LETTERHEAD_PK).exists():
        Letterhead.objects.create(
            pk=LETTERHEAD_PK, company_name="上海客户智能装备有限公司", company_name_en="Shanghai Kehu Automation Co., Ltd.",
            address="上海市浦东新区张江高科技园区碧波路 690 号", phone="021-5080 1234", email="sales@kehu.example",
            tax_number="91310115MA1K4QR2PN", bank_name="招商银行上海张江支行", bank_account="1219 0888 8810 001",
            default_terms="1. 以上价格含 13% 增值税，含运费。\n2. 交货期：合同签订并收到预付款后 30 天。\n"
            "3. 付款方式：预付 30%，发货前付清余款。\n4. 质保期：验收合格后 12 个月。",
            discount_threshold=Decimal("10.00"),
        )  # fmt: skip
    return {"products": written}


# fmt: off
QUOTE_TOPICS = ["产线自动化改造", "二期装配线伺服系统", "包装机控制升级", "仓储输送线", "车间设备维保", "检测工位传感器更换",
                "SCADA 监控系统", "老旧设备替换"]
COMPETITOR_NOTES = ["", "", "对手 A 报价低约 5%，交期 45 天", "对手 B 提供两年质保", "客户同时询价三家", "进口品牌报价高 20%"]
VOLUME_NOTES = ["", "", "预计年用量 200 台", "年用量约 50 套，分季度下单", "明年新工厂投产后翻倍"]
STATUS_WEIGHTS = {"draft": 2, "sent": 3, "accepted": 3, "rejected": 2, "expired": 1}
# fmt: on
QUOTE_EVERY = 40  # one owned customer in forty has had quotes


def contribute_quotes(load: DemoLoad) -> dict[str, int]:
    """Past quotes of some owned customers of the run — various outcomes, discounts, cost components
    and notes — so that the quote history has something to compare a new quote with (SAL-5)."""
    import json
    import random
    from datetime import datetime, time, timedelta

    from kehu.core.sequences import next_values
    from kehu.customers.models import Customer

    from .models import Quote, QuoteLine
    from .rules import LineFigures, line_amount, margin_of, quote_totals

    rng = random.Random(load.seed + 505)
    products = list(
        Product.objects.filter(is_active=True).exclude(category__in=["理财"]).order_by("code")[:20]
    )
    if not products:
        return {"quotes": 0}
    owned = list(
        Customer.objects.filter(
            pk__gte=load.first_customer_id,
            pk__lt=load.first_customer_id + load.customers,
            owner__isnull=False,
        )
        .order_by("pk")
        .values_list("pk", "owner_id")[::QUOTE_EVERY][:2000]
    )
    if not owned:
        return {"quotes": 0}
    numbers = next_values("quote", len(owned))
    statuses = [s for s, w in STATUS_WEIGHTS.items() for _ in range(w)]
    quote_rows, planned = [], []
    for (customer_id, owner_id), number in zip(owned, numbers, strict=True):
        quoted_on = load.today - timedelta(days=rng.randint(3, 330))
        status = rng.choice(statuses)
        lines = []
        for position, product in enumerate(rng.sample(products, k=rng.randint(1, 3)), start=1):
            quantity = Decimal(rng.choice([1, 2, 5, 10, 20, 50]))
            discount = Decimal(rng.choice([0, 0, 3, 5, 8, 12]))
            material = (product.cost * Decimal("0.8")).quantize(Decimal("0.01"))
            freight = (product.cost * Decimal("0.05")).quantize(Decimal("0.01"))
            components = {
                "material": str(material),
                "freight": str(freight),
                "other": str(product.cost - material - freight),
            }
            amount = line_amount(unit_price=product.price, quantity=quantity, discount=discount)
            lines.append((position, product, quantity, discount, amount, components))
        totals = quote_totals(
            LineFigures(list_price=p.price, unit_price=p.price, quantity=q, discount=d, unit_cost=p.cost)
            for _pos, p, q, d, _a, _c in lines
        )
        sent = status != "draft"
        decided = status in ("accepted", "rejected")
        at = timezone.make_aware(datetime.combine(quoted_on, time(10)))
        quote_rows.append((
            f"BJ{number:08d}", 1, True, f"{rng.choice(QUOTE_TOPICS)}报价", customer_id, owner_id, "CNY", Decimal("1"),
            quoted_on, quoted_on + timedelta(days=30), "", "", rng.choice(COMPETITOR_NOTES), rng.choice(VOLUME_NOTES),
            status, "draft", totals.subtotal, totals.discount_amount, totals.total, totals.cost_total, totals.margin,
            totals.max_discount, at + timedelta(hours=2) if sent else None, at + timedelta(days=7) if decided else None,
            "价格偏高，选择了对手" if status == "rejected" else "", owner_id, at, at, 1,
        ))  # fmt: skip
        planned.append((f"BJ{number:08d}", lines))
    columns = ("number", "revision", "is_current", "title", "customer_id", "owner_id", "currency", "exchange_rate",
               "quoted_on", "valid_until", "terms", "notes", "competitor_notes", "annual_volume_notes", "status",
               "approval_status", "subtotal", "discount_amount", "total", "cost_total", "margin", "max_discount",
               "sent_at", "decided_at", "decision_note", "created_by_id", "created_at", "updated_at", "version")  # fmt: skip
    written = load.insert(Quote, columns, quote_rows)
    ids = dict(Quote.objects.filter(number__in=[n for n, _l in planned]).values_list("number", "pk"))
    line_rows = []
    for code, lines in planned:
        for position, product, quantity, discount, amount, components in lines:
            line_rows.append((
                ids[code], position, product.pk, product.name, product.model, product.specification,
                product.packaging, product.features, product.unit, product.picture.name or "", product.price,
                product.price, quantity, discount, amount, product.cost, json.dumps(components),
                margin_of(amount=amount, cost=product.cost * quantity),
            ))  # fmt: skip
    line_columns = ("quote_id", "position", "product_id", "name", "model", "specification", "packaging", "features",
                    "unit", "picture", "list_price", "unit_price", "quantity", "discount", "amount", "unit_cost",
                    "cost_components", "margin")  # fmt: skip
    load.insert(QuoteLine, line_columns, line_rows)
    load.progress(f"报价单：{written} 张")
    return {"quotes": written, "quote_lines": len(line_rows)}
