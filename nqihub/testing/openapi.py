"""Checks an API response against the committed OpenAPI schema (``schema/openapi.yaml``).

The test suite runs every ``/api/v1/`` response through ``check_response`` (see the
top-level ``conftest.py``), so every API test is also a test of the schema: the status must
be documented for the operation and a JSON body must match the schema of that status. A
response that disagrees fails the test with the path, the status and what differs.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

import yaml
from django.conf import settings
from jsonschema import Draft202012Validator

SCHEMA_FILE = Path(settings.BASE_DIR) / "schema" / "openapi.yaml"
API_PREFIX = "/api/v1/"


class SchemaMismatch(AssertionError):
    pass


def _nullable_to_json_schema(node):
    """OpenAPI 3.0's ``nullable: true`` as JSON Schema (a type list, or ``anyOf`` with null)."""
    if isinstance(node, list):
        return [_nullable_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _nullable_to_json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if "type" in node and not any(k in node for k in ("$ref", "allOf", "oneOf", "anyOf")):
            node["type"] = [node["type"], "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


@cache
def _document() -> dict:
    return yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))


@cache
def _components() -> dict:
    return _nullable_to_json_schema(copy.deepcopy(_document().get("components", {})))


@cache
def _routes() -> list[tuple[re.Pattern, str]]:
    routes = []
    for path in _document()["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path)) + "$"
        routes.append((re.compile(pattern), path))
    # Literal paths before templated ones (``/instruments/import/`` before ``/instruments/{id}/``).
    routes.sort(key=lambda r: r[1].count("{"))
    return routes


def find_operation(path: str, method: str):
    for pattern, template in _routes():
        if pattern.match(path):
            return template, _document()["paths"][template].get(method.lower())
    return None, None


@cache
def _validator(template: str, method: str, status: str) -> Draft202012Validator | None:
    response = _document()["paths"][template][method]["responses"][status]
    content = response.get("content", {})
    media = content.get("application/json")
    if media is None or "schema" not in media:
        return None
    schema = _nullable_to_json_schema(copy.deepcopy(media["schema"]))
    schema = {"allOf": [schema], "components": _components()}
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def check_response(method: str, path: str, response) -> None:
    """Raise ``SchemaMismatch`` if ``response`` breaks the committed schema."""
    if not path.startswith(API_PREFIX) or method.upper() in ("HEAD", "OPTIONS"):
        return
    template, operation = find_operation(path, method)
    status = response.status_code
    if operation is None or status in (405, 500):
        return  # no such operation: the router's 404 or 405, checked by the error-body tests
    status_key = str(status)
    if status_key not in operation["responses"]:
        raise SchemaMismatch(
            f"{method.upper()} {path} answered {status}, which {template} does not document "
            f"(documented: {', '.join(sorted(operation['responses']))}). Body: {response.content[:300]!r}"
        )
    validator = _validator(template, method.lower(), status_key)
    content_type = response.get("Content-Type", "")
    if validator is None or not content_type.startswith("application/json") or getattr(response, "streaming", False):
        return
    body = json.loads(response.content or b"null")
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(body)"
        raise SchemaMismatch(
            f"{method.upper()} {path} → {status}: the body breaks the schema of {template} at {where}: "
            f"{first.message[:500]}"
        )
