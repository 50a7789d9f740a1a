"""Company-name duplicate check rules (查重, requirement CUS-5).

Business rule: two customers are probably the same company when their names, stripped of the
parts that vary between how people write the same company (width, case, spaces, punctuation,
region annotations in brackets, legal-form suffixes), are equal or very similar. The similarity is
the Dice coefficient of the character bigrams of the normalised names, and
:data:`SIMILAR_THRESHOLD` decides what the duplicate check reports.

Pure functions only: the database stores :func:`normalize_company_name` in
``Customer.name_normalized`` and may prefilter candidates with :func:`name_bigrams`.
"""

from __future__ import annotations

import re
import unicodedata

SIMILAR_THRESHOLD = 0.8

# Region names that, alone inside brackets, annotate where a company of a group is registered:
# "华为技术（深圳）有限公司" is usually the same customer as "华为技术有限公司". Province-level
# divisions, the larger cities and a few romanised forms. Outside brackets region names are kept:
# 北京华为 and 上海华为 may be distinct customers.
# fmt: off
REGION_ANNOTATIONS: frozenset[str] = frozenset(
    {
        "中国", "中国大陆", "大陆", "国内", "境内",
        # Province-level divisions.
        "北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江",
        "安徽", "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州",
        "云南", "陕西", "甘肃", "青海", "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港",
        "澳门",
        # Provincial capitals and other large cities.
        "深圳", "广州", "杭州", "南京", "苏州", "武汉", "成都", "西安", "长沙", "郑州", "青岛",
        "厦门", "宁波", "大连", "沈阳", "哈尔滨", "长春", "济南", "合肥", "福州", "南昌", "昆明",
        "贵阳", "南宁", "海口", "三亚", "兰州", "西宁", "银川", "乌鲁木齐", "拉萨", "呼和浩特",
        "石家庄", "太原", "无锡", "常州", "南通", "徐州", "扬州", "东莞", "佛山", "珠海", "中山",
        "惠州", "汕头", "江门", "湛江", "温州", "绍兴", "嘉兴", "台州", "金华", "义乌", "泉州",
        "漳州", "烟台", "潍坊", "威海", "淄博", "临沂", "保定", "唐山", "廊坊", "洛阳", "宜昌",
        "襄阳", "芜湖", "柳州", "桂林", "遵义", "绵阳", "大庆", "鄂尔多斯", "包头", "雄安", "浦东",
        # Romanised forms seen in bracketed annotations.
        "china", "beijing", "shanghai", "shenzhen", "guangzhou", "hongkong", "hk", "macau",
        "tianjin", "chongqing", "hangzhou", "suzhou", "nanjing", "wuhan", "chengdu", "xiamen",
    }
)
# fmt: on

# Administrative suffixes removed before looking a bracketed name up: （深圳市） is （深圳）.
_REGION_SUFFIX = re.compile(r"(?:省|市|特别行政区|(?:壮族|回族|维吾尔)?自治区|地区|区)$")

# Chinese legal-form and organisation suffixes, longest first so the longest match is removed.
_CHINESE_SUFFIXES: tuple[str, ...] = tuple(
    sorted(
        {
            "集团股份有限公司",
            "集团有限公司",
            "股份有限公司",
            "有限责任公司",
            "有限公司",
            "股份公司",
            "有限合伙",
        }
        | {"集团", "控股", "总公司", "分公司", "公司", "厂", "工作室", "事务所"},
        key=len,
        reverse=True,
    )
)
# Suffixes marking a branch; a region name just before them is the branch's location
# ("华为技术有限公司北京分公司"), so it is removed too and the branch matches its parent.
_BRANCH_SUFFIXES = ("分公司",)

# English legal forms; matched as whole words only ("tesco" is not "tes" + "co").
_ENGLISH_SUFFIX = re.compile(
    r"(?<![a-z0-9])(?:co|ltd|limited|inc|incorporated|corp|corporation|company|group|llc|gmbh|plc)$"
)

# Opening and closing brackets of both widths (after NFKC full-width （） are already ASCII).
_BRACKETED = re.compile(r"[(\[{【〔〖「『《〈]([^()\[\]{}【】〔〕〖〗「」『』《》〈〉]*)[)\]}】〕〗」』》〉]")


def _is_region(text: str) -> bool:
    compact = "".join(text.split())
    return compact in REGION_ANNOTATIONS or _REGION_SUFFIX.sub("", compact) in REGION_ANNOTATIONS


def _drop_region_annotation(match: re.Match[str]) -> str:
    """Bracketed region names vanish; any other bracketed text stays, without its brackets."""
    content = match.group(1)
    return " " if _is_region(content) else f" {content} "


