"""强检备案: an enterprise files its mandatory-verification instruments with the county-level
market regulation bureau (旗县区), which approves the filing or returns it with a reason
(国发〔1987〕31号 第5条: users register their mandatory instruments and file them with the
county-level metrology administration).

Lifecycle::

    submitted ──approve──▶ approved            (the instruments become ``filed``)
        │  ▲
    return  resubmit
        ▼  │
      returned

Every function here is the one way its change is made, from a page or the API. Each takes
the acting user explicitly, decides what they may do through the ``for_user`` querysets
(before it looks at their input, so someone who may not act is refused as such), runs
in one transaction, locks what it changes and writes one audit record with it; a refusal
changes nothing and is itself recorded (including a refusal because the filing is not the
caller's to see). Functions that take a filing accept the object or its id, so callers can
hand over an id from a URL unresolved and the refusal is still recorded here.

``fileable_instruments`` is the read that the pages share with the checks below, so the
"file instruments" page offers exactly what ``filing_submit`` accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import audited_service, locked_for
from nqihub.audit.services import audit_record
from nqihub.cases import services as cases
from nqihub.core.access import get_actor
from nqihub.core.errors import Conflict, Forbidden, InvalidInput, NotFound

from .. import rules
from ..casekinds import FILING
from ..models import Instrument, InstrumentFiling

# A filing is "open" while it waits for the regulator or for the enterprise's correction; an
# instrument may be in at most one open filing at a time.
OPEN_STATES = (InstrumentFiling.State.SUBMITTED, InstrumentFiling.State.RETURNED)
# One filing is one reviewable document; larger ledgers are filed in several parts.
MAX_INSTRUMENTS_PER_FILING = 1000
# How many instruments an error message names before it says "and N more".

_FilingInstrument = InstrumentFiling.instruments.through

# --- Reads shared with the pages -----------------------------------------------------------


def fileable_instruments(actor, *, filing_id: int | None = None) -> QuerySet[Instrument]:
    """The acting enterprise's instruments it may put in a filing now: mandatory, not
    scrapped, not filed and in no open filing (other than ``filing_id``, when correcting it).
    Empty for anyone who may not file."""
    open_elsewhere = _FilingInstrument.objects.filter(instrumentfiling__state__in=OPEN_STATES)
    if filing_id is not None:
        open_elsewhere = open_elsewhere.exclude(instrumentfiling_id=filing_id)
    return (
        Instrument.objects.for_user(actor, "file")
        .mandatory()
        .in_use()
        .filter(filed=False)
        .exclude(pk__in=open_elsewhere.values("instrument_id"))
    )


# --- Helpers ---------------------------------------------------------------------------------


def _clean_ids(instrument_ids: list) -> list[int]:
    return rules.clean_instrument_ids(
        instrument_ids,
        limit=MAX_INSTRUMENTS_PER_FILING,
        empty_message=_("Choose at least one instrument to file."),
        too_many_message=_(
            "A filing holds at most %(max)d instruments (%(count)d chosen): file them in several parts."
        ),
    )


def _ids_for_log(instrument_ids: list) -> list[str]:
    return [str(i)[:20] for i in instrument_ids[:MAX_INSTRUMENTS_PER_FILING]]


def _checked_instruments(actor, ids: list[int], *, filing_id: int | None = None) -> list[Instrument]:
    """The instruments ``ids`` names, locked, once each passes every rule; else the refusal
    that names the instruments concerned. Run inside the caller's transaction."""
    visible = Instrument.objects.for_user(actor, "view").filter(pk__in=ids).count()
    if visible != len(ids):
        # Another enterprise's instrument (or none at all): never say which.
        raise NotFound(_("Some of the chosen instruments are not in your enterprise's ledger."), field="instrument_ids")
    # Locking the rows serialises two filings of the same instrument: the second waits, then
    # sees the first one's open filing below.
    instruments = list(Instrument.objects.for_user(actor, "file").filter(pk__in=ids).select_for_update().order_by("pk"))
    if len(instruments) != len(ids):
        raise Forbidden(_("Only a manager or clerk of the enterprise may file its instruments."))

    not_mandatory = [i for i in instruments if not i.is_mandatory]
    if not_mandatory:
        raise InvalidInput(
            _("Only instruments subject to mandatory verification are filed; these are not: %(instruments)s.")
            % {"instruments": rules.name_instruments(not_mandatory)},
            code="not_mandatory",
            field="instrument_ids",
        )
    scrapped = [i for i in instruments if i.status == Instrument.Status.SCRAPPED]
    if scrapped:
        raise InvalidInput(
            _("Scrapped instruments are not filed: %(instruments)s.")
            % {"instruments": rules.name_instruments(scrapped)},
            code="instrument_scrapped",
            field="instrument_ids",
        )
    filed = [i for i in instruments if i.filed]
    if filed:
        raise Conflict(
            _("These instruments are already filed: %(instruments)s.") % {"instruments": rules.name_instruments(filed)},
            code="already_filed",
            field="instrument_ids",
        )
    links = _FilingInstrument.objects.filter(instrument_id__in=ids, instrumentfiling__state__in=OPEN_STATES)
    if filing_id is not None:
        links = links.exclude(instrumentfiling_id=filing_id)
    open_links = dict(links.values_list("instrument_id", "instrumentfiling__number"))
    if open_links:
        raise Conflict(
            _("These instruments are already in a filing awaiting review or correction (%(numbers)s): %(instruments)s.")
            % {
                "numbers": ", ".join(sorted(set(open_links.values()))),
                "instruments": rules.name_instruments([i for i in instruments if i.pk in open_links]),
            },
            code="in_open_filing",
            field="instrument_ids",
        )
    return instruments


