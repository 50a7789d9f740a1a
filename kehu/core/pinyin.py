"""Pinyin search keys (requirement CUS-6).

Business rule: a user who types ``hw`` or ``huawei`` must find 华为. For every
searchable name we therefore store two keys derived from its pinyin:

* the *full* key: every syllable without tones or separators, lowercase
  (华为技术有限公司 -> ``huaweijishuyouxiangongsi``);
* the *initials* key: the first letter of every syllable (``hwjsyxgs``).

ASCII letters and digits are kept, lowercased, in both keys (ABC科技 ->
``abckeji`` / ``abckj``), because company names often mix Latin brand names
with Chinese; full-width forms (Ａ１) count as their half-width twins. Any
other character (punctuation, spaces, symbols) is dropped. ü is written ``v``
(吕 -> ``lv``), the convention of every Chinese pinyin input method.

Person names (``person_name=True``) read a leading surname with its surname
reading (单 -> ``shan``, not ``dan``), since that is what a user types.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Surnames whose reading differs from (or is ambiguous with) the everyday reading
# pypinyin picks. Values are the syllables, so initials are correct for compound
# surnames too (尉迟 -> "yc"). Compound surnames are looked up before single ones.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    # Compound surnames.
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "长孙": ("zhang", "sun"),
    # Single-character surnames.
    "单": ("shan",),
    "曾": ("zeng",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "覃": ("qin",),
    "盖": ("ge",),
    "繁": ("po",),
    "缪": ("miao",),
    "翟": ("zhai",),
    "召": ("shao",),
    "乐": ("yue",),
    "员": ("yun",),
    "秘": ("bi",),
    "祭": ("zhai",),
    "折": ("she",),
    "黑": ("he",),
    "句": ("gou",),
    "宓": ("mi",),
    "种": ("chong",),
    "纪": ("ji",),
    "华": ("hua",),
    "任": ("ren",),
    "沈": ("shen",),
    "石": ("shi",),
    "重": ("chong",),
    "洗": ("xian",),
    "冼": ("xian",),
    "过": ("guo",),
    "隗": ("wei",),
    "亓": ("qi",),
    "眭": ("sui",),
    "逄": ("pang",),
    "甯": ("ning",),
    "阚": ("kan",),
    "郇": ("huan",),
    "訾": ("zi",),
    "乜": ("nie",),
    "卜": ("bu",),
    "薄": ("bo",),
    "藏": ("zang",),
    "褚": ("chu",),
    "都": ("du",),
    "莘": ("shen",),
    "相": ("xiang",),
    "省": ("xing",),
    "能": ("nai",),
}

# The longest surname in the table; lookups try this length first so that a
# compound surname wins over its first character (长孙 over a hypothetical 长).
_MAX_SURNAME_LEN = max(len(surname) for surname in SURNAME_READINGS)

# CJK ideographs (basic block, extension A, compatibility block, extensions B+)
# plus 〇. Runs of these go to pypinyin together so it can use its phrase
# dictionary (重庆 -> chong qing, 银行 -> yin hang).
_HAN_RUN = re.compile(r"[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003347f]+")


def _normalise(text: str) -> str:
    """NFKC folds full-width letters and digits (Ａ１) into ASCII and compatibility ideographs into
    their unified form, so the keys do not depend on the input method's width setting."""
    return unicodedata.normalize("NFKC", text)


def _ascii_alnum(chunk: str) -> str:
    """The ASCII letters and digits of a non-Han chunk, lowercased.

    Accented Latin letters lose their accents (é -> e) so "Café" is found by "cafe"; everything else
    (punctuation, spaces, other scripts) is dropped.
    """
    decomposed = unicodedata.normalize("NFKD", chunk)
    return "".join(ch for ch in decomposed.lower() if ch.isascii() and ch.isalnum())


