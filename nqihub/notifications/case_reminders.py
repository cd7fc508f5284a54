"""Reminders of casework (办件) due soon or overdue, the daily job ``send_case_reminders``.

For every kind of case with a time limit, the cases still awaiting a decision that are overdue
or due within ``DUE_SOON`` (``cases.selectors.reminders_pending``) are announced to the
organisation that handles them: its ``handling_organization``, or, for a kind decided by the
regulator of the case's division (no handling organisation named), the active regulators of
exactly that division (the county office that reviews). One in-app notice per case, stage and
handling organisation, read by that organisation's people only (``Notice.for_user``); nobody
else (the applicant, other offices) is told. Each stage is sent once per deadline: the kernel
records it (``CaseReminder``) and the notice's key is unique, so a second run, or two runs at
once, send nothing new. A run writes one audit record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.services import audit_record
from nqihub.cases import kinds as case_kinds
from nqihub.cases import selectors as case_selectors
from nqihub.cases import services as case_services
from nqihub.core.access import OrganizationKind
from nqihub.organizations.models import Organization

from .models import Notice

register_audit_action("case_reminder.run", _("Case reminders sent"))

NOTICE_KIND = "case_reminder"
DUE_SOON = timedelta(days=2)
BATCH = 1000


def _notice_key(case) -> str:
    return f"case:{case.pk}:{case.stage}:{timezone.localtime(case.deadline):%Y%m%d%H%M}"


def _regulators_by_division(cases) -> dict[str, list[int]]:
    divisions = {c.division_id for c in cases if c.handling_organization_id is None and c.division_id}
    found: dict[str, list[int]] = {}
    if divisions:
        regulators = Organization.objects.filter(
            kind=OrganizationKind.REGULATOR, is_active=True, division_id__in=divisions
        ).values_list("division_id", "pk")
        for division_id, pk in regulators:
            found.setdefault(division_id, []).append(pk)
    return found


def _notices(cases) -> list[Notice]:
    regulators = _regulators_by_division(cases)
    notices = []
    for case in cases:
        handlers = (
            [case.handling_organization_id]
            if case.handling_organization_id is not None
            else regulators.get(case.division_id, [])
        )
        overdue = case.stage == "overdue"
        values = {
            "number": case.number,
            "kind": case.kind_label,
            "deadline": timezone.localtime(case.deadline).strftime("%Y-%m-%d %H:%M"),
        }
        title = (gettext("Case %(number)s is overdue") if overdue else gettext("Case %(number)s is due soon")) % values
        applicant = case.applicant_organization.name if case.applicant_organization_id else ""
        body = gettext("%(kind)s, time limit %(deadline)s.") % values
        if applicant:
            body += " " + gettext("Applicant: %(name)s.") % {"name": applicant}
        for org in handlers:
            notices.append(
                Notice(
                    organization_id=org,
                    kind=NOTICE_KIND,
                    key=_notice_key(case),
                    title=title[:200],
                    body=body,
                    link=case.page_url[:300],
                )
            )
    return notices


def send_case_reminders(*, now: datetime | None = None) -> dict:
    """Send the reminders due now (see the module's docstring); returns the counts per kind."""
    now = now or timezone.now()
    sent: dict[str, int] = {}
    notices = 0
    for kind in case_kinds.all_kinds():
        if kind.time_limit is None:
            continue
        pending = case_selectors.reminders_pending(kind.code, within=DUE_SOON, now=now).select_related(
            "applicant_organization", *([kind.subject] if kind.subject else [])
        )
        while True:
            with transaction.atomic():
                batch = list(pending[:BATCH])
                if not batch:
                    break
                with translation.override(settings.LANGUAGE_CODE):
                    rows = _notices(batch)
                Notice.objects.bulk_create(rows, ignore_conflicts=True)
                case_services.case_reminders_record(batch, at=now)
            sent[kind.code] = sent.get(kind.code, 0) + len(batch)
            notices += len(rows)
    with transaction.atomic():
        audit_record(
            action="case_reminder.run",
            target=("cases.casereminder", "", now.isoformat()),
            details={"at": now.isoformat(), "sent": sent, "cases": sum(sent.values()), "notices": notices},
        )
    return {"at": now.isoformat(), "sent": sent, "cases": sum(sent.values()), "notices": notices}
