"""The metrology app's kinds of casework (registered with ``nqihub.cases`` at start-up): 强检备案
and online verification applications (在线报检)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from nqihub.cases import kinds


def _acceptance_working_days() -> int:
    # Policy data, read when an application is submitted (imported here so that registering the
    # kinds at start-up touches no table).
    from .services.policy import current_policy

    return current_policy().acceptance_working_days


FILING = kinds.CaseKind(
    code="instrument_filing",
    prefix="BA",
    label=_("Mandatory verification filing"),
    states=frozenset({kinds.SUBMITTED, kinds.RETURNED, kinds.APPROVED}),
    steps={"approved": _("Approved: the instruments are filed")},
    subject="instrument_filing",
    url=lambda filing: reverse("metrology:filing_detail", args=[filing.pk]),
)

APPLICATION = kinds.CaseKind(
    code="verification_application",
    prefix="BJ",
    label=_("Verification application"),
    states=frozenset({kinds.SUBMITTED, kinds.ACCEPTED, kinds.REJECTED, kinds.WITHDRAWN}),
    withdraw_from=frozenset({kinds.SUBMITTED}),
    time_limit=_acceptance_working_days,
    steps={
        "withdrawn": _("Withdrawn by the enterprise"),
        "accepted": _("Accepted by the institution"),
        "rejected": _("Rejected by the institution"),
        "scheduled": _("Scheduled"),
        "result": _("Result recorded"),
        "result_pass": _("Result recorded: pass"),
        "result_fail": _("Result recorded: fail"),
        "completed": _("Completed: every instrument has its result"),
    },
    attachments=True,
    rated=True,
    subject="verification_application",
    url=lambda application: reverse("metrology:application_detail", args=[application.pk]),
)


def register() -> None:
    kinds.register(FILING)
    kinds.register(APPLICATION)
