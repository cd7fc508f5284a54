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
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from nqihub.documents.models import (  # noqa: F401  (new_public_code: named by migration 0004)
    DOCUMENT_STATUSES,
    IssuedDocumentBase,
    new_public_code,
    status_of,
)
from nqihub.documents.registry import document_kind
from nqihub.tables.jobs import BackgroundJob

from .querysets import (
    ApplicationItemQuerySet,
    ApplicationQuerySet,
    CatalogueItemQuerySet,
    ImportJobQuerySet,
    InstrumentFilingQuerySet,
    InstrumentQuerySet,
    IssuedDocumentQuerySet,
    TariffQuerySet,
    VerificationResultQuerySet,
    WaiverPolicyQuerySet,
)

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

    code = models.CharField(
        _("code"), max_length=16, unique=True, help_text=_("First-level number.second-level number, e.g. 5.1")
    )
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
        flag = _USE_FLAGS.get(use_field)
        return flag is not None and getattr(self, flag)


# The catalogue item's flag for each mandatory use field (计量法第九条); "other" has none.
_USE_FLAGS = {
    UseField.TRADE.value: "use_trade",
    UseField.SAFETY.value: "use_safety",
    UseField.MEDICAL.value: "use_medical",
    UseField.ENVIRONMENT.value: "use_environment",
}


def new_platform_code() -> str:
    return "JL" + "".join(secrets.choice(PLATFORM_CODE_ALPHABET) for _ in range(12))


def is_mandatory(item: CatalogueItem | None, use_field: str) -> bool:
    """Whether an instrument of catalogue ``item`` (or none) used in ``use_field`` is under
    mandatory verification: the one definition the ledger form, the API, the import and the
    catalogue's changes use."""
    return item is not None and item.mandatory_for(use_field)


