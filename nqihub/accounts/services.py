"""Use cases of accounts and sign-in security, split along the three staff roles:

* system administrator — accounts (create, deactivate);
* security administrator — security policy, staff-role grants, unlocking;
* everyone — their own password, second factor and API tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from nqihub.audit.services import audit_record, refusals_recorded
from nqihub.audit.services import audit_refusal as _refuse
from nqihub.core.access import Capability, StaffRole, has_capability
from nqihub.core.errors import INVALID, Forbidden, ServiceError

from . import errors
from .models import ApiToken, SecurityPolicy
from .policy import clear_policy_cache, get_policy

User = get_user_model()


def _validate_password(password: str, user) -> None:
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise errors.PASSWORD_INVALID(" ".join(exc.messages), field="password", errors={"password": exc.messages}) from exc


def _clean_username(username: str) -> str:
    username = (username or "").strip()
    if not username:
        raise errors.REQUIRED(field="username")
    try:
        User.username_validator(username)
    except ValidationError as exc:
        raise errors.USERNAME_INVALID(exc.messages[0], field="username") from exc
    if User.objects.filter(username__iexact=username).exists():
        raise errors.USERNAME_TAKEN(field="username")
    return username


def _new_account(*, username: str, password: str, display_name: str, email: str, phone: str):
    """Check and build an account (not saved): the one set of rules for both ways in."""
    username = _clean_username(username)
    candidate = User(
        username=username, display_name=(display_name or "").strip(), phone=(phone or "").strip(), email=(email or "").strip()
    )
    _validate_password(password, candidate)
    candidate.set_password(password)
    return candidate


def account_register(*, username: str, password: str, display_name: str, phone: str = "", email: str = ""):
    """A person opens their own account (to apply for their enterprise afterwards)."""
    action = "account.register"
    try:
        if not (display_name or "").strip():
            raise errors.REQUIRED(_("Your name is required."), field="display_name")
        candidate = _new_account(username=username, password=password, display_name=display_name, email=email, phone=phone)
        with transaction.atomic():
            candidate.save()
            audit_record(action=action, actor=candidate, target=candidate)
            return candidate
    except ServiceError as exc:
        _refuse(exc, actor=None, action=action, details={"username": (username or "")[:150]})


def account_create(*, actor, username: str, password: str, display_name: str, email: str = "", phone: str = ""):
    """The system administrator creates an account (roles are granted separately)."""
    action = "account.create"
    try:
        if not has_capability(actor, Capability.MANAGE_ACCOUNTS):
            raise Forbidden()
        candidate = _new_account(username=username, password=password, display_name=display_name, email=email, phone=phone)
        with transaction.atomic():
            candidate.save()
            audit_record(action=action, actor=actor, target=candidate)
            return candidate
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, details={"username": (username or "")[:150]})


def account_set_active(*, actor, user, active: bool):
    action = "account.activate" if active else "account.deactivate"
    try:
        if not has_capability(actor, Capability.MANAGE_ACCOUNTS):
            raise Forbidden()
        if user.pk == actor.pk:
            raise errors.SELF_DEACTIVATION()
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            locked.is_active = active
            locked.save(update_fields=["is_active"])
            if not active:
                ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
            audit_record(action=action, actor=actor, target=locked)
            return locked
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, target=user)


def staff_role_grant(*, actor, user, role: str):
    """Give an account one of the three staff roles, or take it away (``role=""``).

    The security administrator grants; nobody changes their own role, and a person who acts
    for organisations cannot also hold a staff role (least privilege, 三员分立).
    """
    action = "account.staff_role"
    try:
        if not has_capability(actor, Capability.GRANT_ROLES):
            raise Forbidden()
        if role and role not in StaffRole.values:
            raise errors.INVALID_ROLE(field="role")
        if user.pk == actor.pk:
            raise errors.SELF_GRANT()
        if role and user.memberships.filter(is_active=True).exists():
            raise errors.STAFF_NO_MEMBERSHIP()
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            before = locked.staff_role
            locked.staff_role = role
            locked.save(update_fields=["staff_role", "is_staff", "is_superuser"])
            if role:
                ApiToken.objects.filter(user=locked, revoked_at__isnull=True).update(revoked_at=timezone.now())
            audit_record(action=action, actor=actor, target=locked, details={"before": before, "after": role})
            return locked
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, target=user)


def account_unlock(*, actor, username: str) -> int:
    """Lift a lockout after repeated failed sign-ins. Returns how many lock records ended."""
    action = "account.unlock"
    try:
        if not has_capability(actor, Capability.UNLOCK_ACCOUNTS):
            raise Forbidden()
        count = axes_reset(username=username)
        audit_record(action=action, actor=actor, target=("accounts.user", "", username), details={"cleared": count})
        return count
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, details={"username": username})


POLICY_FIELDS = (
    "password_min_length",
    "password_min_classes",
    "password_max_age_days",
    "lockout_threshold",
    "lockout_minutes",
    "idle_timeout_minutes",
    "require_second_factor_for_staff",
)


def security_policy_update(*, actor, data: dict[str, Any]) -> SecurityPolicy:
    action = "security_policy.update"
    try:
        if not has_capability(actor, Capability.MANAGE_SECURITY_POLICY):
            raise Forbidden()
        with transaction.atomic():
            get_policy()  # make sure the row exists
            policy = SecurityPolicy.objects.select_for_update().get(pk=1)
            changes = {}
            for key in POLICY_FIELDS:
                if key in data and getattr(policy, key) != data[key]:
                    changes[key] = [getattr(policy, key), data[key]]
                    setattr(policy, key, data[key])
            try:
                policy.full_clean(exclude=["updated_by"])
            except ValidationError as exc:
                raise INVALID("; ".join(exc.messages), errors=exc.message_dict) from exc
            policy.updated_by = actor
            policy.save()
            audit_record(action=action, actor=actor, target=policy, details={"changes": changes})
        clear_policy_cache()
        return policy
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action)


def _check_may_hold_token(actor, membership) -> None:
    if membership is not None and membership.user_id != actor.pk:
        raise Forbidden()
    if actor.staff_role:
        # A token is a machine credential without a second factor; platform staff work
        # only through the signed-in UI.
        raise errors.STAFF_NO_TOKENS()


def api_token_check_permission(*, actor, membership=None) -> None:
    """Refuse, recorded as denied, an actor who may not create a token (``api_token_create``'s
    first check). The API asks it before it answers about a body."""
    with refusals_recorded(actor=actor, action="api_token.create"):
        _check_may_hold_token(actor, membership)


def api_token_create(*, actor, name: str, membership=None, days: int | None = 365) -> tuple[ApiToken, str]:
    """Create a token for the acting person; returns the token and its key (shown once)."""
    action = "api_token.create"
    try:
        _check_may_hold_token(actor, membership)  # who, before what
        name = (name or "").strip()
        if not name:
            raise errors.REQUIRED(_("Give the token a name, such as the system that will use it."), field="name")
        key = ApiToken.generate_key()
        with transaction.atomic():
            token = ApiToken.objects.create(
                user=actor,
                membership=membership,
                name=name[:100],
                prefix=key[: ApiToken.PREFIX_LENGTH],
                key_hash=ApiToken.hash_key(key),
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
            audit_record(action=action, actor=actor, target=token)
        return token, key
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action)


def api_token_revoke(*, actor, token: ApiToken) -> ApiToken:
    action = "api_token.revoke"
    if not ApiToken.objects.for_user(actor).filter(pk=token.pk).exists():
        from nqihub.core.errors import NotFound

        _refuse(NotFound(), actor=actor, action=action)
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(action=action, actor=actor, target=token)
    return token
