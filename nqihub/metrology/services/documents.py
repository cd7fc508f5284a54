"""Issued documents: the 检定证书 (pass) and the 检定结果通知书 (fail), their PDFs, reissue and
revocation.

* ``document_issue`` turns a recorded :class:`VerificationResult` into its document: the kind
  follows the outcome, the number is the institution's next of the year (``JD-<institution
  pk>-<year>-000123`` for certificates, ``TZ-…`` for notices; at least six digits, more past
  999,999), taken by the documents kernel (``nqihub.documents.services.issue``) from its locked
  counter row per institution, kind and year (the kinds are registered in ``apps.py``),
  the certificate's validity comes from the catalogue item (``period_months`` /
  ``service_life_months``, never a constant here; valid until the day before the anniversary),
  fee and waiver are copied from the application item, the instrument's dates are updated and
  the PDF is rendered once the transaction commits and stored with its SHA-256.
* An issued document never changes. ``document_reissue`` makes a new document (new number and
  check code) with the same facts and marks the old one ``superseded`` (``superseded_by``);
  ``document_revoke`` marks it ``revoked`` with the reason. Only the issuing institution's
  working members do either.
* ``IssuedDocument.objects.for_user`` scopes reads (the pages and the API use it): an
  enterprise sees the documents it received, an institution those it issued, a regulator those
  in its jurisdiction; ``manage`` (reissue, revoke) is the issuing institution's.

The kernel numbers, hashes the content, records the issue and renders the PDF after commit;
this module checks permission and input and writes the metrology facts. Every write runs in
one transaction, locks what it changes and writes one audit record; a
refusal changes nothing and is itself recorded. Permission is checked before the input, so
someone who may not act learns nothing from the input checks (and is recorded as denied).
"""

from __future__ import annotations

import calendar
import datetime
import re
import unicodedata

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, locked_for
from nqihub.audit.services import audit_record
from nqihub.core.access import get_actor
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.documents import services as kernel
from nqihub.documents.certificates import CertificateData, render_certificate

from ..models import (
    Instrument,
    IssuedDocument,
    VerificationMode,
    VerificationResult,
    document_public_facts,
)
from .policy import current_policy

NUMBER_PREFIX = {IssuedDocument.Kind.CERTIFICATE: "JD", IssuedDocument.Kind.NOTICE: "TZ"}
MAX_REASON_LENGTH = 2000

# --- Reads -----------------------------------------------------------------------------------


# --- Rules -----------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """``day`` plus ``months`` calendar months, the day clamped to the month's end
    (31 January + 1 month = 28 or 29 February)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def validity_months(item) -> int | None:
    """How long a pass under catalogue ``item`` is valid, in months: the period of a periodic
    item, the service life of a limited-life one; None (no expiry) otherwise, or when the
    catalogue gives no figure (no constant stands in for it)."""
    if item.verification_mode == VerificationMode.PERIODIC:
        return item.period_months or None
    if item.verification_mode == VerificationMode.FIRST_LIMITED:
        return item.service_life_months or None
    return None


def validity_end(verified_on: datetime.date, months: int, *, day_before: bool) -> datetime.date:
    """The last valid day of a pass on ``verified_on`` for ``months``: the day before the
    anniversary when ``day_before`` (common practice: 有效期至 = 检定日期 + 周期 − 1 日, verified
    on 2026-01-31 for 12 months → 2027-01-30), else the anniversary. Which one is the verification
    service policy's ``validity_ends_day_before`` (data, because the practice was not checked
    against a regulation's text)."""
    end = add_months(verified_on, months)
    return end - datetime.timedelta(days=1) if day_before else end


def certificate_valid_until(result: VerificationResult) -> datetime.date | None:
    """The last day a pass is valid (证书有效期至), from the catalogue item the instrument was
    verified under (``validity_months``, ``validity_end``); None for a fail or a pass without
    expiry. The instrument is due by that day (``next_due_on = valid_until``): "due today" on
    its last valid day, overdue from the first day without a valid certificate."""
    if result.outcome != VerificationResult.Outcome.PASS:
        return None
    months = validity_months(result.item.catalogue_item)
    if months is None:
        return None
    return validity_end(result.verified_on, months, day_before=current_policy().validity_ends_day_before)


