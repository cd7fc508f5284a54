"""The verification service policy page: everyone signed in reads the acceptance time limit
and the reminder stages in force; the system administrator changes them
(``services.policy.policy_update``)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.core.access import Capability, has_capability
from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error

from ..models import MetrologyPolicy
from ..services import policy as services


class PolicyForm(forms.Form):
    """Fields only: the service checks them (the same rules for every caller)."""

    acceptance_working_days = forms.CharField(
        label=MetrologyPolicy._meta.get_field("acceptance_working_days").verbose_name,
        help_text=gettext_lazy("Working days an institution has to accept or reject an application (1–30)."),
        widget=forms.NumberInput(attrs={"min": 1, "max": 30}),
    )
    reminder_days = forms.CharField(
        label=MetrologyPolicy._meta.get_field("reminder_days").verbose_name,
        help_text=MetrologyPolicy._meta.get_field("reminder_days").help_text,
        max_length=50,
    )
    validity_ends_day_before = forms.BooleanField(
        label=MetrologyPolicy._meta.get_field("validity_ends_day_before").verbose_name,
        help_text=MetrologyPolicy._meta.get_field("validity_ends_day_before").help_text,
        required=False,
    )
    source = forms.CharField(
        label=MetrologyPolicy._meta.get_field("source").verbose_name,
        help_text=gettext_lazy("Who decided it, e.g. the number of the bureau's notice."),
        max_length=300,
    )


@login_required
def policy_detail(request: HttpRequest) -> HttpResponse:
    current = services.current_policy()
    can_change = has_capability(request.user, Capability.MANAGE_CONFIGURATION)
    form = None
    status = 200
    if can_change:
        initial = {name: getattr(current, name) for name in services.FIELDS}
        form = PolicyForm(request.POST or None, initial=initial)
        if request.method == "POST":
            try:
                services.policy_update(actor=request.user, data=request.POST)
            except ServiceError as exc:
                form.is_valid()
                apply_service_error(form, exc)
                status = 400
            else:
                messages.success(request, _("The verification service policy was saved."))
                return redirect("metrology:policy")
    elif request.method == "POST":
        try:
            services.policy_update(actor=request.user, data=request.POST)
        except ServiceError as exc:
            messages.error(request, exc.message)
            status = exc.status_code
    return render(
        request,
        "metrology/policy.html",
        {"policy": current, "stages": current.reminder_stages(), "form": form},
        status=status,
    )


urlpatterns = [path("policy/", policy_detail, name="policy")]
