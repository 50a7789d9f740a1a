"""Pinyin search keys (CUS-6): typing ``hw`` or ``huawei`` finds 华为 (no database)."""

from __future__ import annotations

import string

import pytest

from kehu.core.pinyin import SURNAME_READINGS, pinyin_keys, search_keys

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # hypothesis is a test-only dependency; the example tests below still run
    given = None  # type: ignore[assignment]


def test_a_company_name_has_full_pinyin_and_initials_keys() -> None:
    assert pinyin_keys("华为技术有限公司") == ("huaweijishuyouxiangongsi", "hwjsyxgs")


def test_typing_hw_or_huawei_finds_huawei() -> None:
    key = search_keys("华为")
    assert "hw" in key
    assert "huawei" in key


def test_search_key_is_full_then_initials_separated_by_a_space() -> None:
    assert search_keys("华为技术有限公司") == "huaweijishuyouxiangongsi hwjsyxgs"


def test_ascii_letters_and_digits_are_kept_lowercased_in_both_keys() -> None:
    assert pinyin_keys("ABC科技") == ("abckeji", "abckj")
    assert pinyin_keys("3M中国") == ("3mzhongguo", "3mzg")
    assert pinyin_keys("中国IBM 2024") == ("zhongguoibm2024", "zgibm2024")


def test_full_width_letters_and_digits_count_as_half_width() -> None:
    assert pinyin_keys("ＡＢＣ科技１号") == pinyin_keys("ABC科技1号") == ("abckeji1hao", "abckj1h")


def test_punctuation_and_spaces_are_dropped() -> None:
    assert pinyin_keys("  华为 · 技术（深圳）有限公司！") == pinyin_keys("华为技术深圳有限公司")


def test_u_umlaut_is_written_v() -> None:
    assert pinyin_keys("吕") == ("lv", "l")
    assert pinyin_keys("绿色女装") == ("lvsenvzhuang", "lsnz")


def test_polyphonic_characters_are_read_by_phrase() -> None:
    assert pinyin_keys("重庆银行")[0] == "chongqingyinhang"
    assert pinyin_keys("长沙")[0] == "changsha"


def test_accented_latin_letters_lose_their_accents() -> None:
    assert pinyin_keys("Café咖啡") == ("cafekafei", "cafekf")


@pytest.mark.parametrize("text", ["", "   ", "！？、", "---"])
def test_text_without_letters_digits_or_chinese_gives_empty_keys(text: str) -> None:
    assert pinyin_keys(text) == ("", "")
    assert search_keys(text) == ""


def test_a_character_pypinyin_cannot_read_is_left_out_rather_than_copied() -> None:
    full, initials = pinyin_keys("𠮷野家")
    assert full.isascii() and initials.isascii()
    assert full.endswith("yejia")


@pytest.mark.parametrize(
    ("name", "full", "initials"),
    [
        ("单田芳", "shantianfang", "stf"),
        ("曾国藩", "zengguofan", "zgf"),
        ("解缙", "xiejin", "xj"),
        ("仇英", "qiuying", "qy"),
        ("区志强", "ouzhiqiang", "ozq"),
        ("查良镛", "zhaliangyong", "zly"),
        ("朴槿惠", "piaojinhui", "pjh"),
        ("覃小明", "qinxiaoming", "qxm"),
        ("盖聂", "genie", "gn"),
        ("翟天临", "zhaitianlin", "ztl"),
        ("乐嘉", "yuejia", "yj"),
        ("缪可", "miaoke", "mk"),
        ("卜算", "busuan", "bs"),
        ("阚泽", "kanze", "kz"),
        ("能静", "naijing", "nj"),
        ("冼星海", "xianxinghai", "xxh"),
        ("尉迟恭", "yuchigong", "ycg"),
        ("万俟卨", "moqixie", "mqx"),
        ("长孙无忌", "zhangsunwuji", "zswj"),
    ],
)
def test_a_person_name_reads_its_surname_with_the_surname_reading(
    name: str, full: str, initials: str
) -> None:
    assert pinyin_keys(name, person_name=True) == (full, initials)


def test_without_person_name_the_everyday_reading_is_used() -> None:
    assert pinyin_keys("单田芳") == ("dantianfang", "dtf")
    assert pinyin_keys("曾经") == ("cengjing", "cj")


def test_only_the_surname_is_overridden_and_the_given_name_is_read_normally() -> None:
    # 单 in the given name keeps its everyday reading; only the leading surname changes.
    assert pinyin_keys("单单", person_name=True) == ("shandan", "sd")
    assert pinyin_keys("王单", person_name=True) == ("wangdan", "wd")


def test_a_compound_surname_wins_over_its_first_character() -> None:
    # 长 alone is not in the table, but the check must try 长孙 before any 1-character entry.
    assert pinyin_keys("长孙", person_name=True) == ("zhangsun", "zs")
    assert all(len(surname) <= 2 for surname in SURNAME_READINGS)


def test_a_person_name_with_surrounding_spaces_still_finds_its_surname() -> None:
    assert pinyin_keys("  单田芳 ", person_name=True) == ("shantianfang", "stf")


def test_a_surname_alone_is_read_as_a_surname() -> None:
    assert pinyin_keys("单", person_name=True) == ("shan", "s")


def test_search_keys_of_a_person_name_use_the_surname_reading() -> None:
    assert search_keys("曾国藩", person_name=True) == "zengguofan zgf"


def test_every_surname_reading_is_lowercase_ascii_syllables() -> None:
    for surname, syllables in SURNAME_READINGS.items():
        assert len(syllables) == len(surname)
        assert all(s.isascii() and s.isalpha() and s.islower() for s in syllables)


if given is not None:
    allowed = set(string.ascii_lowercase + string.digits)

    @given(st.text(max_size=30), st.booleans())
    def test_keys_only_ever_hold_lowercase_ascii_letters_and_digits(text: str, person_name: bool) -> None:
        full, initials = pinyin_keys(text, person_name=person_name)
        assert set(full) <= allowed
        assert set(initials) <= allowed
        assert len(initials) <= len(full)

    @given(
        st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=12)
    )
    def test_initials_of_chinese_text_are_the_first_letters_of_the_full_key(text: str) -> None:
        full, initials = pinyin_keys(text)
        assert full[:1] == initials[:1]
        assert len(initials) <= len(text)

    @given(st.text(max_size=30))
    def test_both_keys_are_substrings_of_the_search_key(text: str) -> None:
        full, initials = pinyin_keys(text)
        key = search_keys(text)
        assert (full in key and initials in key) if full else key == ""
