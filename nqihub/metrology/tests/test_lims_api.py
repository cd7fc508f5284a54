# ruff: noqa: F811 - the fixtures imported from test_applications are used as arguments
"""The applications API and the institutions' LIMS connection: enterprises apply, the
institution accepts; its LIMS pulls accepted applications with its token and pushes results
(the same push twice records one result; someone else's application is not found)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from nqihub.accounts import services as account_services
from nqihub.core.access import get_actor
from nqihub.metrology.models import IssuedDocument, VerificationApplication, VerificationResult

from .test_applications import (  # noqa: F401 - fixtures
    accepted,
    metrology_institution,
    signers,
    submitted,
)


def _token_client(user) -> APIClient:
    _token, key = account_services.api_token_create(actor=user, name="LIMS", membership=get_actor(user).membership)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _push_body() -> dict:
    return {
        "item": 0,
        "outcome": "pass",
        "verified_on": timezone.localdate().isoformat(),
        "readings": "示值误差 +0.5 e",
        "verifier": "inst",
        "checker": "inst_checker",
        "approver": "inst_approver",
        "external_id": "LIMS-0001",
    }


def _push(client, item, **overrides):
    body = {**_push_body(), "item": item.pk, **overrides}
    return client.post("/api/v1/lims/results/", body, format="json")


@pytest.mark.django_db
def test_apply_and_decide_through_the_api(world, instruments, signers, api):
    body = {
        "instrument_ids": [instruments["kundulun"].pk],
        "institution": world.institution.pk,
        "mode": "drop_off",
        "contact_name": "李四",
        "contact_phone": "123",
    }
    created = api(world.users["ent_manager"]).post("/api/v1/verification-applications/", body, format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["state"] == "submitted" and data["number"].startswith("BJ") and len(data["items"]) == 1
    assert [e["kind"] for e in data["events"]] == ["submitted"]
    again = api(world.users["ent_manager"]).post("/api/v1/verification-applications/", body, format="json")
    assert again.status_code == 409 and again.json()["code"] == "in_open_application"
    other = api(world.users["ent_manager"]).post(
        "/api/v1/verification-applications/", {**body, "instrument_ids": [instruments["xincheng"].pk]}, format="json"
    )
    assert other.status_code == 404
    pk = data["id"]
    url = f"/api/v1/verification-applications/{pk}/"
    assert api(world.users["other_inst"]).post(url + "accept/").status_code == 404
    refused = api(world.users["inst"]).post(url + "reject/", {"reason": ""}, format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "reason_required"
    accepted_ = api(world.users["inst"]).post(url + "accept/")
    assert accepted_.status_code == 200 and accepted_.json()["state"] == "accepted"
    scheduled = api(world.users["inst"]).post(
        url + "schedule/", {"on_date": timezone.localdate().isoformat()}, format="json"
    )
    assert scheduled.status_code == 200 and scheduled.json()["state"] == "scheduled"


@pytest.mark.django_db
def test_institution_not_offered_through_the_api(world, instruments, signers, api):
    response = api(world.users["ent_manager"]).post(
        "/api/v1/verification-applications/",
        {
            "instrument_ids": [instruments["kundulun"].pk],
            "institution": world.other_institution.pk,
            "mode": "drop_off",
            "contact_name": "李四",
            "contact_phone": "123",
        },
        format="json",
    )
    assert response.status_code == 400 and response.json()["code"] == "institution_not_offered"
    assert not VerificationApplication.objects.exists()


@pytest.mark.django_db
def test_lims_pulls_its_accepted_applications(world, accepted, instruments):
    lims = _token_client(world.users["inst"])
    rows = lims.get("/api/v1/lims/applications/?state=accepted").json()["results"]
    assert [r["id"] for r in rows] == [accepted.pk]
    assert rows[0]["items"][0]["factory_number"] == "K-0001"
    assert lims.get("/api/v1/lims/applications/?state=submitted").json()["results"] == []
    assert _token_client(world.users["other_inst"]).get("/api/v1/lims/applications/").json()["results"] == []
    assert _token_client(world.users["ent_manager"]).get("/api/v1/lims/applications/").json()["results"] == []


@pytest.mark.django_db
def test_lims_push_is_idempotent(world, accepted):
    lims = _token_client(world.users["inst"])
    item = accepted.items.get()
    first = _push(lims, item)
    assert first.status_code == 201, first.json()
    assert first.json()["documents"][0]["kind"] == "certificate"
    second = _push(lims, item)
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert VerificationResult.objects.count() == 1 and IssuedDocument.objects.count() == 1
    conflicting = _push(lims, item, readings="另一读数")
    assert conflicting.status_code == 409 and conflicting.json()["code"] == "external_id_conflict"
    assert VerificationResult.objects.count() == 1
    assert VerificationApplication.objects.get(pk=accepted.pk).state == "completed"


@pytest.mark.django_db
def test_lims_push_refusals(world, accepted):
    item = accepted.items.get()
    foreign = _push(_token_client(world.users["other_inst"]), item)
    assert foreign.status_code == 404 and foreign.json()["code"] == "not_found"
    lims = _token_client(world.users["inst"])
    same = _push(lims, item, checker="inst")
    assert same.status_code == 400 and same.json()["code"] == "same_signer"
    outsider = _push(lims, item, approver="other_inst")
    assert outsider.status_code == 400 and outsider.json()["code"] == "signer_not_member"
    unknown = _push(lims, item, approver="nobody")
    assert unknown.status_code == 400 and unknown.json()["code"] == "signer_not_member"
    missing = lims.post("/api/v1/lims/results/", {**_push_body(), "item": 999999}, format="json")
    assert missing.status_code == 404
    assert not VerificationResult.objects.exists()


@pytest.mark.django_db
def test_lims_push_asks_permission_before_the_body(world, accepted):
    """Another institution's LIMS, or a guessed item, is refused (404, recorded as denied)
    before anything else in the body is looked at; a body without an item is a 400."""
    from nqihub.audit.models import AuditEvent

    item = accepted.items.get()
    foreign = _token_client(world.users["other_inst"])
    bad_body = {"item": item.pk, "outcome": "bogus", "verified_on": "not a date"}
    refused = foreign.post("/api/v1/lims/results/", bad_body, format="json")
    assert refused.status_code == 404 and refused.json()["code"] == "not_found"
    denied = AuditEvent.objects.filter(action="verification_result.record", outcome="denied")
    assert denied.filter(actor=world.users["other_inst"]).count() == 1
    lims = _token_client(world.users["inst"])
    for guessed in ("abc", 10**30, -1, 999999):
        answer = lims.post("/api/v1/lims/results/", {**bad_body, "item": guessed}, format="json")
        assert answer.status_code == 404, (guessed, answer.content)
    own = lims.post("/api/v1/lims/results/", bad_body, format="json")
    assert own.status_code == 400 and "outcome" in own.content.decode() and "verified_on" in own.content.decode()
    no_item = lims.post("/api/v1/lims/results/", {"outcome": "pass"}, format="json")
    assert no_item.status_code == 400 and '"item"' in no_item.content.decode()
    assert not VerificationResult.objects.exists()


@pytest.mark.django_db
def test_lims_endpoints_take_tokens_not_browser_sessions(world, api):
    """A person signed in to the web UI cannot use the LIMS endpoints with their session."""
    session_client = api(world.users["inst"])
    assert session_client.get("/api/v1/lims/applications/").status_code == 401
    assert session_client.post("/api/v1/lims/results/", {}, format="json").status_code == 401


@pytest.mark.django_db
def test_simultaneous_identical_pushes_both_succeed(world, accepted, monkeypatch):
    """Two copies of one push at the same time: both pass the first look-up of the LIMS record
    id before either is recorded. The copy that records second must get the recorded result
    (200), not a conflict, which a LIMS would treat as a failure. Simulated by letting the first
    look-up miss while the other copy records the result in between."""
    from nqihub.metrology.services import results

    lims = _token_client(world.users["inst"])
    item = accepted.items.get()
    real_lookup = results._recorded_under
    calls = {"n": 0}

    def first_lookup_misses(institution, external_id):
        calls["n"] += 1
        if calls["n"] == 1:
            monkeypatch.setattr(results, "_recorded_under", real_lookup)
            other_copy = _push(lims, item)  # the other copy wins the race
            assert other_copy.status_code == 201, other_copy.json()
            monkeypatch.setattr(results, "_recorded_under", first_lookup_misses)
            return None
        return real_lookup(institution, external_id)

    monkeypatch.setattr(results, "_recorded_under", first_lookup_misses)
    response = _push(lims, item)
    assert response.status_code == 200, response.json()
    recorded = VerificationResult.objects.get()
    assert response.json()["id"] == recorded.pk and response.json()["documents"][0]["kind"] == "certificate"
    assert IssuedDocument.objects.count() == 1
    assert VerificationApplication.objects.get(pk=accepted.pk).state == "completed"


@pytest.mark.django_db
def test_a_push_losing_the_insert_to_its_copy_succeeds(world, accepted, monkeypatch):
    """The other copy's row becomes visible only after this push's checks (as on a database
    where nothing serialised the two): its insert fails on the unique constraints, and the
    push answers with the recorded result (200)."""
    from nqihub.metrology.services import results

    lims = _token_client(world.users["inst"])
    item = accepted.items.get()
    real_lookup = results._recorded_under
    calls = {"n": 0}

    def misses_until_the_insert(institution, external_id):
        calls["n"] += 1
        if calls["n"] == 2:  # under the lock, just before the insert: the copy commits now
            VerificationResult.objects.create(
                item=item,
                outcome="pass",
                verified_on=timezone.localdate(),
                readings=_push_body()["readings"],
                verifier=world.users["inst"],
                checker=world.users["inst_checker"],
                approver=world.users["inst_approver"],
                external_id="LIMS-0001",
                institution=world.institution,
                recorded_at=timezone.now(),
            )
        return None if calls["n"] <= 2 else real_lookup(institution, external_id)

    monkeypatch.setattr(results, "_recorded_under", misses_until_the_insert)
    monkeypatch.setattr(results, "_item_recorded", lambda item_id: False)
    response = _push(lims, item)
    assert response.status_code == 200, response.json()
    assert response.json()["id"] == VerificationResult.objects.get().pk
    assert calls["n"] == 3  # looked up again after the refused insert
