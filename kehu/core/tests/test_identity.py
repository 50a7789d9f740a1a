"""Identity numbers and phones: CUS-2/CUS-3 validation and SEC-2 masking (no database)."""

from __future__ import annotations

import datetime

import pytest
from stdnum.cn import ric as stdnum_ric
from stdnum.cn import uscc as stdnum_uscc

from kehu.core.errors import ValidationError
from kehu.core.identity import (
    CREDIT_CODE_ALPHABET,
    birth_date_from_id,
    credit_code_check_char,
    digits_only,
    gender_from_id,
    id_check_char,
    mask_email,
    mask_id_number,
    mask_mobile,
    normalize_credit_code,
    normalize_id_number,
    normalize_mobile,
    normalize_phone,
)

try:
    from hypothesis import given
    from hypothesis import strategies as st
except ImportError:  # hypothesis is a test-only dependency; the example tests below still run
    given = None  # type: ignore[assignment]

# A published example credit code; its check character was verified against both this module and
# python-stdnum before being relied on here.
KNOWN_CREDIT_CODE = "91350100M000100Y43"
# The commonly cited example ID number (Beijing Chaoyang, born 1949-12-31, female); verified likewise.
KNOWN_ID_NUMBER = "11010519491231002X"
TODAY = datetime.date(2025, 6, 1)


def message_of(excinfo: pytest.ExceptionInfo[ValidationError]) -> str:
    """The Chinese message (the msgid), independent of the active language and catalogue."""
    return excinfo.value.text("zh-hans")


def valid_credit_code(first17: str) -> str:
    """A valid code from a 17-character body, check character computed by python-stdnum as an oracle."""
    return first17 + stdnum_uscc.calc_check_digit(first17)


def valid_id_number(first17: str) -> str:
    """A valid ID number from 17 digits, check digit by python-stdnum (it wants a placeholder last digit)."""
    return first17 + stdnum_ric.calc_check_digit(first17 + "0")


# --------------------------------------------------------------------------------------------------
# Credit code
# --------------------------------------------------------------------------------------------------


def test_the_published_example_credit_code_is_valid_for_us_and_for_stdnum() -> None:
    assert stdnum_uscc.is_valid(KNOWN_CREDIT_CODE)
    assert normalize_credit_code(KNOWN_CREDIT_CODE) == KNOWN_CREDIT_CODE


@pytest.mark.parametrize(
    "first17",
    ["91110000100000000", "91440300MA5DABCDE", "12100000400000000", "51110000500000000", "93310115MA1K3XY0Q"],
)
def test_our_check_character_agrees_with_stdnum(first17: str) -> None:
    assert credit_code_check_char(first17) == stdnum_uscc.calc_check_digit(first17)


def test_a_check_value_of_31_is_written_as_zero() -> None:
    # Search a body whose weighted sum is a multiple of 31: 31 - 0 = 31 must become "0".
    body = next(
        f"9111000010000{n:04d}"
        for n in range(10000)
        if credit_code_check_char(f"9111000010000{n:04d}") == "0"
    )
    assert stdnum_uscc.calc_check_digit(body) == "0"
    assert normalize_credit_code(body + "0") == body + "0"


def test_credit_code_is_upper_cased_and_freed_of_spaces_and_full_width_forms() -> None:
    assert normalize_credit_code(" 91350100m000100y43 ") == KNOWN_CREDIT_CODE
    assert normalize_credit_code("9135 0100 M000 100Y 43") == KNOWN_CREDIT_CODE
    assert normalize_credit_code("９１３５０１００Ｍ０００１００Ｙ４３") == KNOWN_CREDIT_CODE


def test_empty_credit_code_is_allowed_because_the_field_is_optional() -> None:
    assert normalize_credit_code("") == ""
    assert normalize_credit_code("   ") == ""


def test_credit_code_with_wrong_check_digit_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_credit_code("91350100M000100Y44", field="supplier_credit_code")
    assert excinfo.value.field == "supplier_credit_code"
    assert message_of(excinfo) == "统一社会信用代码校验位错误"


