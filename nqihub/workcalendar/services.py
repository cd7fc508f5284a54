"""The working-day calendar: reading it, and the system administrator's changes to it.

Reading. A day is a working day when the calendar has a make-up working day (调休上班) on it, or
when it is Monday to Friday and the calendar has no day off on it. With an empty calendar,
working days are Monday to Friday. ``is_working_day`` answers one day with one query;
``add_working_days`` and ``WorkingCalendar`` load the entries of a whole range of dates at once
(one query for the range, not one per day), so a deadline costs one query. Nothing is kept
between calls: an entry the administrator adds is used by the next call, in every process.

Changing. ``calendar_entry_create`` (one day, or a period of consecutive days with the same
kind, name and source), ``calendar_entry_update`` and ``calendar_entry_delete`` are the only
way entries change. Each needs ``configuration.manage`` (the system administrator), runs in one
transaction, locks what it changes and writes one audit record; a refusal changes nothing and
is itself recorded. The rules: a date, a kind, a name and a source are required; a make-up
working day falls on a Saturday or a Sunday (Monday to Friday are working days already); a
date has at most one entry.

Deadlines already stored (an application's ``accept_by``) are promises made when they were set:
changing the calendar does not move them.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any, cast

from django.db import models
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, requires
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability
from nqihub.core.errors import InvalidInput, ServiceError, invalid_fields
from nqihub.core.inputs import clean_date

from . import errors
from .models import CalendarEntry, DayKind

__all__ = [
    "MAX_PERIOD_DAYS",
    "WorkingCalendar",
    "add_working_days",
    "calendar_entry_clean_data",
    "calendar_entry_create",
    "calendar_entry_delete",
    "calendar_entry_update",
    "is_working_day",
]

ENTRY_FIELDS = ("date", "kind", "name", "source")
# The longest period one form may add (the longest holidays are 8 or 9 days).
MAX_PERIOD_DAYS = 31
_SATURDAY = 5
_ONE_DAY = datetime.timedelta(days=1)


# --------------------------------------------------------------------------- reading


def _local_date(value: datetime.date | datetime.datetime) -> datetime.date:
    """The calendar date of ``value``: in the platform's time zone for an aware datetime."""
    if isinstance(value, datetime.datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).date()
    return value


def _working(day: datetime.date, kind: str | None) -> bool:
    if kind == DayKind.DAY_OFF:
        return False
    if kind == DayKind.WORKING_DAY:
        return True
    return day.weekday() < _SATURDAY


class WorkingCalendar:
    """The calendar over a range of dates, read from the database once per window of
    ``window_days`` days: ask about any number of days in the range without a further query.
    A day outside what was loaded loads the missing window (one more query)."""

    def __init__(self, start: datetime.date, window_days: int = 62) -> None:
        self._window = datetime.timedelta(days=max(int(window_days), 1))
        self._first = self._end = start  # loaded: [first, end)
        self._kinds: dict[datetime.date, str] = {}

    def _load(self, first: datetime.date, end: datetime.date) -> None:
        self._kinds.update(CalendarEntry.objects.filter(date__gte=first, date__lt=end).values_list("date", "kind"))

    def kind(self, day: datetime.date) -> str | None:
        """The entry's kind on ``day``, or None when the day has no entry."""
        if day < self._first:
            self._load(day, self._first)
            self._first = day
        elif day >= self._end:
            end = max(self._end + self._window, day + _ONE_DAY)
            self._load(self._end, end)
            self._end = end
        return self._kinds.get(day)

    def is_working_day(self, day: datetime.date | datetime.datetime) -> bool:
        day = _local_date(day)
        return _working(day, self.kind(day))


def is_working_day(day: datetime.date | datetime.datetime) -> bool:
    """Whether ``day`` (a date, or a datetime's local date) is a working day. One query."""
    day = _local_date(day)
    kind = CalendarEntry.objects.filter(date=day).values_list("kind", flat=True).first()
    return _working(day, kind)


