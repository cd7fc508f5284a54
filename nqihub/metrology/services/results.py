"""Verification results: the institution records each instrument's result, signed by three
different people of the institution (检定员 verifier, 核验员 checker, 批准人 approver); the
document follows at once (``services.documents.document_issue``: a 检定证书 for a pass, a
检定结果通知书 for a fail), and when every instrument of the application has its result the
application is completed.

A LIMS pushes results with an ``external_id`` (its own record id). The same push again returns
the result already recorded and records nothing new, also when both copies arrive at the same
time (the id is looked up again under the application's lock and after a refused insert); a
different payload under the same id is a conflict. The database enforces both rules as well
(three different signers; one result per institution and external id), and its refusals come
back as the same clean errors.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, may
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.core.access import get_actor
from nqihub.core.errors import NotFound
from nqihub.organizations.models import Membership

from .. import errors
from ..models import ApplicationItem, VerificationApplication, VerificationResult
from .applications import check_state

Outcome = VerificationResult.Outcome
State = VerificationApplication.State

SIGNER_FIELDS = ("verifier", "checker", "approver")


def institution_signers(institution):
    """The people who may sign the institution's results: its active members."""
    return (
        get_user_model()
        .objects.filter(
            memberships__in=Membership.objects.active().filter(organization=institution),
        )
        .distinct()
        .order_by("username")
    )


def signer_ids_from_usernames(*, institution, usernames: dict[str, str]) -> dict[str, int | None]:
    """{"verifier": "wang", ...} → {"verifier": <id>, ...}, for the LIMS, which names signers
    by username. An unknown name maps to None, which ``result_record`` refuses as not a
    member. One query."""
    wanted = {str(v) for v in usernames.values() if v}
    found = dict(institution_signers(institution).filter(username__in=wanted).values_list("username", "pk"))
    return {role: found.get(str(name)) if name else None for role, name in usernames.items()}


def _item_id(item) -> int:
    value = item.pk if isinstance(item, ApplicationItem) else item
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def _as_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _payload(*, item_id, outcome, verified_on, readings, remarks, failure_reasons, signers) -> dict:
    return {
        "item": item_id,
        "outcome": outcome,
        "verified_on": verified_on,
        "readings": readings,
        "remarks": remarks,
        "failure_reasons": failure_reasons if outcome == Outcome.FAIL else "",
        **signers,
    }


def _payload_of(result: VerificationResult) -> dict:
    return {
        "item": result.item_id,
        "outcome": result.outcome,
        "verified_on": result.verified_on,
        "readings": result.readings,
        "remarks": result.remarks,
        "failure_reasons": result.failure_reasons,
        "verifier": result.verifier_id,
        "checker": result.checker_id,
        "approver": result.approver_id,
    }


def _recorded_under(institution, external_id: str) -> VerificationResult | None:
    """The result the institution's LIMS recorded under ``external_id``, if any."""
    return VerificationResult.objects.filter(institution=institution, external_id=external_id).first()


def _item_recorded(item_id: int) -> bool:
    return VerificationResult.objects.filter(item_id=item_id).exists()


def _same_push(institution, external_id: str, payload: dict) -> VerificationResult | None:
    """The result already recorded by this same push (same LIMS record id, same content), or
    None when nothing is recorded under the id; a different result under it is a conflict."""
    existing = _recorded_under(institution, external_id)
    if existing is None:
        return None
    if _payload_of(existing) == payload:
        return existing
    raise errors.EXTERNAL_ID_CONFLICT(field="external_id", id=external_id)


def _check_signers(institution, signers: dict[str, int | None]) -> None:
    if any(v is None for v in signers.values()):
        raise errors.SIGNER_NOT_MEMBER(
            _("Name the verifier, the checker and the approver of the result."),
            field=next(k for k, v in signers.items() if v is None),
        )
    if len(set(signers.values())) != len(signers):
        raise errors.SAME_SIGNER(field="approver")
    members = set(institution_signers(institution).filter(pk__in=signers.values()).values_list("pk", flat=True))
    outsiders = [role for role, pk in signers.items() if pk not in members]
    if outsiders:
        raise errors.SIGNER_NOT_MEMBER(field=outsiders[0])


def _check_content(*, outcome, verified_on, failure_reasons) -> None:
    if outcome not in Outcome.values:
        raise errors.INVALID_OUTCOME(field="outcome")
    if not isinstance(verified_on, date):
        raise errors.DATE_REQUIRED(field="verified_on")
    if verified_on > timezone.localdate():
        raise errors.DATE_IN_FUTURE(field="verified_on")
    if outcome == Outcome.FAIL and not failure_reasons:
        raise errors.FAILURE_REASONS_REQUIRED(field="failure_reasons")


