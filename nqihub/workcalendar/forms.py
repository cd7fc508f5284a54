"""Page input of the working-day calendar. The forms check the shape of what was typed, with
the same messages as the services; the rules (a make-up working day on a weekend, one entry
per date) are the services'."""

from __future__ import annotations

from typing import cast

from django import forms
from django.db import models
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .models import CalendarEntry, DayKind

_DATE_MESSAGES = {
    "required": _("Enter the date."),
    "invalid": _("Enter a date as YYYY-MM-DD, e.g. 2026-10-01."),
}


def _field(name: str) -> models.Field:
    return cast(models.Field, CalendarEntry._meta.get_field(name))


def _label(name: str):
    return capfirst(_field(name).verbose_name)


class CalendarEntryForm(forms.Form):
    """One entry; when adding, optionally a period (``date_until``): one entry per date."""

    date = forms.DateField(error_messages=_DATE_MESSAGES, widget=forms.DateInput(attrs={"type": "date"}))
    date_until = forms.DateField(
        label=_("Last day of the period"),
        required=False,
        error_messages=_DATE_MESSAGES,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional, for a holiday of several days: one entry is made for every date up to this one."),
    )
    kind = forms.ChoiceField(
        choices=DayKind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether the date is a day off or a make-up working day."),
            "invalid_choice": _("Choose whether the date is a day off or a make-up working day."),
        },
    )
    name = forms.CharField(max_length=50)
    source = forms.CharField(max_length=300, widget=forms.Textarea(attrs={"rows": 3, "maxlength": 300}))

    def __init__(self, *args, entry: CalendarEntry | None = None, **kwargs):
        if entry is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(entry, name) for name in ("date", "kind", "name", "source")}
        super().__init__(*args, **kwargs)
        for name in ("date", "kind", "name", "source"):
            self.fields[name].label = _label(name)
            self.fields[name].help_text = _field(name).help_text
        self.fields["name"].widget.attrs["list"] = "calendar-names"
        if entry is not None:
            del self.fields["date_until"]  # a period is only for adding
