"""Error codes of the supervision-sampling module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("sampling")

INVALID_STATE = errors.add("invalid_state", Conflict, _("%(what)s is %(state)s and cannot be changed this way."))
REASON_REQUIRED = errors.add("reason_required", InvalidInput, _("Give the reason."))
NOT_ALLOWED = errors.add("not_allowed", Forbidden, _("You may not do this in supervision sampling."))

# Field work, testing and the inspection report (services/records.py, services/reports.py).
SAMPLERS_TOO_FEW = errors.add(
    "samplers_too_few", InvalidInput, _("At least %(count)d samplers must take the samples (%(given)d chosen).")
)
SAMPLER_NOT_ASSIGNED = errors.add(
    "sampler_not_assigned",
    InvalidInput,
    _("%(name)s is not an inspector drawn for this object (or was recused) and cannot sign as a sampler."),
)
SAMPLER_CERTIFICATE_EXPIRED = errors.add(
    "sampler_certificate_expired",
    InvalidInput,
    _("The enforcement certificate of %(name)s was valid until %(day)s: they cannot sign as a sampler."),
)
QUANTITY_TOO_SMALL = errors.add(
    "quantity_too_small",
    InvalidInput,
    _("The implementation rules require at least %(minimum)d units here (%(given)d given)."),
)
SEALS_REQUIRED = errors.add(
    "seals_required", InvalidInput, _("Give at least %(count)d seal numbers: one for each set of samples sealed.")
)
EVIDENCE_REQUIRED = errors.add("evidence_required", InvalidInput, _("Attach at least one file as evidence."))
RESULT_MISSING = errors.add("result_missing", InvalidInput, _("Give the result of test item %(item)s."))
RESULT_INVALID = errors.add("result_invalid", InvalidInput, _("Test item %(item)s: %(problem)s"))
RESULTS_INCOMPLETE = errors.add(
    "results_incomplete", Conflict, _("Record the results of every test item before the report is issued.")
)