@functools.lru_cache(maxsize=100_000)
def _han_syllables(run: str) -> tuple[str, ...]:
    """Toneless syllables of a run of Chinese characters, with ``v`` for ü.

    Characters pypinyin does not know (very rare ideographs) are skipped rather than copied into the
    key, because a key must only hold letters a user can type.

    The run is cut into words the way pypinyin cuts it (its phrase dictionary decides readings such as
    银行 háng), and each word's reading is cached: company names share most of their words (上海, 科技,
    有限公司), so an import of 100,000 different names converts each word once. Converting a word on
    its own gives the reading it has inside the run — the cut never splits a dictionary phrase.
    """
    # Imported here, not at module level: pypinyin's phrase dictionary costs ~55 MB per process, and
    # web workers that only read (lists, search) never need it.
    from pypinyin.seg.simpleseg import seg

    return tuple(syllable for word in seg(run) for syllable in _word_syllables(word))


@functools.lru_cache(maxsize=200_000)
def _word_syllables(word: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    return tuple(s.lower() for s in lazy_pinyin(word, style=Style.NORMAL, errors="ignore", v_to_u=False) if s)


def _surname_split(text: str) -> tuple[tuple[str, ...], str]:
    """Split a leading special-reading surname off ``text``: (its syllables, the rest of the name)."""
    for length in range(_MAX_SURNAME_LEN, 0, -1):
        reading = SURNAME_READINGS.get(text[:length]) if len(text) >= length else None
        if reading is not None:
            return reading, text[length:]
    return (), text


def _tokens(text: str) -> list[tuple[str, bool]]:
    """The text as (token, is_syllable) pairs in reading order.

    Syllables contribute their first letter to the initials; ASCII chunks contribute themselves whole.
    """
    tokens: list[tuple[str, bool]] = []
    position = 0
    for match in _HAN_RUN.finditer(text):
        ascii_part = _ascii_alnum(text[position : match.start()])
        if ascii_part:
            tokens.append((ascii_part, False))
        tokens.extend((syllable, True) for syllable in _han_syllables(match.group()))
        position = match.end()
    tail = _ascii_alnum(text[position:])
    if tail:
        tokens.append((tail, False))
    return tokens


def pinyin_keys(text: str, *, person_name: bool = False) -> tuple[str, str]:
    """Return ``(full, initials)`` pinyin search keys for ``text``.

    Rule (CUS-6): ``full`` is every syllable without tones or separators, lowercase; ``initials`` is
    the first letter of each syllable. ASCII letters and digits (full-width ones folded to ASCII)
    are kept whole and lowercased in both keys; punctuation and spaces are dropped. ü is ``v``.
    With ``person_name=True`` a leading surname from :data:`SURNAME_READINGS` (compound surnames
    first) takes its surname reading; the rest of the name is read normally.

    >>> pinyin_keys("华为技术有限公司")
    ('huaweijishuyouxiangongsi', 'hwjsyxgs')
    >>> pinyin_keys("ABC科技")
    ('abckeji', 'abckj')
    >>> pinyin_keys("单田芳", person_name=True)
    ('shantianfang', 'stf')
    """
    normalised = _normalise(text).strip()
    tokens: list[tuple[str, bool]] = []
    if person_name:
        surname, normalised = _surname_split(normalised)
        tokens.extend((syllable, True) for syllable in surname)
    tokens.extend(_tokens(normalised))
    full = "".join(token for token, _ in tokens)
    initials = "".join(token[0] if is_syllable else token for token, is_syllable in tokens)
    return full, initials


def search_keys(text: str, *, person_name: bool = False) -> str:
    """Return ``"full initials"``, one lowercase string to run substring searches against.

    Rule: both keys of :func:`pinyin_keys` separated by a space, so ``hw`` (initials) and ``huawei``
    (full) are both substrings of the key of 华为; an input with no letters, digits or Chinese
    characters (including the empty string) gives ``""``.
    """
    full, initials = pinyin_keys(text, person_name=person_name)
    if not full:
        return ""
    return f"{full} {initials}"
