"""Error codes of the supervision-sampling module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("sampling")

INVALID_STATE = errors.add("invalid_state", Conflict, _("%(what)s is %(state)s and cannot be changed this way."))
REASON_REQUIRED = errors.add("reason_required", InvalidInput, _("Give the reason."))
NOT_ALLOWED = errors.add("not_allowed", Forbidden, _("You may not do this in supervision sampling."))

# Plans, batches and draws.
PLAN_EXISTS = errors.add("plan_exists", Conflict, _("Your office already has a %(year)s plan with this title."))
PLAN_NOT_APPROVED = errors.add(
    "plan_not_approved", Conflict, _("Batches are created under an approved plan; plan %(number)s is not approved.")
)
AREA_OUTSIDE = errors.add("area_outside", InvalidInput, _("The area must be your own division or a division below it."))
RULES_NOT_CURRENT = errors.add(
    "rules_not_current", InvalidInput, _("The inspection item has no implementation rules in force today.")
)
INSTITUTION_NOT_QUALIFIED = errors.add(
    "institution_not_qualified",
    InvalidInput,
    _("These institutions are not qualified (CMA) to test %(category)s: %(names)s."),
)
INSTITUTION_REQUIRED = errors.add("institution_required", InvalidInput, _("Choose at least one testing institution."))
RATIO_TOO_LOW = errors.add(
    "ratio_too_low",
    InvalidInput,
    _("A double-random check draws at least %(percent)s%% of the %(pool)s eligible objects: at least %(minimum)s."),
)
RATIO_TOO_HIGH = errors.add(
    "ratio_too_high",
    InvalidInput,
    _("A general item draws at most %(percent)s%% of the %(pool)s eligible objects: at most %(maximum)s."),
)
FOLLOW_UP_REQUIRED = errors.add(
    "follow_up_required", InvalidInput, _("A follow-up check names an earlier batch of yours with failed objects.")
)
EMPTY_POOL = errors.add("empty_pool", Conflict, _("No object is eligible for this batch: the pool is empty."))
TOO_FEW_INSPECTORS = errors.add(
    "too_few_inspectors",
    Conflict,
    _("Only %(available)s eligible inspectors remain for %(object)s; %(needed)s are needed."),
)
REPEAT_RULE = errors.add(
    "repeat_rule",
    Conflict,
    _("The same product was sampled within the repeat window; draw again: %(objects)s."),
)
NOTHING_DRAWN = errors.add("nothing_drawn", Conflict, _("Draw the objects first."))
