"""Tests of the GB 32100 credit code validator.

python-stdnum appears here only as an independent reference implementation: the tests show
where it agrees with us (all codes whose first eight characters are digits) and why we cannot
use it directly (it rejects valid codes whose registration authority is a letter).
"""

from __future__ import annotations

import random

import pytest
from django.core.exceptions import ValidationError
from django.db import models
from stdnum.cn import uscc

from nqihub.organizations.credit_code import (
    AUTHORITIES,
    CHARSET,
    PROVINCE_CODES,
    WEIGHTS,
    CreditCodeError,
    compute_check_character,
    credit_code_validator,
    default_division_exists,
    describe_credit_code,
    is_valid_organisation_code,
    make_credit_code,
    make_organisation_code,
    normalize_credit_code,
    validate_credit_code,
)

# FACTS 1.2: valid according to python-stdnum 2.2 and the standard's worked example.
VALID_CODES = ["91110000600037341L", "91350100M000100Y43", "91110108551385082Q"]


def anywhere(_code: str) -> bool:
    """Division lookup that accepts everything: tests of structure and checksum only."""
    return True


def error_of(value: str, **kwargs) -> CreditCodeError:
    """The error raised for ``value``, with its message in English (the tests check wording;
    the Chinese messages are checked by the translation tests)."""
    from django.utils import translation

    kwargs.setdefault("division_exists", anywhere)
    with translation.override("en"), pytest.raises(CreditCodeError) as info:
        validate_credit_code(value, **kwargs)
    return info.value


# --- algorithm ------------------------------------------------------------------------------