def _check_may_file(actor, raw_ids: list) -> None:
    """Whether ``actor`` may file instruments at all, before their input is checked: a manager
    or clerk of an enterprise may (each instrument is then checked with the other rules);
    anyone else is refused — not found when none of the ids they sent is an instrument they
    can see (never saying whose it is), forbidden otherwise, so an input error never tells
    someone who may not file anything."""
    if not Instrument.objects.for_user(actor, "file").query.is_empty():
        return
    candidates = set()
    for raw in raw_ids[: MAX_INSTRUMENTS_PER_FILING + 1]:  # malformed ids are not looked up
        text = str(raw).strip() if not isinstance(raw, bool) else ""
        if text.isascii() and text.isdigit() and len(text) <= 18 and int(text) > 0:
            candidates.add(int(text))
    if candidates and Instrument.objects.for_user(actor, "view").filter(pk__in=candidates).count() != len(candidates):
        raise NotFound(_("Some of the chosen instruments are not in your enterprise's ledger."), field="instrument_ids")
    raise Forbidden(_("Only a manager or clerk of the enterprise may file its instruments."))


def _target(filing: InstrumentFiling | int | str):
    if isinstance(filing, InstrumentFiling):
        return filing
    return (InstrumentFiling._meta.label_lower, str(filing)[:64], "")


def _forbidden(step: str) -> str:
    if step == "review":
        return _(
            "Only a manager or clerk of the county-level regulator where the enterprise is registered reviews its filings."
        )
    return _("Only a manager or clerk of the enterprise may correct and resubmit its filing.")


def _locked_filing(actor, filing, step: str) -> InstrumentFiling:
    """The filing (a row or its id), locked, if ``actor`` may take ``step`` on it: 404 when
    they may not even see it, 403 when they see it but the decision is not theirs."""
    return locked_for(
        InstrumentFiling.objects.for_user(actor, "view"),
        InstrumentFiling.objects.for_user(actor, step),
        getattr(filing, "pk", filing),
        forbidden=_forbidden(step),
    )


def _check_state(filing: InstrumentFiling, *states: str) -> None:
    if filing.state not in states:
        raise Conflict(
            _("This filing is %(state)s and can no longer be changed this way.")
            % {"state": filing.get_state_display()},
            code="invalid_state",
        )


# --- Use cases -------------------------------------------------------------------------------


def _ids_given(actor, **kw) -> dict[str, list[str]] | None:
    return {"instrument_ids": _ids_for_log(kw["instrument_ids"])} if "instrument_ids" in kw else None


