"""Use cases of accounts and sign-in security, split along the three staff roles:

* system administrator — accounts (create, deactivate);
* security administrator — security policy, staff-role grants, unlocking;
* everyone — their own password, second factor and API tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.models import AccessAttempt
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, requires
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability, StaffRole, has_capability
from nqihub.core.errors import INVALID, Forbidden, NotFound

from . import errors, lockout
from .models import ApiToken, SecurityPolicy
from .policy import clear_policy_cache, get_policy

User = get_user_model()


def _validate_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise errors.PASSWORD_INVALID(
            " ".join(exc.messages), field="password", errors={"password": exc.messages}
        ) from exc


def _clean_username(username: str) -> str:
    # NFKC: the full-width ｅｎｔ_ｍａｎａｇｅｒ is the name ent_manager (as sign-in reads it),
    # so a look-alike collides with the account it imitates instead of being a second one.
    username = User.normalize_username((username or "").strip()).strip()
    if not username:
        raise errors.REQUIRED(field="username")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise errors.USERNAME_INVALID(exc.messages[0], field="username") from exc
    return username


def _new_account(*, username: str, password: str, display_name: str, email: str, phone: str):
    """Check and build an account (not saved): the one set of rules for both ways in.

    Whether the name is taken is asked last, after the password is checked and hashed: every
    other answer, and the time it takes, is then the same for a taken and a free name (sign-up
    must not tell strangers which names exist)."""
    username = _clean_username(username)
    candidate = User(
        username=username,
        display_name=(display_name or "").strip(),
        phone=(phone or "").strip(),
        email=(email or "").strip(),
    )
    _validate_password(password, candidate)
    candidate.set_password(password)
    if User.objects.filter(username__iexact=username).exists():
        raise errors.USERNAME_TAKEN(field="username")
    return candidate


def _username(actor, **kwargs) -> dict[str, str]:
    return {"username": (kwargs.get("username") or "")[:150]}


def account_register(*, username: str, password: str, display_name: str, phone: str = "", email: str = ""):
    """A person opens their own account (to apply for their enterprise afterwards)."""
    return _account_register(
        actor=None, username=username, password=password, display_name=display_name, phone=phone, email=email
    )


@audited_service("account.register", gettext_lazy("Account opened"), details=_username, conflict=errors.USERNAME_TAKEN)
def _account_register(*, actor: None, username: str, password: str, display_name: str, phone: str, email: str):
    """Nobody is signed in (``actor`` None): the new account is the actor of its success record."""
    if not (display_name or "").strip():
        raise errors.REQUIRED(_("Your name is required."), field="display_name")
    candidate = _new_account(username=username, password=password, display_name=display_name, email=email, phone=phone)
    candidate.save()
    audit_record(action="account.register", actor=candidate, target=candidate)
    return candidate


@audited_service(
    "account.create", gettext_lazy("Account created"), check=requires(Capability.MANAGE_ACCOUNTS), details=_username
)
def account_create(*, actor, username: str, password: str, display_name: str, email: str = "", phone: str = ""):
    """The system administrator creates an account (roles are granted separately)."""
    candidate = _new_account(username=username, password=password, display_name=display_name, email=email, phone=phone)
    candidate.save()
    audit_record(action="account.create", actor=actor, target=candidate)
    return candidate


def account_set_active(*, actor, user, active: bool):
    """The system administrator activates or deactivates an account (not their own); a
    deactivated account's API tokens are revoked."""
    return (_account_activate if active else _account_deactivate)(actor=actor, user=user)


def _set_active(actor, user, *, active: bool, action: str):
    if user.pk == actor.pk:
        raise errors.SELF_DEACTIVATION()
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    if not active:
        ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(action=action, actor=actor, target=locked)
    return locked


@audited_service(
    "account.activate", gettext_lazy("Account activated"), check=requires(Capability.MANAGE_ACCOUNTS), target="user"
)
def _account_activate(*, actor, user):
    return _set_active(actor, user, active=True, action="account.activate")


@audited_service(
    "account.deactivate", gettext_lazy("Account deactivated"), check=requires(Capability.MANAGE_ACCOUNTS), target="user"
)
def _account_deactivate(*, actor, user):
    return _set_active(actor, user, active=False, action="account.deactivate")


@audited_service(
    "account.staff_role", gettext_lazy("Staff role changed"), check=requires(Capability.GRANT_ROLES), target="user"
)
def staff_role_grant(*, actor, user, role: str):
    """Give an account one of the three staff roles, or take it away (``role=""``).

    The security administrator grants; nobody changes their own role, and a person who acts
    for organisations cannot also hold a staff role (least privilege, 三员分立).
    """
    if role and role not in StaffRole.values:
        raise errors.INVALID_ROLE(field="role")
    if user.pk == actor.pk:
        raise errors.SELF_GRANT()
    if role and user.memberships.filter(is_active=True).exists():
        raise errors.STAFF_NO_MEMBERSHIP()
    locked = User.objects.select_for_update().get(pk=user.pk)
    before = locked.staff_role
    locked.staff_role = role
    locked.save(update_fields=["staff_role", "is_staff", "is_superuser"])
    if role:
        ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
    audit_record(action="account.staff_role", actor=actor, target=locked, details={"before": before, "after": role})
    return locked