def test_credit_code_errors_name_credit_code_by_default() -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_credit_code("91350100M000100Y44")
    assert excinfo.value.field == "credit_code"
    assert excinfo.value.status == 422


@pytest.mark.parametrize("value", ["91350100M000100Y4", "91350100M000100Y431", "9"])
def test_credit_code_of_wrong_length_is_refused_with_a_length_message(value: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_credit_code(value)
    assert message_of(excinfo) == "统一社会信用代码应为 18 位"


@pytest.mark.parametrize("bad", ["I", "O", "Z", "S", "V", "-", "中"])
def test_credit_code_with_a_character_outside_the_gb32100_alphabet_is_refused_naming_it(bad: str) -> None:
    value = KNOWN_CREDIT_CODE[:8] + bad + KNOWN_CREDIT_CODE[9:]
    with pytest.raises(ValidationError) as excinfo:
        normalize_credit_code(value)
    assert message_of(excinfo) == f"统一社会信用代码含有无效字符“{bad}”"


def test_the_three_credit_code_messages_are_distinct() -> None:
    messages = set()
    for value in ["123", "91350100M000100O43", "91350100M000100Y44"]:
        with pytest.raises(ValidationError) as excinfo:
            normalize_credit_code(value)
        messages.add(message_of(excinfo))
    assert len(messages) == 3


def test_credit_code_may_start_with_letters_as_gb32100_allows() -> None:
    # Registration authority "Y" (other) and "N" (agriculture) are letters; stdnum refuses them.
    for body in ["Y1110000MA0000000", "N2440300MA5D00000"]:
        code = body + credit_code_check_char(body)
        assert normalize_credit_code(code) == code


def test_changing_any_single_credit_code_character_breaks_the_check() -> None:
    # The modulus 31 is prime and no weight is a multiple of it, so every single substitution is caught.
    for position in range(18):
        for replacement in CREDIT_CODE_ALPHABET:
            if replacement == KNOWN_CREDIT_CODE[position]:
                continue
            changed = KNOWN_CREDIT_CODE[:position] + replacement + KNOWN_CREDIT_CODE[position + 1 :]
            with pytest.raises(ValidationError):
                normalize_credit_code(changed)


# --------------------------------------------------------------------------------------------------
# Resident ID number
# --------------------------------------------------------------------------------------------------


def test_the_commonly_cited_id_number_is_valid_for_us_and_for_stdnum() -> None:
    assert stdnum_ric.is_valid(KNOWN_ID_NUMBER)
    assert normalize_id_number(KNOWN_ID_NUMBER) == KNOWN_ID_NUMBER


def test_our_id_check_character_agrees_with_stdnum() -> None:
    for first17 in ["11010519491231002", "44030419900101123", "31011520001231456", "65010219850615987"]:
        assert id_check_char(first17) == stdnum_ric.calc_check_digit(first17 + "0")


def test_id_number_with_a_lowercase_x_spaces_or_full_width_digits_is_normalised() -> None:
    assert normalize_id_number("11010519491231002x") == KNOWN_ID_NUMBER
    assert normalize_id_number(" 110105 19491231 002X ") == KNOWN_ID_NUMBER
    assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == KNOWN_ID_NUMBER


def test_empty_id_number_is_allowed_because_the_field_is_optional() -> None:
    assert normalize_id_number("") == ""
    assert normalize_id_number("  ") == ""


def test_a_15_digit_old_id_number_is_upgraded_to_18_digits() -> None:
    assert normalize_id_number("110105491231002") == KNOWN_ID_NUMBER


def test_id_number_with_wrong_check_digit_is_refused_naming_the_field() -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_id_number("110105194912310021", field="legal_person_id")
    assert excinfo.value.field == "legal_person_id"
    assert message_of(excinfo) == "身份证号码校验位错误"


@pytest.mark.parametrize("value", ["1101051949123100", "1101051949123100211", "12345"])
def test_id_number_of_wrong_length_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_id_number(value)
    assert excinfo.value.field == "id_number"
    assert message_of(excinfo) == "身份证号码应为 18 位（或 15 位旧号码）"


@pytest.mark.parametrize(
    "value", ["11010519491231002Y", "1101051949123100X2", "11010519491231A02X", "11010549123100X"]
)
def test_id_number_with_letters_other_than_a_final_x_is_refused(value: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_id_number(value)
    assert message_of(excinfo) == "身份证号码只能包含数字，最后一位可以是 X"


@pytest.mark.parametrize(
    "province", ["00", "10", "16", "20", "24", "30", "38", "40", "47", "55", "60", "66", "72", "84", "99"]
)
def test_id_number_outside_any_province_is_refused(province: str) -> None:
    value = valid_id_number(province + "010519491231002")
    with pytest.raises(ValidationError) as excinfo:
        normalize_id_number(value)
    assert message_of(excinfo) == "身份证号码的地区码无效"


@pytest.mark.parametrize(
    "province",
    ["11", "15", "21", "23", "31", "37", "41", "46", "50", "54", "61", "65", "71", "81", "82", "83"],
)
def test_id_number_from_every_province_level_range_is_accepted(province: str) -> None:
    value = valid_id_number(province + "010519800101123")
    assert normalize_id_number(value) == value


def test_id_number_with_a_retired_county_code_is_still_accepted() -> None:
    # 110103 (the former Chongwen district of Beijing) was merged away in 2010; its cards remain valid.
    value = valid_id_number("11010319750808001")
    assert normalize_id_number(value) == value


@pytest.mark.parametrize("birth", ["19491331", "19490230", "18991231", "20250602", "20990101", "19490000"])
def test_id_number_with_an_impossible_or_future_birth_date_is_refused(birth: str) -> None:
    value = valid_id_number("110105" + birth + "002")
    with pytest.raises(ValidationError) as excinfo:
        normalize_id_number(value, today=TODAY)
    assert message_of(excinfo) == "身份证号码中的出生日期无效"


def test_id_number_born_today_or_on_a_leap_day_is_accepted() -> None:
    for birth in ["20250601", "20000229", "19000101"]:
        value = valid_id_number("110105" + birth + "002")
        assert normalize_id_number(value, today=TODAY) == value


def test_changing_any_single_id_digit_is_refused() -> None:
    # MOD 11-2: 11 is prime and no weight is a multiple of it, so every single substitution fails
    # (the region or date check may catch it first).
    for position in range(18):
        for replacement in "0123456789X":
            if replacement == KNOWN_ID_NUMBER[position]:
                continue
            changed = KNOWN_ID_NUMBER[:position] + replacement + KNOWN_ID_NUMBER[position + 1 :]
            with pytest.raises(ValidationError):
                normalize_id_number(changed)


def test_birth_date_and_gender_are_read_from_a_valid_id_number() -> None:
    assert birth_date_from_id(KNOWN_ID_NUMBER) == datetime.date(1949, 12, 31)
    assert gender_from_id(KNOWN_ID_NUMBER) == "female"
    male = valid_id_number("44030419900101123")
    assert birth_date_from_id(male) == datetime.date(1990, 1, 1)
    assert gender_from_id(male) == "male"


def test_birth_date_and_gender_are_read_from_a_15_digit_old_id_number() -> None:
    assert birth_date_from_id("110105491231002") == datetime.date(1949, 12, 31)
    assert gender_from_id("110105491231002") == "female"


@pytest.mark.parametrize("value", ["", "110105194912310021", "abc", "11010519491331002X"])
def test_birth_date_and_gender_of_an_invalid_id_number_are_unknown(value: str) -> None:
    assert birth_date_from_id(value) is None
    assert gender_from_id(value) is None


# --------------------------------------------------------------------------------------------------
# Mobile and landline numbers
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 13800138000",
        "+86-138-0013-8000",
        "(+86) 138 0013 8000",
        "0086 13800138000",
        "8613800138000",
        "１３８００１３８０００",
        " 13800138000\t",
    ],
)
def test_a_mobile_number_typed_in_any_common_form_becomes_11_digits(typed: str) -> None:
    assert normalize_mobile(typed) == "13800138000"


