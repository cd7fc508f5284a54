"""Field work and what follows: the sampling record (抽样单, one per drawn object, a case of kind
``sampling_record``), the results per test item, the inspection report as an issued document, the
objection and re-test (异议复检) and the handling of an unqualified product (不合格后处理)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from nqihub.documents.models import PUBLIC_CODE_ALPHABET, PUBLIC_CODE_LENGTH, IssuedDocumentBase, new_public_code

from ..querysets import DisposalQuerySet, ObjectionQuerySet, RecordQuerySet, ReportQuerySet, ResultQuerySet


class Conclusion(models.TextChoices):
    PASS = "pass", _("Qualified")
    FAIL = "fail", _("Unqualified")


class SamplingRecord(FSMModelMixin, models.Model):
    """The sampling of one drawn object: who took the samples (at least two), the notice shown,
    the lot, the test and spare units sealed (seal numbers, photos as the case's attachments),
    both parties' signatures or the refusal with its evidence; then the institution's receipt, the
    results, the report, the notice of the result, an objection and the final conclusion."""

    class Stage(models.TextChoices):
        ASSIGNED = "assigned", _("To be sampled")
        SAMPLED = "sampled", _("Sampled")
        REFUSED = "refused", _("Sampling refused")
        RECEIVED = "received", _("Samples received")
        TESTED = "tested", _("Tested")
        NOTIFIED = "notified", _("Result notified")
        OBJECTED = "objected", _("Objection under way")
        FINAL = "final", _("Final")

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="sampling_record", editable=False)
    batch = models.ForeignKey("sampling.Batch", on_delete=models.PROTECT, related_name="records")
    selection = models.OneToOneField("sampling.Selection", on_delete=models.PROTECT, related_name="record")
    pool_object = models.ForeignKey("sampling.PoolObject", on_delete=models.PROTECT, related_name="records")
    # Copied from the object at sampling: who was sampled, the named producer, where.
    organization = models.ForeignKey(
        "organizations.Organization", verbose_name=_("sampled party"), on_delete=models.PROTECT, related_name="+"
    )
    producer = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("named producer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+")
    institution = models.ForeignKey(
        "organizations.Organization", verbose_name=_("testing institution"), on_delete=models.PROTECT, related_name="+"
    )
    stage = FSMField(_("stage"), max_length=16, choices=Stage.choices, default=Stage.ASSIGNED, protected=True)
    # Sampling (抽样)
    samplers = models.ManyToManyField("sampling.Inspector", verbose_name=_("samplers"), blank=True, related_name="+")
    notice_number = models.CharField(_("notice number"), max_length=40, blank=True)
    sampled_at = models.DateTimeField(_("sampled"), null=True, blank=True)
    place = models.CharField(_("place of sampling"), max_length=300, blank=True)
    production_batch = models.CharField(_("production date or batch"), max_length=100, blank=True)
    lot_size = models.PositiveIntegerField(_("lot size"), null=True, blank=True)
    test_quantity = models.PositiveIntegerField(_("units for testing"), null=True, blank=True)
    spare_quantity = models.PositiveIntegerField(_("spare units"), null=True, blank=True)
    seal_numbers = models.CharField(_("seal numbers"), max_length=300, blank=True)
    sample_price = models.DecimalField(_("price paid for the samples"), max_digits=10, decimal_places=2, default=0)
    party_signatory = models.CharField(_("signed for the sampled party by"), max_length=50, blank=True)
    refusal_reason = models.TextField(_("refusal"), blank=True)
    # Receipt and testing (收样与检验)
    received_at = models.DateTimeField(_("samples received"), null=True, blank=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sample_condition = models.CharField(_("condition on receipt"), max_length=300, blank=True)
    tested_at = models.DateTimeField(_("tested"), null=True, blank=True)
    conclusion = models.CharField(_("conclusion"), max_length=8, choices=Conclusion.choices, blank=True)
    notified_at = models.DateTimeField(_("result notified"), null=True, blank=True)
    # The conclusion after any re-test (复检结论为最终结论).
    final_conclusion = models.CharField(_("final conclusion"), max_length=8, choices=Conclusion.choices, blank=True)
    final_at = models.DateTimeField(_("final"), null=True, blank=True)

    objects = RecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("sampling record")
        verbose_name_plural = _("sampling records")
        ordering = ["-pk"]
        indexes = [
            models.Index(fields=["division", "stage"], name="sampling_record_division_idx"),
            models.Index(fields=["institution", "stage"], name="sampling_record_inst_idx"),
            models.Index(fields=["organization", "stage"], name="sampling_record_org_idx"),
        ]

    def __str__(self) -> str:
        return self.case.number if self.case_id else f"#{self.pk}"

    @transition(field=stage, source=Stage.ASSIGNED, target=Stage.SAMPLED)
    def mark_sampled(self) -> None:
        pass

    @transition(field=stage, source=Stage.ASSIGNED, target=Stage.REFUSED)
    def mark_refused(self) -> None:
        pass

    @transition(field=stage, source=Stage.SAMPLED, target=Stage.RECEIVED)
    def mark_received(self) -> None:
        pass

    @transition(field=stage, source=Stage.RECEIVED, target=Stage.TESTED)
    def mark_tested(self) -> None:
        pass

    @transition(field=stage, source=Stage.TESTED, target=Stage.NOTIFIED)
    def mark_notified(self) -> None:
        pass

    @transition(field=stage, source=Stage.NOTIFIED, target=Stage.OBJECTED)
    def mark_objected(self) -> None:
        pass

    @transition(field=stage, source=[Stage.NOTIFIED, Stage.OBJECTED], target=Stage.FINAL)
    def mark_final(self) -> None:
        pass


class TestResult(models.Model):
    """The result of one test item on a record's samples, in the first test or the re-test."""

    __test__ = False  # a model, not a test class of pytest

    class Round(models.TextChoices):
        INITIAL = "initial", _("Test")
        RECHECK = "recheck", _("Re-test")

    record = models.ForeignKey(SamplingRecord, on_delete=models.CASCADE, related_name="results")
    test_item = models.ForeignKey("sampling.TestItem", on_delete=models.PROTECT, related_name="+")
    round = models.CharField(_("round"), max_length=8, choices=Round.choices, default=Round.INITIAL)
    measured = models.CharField(_("measured"), max_length=100)
    value = models.DecimalField(_("value"), max_digits=14, decimal_places=4, null=True, blank=True)
    conclusion = models.CharField(_("judgement"), max_length=8, choices=Conclusion.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(_("recorded"))

    objects = ResultQuerySet.as_manager()

    class Meta:
        verbose_name = _("test result")
        verbose_name_plural = _("test results")
        ordering = ["record", "round", "test_item__seq"]
        constraints = [
            models.UniqueConstraint(fields=["record", "test_item", "round"], name="sampling_result_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"{self.record_id} {self.test_item_id} {self.round}"


# A report's check code carries the module's own prefix, so the public check tells it from the
# other modules' codes by its form alone (metrology's document codes are 16 bare characters).
REPORT_CODE_PREFIX = "CB"
REPORT_CODE_LENGTH = len(REPORT_CODE_PREFIX) + PUBLIC_CODE_LENGTH
_REPORT_CODE_ALPHABET = frozenset(PUBLIC_CODE_ALPHABET)


def new_report_code() -> str:
    """A report's check code: ``CB`` and 16 random characters of the kernel's alphabet (80 bits)."""
    return REPORT_CODE_PREFIX + new_public_code()


def is_report_code(code: str) -> bool:
    """Whether ``code`` (upper case) has the form of a report's check code (no query)."""
    return (
        len(code) == REPORT_CODE_LENGTH
        and code.startswith(REPORT_CODE_PREFIX)
        and _REPORT_CODE_ALPHABET.issuperset(code[len(REPORT_CODE_PREFIX) :])
    )


class InspectionReport(IssuedDocumentBase):
    """The inspection report (检验报告) of a record, or of its re-test: an issued document of the
    documents kernel (number, check code, content hash, PDF, public check)."""

    ISSUER_FIELD = "institution"
    CONTENT_FIELDS = ("record", "organization", "conclusion")

    public_code = models.CharField(
        _("check code"), max_length=REPORT_CODE_LENGTH, unique=True, default=new_report_code, editable=False
    )

    class Kind(models.TextChoices):
        REPORT = "report", _("Inspection report")
        RECHECK = "recheck", _("Re-test report")

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    record = models.ForeignKey(SamplingRecord, on_delete=models.PROTECT, related_name="reports")
    institution = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="+")
    division = models.ForeignKey("divisions.AdminDivision", on_delete=models.PROTECT, related_name="+", editable=False)
    conclusion = models.CharField(_("conclusion"), max_length=8, choices=Conclusion.choices)

    objects = ReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection report")
        verbose_name_plural = _("inspection reports")
        ordering = ["-issued_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["institution", "number"], name="sampling_report_number_unique")]


class Objection(models.Model):
    """An objection to a result (异议) within the time limit, asking for a re-test of the disputed
    items on the spare sample by another qualified institution; the re-test's conclusion is final.
    A case of kind ``sampling_objection`` (submitted → accepted or rejected)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.PROTECT, related_name="sampling_objection", editable=False
    )
    record = models.OneToOneField(SamplingRecord, on_delete=models.PROTECT, related_name="objection")
    reason = models.TextField(_("grounds"))
    disputed_items = models.ManyToManyField(
        "sampling.TestItem", verbose_name=_("disputed test items"), related_name="+"
    )
    recheck_institution = models.ForeignKey(
        "organizations.Organization",
        verbose_name=_("re-testing institution"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    conclusion = models.CharField(_("re-test conclusion"), max_length=8, choices=Conclusion.choices, blank=True)
    concluded_at = models.DateTimeField(_("re-test concluded"), null=True, blank=True)

    objects = ObjectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("objection")
        verbose_name_plural = _("objections")

    def __str__(self) -> str:
        return f"{self.case.number if self.case_id else self.pk}"


class Disposal(FSMModelMixin, models.Model):
    """The handling of an unqualified product (第45–49条): stop selling at once, correct within 60
    days, re-check within 75; a failed re-check is announced by the province, and re-checked again
    60 to 90 days after the announcement. Each time limit is a countdown on the record's case
    (``cases.CaseDeadline``); an overdue one is reported to the level above by the daily job."""

    class State(models.TextChoices):
        ORDERED = "ordered", _("Ordered to correct")
        CORRECTED = "corrected", _("Correction reported")
        PASSED = "passed", _("Re-check passed")
        ANNOUNCED = "announced", _("Failed the re-check: announced")
        PASSED_AFTER_ANNOUNCEMENT = "passed_again", _("Second re-check passed")
        FAILED_AGAIN = "failed_again", _("Failed the second re-check")

    record = models.OneToOneField(SamplingRecord, on_delete=models.PROTECT, related_name="disposal")
    state = FSMField(_("state"), max_length=16, choices=State.choices, default=State.ORDERED, protected=True)
    ordered_at = models.DateTimeField(_("ordered"))
    correction_report = models.TextField(_("correction report"), blank=True)
    corrected_at = models.DateTimeField(_("correction reported"), null=True, blank=True)
    rechecked_at = models.DateTimeField(_("re-checked"), null=True, blank=True)
    announced_at = models.DateTimeField(_("announced"), null=True, blank=True)
    announcement = models.CharField(_("announcement"), max_length=300, blank=True)
    second_rechecked_at = models.DateTimeField(_("re-checked again"), null=True, blank=True)

    objects = DisposalQuerySet.as_manager()

    class Meta:
        verbose_name = _("handling of an unqualified product")
        verbose_name_plural = _("handling of unqualified products")

    def __str__(self) -> str:
        return f"{self.record_id} {self.state}"

    @transition(field=state, source=State.ORDERED, target=State.CORRECTED)
    def report_correction(self) -> None:
        pass

    @transition(field=state, source=[State.ORDERED, State.CORRECTED], target=State.PASSED)
    def recheck_passed(self) -> None:
        pass

    @transition(field=state, source=[State.ORDERED, State.CORRECTED], target=State.ANNOUNCED)
    def recheck_failed(self) -> None:
        pass

    @transition(field=state, source=State.ANNOUNCED, target=State.PASSED_AFTER_ANNOUNCEMENT)
    def second_recheck_passed(self) -> None:
        pass

    @transition(field=state, source=State.ANNOUNCED, target=State.FAILED_AGAIN)
    def second_recheck_failed(self) -> None:
        pass