def add_working_days(start, n: int):
    """``start`` plus ``n`` working days, at the same (local) time of day.

    Counting starts on the day after ``start``'s local date; every day counted is a working
    day, so the result is always on a working day: with ``n`` = 0 a ``start`` on a day off
    moves on to the next working day. ``start`` may be an aware or naive datetime (the result
    is in the platform's time zone, or naive) or a date (the result is a date). Usually one
    query.
    """
    remaining = max(int(n), 0)
    if isinstance(start, datetime.datetime):
        moment = timezone.localtime(start) if timezone.is_aware(start) else start
        first = moment.date()
    else:
        moment, first = None, start
    # Wide enough for n working days and the longest holidays, so one window usually does.
    calendar = WorkingCalendar(first, window_days=remaining * 2 + 21)
    offset = 0
    if remaining == 0:
        while not calendar.is_working_day(first + datetime.timedelta(days=offset)):
            offset += 1
    while remaining:
        offset += 1
        if calendar.is_working_day(first + datetime.timedelta(days=offset)):
            remaining -= 1
    if moment is None:
        return first + datetime.timedelta(days=offset)
    # Aware arithmetic in one time zone keeps the wall-clock time.
    return moment + datetime.timedelta(days=offset)


# --------------------------------------------------------------------------- checking


LABELS = {
    "date": CalendarEntry._meta.get_field("date").verbose_name,
    "date_until": gettext_lazy("Last day of the period"),
    "kind": CalendarEntry._meta.get_field("kind").verbose_name,
    "name": CalendarEntry._meta.get_field("name").verbose_name,
    "source": CalendarEntry._meta.get_field("source").verbose_name,
}


def _invalid(errors: Iterable[tuple[str, str]]) -> InvalidInput:
    return invalid_fields(errors, label=lambda name: LABELS.get(name, name))


def _text(values: Mapping[str, Any], field: str, errors: list) -> str:
    value = values.get(field)
    text = "" if value is None else str(value).strip()
    limit = cast(models.Field, CalendarEntry._meta.get_field(field)).max_length
    if not text:
        errors.append((field, _("This field is required.")))
    elif limit is not None and len(text) > limit:
        errors.append((field, _("At most %(max)d characters (%(count)d given).") % {"max": limit, "count": len(text)}))
    return text


def _weekday_name(day: datetime.date) -> str:
    return str(WEEKDAYS[day.weekday()])


def _clean(
    data: Mapping[str, Any], *, instance: CalendarEntry | None = None, period: bool = False
) -> tuple[dict[str, Any], list[datetime.date]]:
    values: dict[str, Any] = {name: getattr(instance, name) for name in ENTRY_FIELDS} if instance else {}
    values.update({k: v for k, v in data.items() if k in ENTRY_FIELDS})
    errors: list[tuple[str, str]] = []
    cleaned: dict[str, Any] = {"date": clean_date(values.get("date"), "date", errors, required=True)}
    kind = str(values.get("kind") or "").strip()
    if kind not in DayKind.values:
        errors.append(("kind", _("Choose whether the date is a day off or a make-up working day.")))
    cleaned["kind"] = kind
    cleaned["name"] = _text(values, "name", errors)
    cleaned["source"] = _text(values, "source", errors)

    day = cleaned["date"]
    dates = [day] if day is not None else []
    until = clean_date(data.get("date_until"), "date_until", errors, required=False) if period else None
    if day is not None and until is not None and until != day:
        if until < day:
            errors.append(("date_until", _("The last day must not be before the first.")))
        elif (until - day).days + 1 > MAX_PERIOD_DAYS:
            errors.append(
                (
                    "date_until",
                    _("A period is at most %(max)d days; enter a longer one in parts.") % {"max": MAX_PERIOD_DAYS},
                )
            )
        else:
            dates = [day + datetime.timedelta(days=i) for i in range((until - day).days + 1)]
    if kind == DayKind.WORKING_DAY:
        weekday = next((d for d in dates if d.weekday() < _SATURDAY), None)
        if weekday is not None:
            errors.append(
                (
                    "date",
                    _(
                        "%(date)s is a %(weekday)s: a make-up working day can only be a Saturday or a Sunday,"
                        " because Monday to Friday are working days anyway."
                    )
                    % {"date": f"{weekday:%Y-%m-%d}", "weekday": _weekday_name(weekday)},
                )
            )
    if errors:
        raise _invalid(errors)
    return cleaned, dates


def calendar_entry_clean_data(data: Mapping[str, Any], *, instance: CalendarEntry | None = None) -> dict[str, Any]:
    """Check one entry (the given values over ``instance``'s, for a partial change) and return
    its fields cleaned. Raises InvalidInput listing every problem. Whether the date is free
    is checked by the services, under their lock."""
    return _clean(data, instance=instance)[0]


def _date_taken(entry: CalendarEntry) -> ServiceError:
    return errors.CALENDAR_DATE_TAKEN(
        field="date", date=f"{entry.date:%Y-%m-%d}", name=entry.name, kind=entry.get_kind_display()
    )


