"""Issued documents: the 检定证书 (pass) and the 检定结果通知书 (fail), their PDFs, reissue and
revocation.

* ``document_issue`` turns a recorded :class:`VerificationResult` into its document: the kind
  follows the outcome, the number is the institution's next of the year (``JD-<institution
  pk>-<year>-000123`` for certificates, ``TZ-…`` for notices), the certificate's validity comes
  from the catalogue item (``period_months`` / ``service_life_months``, never a constant here),
  fee and waiver are copied from the application item, the instrument's dates are updated and
  the PDF is rendered once and stored with its SHA-256.
* An issued document never changes. ``document_reissue`` makes a new document (new number and
  check code) with the same facts and marks the old one ``superseded`` (``superseded_by``);
  ``document_revoke`` marks it ``revoked`` with the reason. Only the issuing institution's
  working members do either.
* ``documents_for_user`` scopes reads (the pages and the API use it): an enterprise sees the
  documents it received, an institution those it issued, a regulator those in its
  jurisdiction. (It belongs on an ``IssuedDocumentQuerySet.for_user``; see the module report.)

Every write runs in one transaction, locks what it changes and writes one audit record; a
refusal changes nothing and is itself recorded.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import logging

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.services import audit_record
from nqihub.audit.services import audit_refusal as _refuse
from nqihub.core.access import get_actor
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound, ServiceError

from ..models import Instrument, IssuedDocument, VerificationMode, VerificationResult, document_public_facts

logger = logging.getLogger(__name__)

NUMBER_PREFIX = {IssuedDocument.Kind.CERTIFICATE: "JD", IssuedDocument.Kind.NOTICE: "TZ"}
_SEQUENCE_DIGITS = 6
_NUMBER_ATTEMPTS = 5
MAX_REASON_LENGTH = 2000

for _code, _label in {
    "document.issue": gettext_lazy("Verification document issued"),
    "document.reissue": gettext_lazy("Verification document reissued"),
    "document.revoke": gettext_lazy("Verification document revoked"),
}.items():
    register_audit_action(_code, _label)


# --- Reads -----------------------------------------------------------------------------------


# --- Rules -----------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end
    (31 January + 1 month = 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def certificate_valid_until(result: VerificationResult) -> datetime.date | None:
    """Until when a pass is valid, from the catalogue item the instrument was verified under:
    periodic → verified_on + period; first verification with a limited life → verified_on +
    service life (None when the catalogue gives none); first verification until scrapped →
    no expiry (None). A fail has no validity."""
    if result.outcome != VerificationResult.Outcome.PASS:
        return None
    item = result.item.catalogue_item
    if item.verification_mode == VerificationMode.PERIODIC and item.period_months:
        return add_months(result.verified_on, item.period_months)
    if item.verification_mode == VerificationMode.FIRST_LIMITED and item.service_life_months:
        return add_months(result.verified_on, item.service_life_months)
    return None


def _next_number(institution, kind: str, year: int) -> str:
    prefix = f"{NUMBER_PREFIX[kind]}-{institution.pk}-{year}-"
    last = (
        IssuedDocument.objects.filter(institution=institution, number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    try:
        sequence = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    except ValueError:  # pragma: no cover - a hand-edited number; start after the count
        sequence = IssuedDocument.objects.filter(institution=institution, number__startswith=prefix).count() + 1
    return f"{prefix}{sequence:0{_SEQUENCE_DIGITS}d}"


def _lock_institution(institution) -> None:
    """Serialise numbering per institution: its organisation row is the counter's lock (two
    issuers of one institution wait for each other; other institutions are not blocked). The
    unique constraint (institution, number) and the retry in ``_create_numbered`` cover a
    database without row locks."""
    type(institution).objects.select_for_update().filter(pk=institution.pk).values_list("pk", flat=True).first()


def _create_numbered(**fields) -> IssuedDocument:
    institution = fields["institution"]
    year = timezone.localtime(fields["issued_at"]).year
    _lock_institution(institution)
    for attempt in range(_NUMBER_ATTEMPTS):
        document = IssuedDocument(number=_next_number(institution, fields["kind"], year), **fields)
        try:
            with transaction.atomic():
                document.save(force_insert=True)
            return document
        except IntegrityError:
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
            logger.info("document number %s taken; retrying", document.number)
    raise AssertionError("unreachable")  # pragma: no cover


def _store_pdf(document: IssuedDocument) -> None:
    """Render the document once and store it with its digest (the stored bytes are what the
    parties download; the digest proves they were never changed)."""
    from nqihub.documents.certificates import render_document

    data = render_document(document)
    document.pdf_sha256 = hashlib.sha256(data).hexdigest()
    document.pdf.save(f"{document.number}.pdf", ContentFile(data), save=False)
    document.save(update_fields=["pdf", "pdf_sha256"])


def _update_instrument(result: VerificationResult, valid_until: datetime.date | None) -> None:
    instrument = Instrument.objects.select_for_update().get(pk=result.item.instrument_id)
    if instrument.last_verified_on and instrument.last_verified_on > result.verified_on:
        return  # an older result issued late does not roll the instrument's dates back
    instrument.last_verified_on = result.verified_on
    if result.outcome == VerificationResult.Outcome.PASS:
        # Periodic: due again when the certificate runs out. Limited life: due (for
        # replacement) at the end of its life. Until scrapped: never due again (None).
        instrument.next_due_on = valid_until
    else:
        # A failed instrument must not be used: it is due on the day it failed, so it shows
        # as overdue (and is reminded of) until it is repaired and verified again.
        instrument.next_due_on = result.verified_on
    instrument.save(update_fields=["last_verified_on", "next_due_on", "updated_at"])


def _result_id(result) -> int:
    value = result.pk if isinstance(result, VerificationResult) else result
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def _document_id(document) -> int:
    value = document.pk if isinstance(document, IssuedDocument) else document
    try:
        return int(value)
    except (TypeError, ValueError):
        raise NotFound() from None


def _target(obj, model):
    if isinstance(obj, model):
        return obj
    return (model._meta.label_lower, str(obj)[:64], "")


def _locked_document(actor, document_id: int) -> IssuedDocument:
    """The document, locked, if ``actor`` may reissue or revoke it: 404 when they may not see
    it, 403 when they see it but it is not their institution's."""
    if not IssuedDocument.objects.for_user(actor, "view").filter(pk=document_id).exists():
        raise NotFound()
    if not IssuedDocument.objects.for_user(actor, "manage").filter(pk=document_id).exists():
        raise Forbidden(
            _("Only a manager or clerk of the institution that issued the document may reissue or revoke it.")
        )
    document = IssuedDocument.objects.select_for_update().get(pk=document_id)
    if document.state != IssuedDocument.State.VALID:
        raise Conflict(
            _("Document %(number)s is %(state)s and can no longer be changed.")
            % {"number": document.number, "state": document.get_state_display()},
            code="invalid_state",
        )
    return document


