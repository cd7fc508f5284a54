"""The verification service policy (``MetrologyPolicy``): the promised acceptance time limit
and the reminder stages. Policy, not law, so it is data: one row, read by the application and
reminder services through ``current_policy()``, changed by the system administrator through
``policy_update`` (page ``metrology/policy/``), every change in the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from nqihub.audit.service import apply_changes, audited_service
from nqihub.audit.services import audit_record
from nqihub.core.access import Capability, has_capability
from nqihub.core.errors import INVALID, Forbidden

from ..models import MetrologyPolicy

ACTION = "metrology_policy.update"

POLICY_PK = 1
MAX_STAGES = 5
MAX_STAGE_DAYS = 365
FIELDS = ("acceptance_working_days", "reminder_days", "validity_ends_day_before", "source")


def current_policy() -> MetrologyPolicy:
    """The policy in force: the stored row, or the defaults (unsaved) before anyone changed
    them. Reading never writes."""
    return MetrologyPolicy.objects.filter(pk=POLICY_PK).first() or MetrologyPolicy(pk=POLICY_PK)


def policy_clean_data(data: Mapping[str, Any]) -> dict:
    """Check the fields; every problem at once, by field, in the reader's language."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    raw_days = str(data.get("acceptance_working_days", "")).strip()
    if not raw_days.isdigit() or not 1 <= int(raw_days) <= 30:
        errors.setdefault("acceptance_working_days", []).append(
            _("Give the acceptance time limit as a whole number of working days from 1 to 30.")
        )
    else:
        cleaned["acceptance_working_days"] = int(raw_days)
    parts = [p.strip() for p in str(data.get("reminder_days", "")).replace("，", ",").split(",") if p.strip()]
    if (
        not parts
        or len(parts) > MAX_STAGES
        or not all(p.isdigit() and 1 <= int(p) <= MAX_STAGE_DAYS for p in parts)
        or len(set(map(int, parts))) != len(parts)
    ):
        errors.setdefault("reminder_days", []).append(
            _("Give one to %(max)d different numbers of days from 1 to %(days)d, separated by commas, e.g. 30,15,7.")
            % {"max": MAX_STAGES, "days": MAX_STAGE_DAYS}
        )
    else:
        cleaned["reminder_days"] = ",".join(str(d) for d in sorted(map(int, parts), reverse=True))
    # A checkbox: absent from a form when unticked; "true"/"1"/"on" or a JSON boolean.
    flag = data.get("validity_ends_day_before", False)
    cleaned["validity_ends_day_before"] = flag is True or str(flag).strip().lower() in ("1", "true", "on", "yes")
    source = str(data.get("source", "")).strip()
    if not source:
        errors.setdefault("source", []).append(_("Say who decided this policy (e.g. the bureau's notice)."))
    elif len(source) > MetrologyPolicy._meta.get_field("source").max_length:
        errors.setdefault("source", []).append(_("The source is too long."))
    else:
        cleaned["source"] = source
    if errors:
        first = next(iter(errors.values()))[0]
        raise INVALID(first, field=next(iter(errors)), errors=errors)
    return cleaned


def _require_administrator(actor, **_kwargs) -> None:
    if not has_capability(actor, Capability.MANAGE_CONFIGURATION):
        raise Forbidden(_("Only the system administrator changes the verification service policy."))


@audited_service(ACTION, gettext_lazy("Verification service policy changed"), check=_require_administrator)
def policy_update(*, actor, data: Mapping[str, Any]) -> MetrologyPolicy:
    """The system administrator changes the policy. Applications already submitted keep the
    deadline they were given; reminders use the new stages from the next run."""
    cleaned = policy_clean_data(data)
    locked = MetrologyPolicy.objects.select_for_update().filter(pk=POLICY_PK).first()
    if locked is None:
        try:
            with transaction.atomic():
                locked = MetrologyPolicy.objects.create(pk=POLICY_PK)
        except IntegrityError:  # someone else made it first
            locked = MetrologyPolicy.objects.select_for_update().get(pk=POLICY_PK)
    changes = apply_changes(locked, cleaned)
    locked.save()
    audit_record(action=ACTION, actor=actor, target=locked, details={"changes": changes})
    return locked
