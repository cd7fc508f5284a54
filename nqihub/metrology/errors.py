"""Error codes of the metrology module: catalogue, ledger and import, filings, applications,
results, documents, fees and the public check."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("metrology")

# Shared by several areas.
INVALID_STATE = errors.add(
    "invalid_state", Conflict, _("Document %(number)s is %(state)s and can no longer be changed.")
)
REASON_REQUIRED = errors.add(
    "reason_required", InvalidInput, description="A return, rejection or revocation needs its reason."
)
MAX_LENGTH = errors.add("max_length", InvalidInput, _("At most %(max)d characters (%(count)d given)."))
DATE_REQUIRED = errors.add("date_required", InvalidInput, _("Give the date of the verification."))
DATE_IN_PAST = errors.add("date_in_past", InvalidInput, description="A wished or scheduled date lies in the past.")
INSTRUMENT_SCRAPPED = errors.add(
    "instrument_scrapped", InvalidInput, description="Scrapped instruments are neither filed nor verified."
)

# Choosing instruments (rules.clean_instrument_ids).
INVALID_ID = errors.add("invalid_id", InvalidInput, _("“%(value)s” is not an instrument id."))
NO_INSTRUMENTS = errors.add("no_instruments", InvalidInput, description="No instrument was chosen.")
TOO_MANY_INSTRUMENTS = errors.add(
    "too_many_instruments", InvalidInput, description="More instruments than one request takes."
)

# Catalogue.
CATALOGUE_CODE_TAKEN = errors.add("catalogue_code_taken", Conflict, _("Another catalogue item already has this code."))

# Ledger.
NOT_LEDGER_KEEPER = errors.add(
    "not_ledger_keeper", Forbidden, _("Only the managers and clerks of an enterprise keep its instrument ledger.")
)
FACTORY_NUMBER_TAKEN = errors.add(
    "factory_number_taken", Conflict, _("This factory number is already in your organisation's ledger.")
)
STATUS_UNCHANGED = errors.add("status_unchanged", Conflict, _("The instrument is already “%(status)s”."))
INVALID_STATUS = errors.add("invalid_status", InvalidInput, _("Status must be one of: in use, stopped, scrapped."))

# Import.
IMPORT_NOT_ALLOWED = errors.add(
    "import_not_allowed",
    Forbidden,
    _("Only the manager or a clerk of an enterprise can import into its instrument ledger."),
)
FILE_TYPE = errors.add(
    "file_type", InvalidInput, _("Only .xlsx, .xls and .ods workbooks and .csv files can be imported.")
)
FILE_EMPTY = errors.add("file_empty", InvalidInput, _("The file is empty."))
FILE_TOO_LARGE = errors.add(
    "file_too_large", InvalidInput, _("The file is larger than %(max)d MB: split it into several files.")
)

# Filings (强检备案).
NOT_MANDATORY = errors.add(
    "not_mandatory",
    InvalidInput,
    _("Only instruments subject to mandatory verification are filed; these are not: %(instruments)s."),
)
ALREADY_FILED = errors.add("already_filed", Conflict, _("These instruments are already filed: %(instruments)s."))
IN_OPEN_FILING = errors.add(
    "in_open_filing",
    Conflict,
    _("These instruments are already in a filing awaiting review or correction (%(numbers)s): %(instruments)s."),
)
INSTRUMENTS_CHANGED = errors.add(
    "instruments_changed", Conflict, description="Instruments of the filing changed since it was submitted."
)

# Verification applications.
NO_CATALOGUE_ITEM = errors.add(
    "no_catalogue_item", InvalidInput, _("Give these instruments their catalogue item first: %(instruments)s.")
)
IN_OPEN_APPLICATION = errors.add(
    "in_open_application",
    Conflict,
    _("These instruments are already in an open application (%(numbers)s): %(instruments)s."),
)
INVALID_MODE = errors.add("invalid_mode", InvalidInput, _("Choose drop-off or on-site verification."))
ADDRESS_REQUIRED = errors.add(
    "address_required", InvalidInput, _("Give the address where the institution should verify the instruments.")
)
DATES_REQUIRED = errors.add("dates_required", InvalidInput, _("Give the dates between which the institution may come."))
INVALID_DATES = errors.add("invalid_dates", InvalidInput, _("The first wished date must not be after the last one."))
CONTACT_REQUIRED = errors.add(
    "contact_required", InvalidInput, _("Give a contact person and telephone for the institution.")
)
INSTITUTION_NOT_OFFERED = errors.add(
    "institution_not_offered", InvalidInput, description="The institution is not authorised for these instruments here."
)

# Results.
EXTERNAL_ID_CONFLICT = errors.add(
    "external_id_conflict",
    Conflict,
    _("A different result was already recorded under the LIMS record id “%(id)s”."),
)
SIGNER_NOT_MEMBER = errors.add(
    "signer_not_member",
    InvalidInput,
    _("The verifier, the checker and the approver must be active members of the institution."),
)
SAME_SIGNER = errors.add(
    "same_signer", InvalidInput, _("The verifier, the checker and the approver must be three different people.")
)
INVALID_OUTCOME = errors.add("invalid_outcome", InvalidInput, _("The result must be pass or fail."))
DATE_IN_FUTURE = errors.add("date_in_future", InvalidInput, _("The verification date must not be in the future."))
FAILURE_REASONS_REQUIRED = errors.add(
    "failure_reasons_required",
    InvalidInput,
    _("Give the reasons why the instrument failed; they are printed on the notice."),
)
ALREADY_RECORDED = errors.add(
    "already_recorded", Conflict, _("The result of this instrument has already been recorded.")
)

# Documents.
NUMBER_TAKEN = errors.add(
    "number_taken", Conflict, _("The document could not be given a number. Nothing was issued; please try again.")
)
ALREADY_ISSUED = errors.add(
    "already_issued", Conflict, _("The document for this result has already been issued; reissue it to correct it.")
)

# The public check (/verify/).
RATE_LIMITED = errors.add(
    "rate_limited", 429, _("Too many checks from your address. Please wait a minute and try again.")
)
