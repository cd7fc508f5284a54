"""Reads of casework shared by pages, the API and daily jobs: a case's timeline, overdue and
due-soon cases, and the cases to remind about."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Case as When_
from django.db.models import Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from . import kinds as case_kinds
from .models import Case, CaseDeadline, CaseEvent, CaseReminder


def timeline(case: Case | None) -> list[CaseEvent]:
    """The case's steps in order, each with its ``label`` in the active language. One query."""
    if case is None:
        return []
    events = list(case.events.select_related("actor").order_by("at", "pk"))
    return label_events(events, case.kind)


def label_events(events, kind_code: str) -> list[CaseEvent]:
    for event in events:
        event.label = event.label_for(kind_code)
    return events


def awaiting_decision(queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    qs = Case.objects.all() if queryset is None else queryset
    return qs.filter(state__in=Case.AWAITING_DECISION, deadline__isnull=False)


def overdue(queryset: QuerySet[Case] | None = None, *, now: datetime | None = None) -> QuerySet[Case]:
    """Cases still awaiting a decision past their promised time limit."""
    return awaiting_decision(queryset).filter(deadline__lt=now or timezone.now())


_overdue = overdue


def due_soon(
    queryset: QuerySet[Case] | None = None, *, within: timedelta = timedelta(days=1), now: datetime | None = None
) -> QuerySet[Case]:
    """Cases awaiting a decision whose time limit ends within ``within`` from now."""
    now = now or timezone.now()
    return awaiting_decision(queryset).filter(deadline__gte=now, deadline__lt=now + within)


def for_organization(organization_id: int, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases an organisation applied for or handles."""
    qs = Case.objects.all() if queryset is None else queryset
    return qs.filter(Q(applicant_organization_id=organization_id) | Q(handling_organization_id=organization_id))


def in_divisions(division_codes, queryset: QuerySet[Case] | None = None) -> QuerySet[Case]:
    """The cases in the given divisions (a regulator's ``jurisdiction_codes()`` subquery)."""
    qs = Case.objects.all() if queryset is None else queryset
    return qs.filter(division_id__in=division_codes)


def to_remind(kind: str, *, within: timedelta, now: datetime | None = None) -> QuerySet[Case]:
    """The reminder hook: cases of ``kind`` overdue or due within ``within``, by deadline, for a
    daily job that notifies their handlers (the notifying is the domain's)."""
    now = now or timezone.now()
    return (
        awaiting_decision(Case.objects.filter(kind=kind)).filter(deadline__lt=now + within).order_by("deadline", "pk")
    )


def reminders_pending(kind: str, *, within: timedelta, now: datetime | None = None) -> QuerySet[Case]:
    """The cases of ``kind`` to remind about now, each annotated with its ``stage`` (overdue, or
    due soon within ``within``), leaving out those already reminded of that stage for that
    deadline (``CaseReminder``). Set-based: ``to_remind`` plus NOT EXISTS on the reminder's
    unique index; nothing is read per case."""
    now = now or timezone.now()
    stage = When_(
        When(deadline__lt=now, then=Value(CaseReminder.Stage.OVERDUE)),
        default=Value(CaseReminder.Stage.DUE_SOON),
    )
    sent = CaseReminder.objects.filter(case_id=OuterRef("pk"), stage=OuterRef("stage"), deadline=OuterRef("deadline"))
    return to_remind(kind, within=within, now=now).annotate(stage=stage).filter(~Exists(sent))


def case_list(
    queryset: QuerySet[Case], *, kind: str = "", state: str = "", overdue: str = "", now=None
) -> QuerySet[Case]:
    """A list of cases (already scoped by ``for_user``) filtered as "my cases" (page and API)
    filter it: by kind, by state, overdue ("1") or not ("0"), newest first, with what a row
    shows (parties, division, the domain row its page link needs). A filter value that names
    nothing (a guessed kind or state) gives an empty list, never the unfiltered one."""
    qs = queryset
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if overdue in ("1", "true"):
        qs = _overdue(qs, now=now)
    elif overdue in ("0", "false"):
        qs = qs.exclude(state__in=Case.AWAITING_DECISION, deadline__lt=now or timezone.now())
    elif overdue:
        qs = qs.none()
    return qs.select_related(
        "applicant_organization", "handling_organization", "division", *case_kinds.subjects()
    ).order_by("-opened_at", "-pk")


def running_deadlines(case: Case | None) -> list[CaseDeadline]:
    """The case's countdowns that are still running, soonest first (for its page)."""
    if case is None:
        return []
    return list(CaseDeadline.objects.filter(case=case, state=CaseDeadline.State.OPEN).order_by("due_at", "pk"))


def deadlines_to_escalate(kind: str, *, now: datetime | None = None) -> QuerySet[CaseDeadline]:
    """Running deadlines of cases of ``kind`` past due and not yet reported to the level above."""
    return CaseDeadline.objects.filter(
        case__kind=kind, state=CaseDeadline.State.OPEN, due_at__lt=now or timezone.now(), escalated_at__isnull=True
    ).select_related("case")
