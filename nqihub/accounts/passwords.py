from __future__ import annotations

import functools
import re

from django.contrib.auth.password_validation import CommonPasswordValidator
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    classes = 0
    classes += any(c.islower() for c in password)
    classes += any(c.isupper() for c in password)
    classes += any(c.isdigit() for c in password)
    classes += any(not c.isalnum() for c in password)
    return classes


class PolicyPasswordValidator:
    """Length and character classes from the live security policy (等保: 口令复杂度)."""

    def validate(self, password: str, user=None) -> None:
        from .policy import get_policy

        policy = get_policy()
        errors = []
        if len(password) < policy.password_min_length:
            errors.append(
                ValidationError(
                    ngettext(
                        "The password must have at least %(min)d character.",
                        "The password must have at least %(min)d characters.",
                        policy.password_min_length,
                    )
                    % {"min": policy.password_min_length},
                    code="password_too_short",
                )
            )
        if character_classes(password) < policy.password_min_classes:
            errors.append(
                ValidationError(
                    _(
                        "The password must mix at least %(classes)d of: lower-case letters, "
                        "upper-case letters, digits and other characters."
                    )
                    % {"classes": policy.password_min_classes},
                    code="password_too_simple",
                )
            )
        username = str(getattr(user, "username", None) or "")
        if username and (username.lower() in password.lower() or username.lower() in deleet(password)):
            errors.append(
                ValidationError(_("The password must not contain the account name."), code="password_has_username")
            )
        if errors:
            raise ValidationError(errors)

    def get_help_text(self) -> str:
        from .policy import get_policy

        policy = get_policy()
        return _(
            "At least %(min)d characters, mixing at least %(classes)d of: lower-case letters, "
            "upper-case letters, digits and other characters."
        ) % {"min": policy.password_min_length, "classes": policy.password_min_classes}


# Characters people put in place of letters to pass a complexity rule (P@ssw0rd, Zh@ngW3i).
_LEET = str.maketrans(
    {"@": "a", "4": "a", "8": "b", "3": "e", "1": "l", "!": "i", "0": "o", "5": "s", "$": "s", "7": "t"}
)
_NOT_LETTERS = re.compile(r"[^a-z]+")
_SHORTEST_CORE = 4
_DECORATION = "0123456789!@#$%^&*()-_=+.,;:?~ "


def deleet(password: str) -> str:
    """``password`` in lower case with look-alike digits and symbols read as the letters they
    stand for."""
    return password.lower().translate(_LEET)


@functools.cache
def _common_passwords() -> frozenset[str]:
    # Django's own list of about 20,000 common passwords, shipped with it (no outside call).
    return frozenset(CommonPasswordValidator().passwords)


def password_cores(password: str) -> set[str]:
    """The words a password is built on once the usual decorations are taken off: digits and
    symbols before and after it, capitals, look-alikes inside it (Qwerty@123 → qwerty,
    P@ssw0rd123 → password, Woaini1314! → woaini)."""
    lower = password.lower()
    stripped = lower.strip(_DECORATION)
    read_back = deleet(stripped)
    cores = {stripped, read_back, _NOT_LETTERS.sub("", lower), _NOT_LETTERS.sub("", read_back)}
    return {core for core in cores if len(core) >= _SHORTEST_CORE}


class CommonPatternPasswordValidator:
    """Refuses a common password dressed up to pass the complexity rule: a word from Django's
    common-password list with capitals, look-alike digits and symbols, or digits and symbols
    around it (Qwerty@123, P@ssw0rd123, Woaini1314!). 等保: 口令不易被猜测."""

    def validate(self, password: str, user=None) -> None:
        common = _common_passwords()
        if any(core in common for core in password_cores(password)):
            raise ValidationError(
                _(
                    "This password is a common password with a few characters changed or added "
                    "(such as Password@123); choose one that is harder to guess."
                ),
                code="password_common_pattern",
            )

    def get_help_text(self) -> str:
        return _("Not a common password with a few characters changed or added.")