def _id_list(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {**kwargs, "instrument_ids": rules.as_id_list(kwargs.get("instrument_ids"))}


@audited_service(
    "instrument_filing.submit",
    gettext_lazy("Instrument filing submitted"),
    prepare=_id_list,
    check=lambda actor, **kw: _check_may_file(actor, kw.get("instrument_ids", [])),  # permission first, then input
    details=_ids_given,
)
def filing_submit(*, actor, instrument_ids: Iterable[int | str]) -> InstrumentFiling:
    """The acting enterprise files a set of its mandatory instruments with the regulator of
    its county. Refused as a whole if any instrument may not be filed."""
    action = "instrument_filing.submit"
    ids = _clean_ids(instrument_ids)
    instruments = _checked_instruments(actor, ids)
    organization = get_actor(actor).organization
    now = timezone.now()
    case = cases.case_open(
        kind=FILING.code, actor=actor, applicant_organization=organization, division=organization.division, at=now
    )
    filing = InstrumentFiling.objects.create(
        case=case,
        number=case.number,
        state=case.state,
        organization=organization,
        division_id=organization.division_id,
        submitted_by=actor,
        submitted_at=now,
    )
    filing.instruments.add(*instruments)
    audit_record(action=action, actor=actor, target=filing, details={"instrument_ids": ids, "count": len(ids)})
    return filing


@audited_service(
    "instrument_filing.resubmit",
    gettext_lazy("Instrument filing resubmitted"),
    prepare=_id_list,
    target=lambda actor, **kw: _target(kw["filing"]),
    details=_ids_given,
)
def filing_resubmit(*, actor, filing: InstrumentFiling | int, instrument_ids: Iterable[int | str]) -> InstrumentFiling:
    """After a return, the enterprise files the corrected set of instruments again under the
    same number. The last return's reason and reviewer stay on the filing as its history."""
    action = "instrument_filing.resubmit"
    locked = _locked_filing(actor, filing, "change")  # permission first
    _check_state(locked, InstrumentFiling.State.RETURNED)
    ids = _clean_ids(instrument_ids)
    # "change" on the filing and "file" on the instruments both mean the acting
    # enterprise, so the corrected set is the filing's own enterprise's.
    instruments = _checked_instruments(actor, ids, filing_id=locked.pk)
    before = sorted(locked.instruments.values_list("pk", flat=True))
    locked.instruments.set(instruments)
    now = timezone.now()
    locked.submitted_by = actor
    locked.submitted_at = now
    locked.save(update_fields=["submitted_by", "submitted_at"])
    cases.case_resubmit(locked.case, actor=actor, subject=locked, at=now)
    audit_record(
        action=action,
        actor=actor,
        target=locked,
        details={"instrument_ids": ids, "count": len(ids), "before": before},
    )
    return locked


@audited_service(
    "instrument_filing.approve",
    gettext_lazy("Instrument filing approved"),
    target=lambda actor, **kw: _target(kw["filing"]),
)
def filing_approve(*, actor, filing: InstrumentFiling | int) -> InstrumentFiling:
    """The county regulator accepts the filing: its instruments are filed."""
    action = "instrument_filing.approve"
    locked = _locked_filing(actor, filing, "review")
    _check_state(locked, InstrumentFiling.State.SUBMITTED)
    members = Instrument.objects.select_for_update().filter(
        pk__in=_FilingInstrument.objects.filter(instrumentfiling_id=locked.pk).values("instrument_id")
    )
    # What changed since the enterprise submitted: only mandatory instruments in use or
    # stopped are filed; the filing goes back to the enterprise to correct otherwise.
    stale = list(members.filter(Q(is_mandatory=False) | Q(status=Instrument.Status.SCRAPPED)).order_by("pk"))
    if stale:
        raise Conflict(
            _(
                "Since this filing was submitted, these instruments were scrapped or are no longer subject "
                "to mandatory verification: %(instruments)s. Return the filing so the enterprise can correct it."
            )
            % {"instruments": rules.name_instruments(stale)},
            code="instruments_changed",
        )
    now = timezone.now()
    locked.reviewed_by = actor
    locked.reviewed_at = now
    locked.save(update_fields=["reviewed_by", "reviewed_at"])
    cases.case_approve(locked.case, actor=actor, subject=locked, at=now)
    count = members.update(filed=True, updated_at=now)
    audit_record(action=action, actor=actor, target=locked, details={"count": count})
    return locked


@audited_service(
    "instrument_filing.return",
    gettext_lazy("Instrument filing returned"),
    target=lambda actor, **kw: _target(kw["filing"]),
)
def filing_return(*, actor, filing: InstrumentFiling | int, reason: str) -> InstrumentFiling:
    """The county regulator sends the filing back for correction, saying why."""
    action = "instrument_filing.return"
    locked = _locked_filing(actor, filing, "review")  # permission first
    _check_state(locked, InstrumentFiling.State.SUBMITTED)
    reason = (reason or "").strip() if isinstance(reason, str) or reason is None else str(reason).strip()
    if not reason:
        raise InvalidInput(
            _("Give the reason for returning the filing, so the enterprise can correct it."),
            code="reason_required",
            field="reason",
        )
    now = timezone.now()
    locked.return_reason = reason[:2000]
    locked.reviewed_by = actor
    locked.reviewed_at = now
    locked.save(update_fields=["return_reason", "reviewed_by", "reviewed_at"])
    cases.case_return(locked.case, actor=actor, reason=locked.return_reason, subject=locked, at=now)
    audit_record(action=action, actor=actor, target=locked, details={"reason": locked.return_reason})
    return locked
