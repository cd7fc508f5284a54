"""一单一细则: the inspection-item list and the versioned 实施细则 with their test items.

The list is published (everyone reads it, see ``ReferenceQuerySet``); a regulator's managers and
clerks keep the items of their own organisation, and the levels above change them too (the
``change`` scope). The ratio of an item is checked against the rules of the procedure
(``SamplingRule``): a general item lies within [min_ratio_percent, general_ratio_cap_percent], a
key item is uncapped but at least min_ratio_percent. A new version of the rules supersedes the
current one on the day it takes effect; records keep the version they used.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, locked_for, may
from nqihub.audit.services import audit_record
from nqihub.core.access import get_actor
from nqihub.core.errors import invalid_fields

from .. import errors
from ..models import InspectionItem, InspectionRules, TestItem
from .pools import category_of
from .rules import rule

ITEM_FIELDS = (
    "code",
    "name",
    "category",
    "legal_basis",
    "method",
    "importance",
    "ratio_percent",
    "frequency_per_year",
    "is_active",
)
ITEM_REQUIRED = ("code", "name", "category", "legal_basis", "importance", "ratio_percent")
TEST_ITEM_FIELDS = ("name", "method_standard", "requirement", "judgement", "lower", "upper", "unit", "is_key")


def _label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except FieldDoesNotExist:
        return name


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValueError from None
    if not number.is_finite():
        raise ValueError
    return number


def ratio_bounds(importance: str) -> tuple[Decimal, Decimal | None]:
    """The allowed ratio of an item of ``importance`` (general or key), from the rules."""
    low = Decimal(rule("min_ratio_percent"))
    if importance == InspectionItem.Importance.KEY:
        return low, None
    return low, Decimal(rule("general_ratio_cap_percent"))


def item_clean(data: Mapping, *, instance: InspectionItem | None = None) -> dict:
    """The item's cleaned values, or ``InvalidInput`` listing every problem by field."""
    values: dict[str, Any] = {}
    problems: list[tuple[str, Any]] = []
    for name in ITEM_FIELDS:
        if name not in data:
            if instance is None and name in ITEM_REQUIRED:
                problems.append((name, _("This field is required.")))
            continue
        raw = data[name]
        if name in ITEM_REQUIRED and (raw is None or str(raw).strip() == ""):
            problems.append((name, _("This field is required.")))
            continue
        if name == "category":
            found = category_of(raw)
            if found is None:
                problems.append((name, _("Choose one of the listed values.")))
            else:
                values[name] = found
        elif name == "ratio_percent":
            try:
                values[name] = _decimal(raw)
            except ValueError:
                problems.append((name, _("Enter a number.")))
        elif name == "frequency_per_year":
            try:
                number = int(raw)
            except (TypeError, ValueError):
                number = 0
            if not 1 <= number <= 365:
                problems.append((name, _("Enter a whole number from %(min)d to %(max)d.") % {"min": 1, "max": 365}))
            else:
                values[name] = number
        elif name in ("method", "importance"):
            choices = InspectionItem.Method if name == "method" else InspectionItem.Importance
            if raw not in choices.values:
                problems.append((name, _("Choose one of the listed values.")))
            else:
                values[name] = raw
        elif name == "is_active":
            values[name] = bool(raw)
        else:
            text = str(raw).strip()
            limit = InspectionItem._meta.get_field(name).max_length
            if limit and len(text) > limit:
                problems.append((name, _("Enter at most %(max)d characters.") % {"max": limit}))
            else:
                values[name] = text
    importance = values.get("importance", getattr(instance, "importance", None))
    ratio = values.get("ratio_percent", getattr(instance, "ratio_percent", None))
    if importance and ratio is not None and not any(n == "ratio_percent" for n, _m in problems):
        low, cap = ratio_bounds(importance)
        if ratio < low or (cap is not None and ratio > cap) or ratio > 100:
            problems.append(("ratio_percent", _ratio_message(importance, low, cap)))
    if problems:
        code = "ratio_out_of_range" if all(n == "ratio_percent" for n, _m in problems) else "invalid"
        raise invalid_fields(problems, label=lambda n: _label(InspectionItem, n), code=code)
    return values


