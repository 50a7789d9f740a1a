"""Pure rules of leads (SAL-1, SAL-2): the fraudulent-inquiry check (虚盘识别) and its helpers.

No ORM here. ``risk`` turns a lead into :class:`LeadFacts` and the configured rules into
:class:`RuleSpec`; :func:`evaluate` returns the hits, each with its points and its reason in Chinese
and English. The score is the sum of the points.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kehu.core.pinyin import search_keys

# Free-mail providers a company would not write from (configurable on the free_mail rule).
DEFAULT_FREE_MAIL_DOMAINS = (
    "qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "sina.com", "sina.cn", "sohu.com",
    "139.com", "189.cn", "aliyun.com", "gmail.com", "hotmail.com", "outlook.com", "live.com",
    "yahoo.com", "icloud.com", "msn.com", "mail.ru", "proton.me", "protonmail.com",
)  # fmt: skip
DEFAULT_URGENT_WORDS = (
    "预付款", "先付款", "马上付款", "立即付款", "今天付款", "急需", "加急", "尽快发货", "先发货", "西联", "速汇金",
    "代付", "第三方付款", "信用证", "支票", "western union", "moneygram", "wire transfer", "urgent",
    "asap", "advance payment", "cheque",
)  # fmt: skip

# Default points and parameters, also what the data migration loads (admins edit them later).
DEFAULT_RULES: dict[str, tuple[int, dict[str, Any]]] = {
    "big_first_order": (30, {"amount": 100000}),
    "unit_mismatch": (25, {}),
    "courier_for_electronic": (25, {}),
    "samples": (20, {"max_total": 5}),
    "free_mail": (15, {"domains": list(DEFAULT_FREE_MAIL_DOMAINS)}),
    "domain_mismatch": (15, {}),
    "bad_number": (15, {}),
    "urgent_payment": (20, {"words": list(DEFAULT_URGENT_WORDS)}),
    "foreign_code": (10, {"allowed": ["86", "852", "853", "886"]}),
    "no_contact_way": (10, {}),
}
DEFAULT_THRESHOLD = 50

# What a unit is measured in, by its usual Chinese and English names (lowercase).
_UNIT_KINDS: dict[str, tuple[str, ...]] = {
    "weight": ("kg", "kgs", "公斤", "千克", "克", "g", "吨", "t", "ton", "tons", "斤", "磅", "lb", "lbs", "mg", "毫克"),
    "length": ("m", "米", "km", "公里", "千米", "cm", "厘米", "mm", "毫米", "英尺", "ft", "码", "yard", "yd", "inch"),
    "volume": ("l", "升", "ml", "毫升", "立方", "立方米", "m3", "m³", "cbm", "加仑", "gallon", "桶"),
    "piece": ("件", "台", "套", "个", "只", "支", "把", "张", "块", "部", "根", "箱", "盒", "pcs", "pc", "piece",
              "pieces", "set", "sets", "unit", "units", "颗", "片", "本", "份", "卷", "辆"),
    "service": ("小时", "天", "月", "年", "次", "人天", "人月", "hour", "hours", "day", "days", "month",
                "year", "用户", "license", "licenses", "许可", "授权", "点"),
}  # fmt: skip
_UNIT_OF = {name: kind for kind, names in _UNIT_KINDS.items() for name in names}


def unit_kind_of(unit: str) -> str | None:
    """The kind (piece/weight/length/volume/service) a unit name measures, or None when unknown.

    >>> unit_kind_of("公斤"), unit_kind_of(" PCS "), unit_kind_of("箩筐")
    ('weight', 'piece', None)
    """
    return _UNIT_OF.get((unit or "").strip().lower())


def mail_domain(email: str) -> str:
    """The domain of an e-mail address, lowercase ("" when there is none)."""
    text = (email or "").strip().lower()
    return text.rsplit("@", 1)[1].strip(". ") if "@" in text else ""


def site_domain(website: str) -> str:
    """The host of a website address without scheme, ``www.``, port or path, lowercase."""
    text = (website or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = re.split(r"[/?#:]", text, maxsplit=1)[0]
    return text.removeprefix("www.").strip(".")


def registrable(domain: str) -> str:
    """The registrable part of a domain: the last two labels, three under a Chinese second level
    (``sales.huawei.com.cn`` → ``huawei.com.cn``). Good enough to compare a mail with a website."""
    labels = [p for p in domain.split(".") if p]
    if (
        len(labels) >= 3
        and labels[-2] in {"com", "net", "org", "gov", "edu", "co", "ac"}
        and len(labels[-1]) == 2
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


_MOBILE = re.compile(r"1[3-9]\d{9}")
_PHONE = re.compile(r"\+?\d[\d-]{5,22}\d")


def mobile_ok(mobile: str) -> bool:
    """A mainland mobile (11 digits, 1[3-9]…), optionally with +86/0086/86 in front, or a foreign
    number written with its country code (+XX…, 7–15 digits)."""
    text = re.sub(r"[\s\-().]", "", mobile or "")
    if not text:
        return True
    if re.fullmatch(r"(?:\+86|0086|86)?1[3-9]\d{9}", text):
        return True
    return bool(re.fullmatch(r"(?:\+|00)[1-9]\d{6,14}", text)) and not text.lstrip("+0").startswith("86")


def phone_ok(phone: str) -> bool:
    text = re.sub(r"[\s().]", "", phone or "")
    if not text:
        return True
    digits = re.sub(r"\D", "", text)
    return bool(_PHONE.fullmatch(text)) and 7 <= len(digits) <= 20 and len(set(digits)) > 2


def country_code(number: str) -> str | None:
    """The country code a number is written with (+44…, 0044…), None when it has none."""
    text = re.sub(r"[\s\-().]", "", number or "")
    match = re.match(r"^(?:\+|00)(\d{1,3})", text)
    if not match:
        return None
    digits = text.lstrip("+")[2:] if text.startswith("00") else text.lstrip("+")
    for size in (1, 2, 3):  # the shortest known prefix wins (ITU codes are prefix-free)
        if digits[:size] in _COUNTRY_CODES:
            return digits[:size]
    return match.group(1)


_COUNTRY_CODES = {
    "1", "7", "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46", "47",
    "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63", "64", "65", "66",
    "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98", "212", "213", "216", "218", "220",
    "221", "223", "225", "226", "227", "228", "229", "231", "232", "233", "234", "235", "236", "237",
    "852", "853", "855", "856", "880", "886", "960", "961", "962", "963", "964", "965", "966", "967",
    "968", "970", "971", "972", "973", "974", "975", "976", "977", "992", "993", "994", "995", "996", "998",
}  # fmt: skip


@dataclass(frozen=True)
class LineFacts:
    """One product of the inquiry: the product's own facts and what was asked of it."""

    product: str
    price: Decimal
    unit_kind: str
    electronic_delivery: bool
    sample_limit: int
    quantity: Decimal
    unit: str = ""
    samples: int = 0
    asked_before: bool = False  # this sender asked about this product in an earlier lead