class Instrument(models.Model):
    """A working measuring instrument in an enterprise's ledger (计量器具台账)."""

    class Status(models.TextChoices):
        IN_USE = "in_use", _("In use")
        STOPPED = "stopped", _("Stopped")
        SCRAPPED = "scrapped", _("Scrapped")

    platform_code = models.CharField(
        _("platform code"), max_length=16, unique=True, default=new_platform_code, editable=False
    )
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("enterprise"), on_delete=models.PROTECT, related_name="instruments"
    )
    # Copied from the organisation: regulators' scoping and regional statistics over millions of
    # instruments filter on it without joining organisations.
    division = models.ForeignKey(
        "divisions.AdminDivision",
        verbose_name=_("division"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    catalogue_item = models.ForeignKey(
        CatalogueItem,
        verbose_name=_("catalogue item"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="instruments",
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
    filed = models.BooleanField(_("filed for mandatory verification"), default=False, editable=False)
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
            # A regulator's search by factory number across enterprises (the unique constraint
            # above starts with the organisation). The name search on PostgreSQL has a trigram
            # index of its own (migration 0008).
            models.Index(fields=["factory_number"], name="instrument_factory_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.factory_number}"

    def get_absolute_url(self) -> str:
        return reverse("metrology:instrument_detail", args=[self.pk])

    def compute_mandatory(self) -> bool:
        return is_mandatory(self.catalogue_item, self.use_field)


class InstrumentFiling(models.Model):
    """强检备案: an enterprise files its mandatory-verification instruments with the county
    regulator, who approves or returns the filing with a reason. Its number, review state machine
    and timeline are its case's (``nqihub.cases``, kind ``instrument_filing``); ``number`` and
    ``state`` are copies the kernel writes, kept here for the searches and the open-filing rule."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting review")
        RETURNED = "returned", _("Returned for correction")
        APPROVED = "approved", _("Filed")

    number = models.CharField(_("filing number"), max_length=24, unique=True)
    organization = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("enterprise"),
        on_delete=models.PROTECT,
        related_name="instrument_filings",
    )
    division = models.ForeignKey(
        "divisions.AdminDivision",
        verbose_name=_("division"),
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    instruments = models.ManyToManyField(Instrument, verbose_name=_("instruments"), related_name="filings")
    # Written only by nqihub.cases.services (a copy of the case's state).
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED, editable=False)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    return_reason = models.TextField(_("reason for return"), blank=True)
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="instrument_filing", editable=False
    )

    objects = InstrumentFilingQuerySet.as_manager()

    class Meta:
        verbose_name = _("mandatory verification filing")
        verbose_name_plural = _("mandatory verification filings")
        ordering = ["-submitted_at", "-pk"]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("metrology:filing_detail", args=[self.pk])


class ImportJob(FSMModelMixin, BackgroundJob):
    """One ledger import: validated as a whole, applied all-or-nothing, in the background for
    large files; the page polls ``progress``. A background job of the tables kernel: its worker
    writes a heartbeat, and a job whose worker died is retried once, then failed."""

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Checking")
        FAILED = "failed", _("Rejected: errors found")
        IMPORTING = "importing", _("Importing")
        DONE = "done", _("Imported")
        ERROR = "error", _("Stopped by an internal error")

    RUNNING_STATES = (State.VALIDATING, State.IMPORTING)

    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    filename = models.CharField(_("file"), max_length=200)
    file = models.FileField(upload_to="imports/%Y/%m/")
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.QUEUED, protected=True)
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

    # The state machine. The import service carries the transitions out with
    # ``nqihub.tables.jobs.move`` (one conditional UPDATE each), so two workers never both
    # run one job; the methods declare the sources and targets.
    @transition(field=state, source=State.QUEUED, target=State.VALIDATING)
    def start(self) -> None:
        """A worker takes the job and checks the file."""

    @transition(field=state, source=State.VALIDATING, target=State.IMPORTING)
    def write(self) -> None:
        """Every row passed: the writing transaction begins."""

    @transition(field=state, source=State.IMPORTING, target=State.DONE)
    def finish(self) -> None:
        """The rows are written."""

    @transition(field=state, source=[State.VALIDATING, State.IMPORTING], target=State.FAILED)
    def reject(self) -> None:
        """The file has errors: nothing was written."""

    @transition(field=state, source=[State.QUEUED, State.VALIDATING, State.IMPORTING], target=State.ERROR)
    def crash(self) -> None:
        """An internal error, or a worker that died twice."""

    @transition(field=state, source=[State.VALIDATING, State.IMPORTING], target=State.QUEUED)
    def requeue(self) -> None:
        """The worker died: run the job again (its write was rolled back)."""


# --- Online verification: application, result, documents, fees -------------------------------


class MetrologyPolicy(models.Model):
    """Editable rules of the verification service that are policy, not law: the promised
    acceptance time limit and the reminder stages. One row, changed by the system administrator."""

    acceptance_working_days = models.PositiveSmallIntegerField(
        _("acceptance time limit (working days)"), default=2, validators=[MinValueValidator(1), MaxValueValidator(30)]
    )
    reminder_days = models.CharField(
        _("reminder stages (days before due)"),
        max_length=50,
        default="30,15,7",
        help_text=_("Comma-separated; an overdue notice is always sent as well."),
    )
    validity_ends_day_before = models.BooleanField(
        _("certificates valid until the day before the anniversary"),
        default=True,
        help_text=_(
            "Common practice (valid until = verification date + period − 1 day), not checked against a "
            "regulation's text; untick to make certificates valid through the anniversary itself."
        ),
    )
    source = models.CharField(_("source"), max_length=300, default="平台默认设置，待监管部门确定")
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("verification service policy")
        verbose_name_plural = _("verification service policy")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)

    def reminder_stages(self) -> list[int]:
        return sorted({int(x) for x in self.reminder_days.split(",") if x.strip().isdigit()}, reverse=True)


class VerificationApplication(models.Model):
    """An enterprise's online application for verification (送检 or 上门). Offered only to
    institutions whose authorisation scope covers every catalogue item in it and whose
    designated area covers the enterprise. Its number, acceptance (受理) and timeline are its
    case's (``nqihub.cases``, kind ``verification_application``): the kernel writes ``number``,
    ``accept_by`` (the case's deadline) and ``state`` up to acceptance; after it the application
    keeps its own finer working states (scheduled, completed)."""

    class Mode(models.TextChoices):
        DROP_OFF = "drop_off", _("Drop-off at the institution")
        ON_SITE = "on_site", _("On-site verification")

    class State(models.TextChoices):
        SUBMITTED = "submitted", _("Awaiting acceptance")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        SCHEDULED = "scheduled", _("Scheduled")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    number = models.CharField(_("case number"), max_length=24, unique=True)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="verification_applications"
    )
    institution = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="received_applications"
    )
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+", editable=False)
    mode = models.CharField(_("mode"), max_length=16, choices=Mode.choices)
    site_address = models.CharField(_("on-site address"), max_length=300, blank=True)
    wished_from = models.DateField(_("wished from"), null=True, blank=True)
    wished_until = models.DateField(_("wished until"), null=True, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=100)
    contact_phone = models.CharField(_("contact telephone"), max_length=40)
    note = models.TextField(_("note"), blank=True)
    # Up to acceptance a copy of the case's state written by nqihub.cases.services; after it,
    # changed by the transitions below.
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("submitted"))
    accept_by = models.DateTimeField(_("to be accepted by"))
    decided_at = models.DateTimeField(_("accepted or rejected"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reject_reason = models.TextField(_("reason for rejection"), blank=True)
    scheduled_on = models.DateField(_("scheduled for"), null=True, blank=True)
    fee_total = models.DecimalField(_("fee"), max_digits=12, decimal_places=2, default=0)
    waived_total = models.DecimalField(_("waived"), max_digits=12, decimal_places=2, default=0)
    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="verification_application", editable=False
    )

    objects = ApplicationQuerySet.as_manager()

    class Meta:
        verbose_name = _("verification application")
        verbose_name_plural = _("verification applications")
        ordering = ["-submitted_at", "-pk"]
        indexes = [
            models.Index(fields=["institution", "state"], name="application_inst_state_idx"),
            models.Index(fields=["organization", "state"], name="application_org_state_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    @transition(field=state, source=[State.ACCEPTED, State.SCHEDULED], target=State.SCHEDULED)
    def schedule(self) -> None:
        pass

    @transition(field=state, source=[State.ACCEPTED, State.SCHEDULED], target=State.COMPLETED)
    def complete(self) -> None:
        pass


class ApplicationItem(models.Model):
    """One instrument in an application, with the fee and waiver fixed at acceptance."""

    application = models.ForeignKey(VerificationApplication, on_delete=models.CASCADE, related_name="items")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="application_items")
    catalogue_item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="+")
    fee = models.DecimalField(_("fee"), max_digits=10, decimal_places=2, default=0)
    waived = models.DecimalField(_("waived"), max_digits=10, decimal_places=2, default=0)
    waiver_policy = models.ForeignKey("WaiverPolicy", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    objects = ApplicationItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("application item")
        verbose_name_plural = _("application items")
        constraints = [
            models.UniqueConstraint(fields=["application", "instrument"], name="application_item_unique"),
            models.CheckConstraint(
                condition=models.Q(waived__lte=models.F("fee")), name="application_item_waived_lte_fee"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.instrument_id}"


class VerificationResult(models.Model):
    """The result of verifying one instrument, signed by three different people
    (检定员 / 核验员 / 批准人) — enforced by the database as well as the service."""

    class Outcome(models.TextChoices):
        PASS = "pass", _("Pass")
        FAIL = "fail", _("Fail")

    item = models.OneToOneField(ApplicationItem, on_delete=models.PROTECT, related_name="result")
    outcome = models.CharField(_("result"), max_length=8, choices=Outcome.choices)
    verified_on = models.DateField(_("verified on"))
    readings = models.TextField(_("readings"), blank=True)
    remarks = models.TextField(_("remarks"), blank=True)
    failure_reasons = models.TextField(_("reasons for failure"), blank=True)
    verifier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("verifier")
    )
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checker")
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("approver")
    )
    external_id = models.CharField(_("LIMS record id"), max_length=64, blank=True)
    institution = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", editable=False
    )
    recorded_at = models.DateTimeField(_("recorded"))

    objects = VerificationResultQuerySet.as_manager()

    class Meta:
        verbose_name = _("verification result")
        verbose_name_plural = _("verification results")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(verifier=models.F("checker"))
                & ~models.Q(verifier=models.F("approver"))
                & ~models.Q(checker=models.F("approver")),
                name="result_three_different_signatures",
            ),
            # A LIMS pushing the same result twice records it once.
            models.UniqueConstraint(
                fields=["institution", "external_id"],
                condition=~models.Q(external_id=""),
                name="result_external_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id} {self.outcome}"


def instrument_public_facts(instrument) -> dict:
    """What the public check says of an instrument: nothing of its owner."""
    return {
        "name": instrument.name,
        "model_spec": instrument.model_spec,
        "factory_number": instrument.factory_number,
        "platform_code": instrument.platform_code,
    }


def document_public_facts(*, institution_name, instrument, catalogue_item, outcome, verified_on, issued_on) -> dict:
    """The facts of a document that anyone may read on the public check, as they were at
    issue (what was verified, by whom, when). Written once into the document, so the check
    reads one row and no later edit of the ledger changes what a certificate says. Nothing
    personal: no contacts, no people's names, no fees."""
    return {
        "institution": institution_name,
        "instrument": instrument_public_facts(instrument),
        "catalogue_item": f"{catalogue_item.code} {catalogue_item.name}",
        "result": outcome,
        "verified_on": verified_on.isoformat(),
        "issued_on": issued_on.isoformat(),
    }


class IssuedDocument(IssuedDocumentBase):
    """A 检定证书 (pass) or 检定结果通知书 (fail), an issued document of the documents kernel
    (``nqihub.documents``: number, check code, state machine, PDF and content hashes). Never
    changed once issued: a correction is a new document that supersedes it; revoking records a
    reason. ``public_code`` is what the QR code and /verify/<code>/ carry; ``public_facts`` is
    ``document_public_facts()`` at issue."""

    ISSUER_FIELD = "institution"
    CONTENT_FIELDS = ("result", "instrument", "organization", "verified_on", "fee", "waived")

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", _("Verification certificate")
        NOTICE = "notice", _("Notice of verification result")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    result = models.ForeignKey(VerificationResult, on_delete=models.PROTECT, related_name="documents")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="documents")
    institution = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="issued_documents"
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="received_documents"
    )
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+", editable=False)
    # The result's verification day, copied at issue (a reissue keeps it): statistics count
    # documents by it over millions of rows without joining the results.
    verified_on = models.DateField(_("verified on"), editable=False)
    fee = models.DecimalField(_("fee"), max_digits=10, decimal_places=2, default=0)
    waived = models.DecimalField(_("waived"), max_digits=10, decimal_places=2, default=0)

    objects = IssuedDocumentQuerySet.as_manager()

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="document_number_unique")]
        indexes = [
            models.Index(fields=["division", "issued_at"], name="document_division_idx"),
            models.Index(fields=["division", "verified_on"], name="document_division_verified_idx"),
            # The public check of a label: an instrument's latest document in force, one index seek.
            models.Index(
                fields=["instrument", "state", "-verified_on", "-issued_at", "-id"],
                name="document_instrument_latest_idx",
            ),
        ]

    def status_on(self, day) -> str:
        """The document's status on ``day``, as the public check reports it (``document_status``)."""
        return document_status(state=self.state, kind=self.kind, valid_until=self.valid_until, day=day)


def document_status(*, state: str, kind: str, valid_until, day) -> str:
    """One of ``DOCUMENT_STATUSES``: the kernel's rule (``nqihub.documents.models.status_of``)
    with the kind's word while in force (registered in ``apps.py``): a notice still in force
    says the instrument failed (never "valid")."""
    return status_of(
        state=state, valid_until=valid_until, day=day, in_force=document_kind(IssuedDocument, kind).in_force
    )


class Tariff(models.Model):
    """The fee for verifying one instrument of a catalogue item (editable data with its source)."""

    catalogue_item = models.ForeignKey(CatalogueItem, on_delete=models.PROTECT, related_name="tariffs")
    division = models.ForeignKey(
        "divisions.AdminDivision",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty: the whole platform; otherwise this division and below."),
    )
    price = models.DecimalField(_("price (yuan)"), max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=300)

    objects = TariffQuerySet.as_manager()

    class Meta:
        verbose_name = _("tariff")
        verbose_name_plural = _("tariffs")
        ordering = ["catalogue_item", "-valid_from"]

    def __str__(self) -> str:
        return f"{self.catalogue_item} {self.price}"


class WaiverPolicy(models.Model):
    """A fee waiver (免费检定 / 减免): by catalogue item, by kind of user or as a campaign, in
    full or by a percentage; applied at acceptance, highest percentage wins."""

    class Basis(models.TextChoices):
        ITEM = "item", _("By catalogue item")
        USER_TYPE = "user_type", _("By kind of user")
        CAMPAIGN = "campaign", _("Campaign")

    name = models.CharField(_("name"), max_length=200)
    basis = models.CharField(_("basis"), max_length=16, choices=Basis.choices)
    catalogue_item = models.ForeignKey(CatalogueItem, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    credit_code_prefix = models.CharField(
        _("credit code prefix"),
        max_length=2,
        blank=True,
        help_text=_("Kind of user by the credit code's first two characters, e.g. 92 个体工商户."),
    )
    division = models.ForeignKey(
        "divisions.AdminDivision", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    percentage = models.PositiveSmallIntegerField(
        _("waived (%)"), validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    source = models.CharField(_("source"), max_length=300)

    objects = WaiverPolicyQuerySet.as_manager()

    class Meta:
        verbose_name = _("waiver policy")
        verbose_name_plural = _("waiver policies")
        ordering = ["-percentage", "name"]

    def __str__(self) -> str:
        return self.name


class ReminderLog(models.Model):
    """One reminder stage sent for one instrument's due date — sent once (unique)."""

    instrument = models.ForeignKey(Instrument, on_delete=models.CASCADE, related_name="reminders")
    due_on = models.DateField()
    stage = models.SmallIntegerField(help_text="days before due; -1 overdue")
    sent_at = models.DateTimeField()
    channels = models.CharField(max_length=50)

    class Meta:
        verbose_name = _("reminder sent")
        verbose_name_plural = _("reminders sent")
        constraints = [models.UniqueConstraint(fields=["instrument", "due_on", "stage"], name="reminder_once")]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.due_on} {self.stage}"
