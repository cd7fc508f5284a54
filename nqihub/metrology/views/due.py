"""The due lists (到期提醒): an enterprise's mandatory instruments, or a regulator's
jurisdiction's, with a traffic light each — red overdue, amber due within the first reminder
stage (30 days by default), green later, grey without a due date — most urgent first, the
count of each colour at the top, and an Excel export. Regulators' reads and every export are
recorded. An enterprise's managers and clerks tick instruments on the list and go on to apply
for their verification. Institutions and platform staff have no due list."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.functional import cached_property

from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.views_base import searched_page

from .. import selectors
from ..services import applications as application_services
from ..services import reminders
from .applications import _can_apply
from .lists import export_context, query_without_page

PAGE_SIZE = 50


class _CountedPaginator(Paginator):
    """A paginator told its count (the colour counts already give it), so it runs no COUNT."""

    def __init__(self, object_list, per_page, *, count: int):
        super().__init__(object_list, per_page)
        self._known_count = count

    @cached_property
    def count(self) -> int:
        return self._known_count


def _check_reader(request: HttpRequest):
    actor = get_actor(request.user)
    if not (actor.is_regulator or actor.kind == OrganizationKind.ENTERPRISE):
        raise PermissionDenied
    return actor


def _search(request: HttpRequest, *, data, action: str, today, window: int) -> reminders.DueInstrumentFilter:
    """The due search, fitted to the person (only regulators narrow by division)."""
    search = reminders.DueInstrumentFilter(
        data or None, queryset=reminders.due_instruments_for(request.user, action), today=today, window=window
    )
    return selectors.fit_search(search, request.user)


@login_required
def due_list(request: HttpRequest) -> HttpResponse:
    actor = _check_reader(request)
    today, window = timezone.localdate(), reminders.amber_days()
    search = _search(request, data=request.GET, action="view", today=today, window=window)
    selectors.dress_search_form(search, request.user)
    # The colour counts cover the other filters, not the colour chosen (so each chip says how
    # many a click on it shows). The colours split the list without overlap, so the counts
    # also give the list's own count: the paginator runs no COUNT of its own.
    without_colour = request.GET.copy()
    without_colour.pop("colour", None)
    without_colour.pop("page", None)
    counts = reminders.due_colour_counts(
        _search(request, data=without_colour, action="view", today=today, window=window).qs, today=today, window=window
    )
    total = sum(counts.values())
    listed = search.qs  # validates the form first; a bad value of a filter is left out
    colour = getattr(search.form, "cleaned_data", {}).get("colour")
    count = counts[colour] if colour in counts else total
    # A regulator's read is recorded by the base, with the list's own count.
    page = searched_page(request, listed, per_page=PAGE_SIZE, paginator=_CountedPaginator, count=count)
    for instrument in page.object_list:
        instrument.due_colour = reminders.due_status(instrument.next_due_on, today, window=window)
        instrument.due_label = reminders.DueColour(instrument.due_colour).label
        instrument.days_left = (instrument.next_due_on - today).days if instrument.next_due_on else None
        instrument.days_late = -instrument.days_left if instrument.days_left is not None else None
    # An enterprise's managers and clerks tick instruments here and go on to apply for their
    # verification (the application form's first step); those already in an open application
    # have no tick box. Regulators only read.
    can_apply = _can_apply(request.user)
    applicable: set[int] = set()
    if can_apply and page.object_list:
        applicable = set(
            application_services.applicable_instruments(request.user)
            .filter(pk__in=[i.pk for i in page.object_list])
            .values_list("pk", flat=True)
        )
    chips = [
        {
            "colour": value,
            "label": label,
            "count": counts[value],
            "query": _with_colour(without_colour, value),
            "active": request.GET.get("colour") == value,
        }
        for value, label in reminders.DueColour.choices
    ]
    return render(
        request,
        "metrology/due_list.html",
        {
            "search": search,
            "page": page,
            "query": query_without_page(request),
            "chips": chips,
            "all_query": without_colour.urlencode(),
            "total": total,
            "today": today,
            "window": window,
            "is_regulator": actor.is_regulator,
            "can_apply": can_apply,
            "applicable": applicable,
            **export_context(reminders.DUE_EXPORT, count),
        },
    )


def _with_colour(query, colour: str) -> str:
    query = query.copy()
    query["colour"] = colour
    return query.urlencode()


@login_required
def due_export(request: HttpRequest) -> HttpResponse:
    _check_reader(request)
    return reminders.DUE_EXPORT.response(request)


urlpatterns = [
    path("due/", due_list, name="due_list"),
    path("due/export.xlsx", due_export, name="due_export"),
]
