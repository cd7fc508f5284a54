"""Ledger pages. Enterprises see and keep their own ledger (managers and clerks change it,
viewers read it); regulators read the instruments in their jurisdiction, and each of their
list, detail and export reads is recorded; institutions and platform staff see none yet."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import form_page, scoped_object

from .. import selectors
from ..forms import InstrumentForm
from ..models import Instrument
from ..services import instruments as services
from .lists import searched_list

PAGE_SIZE = 50


def _keeps_ledger(user) -> bool:
    actor = get_actor(user)
    return actor.kind == OrganizationKind.ENTERPRISE and actor.can_work


def _search(request: HttpRequest, *, action: str = "view") -> selectors.InstrumentFilter:
    """The ledger search, with its form dressed for this person (``dress_search_form``)."""
    search = selectors.instrument_search(request.user, request.GET, action=action)
    selectors.dress_search_form(search, request.user)
    return search


@login_required
def instrument_list(request: HttpRequest) -> HttpResponse:
    context = searched_list(request, _search(request), selectors.LEDGER_EXPORT, per_page=PAGE_SIZE)
    context["can_create"] = _keeps_ledger(request.user)
    return render(request, "metrology/instrument_list.html", context)


@login_required
def instrument_export(request: HttpRequest) -> HttpResponse:
    # Exports are recorded for everyone (as for organisations), regulators included. The
    # background export of the same search (nqihub.downloads) writes the same rows.
    return selectors.LEDGER_EXPORT.response(request)


@login_required
def instrument_detail(request: HttpRequest, pk: int) -> HttpResponse:
    instrument = scoped_object(
        request, Instrument.objects.select_related("catalogue_item", "organization", "division"), pk
    )
    can_change = Instrument.objects.for_user(request.user, "change").filter(pk=pk).exists()
    next_statuses = [
        (value, label)
        for value, label in Instrument.Status.choices
        if value in services.STATUS_TRANSITIONS[instrument.status]
    ]
    return render(
        request,
        "metrology/instrument_detail.html",
        {
            "instrument": instrument,
            "item": instrument.catalogue_item,
            "explanation": selectors.mandatory_explanation(instrument),
            "can_change": can_change,
            "can_set_status": bool(can_change and next_statuses),
            "next_statuses": next_statuses,
        },
    )


@login_required
def instrument_create(request: HttpRequest) -> HttpResponse:
    if not _keeps_ledger(request.user):
        raise PermissionDenied
    return form_page(
        request,
        InstrumentForm(request.POST or None),
        template="metrology/instrument_form.html",
        context={"instrument": None},
        save=lambda data: services.instrument_create(actor=request.user, data=data),
        done=lambda instrument: (
            _("Instrument %(name)s was added to the ledger with platform code %(code)s.")
            % {"name": instrument.name, "code": instrument.platform_code}
        ),
        then=lambda instrument: instrument,
    )


@login_required
def instrument_edit(request: HttpRequest, pk: int) -> HttpResponse:
    instrument = get_object_or_404(
        Instrument.objects.for_user(request.user, "change").select_related("catalogue_item"), pk=pk
    )
    return form_page(
        request,
        InstrumentForm(request.POST or None, instrument=instrument),
        template="metrology/instrument_form.html",
        context={"instrument": instrument},
        save=lambda data: services.instrument_update(actor=request.user, instrument=instrument, data=data),
        done=_("Saved."),
        then=lambda _saved: instrument,
    )


@login_required
@require_POST
def instrument_status(request: HttpRequest, pk: int) -> HttpResponse:
    instrument = get_object_or_404(Instrument.objects.for_user(request.user, "view"), pk=pk)
    try:
        instrument = services.instrument_set_status(
            actor=request.user, instrument=instrument, status=request.POST.get("status", "")
        )
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("The instrument is now “%(status)s”.") % {"status": instrument.get_status_display()}
        )
    return redirect(instrument)


urlpatterns = [
    path("instruments/", instrument_list, name="instrument_list"),
    path("instruments/export.xlsx", instrument_export, name="instrument_export"),
    path("instruments/new/", instrument_create, name="instrument_create"),
    path("instruments/<int:pk>/", instrument_detail, name="instrument_detail"),
    path("instruments/<int:pk>/edit/", instrument_edit, name="instrument_edit"),
    path("instruments/<int:pk>/status/", instrument_status, name="instrument_status"),
]
