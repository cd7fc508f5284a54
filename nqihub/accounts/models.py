from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from nqihub.core.access import StaffRole
from nqihub.core.scoping import ScopedQuerySet, own_user


class User(AbstractUser):
    """A person. Which organisations they act for is in ``organizations.Membership``.

    ``staff_role`` holds at most one of the three platform staff roles (三员分立), so one
    account can never combine two of them. ``is_staff`` follows it (it only opens the
    management console); ``is_superuser`` is never relied on by NQI Hub.
    """

    display_name = models.CharField(_("full name"), max_length=100, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=20, blank=True)
    staff_role = models.CharField(
        _("platform staff role"), max_length=32, choices=StaffRole.choices, blank=True, default=""
    )
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)

    objects = UserManager()  # type: ignore[misc]  # the stubs type AbstractUser.objects as a ClassVar

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.display_name}（{self.username}）" if self.display_name else self.username

    def save(self, *args, **kwargs) -> None:
        self.is_staff = bool(self.staff_role)
        # Nothing in NQI Hub may rest on an all-powerful account (三员分立): the flag is kept
        # off so Django's own permission checks cannot be opened by it either.
        self.is_superuser = False
        super().save(*args, **kwargs)

    def set_password(self, raw_password) -> None:
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()


class SecurityPolicy(models.Model):
    """The live sign-in security policy, one row, edited by the security administrator.

    GB/T 22239-2019 (等保 2.0) level 3 asks for password complexity, login-failure handling,
    session timeout and two-factor authentication but gives no numbers; the defaults come from
    common assessment practice (see settings.NQI_SECURITY_DEFAULTS) and are editable here.
    """

    password_min_length = models.PositiveSmallIntegerField(
        _("minimum password length"), default=10, validators=[MinValueValidator(8), MaxValueValidator(128)]
    )
    password_min_classes = models.PositiveSmallIntegerField(
        _("character classes required"),
        default=3,
        validators=[MinValueValidator(2), MaxValueValidator(4)],
        help_text=_("Of: lower-case letters, upper-case letters, digits, other characters."),
    )
    password_max_age_days = models.PositiveSmallIntegerField(
        _("password expires after (days)"),
        default=90,
        validators=[MaxValueValidator(3650)],
        help_text=_("0 means passwords never expire."),
    )
    lockout_threshold = models.PositiveSmallIntegerField(
        _("failed sign-ins before lockout"), default=5, validators=[MinValueValidator(3), MaxValueValidator(20)]
    )
    lockout_minutes = models.PositiveSmallIntegerField(
        _("lockout duration (minutes)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        _("idle session timeout (minutes)"), default=30, validators=[MinValueValidator(5), MaxValueValidator(720)]
    )
    require_second_factor_for_staff = models.BooleanField(_("platform staff must use a second factor"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("security policy")
        verbose_name_plural = _("security policy")

    def __str__(self) -> str:
        return str(_("Security policy"))


def _hash_token(key: str) -> str:
    return hashlib.sha256(key.encode("ascii")).hexdigest()


class ApiTokenQuerySet(ScopedQuerySet):
    # Each person sees and revokes only their own tokens.
    scope = {("view", "revoke"): (own_user(),)}

    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A machine client's credential. Only the SHA-256 of the key is stored; the key is
    shown once, when the token is created. A token acts for one membership, so a LIMS
    connected with it sees what that organisation may see and nothing more."""

    PREFIX_LENGTH = 8

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    membership = models.ForeignKey(
        "organizations.Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=PREFIX_LENGTH, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    @staticmethod
    def hash_key(key: str) -> str:
        return _hash_token(key)
