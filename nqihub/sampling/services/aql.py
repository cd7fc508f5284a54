"""GB/T 2828.1 sampling plans: the one way the page, the API and any caller get a plan
(``sampling_plan``), read the switching rules in force (``current_switching_rules``) and change
them (``switching_rules_update``, the system administrator in the console, audited)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service, requires
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability, OrganizationKind, get_actor, has_capability

from .. import aql
from ..errors import (
    AQL_NOT_IN_TABLE,
    LEVEL_UNKNOWN,
    LOT_SIZE_INVALID,
    NOT_ALLOWED,
    SEVERITY_UNKNOWN,
    SWITCHING_RULES_INVALID,
)
from ..models import Evidence, SwitchingRules

ACTION = "sampling_switching_rules.update"
RULES_PK = 1
TEXT_FIELDS = ("rule_text", "source", "evidence")
FIELDS = (*SwitchingRules.NUMBERS, *TEXT_FIELDS)
MAX_LOT_SIZE = 10**9
SEVERITY_LABELS = {
    aql.NORMAL: gettext_lazy("Normal inspection"),
    aql.TIGHTENED: gettext_lazy("Tightened inspection"),
    aql.REDUCED: gettext_lazy("Reduced inspection"),
    aql.DISCONTINUED: gettext_lazy("Inspection discontinued"),
}
CHECK_LABELS = {
    aql.VERIFIED: gettext_lazy("Verified against the official text"),
    aql.CORROBORATED: gettext_lazy("Corroborated by several sources"),
    aql.UNVERIFIED: gettext_lazy("Not verified: check before relying on it"),
    aql.DOUBTFUL: gettext_lazy("Doubtful cell: check against the printed standard"),
}
NOTE_LABELS = {
    "arrow_down": gettext_lazy(
        "The table's cell is an arrow ↓: the first plan below it is used, with its sample size."
    ),
    "arrow_up": gettext_lazy("The table's cell is an arrow ↑: the first plan above it is used, with its sample size."),
    "full_inspection": gettext_lazy("The sample size reaches the lot size: inspect every unit of the lot."),
}


# The codes a plan request is answered with beyond the kernel's, by status (for the API schema).
ANSWER_CODES = {
    400: frozenset(str(code) for code in (LOT_SIZE_INVALID, LEVEL_UNKNOWN, AQL_NOT_IN_TABLE, SEVERITY_UNKNOWN)),
    403: frozenset({str(NOT_ALLOWED)}),
}


def may_use_plans(user) -> bool:
    """Sampling plans are a tool for staff: people acting for a regulator or a technical
    institution, and the system administrator, who keeps the switching rules."""
    if user is None or not user.is_authenticated:
        return False
    if has_capability(user, Capability.MANAGE_CONFIGURATION):
        return True
    return get_actor(user).kind in (OrganizationKind.REGULATOR, OrganizationKind.INSTITUTION)


def require_plan_user(user) -> None:
    if not may_use_plans(user):
        raise NOT_ALLOWED(_("Sampling plans are for regulators and technical institutions."))


def sampling_plan(*, lot_size: Any, level: Any, aql_value: Any, severity: Any = aql.NORMAL) -> aql.Plan:
    """The plan for the given inputs, as they came (strings from a form or a query); every
    problem at once, by field, in the reader's language."""
    errors: dict[str, list[str]] = {}
    first_code = None
    raw = str(lot_size if lot_size is not None else "").strip()
    if not raw.isascii() or not raw.isdigit() or not 2 <= int(raw) <= MAX_LOT_SIZE:
        errors["lot_size"] = [
            _("Give the lot size as a whole number of units from 2 to %(max)s.") % {"max": f"{MAX_LOT_SIZE:,}"}
        ]
        first_code = first_code or LOT_SIZE_INVALID
    level = str(level or aql.DEFAULT_LEVEL).strip().upper()
    if level not in aql.LEVELS:
        errors["level"] = [_("Choose one of the inspection levels %(levels)s.") % {"levels": ", ".join(aql.LEVELS)}]
        first_code = first_code or LEVEL_UNKNOWN
    try:
        the_aql = aql.parse_aql(aql_value)
    except aql.BadInput:
        errors["aql"] = [_("Choose an AQL of the tables: %(aqls)s.") % {"aqls": ", ".join(str(a) for a in aql.AQLS)}]
        first_code = first_code or AQL_NOT_IN_TABLE
    severity = str(severity or aql.NORMAL).strip().lower()
    if severity not in aql.SEVERITIES:
        errors["severity"] = [_("Choose normal, tightened or reduced inspection.")]
        first_code = first_code or SEVERITY_UNKNOWN
    if errors:
        field = next(iter(errors))
        raise first_code(errors[field][0], field=field, errors=errors)
    return aql.plan(int(raw), level, the_aql, severity)


def current_switching_rules() -> SwitchingRules:
    """The rules in force: the stored row, or the defaults (unsaved, unverified) if it is gone.
    Reading never writes."""
    return SwitchingRules.objects.filter(pk=RULES_PK).first() or SwitchingRules(
        pk=RULES_PK, source=_("Defaults of the platform, not checked against the standard")
    )


def switching_rules_clean_data(data: Mapping[str, Any]) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    for name in SwitchingRules.NUMBERS:
        model_field = SwitchingRules._meta.get_field(name)
        maximum = max(v.limit_value for v in model_field.validators if hasattr(v, "limit_value"))
        raw = str(data.get(name, "")).strip()
        if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= maximum:
            errors[name] = [_("Give a whole number from 1 to %(max)d.") % {"max": maximum}]
        else:
            cleaned[name] = int(raw)
    if (
        "tighten_rejections" in cleaned
        and "tighten_window" in cleaned
        and cleaned["tighten_rejections"] > cleaned["tighten_window"]
    ):
        errors["tighten_rejections"] = [_("The lots not accepted cannot be more than the window of lots.")]
    for name, limit in (("rule_text", 5000), ("source", SwitchingRules._meta.get_field("source").max_length)):
        value = str(data.get(name, "") or "").strip()
        if not value:
            errors[name] = [_("This field is required.")]
        elif len(value) > limit:
            errors[name] = [_("At most %(max)d characters.") % {"max": limit}]
        else:
            cleaned[name] = value
    evidence = str(data.get("evidence", "") or "").strip()
    if evidence not in Evidence.values:
        errors["evidence"] = [_("Choose how far the rules were checked.")]
    else:
        cleaned["evidence"] = evidence
    if errors:
        field = next(iter(errors))
        raise SWITCHING_RULES_INVALID(errors[field][0], field=field, errors=errors)
    return cleaned


@audited_service(
    ACTION,
    gettext_lazy("GB/T 2828.1 switching rules changed"),
    check=requires(
        Capability.MANAGE_CONFIGURATION,
        gettext_lazy("Only the system administrator changes the switching rules."),
    ),
)
def switching_rules_update(*, actor, data: Mapping[str, Any]) -> SwitchingRules:
    cleaned = switching_rules_clean_data(data)
    locked = SwitchingRules.objects.select_for_update().filter(pk=RULES_PK).first()
    if locked is None:
        locked = SwitchingRules(pk=RULES_PK)
    changes = apply_changes(locked, cleaned)
    locked.save()
    audit_record(action=ACTION, actor=actor, target=locked, details={"changes": changes})
    return locked
