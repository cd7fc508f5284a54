from __future__ import annotations

import base64
from io import BytesIO

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from nqihub.audit.models import Outcome
from nqihub.audit.services import audit_record
from nqihub.core import ratelimit
from nqihub.core.access import Capability, has_capability
from nqihub.core.errors import Forbidden, ServiceError
from nqihub.core.forms import apply_service_error
from nqihub.core.middleware import client_address

from . import services
from .forms import LoginForm, OtpTokenForm, SecurityPolicyForm, SignupForm, TokenCreateForm
from .middleware import ACTING_ORG_KEY
from .models import ApiToken, SecurityPolicy
from .policy import get_policy
from .selectors import locked_accounts


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return default


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.retry_after:
            # Too many failures: the try was refused unchecked; say when to retry.
            response.status_code = 429
            response["Retry-After"] = str(form.retry_after)
        return response


def lockout_response(request, credentials, *args, **kwargs) -> HttpResponse:
    """Shown instead of a sign-in when the account is locked (django-axes)."""
    minutes = get_policy().lockout_minutes
    form = LoginForm(request)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "locked_message": _(
                "Too many failed sign-ins: this account is locked for %(minutes)d minutes. "
                "Ask the security administrator to unlock it sooner."
            )
            % {"minutes": minutes},
        },
        status=403,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    logout(request)
    messages.info(request, _("You have signed out."))
    return redirect("accounts:login")


SIGNUP_RATE_WINDOW_SECONDS = 3600


def signup(request: HttpRequest) -> HttpResponse:
    """A person opens their own account. The answer to a well-formed request is the same
    whether the name was free (the account is opened) or taken (nothing is opened): go and sign
    in. Sign-up forms are limited per client address (``NQI_SIGNUP_RATE_PER_HOUR``)."""
    if request.user.is_authenticated:
        return redirect("core:home")
    form = SignupForm(request.POST or None)
    if request.method == "POST" and ratelimit.hit(
        "accounts.signup",
        client_address(request) or "-",
        limit=settings.NQI_SIGNUP_RATE_PER_HOUR,
        window_seconds=SIGNUP_RATE_WINDOW_SECONDS,
    ):
        messages.error(request, _("Too many sign-ups from your network. Try again in an hour."))
        response = render(request, "accounts/signup.html", {"form": SignupForm()}, status=429)
        response["Retry-After"] = str(SIGNUP_RATE_WINDOW_SECONDS)
        return response
    if request.method == "POST" and form.is_valid():
        try:
            services.account_register(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password"],
                display_name=form.cleaned_data["display_name"],
                phone=form.cleaned_data["phone"],
                email=form.cleaned_data["email"],
            )
        except ServiceError as exc:
            if exc.code != "username_taken":
                apply_service_error(form, exc)
                return render(request, "accounts/signup.html", {"form": form})
        messages.success(
            request,
            _(
                "Thank you. Sign in with the account name and password you chose, then apply to register "
                "your enterprise. If the sign-in fails, the name may not be available: create an account "
                "with another name."
            ),
        )
        return redirect(f"{reverse('accounts:login')}?next={reverse('organizations:registration_create')}")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    from nqihub.organizations.services import membership_switch

    try:
        membership = membership_switch(actor=request.user, organization_id=request.POST.get("organization"))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        request.session[ACTING_ORG_KEY] = membership.organization_id
        messages.success(request, _("You now act for %(name)s.") % {"name": membership.organization.name})
    return redirect("core:home")


def _qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buffer = BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: scan the QR code, then prove it works with one code."""
    user = request.user
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists() and not request.user.is_verified():  # type: ignore[union-attr]  # django-otp's middleware adds it
        return redirect("accounts:otp_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            request.session["nqi_has_otp"] = True
            otp_login(request, device)
            audit_record(action="auth.otp_enrol", actor=user, target=user)
            messages.success(request, _("Second factor enrolled. You will be asked for a code at every sign-in."))
            return redirect(_safe_next(request))
        audit_record(action="auth.otp_enrol", actor=user, target=user, outcome=Outcome.FAILURE)
        form.add_error("token", _("The code is not correct. Check the time on your phone and try again."))
    secret = base64.b32encode(device.bin_key).decode("ascii")
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "qr_svg": _qr_svg(device.config_url), "secret": secret, "next": _safe_next(request)},
    )


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect("accounts:otp_setup")
    form = OtpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"].strip()
        for device in devices:
            allowed, _details = device.verify_is_allowed()
            if allowed and device.verify_token(token):
                otp_login(request, device)
                audit_record(action="auth.otp_verify", actor=user, target=user)
                return redirect(_safe_next(request))
        audit_record(action="auth.otp_verify", actor=user, target=user, outcome=Outcome.FAILURE)
        form.add_error(
            "token", _("The code is not correct, or too many wrong codes were tried. Wait a moment and try again.")
        )
    return render(request, "accounts/otp_verify.html", {"form": form, "next": _safe_next(request)})


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("core:home")

    def form_invalid(self, form):
        audit_record(
            action="account.password_change",
            actor=self.request.user,
            target=self.request.user,
            outcome=Outcome.FAILURE,
            details={"fields": sorted(form.errors)},
        )
        return super().form_invalid(form)

    def form_valid(self, form):
        response = super().form_valid(form)
        audit_record(action="account.password_change", actor=self.request.user, target=self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """A person's API tokens for machine clients; the key is shown once, at creation."""
    from nqihub.core.access import get_actor

    form = TokenCreateForm(request.POST or None)
    new_key = None
    if request.method == "POST" and form.is_valid():
        try:
            _token, new_key = services.api_token_create(
                actor=request.user,
                name=form.cleaned_data["name"],
                membership=get_actor(request.user).membership,
                days=form.cleaned_data["days"],
            )
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            form = TokenCreateForm()
    return render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "new_key": new_key,
            "tokens": ApiToken.objects.for_user(request.user).select_related("membership__organization"),
        },
    )


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.for_user(request.user), pk=pk)
    services.api_token_revoke(actor=request.user, token=token)
    messages.success(request, _("The token was revoked."))
    return redirect("accounts:tokens")


@login_required
def security_policy(request: HttpRequest) -> HttpResponse:
    if not has_capability(request.user, Capability.MANAGE_SECURITY_POLICY):
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied
    get_policy()  # make sure the row exists
    # A fresh instance, not the cached one: a rejected form must not alter the policy in force.
    form = SecurityPolicyForm(request.POST or None, instance=SecurityPolicy.objects.get(pk=1))
    if request.method == "POST" and form.is_valid():
        try:
            services.security_policy_update(actor=request.user, data=form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The security policy was saved."))
            return redirect("accounts:security_policy")
    return render(request, "accounts/security_policy.html", {"form": form, "locked": locked_accounts(request.user)})


@login_required
@require_POST
def unlock(request: HttpRequest) -> HttpResponse:
    """The security administrator (and only they) lifts a lockout; anyone else is told who can."""
    username = request.POST.get("username", "")
    try:
        services.account_unlock(actor=request.user, username=username)
    except Forbidden as exc:
        return render(
            request, "core/error.html", {"status": 403, "title": _("Not allowed"), "message": exc.message}, status=403
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Account %(username)s was unlocked.") % {"username": username})
    return redirect("accounts:security_policy")
