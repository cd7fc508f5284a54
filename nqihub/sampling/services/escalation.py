"""The daily job of supervision sampling's time limits (``manage.py escalate_sampling_deadlines``).

1. Conclusions whose objection period ended without an objection are made final (an unqualified
   product's handling is ordered at once, with its deadlines).
2. Every running deadline of a sampling record past due and not yet reported (the correction, the
   re-check, the second re-check) is reported to the regulator ABOVE the organiser — the
   regulators of the organiser's parent division, never its peers — with a notice, an
   ``escalated`` step on the record's timeline, and the deadline marked reported, so each is
   reported once.

Set-based: a constant number of statements whatever the number of records, and one audit
record per run.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.services import audit_record
from nqihub.cases import kinds as case_kinds
from nqihub.cases import selectors as case_selectors
from nqihub.cases import services as cases
from nqihub.cases.models import CaseDeadline
from nqihub.core.access import OrganizationKind
from nqihub.notifications.models import Notice
from nqihub.organizations.models import Organization

from ..models import SamplingRecord
from .aftermath import OBJECTION, Final, make_final, record_url

register_audit_action("sampling_deadline.run", _("Sampling time limits checked (final conclusions, escalations)"))

ESCALATION_NOTICE_KIND = "sampling_escalation"
KIND = "sampling_record"


def _finalize_unobjected(now: datetime) -> int:
    due = list(
        CaseDeadline.objects.filter(
            case__kind=KIND,
            code=OBJECTION,
            state=CaseDeadline.State.OPEN,
            due_at__lt=now,
            case__sampling_record__stage=SamplingRecord.Stage.NOTIFIED,
        ).values_list(
            "pk",
            "case_id",
            "case__number",
            "case__sampling_record__pk",
            "case__sampling_record__conclusion",
            "case__sampling_record__organization_id",
            "case__sampling_record__producer_id",
        )
    )
    if not due:
        return 0
    cases.case_deadlines_meet_many([row[0] for row in due], note=gettext("Ended without an objection."), at=now)
    finals = [
        Final(record_id=rec, case_id=case, conclusion=conclusion, organization_id=org, producer_id=producer, number=num)
        for _pk, case, num, rec, conclusion, org, producer in due
    ]
    return make_final(finals, at=now, note=gettext("No objection was raised within the period."))


def _escalate(now: datetime) -> tuple[int, int, int]:
    overdue = list(
        case_selectors.deadlines_to_escalate(KIND, now=now)
        .exclude(code=OBJECTION)
        .values_list(
            "pk",
            "case_id",
            "code",
            "due_at",
            "case__number",
            "case__sampling_record__pk",
            "case__sampling_record__organization__name",
            "case__sampling_record__batch__organizer__name",
            "case__sampling_record__batch__organizer__division__parent_id",
        )
    )
    if not overdue:
        return 0, 0, 0
    parents = {row[8] for row in overdue if row[8]}
    above: dict[str, list[int]] = {}
    for division_id, pk in Organization.objects.filter(
        kind=OrganizationKind.REGULATOR, is_active=True, division_id__in=parents
    ).values_list("division_id", "pk"):
        above.setdefault(division_id, []).append(pk)
    spec = case_kinds.get(KIND)
    notices, steps, unreported = [], [], 0
    for pk, case_id, code, due_at, number, record_id, party, organizer, parent in overdue:
        values = {
            "number": number,
            "step": str(spec.deadline_label(code)),
            "due": timezone.localdate(due_at).isoformat(),
            "party": party,
            "organizer": organizer,
        }
        steps.append((case_id, "escalated", gettext("%(step)s was due %(due)s.") % values))
        regulators = above.get(parent, []) if parent else []
        if not regulators:
            unreported += 1
        for org in regulators:
            notices.append(
                Notice(
                    organization_id=org,
                    kind=ESCALATION_NOTICE_KIND,
                    key=f"deadline:{pk}",
                    title=(gettext("Overdue: %(step)s of sampling %(number)s") % values)[:200],
                    body=gettext("%(step)s was due %(due)s. Sampled party: %(party)s. Organised by %(organizer)s.")
                    % values,
                    link=record_url(record_id)[:300],
                )
            )
    Notice.objects.bulk_create(notices, ignore_conflicts=True)
    cases.case_log_many(steps, at=now)
    cases.case_deadlines_mark_escalated([row[0] for row in overdue], at=now)
    return len(overdue), len(notices), unreported


def run_sampling_deadlines(*, now: datetime | None = None) -> dict:
    """The daily job: see the module's docstring. Returns what it did."""
    now = now or timezone.now()
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        final = _finalize_unobjected(now)
        escalated, notices, unreported = _escalate(now)
        result = {
            "at": now.isoformat(),
            "made_final": final,
            "escalated": escalated,
            "notices": notices,
            "no_level_above": unreported,
        }
        audit_record(action="sampling_deadline.run", target=("cases.casedeadline", "", now.isoformat()), details=result)
    return result
