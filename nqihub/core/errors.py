"""Errors raised by services. Pages turn them into messages, the API into
``{"detail": ..., "code": ...}`` bodies with the matching status; both show the same
translated text, because it is written once, here or where it is raised."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status_code = 400
    default_code = "invalid"
    default_message = _("The request could not be carried out.")

    def __init__(self, message=None, *, code: str | None = None, field: str | None = None, errors=None):
        self.message = message if message is not None else self.default_message
        self.code = code or self.default_code
        self.field = field
        self.errors = errors  # {field: [messages]} for form-level display
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
