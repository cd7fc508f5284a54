"""Casework (办件): one row per case of any kind, its timeline, its attachments and the locked
counter its number comes from. Only ``nqihub.cases.services`` changes these rows."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from nqihub.core.scoping import ScopedQuerySet, jurisdiction, own_organization, own_user

from . import kinds as case_kinds


def _applicant_person(actor) -> models.Q | None:
    """The person who applied, for a case whose applicant organisation is not known yet (an
    enterprise registration before approval)."""
    return models.Q(applicant_organization__isnull=True, submitted_by=actor.user)


class CaseQuerySet(ScopedQuerySet):
    """A case is seen by the organisation that applied, the one that handles it, the person
    who submitted it and the regulators of its division. Acting as the applicant (attaching
    materials, rating) belongs to the applicant organisation's managers and clerks, or to the
    person who applied while no organisation is named. Deciding belongs to the owning module's
    own scope (its model declares who reviews)."""

    scope = {
        ("view", "export"): (
            jurisdiction(),
            own_organization("applicant_organization", exclude_regulators=True),
            own_organization("handling_organization", exclude_regulators=True),
            own_user("submitted_by"),
        ),
        "apply": (
            own_organization("applicant_organization", working=True, exclude_regulators=True),
            _applicant_person,
        ),
    }


def _kind_uses(target: str):
    def condition(case: Case) -> bool:
        return case.kind_spec.uses(target)

    condition.__name__ = f"kind_uses_{target}"
    return condition


def _withdrawable(case) -> bool:  # a Case (django-fsm types conditions on Model)
    return case.state in case.kind_spec.withdraw_from


class Case(FSMModelMixin, models.Model):
    """A case: who applied, who handles it, where, its number, its review state, its promised
    deadline (counted in working days when it was submitted; it does not move when the calendar
    is edited later), who decided it and when, and its rating (好差评) where the kind is rated.

    A domain row (a registration, a filing, an application) points to its case and keeps its own
    domain facts; the kind chooses which of the states below it uses."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for correction")
        RESUBMITTED = "resubmitted", _("Resubmitted")
        ACCEPTED = "accepted", _("Accepted")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATES = (State.DRAFT, State.SUBMITTED, State.RETURNED, State.RESUBMITTED)
    AWAITING_DECISION = (State.SUBMITTED, State.RESUBMITTED)

    kind = models.CharField(_("kind"), max_length=40)
    number = models.CharField(_("case number"), max_length=32, unique=True)
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, protected=True)
    applicant_organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("applicant"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_applied",
    )
    handling_organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_handled",
    )
    division = models.ForeignKey(
        "divisions.AdminDivision",
        verbose_name=_("division"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    opened_at = models.DateTimeField(_("opened"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    deadline = models.DateTimeField(_("time limit"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    rating_score = models.PositiveSmallIntegerField(_("rating"), null=True, blank=True)
    rating_comment = models.CharField(_("rating comment"), max_length=500, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("rated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rated_at = models.DateTimeField(_("rated"), null=True, blank=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rating_score__isnull=True) | models.Q(rating_score__gte=1, rating_score__lte=5),
                name="case_rating_1_to_5",
            ),
        ]
        indexes = [
            # Overdue and due-soon selections: open cases by deadline, per kind.
            models.Index(fields=["kind", "state", "deadline"], name="case_kind_state_deadline_idx"),
            models.Index(fields=["handling_organization", "state"], name="case_handler_state_idx"),
            models.Index(fields=["applicant_organization", "state"], name="case_applicant_state_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def kind_spec(self) -> case_kinds.CaseKind:
        return case_kinds.get(self.kind)

    @property
    def kind_label(self):
        return self.kind_spec.label

    @property
    def page_url(self) -> str:
        """The owning module's page of this case (its kind's ``url``), or ""."""
        try:
            return self.kind_spec.page_url(self)
        except LookupError:
            return ""

    @property
    def is_overdue(self) -> bool:
        return self.state in self.AWAITING_DECISION and self.deadline is not None and self.deadline < timezone.now()

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES

    # The one review state machine. The kind chooses which targets it uses (the conditions);
    # only the services in ``nqihub.cases.services`` call these.

    @transition(field=state, source=State.DRAFT, target=State.SUBMITTED, conditions=[_kind_uses("submitted")])
    def submit(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.SUBMITTED, State.RESUBMITTED],
        target=State.RETURNED,
        conditions=[_kind_uses("returned")],
    )
    def return_for_correction(self) -> None:
        pass

    @transition(field=state, source=State.RETURNED, target=State.SUBMITTED, conditions=[_kind_uses("returned")])
    def resubmit_as_submitted(self) -> None:
        pass

    @transition(field=state, source=State.RETURNED, target=State.RESUBMITTED, conditions=[_kind_uses("resubmitted")])
    def resubmit_as_resubmitted(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.SUBMITTED, State.RESUBMITTED],
        target=State.ACCEPTED,
        conditions=[_kind_uses("accepted")],
    )
    def accept(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.SUBMITTED, State.RESUBMITTED],
        target=State.APPROVED,
        conditions=[_kind_uses("approved")],
    )
    def approve(self) -> None:
        pass

    @transition(
        field=state,
        source=[State.SUBMITTED, State.RESUBMITTED, State.ACCEPTED],
        target=State.REJECTED,
        conditions=[_kind_uses("rejected")],
    )
    def reject(self) -> None:
        pass

    @transition(field=state, source="*", target=State.WITHDRAWN, conditions=[_kind_uses("withdrawn"), _withdrawable])
    def withdraw(self) -> None:
        pass


class CaseEvent(models.Model):
    """One step of a case's visible timeline: who, when, which step (its outcome), and a note.
    The step is stored as a code and labelled in the reader's language; the audit trail holds
    the full record."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("time"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("step"), max_length=32)
    note = models.CharField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("timeline step")
        verbose_name_plural = _("timeline steps")
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at_idx")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"

    def label_for(self, kind_code: str):
        try:
            return case_kinds.get(kind_code).step_label(self.kind)
        except LookupError:
            return case_kinds.COMMON_STEPS.get(self.kind, self.kind)


class CaseAttachment(models.Model):
    """A file attached to a case (申请材料), kept through Django's storage with its size, type and
    SHA-256 (the stored name is the hash, never the sender's file name, which is kept in
    ``name``). Attached only through ``case_attach``, which enforces the size and type limits."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/", max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"))

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.name


class CaseReminder(models.Model):
    """A reminder sent about a case: once per case, stage (due soon, overdue) and deadline, so
    the daily job never tells anyone the same thing twice; a deadline that moves (a correction
    resubmitted) starts the stages again. Written by ``cases.services.case_reminders_record``."""

    class Stage(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reminders")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    deadline = models.DateTimeField(_("time limit"))
    sent_at = models.DateTimeField(_("sent"))

    class Meta:
        verbose_name = _("case reminder")
        verbose_name_plural = _("case reminders")
        constraints = [
            models.UniqueConstraint(fields=["case", "stage", "deadline"], name="case_reminder_once_per_stage")
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.stage}"


class NumberCounter(models.Model):
    """The last sequence number given in one numbering series in one year: the one locked counter
    of the project. A case kind is a series (``cases.<kind>``, no issuer); a kind of issued
    document is a series per issuer (``metrology.certificate`` with the institution). Read and
    advanced under a row lock by ``nqihub.cases.numbering`` only, so two clerks never get the
    same number; created past any number of the series already issued."""

    series = models.CharField(_("series"), max_length=80)
    issuer = models.ForeignKey(
        "organizations.Organization", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("number counter")
        verbose_name_plural = _("number counters")
        constraints = [
            # One row per series, issuer and year; a series without an issuer once per year
            # (NULLs are distinct in a unique index, hence two partial ones).
            models.UniqueConstraint(
                fields=["series", "issuer", "year"],
                condition=models.Q(issuer__isnull=False),
                name="number_counter_issuer_unique",
            ),
            models.UniqueConstraint(
                fields=["series", "year"], condition=models.Q(issuer__isnull=True), name="number_counter_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.issuer_id or ''} {self.year}: {self.last}"


class CaseDeadline(models.Model):
    """A named deadline of a case besides its promised answer (``Case.deadline``): the steps a
    law or rule times after a decision (an objection within 15 days, a correction within 60, a
    re-check within 75, a second re-check in a window 60 to 90 days after an announcement).

    Each is a countdown on the case's page until it is met or cancelled. ``not_before`` opens a
    window (a step done earlier is too early). ``escalated_at`` is set once the overdue step was
    reported to the level above, so the daily job reports it once. The code's label comes from
    the case kind's ``deadlines``; only ``nqihub.cases.services`` changes these rows."""

    class State(models.TextChoices):
        OPEN = "open", _("Running")
        MET = "met", _("Met")
        CANCELLED = "cancelled", _("Cancelled")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="deadlines")
    code = models.CharField(_("step"), max_length=40)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    started_at = models.DateTimeField(_("started"))
    not_before = models.DateTimeField(_("not before"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_note = models.CharField(_("note"), max_length=500, blank=True)
    escalated_at = models.DateTimeField(_("reported to the level above"), null=True, blank=True)

    class Meta:
        verbose_name = _("case deadline")
        verbose_name_plural = _("case deadlines")
        ordering = ["due_at", "pk"]
        constraints = [
            # One running countdown per step of a case; met and cancelled ones stay as history.
            models.UniqueConstraint(
                fields=["case", "code"], condition=models.Q(state="open"), name="case_deadline_one_open_per_step"
            ),
            models.CheckConstraint(
                condition=models.Q(not_before__isnull=True) | models.Q(not_before__lte=models.F("due_at")),
                name="case_deadline_window_ordered",
            ),
        ]
        indexes = [
            # The daily job's selection: running deadlines past due, not yet reported.
            models.Index(fields=["due_at"], condition=models.Q(state="open"), name="case_deadline_open_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.code}"

    def label(self):
        try:
            return self.case.kind_spec.deadline_label(self.code)
        except LookupError:
            return self.code

    @property
    def is_overdue(self) -> bool:
        return self.state == self.State.OPEN and self.due_at < timezone.now()

    def days_left(self, now: datetime | None = None) -> int:
        """Whole days from now to the due time (negative when overdue), as a countdown shows it."""
        today = timezone.localdate(now or timezone.now())
        return (timezone.localdate(self.due_at) - today).days

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left())
