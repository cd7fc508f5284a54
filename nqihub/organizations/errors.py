"""Error codes of organisations, memberships and enterprise registration."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("organizations")

REQUIRED = errors.add("required", InvalidInput, _("Please fill in every required field."))
INVALID_KIND = errors.add("invalid_kind", InvalidInput, _("Unknown kind of organisation."))
INVALID_ROLE = errors.add("invalid_role", InvalidInput, _("Unknown role."))
DIVISION_UNKNOWN = errors.add("division_unknown", InvalidInput, _("Choose a division that is in force."))
DIVISION_NOT_COUNTY = errors.add(
    "division_not_county", InvalidInput, _("Choose the county-level division where the organisation is registered.")
)
STAFF_NO_MEMBERSHIP = errors.add(
    "staff_no_membership",
    InvalidInput,
    _("Platform staff accounts do not act for organisations; use a separate account."),
)
CREDIT_CODE_REGISTERED = errors.add(
    "credit_code_registered",
    Conflict,
    _("An organisation with this unified social credit code is already registered on the platform."),
)
CREDIT_CODE_PENDING = errors.add(
    "credit_code_pending", Conflict, _("An application for this unified social credit code is already being processed.")
)
# A credit code that fails the GB 32100 check (``credit_code_<reason>``); the message says
# which character is wrong.
CREDIT_CODE_LENGTH = errors.add(
    "credit_code_length", InvalidInput, _("The credit code must have 18 characters; %(count)d were given.")
)
CREDIT_CODE_CHARSET = errors.add(
    "credit_code_charset", InvalidInput, description="A character a credit code never uses."
)
CREDIT_CODE_DIVISION = errors.add(
    "credit_code_division", InvalidInput, description="Characters 3-8 are not a known division code."
)
CREDIT_CODE_CHECK_CHARACTER = errors.add(
    "credit_code_check_character",
    InvalidInput,
    _("The check character (character 18) does not match; please check the code for typos."),
)
# Enterprise registration (its raise sites are in services.registration_*).
DIVISION_UNCONFIRMED = errors.add(
    "division_unconfirmed",
    InvalidInput,
    description=(
        "The credit code was issued in another division than the county chosen: send "
        "confirm_division=true if both are right (an enterprise that moved keeps its code)."
    ),
)
STAFF_CANNOT_APPLY = errors.add(
    "staff_cannot_apply", Forbidden, _("Platform staff accounts cannot apply for enterprises.")
)
INVALID_STATE = errors.add(
    "invalid_state", Conflict, _("This application is %(state)s and can no longer be changed this way.")
)
REASON_REQUIRED = errors.add(
    "reason_required",
    InvalidInput,
    _("Give the reason for returning the application, so the applicant can correct it."),
)
