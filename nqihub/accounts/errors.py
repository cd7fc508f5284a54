"""Error codes of accounts: sign-up, staff roles, the security policy, API tokens and the
sign-in gate."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("accounts")

REQUIRED = errors.add("required", InvalidInput, _("The account name is required."))
PASSWORD_INVALID = errors.add(
    "password_invalid", InvalidInput, description="The password breaks the security policy; the messages say how."
)
PASSWORD_TOO_SHORT = errors.add(
    "password_too_short", InvalidInput, description="The password is shorter than the policy allows."
)
PASSWORD_TOO_SIMPLE = errors.add(
    "password_too_simple", InvalidInput, description="The password mixes fewer kinds of character than the policy asks."
)
PASSWORD_COMMON_PATTERN = errors.add(
    "password_common_pattern",
    InvalidInput,
    description="The password is a common password with a few characters changed or added (P@ssw0rd123).",
)
PASSWORD_HAS_USERNAME = errors.add(
    "password_has_username", InvalidInput, _("The password must not contain the account name.")
)
USERNAME_INVALID = errors.add(
    "username_invalid", InvalidInput, description="The account name has characters that are not allowed."
)
USERNAME_TAKEN = errors.add("username_taken", Conflict, _("This account name is taken."))
SELF_DEACTIVATION = errors.add("self_deactivation", InvalidInput, _("You cannot deactivate your own account."))
INVALID_ROLE = errors.add("invalid_role", InvalidInput, _("Unknown role."))
SELF_GRANT = errors.add("self_grant", Forbidden, _("Nobody may change their own role."))
STAFF_NO_MEMBERSHIP = errors.add(
    "staff_no_membership",
    InvalidInput,
    _("This account acts for organisations; platform staff need a separate account."),
)
UNLOCK_NOT_ALLOWED = errors.add(
    "unlock_not_allowed",
    Forbidden,
    _("Only the security administrator can unlock accounts. Ask them, or wait until the lockout ends."),
)
STAFF_NO_TOKENS = errors.add("staff_no_tokens", Forbidden, _("Platform staff accounts cannot hold API tokens."))

# The API's authentication and the sign-in gate (answered by the token authentication and
# the middlewares, with these messages).
INVALID_TOKEN = errors.add("invalid_token", 401, _("Invalid or expired token."))
MEMBERSHIP_ENDED = errors.add("membership_ended", 401, _("The organisation membership of this token has ended."))
SESSION_EXPIRED = errors.add("session_expired", 401, _("Your session has expired. Please sign in again."))
SECOND_FACTOR_REQUIRED = errors.add("second_factor_required", 403, _("Complete the second-factor sign-in first."))
PASSWORD_EXPIRED = errors.add("password_expired", 403, _("Your password has expired. Please choose a new one."))
