"""Online verification applications (在线报检): an enterprise applies to an authorised
institution for the verification of its instruments, 送检 (drop-off) or 上门 (on-site); the
institution accepts it within the promised time limit or rejects it with a reason, then
schedules the work. Results are recorded by ``services.results``.

Lifecycle::

    submitted ──accept──▶ accepted ──schedule──▶ scheduled ──(every item has a result)──▶ completed
        │ ╲                   ╰────────────(every item has a result)──────────────────────▶ completed
     reject withdraw
        ▼      ▼
    rejected  withdrawn

Each function is the one way its change is made (pages and API call it), takes the acting user
explicitly, runs in one transaction, locks what it changes, adds a step to the application's
visible timeline and writes one audit record; a refusal changes nothing and is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.actions import register as register_audit_action
from nqihub.audit.service import audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from nqihub.organizations.models import AuthorisationScope, Discipline, Organization

from .. import rules
from ..casekinds import APPLICATION
from ..models import ApplicationItem, Instrument, VerificationApplication
from ..querysets import OPEN_STATES

MAX_INSTRUMENTS_PER_APPLICATION = 200

State = VerificationApplication.State
Mode = VerificationApplication.Mode

# Recorded by ``results.result_record`` when the last result of an application is in.
register_audit_action("verification_application.complete", gettext_lazy("Verification application completed"))

# --- Reads shared with the pages -------------------------------------------------------------


def applicable_instruments(actor) -> QuerySet[Instrument]:
    """The acting enterprise's instruments it may apply for now: not scrapped, with a
    catalogue item, in no open application. Empty for anyone who may not apply."""
    a = get_actor(actor)
    if a.kind != OrganizationKind.ENTERPRISE or not a.can_work:
        return Instrument.objects.none()
    return (
        Instrument.objects.filter(organization=a.organization, catalogue_item__isnull=False)
        .in_use()
        .exclude(pk__in=ApplicationItem.objects.filter(application__state__in=OPEN_STATES).values("instrument_id"))
    )


def _ancestor_codes(division) -> list[str]:
    """The division's code and those of every division above it (from its materialised path)."""
    return [code for code in division.path.split("/") if code]


def institutions_offering(*, organization: Organization, catalogue_items: Iterable) -> QuerySet[Organization]:
    """Active metrology institutions authorised, today, for every one of ``catalogue_items``
    (objects or codes) in an area that covers ``organization``'s division. An empty scope
    area means the institution's own division and below. One query."""
    codes = {getattr(item, "code", item) for item in catalogue_items}
    if not codes:
        return Organization.objects.none()
    today = timezone.localdate()
    above = _ancestor_codes(organization.division)
    covering = (
        AuthorisationScope.objects.filter(
            discipline=Discipline.METROLOGY,
            subject_code__in=codes,
        )
        .filter(Q(valid_from__isnull=True) | Q(valid_from__lte=today))
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .filter(Q(areas__code__in=above) | Q(areas__isnull=True, organization__division_id__in=above))
        .values("organization_id")
        .annotate(covered=Count("subject_code", distinct=True))
        .filter(covered=len(codes))
        .values("organization_id")
    )
    return Organization.objects.filter(
        kind=OrganizationKind.INSTITUTION,
        is_active=True,
        disciplines__discipline=Discipline.METROLOGY,
        pk__in=covering,
    ).order_by("name", "pk")


def is_overdue(application: VerificationApplication, now: datetime | None = None) -> bool:
    """Still awaiting acceptance after the promised time limit (shown red in lists)."""
    return application.state == State.SUBMITTED and application.accept_by < (now or timezone.now())


# --- Helpers ---------------------------------------------------------------------------------


def _clean_ids(raw_ids: list) -> list[int]:
    return rules.clean_instrument_ids(
        raw_ids,
        limit=MAX_INSTRUMENTS_PER_APPLICATION,
        empty_message=_("Choose at least one instrument."),
        too_many_message=_(
            "An application holds at most %(max)d instruments (%(count)d chosen): apply in several parts."
        ),
    )


def _require_applicant(user):
    a = get_actor(user)
    if a.kind != OrganizationKind.ENTERPRISE or not a.can_work:
        raise Forbidden(_("Only a manager or clerk of an enterprise may apply for verification."))
    return a


