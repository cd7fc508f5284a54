"""Sign-in events reach the audit trail through Django's and django-axes' signals."""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from .models import Outcome
from .services import audit_record


@receiver(user_logged_in)
def _logged_in(sender, request, user, **kwargs):
    audit_record(action="auth.login", actor=user, target=user, outcome=Outcome.SUCCESS)


@receiver(user_logged_out)
def _logged_out(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action="auth.logout", actor=user, target=user, outcome=Outcome.SUCCESS)


@receiver(user_login_failed)
def _login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "") or ""
    user = get_user_model().objects.filter(username=username).first()
    audit_record(
        action="auth.login",
        username=username,
        target=user if user is not None else ("accounts.user", "", username),
        outcome=Outcome.FAILURE,
        details={"reason": kwargs.get("reason", "") or "bad credentials"},
    )


@receiver(user_locked_out)
def _locked_out(sender, request, username, ip_address, **kwargs):
    audit_record(
        action="auth.lockout",
        username=username or "",
        target=("accounts.user", "", username or ""),
        outcome=Outcome.DENIED,
    )
