"""The inspection report (检验报告) of a sampling record: an issued document of the documents
kernel (``InspectionReport``), numbered per institution and year (``CCBG-<institution>-<year>-``
and six digits), with the results table and the QR code to ``/verify/<code>/`` in its PDF.

Issuing it is the testing institution's step (``record_report``): every test item of the batch's
rules version must have its result; the record moves to ``tested``. The public facts written at
issue are what the public check shows, and nothing personal: the number, the product, the
enterprise's name, the conclusion, the institution and the day.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, may
from nqihub.cases import services as cases
from nqihub.documents import services as kernel

from .. import errors
from ..models import InspectionReport, SamplingRecord, TestItem, TestResult
from ..pdf import render_inspection_report
from .records import _target, locked_record, require_stage

NUMBER_PREFIX = {InspectionReport.Kind.REPORT: "CCBG", InspectionReport.Kind.RECHECK: "CCFJ"}


def number_prefix(kind: str):
    """The number's form of a kind of report, for the documents kernel: ``CCBG-<institution>-<year>-``
    then at least six digits."""
    return lambda institution_id, year: f"{NUMBER_PREFIX[kind]}-{institution_id}-{year}-"


def product_text(record: SamplingRecord) -> str:
    obj = record.pool_object
    parts = [obj.product_name, obj.brand, obj.model]
    return " ".join(part for part in parts if part)


def report_public_facts(record: SamplingRecord, *, issued_at) -> dict:
    """What the public check shows of a report: no person, no contact, no price."""
    return {
        "product": product_text(record),
        "category": record.pool_object.category.name,
        "enterprise": record.organization.name,
        "institution": record.institution.name,
        "conclusion": record.conclusion,
        "batch": record.batch.title,
        "sampled_on": timezone.localtime(record.sampled_at).date().isoformat() if record.sampled_at else None,
        "issued_on": timezone.localtime(issued_at).date().isoformat(),
    }


@audited_service(
    "sampling_record.report",
    gettext_lazy("Inspection report issued"),
    check=may(SamplingRecord, "test", "record"),
    target=_target,
)
def record_report(*, actor, record) -> InspectionReport:
    """Issue the record's inspection report (the institution's managers and clerks) once every
    test item has its result; the record is then ``tested``."""
    locked = locked_record(actor, record, "test")
    require_stage(locked, SamplingRecord.Stage.RECEIVED)
    locked = SamplingRecord.objects.select_related(
        "batch", "pool_object__category", "organization", "institution", "case"
    ).get(pk=locked.pk)
    items = TestItem.objects.filter(rules_id=locked.batch.rules_id).count()
    results = TestResult.objects.filter(record=locked, round=TestResult.Round.INITIAL).count()
    if not items or results != items or not locked.conclusion:
        raise errors.RESULTS_INCOMPLETE()
    issued_at = timezone.now()
    report = kernel.issue(
        InspectionReport,
        actor=actor,
        action="sampling_record.report",
        details={"record": locked.pk, "conclusion": locked.conclusion},
        kind=InspectionReport.Kind.REPORT,
        record=locked,
        institution=locked.institution,
        organization=locked.organization,
        division_id=locked.division_id,
        conclusion=locked.conclusion,
        issued_at=issued_at,
        public_facts=report_public_facts(locked, issued_at=issued_at),
    )
    locked.tested_at = issued_at
    locked.mark_tested()
    locked.save(update_fields=["stage", "tested_at"])
    cases.case_log(locked.case, step="report", actor=actor, note=report.number, at=issued_at)
    return report


def render_report(document) -> bytes:
    """The PDF of a report (what the documents kernel stores after the issue commits)."""
    return render_inspection_report(document)
