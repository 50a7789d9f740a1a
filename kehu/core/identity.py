"""Identity numbers and phone numbers: validation (CUS-2, CUS-3) and masking (SEC-2).

Every ``normalize_*`` function takes what a user typed or pasted (spaces, dashes, full-width digits,
country prefixes), returns the one canonical form that is stored, and raises
:class:`kehu.core.errors.ValidationError` naming ``field`` when the value cannot be right. An empty
(or all-whitespace) value returns ``""`` because all of these fields are optional; whether a field is
required is the caller's rule, not this module's.

The ``mask_*`` functions render stored values for users who may not see them in full (SEC-2).
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kehu.core.errors import ValidationError

# --------------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------------


def _fold(value: str) -> str:
    """Full-width digits, letters and punctuation (１３８, Ｘ, －) become ASCII; pasted text from Chinese
    input methods is often full-width."""
    return unicodedata.normalize("NFKC", value)


def digits_only(value: str) -> str:
    """Return only the digits of ``value`` (full-width digits count, as their ASCII twins).

    Rule: used to compare or index numbers regardless of how they were typed; every other character
    is dropped.
    """
    return "".join(ch for ch in _fold(value or "") if "0" <= ch <= "9")


# --------------------------------------------------------------------------------------------------
# Unified social credit code (统一社会信用代码, GB 32100-2015)
# --------------------------------------------------------------------------------------------------

# The 31 characters the standard allows: digits and capitals without I, O, Z, S, V (they look like
# 1, 0, 2, 5 and U). The index of a character is its numeric value in the checksum.
CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_CODE_VALUES = {ch: index for index, ch in enumerate(CREDIT_CODE_ALPHABET)}
_CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

_CREDIT_CODE_LENGTH = _("统一社会信用代码应为 18 位")
_CREDIT_CODE_CHARACTER = _("统一社会信用代码含有无效字符“%(char)s”")
_CREDIT_CODE_CHECK = _("统一社会信用代码校验位错误")


def credit_code_check_char(first17: str) -> str:
    """Return the GB 32100 check character for the first 17 characters of a credit code.

    Rule: sum of value x weight over the 17 characters; check value = 31 - (sum mod 31), where 31
    means 0; the check character is the alphabet's character with that value.
    """
    if len(first17) != 17:
        raise ValueError("a credit code body has 17 characters")
    total = sum(_CREDIT_CODE_VALUES[ch] * w for ch, w in zip(first17, _CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str, *, field: str = "credit_code") -> str:
    """Return the canonical unified social credit code, or raise ``ValidationError`` naming ``field``.

    Rule (CUS-2): whitespace is removed, full-width characters become ASCII and letters are
    upper-cased; the result must have 18 characters from ``CREDIT_CODE_ALPHABET`` and a correct
    GB 32100 check character. Length, character and check errors have distinct messages. The
    first two positions (registration authority and organisation type) may be letters, e.g.
    ``Y1`` or ``N2``; they are only checked against the alphabet. Empty input returns ``""``.
    """
    code = "".join(_fold(value or "").split()).upper()
    if not code:
        return ""
    if len(code) != 18:
        raise ValidationError(_CREDIT_CODE_LENGTH, field=field)
    for ch in code:
        if ch not in _CREDIT_CODE_VALUES:
            raise ValidationError(_CREDIT_CODE_CHARACTER, field=field, params={"char": ch})
    if credit_code_check_char(code[:17]) != code[17]:
        raise ValidationError(_CREDIT_CODE_CHECK, field=field)
    return code


# --------------------------------------------------------------------------------------------------
# PRC resident identity card number (居民身份证号码, GB 11643-1999)
# --------------------------------------------------------------------------------------------------

# First two digits: province-level division. 71 Taiwan, 81 Hong Kong, 82 Macao (residence permits),
# 83 Taiwan residents' residence permits. Only the province is checked: county codes are renamed
# and retired over the years while old cards stay valid, so a current 6-digit list would refuse
# real people.
PROVINCE_CODES = frozenset(
    [
        *range(11, 16),
        *range(21, 24),
        *range(31, 38),
        *range(41, 47),
        *range(50, 55),
        *range(61, 66),
        71,
        81,
        82,
        83,
    ]
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11), ISO 7064 MOD 11-2
_EARLIEST_BIRTH_YEAR = 1900

_ID_LENGTH = _("身份证号码应为 18 位（或 15 位旧号码）")
_ID_CHARACTER = _("身份证号码只能包含数字，最后一位可以是 X")
_ID_REGION = _("身份证号码的地区码无效")
_ID_BIRTH_DATE = _("身份证号码中的出生日期无效")
_ID_CHECK = _("身份证号码校验位错误")


def id_check_char(first17: str) -> str:
    """Return the ISO 7064 MOD 11-2 check character (``0``-``9`` or ``X``) for 17 ID digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("an ID number body has 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def _parse_date(yyyymmdd: str) -> datetime.date | None:
    try:
        return datetime.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return None


def _id_problem(value: str, today: datetime.date | None) -> tuple[str, Promise | None]:
    """Compact/upgrade an ID number and find what is wrong with it: ``(number, message or None)``.

    Kept free of exceptions so the read-only helpers (birth date, gender) can share it without
    building translated errors.
    """
    number = "".join(_fold(value or "").split()).upper()
    if len(number) == 15:
        # First-generation cards (1984-2004): YYMMDD birth date in the 20th century, no check digit.
        if not number.isdigit():
            return number, _ID_CHARACTER
        body = number[:6] + "19" + number[6:]
        number = body + id_check_char(body)
    if len(number) != 18:
        return number, _ID_LENGTH
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        return number, _ID_CHARACTER
    if int(number[:2]) not in PROVINCE_CODES:
        return number, _ID_REGION
    birth = _parse_date(number[6:14])
    if birth is None or birth.year < _EARLIEST_BIRTH_YEAR or birth > (today or datetime.date.today()):
        return number, _ID_BIRTH_DATE
    if id_check_char(number[:17]) != number[17]:
        return number, _ID_CHECK
    return number, None


def normalize_id_number(value: str, *, field: str = "id_number", today: datetime.date | None = None) -> str:
    """Return the canonical 18-character resident ID number, or raise ``ValidationError`` naming ``field``.

    Rule (CUS-3): whitespace is removed, full-width characters become ASCII, a final ``x`` becomes
    ``X``. A 15-digit first-generation number is upgraded to 18 (``19`` inserted before the year,
    check digit appended). The number must then be 17 digits plus a digit or ``X``; its first two
    digits a province-level code (:data:`PROVINCE_CODES`; the county part is not checked because
    retired county codes remain on valid cards); its birth date (positions 7-14) a real date from
    1900 up to ``today`` (default: the current date); and its last character the ISO 7064 MOD 11-2
    check. Each failure has its own message. Empty input returns ``""``.
    """
    if not (value or "").strip():
        return ""
    number, problem = _id_problem(value, today)
    if problem is not None:
        raise ValidationError(problem, field=field)
    return number


def birth_date_from_id(value: str) -> datetime.date | None:
    """Return the birth date encoded in a resident ID number, or ``None`` if the number is not valid.

    Rule: only a number that passes :func:`normalize_id_number` yields a date, so a typo cannot
    silently produce a wrong birthday. 15-digit numbers are read as 19YY.
    """
    number, problem = _id_problem(value, None)
    if problem is not None or not number:
        return None
    return _parse_date(number[6:14])


def gender_from_id(value: str) -> str | None:
    """Return ``"male"`` or ``"female"`` from a valid resident ID number, else ``None``.

    Rule: the 17th character (sequence code) is odd for men and even for women (GB 11643).
    """
    number, problem = _id_problem(value, None)
    if problem is not None or not number:
        return None
    return "male" if int(number[16]) % 2 else "female"


# --------------------------------------------------------------------------------------------------
# Phone numbers
# --------------------------------------------------------------------------------------------------

# Separators people type inside phone numbers; they carry no meaning for a mobile number.
_MOBILE_SEPARATORS = re.compile(r"[\s\-().]")
# Optional mainland country code (+86, 0086, 86), then the 11-digit national number.
_MOBILE = re.compile(r"(?:\+86|0086|86)?(1[3-9]\d{9})")
# Extension markers: 转 ("transfer"), 分机 ("extension"), ext/ext., x and # between digits.
_EXTENSION_MARK = re.compile(r"\s*(?:转|分机|ext\.?|x|#)\s*", re.IGNORECASE)
# An area code in parentheses, "(010) 8888 6666": the closing parenthesis separates area and number.
_AREA_IN_PARENS = re.compile(r"^\((\+?\d+)\)\s*")
_PHONE_ALLOWED = re.compile(r"\+?[\d\s\-./]+")
_PHONE_MIN_DIGITS = 7
_PHONE_MAX_DIGITS = 20

_MOBILE_INVALID = _("手机号码格式不正确，应为 11 位中国大陆手机号码")
_PHONE_CHARACTER = _("电话号码只能包含数字、开头的“+”和分隔用的“-”")
_PHONE_LENGTH = _("电话号码应为 7 到 20 位数字")


def _mobile_or_none(value: str) -> str | None:
    compact = _MOBILE_SEPARATORS.sub("", _fold(value))
    match = _MOBILE.fullmatch(compact)
    return match.group(1) if match else None


def normalize_mobile(value: str, *, field: str = "mobile") -> str:
    """Return the 11-digit mainland China mobile number, or raise ``ValidationError`` naming ``field``.

    Rule: spaces, dashes, dots and parentheses are ignored and full-width digits count; a mainland
    country code (``+86``, ``0086`` or ``86``) in front is dropped. What remains must be
    ``1[3-9]`` followed by 9 digits. Other countries' numbers are refused here (store them with
    :func:`normalize_phone`). Empty input returns ``""``.
    """
    if not (value or "").strip():
        return ""
    mobile = _mobile_or_none(value)
    if mobile is None:
        raise ValidationError(_MOBILE_INVALID, field=field)
    return mobile


def normalize_phone(value: str, *, field: str = "phone") -> str:
    """Return a lenient canonical landline or mobile number, or raise ``ValidationError`` naming ``field``.

    Rule: a number that is a mainland mobile (see :func:`normalize_mobile`) is stored as its 11
    digits. Anything else keeps its digits, a leading ``+`` and ``-`` between groups (area code,
    number, extension: ``0755-12345678-801``). An area code in parentheses becomes a ``-`` group
    (``(010) 88886666`` -> ``010-88886666``); extension words 转/分机/ext/x/# become ``-``; spaces,
    dots and slashes are dropped. Letters or other symbols are refused, and so is a total of
    fewer than 7 or more than 20 digits. Empty input returns ``""``.
    """
    text = _fold(value or "").strip()
    if not text:
        return ""
    mobile = _mobile_or_none(text)
    if mobile is not None:
        return mobile
    text = _AREA_IN_PARENS.sub(r"\1-", text)
    text = _EXTENSION_MARK.sub("-", text)
    if not _PHONE_ALLOWED.fullmatch(text):
        raise ValidationError(_PHONE_CHARACTER, field=field)
    plus = "+" if text.startswith("+") else ""
    groups = [digits_only(group) for group in text.split("-")]
    digits = "".join(groups)
    if not _PHONE_MIN_DIGITS <= len(digits) <= _PHONE_MAX_DIGITS:
        raise ValidationError(_PHONE_LENGTH, field=field)
    return plus + "-".join(group for group in groups if group)


# --------------------------------------------------------------------------------------------------
# Masking (SEC-2)
# --------------------------------------------------------------------------------------------------

_MASK = "*"


def _mask_all_but_last(value: str, keep: int) -> str:
    shown = min(keep, max(len(value) - 1, 0))  # never show everything: at least one character hidden
    return _MASK * (len(value) - shown) + value[len(value) - shown :]


def mask_mobile(value: str) -> str:
    """Mask a phone number for display: ``13800138000`` -> ``138****8000``.

    Rule (SEC-2): 11 or more characters keep the first 3 and the last 4 (the familiar Chinese
    form); 7 to 10 characters keep only the last 4, because first-3-plus-last-4 would show all of a
    7-character number and all but one to three characters of 8 to 10; shorter values keep only
    the last 2. At least one character is always hidden. Empty input returns ``""``.
    """
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) >= 11:
        return text[:3] + _MASK * (len(text) - 7) + text[-4:]
    if len(text) >= 7:
        return _mask_all_but_last(text, 4)
    return _mask_all_but_last(text, 2)


def mask_id_number(value: str) -> str:
    """Mask an identity number for display: ``110105194912310021`` -> ``110105********0021``.

    Rule (SEC-2): keep the first 6 (region) and last 4 characters and replace the rest (the birth
    date and most of the sequence) with ``*``. Values shorter than 11 characters are masked like
    :func:`mask_mobile` so that something is always hidden. Empty input returns ``""``.
    """
    text = (value or "").strip()
    if not text:
        return ""
    if len(text) < 11:
        return mask_mobile(text)
    return text[:6] + _MASK * (len(text) - 10) + text[-4:]


def mask_email(value: str) -> str:
    """Mask an e-mail address for display: ``zhangsan@example.com`` -> ``z******n@example.com``.

    Rule (SEC-2): the domain stays visible; of the local part only the first and last character
    stay, the rest becomes one ``*`` each. A local part of 1 or 2 characters becomes a single ``*``
    (showing one of two characters would reveal half of it). Without an ``@`` the whole value is
    masked like a local part. Empty input returns ``""``.
    """
    text = (value or "").strip()
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at:
        local, domain = text, ""
    masked = _MASK if len(local) <= 2 else local[0] + _MASK * (len(local) - 2) + local[-1]
    return masked + at + domain
