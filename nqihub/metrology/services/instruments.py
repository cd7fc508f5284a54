"""Use cases of an enterprise's instrument ledger (计量器具台账).

Only an enterprise's managers and clerks keep its ledger; the instrument always belongs to
the enterprise they act for, and its division is copied from it (regulators' scoping and
statistics filter on it without a join). Input is cleaned by ``rules.clean_instrument_input``
— the same rules and messages as the Excel import — and whether the instrument is subject to
mandatory verification comes from that result (catalogue item + use field).

Each function runs in one transaction, locks what it changes, writes one audit record and
records every refusal (outside the transaction, so the record survives). An instrument of
another enterprise is NotFound, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.core.access import OrganizationKind, get_actor
from nqihub.core.errors import ServiceError

from .. import errors, rules
from ..models import CatalogueItem, Instrument, is_mandatory
from .catalogue import invalid_input

INSTRUMENT_FIELDS = tuple(column.field for column in rules.COLUMNS)

# Which status may follow which. Scrapping is final: a scrapped instrument leaves use for good.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Instrument.Status.IN_USE: frozenset({Instrument.Status.STOPPED, Instrument.Status.SCRAPPED}),
    Instrument.Status.STOPPED: frozenset({Instrument.Status.IN_USE, Instrument.Status.SCRAPPED}),
    Instrument.Status.SCRAPPED: frozenset(),
}


def status_change_allowed(current: str, wanted: str) -> bool:
    """Whether an instrument that is ``current`` may become ``wanted`` (the ledger form, the
    API and the import ask this one question)."""
    return wanted in STATUS_TRANSITIONS.get(current, ())


def _ledger_keeper(actor):
    """The enterprise ``actor`` keeps the ledger of, or Forbidden."""
    acting = get_actor(actor)
    organization = acting.organization
    if organization is None or organization.kind != OrganizationKind.ENTERPRISE or not acting.can_work:
        raise errors.NOT_LEDGER_KEEPER()
    return organization


def _instrument_for(actor, instrument_id: int) -> Instrument:
    """The instrument, locked, once the actor may change it: NotFound outside the actor's
    view, Forbidden where they may look but not change (a regulator, an enterprise's viewer)."""
    return locked_for(
        Instrument.objects.for_user(actor, "view"),
        Instrument.objects.for_user(actor, "change"),
        instrument_id,
        # of=("self",): PostgreSQL cannot lock the nullable side of the outer join to the catalogue.
        locking=Instrument.objects.select_for_update(of=("self",)).select_related("catalogue_item"),
    )


def _catalogue(*, keep: CatalogueItem | None = None) -> Mapping[str, CatalogueItem]:
    """The lookup the rules check catalogue input against: the items in force, plus the
    instrument's current item (a record may keep an item that has since gone out of force,
    but not choose one)."""
    return rules.catalogue_keeping(rules.catalogue_lookup(CatalogueItem.objects.active()), keep)


def _raw(data: Mapping[str, Any]) -> dict[str, Any]:
    raw = {name: data[name] for name in INSTRUMENT_FIELDS if name in data}
    if isinstance(raw.get("catalogue_item"), CatalogueItem):
        raw["catalogue_item"] = raw["catalogue_item"].code
    return raw


def _as_input(instrument: Instrument) -> dict[str, Any]:
    """The instrument as the rules' input, so a partial change is checked as a whole."""
    values = {name: getattr(instrument, name) for name in INSTRUMENT_FIELDS if name != "catalogue_item"}
    values["catalogue_item"] = instrument.catalogue_item.code if instrument.catalogue_item else ""
    return values


def _clean(raw: Mapping[str, Any], *, catalogue) -> dict[str, Any]:
    result = rules.clean_instrument_input(raw, catalogue=catalogue)
    if not result.ok:
        raise invalid_input(result.errors, model=Instrument)
    return result.data


def _lock_item(cleaned: dict[str, Any]) -> dict[str, Any]:
    """Lock the chosen catalogue item for the rest of the transaction, so a concurrent change
    of the item (which updates its instruments' ``is_mandatory`` in sets) cannot miss this
    instrument, and take the mandatory flag from the item as it now stands."""
    item = cleaned.get("catalogue_item")
    if item is not None:
        locked = CatalogueItem.objects.select_for_update().get(pk=item.pk)
        cleaned = {**cleaned, "catalogue_item": locked, "is_mandatory": is_mandatory(locked, cleaned["use_field"])}
    return cleaned


def _factory_number_taken() -> ServiceError:
    return errors.FACTORY_NUMBER_TAKEN(field="factory_number")


def _ensure_factory_number_free(organization_id: int, factory_number: str, *, exclude: int | None = None) -> None:
    taken = Instrument.objects.filter(organization_id=organization_id, factory_number=factory_number)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise _factory_number_taken()


def _check_transition(current: str, wanted: str) -> None:
    if wanted == current:
        raise errors.STATUS_UNCHANGED(field="status", status=Instrument.Status(current).label)
    if not status_change_allowed(current, wanted):
        raise errors.INVALID_STATE(
            _("The instrument is “%(status)s”; its status can no longer change.")
            % {"status": Instrument.Status(current).label},
            field="status",
        )


def _describe(value) -> Any:
    if isinstance(value, CatalogueItem):
        return value.code
    return value


def _keeper(actor, **_kwargs) -> None:
    _ledger_keeper(actor)


def _factory_number(actor, **kw) -> dict[str, str] | None:
    if "data" not in kw:
        return None
    return {"factory_number": str(kw["data"].get("factory_number") or "")[:64]}


@audited_service(
    "instrument.create",
    gettext_lazy("Instrument added to the ledger"),
    check=_keeper,
    details=_factory_number,
)
def instrument_create(*, actor, data: Mapping[str, Any]) -> Instrument:
    """Add an instrument to the ledger of the enterprise ``actor`` acts for."""
    organization = _ledger_keeper(actor)
    cleaned = _clean(_raw(data), catalogue=_catalogue())
    cleaned = _lock_item(cleaned)
    _ensure_factory_number_free(organization.pk, cleaned["factory_number"])
    try:
        with transaction.atomic():
            instrument = Instrument.objects.create(
                organization=organization, division_id=organization.division_id, **cleaned
            )
    except IntegrityError:
        # The same factory number was committed a moment ago by someone else; anything else
        # (a platform code drawn twice) is not the person's doing and is raised as it is.
        if Instrument.objects.filter(organization=organization, factory_number=cleaned["factory_number"]).exists():
            raise _factory_number_taken() from None
        raise
    audit_record(
        action="instrument.create",
        actor=actor,
        target=instrument,
        details={
            "platform_code": instrument.platform_code,
            "catalogue_item": _describe(instrument.catalogue_item),
            "use_field": instrument.use_field,
            "is_mandatory": instrument.is_mandatory,
        },
    )
    return instrument


@audited_service(
    "instrument.update",
    gettext_lazy("Instrument record changed"),
    check=may(Instrument, "change", "instrument"),
    target="instrument",
    conflict=_factory_number_taken,
)
def instrument_update(*, actor, instrument: Instrument, data: Mapping[str, Any]) -> Instrument:
    """Change an instrument's record. ``data`` may hold only the fields to change; the result
    is checked as a whole. A status given here follows the same transitions as
    ``instrument_set_status``."""
    locked = _instrument_for(actor, instrument.pk)
    raw = {**_as_input(locked), **_raw(data)}
    cleaned = _lock_item(_clean(raw, catalogue=_catalogue(keep=locked.catalogue_item)))
    if cleaned["status"] != locked.status:
        _check_transition(locked.status, cleaned["status"])
    if cleaned["factory_number"] != locked.factory_number:
        _ensure_factory_number_free(locked.organization_id, cleaned["factory_number"], exclude=locked.pk)
    changes = apply_changes(locked, cleaned, _describe)
    locked.save()
    audit_record(action="instrument.update", actor=actor, target=locked, details={"changes": changes})
    return locked


@audited_service(
    "instrument.set_status",
    gettext_lazy("Instrument status changed"),
    check=may(Instrument, "change", "instrument"),
    target="instrument",
    details=lambda actor, **kw: {"status": str(kw["status"])[:20]} if "status" in kw else None,
)
def instrument_set_status(*, actor, instrument: Instrument, status: str) -> Instrument:
    """Put an instrument in use, stop it or scrap it (scrapping is final). ``status`` is a
    status code or any label the ledger accepts (在用, 停用, 报废 …)."""
    locked = _instrument_for(actor, instrument.pk)
    _use_fields, statuses = rules.lookup_tables()
    wanted = statuses.get(str(status or "").strip().lower())
    if wanted is None:
        raise errors.INVALID_STATUS(field="status")
    _check_transition(locked.status, wanted)
    before = locked.status
    locked.status = wanted
    locked.save(update_fields=["status", "updated_at"])
    audit_record(action="instrument.set_status", actor=actor, target=locked, details={"from": before, "to": wanted})
    return locked


def follow_organization(*, organization, new_division_id, **_kwargs) -> dict[str, int]:
    """When the system administrator moves an enterprise to another division, its instruments
    and its filings still under review go with it: regulators see instruments, and review
    filings, by the enterprise's current division. Decided filings, applications and issued
    documents keep the division they had (they are records of what happened there).
    Receiver of ``organizations.signals.organization_moved``, inside the move's transaction."""
    from ..models import InstrumentFiling

    now = timezone.now()
    instruments = Instrument.objects.filter(organization=organization).exclude(division_id=new_division_id)
    filings = InstrumentFiling.objects.filter(
        organization=organization, state__in=[InstrumentFiling.State.SUBMITTED, InstrumentFiling.State.RETURNED]
    ).exclude(division_id=new_division_id)
    return {
        "instruments": instruments.update(division_id=new_division_id, updated_at=now),
        "open_filings": filings.update(division_id=new_division_id),
    }
