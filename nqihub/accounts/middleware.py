from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from nqihub.core.access import resolve_acting_membership, set_acting_membership

from .lockout import remember_device
from .policy import get_policy

LAST_ACTIVITY_KEY = "nqi_last_activity"
ACTING_ORG_KEY = "nqi_acting_org"
HAS_OTP_KEY = "nqi_has_otp"

# Paths a signed-in person may reach before finishing a required step — otherwise they could
# never finish it: at every step static files, the language switch and sign-out; at the second
# factor only its own pages (a password alone must not change the password); at an expired
# password only the password change.
_GATE_OPEN_PREFIXES = ("/static/", "/i18n/", "/healthz", "/accounts/logout/")
_SECOND_FACTOR_STEP = "/accounts/otp/"
_PASSWORD_STEP = "/accounts/password/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


class IdleTimeoutMiddleware:
    """Ends a web session after the policy's idle time (等保: 登录连接超时自动退出)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(LAST_ACTIVITY_KEY)
            limit = get_policy().idle_timeout_minutes * 60
            if last is not None and now - float(last) > limit:
                logout(request)
                if _is_api(request):
                    return JsonResponse(
                        {"detail": _("Your session has expired. Please sign in again."), "code": "session_expired"},
                        status=401,
                    )
                messages.warning(
                    request,
                    _("You were signed out after %(minutes)d minutes without activity. Please sign in again.")
                    % {"minutes": limit // 60},
                )
                return redirect(f"{reverse(settings.LOGIN_URL)}?next={request.get_full_path()}")
            if last is None or now - float(last) > settings.NQI_SESSION_REFRESH.total_seconds():
                request.session[LAST_ACTIVITY_KEY] = now
        return self.get_response(request)


class ActingMembershipMiddleware:
    """Resolves which organisation a signed-in person acts for in this request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            wanted = request.session.get(ACTING_ORG_KEY) if hasattr(request, "session") else None
            membership = resolve_acting_membership(user, wanted)
            if membership is None and wanted is not None:
                # The chosen membership ended (revoked or deactivated): fall back to the default.
                request.session.pop(ACTING_ORG_KEY, None)
                membership = resolve_acting_membership(user)
            set_acting_membership(user, membership)
        return self.get_response(request)


class SignInGateMiddleware:
    """Holds a signed-in person at the second-factor or password-change step until done.

    Staff roles must verify a TOTP code when the policy says so (等保: 双因素), and so must
    anyone who enrolled an authenticator of their own accord; everyone whose
    password is older than the policy allows must change it first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        # A session reaching the API is held at the same steps: otherwise a password alone
        # would open the API to staff who must use a second factor. (Token callers are not
        # signed in at this point; staff cannot hold tokens, see api_token_create.)
        if user is None or not user.is_authenticated or request.path.startswith(_GATE_OPEN_PREFIXES):
            return self.get_response(request)
        policy = get_policy()
        if not user.is_verified():
            from django_otp import devices_for_user

            has_device = request.session.get(HAS_OTP_KEY)
            if has_device is None:
                has_device = any(devices_for_user(user, confirmed=True))
                request.session[HAS_OTP_KEY] = has_device
            if has_device or (user.staff_role and policy.require_second_factor_for_staff):
                if request.path.startswith(_SECOND_FACTOR_STEP):
                    return self.get_response(request)
                if _is_api(request):
                    return JsonResponse(
                        {"detail": _("Complete the second-factor sign-in first."), "code": "second_factor_required"},
                        status=403,
                    )
                target = "accounts:otp_verify" if has_device else "accounts:otp_setup"
                return redirect(f"{reverse(target)}?next={request.get_full_path()}")
        if policy.password_max_age_days and user.password_changed_at is not None:
            age = timezone.now() - user.password_changed_at
            if age.days >= policy.password_max_age_days and not request.path.startswith(
                (_PASSWORD_STEP, _SECOND_FACTOR_STEP)
            ):
                if _is_api(request):
                    return JsonResponse(
                        {
                            "detail": _("Your password has expired. Please choose a new one."),
                            "code": "password_expired",
                        },
                        status=403,
                    )
                messages.warning(request, _("Your password has expired. Please choose a new one."))
                return redirect("accounts:password_change")
        # Signed in fully (password and any second factor asked of them): this browser is now
        # known to the account, and strangers' failures no longer lock it out (accounts.lockout).
        response = self.get_response(request)
        remember_device(request, response, user)
        return response
