"""The documents kernel on its own (no module's documents): the status rule, the canonical
content and its hash, the number's form, and the public check's dispatch by code kind."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.http import HttpResponse

from nqihub.documents import registry
from nqihub.documents.models import (
    PUBLIC_CODE_ALPHABET,
    canonical_content,
    content_hash,
    new_public_code,
    status_of,
)
from nqihub.documents.registry import CheckKind, DocumentKind

DAY = datetime.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("state", "valid_until", "in_force", "expected"),
    [
        ("valid", None, "valid", "valid"),
        ("valid", DAY, "valid", "valid"),  # valid through its last day
        ("valid", DAY - datetime.timedelta(days=1), "valid", "expired"),
        ("valid", DAY - datetime.timedelta(days=1), "failed", "failed"),  # a notice never expires into "valid"
        ("revoked", DAY, "valid", "revoked"),
        ("superseded", None, "failed", "superseded"),
    ],
)
def test_status_rule(state, valid_until, in_force, expected):
    assert status_of(state=state, valid_until=valid_until, day=DAY, in_force=in_force) == expected
    # ISO text compares alike (the public check reads dates as text on SQLite).
    iso = valid_until.isoformat() if valid_until else None
    assert status_of(state=state, valid_until=iso, day=DAY.isoformat(), in_force=in_force) == expected


def test_canonical_content_is_independent_of_key_order_and_hash_is_its_sha256():
    one = {"number": "JD-1-2026-000001", "facts": {"b": 1, "a": "检定"}, "issued_at": "2026-03-01T00:00:00+00:00"}
    two = {"issued_at": "2026-03-01T00:00:00+00:00", "facts": {"a": "检定", "b": 1}, "number": "JD-1-2026-000001"}
    assert canonical_content(one) == canonical_content(two)
    assert (
        canonical_content(one)
        == '{"facts":{"a":"检定","b":1},"issued_at":"2026-03-01T00:00:00+00:00","number":"JD-1-2026-000001"}'.encode()
    )
    assert content_hash(one) == hashlib.sha256(canonical_content(one)).hexdigest() == content_hash(two)
    assert content_hash({**one, "number": "JD-1-2026-000002"}) != content_hash(one)


def test_public_codes_use_the_unambiguous_alphabet():
    codes = {new_public_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 16 and set(c) <= set(PUBLIC_CODE_ALPHABET) for c in codes)
    assert not set("ILOU") & set(PUBLIC_CODE_ALPHABET)


def test_number_form_is_the_kinds_prefix_and_a_growing_sequence():
    kind = DocumentKind(
        key="test.report",
        model=object,
        value="report",
        number_prefix=lambda issuer, year: f"BG-{issuer}-{year}-",
        render=lambda document: b"",
    )
    assert kind.number(7, 2026, 42) == "BG-7-2026-000042"
    assert kind.number(7, 2026, 1_000_000) == "BG-7-2026-1000000"


@pytest.fixture
def sampling_check():
    """A second module's code kind (a sampling notice's ``CY`` code), registered for the test."""
    calls = []

    def lookup(code, today, request=None):
        calls.append(code)
        if code != "CY000001":
            return None
        return {"type": "sampling", "code": code, "checked_on": today.isoformat(), "status": "valid"}

    def page(request, facts, labels):
        return HttpResponse(f"<p>{facts['code']} {labels['site']}</p>")

    kind = CheckKind(
        "sampling", lambda code: code.startswith("CY") and len(code) == 8 and code[2:].isdigit(), lookup, page
    )
    registry.register_check(kind)
    yield calls
    registry._CHECKS.pop("sampling")


def test_dispatch_by_code_kind(client, db, sampling_check):
    body = client.get("/verify/cy000001.json").json()  # letters case-insensitive
    assert body == {"type": "sampling", "code": "CY000001", "checked_on": body["checked_on"], "status": "valid"}
    response = client.get("/verify/CY000001/")
    assert response.status_code == 200 and b"CY000001" in response.content
    assert "no-cache" in response["Cache-Control"] and not response.cookies
    # Known form, unknown code: the module is asked and says no; unknown form: nobody is asked.
    assert client.get("/verify/CY000002/").status_code == 404
    assert client.get("/verify/CY0000X2/").status_code == 404
    assert sampling_check == ["CY000001", "CY000001", "CY000002"]
    assert registry.classify_code(" cy000001 ")[0].name == "sampling"
    assert registry.classify_code("") is None and registry.classify_code("C" * 65) is None
