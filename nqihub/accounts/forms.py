from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import lockout
from .models import SecurityPolicy


class ThrottledSignIn:
    """Refuses a sign-in that must still wait (accounts.lockout: the rising delay and the
    address throttle) before any password is checked; the wait is not counted as a failure."""

    retry_after = 0

    def clean(self):
        request = getattr(self, "request", None)
        username = self.data.get("username", "")  # type: ignore[attr-defined]
        if request is not None and username:
            self.retry_after = lockout.retry_after(request, username)
            if self.retry_after:
                raise ValidationError(
                    ngettext(
                        "Too many failed sign-ins. Wait %(seconds)d second before trying again.",
                        "Too many failed sign-ins. Wait %(seconds)d seconds before trying again.",
                        self.retry_after,
                    )
                    % {"seconds": self.retry_after},
                    code="throttled",
                )
        return super().clean()  # type: ignore[misc]


class ConsoleLoginForm(ThrottledSignIn, AdminAuthenticationForm):
    """The management console's sign-in, held to the same delays as the site's."""


class LoginForm(ThrottledSignIn, AuthenticationForm):
    username = forms.CharField(
        label=_("Account"),
        max_length=150,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SignupForm(forms.Form):
    username = forms.CharField(
        label=_("Account name"), max_length=150, help_text=_("Letters, digits and @ . + - _ only.")
    )
    display_name = forms.CharField(label=_("Full name"), max_length=100)
    phone = forms.CharField(label=_("Mobile phone"), max_length=20, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password_again = forms.CharField(
        label=_("Password again"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def clean(self):
        super().clean()
        cleaned = self.cleaned_data
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return cleaned


class OtpTokenForm(forms.Form):
    token = forms.RegexField(
        label=_("Six-digit code"),
        regex=r"^\s*\d{6}\s*$",
        error_messages={"invalid": _("Enter the six digits shown by your authenticator app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class SecurityPolicyForm(forms.ModelForm):
    class Meta:
        model = SecurityPolicy
        fields = [
            "password_min_length",
            "password_min_classes",
            "password_max_age_days",
            "lockout_threshold",
            "lockout_minutes",
            "idle_timeout_minutes",
            "require_second_factor_for_staff",
        ]


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100, help_text=_("The system that will use it, e.g. our LIMS."))
    days = forms.TypedChoiceField(
        label=_("Valid for"),
        coerce=int,
        choices=[(30, _("30 days")), (90, _("90 days")), (365, _("one year"))],
        initial=365,
    )
