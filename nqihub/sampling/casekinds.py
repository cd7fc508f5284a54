"""The sampling app's kinds of casework (registered with ``nqihub.cases`` at start-up): the annual
plan filed with the level above, the sampling record of one drawn object (from sampling to the
final conclusion and the handling of a failure) and an objection to a result."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from nqihub.cases import kinds


def _objection_working_days() -> int:
    # Rule data, read when an objection is submitted (imported here so registering touches no table).
    from .services.rules import rule

    return rule("objection_acceptance_working_days")


PLAN = kinds.CaseKind(
    code="sampling_plan",
    prefix="CCJH",
    label=_("Annual sampling plan"),
    states=frozenset({kinds.SUBMITTED, kinds.RETURNED, kinds.APPROVED}),
    steps={"approved": _("Filed with the level above")},
    subject="sampling_plan",
    url=lambda plan: reverse("sampling:plan_detail", args=[plan.pk]),
)

RECORD = kinds.CaseKind(
    code="sampling_record",
    prefix="CY",
    label=_("Sampling record"),
    states=frozenset({kinds.SUBMITTED}),
    steps={
        "submitted": _("Drawn for sampling"),
        "sampled": _("Samples taken and sealed"),
        "refused": _("Sampling refused"),
        "received": _("Samples received by the institution"),
        "result": _("Test results recorded"),
        "report": _("Inspection report issued"),
        "notified": _("Result notified"),
        "objected": _("Objection raised"),
        "recheck": _("Re-test concluded"),
        "final": _("Conclusion final"),
        "ordered": _("Ordered to stop selling and correct"),
        "corrected": _("Correction reported"),
        "recheck_pass": _("Re-check passed"),
        "recheck_fail": _("Re-check failed"),
        "announced": _("Announced by the province"),
        "second_recheck_pass": _("Second re-check passed"),
        "second_recheck_fail": _("Second re-check failed"),
        "escalated": _("Overdue: reported to the level above"),
    },
    deadlines={
        "objection": _("Objection period"),
        "correction": _("Correction"),
        "recheck": _("Re-check"),
        "second_recheck": _("Second re-check after the announcement"),
    },
    attachments=True,
    subject="sampling_record",
    url=lambda record: reverse("sampling:record_detail", args=[record.pk]),
)

OBJECTION = kinds.CaseKind(
    code="sampling_objection",
    prefix="CCYY",
    label=_("Objection to a sampling result"),
    states=frozenset({kinds.SUBMITTED, kinds.ACCEPTED, kinds.REJECTED}),
    time_limit=_objection_working_days,
    steps={"accepted": _("Accepted: re-test ordered"), "rejected": _("Not accepted")},
    attachments=True,
    rated=True,
    subject="sampling_objection",
    url=lambda objection: reverse("sampling:record_detail", args=[objection.record_id]),
)


def register() -> None:
    kinds.register(PLAN)
    kinds.register(RECORD)
    kinds.register(OBJECTION)
