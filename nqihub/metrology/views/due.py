"""The due lists (到期提醒): an enterprise's mandatory instruments, or a regulator's
jurisdiction's, with a traffic light each — red overdue, amber due within the first reminder
stage (30 days by default), green later, grey without a due date — most urgent first, the
count of each colour at the top, and an Excel export. Regulators' reads and every export are
recorded. Institutions and platform staff have no due list."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _

from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.auditing import record_regulator_query
from nqihub.core.exports import xlsx_response

from .. import selectors
from ..models import Instrument
from ..services import reminders

EXPORT_LIMIT = 100_000
PAGE_SIZE = 50


def _check_reader(request: HttpRequest):
    actor = get_actor(request.user)
    if not (actor.is_regulator or actor.kind == OrganizationKind.ENTERPRISE):
        raise PermissionDenied
    return actor


def _search(request: HttpRequest, *, data, action: str, today, window: int) -> reminders.DueInstrumentFilter:
    search = reminders.DueInstrumentFilter(
        data or None, queryset=reminders.due_instruments_for(request.user, action), today=today, window=window
    )
    fields = search.form.fields
    fields["catalogue_item"].widget = forms.Select(choices=[("", _("All")), *selectors.catalogue_choices()])
    divisions = selectors.jurisdiction_division_choices(request.user)
    if divisions:
        fields["division"].widget = forms.Select(choices=[("", _("All")), *divisions])
        fields["division"].label = _("Division")
    else:
        del fields["division"]
    return search


@login_required
def due_list(request: HttpRequest) -> HttpResponse:
    actor = _check_reader(request)
    today, window = timezone.localdate(), reminders.amber_days()
    search = _search(request, data=request.GET, action="view", today=today, window=window)
    # The colour counts cover the other filters, not the colour chosen (so each chip says how
    # many a click on it shows).
    without_colour = request.GET.copy()
    without_colour.pop("colour", None)
    without_colour.pop("page", None)
    counts = reminders.due_colour_counts(
        _search(request, data=without_colour, action="view", today=today, window=window).qs, today=today, window=window
    )
    page = Paginator(search.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    for instrument in page.object_list:
        instrument.due_colour = reminders.due_status(instrument.next_due_on, today, window=window)
        instrument.days_left = (instrument.next_due_on - today).days if instrument.next_due_on else None
        instrument.days_late = -instrument.days_left if instrument.days_left is not None else None
    if actor.is_regulator:
        record_regulator_query(user=request.user, model=Instrument, params=request.GET, count=page.paginator.count)
    query = request.GET.copy()
    query.pop("page", None)
    chips = [
        {
            "colour": colour,
            "label": label,
            "count": counts[colour],
            "query": _with_colour(without_colour, colour),
            "active": request.GET.get("colour") == colour,
        }
        for colour, label in reminders.DueColour.choices
    ]
    return render(
        request,
        "metrology/due_list.html",
        {
            "search": search,
            "page": page,
            "query": query.urlencode(),
            "chips": chips,
            "all_query": without_colour.urlencode(),
            "total": sum(counts.values()),
            "today": today,
            "window": window,
            "is_regulator": actor.is_regulator,
        },
    )


def _with_colour(query, colour: str) -> str:
    query = query.copy()
    query["colour"] = colour
    return query.urlencode()


@login_required
def due_export(request: HttpRequest) -> HttpResponse:
    _check_reader(request)
    today, window = timezone.localdate(), reminders.amber_days()
    qs = _search(request, data=request.GET, action="export", today=today, window=window).qs
    total = qs.count()
    record_regulator_query(user=request.user, model=Instrument, params=request.GET, count=total, kind="export")
    return xlsx_response(
        filename=selectors.export_filename(_("instruments-due")),
        title=_("Instruments due for verification"),
        headers=reminders.due_export_headers(),
        rows=reminders.due_export_rows(qs, today=today, window=window, limit=EXPORT_LIMIT),
    )


urlpatterns = [
    path("due/", due_list, name="due_list"),
    path("due/export.xlsx", due_export, name="due_export"),
]