def _date_taken_race() -> ServiceError:
    return errors.CALENDAR_DATE_TAKEN(
        _("Another entry was saved on this date a moment ago: reload the calendar and check it."), field="date"
    )


# --------------------------------------------------------------------------- changing


def _entry_id(entry: CalendarEntry | int | str) -> int:
    try:
        return int(entry.pk if isinstance(entry, CalendarEntry) else entry)
    except (TypeError, ValueError):
        return 0


def _target(entry: CalendarEntry | int | str):
    if isinstance(entry, CalendarEntry):
        return entry
    return (CalendarEntry._meta.label_lower, str(_entry_id(entry)), "")


def _describe(entry: CalendarEntry) -> dict[str, str]:
    return {"date": f"{entry.date:%Y-%m-%d}", "kind": entry.kind, "name": entry.name, "source": entry.source}


def _locked_entry(actor, entry, action: str) -> CalendarEntry:
    """The entry, locked: NotFound when the actor may not see it (or it is gone), Forbidden
    when they may see it but not change it."""
    return locked_for(
        CalendarEntry.objects.for_user(actor, "view"), CalendarEntry.objects.for_user(actor, action), _entry_id(entry)
    )


def _period(actor, **kw) -> dict[str, str]:
    data = kw["data"]
    return {"date": str(data.get("date") or "")[:10], "date_until": str(data.get("date_until") or "")[:10]}


def _entry_target(actor, **kw):
    return _target(kw["entry"])


@audited_service(
    "calendar_entry.create",
    gettext_lazy("Calendar entry added"),
    check=requires(Capability.MANAGE_CONFIGURATION),
    details=_period,
    conflict=_date_taken_race,  # another entry on one of the dates, saved between the check and the insert
)
def calendar_entry_create(*, actor, data: Mapping[str, Any]) -> list[CalendarEntry]:
    """The system administrator adds the entry of one date, or, with ``date_until``, one entry
    for every date of a period (a holiday of several days), all or nothing. Returns the entries
    made, in date order."""
    cleaned, dates = _clean(data, period=True)
    taken = CalendarEntry.objects.select_for_update().filter(date__in=dates).order_by("date").first()
    if taken is not None:
        raise _date_taken(taken)
    fields = {k: v for k, v in cleaned.items() if k != "date"}
    entries = [CalendarEntry.objects.create(date=day, **fields) for day in dates]
    first, last = entries[0], entries[-1]
    target = (
        first
        if len(entries) == 1
        else (
            CalendarEntry._meta.label_lower,
            ",".join(str(e.pk) for e in entries),
            f"{first.date:%Y-%m-%d} – {last.date:%Y-%m-%d} {first.name} ({first.get_kind_display()})",
        )
    )
    audit_record(
        action="calendar_entry.create",
        actor=actor,
        target=target,
        details={
            "dates": [f"{e.date:%Y-%m-%d}" for e in entries],
            "ids": [e.pk for e in entries],
            "kind": first.kind,
            "name": first.name,
            "source": first.source,
        },
    )
    return entries


@audited_service(
    "calendar_entry.update",
    gettext_lazy("Calendar entry changed"),
    target=_entry_target,
    conflict=_date_taken_race,
)
def calendar_entry_update(*, actor, entry: CalendarEntry | int, data: Mapping[str, Any]) -> CalendarEntry:
    """The system administrator changes an entry; ``data`` may hold only the fields to change."""
    locked = _locked_entry(actor, entry, "change")
    cleaned = calendar_entry_clean_data(data, instance=locked)
    if cleaned["date"] != locked.date:
        taken = CalendarEntry.objects.filter(date=cleaned["date"]).exclude(pk=locked.pk).first()
        if taken is not None:
            raise _date_taken(taken)
    changes = apply_changes(locked, cleaned, str)
    locked.save()
    audit_record(action="calendar_entry.update", actor=actor, target=locked, details={"changes": changes})
    return locked


@audited_service("calendar_entry.delete", gettext_lazy("Calendar entry deleted"), target=_entry_target)
def calendar_entry_delete(*, actor, entry: CalendarEntry | int) -> None:
    """The system administrator deletes an entry: the date follows the week's rule again."""
    locked = _locked_entry(actor, entry, "delete")
    target = (locked._meta.label_lower, str(locked.pk), str(locked)[:200])
    details = _describe(locked)
    locked.delete()
    audit_record(action="calendar_entry.delete", actor=actor, target=target, details=details)
