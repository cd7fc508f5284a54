"""Error codes of the working-day calendar."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry

errors = ErrorRegistry("workcalendar")

CALENDAR_DATE_TAKEN = errors.add(
    "calendar_date_taken",
    Conflict,
    _("%(date)s already has an entry (%(name)s, %(kind)s): change or delete that entry instead."),
)
