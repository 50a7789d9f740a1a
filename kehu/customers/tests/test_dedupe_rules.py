"""Company-name duplicate check rules (CUS-5): normalisation and similarity (no database)."""

from __future__ import annotations

import pytest

from kehu.customers.dedupe_rules import (
    REGION_ANNOTATIONS,
    SIMILAR_THRESHOLD,
    is_similar,
    name_bigrams,
    name_similarity,
    normalize_company_name,
)

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # hypothesis is a test-only dependency; the example tests below still run
    given = None  # type: ignore[assignment]


@pytest.mark.parametrize(
    "spelling",
    [
        "华为技术有限公司",
        "华为技术 有限公司",
        "华为技术（深圳）有限公司",
        "华为技术(深圳市)有限公司",
        "华为技术",
        "华为技术有限公司。",
    ],
)
def test_spellings_of_huawei_normalise_to_the_same_key(spelling: str) -> None:
    assert normalize_company_name(spelling) == "华为技术"


@pytest.mark.parametrize(
    "spelling", ["ＡＢＣ科技有限公司", "abc科技有限公司", "ABC 科技股份有限公司", "Abc科技集团有限公司"]
)
def test_width_case_spaces_and_legal_form_do_not_matter(spelling: str) -> None:
    assert normalize_company_name(spelling) == "abc科技"


def test_a_limited_liability_company_equals_its_bare_name() -> None:
    assert normalize_company_name("小米科技有限责任公司") == normalize_company_name("小米科技") == "小米科技"


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("腾讯控股有限公司", "腾讯"),
        ("中国平安保险（集团）股份有限公司", "中国平安保险"),
        ("某某集团股份有限公司", "某某"),
        ("某某有限合伙", "某某"),
        ("某某股份公司", "某某"),
        ("红星机械厂", "红星机械"),
        ("张三设计工作室", "张三设计"),
        ("金杜律师事务所", "金杜律师"),
        ("中国石化总公司", "中国石化"),
    ],
)
def test_chinese_legal_form_suffixes_are_stripped_repeatedly(name: str, normalised: str) -> None:
    assert normalize_company_name(name) == normalised


def test_a_branch_is_the_same_customer_as_its_parent() -> None:
    parent = normalize_company_name("华为技术有限公司")
    assert normalize_company_name("华为技术有限公司北京分公司") == parent
    assert normalize_company_name("华为技术有限公司上海市分公司") == parent
    assert normalize_company_name("华为技术有限公司分公司") == parent


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("ABC Co., Ltd.", "abc"),
        ("ABC Company Limited", "abc"),
        ("Apple Inc.", "apple"),
        ("Acme Corp", "acme"),
        ("Acme Corporation", "acme"),
        ("Siemens GmbH", "siemens"),
        ("Foo LLC", "foo"),
        ("Tesco PLC", "tesco"),
        ("Acme Group", "acme"),
        ("深圳ABC科技 Co., Ltd", "深圳abc科技"),
    ],
)
def test_english_legal_forms_are_stripped_as_whole_words(name: str, normalised: str) -> None:
    assert normalize_company_name(name) == normalised


def test_a_name_merely_ending_in_the_letters_of_a_legal_form_keeps_them() -> None:
    assert normalize_company_name("Tesco") == "tesco"
    assert normalize_company_name("Zinc") == "zinc"
    assert normalize_company_name("Disco Ltd") == "disco"


def test_bracket_characters_go_but_non_region_content_stays() -> None:
    assert normalize_company_name("某某【科技】有限公司") == "某某科技"
    assert normalize_company_name("《读者》杂志社") == "读者杂志社"
    assert normalize_company_name("「一点」资讯") == "一点资讯"


@pytest.mark.parametrize(
    "region", ["北京", "上海", "深圳", "广州", "中国", "香港", "广西壮族自治区", "浙江省", "China"]
)
def test_a_bracketed_region_annotation_is_dropped(region: str) -> None:
    assert normalize_company_name(f"星光贸易（{region}）有限公司") == "星光贸易"
    assert normalize_company_name(f"星光贸易[{region}]有限公司") == "星光贸易"


def test_a_region_prefix_outside_brackets_is_kept_because_it_may_be_another_company() -> None:
    assert normalize_company_name("北京华为有限公司") == "北京华为"
    assert normalize_company_name("北京华为") != normalize_company_name("上海华为")


def test_the_region_list_covers_every_province_level_division() -> None:
    provinces = (
        "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北"
        " 湖南 广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
    )
    assert set(provinces.split()) <= REGION_ANNOTATIONS


def test_a_name_that_is_only_a_legal_form_is_not_reduced_to_nothing() -> None:
    assert normalize_company_name("有限公司") == "有限公司"
    assert normalize_company_name("Ltd") == "ltd"
    assert normalize_company_name("上海分公司") == "上海"


