from __future__ import annotations

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
        if username and username.lower() in password.lower():
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