@pytest.mark.parametrize("prefix", ["13", "14", "15", "16", "17", "18", "19"])
def test_every_mobile_prefix_from_13_to_19_is_accepted(prefix: str) -> None:
    assert normalize_mobile(prefix + "912345678") == prefix + "912345678"


@pytest.mark.parametrize(
    "typed",
    [
        "12800138000",
        "1380013800",
        "138001380000",
        "23800138000",
        "+852 61234567",
        "+1 13800138000",
        "138o0138000",
        "010-88886666",
    ],
)
def test_a_value_that_is_not_a_mainland_mobile_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_mobile(typed, field="contact_mobile")
    assert excinfo.value.field == "contact_mobile"
    assert message_of(excinfo) == "手机号码格式不正确，应为 11 位中国大陆手机号码"


def test_empty_mobile_is_allowed_because_the_field_is_optional() -> None:
    assert normalize_mobile("") == ""
    assert normalize_mobile(" ") == ""


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("010-88886666", "010-88886666"),
        ("0755-12345678-801", "0755-12345678-801"),
        ("0755-12345678转801", "0755-12345678-801"),
        ("0755-12345678 ext. 801", "0755-12345678-801"),
        ("(010) 8888 6666", "010-88886666"),
        ("（010）88886666", "010-88886666"),
        ("０１０－８８８８６６６６", "010-88886666"),
        ("010 8888 6666", "01088886666"),
        ("88886666", "88886666"),
        ("+852 2123 4567", "+85221234567"),
        ("+86-10-88886666", "+86-10-88886666"),
        ("400-800-8888", "400-800-8888"),
        ("+86 138 0013 8000", "13800138000"),
        ("138-0013-8000", "13800138000"),
    ],
)
def test_a_phone_number_keeps_digits_a_leading_plus_and_dashes_between_groups(
    typed: str, stored: str
) -> None:
    assert normalize_phone(typed) == stored