def test_an_empty_or_punctuation_only_name_normalises_to_empty() -> None:
    assert normalize_company_name("") == ""
    assert normalize_company_name(" 、。！ ") == ""


def test_normalising_twice_changes_nothing_more() -> None:
    for name in [
        "华为技术（深圳）有限公司",
        "ABC Co., Ltd.",
        "某某集团股份有限公司",
        "华为技术有限公司北京分公司",
    ]:
        once = normalize_company_name(name)
        assert normalize_company_name(once) == once


def test_traditional_and_simplified_characters_are_not_unified() -> None:
    assert normalize_company_name("華為技術有限公司") != normalize_company_name("华为技术有限公司")


# --------------------------------------------------------------------------------------------------
# Similarity
# --------------------------------------------------------------------------------------------------


def test_names_that_normalise_equal_are_fully_similar() -> None:
    assert name_similarity("华为技术有限公司", "华为技术（深圳）有限公司") == 1.0
    assert is_similar("ＡＢＣ科技有限公司", "ABC 科技股份有限公司")


def test_similarity_is_the_dice_coefficient_of_bigrams() -> None:
    # 华为技术 {华为, 为技, 技术} vs 华为科技 {华为, 为科, 科技}: 2*1 / (3+3).
    assert name_similarity("华为技术", "华为科技") == pytest.approx(1 / 3)
    # 华为技术 vs 华为技术服务 {华为, 为技, 技术, 术服, 服务}: 2*3 / (3+5).
    assert name_similarity("华为技术有限公司", "华为技术服务有限公司") == pytest.approx(0.75)


def test_a_one_character_name_is_compared_by_equality() -> None:
    assert name_similarity("鑫", "鑫有限公司") == 1.0
    assert name_similarity("鑫", "森") == 0.0
    assert name_similarity("鑫", "鑫森") == 0.0


def test_an_empty_name_is_similar_to_nothing() -> None:
    assert name_similarity("", "") == 0.0
    assert name_similarity("华为", "") == 0.0
    assert not is_similar("", "")


def test_the_threshold_is_0_8_and_inclusive() -> None:
    assert SIMILAR_THRESHOLD == 0.8
    # 北京星光贸易 (5 bigrams) vs 北京星光贸易行 (6 bigrams, 5 shared): 2*5/11 = 0.909.
    assert is_similar("北京星光贸易有限公司", "北京星光贸易行有限公司")
    # 甲乙丙丁戊 (4) vs 甲乙丙丁戊己 (5, 4 shared): 2*4/9 = 0.889; vs 甲乙丙丁 (3 shared): 2*3/7 = 0.857.
    assert is_similar("甲乙丙丁戊", "甲乙丙丁")
    # Exactly 0.8: 甲乙丙 {甲乙, 乙丙} vs 甲乙丙丁 {甲乙, 乙丙, 丙丁}: 2*2/5.
    assert name_similarity("甲乙丙", "甲乙丙丁") == pytest.approx(0.8)
    assert is_similar("甲乙丙", "甲乙丙丁")


def test_different_companies_are_not_similar() -> None:
    assert not is_similar("华为技术有限公司", "中兴通讯股份有限公司")
    assert not is_similar("北京华为", "上海华为")


def test_name_bigrams_are_adjacent_pairs() -> None:
    assert name_bigrams("华为技术") == {"华为", "为技", "技术"}
    assert name_bigrams("aaa") == {"aa"}
    assert name_bigrams("鑫") == {"鑫"}
    assert name_bigrams("") == set()


if given is not None:
    names = st.text(
        alphabet=st.sampled_from("华为技术科小米有限公司股份集团深圳（）() abcABC，.、"), max_size=20
    )

    @given(names, names)
    def test_similarity_is_symmetric_and_between_0_and_1(a: str, b: str) -> None:
        score = name_similarity(a, b)
        assert 0.0 <= score <= 1.0
        assert score == name_similarity(b, a)

    @given(names)
    def test_a_non_empty_name_is_fully_similar_to_itself(a: str) -> None:
        assert name_similarity(a, a) == (1.0 if normalize_company_name(a) else 0.0)

    @given(names)
    def test_normalising_a_chinese_style_name_twice_changes_nothing_more(a: str) -> None:
        once = normalize_company_name(a)
        assert normalize_company_name(once) == once

    @given(names)
    def test_normalised_names_hold_no_spaces_punctuation_or_upper_case(a: str) -> None:
        normalised = normalize_company_name(a)
        assert normalised == normalised.lower()
        assert not any(ch in normalised for ch in " （）()，.、")