def _ratio_message(importance: str, low: Decimal, cap: Decimal | None) -> str:
    if cap is None:
        return _("A key item's sampling ratio must be at least %(min)s %% (no upper cap).") % {"min": low}
    return _("A general item's sampling ratio must lie between %(min)s %% and %(max)s %%.") % {"min": low, "max": cap}


def _may_keep_items(actor, **_kwargs) -> None:
    who = get_actor(actor)
    if not (who.is_regulator and who.can_work):
        raise errors.NOT_ALLOWED(_("Only a regulator's managers and clerks keep an inspection-item list."))


def item_create_allowed(actor) -> bool:
    who = get_actor(actor)
    return who.is_regulator and who.can_work


@audited_service(
    "sampling.item.create",
    gettext_lazy("Inspection item added"),
    check=_may_keep_items,
    conflict=errors.DUPLICATE,
)
def item_create(*, actor, data: Mapping) -> InspectionItem:
    """Add an item to the list of the regulator ``actor`` acts for."""
    values = item_clean(data)
    owner = get_actor(actor).organization
    if InspectionItem.objects.filter(owner=owner, code=values["code"]).exists():
        raise errors.DUPLICATE(field="code")
    item = InspectionItem.objects.create(owner=owner, division_id=owner.division_id, **values)
    audit_record(action="sampling.item.create", actor=actor, target=item, details={"code": item.code})
    return item


@audited_service(
    "sampling.item.update",
    gettext_lazy("Inspection item changed"),
    check=may(InspectionItem, "change", "item"),
    target="item",
    conflict=errors.DUPLICATE,
)
def item_update(*, actor, item, data: Mapping) -> InspectionItem:
    locked = locked_for(
        InspectionItem.objects.for_user(actor, "view"),
        InspectionItem.objects.for_user(actor, "change"),
        getattr(item, "pk", item),
    )
    values = item_clean(data, instance=locked)
    if "code" in values and values["code"] != locked.code:
        if InspectionItem.objects.filter(owner_id=locked.owner_id, code=values["code"]).exists():
            raise errors.DUPLICATE(field="code")
    changes = apply_changes(locked, values, describe=str)
    locked.save()
    audit_record(action="sampling.item.update", actor=actor, target=locked, details={"changes": changes})
    return locked


def current_rules(item: InspectionItem) -> InspectionRules | None:
    return item.rules_versions.filter(superseded_on__isnull=True).first()


