"""The working-day calendar: the dates on which the week's rule (Monday to Friday work,
Saturday and Sunday off) does not hold.

Each year the State Council's General Office publishes the next year's public holidays
(法定节假日) and the weekend days worked in their place (调休上班). They are data with their
source, edited by the system administrator through ``services``; nothing about them is in code.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from nqihub.core.access import Capability
from nqihub.core.scoping import ScopedQuerySet, capability, everyone


class DayKind(models.TextChoices):
    DAY_OFF = "day_off", _("Day off (public holiday)")
    WORKING_DAY = "working_day", _("Make-up working day")


class CalendarEntryQuerySet(ScopedQuerySet):
    """Platform-wide reference data: every signed-in user reads it; it is configuration,
    so only the system administrator (``configuration.manage``) changes it."""

    scope = {
        "view": (everyone(),),
        ("create", "change", "delete"): (capability(Capability.MANAGE_CONFIGURATION),),
    }

    def in_year(self, year: int) -> CalendarEntryQuerySet:
        return self.filter(date__year=year)


class CalendarEntry(models.Model):
    """One date that differs from the week's rule (or that the notice names as part of a
    holiday period): a day off, or a make-up working day on a Saturday or Sunday."""

    date = models.DateField(_("date"), unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=DayKind.choices)
    name = models.CharField(_("name"), max_length=50, help_text=_("The holiday's name as the notice gives it."))
    source = models.CharField(
        _("source"),
        max_length=300,
        help_text=_("The State Council notice it comes from (title and number), and how far it was checked."),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CalendarEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("calendar entry")
        verbose_name_plural = _("calendar entries")
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(condition=models.Q(kind__in=DayKind.values), name="workcalendar_entry_kind_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.name} ({self.get_kind_display()})"

    @property
    def is_day_off(self) -> bool:
        return self.kind == DayKind.DAY_OFF
