# ruff: noqa: F811 - the fixtures imported from test_applications are used as arguments
"""Ids past the database's 64-bit keys are refused by the API as invalid input (400, with the
field and a message), never passed on to a query that overflows (a 500)."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.metrology.models import InstrumentFiling, VerificationApplication, VerificationResult

from .test_applications import accepted, metrology_institution, signers, submitted  # noqa: F401 - fixtures
from .test_lims_api import _push_body, _token_client

TOO_BIG = 2**63  # one past the largest bigint
LARGEST = 2**63 - 1


def _refused(response, field: str) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    body = response.json()
    assert body["code"] and body["errors"][field], body
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("value", [TOO_BIG, 10**30])
def test_filing_with_a_huge_instrument_id_is_invalid_input(world, api, instruments, value):
    client = api(world.users["ent_manager"])
    # The service checks the ids (after who may file): the same message as the pages give.
    response = client.post("/api/v1/instrument-filings/", {"instrument_ids": [value]}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_id", response.content[:300]
    assert str(value) in response.json()["detail"] and "不是" in response.json()["detail"]
    assert not InstrumentFiling.objects.exists()
    # Resubmitting a filing takes the same input.
    filing = client.post("/api/v1/instrument-filings/", {"instrument_ids": [instruments["kundulun"].pk]}, format="json")
    assert filing.status_code == 201
    returned = api(world.users["kundulun"]).post(
        f"/api/v1/instrument-filings/{filing.json()['id']}/return/", {"reason": "请补充"}, format="json"
    )
    assert returned.status_code == 200, returned.content[:300]
    resubmit = client.post(
        f"/api/v1/instrument-filings/{filing.json()['id']}/resubmit/", {"instrument_ids": [value]}, format="json"
    )
    assert resubmit.status_code == 400 and resubmit.json()["code"] == "invalid_id"


@pytest.mark.django_db
def test_the_largest_id_is_still_accepted_as_input(world, api, instruments):
    """The bound is the key's own: the largest bigint passes the serializer and is simply no
    instrument of the caller's (the service's 404, recorded as a refusal)."""
    response = api(world.users["ent_manager"]).post(
        "/api/v1/instrument-filings/", {"instrument_ids": [LARGEST]}, format="json"
    )
    assert response.status_code == 404
    assert AuditEvent.objects.filter(action="instrument_filing.submit", outcome="denied").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["instrument_ids", "institution"])
def test_application_with_a_huge_id_is_invalid_input(world, api, instruments, signers, field):
    body = {
        "instrument_ids": [instruments["kundulun"].pk],
        "institution": world.institution.pk,
        "mode": "drop_off",
        "contact_name": "李四",
        "contact_phone": "123",
    }
    body[field] = [TOO_BIG] if field == "instrument_ids" else TOO_BIG
    response = api(world.users["ent_manager"]).post("/api/v1/verification-applications/", body, format="json")
    _refused(response, field)
    assert not VerificationApplication.objects.exists()


@pytest.mark.django_db
def test_lims_push_with_a_huge_item_id_names_no_item(world, accepted):
    # The push asks permission for its item before it reads the rest of the body: an id past
    # 64 bits names no item the token may see, so it is the same 404 as a guessed one (never a
    # database overflow), and nothing is written.
    lims = _token_client(world.users["inst"])
    response = lims.post("/api/v1/lims/results/", {**_push_body(), "item": TOO_BIG}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not VerificationResult.objects.exists()
