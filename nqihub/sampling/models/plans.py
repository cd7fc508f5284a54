"""Plans and batches (计划与任务), and the draws (抽取) that fill a batch: every draw is kept with
its published seed, the pool it drew from and its result, so anyone can re-run it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from ..querysets import BatchQuerySet, DrawQuerySet, PlanQuerySet


class AnnualPlan(models.Model):
    """A regulator's annual sampling plan, filed with the level above (a case of kind
    ``sampling_plan``: submitted, returned for correction, approved)."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="sampling_plan", editable=False)
    regulator = models.ForeignKey(
        "organizations.Organization", verbose_name=_("regulator"), on_delete=models.PROTECT, related_name="+"
    )
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+", editable=False)
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("annual sampling plan")
        verbose_name_plural = _("annual sampling plans")
        ordering = ["-year", "division", "pk"]
        constraints = [models.UniqueConstraint(fields=["regulator", "year", "title"], name="sampling_plan_unique")]

    def __str__(self) -> str:
        return f"{self.year} {self.title}"


class Batch(FSMModelMixin, models.Model):
    """A batch of sampling under a plan (抽查任务): its type, the item it checks, the area and how
    many objects, the testing institutions, dates, and its life from draft to disclosure."""

    class Kind(models.TextChoices):
        RANDOM = "random", _("Double-random check")
        SPECIAL = "special", _("Special check")
        FOLLOW_UP = "follow_up", _("Follow-up check")
        EMERGENCY = "emergency", _("Emergency check")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        DRAWN = "drawn", _("Objects drawn")
        SAMPLING = "sampling", _("Sampling under way")
        CLOSED = "closed", _("Testing finished")
        DISCLOSED = "disclosed", _("Results published")

    # Follow-up and emergency checks are exempt from the repeat rule (18号令).
    EXEMPT_FROM_REPEAT_RULE = (Kind.FOLLOW_UP, Kind.EMERGENCY)

    plan = models.ForeignKey(AnnualPlan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="batches")
    number = models.CharField(_("batch number"), max_length=32, unique=True)
    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=200)
    item = models.ForeignKey(
        "sampling.InspectionItem", verbose_name=_("inspection item"), on_delete=models.PROTECT, related_name="+"
    )
    rules = models.ForeignKey(
        "sampling.InspectionRules", verbose_name=_("implementation rules"), on_delete=models.PROTECT, related_name="+"
    )
    organizer = models.ForeignKey(
        "organizations.Organization", verbose_name=_("organised by"), on_delete=models.PROTECT, related_name="+"
    )
    # The area sampled (the organiser's division or part of it): scoping and the pool's bounds.
    division = models.ForeignKey(
        "divisions.AdminDivision", verbose_name=_("area"), on_delete=models.PROTECT, related_name="+"
    )
    object_count = models.PositiveIntegerField(_("objects to draw"))
    inspectors_per_object = models.PositiveSmallIntegerField(_("inspectors per object"), default=2)
    risk_weighted = models.BooleanField(_("weight by risk"), default=True)
    follow_up_of = models.ForeignKey(
        "self", verbose_name=_("follows up"), null=True, blank=True, on_delete=models.PROTECT, related_name="follow_ups"
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    starts_on = models.DateField(_("starts"))
    ends_on = models.DateField(_("ends"))
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT, protected=True)
    closed_at = models.DateTimeField(_("testing finished"), null=True, blank=True)
    disclosure_due = models.DateField(_("publish results by"), null=True, blank=True)
    disclosed_at = models.DateTimeField(_("results published"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = BatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("sampling batch")
        verbose_name_plural = _("sampling batches")
        ordering = ["-starts_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(starts_on__lte=models.F("ends_on")), name="sampling_batch_dates"),
            models.CheckConstraint(
                condition=models.Q(inspectors_per_object__gte=2), name="sampling_batch_two_inspectors"
            ),
            models.CheckConstraint(condition=models.Q(object_count__gte=1), name="sampling_batch_objects"),
        ]
        indexes = [models.Index(fields=["division", "state"], name="sampling_batch_division_idx")]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @transition(field=state, source=[State.DRAFT, State.DRAWN], target=State.DRAWN)
    def drawn(self) -> None:
        pass

    @transition(field=state, source=State.DRAWN, target=State.SAMPLING)
    def start_sampling(self) -> None:
        pass

    @transition(field=state, source=State.SAMPLING, target=State.CLOSED)
    def close(self) -> None:
        pass

    @transition(field=state, source=State.CLOSED, target=State.DISCLOSED)
    def disclose(self) -> None:
        pass


class BatchInstitution(models.Model):
    """A testing institution of a batch (承检机构), chosen from the institution pool."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="testing")
    institution = models.ForeignKey(
        "organizations.Organization", verbose_name=_("testing institution"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("testing institution of a batch")
        verbose_name_plural = _("testing institutions of a batch")
        constraints = [
            models.UniqueConstraint(fields=["batch", "institution"], name="sampling_batch_institution_unique")
        ]

    def __str__(self) -> str:
        return f"{self.batch_id}: {self.institution}"


class Draw(models.Model):
    """One draw for a batch, kept for ever: the published seed, the algorithm version, the pool it
    drew from (a file in the published export format, with its SHA-256), the quotas, the result
    and who drew it. A redraw is a new row with a reason; the batch uses its latest draw of each
    purpose. Nothing here is changed after it is written."""

    class Purpose(models.TextChoices):
        OBJECTS = "objects", _("Objects")
        INSPECTORS = "inspectors", _("Inspectors")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="draws")
    purpose = models.CharField(_("drew"), max_length=16, choices=Purpose.choices)
    seq = models.PositiveSmallIntegerField(_("draw no."))
    seed = models.CharField(_("seed"), max_length=64)
    algorithm = models.CharField(_("algorithm"), max_length=40)
    pool_size = models.PositiveIntegerField(_("pool size"))
    pool_sha256 = models.CharField(_("pool SHA-256"), max_length=64)
    pool_file = models.FileField(_("pool"), upload_to="sampling/draws/%Y/", max_length=200)
    quotas = models.JSONField(_("quotas"), default=dict)
    result = models.JSONField(_("result"), default=list)
    reason = models.CharField(_("reason for the redraw"), max_length=500, blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drawn_at = models.DateTimeField(_("drawn"))

    objects = DrawQuerySet.as_manager()

    class Meta:
        verbose_name = _("draw")
        verbose_name_plural = _("draws")
        ordering = ["batch", "purpose", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "purpose", "seq"], name="sampling_draw_seq_unique"),
            # A redraw states why (the first draw of each purpose needs no reason).
            models.CheckConstraint(condition=models.Q(seq=1) | ~models.Q(reason=""), name="sampling_redraw_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.batch.number} #{self.seq} ({self.get_purpose_display()})"


class Selection(models.Model):
    """An object a batch's effective draw chose, in its stratum and rank, and what became of it
    (kept; excluded with the reason when a rule stops it, e.g. the 6-month rule)."""

    class Status(models.TextChoices):
        SELECTED = "selected", _("Selected")
        EXCLUDED = "excluded", _("Excluded")

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="selections")
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="selections")
    pool_object = models.ForeignKey(
        "sampling.PoolObject", verbose_name=_("object"), on_delete=models.PROTECT, related_name="selections"
    )
    stratum = models.CharField(_("stratum"), max_length=80)
    rank = models.PositiveIntegerField(_("rank"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SELECTED)
    excluded_reason = models.CharField(_("reason"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("drawn object")
        verbose_name_plural = _("drawn objects")
        ordering = ["batch", "stratum", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["draw", "pool_object"], name="sampling_selection_once_per_draw"),
        ]

    def __str__(self) -> str:
        return f"{self.batch_id} {self.stratum} #{self.rank}"


class Assignment(models.Model):
    """An inspector drawn for a selected object; a recused one stays with the reason, and the one
    drawn in their place points back to them."""

    class Recusal(models.TextChoices):
        SAME_OFFICE = "same_office", _("Works in the enterprise's own office")
        DECLARED = "declared", _("Declared a conflict of interest")
        RECENT_CHECK = "recent_check", _("Checked the same enterprise recently")
        UNAVAILABLE = "unavailable", _("Not available")

    selection = models.ForeignKey(Selection, on_delete=models.CASCADE, related_name="assignments")
    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="assignments")
    inspector = models.ForeignKey("sampling.Inspector", on_delete=models.PROTECT, related_name="assignments")
    rank = models.PositiveSmallIntegerField(_("rank"))
    recusal = models.CharField(_("recused"), max_length=16, choices=Recusal.choices, blank=True)
    replaces = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="replaced_by")

    class Meta:
        verbose_name = _("inspector assignment")
        verbose_name_plural = _("inspector assignments")
        ordering = ["selection", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["selection", "draw", "inspector"], name="sampling_assignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.selection_id}: {self.inspector_id}"
