"""Error codes of the supervision-sampling module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("sampling")

INVALID_STATE = errors.add("invalid_state", Conflict, _("%(what)s is %(state)s and cannot be changed this way."))
REASON_REQUIRED = errors.add("reason_required", InvalidInput, _("Give the reason."))
NOT_ALLOWED = errors.add("not_allowed", Forbidden, _("You may not do this in supervision sampling."))

# GB/T 2828.1 sampling plans (aql)
LOT_SIZE_INVALID = errors.add("lot_size_invalid", InvalidInput, _("Give the lot size as a whole number of units."))
LEVEL_UNKNOWN = errors.add("inspection_level_unknown", InvalidInput, _("Choose an inspection level of Table 1."))
AQL_NOT_IN_TABLE = errors.add("aql_not_in_table", InvalidInput, _("Choose an AQL of the sampling tables."))
SEVERITY_UNKNOWN = errors.add("severity_unknown", InvalidInput, _("Choose normal, tightened or reduced inspection."))
SWITCHING_RULES_INVALID = errors.add("switching_rules_invalid", InvalidInput, _("Check the switching rules."))
