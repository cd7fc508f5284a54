"""Error codes of the supervision-sampling module."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("sampling")

INVALID_STATE = errors.add("invalid_state", Conflict, _("%(what)s is %(state)s and cannot be changed this way."))
REASON_REQUIRED = errors.add("reason_required", InvalidInput, _("Give the reason."))
NOT_ALLOWED = errors.add("not_allowed", Forbidden, _("You may not do this in supervision sampling."))

# After the result: notice, objection and re-test, handling of an unqualified product.
NO_CONCLUSION = errors.add("no_conclusion", Conflict, _("The record has no test conclusion yet."))
OBJECTION_PERIOD_OVER = errors.add(
    "objection_period_over", Conflict, _("The period for an objection ended on %(date)s.")
)
OBJECTION_PERIOD_RUNNING = errors.add(
    "objection_period_running", Conflict, _("The period for an objection runs until %(date)s.")
)
DISPUTED_ITEMS_REQUIRED = errors.add(
    "disputed_items_required", InvalidInput, _("Name the test items whose result you dispute.")
)
DISPUTED_ITEM_UNKNOWN = errors.add(
    "disputed_item_unknown", InvalidInput, _("Only test items of this record's test can be disputed.")
)
RETEST_SAME_INSTITUTION = errors.add(
    "retest_same_institution",
    InvalidInput,
    _("The re-test must be done by another institution than the one that did the first test."),
)
RETEST_NOT_QUALIFIED = errors.add(
    "retest_not_qualified", InvalidInput, _("This institution is not qualified to test %(category)s.")
)
RETEST_ROWS = errors.add(
    "retest_rows", InvalidInput, _("Give one result for each disputed test item, and for those only.")
)
RESULT_VALUE_REQUIRED = errors.add(
    "result_value_required", InvalidInput, _("Give the measured value of %(item)s as a number.")
)
RESULT_JUDGEMENT_REQUIRED = errors.add(
    "result_judgement_required", InvalidInput, _("Judge %(item)s: qualified or unqualified.")
)
CORRECTION_REPORT_REQUIRED = errors.add(
    "correction_report_required", InvalidInput, _("Describe the correction that was made.")
)
ANNOUNCEMENT_REQUIRED = errors.add(
    "announcement_required", InvalidInput, _("Give the text of the announcement of the failed re-check.")
)
SECOND_RECHECK_TOO_EARLY = errors.add(
    "second_recheck_too_early", Conflict, _("The second re-check may be done from %(date)s on, not before.")
)
