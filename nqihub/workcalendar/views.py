"""Pages of the working-day calendar, under /calendar/ (included by ``nqihub.urls``): a year's
entries for every signed-in user; adding, changing and deleting for the system administrator
(``CalendarEntry.objects.for_user(user, "change")``), as for the metrology catalogue.

Someone without the capability gets 403 on the add page and 404 on an entry's edit and delete
pages. A POST from them (a forged form) is first handed to the service, which refuses it and
records the refusal in the audit trail; nothing changes.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from nqihub.core.access import Capability, has_capability
from nqihub.core.errors import ServiceError
from nqihub.core.forms import apply_service_error

from . import services
from .forms import CalendarEntryForm
from .models import CalendarEntry, DayKind

app_name = "workcalendar"

MIN_YEAR, MAX_YEAR = 1949, 2200


def _may_edit(user) -> bool:
    return has_capability(user, Capability.MANAGE_CONFIGURATION)


def _year(raw, default: int) -> int:
    try:
        year = int(str(raw).strip())
    except (TypeError, ValueError):
        return default
    return year if MIN_YEAR <= year <= MAX_YEAR else default


def _year_url(year: int) -> str:
    return f"{reverse('workcalendar:list')}?year={year}"


def _refused(call: Callable[[], object]) -> None:
    """Let the service refuse a POST from someone who may not make it (the refusal is
    recorded); the page then answers as it would to a GET."""
    try:
        call()
    except ServiceError:
        pass


def _entry_to_change(request: HttpRequest, pk: int, refuse: Callable[[], object]) -> CalendarEntry:
    entry = CalendarEntry.objects.for_user(request.user, "change").filter(pk=pk).first()
    if entry is None:
        if request.method == "POST":
            _refused(refuse)
        raise Http404
    return entry


def _names() -> list[str]:
    """Names already used, offered when typing one (春节, 国庆节 …)."""
    return list(CalendarEntry.objects.order_by("name").values_list("name", flat=True).distinct())


@login_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    year = _year(request.GET.get("year"), today.year)
    visible = CalendarEntry.objects.for_user(request.user, "view")
    entries = list(visible.in_year(year))
    recorded_years = {d.year for d in visible.dates("date", "year")}
    return render(
        request,
        "workcalendar/calendar_list.html",
        {
            "year": year,
            "entries": entries,
            "years": sorted(recorded_years | {today.year, year}),
            "previous_year": year - 1 if year > MIN_YEAR else None,
            "next_year": year + 1 if year < MAX_YEAR else None,
            "weekdays_off": sum(1 for e in entries if e.kind == DayKind.DAY_OFF and e.date.weekday() < 5),
            "make_up_days": sum(1 for e in entries if e.kind == DayKind.WORKING_DAY),
            "next_year_missing": year == today.year and (year + 1) not in recorded_years,
            "can_edit": _may_edit(request.user),
        },
    )


def _form_page(request, form, entry):
    return render(request, "workcalendar/entry_form.html", {"form": form, "entry": entry, "names": _names()})


@login_required
def entry_create(request: HttpRequest) -> HttpResponse:
    if not _may_edit(request.user):
        if request.method == "POST":
            _refused(lambda: services.calendar_entry_create(actor=request.user, data={}))
        raise PermissionDenied
    initial = {}
    if request.GET.get("date"):
        initial["date"] = request.GET["date"][:10]
    form = CalendarEntryForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            entries = services.calendar_entry_create(actor=request.user, data=form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(
                request,
                ngettext("%(count)d calendar entry was added.", "%(count)d calendar entries were added.", len(entries))
                % {"count": len(entries)},
            )
            return redirect(_year_url(entries[0].date.year))
    return _form_page(request, form, None)


@login_required
def entry_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry_to_change(request, pk, lambda: services.calendar_entry_update(actor=request.user, entry=pk, data={}))
    form = CalendarEntryForm(request.POST or None, entry=entry)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.calendar_entry_update(actor=request.user, entry=entry, data=form.cleaned_data)
        except ServiceError as exc:
            apply_service_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_year_url(saved.date.year))
    return _form_page(request, form, entry)


@login_required
def entry_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _entry_to_change(request, pk, lambda: services.calendar_entry_delete(actor=request.user, entry=pk))
    if request.method == "POST":
        try:
            services.calendar_entry_delete(actor=request.user, entry=entry)
        except ServiceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("The entry of %(date)s (%(name)s) was deleted: the date follows the weekly rule again.")
                % {"date": f"{entry.date:%Y-%m-%d}", "name": entry.name},
            )
        return redirect(_year_url(entry.date.year))
    return render(request, "workcalendar/entry_confirm_delete.html", {"entry": entry})


urlpatterns = [
    path("", calendar_list, name="list"),
    path("new/", entry_create, name="create"),
    path("<int:pk>/edit/", entry_edit, name="edit"),
    path("<int:pk>/delete/", entry_delete, name="delete"),
]