@pytest.mark.parametrize("typed", ["123456", "1-2-3", "123456789012345678901", "+123"])
def test_a_phone_number_with_fewer_than_7_or_more_than_20_digits_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(typed, field="fax")
    assert excinfo.value.field == "fax"
    assert message_of(excinfo) == "电话号码应为 7 到 20 位数字"


@pytest.mark.parametrize("typed", ["010-8888abcd", "call 88886666", "88886666+1", "010*88886666"])
def test_a_phone_number_with_letters_or_symbols_is_refused_naming_the_field(typed: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        normalize_phone(typed)
    assert excinfo.value.field == "phone"
    assert message_of(excinfo) == "电话号码只能包含数字、开头的“+”和分隔用的“-”"


def test_empty_phone_is_allowed_because_the_field_is_optional() -> None:
    assert normalize_phone("") == ""


def test_digits_only_keeps_half_and_full_width_digits() -> None:
    assert digits_only("+86 (138) 0013-8000") == "8613800138000"
    assert digits_only("１３８ab") == "138"
    assert digits_only("") == ""


# --------------------------------------------------------------------------------------------------
# Masking (SEC-2)
# --------------------------------------------------------------------------------------------------


def test_a_mobile_number_is_masked_to_the_first_3_and_last_4_digits() -> None:
    assert mask_mobile("13800138000") == "138****8000"


def test_a_long_phone_number_keeps_its_first_3_and_last_4_characters() -> None:
    assert mask_mobile("0755-12345678") == "075******5678"


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("8888666", "***8666"),
        ("88886666", "****6666"),
        ("0108888666", "******8666"),
        ("123456", "****56"),
        ("12", "*2"),
        ("1", "*"),
    ],
)
def test_a_short_phone_number_always_hides_its_beginning(value: str, masked: str) -> None:
    assert mask_mobile(value) == masked


