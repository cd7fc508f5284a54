"""The registry of error codes: every code the code base raises or answers with is declared
in an app's errors.py, with one status; an undeclared code fails loudly under test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from nqihub.core import errors as core_errors
from nqihub.core.errors import Conflict, ErrorRegistry, InvalidInput, ServiceError, UnregisteredErrorCode

ROOT = Path(settings.BASE_DIR) / "nqihub"

# Calls whose ``code=`` is a code a caller sees (an API body, a form, a failed job).
CODE_CALLS = {
    "ServiceError",
    "InvalidInput",
    "Conflict",
    "Forbidden",
    "NotFound",
    "ExportFailed",
    "AuthenticationFailed",
    "ValidationError",
    "_refusal",
    "_finish_failed",
    "invalid_input",
}
# A credit-code check failure reaches callers as ``credit_code_<reason>``.
PREFIXED_CALLS = {"CreditCodeError": "credit_code_"}


def _name(func) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _codes_in_source():
    for path in sorted(ROOT.rglob("*.py")):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = _name(node.func)
                prefix = PREFIXED_CALLS.get(name, "" if name in CODE_CALLS else None)
                if prefix is None:
                    continue
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        yield prefix + keyword.value.value, f"{path.relative_to(ROOT)}:{node.lineno}"
            elif isinstance(node, ast.Dict):  # {"detail": ..., "code": "..."} answered by hand
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                if "detail" in keys and "code" in keys:
                    value = node.values[keys.index("code")]
                    if isinstance(value, ast.Constant):
                        yield value.value, f"{path.relative_to(ROOT)}:{node.lineno}"


def test_every_code_in_the_code_base_is_declared():
    found = list(_codes_in_source())
    assert len(found) > 60  # the scan sees the raise sites
    undeclared = sorted({f"{code} ({where})" for code, where in found if not core_errors.is_registered(code)})
    assert undeclared == []


def test_every_app_declares_its_codes_in_its_own_errors_module():
    apps = {entry.app for entry in core_errors.all_codes()}
    assert {"core", "accounts", "organizations", "metrology", "downloads", "workcalendar"} <= apps
    for entry in core_errors.all_codes():
        if entry.app != "core":
            assert (ROOT / entry.app / "errors.py").exists()


def test_a_code_means_one_status_everywhere():
    registry = ErrorRegistry("example")
    with pytest.raises(ImproperlyConfigured, match="one code, one status"):
        registry.add("username_taken", InvalidInput)  # 409 in accounts
    with pytest.raises(ImproperlyConfigured, match="twice"):
        registry.add("example_code", InvalidInput)
        registry.add("example_code", InvalidInput)
    core_errors._BY_CODE.pop("example_code")


def test_an_undeclared_code_fails_loudly_under_test():
    assert settings.NQI_STRICT_ERROR_CODES
    with pytest.raises(UnregisteredErrorCode, match="no_such_code"):
        InvalidInput("x", code="no_such_code")
    assert ServiceError().code == "invalid"


def test_a_declared_code_builds_its_error_with_the_declared_message():
    from nqihub.downloads.errors import EXPORT_TOO_MANY
    from nqihub.metrology.errors import FILE_TOO_LARGE

    with translation.override("en"):
        error = EXPORT_TOO_MANY(count=3)
        assert isinstance(error, Conflict) and error.status_code == 409 and error.code == "export_too_many"
        assert error.message == "You already have 3 exports under way: wait until one is ready."
        own = FILE_TOO_LARGE("Another wording.", field="file")
        assert (own.message, own.field, own.code) == ("Another wording.", "file", "file_too_large")
    with translation.override("zh-hans"):
        assert "3" in str(EXPORT_TOO_MANY(count=3).message) and "exports" not in str(EXPORT_TOO_MANY(count=3).message)


def test_codes_by_status_groups_the_declared_codes():
    grouped = core_errors.codes_by_status(["accounts"])
    assert "username_taken" in grouped[409] and "invalid_token" in grouped[401]
    assert "credit_code_pending" not in grouped.get(409, [])


def test_the_sign_in_gate_codes_in_the_schema_are_declared_with_their_status():
    from nqihub.core.api.schema import _GATE_CODES

    for status, codes in _GATE_CODES.items():
        for code in codes:
            assert status in {e.status for e in core_errors.declarations(code)}, code
