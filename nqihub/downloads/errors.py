"""Error codes of background exports: refusals when one is asked for, and the reasons stored
on a job that failed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, Forbidden, InvalidInput

errors = ErrorRegistry("downloads")

EXPORT_PARAMS = errors.add("export_params", InvalidInput, _("The search could not be read."))
EXPORT_UNKNOWN = errors.add("export_unknown", InvalidInput, _("There is no such export."))
EXPORT_NOT_ALLOWED = errors.add("export_not_allowed", Forbidden, _("You may not export this list."))
EXPORT_TOO_MANY = errors.add(
    "export_too_many", Conflict, _("You already have %(count)d exports under way: wait until one is ready.")
)

# Stored on a job that failed (shown on the person's list of files), never answered.
EXPORT_NOT_QUEUED = errors.add(
    "export_not_queued", None, _("The export could not be queued; no file was made. Please try again later.")
)
INTERNAL_ERROR = errors.add("internal_error", None)
ACCOUNT_INACTIVE = errors.add("account_inactive", None, _("Your account is no longer active; nothing was exported."))
MEMBERSHIP_ENDED = errors.add(
    "membership_ended", None, _("You no longer act for %(organization)s; nothing was exported.")
)
WORKER_LOST = errors.add("worker_lost", None)  # the message is the job kernel's (tables.jobs)
JOB_TIMEOUT = errors.add("job_timeout", None)
