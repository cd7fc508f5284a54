"""Errors raised by services, and the registry of error codes.

Pages turn a ``ServiceError`` into a message, the API into a ``{"detail": ..., "code": ...}``
body with the matching status; both show the same translated text.

Every machine code a caller can meet is declared once, in the ``errors.py`` of the app that
raises it, with its status and its message::

    from nqihub.core.errors import Conflict, ErrorRegistry

    errors = ErrorRegistry("accounts")
    USERNAME_TAKEN = errors.add("username_taken", Conflict, _("This account name is taken."))

    raise USERNAME_TAKEN(field="username")

A declared message may carry named placeholders (``%(count)d``), filled from the keyword
arguments of the call. The kernel collects every app's ``errors.py`` when Django starts
(``CoreConfig.ready``); the OpenAPI schema lists the codes by status, and a code that is not
declared is refused loudly while the test suite runs (``settings.NQI_STRICT_ERROR_CODES``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger(__name__)


class UnregisteredErrorCode(LookupError):
    """A service raised a code that no app declared (raised only in strict mode: tests)."""


def _strict() -> bool:
    from django.conf import settings

    return bool(getattr(settings, "NQI_STRICT_ERROR_CODES", False))


class ServiceError(Exception):
    status_code = 400
    default_code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None, errors=None):
        self.message = message if message is not None else self.default_message
        self.code = code or self.default_code
        self.field = field
        self.errors = errors  # {field: [messages]} for form-level display
        if self.code not in _BY_CODE:
            if _strict():
                raise UnregisteredErrorCode(
                    f"Error code {self.code!r} is not declared in any app's errors.py (nqihub.core.errors)."
                )
            logger.warning("Undeclared error code %s", self.code)
        super().__init__(str(self.message))


class InvalidInput(ServiceError):
    status_code = 400
    default_code = "invalid"


class NotFound(ServiceError):
    status_code = 404
    default_code = "not_found"
    default_message = _("Not found.")


class Forbidden(ServiceError):
    status_code = 403
    default_code = "permission_denied"
    default_message = _("You do not have permission to do this.")


class Conflict(ServiceError):
    status_code = 409
    default_code = "conflict"


def invalid_fields(errors, *, label=lambda name: name, code: str = "invalid") -> InvalidInput:
    """One InvalidInput for a list of (field, message): the first names its field (through
    ``label``) in the text, the API's ``detail``; all of them go to ``errors``, so a form
    shows each on its field."""
    from django.utils.text import capfirst
    from django.utils.translation import gettext

    by_field: dict[str, list[str]] = {}
    for name, message in errors:
        by_field.setdefault(name, []).append(str(message))
    first_field, first_messages = next(iter(by_field.items()))
    message = gettext("%(field)s: %(message)s") % {
        "field": capfirst(str(label(first_field))),
        "message": first_messages[0],
    }
    return InvalidInput(message, code=code, field=first_field, errors=by_field)


# --------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class ErrorCode:
    """One declared error: its machine code, its HTTP status (``None`` for a code that is
    only stored, such as a background job's failure reason), the service error class that
    carries it, its message and the app that declared it."""

    code: str
    status: int | None
    error_class: type[ServiceError] | None
    message: Any
    app: str
    description: str = ""

    def __call__(self, message=None, *, field: str | None = None, errors=None, **params) -> ServiceError:
        """The error, ready to raise: the declared message (its placeholders filled from
        ``params``) unless the raise site gives its own wording."""
        if self.error_class is None:
            raise TypeError(f"Error code {self.code!r} is not raised as a service error.")
        if message is None:
            # Translated now, in the language active where it is raised (as a message
            # written at the raise site would be), not where it is shown.
            message = str(self.message) % params if params else str(self.message)
        return self.error_class(message, code=self.code, field=field, errors=errors)

    def __str__(self) -> str:
        return self.code


_BY_CODE: dict[str, list[ErrorCode]] = {}


class ErrorRegistry:
    """The error codes of one app (``<app>/errors.py``)."""

    def __init__(self, app: str):
        self.app = app
        self.codes: dict[str, ErrorCode] = {}

    def add(
        self, code: str, kind: type[ServiceError] | int | None, message=None, *, description: str = ""
    ) -> ErrorCode:
        """Declare ``code``. ``kind`` is a ``ServiceError`` class (its status follows), a bare
        HTTP status (for codes the framework or a middleware answers with), or ``None`` for a
        code that is stored rather than answered."""
        error_class: type[ServiceError] | None
        status: int | None
        if isinstance(kind, type) and issubclass(kind, ServiceError):
            error_class, status = kind, kind.status_code
            if message is None:
                message = kind.default_message
        else:
            error_class, status = None, kind
        if code in self.codes:
            raise ImproperlyConfigured(f"Error code {code!r} is declared twice in {self.app}.")
        entry = ErrorCode(code, status, error_class, message, self.app, description)
        for other in _BY_CODE.get(code, ()):
            if status is not None and other.status is not None and other.status != status:
                raise ImproperlyConfigured(
                    f"Error code {code!r} means HTTP {other.status} in {other.app} but {status} in {self.app}: "
                    "one code, one status."
                )
        self.codes[code] = entry
        _BY_CODE.setdefault(code, []).append(entry)
        return entry

    def __iter__(self):
        return iter(self.codes.values())


def is_registered(code: str) -> bool:
    return code in _BY_CODE


def declarations(code: str) -> list[ErrorCode]:
    return list(_BY_CODE.get(code, ()))


def all_codes() -> Iterable[ErrorCode]:
    for entries in _BY_CODE.values():
        yield from entries


def codes_by_status(apps: Iterable[str] | None = None) -> dict[int, list[str]]:
    """Declared codes grouped by HTTP status (of the given apps, or all), sorted."""
    wanted = set(apps) if apps is not None else None
    by_status: dict[int, set[str]] = {}
    for entry in all_codes():
        if entry.status is None or (wanted is not None and entry.app not in wanted):
            continue
        by_status.setdefault(entry.status, set()).add(entry.code)
    return {status: sorted(codes) for status, codes in sorted(by_status.items())}


def load_app_errors() -> None:
    """Import every installed app's ``errors.py`` (called once from ``CoreConfig.ready``)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("errors")


# --------------------------------------------------------------------------- the kernel's own codes

errors = ErrorRegistry("core")

INVALID = errors.add("invalid", InvalidInput, _("The request could not be carried out."))
NOT_FOUND = errors.add("not_found", NotFound)
PERMISSION_DENIED = errors.add("permission_denied", Forbidden)
CONFLICT = errors.add("conflict", Conflict, _("The request could not be carried out."))

# Answered by the API framework itself (authentication, routing, content negotiation, rate
# limits); the message is the framework's.
NOT_AUTHENTICATED = errors.add("not_authenticated", 401, description="No credentials were sent.")
AUTHENTICATION_FAILED = errors.add("authentication_failed", 401, description="The credentials were refused.")
METHOD_NOT_ALLOWED = errors.add("method_not_allowed", 405)
NOT_ACCEPTABLE = errors.add("not_acceptable", 406)
UNSUPPORTED_MEDIA_TYPE = errors.add("unsupported_media_type", 415)
THROTTLED = errors.add("throttled", 429)
PARSE_ERROR = errors.add("parse_error", 400, description="The body is not valid JSON or form data.")
# Refused by Django before the API reads the request (a form of more fields than
# DATA_UPLOAD_MAX_NUMBER_FIELDS, a body larger than it reads into memory): ``core.views.bad_request``.
BAD_REQUEST = errors.add("bad_request", 400, description="The request was refused before it was read.")
SERVER_ERROR = errors.add("server_error", 500)

# The codes of the API's input checks on a single field (``errors`` then names the field).
FIELD_CODES = (
    "required",
    "null",
    "blank",
    "max_length",
    "min_length",
    "max_value",
    "min_value",
    "max_digits",
    "max_decimal_places",
    "max_whole_digits",
    "invalid_choice",
    "not_a_list",
    "empty",
    "does_not_exist",
    "incorrect_type",
    "date",
    "datetime",
    "invalid_pk_value",
    "unique",
    "make_aware",
    "overflow",
    # Text with a NUL (or a lone surrogate) character: no database stores it.
    "null_characters_not_allowed",
    "surrogate_characters_not_allowed",
    # A number sent as text of more than a thousand characters.
    "max_string_length",
)
for _code in FIELD_CODES:
    errors.add(_code, InvalidInput, description="A field of the body or query failed its check.")
del _code
