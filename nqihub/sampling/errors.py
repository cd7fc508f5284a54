"""Error codes of the supervision-sampling module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("sampling")

INVALID_STATE = errors.add("invalid_state", Conflict, _("%(what)s is %(state)s and cannot be changed this way."))
REASON_REQUIRED = errors.add("reason_required", InvalidInput, _("Give the reason."))
NOT_ALLOWED = errors.add("not_allowed", Forbidden, _("You may not do this in supervision sampling."))

# Closing and publishing a batch, its public results and the analysis (disclosure area).
RECORDS_OPEN = errors.add(
    "records_open",
    Conflict,
    _("%(count)d sampling records of this batch are still open: close it when every record is final or refused."),
)
REGULATORS_ONLY = errors.add("regulators_only", Forbidden, _("Only regulators see the analysis of sampling results."))
BAD_FILTER = errors.add("bad_filter", InvalidInput, _("%(name)s: “%(value)s” is not a valid value."))