def test_charset_and_weights_match_the_standard():
    assert len(CHARSET) == 31
    assert not set("IOSVZ") & set(CHARSET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_worked_example_of_the_standard():
    first17 = "91350100M000100Y4"
    total = sum(CHARSET.index(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    assert total == 1640 and total % 31 == 28
    assert compute_check_character(first17) == "3"


@pytest.mark.parametrize("code", VALID_CODES)
def test_known_valid_codes(code):
    assert validate_credit_code(code, division_exists=anywhere) == code
    assert uscc.is_valid(code)


def test_compute_check_character_rejects_bad_input():
    with pytest.raises(ValueError):
        compute_check_character("9135")
    with pytest.raises(ValueError):
        compute_check_character("91350100M000100I4")


# --- letter-led codes: the reason we do not use stdnum --------------------------------------


def test_agricultural_code_starting_with_n_is_accepted_but_stdnum_rejects_it():
    code = "N1" + "150203" + "M000100Y4"
    code += compute_check_character(code)
    assert validate_credit_code(code, division_exists=anywhere) == code
    assert not uscc.is_valid(code)
    # stdnum rejects on format, not on the checksum: its check digit agrees with ours.
    assert uscc.calc_check_digit(code[:17]) == code[17]
    with pytest.raises(uscc.InvalidFormat):
        uscc.validate(code)


@pytest.mark.parametrize("authority", ["Y", "A", "N"])
def test_letter_authorities_are_accepted(authority):
    code = make_credit_code(authority=authority, category="1", division="150203", body="600037341")
    assert code.startswith(authority)
    assert validate_credit_code(code, division_exists=anywhere) == code
    assert not uscc.is_valid(code)


def test_unknown_authority_and_category_are_not_rejected():
    # Positions 1-2 only need to be in the charset (the table is not from the standard text).
    code = make_credit_code(authority="W", category="Q", body="600037341")
    assert validate_credit_code(code, division_exists=anywhere) == code
    info = describe_credit_code(code)
    assert info["authority_name"] is None and info["category_name"] is None


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, count", [("", 0), ("9135", 4), ("91350100M000100Y431", 19)])
def test_length_error(value, count):
    error = error_of(value)
    assert error.code == "length"
    assert error.params == {"count": count}
    assert str(count) in error.messages[0]


@pytest.mark.parametrize("letter", list("IOSVZ"))
def test_charset_error_names_position_and_character(letter):
    value = "91350100M000100" + letter + "43"
    error = error_of(value)
    assert error.code == "charset"
    assert error.params == {"position": 16, "character": letter}
    message = error.messages[0]
    assert "16" in message and f'"{letter}"' in message
    assert "I, O, S, V or Z" in message


def test_charset_error_for_punctuation():
    error = error_of("91350100-M000100Y4")
    assert error.code == "charset"
    assert error.params == {"position": 9, "character": "-"}


def test_division_error_when_positions_3_to_8_are_not_digits():
    code = make_credit_code(division="150203", body="600037341")
    bad = code[:2] + "A5" + code[4:]
    error = error_of(bad)
    assert error.code == "division"
    assert error.params == {"division": "A50203"}


def test_division_error_when_lookup_refuses():
    code = make_credit_code(division="999999", body="600037341")
    error = error_of(code, division_exists=lambda c: c != "999999")
    assert error.code == "division"
    assert error.params == {"division": "999999"}
    assert "999999" in error.messages[0]


def test_check_character_error_does_not_reveal_the_expected_character():
    first = error_of("91350100M000100Y44")  # expected 3
    second = error_of("91110000600037341M")  # expected L
    assert first.code == second.code == "check_character"
    assert first.params is None
    assert first.messages == second.messages  # nothing code-specific in the message


def test_check_character_is_tested_before_the_division_lookup():
    calls = []

    def lookup(code):
        calls.append(code)
        return True

    assert error_of("91350100M000100Y44", division_exists=lookup).code == "check_character"
    assert calls == []
    validate_credit_code("91350100M000100Y43", division_exists=lookup)
    assert calls == ["350100"]


def test_error_is_a_django_validation_error():
    assert issubclass(CreditCodeError, ValidationError)


# --- normalisation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "９１３５０１００Ｍ０００１００Ｙ４３",  # full-width digits and letters
        "９１３５０１００ｍ０００１００ｙ４３",  # full-width lower case
        "  91350100 m000100y 43 ",
        "91350100\u3000M000100Y43",  # ideographic space
        "9135 0100\tM000\xa0100Y43\n",
        "91350100\u200bM000100Y43",  # zero-width space, copied from a web page
        "\ufeff91350100M000\u00ad100Y43\u200d",  # byte-order mark, soft hyphen, zero-width joiner
        "\u200e91350100M000100Y43\u200f",  # direction marks
    ],
)
def test_normalisation(typed):
    assert normalize_credit_code(typed) == "91350100M000100Y43"
    assert validate_credit_code(typed, division_exists=anywhere) == "91350100M000100Y43"


def test_normalisation_does_not_fold_lookalikes():
    # ① is not a typing accident; it must be reported, not silently turned into 1.
    assert normalize_credit_code("①") == "①"
    assert normalize_credit_code(None) == ""


# --- cross-check with stdnum and error-detection properties ----------------------------------


def random_first17(rng: random.Random) -> str:
    head = "".join(rng.choice(CHARSET) for _ in range(2))
    division = "".join(rng.choice("0123456789") for _ in range(6))
    body = "".join(rng.choice(CHARSET) for _ in range(9))
    return head + division + body


def test_agrees_with_stdnum_on_2000_random_codes():
    rng = random.Random(32100)
    digit_led = 0
    for _ in range(2000):
        first17 = random_first17(rng)
        good = first17 + compute_check_character(first17)
        bad = first17 + rng.choice(CHARSET.replace(good[-1], ""))
        assert validate_credit_code(good, division_exists=anywhere) == good
        assert error_of(bad).code == "check_character"
        assert uscc.calc_check_digit(first17) == good[-1]
        if good[:2].isdigit():
            digit_led += 1
            assert uscc.is_valid(good)
            assert not uscc.is_valid(bad)
        else:
            # stdnum wants digits in positions 1-8, whatever the checksum says.
            assert not uscc.is_valid(good)
    assert digit_led > 150  # about (10/31)^2 of 2000 ≈ 208: the comparison is not vacuous


def sample_codes() -> list[str]:
    rng = random.Random(11714)
    codes = list(VALID_CODES)
    for _ in range(20):
        first17 = random_first17(rng)
        codes.append(first17 + compute_check_character(first17))
    return codes


@pytest.mark.parametrize("code", sample_codes())
def test_every_single_substitution_is_rejected(code):
    # 31 is prime and every weight is non-zero mod 31, so changing one character by any
    # non-zero amount d changes the weighted sum by d*w ≢ 0 (mod 31).
    assert all(w % 31 for w in WEIGHTS)
    for position in range(18):
        for char in CHARSET:
            if char == code[position]:
                continue
            changed = code[:position] + char + code[position + 1 :]
            error = error_of(changed)
            if 2 <= position <= 7 and not char.isdigit():
                assert error.code == "division"
            else:
                assert error.code == "check_character", (changed, position)


@pytest.mark.parametrize("code", sample_codes())
def test_every_adjacent_transposition_is_rejected(code):
    # Also true: swapping neighbours a,b changes the sum by (a-b)(w_i - w_{i+1}); consecutive
    # weights differ mod 31 (and w17=28 differs from the implicit weight 1 of the check
    # character), so this is never 0 for a ≠ b.
    for position in range(17):
        a, b = code[position], code[position + 1]
        if a == b:
            continue
        swapped = code[:position] + b + a + code[position + 2 :]
        assert error_of(swapped).code in {"check_character", "division"}


# --- organisation code and generators ---------------------------------------------------------


@pytest.mark.parametrize(
    "seed, expected",
    [("60003734", "600037341"), ("55138508", "551385082"), ("M000100Y", "M000100Y4")],
)
def test_organisation_code_check_digit_matches_real_codes(seed, expected):
    # The bodies of the FACTS 1.2 credit codes are real GB 11714 codes.
    assert make_organisation_code(seed) == expected
    assert is_valid_organisation_code(expected)


def test_organisation_code_special_check_values():
    # Find seeds whose check value is 10 (→ X) and 11 (→ 0) by brute force.
    found = {make_organisation_code(str(n))[-1] for n in range(200)}
    assert {"X", "0"} <= found
    assert make_organisation_code("1") == make_organisation_code("00000001")
    with pytest.raises(ValueError):
        make_organisation_code("123456789")


def test_make_credit_code_round_trip():
    code = make_credit_code(body=make_organisation_code("42"))
    assert code[:8] == "91150203"
    assert validate_credit_code(code, division_exists=anywhere) == code
    with pytest.raises(ValueError):
        make_credit_code(body="123")


def test_describe_credit_code():
    info = describe_credit_code("９１３５０１００Ｍ０００１００Ｙ４３")
    assert info == {
        "code": "91350100M000100Y43",
        "authority": "9",
        "authority_name": "工商",
        "category": "1",
        "category_name": "企业",
        "division_code": "350100",
        "organisation_code": "M000100Y4",
        "organisation_code_valid": True,
        "check_character": "3",
    }
    assert AUTHORITIES["N"][1]["2"] == "村级集体经济组织"
    with pytest.raises(CreditCodeError):
        describe_credit_code("91350100M000100Y44")


def test_province_codes():
    assert len(PROVINCE_CODES) == 34
    assert {"15", "71", "81", "82"} <= PROVINCE_CODES


# --- default division lookup (database) -------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "code6, expected",
    [
        ("100000", True),  # central-level registration authorities
        ("150000", True),
        ("150203", True),  # 昆都仑区
        ("152100", True),  # historic 呼伦贝尔盟 (until 2001): old codes remain valid
        ("152601", True),  # historic 集宁市
        (
            "150101",
            True,
        ),  # 市辖区 summary of 呼和浩特市: not in the table, but used by registries
        ("152901", False),  # 阿拉善盟 is a league, it has no 市辖区
        ("150102", True),
        ("150199", False),
        ("159999", False),  # Inner Mongolia is loaded, so its codes are checked exactly
        ("110108", True),  # Beijing not loaded: a known province prefix is enough
        ("350100", True),
        ("160000", False),  # 16 is no province
        ("000000", False),
    ],
)
def test_default_division_exists(code6, expected):
    assert default_division_exists(code6) is expected


