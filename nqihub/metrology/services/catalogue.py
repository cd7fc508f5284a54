"""Use cases of the catalogue of instruments under mandatory management.

The catalogue is configuration: only the system administrator (``configuration.manage``)
creates or changes an item, from the page, the API or the console — all through these two
functions. Each runs in one transaction, locks the item, writes one audit record and, when
what makes an instrument mandatory changed (supervision, use fields, in force), brings the
stored ``Instrument.is_mandatory`` of that item's instruments up to date in the same
transaction, in a few set-based updates. A refusal changes nothing and is itself recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, may, requires
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability
from nqihub.core.errors import InvalidInput, ServiceError, invalid_fields

from .. import errors as metrology_errors
from ..models import CatalogueItem, Evidence, Instrument, Supervision, UseField, VerificationMode

CATALOGUE_FIELDS = (
    "code",
    "level1_no",
    "level1_name",
    "level2_no",
    "name",
    "supervision",
    "verification_mode",
    "use_trade",
    "use_safety",
    "use_medical",
    "use_environment",
    "scope_note",
    "period_months",
    "service_life_months",
    "regulation",
    "source",
    "evidence",
    "is_active",
)
USE_FLAGS = ("use_trade", "use_safety", "use_medical", "use_environment")
TEXT_FIELDS = ("code", "level1_name", "name", "scope_note", "regulation", "source")
REQUIRED_FIELDS = ("level1_no", "level1_name", "name", "supervision", "verification_mode", "source", "evidence")
# Fields whose change can turn an instrument's mandatory verification on or off.
MANDATORY_FIELDS = ("supervision", "is_active", *USE_FLAGS)
NUMBER_BOUNDS = {
    "level1_no": (1, 999),
    "level2_no": (1, 999),
    "period_months": (1, 600),
    "service_life_months": (1, 600),
}
_FALSE_TEXT = {"", "0", "false", "no", "off", "否"}


def invalid_input(errors: Iterable[tuple[str, str]], *, model, code: str = "invalid") -> InvalidInput:
    """One InvalidInput for a list of (field, message): the first names its field in the
    text (the API's ``detail``), all of them go to ``errors`` (the form shows each on its field)."""

    def label(name: str):
        try:
            return model._meta.get_field(name).verbose_name
        except FieldDoesNotExist:  # a pseudo-field has no label of its own
            return name

    return invalid_fields(errors, label=label, code=code)


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() not in _FALSE_TEXT
    return bool(value)


def _number(value) -> int | str | None:
    """An int, None for empty, or the text itself when it is not a whole number."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return str(value)


def _current_values(item: CatalogueItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in CATALOGUE_FIELDS}


def catalogue_item_clean_data(data: Mapping[str, Any], *, instance: CatalogueItem | None = None) -> dict[str, Any]:
    """Check a whole catalogue item (the given values over ``instance``'s, for a partial
    change) and return every field cleaned. Raises InvalidInput listing every problem.

    The rules: the code is the two numbers joined by a dot (built from them when left empty);
    an item under type approval only has no verification mode and no mandatory use field; an
    item under mandatory verification has a mode and at least one use field; only periodic
    verification has an interval and only "first verification, limited life" a service life.
    """
    values: dict[str, Any] = _current_values(instance) if instance is not None else {}
    values.update({k: v for k, v in data.items() if k in CATALOGUE_FIELDS})
    errors: list[tuple[str, str]] = []
    cleaned: dict[str, Any] = {}

    for name in TEXT_FIELDS:
        value = values.get(name)
        text = "" if value is None else str(value).strip()
        limit = CatalogueItem._meta.get_field(name).max_length
        if len(text) > limit:
            errors.append(
                (name, _("At most %(max)d characters (%(count)d given).") % {"max": limit, "count": len(text)})
            )
        cleaned[name] = text
    for name, (low, high) in NUMBER_BOUNDS.items():
        number = _number(values.get(name))
        if number is not None and (isinstance(number, str) or not low <= number <= high):
            errors.append((name, _("Enter a whole number from %(min)d to %(max)d.") % {"min": low, "max": high}))
            number = None
        cleaned[name] = number
    for name, choices in (
        ("supervision", Supervision.values),
        ("verification_mode", VerificationMode.values),
        ("evidence", Evidence.values),
    ):
        value = str(values.get(name) or "").strip()
        if value and value not in choices:
            errors.append((name, _("Choose one of the listed values.")))
        cleaned[name] = value
    for name in USE_FLAGS:
        cleaned[name] = _flag(values.get(name, False))
    cleaned["is_active"] = _flag(values.get("is_active", True))

    failed = {name for name, _message in errors}
    for name in REQUIRED_FIELDS:
        if name not in failed and cleaned[name] in ("", None):
            errors.append((name, _("This field is required.")))

    if cleaned["level1_no"] is not None:
        expected = (
            str(cleaned["level1_no"])
            if cleaned["level2_no"] is None
            else f"{cleaned['level1_no']}.{cleaned['level2_no']}"
        )
        if not cleaned["code"]:
            cleaned["code"] = expected
        elif cleaned["code"] != expected and "code" not in failed:
            errors.append(
                (
                    "code",
                    _("The code must be the first-level and second-level numbers joined by a dot (%(expected)s).")
                    % {"expected": expected},
                )
            )

    supervision, mode = cleaned["supervision"], cleaned["verification_mode"]
    uses = [name for name in USE_FLAGS if cleaned[name]]
    if supervision == Supervision.TYPE_APPROVAL:
        if mode and mode != VerificationMode.NONE:
            errors.append(
                (
                    "verification_mode",
                    _(
                        "An item under type approval only has no mandatory verification: choose “No mandatory verification”."
                    ),
                )
            )
        if uses:
            errors.append((uses[0], _("An item under type approval only has no field of mandatory verification.")))
    elif supervision:
        if mode == VerificationMode.NONE:
            errors.append(("verification_mode", _("An item under mandatory verification needs its verification mode.")))
        if not uses:
            errors.append(("use_trade", _("Tick at least one field in which verification is mandatory.")))
    if cleaned["period_months"] is not None and mode != VerificationMode.PERIODIC:
        errors.append(("period_months", _("Only periodic verification has a verification interval.")))
    if cleaned["service_life_months"] is not None and mode != VerificationMode.FIRST_LIMITED:
        errors.append(("service_life_months", _("Only items with a limited service life have a service life.")))

    if errors:
        raise invalid_input(errors, model=CatalogueItem)
    return cleaned


def _ensure_code_free(code: str, *, exclude: int | None = None) -> None:
    taken = CatalogueItem.objects.filter(code=code)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    if taken.exists():
        raise _code_taken()


def _code_taken() -> ServiceError:
    return metrology_errors.CATALOGUE_CODE_TAKEN(field="code")


def refresh_mandatory(item: CatalogueItem) -> int:
    """Bring ``is_mandatory`` of the item's instruments in line with the item: one update
    per use field, whatever the number of instruments. Returns how many changed."""
    changed = 0
    for use in UseField.values:
        wanted = item.mandatory_for(use)
        changed += (
            Instrument.objects.filter(catalogue_item=item, use_field=use)
            .exclude(is_mandatory=wanted)
            .update(is_mandatory=wanted)
        )
    return changed


def _code(actor, **kw) -> dict[str, str] | None:
    return {"code": str(kw["data"].get("code", ""))[:16]} if "data" in kw else None


@audited_service(
    "catalogue_item.create",
    gettext_lazy("Catalogue item added"),
    check=requires(Capability.MANAGE_CONFIGURATION),
    details=_code,
    conflict=_code_taken,
)
def catalogue_item_create(*, actor, data: Mapping[str, Any]) -> CatalogueItem:
    """The system administrator adds an item (e.g. one transcribed from the official text)."""
    cleaned = catalogue_item_clean_data(data)
    _ensure_code_free(cleaned["code"])
    item = CatalogueItem.objects.create(**cleaned)
    audit_record(
        action="catalogue_item.create",
        actor=actor,
        target=item,
        details={"code": item.code, "evidence": item.evidence},
    )
    return item


@audited_service(
    "catalogue_item.update",
    gettext_lazy("Catalogue item changed"),
    check=may(CatalogueItem, "change", "item"),
    target="item",
    conflict=_code_taken,
)
def catalogue_item_update(*, actor, item: CatalogueItem, data: Mapping[str, Any]) -> CatalogueItem:
    """The system administrator changes an item. ``data`` may hold only the fields to change."""
    locked = locked_for(
        CatalogueItem.objects.for_user(actor, "view"), CatalogueItem.objects.for_user(actor, "change"), item.pk
    )
    cleaned = catalogue_item_clean_data(data, instance=locked)
    if cleaned["code"] != locked.code:
        _ensure_code_free(cleaned["code"], exclude=locked.pk)
    changes = apply_changes(locked, cleaned)
    locked.save()
    instruments_changed = refresh_mandatory(locked) if changes.keys() & set(MANDATORY_FIELDS) else 0
    audit_record(
        action="catalogue_item.update",
        actor=actor,
        target=locked,
        details={"changes": changes, "instruments_changed": instruments_changed},
    )
    return locked
