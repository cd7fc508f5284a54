"""Mandatory verification of working measuring instruments (强制检定).

The catalogue is data with its source (the 2020 catalogue, SAMR announcement 2020 No. 42),
never constants in code: staff edit it, and entries not yet checked against the official
text say so (``verified``). Whether an instrument must be verified follows from its catalogue
item and its use field (计量法第九条: trade settlement, safety, medical care, environmental
monitoring) and is stored on the instrument so the reminder and statistics queries over
millions of instruments need no join.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from .querysets import CatalogueItemQuerySet, ImportJobQuerySet, InstrumentFilingQuerySet, InstrumentQuerySet

PLATFORM_CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U


class UseField(models.TextChoices):
    TRADE = "trade", _("Trade settlement")
    SAFETY = "safety", _("Safety protection")
    MEDICAL = "medical", _("Medical care")
    ENVIRONMENT = "environment", _("Environmental monitoring")
    OTHER = "other", _("Other (not a mandatory field)")


class Supervision(models.TextChoices):
    TYPE_APPROVAL = "P", _("Type approval")
    VERIFICATION = "V", _("Mandatory verification")
    BOTH = "P+V", _("Type approval and mandatory verification")


class VerificationMode(models.TextChoices):
    PERIODIC = "periodic", _("Periodic verification")
    FIRST_SCRAP = "first_scrap", _("First verification only; scrapped when inaccurate")
    FIRST_LIMITED = "first_limited", _("First verification only; limited service life, then replaced")
    NONE = "none", _("No mandatory verification")


class Evidence(models.TextChoices):
    """How far an entry was checked, in the terms of the project's domain facts."""

    VERIFIED = "verified", _("Verified against the official text")
    CORROBORATED = "corroborated", _("Corroborated by several sources")
    UNVERIFIED = "unverified", _("Not verified: check before relying on it")