def _to_words(text: str) -> str:
    """Replace punctuation, symbols and whitespace by single spaces, then drop the spaces that do not
    separate two ASCII words (so "华为技术 有限公司" joins up but "abc co ltd" keeps its word
    boundaries for the English suffix rule)."""
    kept = "".join(ch if unicodedata.category(ch)[0] in "LN" else " " for ch in text)
    words = kept.split()
    out = words[0] if words else ""
    for word in words[1:]:
        if out[-1].isascii() and out[-1].isalnum() and word[0].isascii() and word[0].isalnum():
            out += " "
        out += word
    return out


def _strip_suffix_once(name: str) -> str | None:
    """The name with one legal-form suffix removed, or ``None`` when it has none (or only a suffix)."""
    english = _ENGLISH_SUFFIX.search(name)
    if english is not None:
        rest = name[: english.start()].rstrip()
        return rest or None
    for suffix in _CHINESE_SUFFIXES:
        if name.endswith(suffix):
            rest = name[: -len(suffix)].rstrip()
            if suffix in _BRANCH_SUFFIXES:
                rest = _strip_branch_location(rest)
            return rest or None
    return None


def _strip_branch_location(name: str) -> str:
    """Remove a trailing region name (with 省/市/区 etc.) left in front of a branch suffix."""
    for end in range(len(name)):
        tail = name[end:]
        if _is_region(tail) and name[:end].strip():
            return name[:end].rstrip()
    return name


def normalize_company_name(name: str) -> str:
    """Return the key under which two spellings of the same company name compare equal.

    Rule (CUS-5), in order:

    1. NFKC (full-width letters, digits and brackets become ASCII) and lowercase.
    2. Bracket characters of both widths (（）()【】[]「」『』《》〈〉〔〕{}) are removed and their content
       kept, except that a bracketed region annotation (a name in :data:`REGION_ANNOTATIONS`, with or
       without 省/市/自治区…) is removed with its brackets: 华为技术（深圳）有限公司 -> 华为技术.
    3. All whitespace, punctuation and symbols are removed (Chinese and ASCII alike).
    4. Legal-form suffixes are stripped from the end repeatedly: 集团股份有限公司, 集团有限公司,
       股份有限公司, 有限责任公司, 有限公司, 股份公司, 有限合伙, 集团, 控股, 总公司, 分公司, 公司, 厂,
       工作室, 事务所, and the whole English words co, ltd, limited, inc, incorporated, corp,
       corporation, company, group, llc, gmbh, plc. A branch (分公司) is the same customer as its
       parent, so a region name just before 分公司 goes too (华为技术有限公司北京分公司 -> 华为技术).
       A suffix is never stripped when nothing would remain (有限公司 stays 有限公司).

    A region name outside brackets is kept (北京华为 and 上海华为 may be different customers), and
    traditional and simplified characters are not unified.
    """
    text = unicodedata.normalize("NFKC", name or "").lower()
    # Brackets may nest or be unbalanced in hand-typed names; innermost pairs go first, repeatedly.
    previous = None
    while previous != text:
        previous, text = text, _BRACKETED.sub(_drop_region_annotation, text)
    text = _to_words(text)
    while (stripped := _strip_suffix_once(text)) is not None:
        text = stripped
    return text.replace(" ", "")


def name_bigrams(normalized: str) -> set[str]:
    """Return the set of adjacent character pairs of an already normalised name.

    Rule: the units the similarity is computed from; a one-character name is its own single unit
    (so a prefilter still finds it) and an empty name has none.
    """
    if len(normalized) == 1:
        return {normalized}
    return {normalized[i : i + 2] for i in range(len(normalized) - 1)}


def name_similarity(a: str, b: str) -> float:
    """Return how similar two company names are, from 0.0 to 1.0.

    Rule (CUS-5): both names are normalised with :func:`normalize_company_name`; equal normalised
    names score 1.0; if either is empty the score is 0.0 (nothing to compare); if either has one
    character the score is 1.0 when they are equal and 0.0 otherwise; else the score is the Dice
    coefficient of their bigram sets, 2·|A∩B| / (|A| + |B|).
    """
    left, right = normalize_company_name(a), normalize_company_name(b)
    if not left or not right:
        return 0.0
    if left == right:
        return 1.0
    if len(left) == 1 or len(right) == 1:
        return 0.0
    left_bigrams, right_bigrams = name_bigrams(left), name_bigrams(right)
    return 2 * len(left_bigrams & right_bigrams) / (len(left_bigrams) + len(right_bigrams))


def is_similar(a: str, b: str) -> bool:
    """Return whether two company names are similar enough to report as possible duplicates.

    Rule (CUS-5): :func:`name_similarity` is at least :data:`SIMILAR_THRESHOLD` (0.8).
    """
    return name_similarity(a, b) >= SIMILAR_THRESHOLD
