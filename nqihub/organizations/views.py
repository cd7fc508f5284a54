from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.cases.selectors import timeline as case_timeline
from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error
from nqihub.core.views_base import form_page, scoped_object, scoped_page, search_terms
from nqihub.tables.exports import export_response

from . import services
from .forms import OrganizationFilterForm, OrganizationForm, RegistrationForm, ReturnForm
from .models import EnterpriseRegistration, Organization
from .selectors import credit_code_review_notes

EXPORT_LIMIT = 100_000


def _filtered_organizations(request: HttpRequest, form: OrganizationFilterForm, *, scoped: bool = True):
    qs = Organization.objects.all()
    qs = (qs.for_user(request.user, "view") if scoped else qs).select_related("division")
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        if q:
            qs = qs.filter(Q(name__icontains=q) | Q(credit_code__iexact=q.upper()))
        if form.cleaned_data["kind"]:
            qs = qs.filter(kind=form.cleaned_data["kind"])
        if form.cleaned_data["division"]:
            from nqihub.divisions.models import AdminDivision

            division = AdminDivision.objects.filter(pk=form.cleaned_data["division"]).first()
            qs = (
                qs.filter(division_id__in=AdminDivision.objects.within(division).values("code"))
                if division
                else qs.none()
            )
    return qs.order_by("name", "pk")


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    form = OrganizationFilterForm(request.GET or None)
    page = scoped_page(request, _filtered_organizations(request, form, scoped=False), per_page=50)
    return render(request, "organizations/organization_list.html", {"form": form, "page": page})


@login_required
def organization_export(request: HttpRequest) -> HttpResponse:
    form = OrganizationFilterForm(request.GET or None)
    qs = _filtered_organizations(request, form).select_related("division__parent")
    total = qs.count()
    headers = [
        _("Name"),
        _("Kind"),
        _("Unified social credit code"),
        _("Division"),
        _("Division code"),
        _("Address"),
        _("Legal representative"),
        _("Industry"),
    ]
    rows = (
        [
            o.name,
            o.get_kind_display(),
            o.credit_code or "",
            o.division.name,
            o.division_id,
            o.address,
            o.legal_representative,
            o.industry,
        ]
        for o in qs[:EXPORT_LIMIT].iterator(chunk_size=2000)
    )
    filename = _("organisations") + f"-{timezone.localdate():%Y%m%d}.xlsx"
    return export_response(
        request,
        model=Organization,
        filename=filename,
        title=_("Organisations"),
        headers=headers,
        rows=rows,
        count=total,
        terms=search_terms(form),
    )


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = scoped_object(request, Organization.objects.select_related("division__parent"), pk)
    can_change = Organization.objects.for_user(request.user, "change").filter(pk=pk).exists()
    return render(
        request,
        "organizations/organization_detail.html",
        {
            "organization": organization,
            "can_change": can_change,
            "contacts": organization.contacts.all(),
            "disciplines": organization.get_disciplines_display(),
            "scopes": organization.authorisation_scopes.all()[:100],
        },
    )


@login_required
def organization_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organization = get_object_or_404(Organization.objects.for_user(request.user, "change"), pk=pk)
    initial = {f: getattr(organization, f, "") for f in OrganizationForm.base_fields if f != "disciplines"}
    initial["disciplines"] = list(organization.disciplines.values_list("discipline", flat=True))
    return form_page(
        request,
        OrganizationForm(request.POST or None, initial=initial, organization=organization),
        template="organizations/organization_form.html",
        context={"organization": organization},
        save=lambda data: services.organization_update(
            actor=request.user,
            organization=organization,
            data={k: v for k, v in data.items() if k != "disciplines"},
            disciplines=data.get("disciplines"),
        ),
        done=_("Saved."),
        then=lambda _saved: organization,
    )


# --- Enterprise registration -----------------------------------------------------------


@login_required
def registration_create(request: HttpRequest) -> HttpResponse:
    return form_page(
        request,
        RegistrationForm(request.POST or None),
        template="organizations/registration_form.html",
        save=lambda data: services.registration_submit(actor=request.user, data=data),
        done=lambda registration: (
            _("Application %(number)s was submitted. The market regulation bureau of your county will review it.")
            % {"number": registration.number}
        ),
        then=lambda registration: registration,
    )


@login_required
def registration_list(request: HttpRequest) -> HttpResponse:
    qs = EnterpriseRegistration.objects.select_related("division", "applicant")
    state = request.GET.get("state", "")
    if state in EnterpriseRegistration.State.values:
        qs = qs.filter(state=state)
    page = scoped_page(request, qs.order_by("-submitted_at", "-pk"), per_page=50)
    return render(
        request,
        "organizations/registration_list.html",
        {"page": page, "state": state, "states": EnterpriseRegistration.State.choices},
    )


@login_required
def registration_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    # A regulator reading their own application is not a query of others' data.
    is_applicant = EnterpriseRegistration.objects.filter(pk=pk, applicant_id=user.pk).exists()
    registration = scoped_object(
        request,
        EnterpriseRegistration.objects.select_related("division__parent", "reviewed_by", "applicant", "case"),
        pk,
        record=not is_applicant,
    )
    can_review = (
        registration.state == EnterpriseRegistration.State.SUBMITTED
        and EnterpriseRegistration.objects.for_user(user, "review").filter(pk=pk).exists()
    )
    edit_form = None
    if is_applicant and registration.state == EnterpriseRegistration.State.RETURNED:
        edit_form = RegistrationForm.from_registration(registration)
    return render(
        request,
        "organizations/registration_detail.html",
        {
            "registration": registration,
            "events": case_timeline(registration.case),
            "can_review": can_review,
            "is_applicant": is_applicant,
            "return_form": ReturnForm() if can_review else None,
            "edit_form": edit_form,
            "code_notes": credit_code_review_notes(registration.credit_code, registration.division),
        },
    )


def _visible_registration(request: HttpRequest, pk: int) -> EnterpriseRegistration:
    return get_object_or_404(EnterpriseRegistration.objects.for_user(request.user, "view"), pk=pk)


@login_required
@require_POST
def registration_approve(request: HttpRequest, pk: int) -> HttpResponse:
    registration = _visible_registration(request, pk)
    try:
        services.registration_approve(actor=request.user, registration=registration)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Application %(number)s was approved.") % {"number": registration.number})
    return redirect("organizations:registration_detail", pk=pk)


@login_required
@require_POST
def registration_return(request: HttpRequest, pk: int) -> HttpResponse:
    registration = _visible_registration(request, pk)
    form = ReturnForm(request.POST)
    try:
        services.registration_return(actor=request.user, registration=registration, reason=form.data.get("reason", ""))
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Application %(number)s was returned to the applicant.") % {"number": registration.number}
        )
    return redirect("organizations:registration_detail", pk=pk)


@login_required
@require_POST
def registration_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    registration = _visible_registration(request, pk)
    form = RegistrationForm(request.POST)
    if form.is_valid():
        try:
            services.registration_resubmit(actor=request.user, registration=registration, data=form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("The corrected application was submitted again."))
            return redirect("organizations:registration_detail", pk=pk)
    registration = EnterpriseRegistration.objects.select_related("division__parent").get(pk=registration.pk)
    return render(
        request,
        "organizations/registration_detail.html",
        {"registration": registration, "is_applicant": True, "edit_form": form, "can_review": False},
        status=400,
    )


@login_required
@require_POST
def registration_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    registration = _visible_registration(request, pk)
    try:
        services.registration_withdraw(actor=request.user, registration=registration)
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The application was withdrawn."))
    return redirect("organizations:registration_detail", pk=pk)