def number_prefix(kind: str):
    """The number's form of a kind, for the documents kernel: ``JD-<institution>-<year>-``
    then at least six digits (more once a year passes 999,999: ``…-1000000``)."""
    return lambda institution_id, year: f"{NUMBER_PREFIX[kind]}-{institution_id}-{year}-"


_NUMBER_PATTERN = re.compile(r"^(?P<prefix>[A-Z]{2})-(?P<institution>\d{1,18})-(?P<year>\d{4})-(?P<sequence>\d{1,18})$")


def number_lookup(text: str) -> dict | None:
    """The exact look-up of a document number as someone typed it (full-width characters,
    spaces and lower case are forgiven: numbers are stored ``JD-12-2026-000123``), as filter
    arguments that the index on (institution, number) serves; None when it is no number."""
    number = "".join(unicodedata.normalize("NFKC", text or "").split()).upper()
    match = _NUMBER_PATTERN.match(number)
    if match is None:
        return None
    return {"institution_id": int(match["institution"]), "number": number}


def _update_instrument(result: VerificationResult, valid_until: datetime.date | None) -> None:
    instrument = Instrument.objects.select_for_update().get(pk=result.item.instrument_id)
    if instrument.last_verified_on and instrument.last_verified_on > result.verified_on:
        return  # an older result issued late does not roll the instrument's dates back
    instrument.last_verified_on = result.verified_on
    if result.outcome == VerificationResult.Outcome.PASS:
        # Periodic: due again on the anniversary, the day after the certificate's last valid
        # day. Limited life: due (for replacement) at the end of its life. Until scrapped:
        # never due again (None).
        instrument.next_due_on = valid_until  # due by its last valid day; None: never expires
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


def _target(obj, model):
    if isinstance(obj, model):
        return obj
    return (model._meta.label_lower, str(obj)[:64], "")


def _locked_document(actor, document) -> IssuedDocument:
    """The document (a row or its id), locked, if ``actor`` may reissue or revoke it: 404 when
    they may not see it, 403 when they see it but it is not their institution's."""
    document = locked_for(
        IssuedDocument.objects.for_user(actor, "view"),
        IssuedDocument.objects.for_user(actor, "manage"),
        getattr(document, "pk", document),
        forbidden=_("Only a manager or clerk of the institution that issued the document may reissue or revoke it."),
    )
    if document.state != IssuedDocument.State.VALID:
        raise Conflict(
            _("Document %(number)s is %(state)s and can no longer be changed.")
            % {"number": document.number, "state": document.get_state_display()},
            code="invalid_state",
        )
    return document


def _clean_reason(reason, what: str) -> str:
    """The reason given for a reissue or revocation, checked only once the caller is known to
    be allowed to give one (see ``_locked_document``)."""
    if reason is None:
        text = ""
    elif isinstance(reason, str):
        text = reason
    elif isinstance(reason, (int, float)) and not isinstance(reason, bool):
        text = str(reason)
    else:
        raise InvalidInput(_("Give the reason as text."), code="invalid", field="reason")
    text = text.strip()
    if not text:
        message = (
            _(
                "Give the reason for revoking the document; it is recorded (the public check shows only that it was revoked)."
            )
            if what == "revoke"
            else _("Give the reason for reissuing the document; it is recorded.")
        )
        raise InvalidInput(message, code="reason_required", field="reason")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidInput(
            _("At most %(max)d characters (%(count)d given).") % {"max": MAX_REASON_LENGTH, "count": len(text)},
            code="max_length",
            field="reason",
        )
    return text


# --- The PDF ---------------------------------------------------------------------------------


def _person(user) -> str:
    if user is None:
        return ""
    return (getattr(user, "display_name", "") or user.get_full_name() or user.get_username()).strip()


