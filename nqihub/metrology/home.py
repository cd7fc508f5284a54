"""The metrology panel of the home pages (registered in ``MetrologyConfig.ready`` with
``core.registries.register_home_panel``)."""

from __future__ import annotations

from django.core.cache import cache
from django.utils import timezone

from nqihub.core.access import get_actor

from .models import InstrumentFiling, VerificationApplication
from .querysets import OPEN_STATES
from .services.reminders import amber_days, due_colour_counts, due_instruments_for

HOME_DUE_CACHE_SECONDS = 300


def home_summary(user) -> dict:
    """The metrology work waiting for ``user``'s organisation, for its home page: a handful
    of counts, each one query."""
    actor = get_actor(user)
    org = actor.organization
    if org is None:
        return {}
    today = timezone.localdate()
    summary: dict = {}
    if org.kind == "enterprise" or actor.is_regulator:
        summary["due_days"] = window = amber_days()

        def due_counts():
            return due_colour_counts(due_instruments_for(user), today=today, window=window)

        if actor.is_regulator and actor.jurisdiction is not None:
            # A whole region's instruments (millions) are counted once per few minutes and
            # jurisdiction, not on every home page of every official there.
            key = f"nqi:home-due:{actor.jurisdiction.pk}:{today.isoformat()}:{window}"
            summary["due"] = cache.get_or_set(key, due_counts, HOME_DUE_CACHE_SECONDS)
        else:
            summary["due"] = due_counts()
        summary["open_applications"] = (
            VerificationApplication.objects.for_user(user).filter(state__in=OPEN_STATES).count()
        )
    if actor.is_regulator:
        summary["filings_to_review"] = (
            InstrumentFiling.objects.for_user(user, "review").filter(state="submitted").count()
        )
    if org.kind == "institution":
        inbox = VerificationApplication.objects.for_user(user).filter(state="submitted")
        summary["awaiting_acceptance"] = inbox.count()
        summary["acceptance_overdue"] = inbox.filter(accept_by__lt=timezone.now()).count()
        summary["in_progress"] = (
            VerificationApplication.objects.for_user(user).filter(state__in=["accepted", "scheduled"]).count()
        )
    return summary