def _date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date):
        return value
    try:
        return datetime.date.fromisoformat(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        raise ValueError from None


def test_item_clean(data: Mapping, *, seq: int) -> dict:
    """One test item's values; ``InvalidInput`` naming the line (``test_items.<seq>.<field>``)."""
    values: dict[str, Any] = {"seq": seq}
    problems: list[tuple[str, Any]] = []
    key = f"test_items.{seq}."
    for name in TEST_ITEM_FIELDS:
        raw = data.get(name)
        if name in ("lower", "upper"):
            try:
                values[name] = _decimal(raw)
            except ValueError:
                problems.append((key + name, _("Enter a number.")))
        elif name == "judgement":
            values[name] = raw or TestItem.Judgement.RANGE
            if values[name] not in TestItem.Judgement.values:
                problems.append((key + name, _("Choose one of the listed values.")))
        elif name == "is_key":
            values[name] = bool(raw)
        else:
            text = "" if raw is None else str(raw).strip()
            limit = TestItem._meta.get_field(name).max_length
            if name in ("name", "requirement") and not text:
                problems.append((key + name, _("This field is required.")))
            elif limit and len(text) > limit:
                problems.append((key + name, _("Enter at most %(max)d characters.") % {"max": limit}))
            values[name] = text
    low, high = values.get("lower"), values.get("upper")
    if low is not None and high is not None and low > high:
        problems.append((key + "upper", _("The upper limit must not be below the lower limit.")))
    if values.get("judgement") == TestItem.Judgement.RANGE and low is None and high is None and not problems:
        problems.append((key + "lower", _("A test item judged by its limits needs a lower or an upper limit.")))
    if problems:
        raise invalid_fields(problems)
    return values


RULES_FIELDS = ("title", "effective_from", "test_quantity", "spare_quantity", "sampling_method", "judgement_rule")


def rules_clean(data: Mapping, test_items: Iterable[Mapping]) -> tuple[dict, list[dict]]:
    problems: list[tuple[str, Any]] = []
    values: dict[str, Any] = {}
    title = str(data.get("title") or "").strip()
    if not title:
        problems.append(("title", _("This field is required.")))
    values["title"] = title[:200]
    try:
        values["effective_from"] = _date(data.get("effective_from"))
        if values["effective_from"] is None:
            problems.append(("effective_from", _("This field is required.")))
    except ValueError:
        problems.append(("effective_from", _("Enter a date as YYYY-MM-DD.")))
    for name, low in (("test_quantity", 1), ("spare_quantity", 0)):
        try:
            number = int(data.get(name) if data.get(name) not in (None, "") else (0 if low == 0 else -1))
        except (TypeError, ValueError):
            number = -1
        if not low <= number <= 10000:
            problems.append((name, _("Enter a whole number from %(min)d to %(max)d.") % {"min": low, "max": 10000}))
        values[name] = number
    values["sampling_method"] = str(data.get("sampling_method") or "").strip()
    if data.get("judgement_rule"):
        values["judgement_rule"] = str(data["judgement_rule"]).strip()
    if problems:
        raise invalid_fields(problems, label=lambda n: _label(InspectionRules, n))
    lines = [test_item_clean(line, seq=seq) for seq, line in enumerate(test_items, start=1)]
    if not lines:
        raise errors.TEST_ITEMS_REQUIRED(field="test_items")
    return values, lines


@audited_service(
    "sampling.rules.publish",
    gettext_lazy("Implementation rules published"),
    check=may(InspectionItem, "change", "item"),
    target="item",
)
def rules_publish(*, actor, item, data: Mapping, test_items: Iterable[Mapping]) -> InspectionRules:
    """Publish a new version of ``item``'s 实施细则 with its test items. The current version is
    superseded on the day the new one takes effect (which may not be before the current one's)."""
    locked = locked_for(
        InspectionItem.objects.for_user(actor, "view"),
        InspectionItem.objects.for_user(actor, "change"),
        getattr(item, "pk", item),
    )
    values, lines = rules_clean(data, list(test_items))
    current = InspectionRules.objects.select_for_update().filter(item=locked, superseded_on__isnull=True).first()
    if current is not None:
        if values["effective_from"] <= current.effective_from:
            raise errors.RULES_NOT_AFTER(field="effective_from", date=current.effective_from.isoformat())
        current.superseded_on = values["effective_from"]
        current.save(update_fields=["superseded_on"])
    last = locked.rules_versions.order_by("-version").values_list("version", flat=True).first() or 0
    rules = InspectionRules.objects.create(item=locked, version=last + 1, **values)
    TestItem.objects.bulk_create([TestItem(rules=rules, **line) for line in lines])
    audit_record(
        action="sampling.rules.publish",
        actor=actor,
        target=rules,
        details={
            "item": locked.code,
            "version": rules.version,
            "superseded": current.version if current else None,
            "test_items": len(lines),
        },
    )
    return rules


def may_change_item(actor, item: InspectionItem) -> bool:
    return InspectionItem.objects.for_user(actor, "change").filter(pk=item.pk).exists()
