"""The OpenAPI schema: the error responses of every operation, and post-processing so the
committed schema is the same whatever database generated it."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema as DrfAutoSchema
from drf_spectacular.plumbing import ResolvedComponent

from nqihub.core.errors import all_codes

# Upper bounds Django derives from a column's storage size, which differ between SQLite
# (every integer is 64-bit) and PostgreSQL (smallint, integer, bigint). They describe the
# database, not the API, so they are left out of the schema.
_BACKEND_RANGES = {32767, 2147483647, 9223372036854775807}


def drop_backend_integer_ranges(result, generator, request, public):
    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "integer" and node.get("maximum") in _BACKEND_RANGES:
                node.pop("maximum", None)
                if node.get("format") == "int64":
                    node.pop("format", None)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(result)
    return result


# --------------------------------------------------------------------------- error responses

_TITLES = {
    400: "Invalid",
    401: "NotAuthenticated",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "Throttled",
}
_DESCRIPTIONS = {
    400: "The input (body or query) was refused; `errors` names the fields.",
    401: "No valid credentials (or the session expired).",
    403: "The caller may not do this.",
    404: "No such object within what the caller may see (or no such page).",
    409: "The request conflicts with the current state of the data.",
    429: "Too many requests.",
}
# Codes the kernel answers with on every operation of a status (authentication, the sign-in
# gate, routing, body parsing, field checks).
_FRAMEWORK_APPS = ("core",)
_GATE_CODES = {
    401: ("invalid_token", "membership_ended", "session_expired"),
    403: ("second_factor_required", "password_expired"),
}


def _error_schema(codes: list[str]) -> dict:
    return {
        "type": "object",
        "description": "Every API error: the translated message, its machine code and, for invalid input, "
        "the messages by field.",
        "properties": {
            "detail": {"type": "string"},
            # The enum is set after drf-spectacular's enum post-processing
            # (``error_code_enums``), so each error keeps its own list inline.
            "code": {"type": "string", "x-error-codes": codes},
            "errors": {
                "type": "object",
                "additionalProperties": {},
                "description": "Field name → list of messages (nested for lists and objects).",
            },
        },
        "required": ["detail", "code"],
    }


class AutoSchema(DrfAutoSchema):
    """Every operation documents the 4xx responses it can give, with the error body and the
    codes of that status: the kernel's (authentication, permission, not found, field checks)
    and, for writes, those declared in the ``errors.py`` of the view's app (plus the apps a
    view names in ``error_apps``, for services of another app it calls). Reads list the
    kernel's codes only: their refusals are the scoping's (404) and the filters' (400)."""

    def _view_apps(self) -> tuple[str, ...]:
        module = type(self.view).__module__.split(".")
        apps = [module[1]] if len(module) > 1 and module[0] == "nqihub" else []
        return tuple(dict.fromkeys([*apps, *getattr(self.view, "error_apps", ())]))

    def _error_statuses(self) -> list[int]:
        statuses = [400, 401, 403, 404]
        if self.method not in ("GET", "HEAD"):
            statuses.append(409)
        if getattr(self.view, "throttle_classes", None):
            statuses.append(429)
        permissions = [getattr(p, "__name__", "") for p in getattr(self.view, "permission_classes", [])]
        if "AllowAny" in permissions:
            statuses.remove(401)
        return statuses

    def _error_codes(self, status: int) -> tuple[list[str], str]:
        codes = {e.code for e in all_codes() if e.app in _FRAMEWORK_APPS and e.status == status}
        codes |= set(_GATE_CODES.get(status, ()))
        suffix = ""
        if self.method not in ("GET", "HEAD"):
            # Codes that the app's services raise (not those answered by a middleware).
            by_app: dict[str, set[str]] = {}
            for entry in all_codes():
                if entry.error_class is not None and entry.status == status and entry.app in self._view_apps():
                    by_app.setdefault(entry.app, set()).add(entry.code)
            apps = [app for app in self._view_apps() if by_app.get(app, set()) - codes]
            for app in apps:
                codes |= by_app[app]
            suffix = "".join(app.capitalize() for app in apps)
        return sorted(codes), suffix

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for status in self._error_statuses():
            codes, suffix = self._error_codes(status)
            name = f"{_TITLES[status]}Error{suffix}"
            component = ResolvedComponent(
                name=name, type=ResolvedComponent.SCHEMA, object=name, schema=_error_schema(codes)
            )
            self.registry.register_on_missing(component)
            responses.setdefault(
                str(status),
                {"content": {"application/json": {"schema": component.ref}}, "description": _DESCRIPTIONS[status]},
            )
        return responses


def error_code_enums(result, generator, request, public):
    """Turn the codes each error response lists into the ``enum`` of its ``code``."""
    for schema in result.get("components", {}).get("schemas", {}).values():
        code = schema.get("properties", {}).get("code", {})
        if "x-error-codes" in code:
            code["enum"] = code.pop("x-error-codes")
    return result