@dataclass(frozen=True)
class LeadFacts:
    """Everything the rules look at; ``known_sender`` says the sender already has contact history with
    us (an existing customer or contact with interactions, or an earlier converted lead)."""

    company_name: str = ""
    email: str = ""
    website: str = ""
    mobile: str = ""
    phone: str = ""
    wechat: str = ""
    province: str = ""
    content: str = ""
    delivery: str = ""
    samples_requested: int = 0
    lines: Sequence[LineFacts] = field(default_factory=tuple)
    known_sender: bool = False


@dataclass(frozen=True)
class RuleSpec:
    kind: str
    points: int
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RiskHit:
    kind: str
    points: int
    zh: str
    en: str

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "points": self.points, "zh": self.zh, "en": self.en}


Reason = tuple[str, str] | None  # (Chinese, English) when the rule fires


def _number(value: Any, default: Decimal) -> Decimal:
    try:
        return Decimal(str(value))
    except Exception:
        return default


def rule_big_first_order(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """A very large order from someone who never asked about the product before: the lines of products
    not asked about earlier, quantity × list price, add up above ``amount`` and the sender has no
    history with us."""
    if facts.known_sender:
        return None
    limit = _number(params.get("amount", 100000), Decimal("100000"))
    total = sum((ln.quantity * ln.price for ln in facts.lines if not ln.asked_before), Decimal("0"))
    if total <= limit:
        return None
    return (
        f"首次询盘金额约 {total:,.0f} 元，超过 {limit:,.0f} 元，且此前从未咨询过该产品",
        f"First inquiry worth about {total:,.0f}, above {limit:,.0f}, with no earlier inquiry about the product",
    )


_KIND_ZH = {"piece": "件数", "weight": "重量", "length": "长度", "volume": "体积", "service": "服务/时间"}


def rule_unit_mismatch(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """A unit of another kind than the product is sold by (kilograms of goods sold by the piece)."""
    odd = [ln for ln in facts.lines if (kind := unit_kind_of(ln.unit)) is not None and kind != ln.unit_kind]
    if not odd:
        return None
    ln = odd[0]
    return (
        f"询盘按“{ln.unit}”要“{ln.product}”，而该产品按{_KIND_ZH.get(ln.unit_kind, ln.unit_kind)}销售",
        f"Asks for “{ln.product}” in “{ln.unit}”, but it is sold by {ln.unit_kind}",
    )


def rule_courier_for_electronic(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """Insisting on courier delivery of goods that can be delivered electronically."""
    if facts.delivery != "courier":
        return None
    electronic = [ln.product for ln in facts.lines if ln.electronic_delivery]
    if not electronic:
        return None
    return (
        f"坚持快递寄送可电子交付的产品（{'、'.join(electronic[:3])}）",
        f"Insists on courier delivery of goods delivered electronically ({', '.join(electronic[:3])})",
    )


def rule_samples(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """Samples above a product's ``sample_limit``, or more than ``max_total`` in all, at the very start."""
    over = [ln for ln in facts.lines if ln.samples > ln.sample_limit]
    if over:
        ln = over[0]
        return (
            f"索要“{ln.product}”样品 {ln.samples} 件，超过上限 {ln.sample_limit} 件",
            f"Asks for {ln.samples} samples of “{ln.product}”, above the limit of {ln.sample_limit}",
        )
    limit = int(_number(params.get("max_total", 5), Decimal(5)))
    total = max(facts.samples_requested, sum(ln.samples for ln in facts.lines))
    if total > limit:
        return (
            f"首次询盘即索要样品 {total} 件，超过 {limit} 件",
            f"Asks for {total} samples at the very start, more than {limit}",
        )
    return None


def rule_free_mail(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """A company lead written from a free-mail address (qq.com, 163.com, gmail.com …)."""
    domain = mail_domain(facts.email)
    domains = {str(d).strip().lower() for d in params.get("domains", DEFAULT_FREE_MAIL_DOMAINS)}
    if not facts.company_name.strip() or not domain or domain not in domains:
        return None
    return (
        f"以公司名义询盘却使用免费邮箱（{domain}）",
        f"A company inquiry from a free-mail address ({domain})",
    )


def rule_domain_mismatch(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """The mail domain does not belong to the company website given (free-mail is the rule above)."""
    domain, site = mail_domain(facts.email), site_domain(facts.website)
    free = {str(d).strip().lower() for d in params.get("free_domains", DEFAULT_FREE_MAIL_DOMAINS)}
    if not domain or not site or domain in free:
        return None
    if registrable(domain) == registrable(site):
        return None
    return (
        f"邮箱域名 {domain} 与公司网址 {site} 不一致",
        f"Mail domain {domain} does not match the company website {site}",
    )


def rule_bad_number(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """A malformed mobile or phone number."""
    if not mobile_ok(facts.mobile):
        return (f"手机号“{facts.mobile}”格式不正确", f"Malformed mobile number “{facts.mobile}”")
    if not phone_ok(facts.phone):
        return (f"电话号码“{facts.phone}”格式不正确", f"Malformed phone number “{facts.phone}”")
    return None


def rule_urgent_payment(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """Urgent or unusual payment wording (先发货, 西联汇款, advance payment …), typical of scams."""
    text = (facts.content or "").lower()
    words = [str(w) for w in params.get("words", DEFAULT_URGENT_WORDS) if str(w).strip()]
    found = [w for w in words if w.lower() in text]
    if not found:
        return None
    return (
        f"询盘含催促付款或异常付款方式的措辞（{'、'.join(found[:3])}）",
        f"Urgent or unusual payment wording ({', '.join(found[:3])})",
    )


def rule_foreign_code(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """A number with a foreign country code for a lead located in mainland China (a province given)."""
    if not facts.province.strip():
        return None
    allowed = {str(a) for a in params.get("allowed", ["86"])}
    for number in (facts.mobile, facts.phone):
        code = country_code(number)
        if code is not None and code not in allowed:
            return (
                f"号码国家区号 +{code} 与所在地（{facts.province}）不符",
                f"Country code +{code} does not fit the location ({facts.province})",
            )
    return None


def rule_no_contact_way(facts: LeadFacts, params: dict[str, Any]) -> Reason:
    """Nothing to check the inquirer by: no mobile, phone or WeChat."""
    if facts.mobile.strip() or facts.phone.strip() or facts.wechat.strip():
        return None
    return ("没有留下手机、电话或微信，无法核实身份", "No mobile, phone or WeChat to verify the inquirer by")


RULES: dict[str, Callable[[LeadFacts, dict[str, Any]], Reason]] = {
    "big_first_order": rule_big_first_order,
    "unit_mismatch": rule_unit_mismatch,
    "courier_for_electronic": rule_courier_for_electronic,
    "samples": rule_samples,
    "free_mail": rule_free_mail,
    "domain_mismatch": rule_domain_mismatch,
    "bad_number": rule_bad_number,
    "urgent_payment": rule_urgent_payment,
    "foreign_code": rule_foreign_code,
    "no_contact_way": rule_no_contact_way,
}


def evaluate(facts: LeadFacts, rules: Sequence[RuleSpec]) -> list[RiskHit]:
    """The rules that fire for ``facts``, in the order given (unknown kinds are ignored)."""
    hits = []
    for spec in rules:
        check = RULES.get(spec.kind)
        if check is None:
            continue
        reason = check(facts, spec.params or {})
        if reason is not None:
            hits.append(RiskHit(kind=spec.kind, points=spec.points, zh=reason[0], en=reason[1]))
    return hits


def score(hits: Sequence[RiskHit]) -> int:
    return sum(h.points for h in hits)


def needs_review(*, score: int, threshold: int, reviewed_score: int | None) -> bool:
    """Flagged when the score reaches the threshold, unless a reviewer already cleared this score or a
    higher one (an edit that raises the score asks for a new review)."""
    if score < threshold:
        return False
    return reviewed_score is None or score > reviewed_score


def lead_search_text(*, code: str, company_name: str, contact_name: str, mobile: str, phone: str,
                     email: str, wechat: str) -> str:  # fmt: skip
    """One lowercase string for substring search: names with pinyin and initials, numbers, e-mail."""
    parts = [
        code.lower(), company_name.lower(), contact_name.lower(), search_keys(company_name),
        search_keys(contact_name, person_name=True), re.sub(r"\D", "", mobile), re.sub(r"\D", "", phone),
        email.lower(), wechat.lower(),
    ]  # fmt: skip
    return " ".join(p for p in parts if p)
