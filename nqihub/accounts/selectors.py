from __future__ import annotations

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model

from nqihub.core.access import Capability, has_capability

from .policy import get_policy


def locked_accounts(user):
    """Accounts currently locked out (as many failures as the policy allows, or more)."""
    if not has_capability(user, Capability.UNLOCK_ACCOUNTS):
        return AccessAttempt.objects.none()
    return AccessAttempt.objects.filter(failures_since_start__gte=get_policy().lockout_threshold).order_by(
        "-attempt_time"
    )


def security_dashboard(user) -> dict:
    staff = get_user_model().objects.exclude(staff_role="").order_by("staff_role", "username")
    return {"policy": get_policy(), "locked": locked_accounts(user)[:50], "staff_accounts": staff}