@pytest.mark.django_db
def test_default_lookup_is_exact_once_a_province_is_loaded():
    from nqihub.divisions.models import AdminDivision

    assert default_division_exists("110999")
    AdminDivision.objects.create(code="110000", name="北京市", level="province")
    assert not default_division_exists("110999")
    assert default_division_exists("110000")


@pytest.mark.django_db
def test_real_codes_with_summary_division_codes_after_loading_the_whole_country():
    # Hangzhou (330101) and Guangzhou (440101) city-level registrations use the 市辖区 summary
    # code; they must stay valid once those provinces are loaded exactly.
    from nqihub.divisions.loaders import load_division_rows, rows_from_stdnum

    load_division_rows(rows_from_stdnum(), source="test")
    for code in [
        "91330101673957579W",
        "91440101MA5D693M4Q",
        "91110108551385082Q",
        "91110000600037341L",
    ]:
        assert validate_credit_code(code) == code
    assert default_division_exists("110100")  # Beijing 市辖区 summary
    assert not default_division_exists("110199")
    assert not default_division_exists("330199")


@pytest.mark.django_db
def test_field_validator():
    field = models.CharField(max_length=18, validators=[credit_code_validator])
    field.run_validators("91350100M000100Y43")
    field.run_validators(make_credit_code(division="152100", body="600037341"))
    with pytest.raises(ValidationError) as info:
        field.run_validators(make_credit_code(division="159999", body="600037341"))
    assert [error.code for error in info.value.error_list] == ["division"]
