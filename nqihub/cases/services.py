"""The kernel's casework services: numbering, the review state machine, the promised time limit,
the timeline, attachments and the rating hook.

Domain services call these inside their own transaction, after their own permission checks and
before their own audit record; these functions never check who may act (the domain knows) and
write no audit record of their own (the domain's one record covers the whole change). Every
function takes the case (or its domain row's case) and changes it under a row lock.

A domain row may keep a copy of the case state in its own ``state`` column, for its own
constraints and indexes (one open registration per credit code, an institution's inbox); pass
it as ``subject`` and the kernel writes that copy too, so the state has one writer.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import models, transaction
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import can_proceed

from nqihub.audit.service import audited_service, check_allowed, locked_for
from nqihub.audit.services import audit_record
from nqihub.core.errors import Conflict, NotFound
from nqihub.workcalendar.services import add_working_days

from . import errors, numbering
from . import kinds as case_kinds
from .models import Case, CaseAttachment, CaseDeadline, CaseEvent, CaseReminder

NOTE_LIMIT = 500
# Attachments: at most this many bytes each, of these types (by extension and declared type).
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS_PER_CASE = 50
ATTACHMENT_TYPES = {
    "pdf": "application/pdf",
    "ofd": "application/ofd",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


# --- Numbers ---------------------------------------------------------------------------------


def _issued_past(kind: case_kinds.CaseKind, year: int) -> int:
    """The highest sequence already issued in ``kind``'s number form for ``year`` (0 if none), so
    a counter created now starts past every number of its form, whoever wrote it."""
    stem = kind.number_stem(year)
    highest = (
        Case.objects.annotate(_length=Length("number"))
        .filter(number__startswith=stem, _length=kind.number_length)
        .aggregate(m=models.Max("number"))["m"]
    )
    tail = (highest or "")[len(stem) :]
    return int(tail) if tail.isdigit() else 0


def next_number(kind_code: str, *, on_date=None) -> str:
    """The next case number of ``kind_code`` for the year of ``on_date`` (today by default):
    ``<prefix><year><seq>``, from a counter read and advanced under a row lock, never derived
    from a primary key."""
    return next_numbers(kind_code, year=(on_date or timezone.localdate()).year, count=1)[0]


def next_numbers(kind_code: str, *, year: int, count: int) -> list[str]:
    """``count`` consecutive case numbers of ``kind_code`` for ``year`` under one counter lock
    (for bulk writers such as the demo generator: one query for the whole block), from the one
    numbering service. Numbers of the same form already issued outside the counter are skipped."""
    kind = case_kinds.get(kind_code)

    def taken(sequences):
        numbers = {kind.format_number(year, seq): seq for seq in sequences}
        return [numbers[n] for n in Case.objects.filter(number__in=list(numbers)).values_list("number", flat=True)]

    sequences = numbering.next_sequences(
        numbering.case_series(kind.code), year, count=count, start=lambda: _issued_past(kind, year), taken=taken
    )
    return [kind.format_number(year, seq) for seq in sequences]


# --- Timeline --------------------------------------------------------------------------------


def case_log(case: Case, *, step: str, actor=None, note: str = "", at: datetime | None = None) -> CaseEvent:
    """Add a step to the case's timeline without changing its state (a domain step such as
    "scheduled" or "result recorded")."""
    return CaseEvent.objects.create(
        case=case, at=at or timezone.now(), actor=actor, kind=step[:32], note=str(note or "")[:NOTE_LIMIT]
    )


# --- Opening and the state machine -------------------------------------------------------------


def _deadline(kind: case_kinds.CaseKind, start: datetime) -> datetime | None:
    days = kind.time_limit() if kind.time_limit is not None else None
    return add_working_days(start, days) if days is not None else None


def case_open(
    *,
    kind: str,
    actor,
    applicant_organization=None,
    handling_organization=None,
    division=None,
    submit: bool = True,
    at: datetime | None = None,
) -> Case:
    """Open a case of ``kind`` with its number; submitted at once unless ``submit`` is false (a
    draft). Run it inside the domain's transaction."""
    spec = case_kinds.get(kind)
    now = at or timezone.now()
    with transaction.atomic():
        case = Case.objects.create(
            kind=spec.code,
            number=next_number(spec.code, on_date=timezone.localdate(now)),
            applicant_organization=applicant_organization,
            handling_organization=handling_organization,
            division=division,
            opened_at=now,
        )
        if submit:
            _submit(case, actor=actor, at=now)
        return case


