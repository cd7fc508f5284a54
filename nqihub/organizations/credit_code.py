"""Unified social credit code (统一社会信用代码, GB 32100-2015).

Why our own validator instead of ``stdnum.cn.uscc``: python-stdnum requires the first eight
characters to be digits, so it rejects perfectly valid codes whose registration authority is
a letter, e.g. rural collective economic organisations (``N…``, 农业部门登记) or ``Y…``
(其他). The platform must accept those. We keep stdnum only as a cross-check in the tests.

Structure (18 characters, FACTS 1.1):

====== =====================================================================
1      registration authority (登记管理部门代码)
2      organisation category (机构类别代码)
3–8    division code of the registration authority (GB/T 2260, six digits)
9–17   subject identifier = the old GB 11714 organisation code (9 characters)
18     check character
====== =====================================================================

Checks are applied in this order, and the first failure is raised as a
:class:`CreditCodeError` with a distinct ``code``:

1. ``length`` – not 18 characters after normalisation;
2. ``charset`` – a character outside the 31-character alphabet (I, O, S, V, Z are never used);
3. ``division`` – positions 3–8 are not six digits;
4. ``check_character`` – the 18th character does not match;
5. ``division`` – the six digits are not a known division (see :func:`default_division_exists`).

The division *lookup* comes after the check character on purpose: a wrong check character means
there is a typo somewhere, and then "unknown division" would only be a symptom of it. Testing
the checksum first also saves a database query for every mistyped code.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = [
    "AUTHORITIES",
    "CHARSET",
    "MUNICIPALITY_CODES",
    "PROVINCE_CODES",
    "WEIGHTS",
    "CreditCodeError",
    "compute_check_character",
    "compute_organisation_check_character",
    "credit_code_validator",
    "default_division_exists",
    "describe_credit_code",
    "is_valid_organisation_code",
    "make_credit_code",
    "make_organisation_code",
    "normalize_credit_code",
    "validate_credit_code",
]

#: The 31 characters of GB 32100, in value order (0–30). No I, O, S, V or Z.
CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUES = {char: value for value, char in enumerate(CHARSET)}

#: Weight of position i (1-based, i = 1..17) is 3^(i-1) mod 31.
WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))

#: Code used by central-level registration authorities (国家级登记管理机关) in positions 3–8.
CENTRAL_DIVISION_CODE = "100000"

#: The 34 province-level division prefixes of GB/T 2260 (incl. 71 台湾, 81 香港, 82 澳门).
PROVINCE_CODES: frozenset[str] = frozenset(
    {
        "11", "12", "13", "14", "15",
        "21", "22", "23",
        "31", "32", "33", "34", "35", "36", "37",
        "41", "42", "43", "44", "45", "46",
        "50", "51", "52", "53", "54",
        "61", "62", "63", "64", "65",
        "71", "81", "82",
    }
)  # fmt: skip

#: Municipalities directly under the central government (直辖市): 北京, 天津, 上海, 重庆.
MUNICIPALITY_CODES: frozenset[str] = frozenset({"11", "12", "31", "50"})

#: Registration authority (position 1) → (name, {category (position 2) → name}).
#: Only 多源印证 (npm ``uscc-utils``, not the standard text, FACTS 1.1): used for display,
#: never to reject a code. Chinese names are reference data, like division names.
AUTHORITIES: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "编办直管群团", "9": "其他"}),
    "2": ("外交", {}),
    "3": (
        "司法行政",
        {
            "1": "律所",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {}),
    "7": ("宗教", {}),
    "8": ("工会", {}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {}),
    "N": (
        "农业",
        {
            "1": "组级集体经济组织",
            "2": "村级集体经济组织",
            "3": "乡镇级集体经济组织",
            "9": "其他",
        },
    ),
    "Y": ("其他", {}),
}

# GB 11714 organisation code: 8 body characters (digits or A–Z valued 10–35) + check character.
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class CreditCodeError(ValidationError):
    """A malformed credit code. ``code`` is one of
    ``length``, ``charset``, ``division``, ``check_character``.

    A ValidationError subclass so that model fields, forms and DRF serializers report it
    like any other validation error, while callers can still tell the kinds apart.
    """


def _to_half_width(value: str) -> str:
    """Map full-width ASCII (U+FF01–U+FF5E) and the ideographic space to ASCII.

    Chinese input methods often produce ``９１３５…`` or ``Ｍ``. We do not use NFKC because it
    also folds things that are certainly not typing accidents (①, ², ligatures).
    """
    out = []
    for char in value:
        point = ord(char)
        if 0xFF01 <= point <= 0xFF5E:
            out.append(chr(point - 0xFEE0))
        elif point == 0x3000:
            out.append(" ")
        else:
            out.append(char)
    return "".join(out)


def normalize_credit_code(value: object) -> str:
    """Return ``value`` as it should be stored: half-width, upper-case, no whitespace.

    Whitespace anywhere is dropped because codes are commonly printed and copied in groups
    (``91350100 M000100Y 43``), and so are invisible format characters (a zero-width space
    copied from a web page). ``None`` becomes the empty string.
    """
    text = "" if value is None else str(value)
    text = _to_half_width(text)
    # Invisible format characters come along when a code is copied from a web page or a
    # document (zero-width space, zero-width joiner, byte-order mark, soft hyphen, direction
    # marks): they are no part of the code, and counted they turned 18 characters into 19.
    text = "".join(char for char in text if unicodedata.category(char) != "Cf")
    return "".join(text.split()).upper()


def compute_check_character(first17: str) -> str:
    """The 18th character for the first 17 (C18 = (31 - Σ Ci·Wi mod 31) mod 31)."""
    if len(first17) != 17:
        raise ValueError("compute_check_character needs exactly 17 characters")
    try:
        total = sum(_VALUES[char] * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    except KeyError as exc:
        raise ValueError(f"character {exc.args[0]!r} is not in the credit code charset") from None
    return CHARSET[(31 - total % 31) % 31]


def default_division_exists(code6: str) -> bool:
    """Whether ``code6`` (positions 3–8) is an acceptable registration-authority division.

    Accepted when any of these holds:

    * it is ``100000`` – central-level registration authorities register with it;
    * an :class:`~nqihub.divisions.models.AdminDivision` row with that code exists, current
      **or historic** – codes issued before a division was abolished stay valid;
    * it is the 市辖区 summary code ``xxyy01`` of a prefecture-level *city* ``xxyy00`` (name
      ending in 市) that exists, or the 市辖区/县 summary ``xx0100``/``xx0200`` of a
      municipality (11, 12, 31, 50). Summary codes are no divisions and are not in the table,
      but city-level registration authorities do register with them: real codes such as
      ``91330101673957579W`` (Hangzhou) and ``91440101MA5D693M4Q`` (Guangzhou) exist;
    * no division of that province (first two digits) is loaded at all, and the first two
      digits are one of the 34 province-level codes. This keeps a deployment that has only
      loaded, say, Inner Mongolia from rejecting every code registered elsewhere; once a
      province is loaded, its codes are checked against the table.
    """
    if code6 == CENTRAL_DIVISION_CODE:
        return True
    province = code6[:2]
    if province in MUNICIPALITY_CODES and code6[2:] in {"0100", "0200"}:
        return True
    # Imported lazily so that this module stays importable without the app registry.
    from django.db.models import Q

    from nqihub.divisions.models import AdminDivision

    known = Q(code=code6)
    if code6.endswith("01"):
        known |= Q(code=f"{code6[:4]}00", level="prefecture", name__endswith="市")
    if AdminDivision.objects.filter(known).exists():
        return True
    if province not in PROVINCE_CODES:
        return False
    return not AdminDivision.objects.filter(code__startswith=province).exists()


def validate_credit_code(value: object, *, division_exists: Callable[[str], bool] | None = None) -> str:
    """Return the normalised code, or raise :class:`CreditCodeError`.

    ``division_exists`` decides whether positions 3–8 name a known division; it defaults to
    :func:`default_division_exists` (a database lookup). Pass ``lambda code: True`` to check
    only the structure and checksum.
    """
    code = normalize_credit_code(value)

    if len(code) != 18:
        raise CreditCodeError(
            # Translators: 中文：统一社会信用代码应为 18 位，实际输入了 %(count)d 位。
            _("The credit code must have 18 characters; %(count)d were given."),
            code="length",
            params={"count": len(code)},
        )

    for position, char in enumerate(code, start=1):
        if char not in _VALUES:
            raise CreditCodeError(
                _(
                    # Translators: 中文：第 %(position)d 位的字符“%(character)s”不允许使用。统一社会信用代码只使用数字和大写字母，不使用 I、O、S、V、Z。
                    'Character %(position)d ("%(character)s") is not allowed. A credit code '
                    "uses only digits and capital letters, never I, O, S, V or Z."
                ),
                code="charset",
                params={"position": position, "character": char},
            )

    division = code[2:8]
    if not division.isdigit():
        raise CreditCodeError(
            _(
                # Translators: 中文：第 3–8 位应为 6 位数字的行政区划代码，实际为“%(division)s”。
                'Characters 3-8 must be the six-digit division code; "%(division)s" is not.'
            ),
            code="division",
            params={"division": division},
        )

    if compute_check_character(code[:17]) != code[17]:
        raise CreditCodeError(
            _(
                # Translators: 中文：校验码（第 18 位）不正确，请检查代码是否输错。
                "The check character (character 18) does not match; please check the code for typos."
            ),
            code="check_character",
        )

    exists = default_division_exists if division_exists is None else division_exists
    if not exists(division):
        raise CreditCodeError(
            # Translators: 中文：第 3–8 位“%(division)s”不是已知的行政区划代码。
            _('Characters 3-8 ("%(division)s") are not a known division code.'),
            code="division",
            params={"division": division},
        )
    return code


def credit_code_validator(value: object) -> None:
    """Model/form field validator: ``validators=[credit_code_validator]``.

    Validators cannot change the value, so the field should also normalise it (e.g. in
    ``clean()``/``to_python``) with :func:`normalize_credit_code`.
    """
    validate_credit_code(value)


def compute_organisation_check_character(body8: str) -> str:
    """GB 11714 check character for the 8-character organisation code body.

    C9 = 11 - Σ Ci·Wi mod 11 with W = 3,7,9,10,5,8,4,2 and A–Z valued 10–35; 10 → ``X``,
    11 → ``0``. (Not the mod-31 algorithm of the credit code.)
    """
    if len(body8) != 8:
        raise ValueError("an organisation code body has 8 characters")
    try:
        total = sum(_ORG_BODY_CHARS.index(char) * w for char, w in zip(body8, _ORG_WEIGHTS, strict=True))
    except ValueError:
        raise ValueError(f"{body8!r} may only contain digits and capital letters") from None
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def is_valid_organisation_code(code9: str) -> bool:
    """Whether positions 9–17 carry a correct GB 11714 check character.

    Informational only: the credit code's own check character already protects the whole
    code, and we never reject a credit code on this.
    """
    if len(code9) != 9 or any(char not in _ORG_BODY_CHARS for char in code9[:8]):
        return False
    return compute_organisation_check_character(code9[:8]) == code9[8]


def make_organisation_code(seed_digits: str) -> str:
    """Build a 9-character GB 11714 organisation code from up to 8 body characters.

    Shorter seeds are left-padded with zeros, so ``make_organisation_code(str(n))`` gives
    stable demo codes.
    """
    body = seed_digits.strip().upper()
    if not body or len(body) > 8:
        raise ValueError("the organisation code seed must have 1 to 8 characters")
    body = body.zfill(8)
    return body + compute_organisation_check_character(body)


def make_credit_code(*, authority: str = "9", category: str = "1", division: str = "150203", body: str) -> str:
    """Build a valid credit code for demo data and tests; ``body`` is the 9-character
    organisation code (see :func:`make_organisation_code`)."""
    first17 = f"{authority}{category}{division}{body}".upper()
    if len(authority) != 1 or len(category) != 1 or len(division) != 6 or not division.isdigit() or len(body) != 9:
        raise ValueError("authority and category take 1 character, division 6 digits, body 9 characters")
    return first17 + compute_check_character(first17)


def describe_credit_code(code: str) -> dict[str, object]:
    """Split a credit code into its parts with display names.

    Checks structure and checksum (raises :class:`CreditCodeError`) but does not look the
    division up, so it needs no database. Unknown authority/category codes give ``None``
    names rather than an error: the table is not from the standard text.
    """
    normalised = validate_credit_code(code, division_exists=lambda _code: True)
    authority, category = normalised[0], normalised[1]
    authority_name, categories = AUTHORITIES.get(authority, (None, {}))
    organisation_code = normalised[8:17]
    return {
        "code": normalised,
        "authority": authority,
        "authority_name": authority_name,
        "category": category,
        "category_name": categories.get(category),
        "division_code": normalised[2:8],
        "organisation_code": organisation_code,
        "organisation_code_valid": is_valid_organisation_code(organisation_code),
        "check_character": normalised[17],
    }
