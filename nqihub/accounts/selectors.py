from __future__ import annotations

from django.contrib.auth import get_user_model

from nqihub.core.access import Capability, has_capability

from . import lockout
from .policy import get_policy


def locked_accounts(user) -> list[dict]:
    """Account keys locked now, for the security administrator: the account, whether the lock
    holds only one browser known to it, the failures, the last try and how many addresses."""
    if not has_capability(user, Capability.UNLOCK_ACCOUNTS):
        return []
    return [
        {
            **row,
            "account": lockout.account_of(row["username"]),
            "known_device": lockout.is_device_key(row["username"]),
        }
        for row in lockout.locked_keys()[:200]
    ]


def security_dashboard(user) -> dict:
    staff = get_user_model().objects.exclude(staff_role="").order_by("staff_role", "username")
    return {"policy": get_policy(), "locked": locked_accounts(user)[:50], "staff_accounts": staff}