def _locked(case: Case) -> Case:
    locked = Case.objects.select_for_update().get(pk=case.pk)
    return locked


def _refuse_state(case: Case) -> Conflict:
    return Conflict(
        _("This case is %(state)s and can no longer be changed this way.") % {"state": case.get_state_display()},
        code="invalid_state",
    )


def _mirror(case: Case, subject) -> None:
    if subject is not None:
        subject.state = case.state
        type(subject)._default_manager.filter(pk=subject.pk).update(state=case.state)


def _step(case: Case, method: str) -> Case:
    locked = _locked(case)
    transition = getattr(locked, method)
    if not can_proceed(transition):
        raise _refuse_state(locked)
    transition()
    return locked


def _finish(locked: Case, case: Case, fields: list[str], *, subject) -> Case:
    locked.save(update_fields=["state", *fields])
    if subject is not None:
        # The subject's case is the current one from now on (the caller's ``case`` object may be
        # stale: use the returned one).
        subject.case = locked
    _mirror(locked, subject)
    return locked


def _submit(case: Case, *, actor, at: datetime) -> None:
    case.submit()
    case.submitted_by, case.submitted_at = actor, at
    case.deadline = _deadline(case.kind_spec, at)
    case.save(update_fields=["state", "submitted_by", "submitted_at", "deadline"])
    case_log(case, step="submitted", actor=actor, at=at)


def case_submit(case: Case, *, actor, subject=None, at: datetime | None = None) -> Case:
    """A draft is submitted: the time limit starts."""
    with transaction.atomic():
        locked = _locked(case)
        if not can_proceed(locked.submit):
            raise _refuse_state(locked)
        _submit(locked, actor=actor, at=at or timezone.now())
        return _finish(locked, case, ["submitted_by", "submitted_at", "deadline"], subject=subject)


def case_return(case: Case, *, actor, reason: str, subject=None, at: datetime | None = None) -> Case:
    """The reviewer sends the case back for correction, saying why."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = _step(case, "return_for_correction")
        locked.decided_by, locked.decided_at = actor, now
        case_log(locked, step="returned", actor=actor, note=reason, at=now)
        return _finish(locked, case, ["decided_by", "decided_at"], subject=subject)


def case_resubmit(case: Case, *, actor, subject=None, at: datetime | None = None) -> Case:
    """The applicant corrects and resubmits a returned case, under the same number; the time
    limit counts again from now. Its state is ``submitted`` or ``resubmitted`` as the kind says."""
    now = at or timezone.now()
    with transaction.atomic():
        method = (
            "resubmit_as_resubmitted"
            if case.kind_spec.resubmit_to == Case.State.RESUBMITTED
            else "resubmit_as_submitted"
        )
        locked = _step(case, method)
        locked.submitted_by, locked.submitted_at = actor, now
        locked.deadline = _deadline(locked.kind_spec, now)
        locked.decided_by, locked.decided_at = None, None
        case_log(locked, step="resubmitted", actor=actor, at=now)
        return _finish(
            locked, case, ["submitted_by", "submitted_at", "deadline", "decided_by", "decided_at"], subject=subject
        )


def _decide(case: Case, method: str, step: str, *, actor, note: str, subject, at, close: bool) -> Case:
    now = at or timezone.now()
    with transaction.atomic():
        locked = _step(case, method)
        locked.decided_by, locked.decided_at = actor, now
        fields = ["decided_by", "decided_at"]
        if close:
            locked.closed_at = now
            fields.append("closed_at")
        case_log(locked, step=step, actor=actor, note=note, at=now)
        return _finish(locked, case, fields, subject=subject)


def case_accept(case: Case, *, actor, note: str = "", subject=None, at: datetime | None = None) -> Case:
    """The handler accepts the case (受理); the work goes on until ``case_close``."""
    return _decide(case, "accept", "accepted", actor=actor, note=note, subject=subject, at=at, close=False)


def case_approve(case: Case, *, actor, note: str = "", subject=None, at: datetime | None = None) -> Case:
    """The reviewer approves the case, which closes it."""
    return _decide(case, "approve", "approved", actor=actor, note=note, subject=subject, at=at, close=True)


def case_reject(case: Case, *, actor, reason: str = "", subject=None, at: datetime | None = None) -> Case:
    """The handler declines the case, saying why, which closes it."""
    return _decide(case, "reject", "rejected", actor=actor, note=reason, subject=subject, at=at, close=True)


def case_withdraw(case: Case, *, actor, note: str = "", subject=None, at: datetime | None = None) -> Case:
    """The applicant takes the case back, from the states its kind allows."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = _step(case, "withdraw")
        locked.closed_at = now
        case_log(locked, step="withdrawn", actor=actor, note=note, at=now)
        return _finish(locked, case, ["closed_at"], subject=subject)