def _clean_reason(reason, what: str) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else str(reason).strip()
    if not reason:
        message = (
            _("Give the reason for revoking the document; it is recorded (the public check shows only that it was revoked).")
            if what == "revoke"
            else _("Give the reason for reissuing the document; it is recorded.")
        )
        raise InvalidInput(message, code="reason_required", field="reason")
    return reason[:MAX_REASON_LENGTH]


# --- Use cases -------------------------------------------------------------------------------


def document_issue(*, actor, result: VerificationResult | int) -> IssuedDocument:
    """Issue the document for a recorded result: a 检定证书 for a pass, a 检定结果通知书 (with
    the reasons) for a fail. One document per result: issuing again is refused (a correction
    is a reissue). Only the result's institution's working members issue."""
    action = "document.issue"
    try:
        result_id = _result_id(result)
        with transaction.atomic():
            locked = VerificationResult.objects.select_for_update().filter(pk=result_id).first()
            actor_info = get_actor(actor)
            org = actor_info.organization
            if locked is None or org is None or locked.institution_id != org.pk:
                raise NotFound()
            if not actor_info.can_work:
                raise Forbidden(_("Only a manager or clerk of the institution may issue its verification documents."))
            result_obj = VerificationResult.objects.select_related(
                "item__application", "item__catalogue_item", "item__instrument", "institution"
            ).get(pk=locked.pk)
            if result_obj.documents.exists():
                raise Conflict(
                    _("The document for this result has already been issued; reissue it to correct it."),
                    code="already_issued",
                )
            item = result_obj.item
            application = item.application
            passed = result_obj.outcome == VerificationResult.Outcome.PASS
            valid_until = certificate_valid_until(result_obj)
            issued_at = timezone.now()
            document = _create_numbered(
                kind=IssuedDocument.Kind.CERTIFICATE if passed else IssuedDocument.Kind.NOTICE,
                result=result_obj,
                instrument_id=item.instrument_id,
                institution=application.institution,
                organization_id=application.organization_id,
                division_id=application.division_id,
                issued_at=issued_at,
                valid_until=valid_until,
                fee=item.fee,
                waived=item.waived,
                public_facts=document_public_facts(
                    institution_name=result_obj.institution.name,
                    instrument=item.instrument,
                    catalogue_item=item.catalogue_item,
                    outcome=result_obj.outcome,
                    verified_on=result_obj.verified_on,
                    issued_on=timezone.localtime(issued_at).date(),
                ),
            )
            _update_instrument(result_obj, valid_until)
            _store_pdf(document)
            audit_record(
                action=action,
                actor=actor,
                target=document,
                details={
                    "result_id": result_obj.pk,
                    "kind": document.kind,
                    "public_code": document.public_code,
                    "valid_until": valid_until.isoformat() if valid_until else None,
                    "pdf_sha256": document.pdf_sha256,
                },
            )
            return document
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, target=_target(result, VerificationResult))


