"""Small cleaning helpers services share for values people type (the same rule and the same
message wherever a date is entered)."""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _


def clean_date(value, field: str, errors: list, *, required: bool) -> datetime.date | None:
    """A date from a form or an API body (a date, a datetime or ``YYYY-MM-DD`` text). A
    problem is appended to ``errors`` as ``(field, message)`` and None returned."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            errors.append((field, _("Enter the date.")))
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip())
    except ValueError:
        errors.append((field, _("Enter a date as YYYY-MM-DD, e.g. 2026-10-01.")))
        return None


def null_character_field(data) -> str | None:
    """The first name in ``data`` (a ``QueryDict``: a query or a form) whose name or value holds
    a NUL character, or None. No field accepts one, and PostgreSQL cannot hold it in a text
    parameter, so the page middleware and the API refuse such a request before any view."""
    for name, values in data.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return name
    return None