class CatalogueItem(models.Model):
    """One line of the catalogue of measuring instruments under mandatory management.

    ``use_*`` say in which use fields an instrument of this item is subject to mandatory
    verification; ``period_months`` is the verification interval set by the regulation
    (检定周期 — institutions, not users, decide it), ``service_life_months`` the limited
    service life for "first verification, limited life" items.
    """

    code = models.CharField(_("code"), max_length=16, unique=True, help_text=_("一级序号.二级序号, e.g. 5.1"))
    level1_no = models.PositiveSmallIntegerField(_("first-level number"))
    level1_name = models.CharField(_("first-level name"), max_length=100)
    level2_no = models.PositiveSmallIntegerField(_("second-level number"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=100)
    supervision = models.CharField(_("supervision"), max_length=4, choices=Supervision.choices)
    verification_mode = models.CharField(_("verification mode"), max_length=16, choices=VerificationMode.choices)
    use_trade = models.BooleanField(_("trade settlement"), default=False)
    use_safety = models.BooleanField(_("safety protection"), default=False)
    use_medical = models.BooleanField(_("medical care"), default=False)
    use_environment = models.BooleanField(_("environmental monitoring"), default=False)
    scope_note = models.CharField(_("scope of mandatory verification"), max_length=300, blank=True)
    period_months = models.PositiveSmallIntegerField(_("verification interval (months)"), null=True, blank=True)
    service_life_months = models.PositiveSmallIntegerField(_("service life (months)"), null=True, blank=True)
    regulation = models.CharField(_("verification regulation"), max_length=200, blank=True)
    source = models.CharField(_("source"), max_length=300)
    evidence = models.CharField(
        _("evidence"),
        max_length=16,
        choices=Evidence.choices,
        default=Evidence.UNVERIFIED,
        help_text=_("Unverified entries are shown as such and must be checked before they are relied on."),
    )
    is_active = models.BooleanField(_("in force"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CatalogueItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("catalogue item")
        verbose_name_plural = _("catalogue items")
        ordering = ["level1_no", "level2_no", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("metrology:catalogue_detail", args=[self.pk])

    def mandatory_for(self, use_field: str) -> bool:
        """Mandatory verification applies when the item is under verification supervision and
        the instrument is used in one of the item's mandatory fields (both conditions)."""
        if self.supervision == Supervision.TYPE_APPROVAL or not self.is_active:
            return False
        return {
            UseField.TRADE: self.use_trade,
            UseField.SAFETY: self.use_safety,
            UseField.MEDICAL: self.use_medical,
            UseField.ENVIRONMENT: self.use_environment,
        }.get(use_field, False)


def new_platform_code() -> str:
    return "JL" + "".join(secrets.choice(PLATFORM_CODE_ALPHABET) for _ in range(12))


class Instrument(models.Model):
    """A working measuring instrument in an enterprise's ledger (计量器具台账)."""

    class Status(models.TextChoices):
        IN_USE = "in_use", _("In use")
        STOPPED = "stopped", _("Stopped")
        SCRAPPED = "scrapped", _("Scrapped")

    platform_code = models.CharField(_("platform code"), max_length=16, unique=True, default=new_platform_code, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="instruments"
    )
    # Copied from the organisation: regulators' scoping and regional statistics over millions of
    # instruments filter on it without joining organisations.
    division = models.ForeignKey(
        "divisions.AdminDivision", verbose_name=_("division"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    catalogue_item = models.ForeignKey(
        CatalogueItem, verbose_name=_("catalogue item"), null=True, blank=True, on_delete=models.PROTECT, related_name="instruments"
    )
    name = models.CharField(_("instrument name"), max_length=100)
    model_spec = models.CharField(_("model / specification"), max_length=100, blank=True)
    measuring_range = models.CharField(_("measuring range"), max_length=100, blank=True)
    accuracy_class = models.CharField(_("accuracy class"), max_length=50, blank=True)
    factory_number = models.CharField(_("factory number"), max_length=64)
    manufacturer = models.CharField(_("manufacturer"), max_length=200, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    use_field = models.CharField(_("use field"), max_length=16, choices=UseField.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.IN_USE)
    is_mandatory = models.BooleanField(_("subject to mandatory verification"), default=False, editable=False)
    filed = models.BooleanField(_("filed (强检备案)"), default=False, editable=False)
    last_verified_on = models.DateField(_("last verified"), null=True, blank=True, editable=False)
    next_due_on = models.DateField(_("next verification due"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("measuring instrument")
        verbose_name_plural = _("measuring instruments")
        ordering = ["organization", "pk"]
        constraints = [
            # Importing the same factory number again updates the instrument (its natural key).
            models.UniqueConstraint(fields=["organization", "factory_number"], name="instrument_factory_number_unique")
        ]
        indexes = [
            # The daily reminder selection and overdue lists.
            models.Index(fields=["is_mandatory", "status", "next_due_on"], name="instrument_due_idx"),
            models.Index(fields=["division", "is_mandatory"], name="instrument_division_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.factory_number}"

    def get_absolute_url(self) -> str:
        return reverse("metrology:instrument_detail", args=[self.pk])

    def compute_mandatory(self) -> bool:
        return bool(self.catalogue_item and self.catalogue_item.mandatory_for(self.use_field))


class InstrumentFiling(models.Model):
    """强检备案: an enterprise files its mandatory-verification instruments with the county
    regulator, who approves or returns the filing with a reason."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting review")
        RETURNED = "returned", _("Returned for correction")
        APPROVED = "approved", _("Filed")

    number = models.CharField(_("filing number"), max_length=24, unique=True)
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="instrument_filings"
    )
    division = models.ForeignKey(
        "divisions.AdminDivision", verbose_name=_("division"), on_delete=models.PROTECT, related_name="+", editable=False
    )
    instruments = models.ManyToManyField(Instrument, verbose_name=_("instruments"), related_name="filings")
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED, protected=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted"))
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)

    objects = InstrumentFilingQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandatory verification filing")
        verbose_name_plural = _("mandatory verification filings")
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("metrology:filing_detail", args=[self.pk])

    @transition(field=state, source=State.SUBMITTED, target=State.APPROVED)
    def approve(self) -> None:
        pass

    @transition(field=state, source=State.SUBMITTED, target=State.RETURNED)
    def return_for_correction(self) -> None:
        pass

    @transition(field=state, source=State.RETURNED, target=State.SUBMITTED)
    def resubmit(self) -> None:
        pass


class ImportJob(models.Model):
    """One ledger import: validated as a whole, applied all-or-nothing, in the background for
    large files; the page polls ``progress``."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Checking")
        FAILED = "failed", _("Rejected: errors found")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        ERROR = "error", _("Stopped by an internal error")

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    filename = models.CharField(_("file"), max_length=200)
    file = models.FileField(upload_to="imports/%Y/%m/")
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)  # [{"row": 17, "column": "出厂编号", "message": "…"}]
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("ledger import")
        verbose_name_plural = _("ledger imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.filename

    @property
    def progress(self) -> int:
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0
