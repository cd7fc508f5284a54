"""The API's convention: permission, then body. A caller who may not act is refused (403, or
404 outside what they may see) whatever the body holds, never told what is wrong with it,
and the refusal is in the audit trail as denied. A caller who may act still gets the 400."""

from __future__ import annotations

import pytest

from nqihub.audit.models import AuditEvent
from nqihub.metrology.models import CatalogueItem

BAD_INSTRUMENT = {"name": ["not", "a", "string"], "factory_number": {"x": 1}}


def _denied(action: str) -> int:
    return AuditEvent.objects.filter(action=action, outcome="denied").count()


def _instrument(api, world) -> int:
    response = api(world.users["ent_manager"]).post(
        "/api/v1/instruments/", {"name": "电子台秤", "factory_number": "PF-1", "use_field": "trade"}, format="json"
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


@pytest.mark.django_db
def test_instruments_refuse_before_reading_the_body(world, api):
    pk = _instrument(api, world)
    cases = [
        ("kundulun", "post", "/api/v1/instruments/", 403, "not_ledger_keeper", "instrument.create"),
        ("kundulun", "patch", f"/api/v1/instruments/{pk}/", 403, "permission_denied", "instrument.update"),
        ("kundulun", "post", f"/api/v1/instruments/{pk}/status/", 403, "permission_denied", "instrument.set_status"),
        ("ent_other", "patch", f"/api/v1/instruments/{pk}/", 404, "not_found", None),
    ]
    for user, method, path, status, code, action in cases:
        before = _denied(action) if action else 0
        body = {"status": ["scrapped"]} if path.endswith("status/") else BAD_INSTRUMENT
        response = getattr(api(world.users[user]), method)(path, body, format="json")
        assert (response.status_code, response.json()["code"]) == (status, code), (user, method, path)
        if action:
            assert _denied(action) == before + 1
    # The keeper of the ledger is told what is wrong with the same body.
    keeper = api(world.users["ent_manager"])
    assert keeper.post("/api/v1/instruments/", BAD_INSTRUMENT, format="json").status_code == 400
    assert keeper.patch(f"/api/v1/instruments/{pk}/", BAD_INSTRUMENT, format="json").status_code == 400


@pytest.mark.django_db
def test_catalogue_refuses_before_reading_the_body(world, api):
    item = CatalogueItem.objects.active().order_by("pk").first()
    bad = {"level1_no": "x", "period_months": [1]}
    ent = api(world.users["ent_manager"])
    before = _denied("catalogue_item.create"), _denied("catalogue_item.update")
    created = ent.post("/api/v1/catalogue/", bad, format="json")
    changed = ent.patch(f"/api/v1/catalogue/{item.pk}/", bad, format="json")
    assert (created.status_code, created.json()["code"]) == (403, "permission_denied")
    assert (changed.status_code, changed.json()["code"]) == (403, "permission_denied")
    assert (_denied("catalogue_item.create"), _denied("catalogue_item.update")) == (before[0] + 1, before[1] + 1)
    assert api(world.users["sysadmin"]).post("/api/v1/catalogue/", bad, format="json").status_code == 400


@pytest.mark.django_db
def test_organisations_and_memberships_refuse_before_reading_the_body(world, api):
    ent = api(world.users["ent_manager"])
    bad = {"kind": "no-such-kind", "name": ["x"], "division": {"a": 1}}
    created = ent.post("/api/v1/organizations/", bad, format="json")
    assert (created.status_code, created.json()["code"]) == (403, "permission_denied")
    assert _denied("organization.create") == 1
    other = ent.patch(f"/api/v1/organizations/{world.ent_xincheng.pk}/", bad, format="json")
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    regulator = api(world.users["kundulun"]).patch(
        f"/api/v1/organizations/{world.ent_kundulun.pk}/", bad, format="json"
    )
    assert (regulator.status_code, regulator.json()["code"]) == (403, "permission_denied")
    assert _denied("organization.update") == 1
    grant = ent.post("/api/v1/memberships/", {"username": "nobody-here", "organization": "x", "role": 7}, format="json")
    assert (grant.status_code, grant.json()["code"]) == (403, "permission_denied")  # not "No such account."
    assert _denied("membership.grant") == 1
    assert api(world.users["sysadmin"]).post("/api/v1/organizations/", bad, format="json").status_code == 400
    secadmin = api(world.users["secadmin"])
    assert (
        secadmin.post(
            "/api/v1/memberships/", {"username": "nobody-here", "organization": "x"}, format="json"
        ).status_code
        == 400
    )


@pytest.mark.django_db
def test_staff_are_refused_a_token_whatever_the_body(world, api):
    response = api(world.users["sysadmin"]).post("/api/v1/tokens/", {"name": ["x"], "days": "many"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "staff_no_tokens")
    assert _denied("api_token.create") == 1
    bad = api(world.users["ent_manager"]).post("/api/v1/tokens/", {"name": ["x"], "days": "many"}, format="json")
    assert bad.status_code == 400


@pytest.mark.django_db
def test_imports_refuse_before_reading_the_upload(world, api):
    """A regulator who sends no file (or no form at all) is refused the import, not told the
    file is missing; the ledger keeper is told."""
    for body in ({}, {"file": "not-a-file"}):
        response = api(world.users["kundulun"]).post("/api/v1/instrument-imports/", body, format="multipart")
        assert (response.status_code, response.json()["code"]) == (403, "import_not_allowed")
    assert _denied("instrument.import") == 2
    missing = api(world.users["ent_manager"]).post("/api/v1/instrument-imports/", {}, format="multipart")
    assert missing.status_code == 400
    assert _denied("instrument.import") == 2


@pytest.mark.django_db
def test_fee_configuration_refuses_before_reading_the_body(world, api):
    from nqihub.metrology.models import Tariff

    item = CatalogueItem.objects.active().order_by("pk").first()
    tariff = Tariff.objects.create(catalogue_item=item, price="10", valid_from="2026-01-01", source="文件")
    regulator = api(world.users["baotou"])
    bad = {"price": ["x"], "valid_from": "someday"}
    for method, path, action in (
        ("post", "/api/v1/tariffs/", "tariff.create"),
        ("patch", f"/api/v1/tariffs/{tariff.pk}/", "tariff.update"),
        ("post", "/api/v1/waiver-policies/", "waiver_policy.create"),
    ):
        response = getattr(regulator, method)(path, bad, format="json")
        assert (response.status_code, response.json()["code"]) == (403, "permission_denied"), path
        assert _denied(action) == 1
    assert api(world.users["sysadmin"]).post("/api/v1/tariffs/", bad, format="json").status_code == 400
