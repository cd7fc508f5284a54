"""Error codes of the casework kernel: rating a case (好差评) and attaching files to it. A case
refused for its state answers with the kernel's ``invalid_state``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from nqihub.core.errors import Conflict, ErrorRegistry, InvalidInput

errors = ErrorRegistry("cases")

NOT_RATED = errors.add("not_rated", Conflict, _("Cases of this kind are not rated."))
RATING_RANGE = errors.add("rating_range", InvalidInput, _("Give a rating from 1 to 5."))
RATING_COMMENT_LENGTH = errors.add("rating_comment_length", InvalidInput, _("The comment is at most 500 characters."))
NOT_DECIDED = errors.add("not_decided", Conflict, _("A case is rated once it has been decided."))
ALREADY_RATED = errors.add("already_rated", Conflict, _("This case has already been rated."))
ATTACHMENT_TYPE = errors.add(
    "attachment_type", InvalidInput, _("Attach a PDF, OFD, JPEG, PNG, Excel (.xlsx) or Word (.docx) file.")
)
ATTACHMENT_EMPTY = errors.add("attachment_empty", InvalidInput, _("The file is empty."))
ATTACHMENT_SIZE = errors.add("attachment_size", InvalidInput, _("A file is at most %(mb)d MB."))
ATTACHMENT_COUNT = errors.add("attachment_count", Conflict, _("A case holds at most %(count)d files."))
ATTACHMENTS_CLOSED = errors.add(
    "attachments_closed", Conflict, _("Materials are attached to an open case of a kind that takes them.")
)
