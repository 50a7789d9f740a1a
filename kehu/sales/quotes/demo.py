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
PRODUCTS = [
    ("SM-100", "伺服电机", "SM-100", "1.0 kW / 220 V", "电机", "台", "1680.00", "1050.00", "纸箱，每箱 1 台", "高精度编码器\n低噪音、低发热", ""),
    ("SM-200", "伺服电机", "SM-200", "2.0 kW / 380 V", "电机", "台", "2980.00", "1920.00", "纸箱，每箱 1 台", "过载能力 300%\nIP65 防护", ""),
    ("SD-100", "伺服驱动器", "SD-100", "匹配 SM-100", "驱动器", "台", "1280.00", "760.00", "纸箱，每箱 1 台", "EtherCAT 总线\n自整定", ""),
    ("PLC-X1", "可编程控制器", "X1-32", "32 点 I/O", "控制器", "台", "3600.00", "2300.00", "纸箱，每箱 1 台", "双网口\n支持 Modbus TCP", ""),
    ("HMI-7", "触摸屏", "HMI-7", "7 英寸 800×480", "人机界面", "台", "1450.00", "900.00", "纸箱，每箱 1 台", "IP65 前面板\n组态软件免费", ""),
    ("SEN-P1", "压力传感器", "P1-10", "0–10 MPa，4–20 mA", "传感器", "只", "420.00", "230.00", "彩盒，每箱 20 只", "精度 0.25% FS", ""),
    ("SEN-T1", "温度传感器", "PT100", "-50–200 ℃", "传感器", "只", "180.00", "85.00", "彩盒，每箱 50 只", "不锈钢探头", ""),
    ("CAB-5", "编码器电缆", "CAB-5", "5 米", "配件", "根", "95.00", "40.00", "每袋 10 根", "耐弯折 500 万次", ""),
    ("GBX-10", "行星减速机", "PLX-60-10", "速比 10:1", "传动", "台", "1350.00", "820.00", "木箱", "背隙 ≤ 5 弧分", ""),
    ("CNV-1", "输送线模组", "CNV-1", "长 2 m，宽 300 mm", "整机", "套", "18800.00", "12600.00", "木箱", "模块化拼接\n含电控", ""),
    ("SVC-INS", "现场安装调试", "", "每人天", "服务", "人天", "1200.00", "600.00", "", "工程师上门，含差旅", ""),
    ("SVC-TRN", "操作培训", "", "每场 ≤ 20 人", "服务", "场", "3000.00", "1200.00", "", "提供培训教材和证书", ""),
    ("SVC-MNT", "年度维保服务", "", "12 个月", "服务", "年", "9800.00", "4500.00", "", "两次巡检\n4 小时响应", ""),
    ("LIC-SCADA", "SCADA 软件授权", "V5", "500 点", "软件", "套", "26000.00", "3000.00", "电子交付", "永久授权\n一年免费升级", ""),
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
            tax_number="91310115MA1K4XXXXX", bank_name="招商银行上海张江支行", bank_account="1219 0888 8810 001",
            default_terms="1. 以上价格含 13% 增值税，含运费。\n2. 交货期：合同签订并收到预付款后 30 天。\n"
            "3. 付款方式：预付 30%，发货前付清余款。\n4. 质保期：验收合格后 12 个月。",
            discount_threshold=Decimal("10.00"),
        )  # fmt: skip
    return {"products": written}