def case_close(case: Case, *, actor, step: str = "closed", note: str = "", at: datetime | None = None) -> Case:
    """The work on an accepted case is done (办结): its closing time is recorded, with a step."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(case)
        if locked.closed_at is not None or locked.state != Case.State.ACCEPTED:
            raise _refuse_state(locked)
        locked.closed_at = now
        locked.save(update_fields=["closed_at"])
        case_log(locked, step=step, actor=actor, note=note, at=now)
        return locked


def case_set_parties(case: Case, *, applicant_organization=None, handling_organization=None) -> Case:
    """Name the applicant or handling organisation once it is known (a registration's enterprise
    exists only once approved; an institution may be chosen after opening)."""
    fields = []
    if applicant_organization is not None:
        case.applicant_organization = applicant_organization
        fields.append("applicant_organization")
    if handling_organization is not None:
        case.handling_organization = handling_organization
        fields.append("handling_organization")
    if fields:
        Case.objects.filter(pk=case.pk).update(**{name: getattr(case, name) for name in fields})
    return case


# --- Rating (好差评) and attachments -----------------------------------------------------------


def case_rate(case: Case, *, actor, score, comment: str = "", at: datetime | None = None) -> Case:
    """The applicant rates a decided case once, 1 (very poor) to 5 (very good), for the kinds
    that are rated. The domain service decides who the applicant is."""
    if not case.kind_spec.rated:
        raise errors.NOT_RATED()
    try:
        value = int(score)
    except (TypeError, ValueError):
        value = 0
    if isinstance(score, bool) or not 1 <= value <= 5:
        raise errors.RATING_RANGE(field="score")
    comment = str(comment or "").strip()
    if len(comment) > 500:
        raise errors.RATING_COMMENT_LENGTH(field="comment")
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(case)
        if locked.decided_at is None and locked.closed_at is None:
            raise errors.NOT_DECIDED()
        if locked.rating_score is not None:
            raise errors.ALREADY_RATED()
        locked.rating_score, locked.rating_comment, locked.rated_by, locked.rated_at = value, comment, actor, now
        locked.save(update_fields=["rating_score", "rating_comment", "rated_by", "rated_at"])
        case_log(locked, step="rated", actor=actor, note=f"{value}/5", at=now)
        return locked


def case_attach(case: Case, *, actor, upload, at: datetime | None = None) -> CaseAttachment:
    """Attach an uploaded file (a Django ``UploadedFile``) to the case, within the size and type
    limits. The domain service decides who may attach."""
    name = str(getattr(upload, "name", "") or "").replace("\\", "/").rsplit("/", 1)[-1][:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ATTACHMENT_TYPES:
        raise errors.ATTACHMENT_TYPE(field="file")
    size = int(getattr(upload, "size", 0) or 0)
    if size <= 0:
        raise errors.ATTACHMENT_EMPTY(field="file")
    if size > MAX_ATTACHMENT_BYTES:
        raise errors.ATTACHMENT_SIZE(field="file", mb=MAX_ATTACHMENT_BYTES // (1024 * 1024))
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    now = at or timezone.now()
    with transaction.atomic():
        locked = _locked(case)
        if locked.attachments.count() >= MAX_ATTACHMENTS_PER_CASE:
            raise errors.ATTACHMENT_COUNT(count=MAX_ATTACHMENTS_PER_CASE)
        attachment = CaseAttachment(
            case=locked,
            name=name,
            content_type=ATTACHMENT_TYPES[extension],
            size=size,
            sha256=digest.hexdigest(),
            uploaded_by=actor,
            uploaded_at=now,
        )
        attachment.file.save(f"{attachment.sha256[:32]}.{extension}", upload, save=False)
        try:
            attachment.save()
        except Exception:
            attachment.file.storage.delete(str(attachment.file.name))
            raise
        case_log(locked, step="attached", actor=actor, note=name, at=now)
        return attachment


# --- Named deadlines (countdowns after a decision) ---------------------------------------------


def deadline_after(start: datetime, *, days: int, working: bool = False) -> datetime:
    """``days`` calendar days after ``start`` (a law's "日"), or working days (工作日)."""
    if working:
        return add_working_days(start, days)
    return start + timedelta(days=days)


def case_deadline_start(
    case: Case,
    *,
    code: str,
    due_at: datetime,
    not_before: datetime | None = None,
    actor=None,
    at: datetime | None = None,
    log: bool = True,
) -> CaseDeadline:
    """Start the countdown ``code`` on ``case`` (a running one of the same step is replaced:
    cancelled, kept as history). Run it inside the domain's transaction."""
    now = at or timezone.now()
    if not_before is not None and not_before > due_at:
        raise ValueError("a deadline's window opens before it closes")
    CaseDeadline.objects.filter(case=case, code=code, state=CaseDeadline.State.OPEN).update(
        state=CaseDeadline.State.CANCELLED, closed_at=now, closed_note=_("Replaced by a new time limit.")
    )
    deadline = CaseDeadline.objects.create(
        case=case, code=code[:40], started_at=now, not_before=not_before, due_at=due_at
    )
    if log:
        case_log(
            case,
            step=f"deadline_{code}"[:32],
            actor=actor,
            at=now,
            note=_("Due %(date)s") % {"date": timezone.localdate(due_at).isoformat()},
        )
    return deadline


def _close_deadline(case: Case, code: str, state: str, *, note: str, at: datetime | None) -> CaseDeadline | None:
    now = at or timezone.now()
    deadline = (
        CaseDeadline.objects.select_for_update().filter(case=case, code=code, state=CaseDeadline.State.OPEN).first()
    )
    if deadline is None:
        return None
    deadline.state, deadline.closed_at, deadline.closed_note = state, now, str(note or "")[:NOTE_LIMIT]
    deadline.save(update_fields=["state", "closed_at", "closed_note"])
    return deadline


def case_deadline_meet(case: Case, *, code: str, note: str = "", at: datetime | None = None) -> CaseDeadline | None:
    """The step ``code`` was done: its countdown stops (None when none was running)."""
    return _close_deadline(case, code, CaseDeadline.State.MET, note=note, at=at)


def case_deadline_cancel(case: Case, *, code: str, note: str = "", at: datetime | None = None) -> CaseDeadline | None:
    """The step ``code`` is no longer needed (the case ended another way)."""
    return _close_deadline(case, code, CaseDeadline.State.CANCELLED, note=note, at=at)


def case_deadlines_mark_escalated(deadline_ids, *, at: datetime | None = None) -> int:
    """Record that these overdue deadlines were reported to the level above (once each)."""
    return CaseDeadline.objects.filter(pk__in=list(deadline_ids), escalated_at__isnull=True).update(
        escalated_at=at or timezone.now()
    )


def case_log_many(entries, *, actor=None, at: datetime | None = None) -> int:
    """Add one timeline step to each of many cases in one statement (a daily job's bulk step):
    ``entries`` are ``(case_id, step, note)``. Run it inside the domain's transaction."""
    now = at or timezone.now()
    rows = [
        CaseEvent(case_id=case_id, at=now, actor=actor, kind=step[:32], note=str(note or "")[:NOTE_LIMIT])
        for case_id, step, note in entries
    ]
    CaseEvent.objects.bulk_create(rows)
    return len(rows)


def case_deadlines_start_many(entries, *, at: datetime | None = None) -> list[CaseDeadline]:
    """Start many countdowns at once (a running one of the same case and step is replaced, as
    ``case_deadline_start`` does): ``entries`` are ``(case_id, code, due_at, not_before)``.
    Writes no timeline step: the caller logs its own step in the same transaction."""
    now = at or timezone.now()
    entries = list(entries)
    if not entries:
        return []
    replaced = models.Q()
    for case_id, code, due_at, not_before in entries:
        if not_before is not None and not_before > due_at:
            raise ValueError("a deadline's window opens before it closes")
        replaced |= models.Q(case_id=case_id, code=code)
    CaseDeadline.objects.filter(replaced, state=CaseDeadline.State.OPEN).update(
        state=CaseDeadline.State.CANCELLED, closed_at=now, closed_note=_("Replaced by a new time limit.")
    )
    return CaseDeadline.objects.bulk_create(
        [
            CaseDeadline(case_id=case_id, code=code[:40], started_at=now, not_before=not_before, due_at=due_at)
            for case_id, code, due_at, not_before in entries
        ]
    )


def case_deadlines_meet_many(deadline_ids, *, note: str = "", at: datetime | None = None) -> int:
    """Stop many running countdowns as met in one statement (a daily job's bulk step)."""
    return CaseDeadline.objects.filter(pk__in=list(deadline_ids), state=CaseDeadline.State.OPEN).update(
        state=CaseDeadline.State.MET, closed_at=at or timezone.now(), closed_note=str(note or "")[:NOTE_LIMIT]
    )


# --- Reminders ---------------------------------------------------------------------------------


def case_reminders_record(cases, *, at: datetime | None = None) -> int:
    """Record that the reminders of ``cases`` (annotated with their ``stage``, as
    ``selectors.reminders_pending`` gives them) were sent, so none is sent again for the same
    stage and deadline. One INSERT; a reminder recorded meanwhile is left as it is."""
    now = at or timezone.now()
    rows = [CaseReminder(case_id=c.pk, stage=c.stage, deadline=c.deadline, sent_at=now) for c in cases]
    CaseReminder.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


# --- The applicant on the case's page: attaching materials, rating, downloading ----------------
#
# Written in the one shape of a write service (``audited_service``): who may act is asked before
# the input, a refusal is recorded, the body locks the case and writes one audit record.


def _visible(actor):
    return Case.objects.for_user(actor, "view")


def _check_applicant(actor, case_pk, **_kwargs) -> None:
    check_allowed(_visible(actor), Case.objects.for_user(actor, "apply"), case_pk)


def _case_target(actor, case_pk, *_args, **_kwargs):
    return ("cases.case", str(case_pk), "")


@audited_service("case.attach", gettext_lazy("Case material attached"), check=_check_applicant, target=_case_target)
def case_attach_material(case_pk, *, actor, upload) -> CaseAttachment:
    """The applicant attaches a file (申请材料) to an open case of a kind that takes them."""
    case = locked_for(_visible(actor), Case.objects.for_user(actor, "apply"), case_pk)
    if not case.kind_spec.attachments or not case.is_open:
        raise errors.ATTACHMENTS_CLOSED(field="file")
    attachment = case_attach(case, actor=actor, upload=upload)
    audit_record(
        action="case.attach",
        actor=actor,
        target=case,
        details={
            "attachment": attachment.pk,
            "name": attachment.name,
            "size": attachment.size,
            "sha256": attachment.sha256,
        },
    )
    return attachment


@audited_service("case.rate", gettext_lazy("Case rated"), check=_check_applicant, target=_case_target)
def case_rate_by_applicant(case_pk, *, actor, score, comment: str = "") -> Case:
    """The applicant rates a decided case of a rated kind once (好差评), 1 to 5 with a comment."""
    case = locked_for(_visible(actor), Case.objects.for_user(actor, "apply"), case_pk)
    rated = case_rate(case, actor=actor, score=score, comment=comment)
    audit_record(action="case.rate", actor=actor, target=rated, details={"score": rated.rating_score})
    return rated


@audited_service("case.attachment_download", gettext_lazy("Case material downloaded"), target=_case_target)
def case_attachment_for_download(case_pk, attachment_pk, *, actor) -> CaseAttachment:
    """An attachment of a case the actor may see, for a download (recorded in the audit trail);
    NotFound for a case they cannot see or an attachment of another case."""
    case = locked_for(_visible(actor), None, case_pk)
    try:
        attachment = case.attachments.get(pk=int(attachment_pk))
    except (CaseAttachment.DoesNotExist, TypeError, ValueError):
        raise NotFound() from None
    audit_record(
        action="case.attachment_download",
        actor=actor,
        target=case,
        details={"attachment": attachment.pk, "name": attachment.name},
    )
    return attachment