def _checked_instruments(user, ids: list[int]) -> list[Instrument]:
    """The instruments, locked, once each passes every rule. Inside the caller's transaction."""
    a = _require_applicant(user)
    instruments = list(
        Instrument.objects.filter(organization=a.organization, pk__in=ids)
        .select_related("catalogue_item")
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if len(instruments) != len(ids):
        # Another enterprise's instrument (or none at all): never say which.
        raise NotFound(_("Some of the chosen instruments are not in your enterprise's ledger."), field="instrument_ids")
    scrapped = [i for i in instruments if i.status == Instrument.Status.SCRAPPED]
    if scrapped:
        raise InvalidInput(
            _("Scrapped instruments are not verified: %(instruments)s.")
            % {"instruments": rules.name_instruments(scrapped)},
            code="instrument_scrapped",
            field="instrument_ids",
        )
    uncatalogued = [i for i in instruments if i.catalogue_item_id is None]
    if uncatalogued:
        raise InvalidInput(
            _("Give these instruments their catalogue item first: %(instruments)s.")
            % {"instruments": rules.name_instruments(uncatalogued)},
            code="no_catalogue_item",
            field="instrument_ids",
        )
    open_links = dict(
        ApplicationItem.objects.filter(instrument_id__in=ids, application__state__in=OPEN_STATES).values_list(
            "instrument_id", "application__number"
        )
    )
    if open_links:
        raise Conflict(
            _("These instruments are already in an open application (%(numbers)s): %(instruments)s.")
            % {
                "numbers": ", ".join(sorted(set(open_links.values()))),
                "instruments": rules.name_instruments([i for i in instruments if i.pk in open_links]),
            },
            code="in_open_application",
            field="instrument_ids",
        )
    return instruments


def _check_details(*, mode, site_address, wished_from, wished_until, contact_name, contact_phone) -> None:
    if mode not in Mode.values:
        raise InvalidInput(_("Choose drop-off or on-site verification."), code="invalid_mode", field="mode")
    if mode == Mode.ON_SITE:
        if not site_address:
            raise InvalidInput(
                _("Give the address where the institution should verify the instruments."),
                code="address_required",
                field="site_address",
            )
        if wished_from is None or wished_until is None:
            raise InvalidInput(
                _("Give the dates between which the institution may come."), code="dates_required", field="wished_from"
            )
    if wished_from is not None and wished_until is not None and wished_from > wished_until:
        raise InvalidInput(
            _("The first wished date must not be after the last one."), code="invalid_dates", field="wished_until"
        )
    if wished_from is not None and wished_from < timezone.localdate():
        raise InvalidInput(_("The wished dates must not be in the past."), code="date_in_past", field="wished_from")
    if not contact_name or not contact_phone:
        raise InvalidInput(
            _("Give a contact person and telephone for the institution."), code="contact_required", field="contact_name"
        )


def _target(application):
    if isinstance(application, VerificationApplication):
        return application
    return (VerificationApplication._meta.label_lower, str(application)[:64], "")


def locked_application(user, application, action: str) -> VerificationApplication:
    """The application (a row or its id), locked, if ``user`` may do ``action`` on it: 404
    when they may not even see it, 403 when they see it but the step is not theirs."""
    return locked_for(
        VerificationApplication.objects.for_user(user, "view"),
        VerificationApplication.objects.for_user(user, action),
        getattr(application, "pk", application),
        forbidden=_forbidden_message(action),
    )


def _may(step: str):
    return may(VerificationApplication, step, "application", forbidden=lambda: _forbidden_message(step))


def _application_target(actor, **kw):
    return _target(kw["application"])


def _forbidden_message(action: str) -> str:
    if action in ("decide", "record"):
        return _("Only a manager or clerk of the institution the application is addressed to may do this.")
    return _("Only a manager or clerk of the enterprise may do this.")


def check_state(application: VerificationApplication, *states: str) -> None:
    if application.state not in states:
        raise Conflict(
            _("This application is %(state)s and can no longer be changed this way.")
            % {"state": application.get_state_display()},
            code="invalid_state",
        )


def _text(value, limit: int) -> str:
    return str(value or "").strip()[:limit]


# --- Enterprise ------------------------------------------------------------------------------


def _asked(actor, **kw) -> dict[str, Any] | None:
    if "instrument_ids" not in kw:
        return None
    return {
        "instrument_ids": [str(i)[:20] for i in kw["instrument_ids"][:MAX_INSTRUMENTS_PER_APPLICATION]],
        "institution": str(kw.get("institution_id"))[:20],
    }


_LIMITS = {"site_address": 300, "contact_name": 100, "contact_phone": 40, "note": 2000}


def _submitted(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The ids as a list and the texts trimmed, before anything reads them."""
    texts = {name: _text(kwargs.get(name), limit) for name, limit in _LIMITS.items()}
    return {**kwargs, **texts, "instrument_ids": rules.as_id_list(kwargs.get("instrument_ids"))}


@audited_service(
    "verification_application.submit",
    gettext_lazy("Verification application submitted"),
    prepare=_submitted,
    check=lambda actor, **kw: _require_applicant(actor),  # who, before what
    details=_asked,
)
def application_submit(
    *,
    actor,
    instrument_ids: Iterable[int | str],
    institution_id: int | str | None,
    mode: str,
    site_address: str = "",
    wished_from: date | None = None,
    wished_until: date | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    note: str = "",
) -> VerificationApplication:
    """The acting enterprise applies to an institution for the verification of its
    instruments. Refused as a whole if any instrument or detail may not be accepted."""
    action = "verification_application.submit"
    ids = _clean_ids(cast(list, instrument_ids))
    _check_details(
        mode=mode,
        site_address=site_address,
        wished_from=wished_from,
        wished_until=wished_until,
        contact_name=contact_name,
        contact_phone=contact_phone,
    )
    instruments = _checked_instruments(actor, ids)
    organization = get_actor(actor).organization
    try:
        inst_pk = int(institution_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        inst_pk = 0
    institution = (
        institutions_offering(organization=organization, catalogue_items={i.catalogue_item for i in instruments})
        .filter(pk=inst_pk)
        .first()
    )
    if institution is None:
        raise InvalidInput(
            _(
                "This institution is not authorised to verify all of these instruments where your enterprise is;"
                " choose one of the institutions offered."
            ),
            code="institution_not_offered",
            field="institution",
        )
    now = timezone.now()
    case = cases.case_open(
        kind=APPLICATION.code,
        actor=actor,
        applicant_organization=organization,
        handling_organization=institution,
        division=organization.division,
        at=now,
    )
    application = VerificationApplication.objects.create(
        case=case,
        number=case.number,
        state=case.state,
        organization=organization,
        institution=institution,
        division_id=organization.division_id,
        mode=mode,
        site_address=site_address if mode == Mode.ON_SITE else "",
        wished_from=wished_from,
        wished_until=wished_until,
        contact_name=contact_name,
        contact_phone=contact_phone,
        note=note,
        submitted_by=actor,
        submitted_at=now,
        # The promised time limit, counted in working days by the case kernel.
        accept_by=case.deadline,
    )
    ApplicationItem.objects.bulk_create(
        ApplicationItem(application=application, instrument=i, catalogue_item_id=i.catalogue_item_id)
        for i in instruments
    )
    audit_record(
        action=action,
        actor=actor,
        target=application,
        details={"instrument_ids": ids, "count": len(ids), "institution": institution.pk, "mode": mode},
    )
    return application


@audited_service(
    "verification_application.withdraw",
    gettext_lazy("Verification application withdrawn"),
    check=_may("withdraw"),
    target=_application_target,
)
def application_withdraw(*, actor, application: VerificationApplication | int) -> VerificationApplication:
    """The enterprise takes back an application the institution has not accepted yet."""
    action = "verification_application.withdraw"
    locked = locked_application(actor, application, "withdraw")
    check_state(locked, State.SUBMITTED)
    cases.case_withdraw(locked.case, actor=actor, subject=locked)
    audit_record(action=action, actor=actor, target=locked)
    return locked


# --- Institution -----------------------------------------------------------------------------


@audited_service(
    "verification_application.accept",
    gettext_lazy("Verification application accepted"),
    check=_may("decide"),
    target=_application_target,
)
def application_accept(*, actor, application: VerificationApplication | int) -> VerificationApplication:
    """The institution accepts the application; each item's fee and waiver are fixed now."""
    from . import fees  # written alongside; imported late so this module loads on its own

    action = "verification_application.accept"
    locked = locked_application(actor, application, "decide")
    check_state(locked, State.SUBMITTED)
    now = timezone.now()
    today = timezone.localdate()
    items = list(locked.items.select_related("catalogue_item").order_by("pk"))
    organization = Organization.objects.select_related("division").get(pk=locked.organization_id)
    fee_total = waived_total = Decimal("0")
    # One quoter for all items (a fixed number of queries, not one per item); it
    # answers as ``quote_fee`` would.
    quoter = fees.FeeQuoter(today) if hasattr(fees, "FeeQuoter") else None
    for item in items:
        if quoter is not None:
            fee, waived, waiver = quoter.quote(catalogue_item=item.catalogue_item, organization=organization)
        else:
            fee, waived, waiver = fees.quote_fee(
                catalogue_item=item.catalogue_item, organization=organization, on_date=today
            )
        item.fee, item.waived, item.waiver_policy = fee, waived, waiver
        fee_total += fee
        waived_total += waived
    ApplicationItem.objects.bulk_update(items, ["fee", "waived", "waiver_policy"])
    locked.decided_at, locked.decided_by = now, actor
    locked.fee_total, locked.waived_total = fee_total, waived_total
    locked.save(update_fields=["decided_at", "decided_by", "fee_total", "waived_total"])
    cases.case_accept(locked.case, actor=actor, subject=locked, at=now)
    audit_record(
        action=action,
        actor=actor,
        target=locked,
        details={"fee_total": str(fee_total), "waived_total": str(waived_total)},
    )
    return locked


@audited_service(
    "verification_application.reject",
    gettext_lazy("Verification application rejected"),
    check=_may("decide"),
    target=_application_target,
)
def application_reject(*, actor, application: VerificationApplication | int, reason: str) -> VerificationApplication:
    """The institution declines the application, saying why."""
    action = "verification_application.reject"
    # Who may act first: a person who may not decide learns nothing from the form's rules.
    locked = locked_application(actor, application, "decide")
    reason = _text(reason, 2000)
    if not reason:
        raise InvalidInput(
            _("Give the reason for rejecting the application, so the enterprise knows what to do."),
            code="reason_required",
            field="reason",
        )
    check_state(locked, State.SUBMITTED)
    now = timezone.now()
    locked.decided_at, locked.decided_by, locked.reject_reason = now, actor, reason
    locked.save(update_fields=["decided_at", "decided_by", "reject_reason"])
    cases.case_reject(locked.case, actor=actor, reason=reason, subject=locked, at=now)
    audit_record(action=action, actor=actor, target=locked, details={"reason": reason})
    return locked


@audited_service(
    "verification_application.schedule",
    gettext_lazy("Verification scheduled"),
    check=_may("decide"),
    target=_application_target,
)
def application_schedule(
    *, actor, application: VerificationApplication | int, on_date: date | None, note: str = ""
) -> VerificationApplication:
    """The institution sets (or moves) the date of the verification."""
    action = "verification_application.schedule"
    locked = locked_application(actor, application, "decide")  # who, before what
    note = _text(note, 400)
    if on_date is None:
        raise InvalidInput(_("Give the date of the verification."), code="date_required", field="on_date")
    if on_date < timezone.localdate():
        raise InvalidInput(_("The date must not be in the past."), code="date_in_past", field="on_date")
    check_state(locked, State.ACCEPTED, State.SCHEDULED)
    before = locked.scheduled_on
    locked.schedule()
    locked.scheduled_on = on_date
    locked.save(update_fields=["state", "scheduled_on"])
    text = on_date.isoformat() + (" — " + note if note else "")
    cases.case_log(locked.case, step="scheduled", actor=actor, note=text)
    audit_record(
        action=action,
        actor=actor,
        target=locked,
        details={
            "on_date": on_date.isoformat(),
            "before": before.isoformat() if before else None,
            "note": note,
        },
    )
    return locked