def document_reissue(*, actor, document: IssuedDocument | int, reason: str) -> IssuedDocument:
    """A new document (new number and check code) with the same facts; the old one becomes
    ``superseded`` and points to it. Nothing else of the old document changes."""
    action = "document.reissue"
    try:
        reason = _clean_reason(reason, "reissue")
        with transaction.atomic():
            old = _locked_document(actor, _document_id(document))
            issued_at = timezone.now()
            new = _create_numbered(
                kind=old.kind,
                result_id=old.result_id,
                instrument_id=old.instrument_id,
                institution=old.institution,
                organization_id=old.organization_id,
                division_id=old.division_id,
                issued_at=issued_at,
                valid_until=old.valid_until,
                fee=old.fee,
                waived=old.waived,
                # The same facts as the document it replaces, issued today.
                public_facts={**old.public_facts, "issued_on": timezone.localtime(issued_at).date().isoformat()},
            )
            IssuedDocument.objects.filter(pk=old.pk).update(state=IssuedDocument.State.SUPERSEDED, superseded_by=new)
            _store_pdf(new)
            audit_record(
                action=action,
                actor=actor,
                target=new,
                details={
                    "reason": reason,
                    "supersedes": old.number,
                    "supersedes_id": old.pk,
                    "public_code": new.public_code,
                    "pdf_sha256": new.pdf_sha256,
                },
            )
            return new
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, target=_target(document, IssuedDocument))


def document_revoke(*, actor, document: IssuedDocument | int, reason: str) -> IssuedDocument:
    """Revoke a valid document, saying why. The public check reports it revoked from then on;
    an instrument left without a valid certificate becomes due at once."""
    action = "document.revoke"
    try:
        reason = _clean_reason(reason, "revoke")
        with transaction.atomic():
            locked = _locked_document(actor, _document_id(document))
            now = timezone.now()
            IssuedDocument.objects.filter(pk=locked.pk).update(
                state=IssuedDocument.State.REVOKED, revoked_at=now, revoked_reason=reason
            )
            locked.refresh_from_db()
            if locked.kind == IssuedDocument.Kind.CERTIFICATE:
                today = timezone.localdate()
                still_valid = (
                    IssuedDocument.objects.filter(
                        instrument_id=locked.instrument_id,
                        kind=IssuedDocument.Kind.CERTIFICATE,
                        state=IssuedDocument.State.VALID,
                    )
                    .exclude(valid_until__lt=today)
                    .exists()
                )
                if not still_valid:
                    # Without a valid certificate the instrument may not be used: due today.
                    Instrument.objects.filter(pk=locked.instrument_id).exclude(next_due_on__lte=today).update(
                        next_due_on=today, updated_at=now
                    )
            audit_record(action=action, actor=actor, target=locked, details={"reason": reason})
            return locked
    except ServiceError as exc:
        _refuse(exc, actor=actor, action=action, target=_target(document, IssuedDocument))