def test_masking_an_empty_value_gives_an_empty_string() -> None:
    assert mask_mobile("") == ""
    assert mask_id_number("") == ""
    assert mask_email("") == ""


def test_an_id_number_is_masked_to_region_and_last_4() -> None:
    assert mask_id_number("110101199001011234") == "110101********1234"
    assert mask_id_number(KNOWN_ID_NUMBER) == "110105********002X"
    assert mask_id_number("110105491231002") == "110105*****1002"


def test_a_short_id_value_is_still_partly_hidden() -> None:
    assert mask_id_number("1234567890") == "******7890"


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhangsan@example.com", "z******n@example.com"),
        ("abc@example.com", "a*c@example.com"),
        ("ab@example.com", "*@example.com"),
        ("a@example.com", "*@example.com"),
        ('we"ird@x@example.com', "w******x@example.com"),
        ("no-at-sign", "n********n"),
    ],
)
def test_an_email_keeps_its_domain_and_the_ends_of_its_local_part(email: str, masked: str) -> None:
    assert mask_email(email) == masked


# --------------------------------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------------------------------

if given is not None:
    credit_bodies = st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=17, max_size=17)
    birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2024, 12, 31))
    provinces = st.sampled_from(["11", "12", "31", "44", "50", "65", "71", "81", "82", "83"])

    @given(credit_bodies)
    def test_any_generated_credit_code_round_trips(body: str) -> None:
        code = body + credit_code_check_char(body)
        assert normalize_credit_code(code) == code
        assert normalize_credit_code(" " + code.lower() + " ") == code
        if body[:8].isdigit():  # stdnum only knows codes with digits in the first 8 positions
            assert stdnum_uscc.is_valid(code)

    @given(credit_bodies, st.integers(0, 17), st.integers(1, 30))
    def test_any_single_substitution_in_a_credit_code_is_refused(
        body: str, position: int, shift: int
    ) -> None:
        code = body + credit_code_check_char(body)
        replacement = CREDIT_CODE_ALPHABET[(CREDIT_CODE_ALPHABET.index(code[position]) + shift) % 31]
        changed = code[:position] + replacement + code[position + 1 :]
        with pytest.raises(ValidationError):
            normalize_credit_code(changed)

    @given(
        provinces,
        st.text(alphabet="0123456789", min_size=4, max_size=4),
        birth_dates,
        st.text(alphabet="0123456789", min_size=3, max_size=3),
    )
    def test_any_well_formed_id_number_round_trips_and_yields_its_birth_date(
        province: str, county: str, birth: datetime.date, sequence: str
    ) -> None:
        number = valid_id_number(province + county + birth.strftime("%Y%m%d") + sequence)
        assert normalize_id_number(number) == number
        assert birth_date_from_id(number) == birth
        assert gender_from_id(number) == ("male" if int(sequence[-1]) % 2 else "female")

    @given(st.text(alphabet="0123456789", min_size=11, max_size=20))
    def test_masking_a_long_number_never_reveals_its_middle(number: str) -> None:
        masked = mask_mobile(number)
        assert len(masked) == len(number)
        assert masked[3:-4] == "*" * (len(number) - 7)
        assert masked[:3] == number[:3] and masked[-4:] == number[-4:]

    @given(st.text(alphabet="0123456789", min_size=1, max_size=10))
    def test_masking_a_short_number_always_hides_at_least_its_first_character(number: str) -> None:
        masked = mask_mobile(number)
        assert len(masked) == len(number)
        assert masked[0] == "*"

    @given(st.text(alphabet="0123456789X", min_size=11, max_size=18))
    def test_masking_an_id_number_never_reveals_the_birth_date_part(number: str) -> None:
        masked = mask_id_number(number)
        assert masked[:6] == number[:6] and masked[-4:] == number[-4:]
        assert set(masked[6:-4]) <= {"*"}
