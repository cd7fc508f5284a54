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
# 一单两库 (the item list, the rules and the pools)
DUPLICATE = errors.add("duplicate", Conflict, _("This entry is already in the list."))
RATIO_OUT_OF_RANGE = errors.add(
    "ratio_out_of_range", InvalidInput, _("The sampling ratio is outside the allowed range.")
)
RULES_NOT_AFTER = errors.add(
    "rules_not_after", InvalidInput, _("A new version must take effect after the current one (%(date)s).")
)
TEST_ITEMS_REQUIRED = errors.add("test_items_required", InvalidInput, _("List at least one test item."))
ENTERPRISE_UNKNOWN = errors.add(
    "enterprise_unknown", InvalidInput, _("No enterprise with this unified social credit code is on the platform.")
)
OUT_OF_JURISDICTION = errors.add(
    "out_of_jurisdiction", InvalidInput, _("This organisation is outside your jurisdiction.")
)
OFFICE_NOT_REGULATOR = errors.add(
    "office_not_regulator", InvalidInput, _("The office must be a regulator within your jurisdiction.")
)
IMPORT_ROWS = errors.add("import_rows", InvalidInput, _("Some rows cannot be imported; nothing was imported."))
IMPORT_FILE = errors.add("import_file", InvalidInput, _("The file cannot be read."))
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
# Closing and publishing a batch, its public results and the analysis (disclosure area).
RECORDS_OPEN = errors.add(
    "records_open",
    Conflict,
    _("%(count)d sampling records of this batch are still open: close it when every record is final or refused."),
)
REGULATORS_ONLY = errors.add("regulators_only", Forbidden, _("Only regulators see the analysis of sampling results."))
BAD_FILTER = errors.add("bad_filter", InvalidInput, _("%(name)s: “%(value)s” is not a valid value."))