def _item_target(actor, **kw):
    return (ApplicationItem._meta.label_lower, str(getattr(kw["item"], "pk", kw["item"]))[:64], "")


def _push(actor, **kw) -> dict[str, str]:
    return {
        "external_id": str(kw.get("external_id") or "").strip()[:64],
        "outcome": str(kw.get("outcome"))[:8],
    }


@audited_service(
    "verification_result.record",
    gettext_lazy("Verification result recorded"),
    check=may(
        ApplicationItem,
        "record",
        "item",
        forbidden=lambda: _(
            "Only a manager or clerk of the institution the application is addressed to records its results."
        ),
    ),
    target=_item_target,
    details=_push,
)
def result_record(
    *,
    actor,
    item: ApplicationItem | int,
    outcome: str,
    verified_on: date | None,
    readings: str = "",
    remarks: str = "",
    failure_reasons: str = "",
    verifier_id: int | None = None,
    checker_id: int | None = None,
    approver_id: int | None = None,
    external_id: str = "",
) -> tuple[VerificationResult, bool]:
    """Record the result of one instrument of an accepted (or scheduled) application and issue
    its document. Returns ``(result, created)``: ``created`` is False when a LIMS pushed the
    same ``external_id`` with the same content again (nothing is recorded then)."""
    action = "verification_result.record"
    readings, remarks = str(readings or "").strip()[:5000], str(remarks or "").strip()[:5000]
    failure_reasons, external_id = str(failure_reasons or "").strip()[:5000], str(external_id or "").strip()[:64]
    signers = {"verifier": _as_int(verifier_id), "checker": _as_int(checker_id), "approver": _as_int(approver_id)}
    item_id = _item_id(item)
    a = get_actor(actor)
    # The decorator's check has found the item visible and the actor one who records it.
    institution = a.organization
    payload = _payload(
        item_id=item_id,
        outcome=outcome,
        verified_on=verified_on,
        readings=readings,
        remarks=remarks,
        failure_reasons=failure_reasons,
        signers=signers,
    )
    if external_id:
        existing = _same_push(institution, external_id, payload)
        if existing is not None:
            return existing, False
    _check_content(outcome=outcome, verified_on=verified_on, failure_reasons=failure_reasons)
    _check_signers(institution, signers)
    locked_item = ApplicationItem.objects.select_related("instrument").get(pk=item_id)
    application = VerificationApplication.objects.select_for_update().get(pk=locked_item.application_id)
    if external_id:
        # Again under the lock: an identical push that ran at the same time has recorded
        # the result (and perhaps completed the application) while this one waited.
        existing = _same_push(institution, external_id, payload)
        if existing is not None:
            return existing, False
    check_state(application, State.ACCEPTED, State.SCHEDULED)
    if _item_recorded(item_id):
        raise errors.ALREADY_RECORDED(
            _("The result of this instrument has already been recorded; reissue its document to correct it.")
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            result = VerificationResult.objects.create(
                item=locked_item,
                outcome=outcome,
                verified_on=verified_on,
                readings=readings,
                remarks=remarks,
                failure_reasons=failure_reasons if outcome == Outcome.FAIL else "",
                verifier_id=signers["verifier"],
                checker_id=signers["checker"],
                approver_id=signers["approver"],
                external_id=external_id,
                institution=institution,
                recorded_at=now,
            )
    except IntegrityError:
        # A concurrent push of the same item or LIMS record id won the race (the service
        # checked the signers above, so the database's signature rule cannot be it). If
        # it was this very push, that is success: the LIMS gets the recorded result.
        existing = _same_push(institution, external_id, payload) if external_id else None
        if existing is not None:
            return existing, False
        raise errors.ALREADY_RECORDED() from None
    from .documents import document_issue  # written alongside; imported when needed

    document = document_issue(actor=actor, result=result)
    cases.case_log(
        application.case,
        # The outcome in the step's code, read in the reader's language; the note holds
        # only what needs no translation.
        step=f"result_{outcome}",
        actor=actor,
        note=f"{locked_item.instrument} · {document.number}",
        at=now,
    )
    audit_record(
        action=action,
        actor=actor,
        target=result,
        details={
            "application": application.number,
            "item": item_id,
            "outcome": outcome,
            "document": document.number,
            "external_id": external_id,
            "signers": signers,
        },
    )
    if not ApplicationItem.objects.filter(application=application, result__isnull=True).exists():
        application.complete()
        application.save(update_fields=["state"])
        cases.case_close(application.case, actor=actor, step="completed", at=now)
        audit_record(action="verification_application.complete", actor=actor, target=application)
    return result, True