def data_from_document(document) -> CertificateData:
    """The printed facts of an IssuedDocument (its result, item, instrument, catalogue item,
    parties and signers, loaded in one query)."""
    doc = IssuedDocument.objects.select_related(
        "institution",
        "organization",
        "instrument",
        "result__item__catalogue_item",
        "result__verifier",
        "result__checker",
        "result__approver",
    ).get(pk=document.pk)
    result = doc.result
    item = result.item.catalogue_item
    instrument = doc.instrument
    predecessor = IssuedDocument.objects.filter(superseded_by=doc).values_list("number", flat=True).first()
    return CertificateData(
        kind=doc.kind,
        number=doc.number,
        public_code=doc.public_code,
        institution=doc.institution.name,
        client=doc.organization.name,
        instrument_name=instrument.name,
        model_spec=instrument.model_spec,
        factory_number=instrument.factory_number,
        manufacturer=instrument.manufacturer,
        platform_code=instrument.platform_code,
        regulation=item.regulation,
        catalogue_item=f"{item.code} {item.name}",
        passed=result.outcome == "pass",
        verified_on=result.verified_on,
        valid_until=doc.valid_until,
        issued_on=timezone.localtime(doc.issued_at).date(),
        verifier=_person(result.verifier),
        checker=_person(result.checker),
        approver=_person(result.approver),
        fee=doc.fee,
        waived=doc.waived,
        readings=result.readings,
        remarks=result.remarks,
        failure_reasons=result.failure_reasons,
        measuring_range=instrument.measuring_range,
        accuracy_class=instrument.accuracy_class,
        supersedes=predecessor or "",
        no_expiry=doc.valid_until is None and item.verification_mode == VerificationMode.FIRST_SCRAP,
    )


def render_document(document, *, request=None) -> bytes:
    """The PDF of an IssuedDocument (what the documents kernel stores after the issue commits)."""
    return render_certificate(data_from_document(document), request=request)


# --- Use cases -------------------------------------------------------------------------------


@audited_service(
    "document.issue",
    gettext_lazy("Verification document issued"),
    target=lambda actor, **kw: _target(kw["result"], VerificationResult),
)
def document_issue(*, actor, result: VerificationResult | int) -> IssuedDocument:
    """Issue the document for a recorded result: a 检定证书 for a pass, a 检定结果通知书 (with
    the reasons) for a fail. One document per result: issuing again is refused (a correction
    is a reissue). Only the result's institution's working members issue."""
    action = "document.issue"
    result_id = _result_id(result)
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
    document = kernel.issue(
        IssuedDocument,
        actor=actor,
        action=action,
        details={"result_id": result_obj.pk, "valid_until": valid_until.isoformat() if valid_until else None},
        kind=IssuedDocument.Kind.CERTIFICATE if passed else IssuedDocument.Kind.NOTICE,
        result=result_obj,
        instrument_id=item.instrument_id,
        institution=application.institution,
        organization_id=application.organization_id,
        division_id=application.division_id,
        issued_at=issued_at,
        verified_on=result_obj.verified_on,
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
    return document


@audited_service(
    "document.reissue",
    gettext_lazy("Verification document reissued"),
    target=lambda actor, **kw: _target(kw["document"], IssuedDocument),
)
def document_reissue(*, actor, document: IssuedDocument | int, reason: str) -> IssuedDocument:
    """A new document (new number and check code) with the same facts; the old one becomes
    ``superseded`` and points to it. Nothing else of the old document changes."""
    action = "document.reissue"
    old = _locked_document(actor, document)  # permission first, then input
    reason = _clean_reason(reason, "reissue")
    issued_at = timezone.now()
    new = kernel.issue(
        IssuedDocument,
        actor=actor,
        action=action,
        details={"reason": reason, "supersedes": old.number, "supersedes_id": old.pk},
        kind=old.kind,
        result_id=old.result_id,
        instrument_id=old.instrument_id,
        institution=old.institution,
        organization_id=old.organization_id,
        division_id=old.division_id,
        issued_at=issued_at,
        verified_on=old.verified_on,
        valid_until=old.valid_until,
        fee=old.fee,
        waived=old.waived,
        # The same facts as the document it replaces, issued today.
        public_facts={**old.public_facts, "issued_on": timezone.localtime(issued_at).date().isoformat()},
    )
    kernel.supersede(old, new)
    return new


@audited_service(
    "document.revoke",
    gettext_lazy("Verification document revoked"),
    target=lambda actor, **kw: _target(kw["document"], IssuedDocument),
)
def document_revoke(*, actor, document: IssuedDocument | int, reason: str) -> IssuedDocument:
    """Revoke a valid document, saying why. The public check reports it revoked from then on;
    an instrument left without a valid certificate becomes due at once."""
    action = "document.revoke"
    locked = _locked_document(actor, document)  # permission first, then input
    reason = _clean_reason(reason, "revoke")
    now = timezone.now()
    kernel.revoke(locked, at=now, reason=reason)
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
