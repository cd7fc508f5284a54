"""The organisations app's kinds of casework (registered with ``nqihub.cases`` at start-up)."""

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from nqihub.cases import kinds

REGISTRATION = kinds.CaseKind(
    code="enterprise_registration",
    prefix="QY",
    label=_("Enterprise registration"),
    states=frozenset({kinds.SUBMITTED, kinds.RETURNED, kinds.APPROVED, kinds.WITHDRAWN}),
    withdraw_from=frozenset({kinds.SUBMITTED, kinds.RETURNED}),
    steps={"approved": _("Approved"), "withdrawn": _("Withdrawn by the applicant")},
    attachments=True,
    subject="registration",
    url=lambda registration: reverse("organizations:registration_detail", args=[registration.pk]),
)


def register() -> None:
    kinds.register(REGISTRATION)