def _may_unlock(actor, **kwargs) -> None:
    if not has_capability(actor, Capability.UNLOCK_ACCOUNTS):
        raise errors.UNLOCK_NOT_ALLOWED()


@audited_service(
    "account.unlock",
    gettext_lazy("Account unlocked"),
    check=_may_unlock,
    details=lambda actor, **kw: {"username": str(kw["username"])[:150]},
)
def account_unlock(*, actor, username: str) -> int:
    """Lift a lockout after repeated failed sign-ins: the account's own count and the count of
    each browser known to it (accounts.lockout). Returns how many lock records ended."""
    key = lockout.account_key(username)
    if not key:
        raise errors.REQUIRED(field="username")
    count = lockout.clear(key)
    account = User.objects.filter(username__iexact=key).first()
    audit_record(
        action="account.unlock",
        actor=actor,
        target=account if account is not None else ("accounts.user", "", key),
        details={"cleared": count},
    )
    return count


def account_unlock_by_command(*, username: str | None = None, address: str | None = None) -> int:
    """Lift lockouts from the server's command line (the ``axes_reset*`` commands, which this
    project replaces): an account with all its browsers' counts, the counts of an address, or
    everything. The person at the server's shell is trusted as such, and the unlock is recorded
    in the audit trail like the security page's (channel "cli"). Returns the lock records ended."""
    with transaction.atomic():
        if username:
            key = lockout.account_key(username)
            if not key:
                raise errors.REQUIRED(field="username")
            attempts = AccessAttempt.objects.filter(
                models.Q(username=key) | models.Q(username__startswith=lockout.device_prefix(key))
            )
            account = User.objects.filter(username__iexact=key).first()
            target: Any = account if account is not None else ("accounts.user", "", key)
        else:
            attempts, target = AccessAttempt.objects.all(), None
        if address:
            attempts = attempts.filter(ip_address=address)
        count, _deleted = attempts.delete()
        audit_record(
            action="account.unlock",
            target=target,
            details={"cleared": count, "via": "command", "address": address or "", "all": not username},
        )
    return count


POLICY_FIELDS = (
    "password_min_length",
    "password_min_classes",
    "password_max_age_days",
    "lockout_threshold",
    "lockout_minutes",
    "idle_timeout_minutes",
    "require_second_factor_for_staff",
)


@audited_service(
    "security_policy.update",
    gettext_lazy("Security policy changed"),
    check=requires(Capability.MANAGE_SECURITY_POLICY),
    atomic=False,
)
def security_policy_update(*, actor, data: dict[str, Any]) -> SecurityPolicy:
    """The security administrator changes the policy; the cached policy is dropped once the
    change is committed (so the transaction is the body's)."""
    with transaction.atomic():
        get_policy()  # make sure the row exists
        policy = SecurityPolicy.objects.select_for_update().get(pk=1)
        changes = apply_changes(policy, {key: data[key] for key in POLICY_FIELDS if key in data})
        try:
            policy.full_clean(exclude=["updated_by"])
        except ValidationError as exc:
            raise INVALID("; ".join(exc.messages), errors=exc.message_dict) from exc
        policy.updated_by = actor
        policy.save()
        audit_record(action="security_policy.update", actor=actor, target=policy, details={"changes": changes})
    clear_policy_cache()
    return policy


def _check_may_hold_token(actor, membership) -> None:
    if membership is not None and membership.user_id != actor.pk:
        raise Forbidden()
    if actor.staff_role:
        # A token is a machine credential without a second factor; platform staff work
        # only through the signed-in UI.
        raise errors.STAFF_NO_TOKENS()


def _may_hold_token(actor, **kwargs) -> None:
    _check_may_hold_token(actor, kwargs.get("membership"))


@audited_service("api_token.create", gettext_lazy("API token created"), check=_may_hold_token)
def api_token_create(*, actor, name: str, membership=None, days: int | None = 365) -> tuple[ApiToken, str]:
    """Create a token for the acting person; returns the token and its key (shown once)."""
    name = (name or "").strip()
    if not name:
        raise errors.REQUIRED(_("Give the token a name, such as the system that will use it."), field="name")
    key = ApiToken.generate_key()
    token = ApiToken.objects.create(
        user=actor,
        membership=membership,
        name=name[:100],
        prefix=key[: ApiToken.PREFIX_LENGTH],
        key_hash=ApiToken.hash_key(key),
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    audit_record(action="api_token.create", actor=actor, target=token)
    return token, key


def _token_visible(actor, **kwargs) -> None:
    if not ApiToken.objects.for_user(actor).filter(pk=kwargs["token"].pk).exists():
        raise NotFound()


@audited_service("api_token.revoke", gettext_lazy("API token revoked"), check=_token_visible)
def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    """Revoke one of the acting person's tokens (another's is not found)."""
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(action="api_token.revoke", actor=actor, target=token)
    return token
