"""Every API error body is ``{"detail": <translated text>, "code": <machine code>}``,
plus ``errors`` (field → messages) when input was invalid."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from nqihub.core.errors import ServiceError


def _out_of_range_message() -> str:
    return _("A number in the request is too large.")


def _first_message(detail) -> str:
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    if isinstance(detail, dict) and detail:
        return _first_message(next(iter(detail.values())))
    return str(detail)


def _first_code(codes) -> str:
    if isinstance(codes, list) and codes:
        return _first_code(codes[0])
    if isinstance(codes, dict) and codes:
        return _first_code(next(iter(codes.values())))
    return str(codes)


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body: dict[str, object] = {"detail": str(exc.message), "code": exc.code}
        if exc.errors:
            body["errors"] = {k: [str(m) for m in v] for k, v in exc.errors.items()}
        elif exc.field:
            body["errors"] = {exc.field: [str(exc.message)]}
        return Response(body, status=exc.status_code)
    if isinstance(exc, OverflowError):
        # A number no database column holds (an id of thirty digits in a filter or a path):
        # SQLite's driver refuses to convert it. It names no row; it is bad input.
        return Response({"detail": _out_of_range_message(), "code": "invalid"}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        response.data = {
            "detail": _("The submitted data is not valid: %(reason)s") % {"reason": _first_message(errors)},
            "code": _first_code(exc.get_codes()) if not isinstance(exc.get_codes(), str) else exc.get_codes(),
            "errors": errors,
        }
        response.data["code"] = response.data["code"] or "invalid"
    else:
        detail = getattr(exc, "detail", None)
        code = _first_code(exc.get_codes()) if hasattr(exc, "get_codes") else "error"
        response.data = {"detail": _first_message(detail) if detail is not None else str(exc), "code": code}
    if response.status_code == status.HTTP_401_UNAUTHORIZED and "WWW-Authenticate" not in response:
        response["WWW-Authenticate"] = "Token"
    return response
