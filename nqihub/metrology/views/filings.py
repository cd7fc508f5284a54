"""Pages of 强检备案 (mandatory-verification filing) and of the filed instruments.

Enterprises choose instruments to file, follow their filings and correct returned ones; the
county regulator approves or returns them; every regulator lists the filings and the filed
instruments in their jurisdiction (reads and exports recorded in the audit trail). All
writes go through ``nqihub.metrology.services.filings``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from nqihub.cases.selectors import timeline as case_timeline
from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.errors import ServiceError
from nqihub.core.views_base import scoped_object, searched_page

from .. import selectors
from ..models import Instrument, InstrumentFiling
from ..services import filings as services
from .lists import searched_list, state_search

PAGE_SIZE = 50


def _can_file(user) -> bool:
    """Whether the acting person files for an enterprise (the service decides for real)."""
    actor = get_actor(user)
    return actor.kind == OrganizationKind.ENTERPRISE and actor.can_work


def _submitted_ids(request: HttpRequest) -> list[str]:
    return request.POST.getlist("instruments")


def _checked(ids: list[str]) -> set[int]:
    return {int(i) for i in ids if i.isdigit()}


# --- Filing instruments (enterprise) --------------------------------------------------------


@login_required
def filing_create(request: HttpRequest) -> HttpResponse:
    """The acting enterprise's mandatory instruments not yet filed, to tick and submit."""
    if not _can_file(request.user):
        raise Http404
    status = 200
    checked: set[int] = set()
    if request.method == "POST":
        ids = _submitted_ids(request)
        try:
            filing = services.filing_submit(actor=request.user, instrument_ids=ids)
        except ServiceError as exc:
            messages.error(request, exc.message)
            checked, status = _checked(ids), 400
        else:
            messages.success(
                request,
                _("Filing %(number)s was submitted. The market regulation bureau of your county will review it.")
                % {"number": filing.number},
            )
            return redirect("metrology:filing_detail", pk=filing.pk)
    candidates = services.fileable_instruments(request.user).select_related("catalogue_item").order_by("name", "pk")
    total = candidates.count()
    return render(
        request,
        "metrology/filing_form.html",
        {
            "choice_rows": [(i, i.pk in checked) for i in candidates[: services.MAX_INSTRUMENTS_PER_FILING]],
            "total": total,
            "limit": services.MAX_INSTRUMENTS_PER_FILING,
            "checked": checked,
        },
        status=status,
    )


# --- Filings -------------------------------------------------------------------------------


@login_required
def filing_list(request: HttpRequest) -> HttpResponse:
    qs = (
        InstrumentFiling.objects.for_user(request.user, "view")
        .select_related("organization", "division")
        .annotate(instrument_count=Count("instruments"))
    )
    # Filing numbers are stored in capitals (BA…): compared exactly, through their index.
    qs, state, q = state_search(
        request, qs, InstrumentFiling.State, lambda q: Q(number=q.upper()) | Q(organization__name__icontains=q)
    )
    page = searched_page(request, qs.order_by("-submitted_at", "-pk"), per_page=PAGE_SIZE)
    actor = get_actor(request.user)
    return render(
        request,
        "metrology/filing_list.html",
        {
            "page": page,
            "state": state,
            "q": q,
            "states": InstrumentFiling.State.choices,
            "is_regulator": actor.is_regulator,
            "can_file": _can_file(request.user),
        },
    )


@login_required
def filing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    filing = scoped_object(
        request,
        InstrumentFiling.objects.select_related(
            "organization", "division__parent", "submitted_by", "reviewed_by", "case"
        ).prefetch_related(
            Prefetch("instruments", queryset=Instrument.objects.select_related("catalogue_item").order_by("name", "pk"))
        ),
        pk,
    )
    user = request.user
    State = InstrumentFiling.State
    can_review = (
        filing.state == State.SUBMITTED and InstrumentFiling.objects.for_user(user, "review").filter(pk=pk).exists()
    )
    can_resubmit = (
        filing.state == State.RETURNED and InstrumentFiling.objects.for_user(user, "change").filter(pk=pk).exists()
    )
    instruments = list(filing.instruments.all())
    resubmit_choices = []
    if can_resubmit:
        current = {i.pk for i in instruments}
        others = (
            services.fileable_instruments(user, filing_id=filing.pk)
            .exclude(pk__in=current)
            .select_related("catalogue_item")
            .order_by("name", "pk")[: services.MAX_INSTRUMENTS_PER_FILING]
        )
        resubmit_choices = [(i, True) for i in instruments] + [(i, False) for i in others]
    return render(
        request,
        "metrology/filing_detail.html",
        {
            "filing": filing,
            "instruments": instruments,
            "events": case_timeline(filing.case),
            "can_review": can_review,
            "can_resubmit": can_resubmit,
            "resubmit_choices": resubmit_choices,
        },
    )


@login_required
@require_POST
def filing_approve(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        filing = services.filing_approve(actor=request.user, filing=pk)
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Filing %(number)s was approved; its instruments are filed.") % {"number": filing.number}
        )
    return redirect("metrology:filing_detail", pk=pk)


@login_required
@require_POST
def filing_return(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        filing = services.filing_return(actor=request.user, filing=pk, reason=request.POST.get("reason", ""))
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Filing %(number)s was returned to the enterprise.") % {"number": filing.number})
    return redirect("metrology:filing_detail", pk=pk)


@login_required
@require_POST
def filing_resubmit(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        filing = services.filing_resubmit(actor=request.user, filing=pk, instrument_ids=_submitted_ids(request))
    except ServiceError as exc:
        if exc.status_code == 404 and exc.field is None:
            raise Http404 from exc
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Filing %(number)s was corrected and submitted again.") % {"number": filing.number})
    return redirect("metrology:filing_detail", pk=pk)


# --- Filed instruments (regulators: their jurisdiction; an enterprise: its own) --------------


def _filed_search(request: HttpRequest, *, action: str = "view") -> selectors.FiledInstrumentFilter:
    """The ledger's search over the filed instruments, fitted to the person (only regulators
    narrow by division and enterprise)."""
    return selectors.fit_search(
        selectors.filed_instrument_search(request.user, request.GET, action=action), request.user
    )


@login_required
def filed_instrument_list(request: HttpRequest) -> HttpResponse:
    search = _filed_search(request)
    divisions = selectors.dress_search_form(search, request.user)
    context = searched_list(request, search, selectors.FILED_EXPORT, per_page=PAGE_SIZE)
    return render(request, "metrology/filing_filed_instruments.html", {**context, "divisions": divisions})


@login_required
def filed_instrument_export(request: HttpRequest) -> HttpResponse:
    return selectors.FILED_EXPORT.response(request)


urlpatterns = [
    path("filings/", filing_list, name="filing_list"),
    path("filings/new/", filing_create, name="filing_create"),
    path("filings/<int:pk>/", filing_detail, name="filing_detail"),
    path("filings/<int:pk>/approve/", filing_approve, name="filing_approve"),
    path("filings/<int:pk>/return/", filing_return, name="filing_return"),
    path("filings/<int:pk>/resubmit/", filing_resubmit, name="filing_resubmit"),
    path("filed-instruments/", filed_instrument_list, name="filed_instrument_list"),
    path("filed-instruments/export.xlsx", filed_instrument_export, name="filed_instrument_export"),
]
